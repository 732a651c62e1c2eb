"""The terms of a table's design as units of selection: which columns each term owns, which
terms are marginal to which, the formula of a chosen set of terms, and its encoding.

A term is *marginal* to another when its factors are a proper subset of the other's
(``species`` and ``sex`` to ``species:sex``; ``x`` to ``x:species``).  Selection respects
marginality as R's ``step`` does (``drop1``/``add1`` over ``factor.scope``): a term may enter
only when every term of the formula marginal to it is in the model, and may leave only when
no term in the model has it as a margin.  So an interaction enters after its main effects and
leaves before them, and every model visited is hierarchical — which is also what keeps each
term's coding (treatment contrasts or full indicators) the same in every model, so a chosen
model's columns are the full design's columns of its terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TermSet", "formula_text", "sub_encoding"]


@dataclass
class TermSet:
    """``names[t]``, the design columns ``columns[t]`` (int array) and the factors
    ``factors[t]`` (frozenset of expressions) of every term ``t``, in the formula's order."""

    names: list
    columns: list
    factors: list

    @classmethod
    def from_encoding(cls, encoding) -> "TermSet":
        names, columns, factors = [], [], []
        for term in encoding.formula.terms:
            part = encoding.term_slices[term.name]
            names.append(term.name)
            columns.append(np.arange(part.start, part.stop, dtype=np.int64))
            factors.append(frozenset(term.factors))
        return cls(names, columns, factors)

    @classmethod
    def single_columns(cls, n: int, names=None) -> "TermSet":
        """Every column a term of its own, none marginal to another."""
        names = [f"x{j}" for j in range(n)] if names is None else list(names)
        return cls(names, [np.array([j]) for j in range(n)],
                   [frozenset({("column", j)}) for j in range(n)])

    def __len__(self) -> int:
        return len(self.names)

    def margins(self, t: int) -> list:
        """The terms marginal to ``t`` (their factors a proper subset of its)."""
        return [u for u in range(len(self)) if self.factors[u] < self.factors[t]]

    def may_enter(self, t: int, inside) -> bool:
        return not inside[t] and all(inside[u] for u in self.margins(t))

    def may_leave(self, t: int, inside) -> bool:
        return inside[t] and not any(inside[u] and self.factors[t] < self.factors[u]
                                     for u in range(len(self)))

    def index(self, term) -> int:
        """A term given by name or index, checked."""
        if isinstance(term, str):
            if term not in self.names:
                raise ValueError(f"{term!r} is not a term of the model; its terms: "
                                 f"{', '.join(self.names)}")
            return self.names.index(term)
        if isinstance(term, (bool, np.bool_)) or not isinstance(term, (int, np.integer)):
            raise ValueError(f"a term must be given by name or index, got {term!r}")
        if not 0 <= term < len(self):
            raise ValueError(f"term index {term} is out of range (there are {len(self)} terms)")
        return int(term)

    def check_hierarchical(self, chosen: list, what: str) -> None:
        """Refuse a set of terms that lacks a margin of one of its terms."""
        inside = np.zeros(len(self), dtype=bool)
        inside[chosen] = True
        for t in chosen:
            lacking = [self.names[u] for u in self.margins(t) if not inside[u]]
            if lacking:
                raise ValueError(f"{what} holds {self.names[t]!r} without its margin(s) "
                                 f"{', '.join(map(repr, lacking))}: selection keeps models "
                                 "hierarchical (as R's step does), so a term comes with every "
                                 "term whose factors it contains")

    def chosen_columns(self, chosen: list) -> np.ndarray:
        """The design columns of the terms ``chosen``, in column order."""
        if not chosen:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([self.columns[t] for t in chosen]))


def _quoted(expr: str, lookups) -> str:
    """A factor as formula text: a column whose name is not a Python name in backticks."""
    return f"`{expr}`" if expr in lookups and not expr.isidentifier() else expr


def formula_text(formula, terms: list) -> str:
    """The formula of the terms ``terms`` (names, in the parsed ``formula``'s order) with
    ``formula``'s targets and intercept: ``"y ~ a + b + a:b"``, ``"y ~ 1"`` for none."""
    lookups = formula.lookups
    order = [t.name for t in formula.terms]
    chosen = sorted(terms, key=order.index)
    by_name = {t.name: t for t in formula.terms}
    parts = [":".join(_quoted(f, lookups) for f in by_name[name].factors) for name in chosen]
    rhs = " + ".join(parts) if parts else "1"
    if not formula.intercept:
        rhs += " - 1"
    return " + ".join(_quoted(t, lookups) for t in formula.targets) + " ~ " + rhs


def sub_encoding(encoding, text: str, columns: np.ndarray):
    """The encoding of the formula ``text`` (a hierarchical subset of ``encoding``'s terms)
    with everything ``encoding`` learned — kinds, levels, reference levels, the states of
    stateful transforms — fixed.  Returns it and the full design's columns in its column
    order; its design must be the full design's ``columns`` (checked by name)."""
    from ..tables.encoding import Encoding
    from ..tables.formula import parse_formula

    parsed = parse_formula(text, encoding.columns_used)
    sub = Encoding(parsed, encoding.missing)
    exprs = set(sub.factors) | set(parsed.targets)
    sub.kinds = {e: k for e, k in encoding.kinds.items() if e in exprs}
    sub.widths = {e: w for e, w in encoding.widths.items() if e in exprs}
    sub.reference = {e: r for e, r in encoding.reference.items() if e in exprs}
    sub.declared = {e: d for e, d in encoding.declared.items() if e in exprs}
    sub.states = {e: s for e, s in encoding.states.items() if e in exprs}
    sub.set_levels({e: v for e, v in encoding.levels.items() if e in exprs})
    sub.frozen_from({e: i for e, i in encoding.ref_index.items() if e in exprs})
    want = [encoding.names[j] for j in columns]
    if sorted(sub.names) != sorted(want):
        raise RuntimeError(f"the design of {text!r} ({sub.names}) is not the columns of its "
                           f"terms in the full design ({want})")
    position = {name: j for j, name in enumerate(encoding.names)}
    return sub, np.array([position[name] for name in sub.names], dtype=np.int64)
