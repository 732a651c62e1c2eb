"""Selection of whole terms (all the columns of a categorical factor or an interaction
together) by AIC, BIC or adjusted R², from the sufficient statistics.

The moment matrix ``M = [[G, c], [cᵀ, q]]`` is swept (:func:`.stepwise.sweep`) on the columns
of the terms in the model.  A step adds or drops a *block* of columns: a candidate term ``T``
is evaluated on the small block ``M[T ∪ y, T ∪ y]`` alone — sweeping it on ``T``'s columns one
after the other (entering) or reverse-sweeping them (leaving) leaves ``RSS`` in its corner —
so a candidate costs ``O(|T|³)`` and there is no pass over the rows.

Aliased columns (a combination of the model's other columns: an empty cell of an
interaction, dummies that repeat another term's) are never swept: a column enters only when
its variance left after the model is more than :data:`~.stepwise.COLLINEAR` of its own.  The
number of parameters is then the rank of the design (+1 for the intercept), as statsmodels
counts it (``df_model + k_constant``).  When a term leaves, the columns of the model that it
aliased are offered again (in the same block), so every model's RSS and rank are those of a
fit of its formula.

Marginality (:mod:`.terms`): a term enters only with its margins in the model and leaves only
when nothing in the model contains it, as R's ``step``.  The criteria are those of
:mod:`.stepwise` (statsmodels' ``OLS``/``WLS``).  ``"exhaustive"`` visits every hierarchical
set of terms depth-first (each child one block sweep of its parent's matrix).
"""

from __future__ import annotations

import numpy as np

from ..validation import check_choice
from .stepwise import (COLLINEAR, StepwiseResult, better, check_stats, information_criterion,
                       sweep)

__all__ = ["stepwise_terms", "best_terms", "MAX_TERMS"]

#: the most terms an exhaustive search over terms visits (2^16 sets at most)
MAX_TERMS = 16


class _Model:
    """The moment matrix swept on the model's columns, which columns are swept, which terms
    are in."""

    def __init__(self, stats, terms):
        self.M = stats.comoment.copy()
        self.d = stats.n_features
        var = np.diag(self.M)[:self.d]
        self.floor = COLLINEAR * np.maximum(var, np.finfo(float).tiny)
        self.swept = np.zeros(self.d, dtype=bool)
        self.inside = np.zeros(len(terms), dtype=bool)
        self.terms = terms

    def aliased(self, leaving: int) -> np.ndarray:
        """The columns of the model's other terms that are not swept (aliased)."""
        cols = [self.terms.columns[u] for u in np.flatnonzero(self.inside) if u != leaving]
        cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        return cols[~self.swept[cols]]

    def _block(self, t: int, enter: bool):
        """``(columns reverse-swept, columns then tried)`` of the move of term ``t``."""
        own = self.terms.columns[t]
        if enter:
            return np.zeros(0, dtype=np.int64), own
        return own[self.swept[own]], self.aliased(t)

    def _apply(self, M, index, back, forward, swept):
        """Reverse-sweep ``back``, then sweep each of ``forward`` that is not aliased; on
        ``M`` whose rows are ``index`` (the full matrix: ``index`` None).  Returns the change
        in the number of swept columns."""
        where = (lambda j: j) if index is None else {j: i for i, j in enumerate(index)}.get
        change = 0
        for j in back:
            sweep(M, where(j))
            swept[j] = False
            change -= 1
        for j in forward:
            k = where(j)
            if M[k, k] > self.floor[j]:
                sweep(M, k)
                swept[j] = True
                change += 1
        return change

    def trial(self, t: int, enter: bool) -> tuple:
        """``(RSS, number of swept columns)`` of the model with ``t`` moved (in or out)."""
        back, forward = self._block(t, enter)
        cols = np.unique(np.concatenate([back, forward]))
        index = np.r_[cols, self.d]
        sub = self.M[np.ix_(index, index)].copy()
        swept = self.swept.copy()
        change = self._apply(sub, list(index), back, forward, swept)
        return sub[-1, -1], int(self.swept.sum()) + change

    def move(self, t: int, enter: bool) -> None:
        back, forward = self._block(t, enter)
        self._apply(self.M, None, back, forward, self.swept)
        self.inside[t] = enter

    @property
    def rss(self) -> float:
        return self.M[self.d, self.d]


def stepwise_terms(stats, terms, direction: str = "both", criterion: str = "aic", start=None,
                   log_weight_sum=None) -> StepwiseResult:
    """Stepwise selection of whole terms (a :class:`~.terms.TermSet`) from the statistics of
    the full design (one target); see the module docstring.  ``start``: term names or
    indices (a hierarchical set; default none, or every term for ``"backward"``).  The
    result's ``selected`` and path name terms by index (``feature_names`` their names)."""
    check_choice("direction", direction, ("forward", "backward", "both"))
    lws = check_stats(stats, criterion, log_weight_sum, "stepwise selection")
    n = stats.n_rows
    if start is None:
        start = list(range(len(terms))) if direction == "backward" else []
    start = [terms.index(t) for t in start]
    if len(set(start)) != len(start):
        raise ValueError(f"start names a term more than once: {start}")
    terms.check_hierarchical(start, "start")
    model = _Model(stats, terms)
    tss = model.rss
    for t in sorted(start, key=lambda u: len(terms.factors[u])):
        model.move(t, True)
    value = information_criterion(model.rss, n, int(model.swept.sum()) + 1, criterion, tss, lws)
    path = [("start", None, value)]
    order = list(start)
    while True:
        best = (value, None)
        for t in range(len(terms)):
            enter = not model.inside[t]
            if enter and (direction == "backward" or not terms.may_enter(t, model.inside)):
                continue
            if not enter and (direction == "forward" or not terms.may_leave(t, model.inside)):
                continue
            rss, rank = model.trial(t, enter)
            v = information_criterion(max(rss, np.finfo(float).tiny), n, rank + 1, criterion,
                                      tss, lws)
            if better(v, best[0], criterion):
                best = (v, t)
        value, t = best
        if t is None:
            break
        enter = not model.inside[t]
        model.move(t, enter)
        if enter:
            order.append(t)
        else:
            order.remove(t)
        path.append(("+" if enter else "-", t, value))
    return StepwiseResult(order, path, criterion, value, list(terms.names))


def best_terms(stats, terms, criterion: str = "bic", max_terms: int = MAX_TERMS,
               log_weight_sum=None) -> StepwiseResult:
    """The best hierarchical set of terms by ``criterion``, every one visited (at most
    ``2^max_terms``).  The path holds the best set of each number of terms:
    ``(size, terms, criterion)``."""
    lws = check_stats(stats, criterion, log_weight_sum, "best-subset selection")
    if len(terms) > min(max_terms, MAX_TERMS):
        raise ValueError(f"an exhaustive search over {len(terms)} terms visits up to "
                         f"2^{len(terms)} sets; at most {min(max_terms, MAX_TERMS)} terms are "
                         "searched this way (use direction='both')")
    n = stats.n_rows
    order = sorted(range(len(terms)), key=lambda t: (len(terms.factors[t]), t))
    model = _Model(stats, terms)
    tss = model.rss
    best_by_size: dict = {}

    def visit(M, swept, inside, chosen, after):
        rank = int(swept.sum())
        v = information_criterion(max(M[-1, -1], np.finfo(float).tiny), n, rank + 1, criterion,
                                  tss, lws)
        size = len(chosen)
        if size not in best_by_size or better(v, best_by_size[size][1], criterion):
            best_by_size[size] = (tuple(sorted(chosen)), v)
        for i in range(after, len(order)):
            t = order[i]
            if not terms.may_enter(t, inside):
                continue
            M2, swept2 = M.copy(), swept.copy()
            model._apply(M2, None, [], terms.columns[t], swept2)
            inside[t] = True
            visit(M2, swept2, inside, chosen + [t], i + 1)
            inside[t] = False

    visit(model.M.copy(), model.swept.copy(), model.inside.copy(), [], 0)
    sizes = sorted(best_by_size)
    path = [(k, best_by_size[k][0], best_by_size[k][1]) for k in sizes]
    winner = sizes[0]
    for k in sizes[1:]:
        if better(best_by_size[k][1], best_by_size[winner][1], criterion):
            winner = k
    chosen, value = best_by_size[winner]
    return StepwiseResult(list(chosen), path, criterion, value, list(terms.names))
