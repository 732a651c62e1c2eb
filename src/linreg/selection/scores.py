"""Choosing alpha from the fold scores (the minimum, or glmnet's one-standard-error rule),
and the one score that is not a function of the statistics: the mean absolute error, which
takes a second pass over the held-out rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..exceptions import warn_user

__all__ = ["Choice", "choose_alpha", "mae_pass"]


@dataclass(frozen=True)
class Choice:
    alpha_min: float
    alpha_1se: float
    mean: np.ndarray      # (n_alphas,) mean score over folds
    std: np.ndarray       # (n_alphas,) standard deviation over folds
    se: np.ndarray        # (n_alphas,) standard error of the mean


def choose_alpha(alphas, score_path, higher_is_better: bool, se=None, what: str = "") -> Choice:
    """``alpha_min``: the best mean score over folds (the first, i.e. smallest alpha, on a
    tie); ``alpha_1se``: the largest alpha whose mean score is within one standard error
    (``std over folds/√n_folds``, or ``se`` given) of the best.  Alphas whose mean score is
    NaN are left out with a warning naming them; if every one is NaN, ``ValueError``
    (``what`` starts both messages: which target, when there are several)."""
    n_folds = score_path.shape[1]
    with np.errstate(invalid="ignore"):         # NaN scores are dealt with below
        mean = score_path.mean(axis=1)
        std = score_path.std(axis=1, ddof=1) if n_folds > 1 else np.zeros_like(mean)
    if se is None:
        se = std / np.sqrt(n_folds)
    bad = ~np.isfinite(mean)
    if bad.all():
        raise ValueError(f"{what}every alpha has a NaN or infinite cross-validation score; nothing "
                         "can be chosen (are the held-out folds' targets constant, for 'r2'? "
                         "does a row have leverage 1, for 'loo'?)")
    if bad.any():
        warn_user(f"{what}alphas {alphas[bad].tolist()} have NaN or infinite cross-validation scores "
                  "and are left out of the choice", UserWarning)
    sign = -1.0 if higher_is_better else 1.0
    loss = np.where(bad, np.inf, sign * mean)
    best = int(np.argmin(loss))
    limit = loss[best] + (se[best] if np.isfinite(se[best]) else 0.0)
    within = np.flatnonzero(loss <= limit)
    return Choice(float(alphas[best]), float(alphas[within.max()]), mean, std, se)


def _mae_at(block, start, folds, paths):
    return _mae_block(block, folds.of_rows(start, start + block[0].shape[0]), folds, paths)


def _mae_numbered(block, numbers, folds, paths):
    return _mae_block(block, folds.of_numbers(numbers), folds, paths)


def _mae_block(block, ids, folds, paths):
    X, Y, w = block
    n_alphas, _, k = paths[0][0].shape
    out = np.zeros((n_alphas, folds.n_folds, k))
    X = np.asarray(X, dtype=np.float64)
    for f in range(folds.n_folds):
        sel = np.flatnonzero(ids == f)
        if sel.shape[0] == 0:
            continue
        coefs, intercepts = paths[f]
        Xf, Yf = X[sel], Y[sel]
        s = np.ones(sel.shape[0]) if w is None else w[sel]
        for a in range(n_alphas):
            out[a, f] = s @ np.abs(Xf @ coefs[a] + intercepts[a] - Yf)
    return out


def mae_pass(rows, folds, paths) -> np.ndarray:
    """``Σ s |xᵀw + b − y|`` per alpha, fold and target, shape (n_alphas, n_folds, k): a
    second pass over the rows, each held-out row scored with its training fold's path
    (``paths[f] = (coefs (n_alphas, d, k), intercepts (n_alphas, k))``).  The rows of a
    table are numbered as its fold pass numbered them (``map_numbered``)."""
    if hasattr(rows, "map_numbered"):
        return sum(rows.map_numbered(functools.partial(_mae_numbered, folds=folds, paths=paths)))
    return sum(rows.map_blocks_at(functools.partial(_mae_at, folds=folds, paths=paths)))
