"""Combining fits: the checks that make :meth:`LinearRegression.merge` exact."""

from __future__ import annotations

import numbers

import numpy as np

from .stats import SufficientStats

__all__ = ["check_mergeable"]


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
