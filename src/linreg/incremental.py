"""Fits that grow: ``partial_fit`` (one more chunk of rows), ``merge`` (another model's rows)
and ``solve_from_stats`` (no rows at all) — :class:`IncrementalMixin` of
:class:`~linreg.LinearRegression` — and the checks that make ``merge`` exact."""

from __future__ import annotations

import numbers

import numpy as np

from .rows import AccumulatedRows, SparseRows, StatsRows
from .rows.sparse import as_csr, sparse_point
from .solvers import ITERATIVE_SOLVERS
from .solvers.iterative import partial_fit_chunk
from .stats import SufficientStats, representative_point

__all__ = ["IncrementalMixin", "check_mergeable", "check_same_encoding", "refuse_table_chunks"]


class IncrementalMixin:
    """``partial_fit``, ``merge`` and ``solve_from_stats`` of the estimator."""

    def _partial_fit_stochastic(self, X, y, sample_weight):
        """One epoch of ``"sgd"``/``"minibatch"`` over these rows (in a random order when
        ``shuffle``), continuing the optimizer state, counters and random generator of the
        previous ``fit``/``partial_fit``.  The first call fixes the design (centring and
        scaling) from its rows.  ``loss_history_`` gets ``J`` of all rows seen so far."""
        self.check_params()
        state = getattr(self, "training_state_", None)
        # continue only what an iterative fit left (a later closed-form fit supersedes it)
        if getattr(self, "solver_", None) not in ITERATIVE_SOLVERS:
            state = None
        X, Y, single, sw = self._validate_training_data(X, y, sample_weight, reset=state is None)
        if state is not None:
            single = np.ndim(self.coef_) == 1
        if hasattr(X, "tocsr"):
            X = as_csr(X)
        chunk = partial_fit_chunk(state, None if state is None else self.stats_,
                                  self.get_params(), X, Y, sw, single)
        self.solver_ = self.solver
        self._set_coefficients(chunk.pop("coef"), chunk.pop("intercept"), single)
        for name, value in chunk.items():
            setattr(self, name, value)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """Fit on one more chunk of rows; returns ``self``.

        With ``solver`` ``"sgd"`` or ``"minibatch"``: more stochastic steps on this chunk.
        Otherwise exact accumulation: the chunk's :class:`~linreg.stats.SufficientStats` are
        merged into ``stats_`` and the model is re-solved from them, so after any sequence of
        chunks ``coef_`` equals the batch fit on their concatenation.  ``"qr"`` also keeps one
        triangular factor of all rows so far (updated chunk by chunk, TSQR), and solves from
        it, without the refinement a fit on re-readable rows makes: it warns
        (:class:`~linreg.exceptions.IllConditionedWarning`, with the estimated loss) when the
        solution may have fewer than 9 correct digits.  ``"auto"`` here has only the
        statistics, so it solves the normal equations and warns, with the estimated loss,
        whenever the condition number says ``"qr"`` would keep more digits
        (``κ² > 1e6``).  A model already fitted with :meth:`fit` continues from that fit's
        statistics.
        """
        from .dask_support import sparse_chunk
        refuse_table_chunks(self, X)
        X = sparse_chunk(X)
        if self.solver in ("sgd", "minibatch"):
            return self._partial_fit_stochastic(X, y, sample_weight)
        self.check_params()
        first = not isinstance(getattr(self, "stats_", None), SufficientStats)
        X, Y, single, sw = self._validate_training_data(X, y, sample_weight, reset=first)
        with_factor = self.solver == "qr"
        accumulated = getattr(self, "_training_rows", None)
        if first:
            # all chunks are accumulated around one point K fixed by the first chunk
            accumulated = AccumulatedRows(sparse_point(X, Y) if hasattr(X, "tocsr") else
                                          representative_point(X, Y),
                                          SufficientStats.empty(X.shape[1], Y.shape[1]),
                                          single_target=single)
        else:
            if Y.shape[1] != self.stats_.n_targets:
                raise ValueError(f"y has {Y.shape[1]} target(s); the model was fitted "
                                 f"with {self.stats_.n_targets}")
            if not isinstance(accumulated, AccumulatedRows):
                accumulated = AccumulatedRows.continuing(self.stats_, accumulated, with_factor,
                                                         np.ndim(self.coef_) == 1)
        sparse = SparseRows(X, Y, sw) if hasattr(X, "tocsr") else None
        accumulated = accumulated.add(X, Y, sw, with_factor, sparse)
        self._fit_problem(accumulated.stats(), accumulated)
        return self

    def merge(self, other):
        """Combine with a model fitted on other (disjoint) rows: the exact joint fit.

        The two models' statistics are merged (Chan et al.'s update) and the model is
        re-solved from them, so the result equals the batch fit on both data sets together.
        Both must be fitted, with the same parameters, features and number of targets.
        Modifies and returns ``self``.
        """
        check_mergeable(self, other)
        check_same_encoding(self, other)
        return self.solve_from_stats(self.stats_.merge(other.stats_), np.ndim(self.coef_) == 1)

    def solve_from_stats(self, stats: SufficientStats, single_target: bool = True):
        """Fit from the sufficient statistics alone, with no rows: the exact solution of
        every closed-form solver (``"qr"`` needs the rows) and the full-batch descent of
        ``"gd"``.  What :meth:`merge` and the plots' optimum use; returns ``self``.

        ``single_target``: report ``coef_`` 1-D (one target).  :meth:`summary` then needs
        the rows passed to it.
        """
        self.check_params()
        if not isinstance(stats, SufficientStats):
            raise ValueError(f"stats must be linreg.stats.SufficientStats, not {type(stats).__name__}")
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = stats.n_features
        self._fit_problem(stats, StatsRows(stats, single_target))
        return self


def refuse_table_chunks(model, X) -> None:
    """``partial_fit`` reads arrays of numbers: a table that needs its encoding (categories,
    a formula, missing values) is refused with what to do instead."""
    from .tables.frames import is_table, needs_encoding
    if (getattr(model, "formula", None) is not None or getattr(model, "encoding_", None)
            is not None or (is_table(X) and needs_encoding(X))):
        raise ValueError("partial_fit takes chunks of numbers; a table with categorical "
                         "columns or a formula is fitted whole: fit(table), or fit a "
                         "linreg.sources file or a Dask DataFrame, which are read in blocks "
                         "in one pass (the levels need not be known in advance)")


def check_same_encoding(model, other) -> None:
    """Two table fits merge only when their designs have the same columns (the same formula
    and levels): then their statistics are of the same columns and merge exactly."""
    a, b = getattr(model, "encoding_", None), getattr(other, "encoding_", None)
    if a is None and b is None:
        return
    if a is None or b is None or model.coef_names_ != other.coef_names_ \
            or a.formula.text != b.formula.text:
        raise ValueError("cannot merge: the two models' designs differ (one is a table or "
                         "formula fit, or their formulas or levels differ, so their columns "
                         "do not match); fit the rows together, e.g. as one Dask DataFrame or "
                         "a source over both files")


def _same_param(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):     # alpha per target
        return np.shape(a) == np.shape(b) and bool(np.all(np.asarray(a) == np.asarray(b)))
    if isinstance(a, (numbers.Real, np.number)) and isinstance(b, (numbers.Real, np.number)):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def check_mergeable(model, other) -> None:
    """Raise ``ValueError`` unless ``other`` is a fitted model of the same class, parameters,
    features and targets as ``model``, both with their sufficient statistics (so the merge of
    the statistics is the exact joint fit), and the solver can re-solve from statistics."""
    if not isinstance(other, type(model)):
        raise ValueError(f"can only merge with another {type(model).__name__}, not "
                         f"{type(other).__name__}")
    for name, m in (("this model", model), ("the other model", other)):
        if not hasattr(m, "coef_"):
            raise ValueError(f"{name} is not fitted; fit both models before merging")
        if not isinstance(getattr(m, "stats_", None), SufficientStats):
            raise ValueError(f"{name} has no sufficient statistics (loaded from a file, "
                             "or fitted stochastically), so an exact merge is impossible; "
                             "refit it with solver 'auto', 'normal' or 'gd'")
    mine, theirs = model.get_params(), other.get_params()
    differ = sorted(k for k in mine if not _same_param(mine[k], theirs[k]))
    if differ:
        raise ValueError("cannot merge models with different parameters: "
                         + ", ".join(f"{k}={mine[k]!r} vs {theirs[k]!r}" for k in differ))
    if model.n_features_in_ != other.n_features_in_:
        raise ValueError(f"cannot merge a model of {model.n_features_in_} features with one "
                         f"of {other.n_features_in_}")
    a = getattr(model, "feature_names_in_", None)
    b = getattr(other, "feature_names_in_", None)
    if (a is None) != (b is None) or (a is not None and list(a) != list(b)):
        raise ValueError(f"cannot merge models fitted on different features: "
                         f"{None if a is None else list(a)} vs {None if b is None else list(b)}")
    if np.ndim(model.coef_) != np.ndim(other.coef_) or \
            model.stats_.n_targets != other.stats_.n_targets:
        raise ValueError("cannot merge models with different targets (one vs several, or a "
                         "different number)")
    if model.solver == "qr":
        raise ValueError("merge re-solves from the statistics; solver='qr' needs the rows. "
                         "Use solver='auto' or 'normal'")
