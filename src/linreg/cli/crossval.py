"""``linreg fit --alpha cv``: choose alpha by exact k-fold cross-validation
(:class:`linreg.LinearRegressionCV`) and save the model refitted on all rows with it.

The model file is an ordinary ``LinearRegression`` file (every command reads it); its
metadata also records the cross-validation curve (``cv_path``: the alphas, the mean held-out
score and its standard error, both chosen alphas), which ``linreg plot`` draws."""

from __future__ import annotations

import numpy as np

from .errors import CommandError
from .fit_data import fit_on

__all__ = ["check_cv_options", "fit_cv", "cv_path"]


def parse_alphas(text):
    if text is None:
        return None
    try:
        alphas = [float(a) for a in text.split(",")]
    except ValueError:
        raise CommandError(f"--alphas must be numbers separated by commas, got {text!r}") from None
    return np.array(alphas)


def check_cv_options(args) -> None:
    if args.solver not in ("auto", "normal"):
        raise CommandError(f"--alpha cv solves in closed form from the folds' statistics; "
                           f"--solver {args.solver} does not apply")
    if args.checkpoint is not None:
        raise CommandError("--checkpoint is for the iterative solvers, not --alpha cv")
    if args.cv < 2:
        raise CommandError(f"--cv must be at least 2 folds, got {args.cv}")
    parse_alphas(args.alphas)


def fit_cv(args, data, params):
    """The fitted :class:`~linreg.LinearRegressionCV` (its ``estimator_`` is saved): of the
    numeric file read whole (``data.table``), or of ``data.source`` read in blocks — a
    table through its encoding (text columns, ``--formula``, ``--missing drop``) or numbers
    (``--chunk-rows``) — every fold's statistics in one pass."""
    from ..exceptions import ParameterWording
    from ..selection import LinearRegressionCV
    searched = LinearRegressionCV(alphas=parse_alphas(args.alphas), cv=args.cv,
                                  fit_intercept=params["fit_intercept"],
                                  standardize=params["standardize"],
                                  formula=params.get("formula"),
                                  missing=params.get("missing", "error"))
    try:
        fit_on(searched, data)
    except ValueError as exc:
        if isinstance(exc, ParameterWording):     # the command line words its settings
            raise
        raise CommandError(f"--alpha cv: {exc}") from None
    return searched


def cv_path(searched) -> dict:
    """What the model file's metadata records of the search (validated on loading by
    :func:`linreg.persistence.check_metadata`)."""
    name = searched.scoring
    results = searched.cv_results_
    return {"scoring": name, "selection": searched.selection, "n_folds": int(searched.n_folds_),
            "alphas": [float(a) for a in searched.alphas_],
            "mean": [float(v) for v in np.ravel(results[f"mean_test_{name}"])],
            "se": [float(v) for v in np.ravel(results[f"se_test_{name}"])],
            "alpha_min": float(searched.alpha_min_), "alpha_1se": float(searched.alpha_1se_)}
