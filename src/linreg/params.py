"""The estimator's parameters, checked: each bad value is an error that names it."""

from __future__ import annotations

import numbers

import numpy as np

from .exceptions import bad_value
from .optimizers import OPTIMIZERS, SCHEDULES
from .penalty import check_alpha
from .solvers import ITERATIVE_SOLVERS, POSITIVE_SOLVERS, SOLVER_NAMES
from .validation import check_choice, check_nonnegative_float, check_positive_int

__all__ = ["check_params"]


def _flag(p: dict, name: str) -> None:
    if not isinstance(p[name], (bool, np.bool_)):
        raise ValueError(f"{name}={p[name]!r} must be True or False")


def check_params(p: dict) -> None:
    """Check ``LinearRegression`` parameters (``get_params()``), raising ``ValueError`` with
    the parameter's name, its value and what it may be."""
    check_choice("solver", p["solver"], SOLVER_NAMES)
    alpha = check_alpha(p["alpha"])
    if not isinstance(alpha, float) and p["solver"] in ITERATIVE_SOLVERS:
        raise ValueError(f"alpha with one value per target needs a closed-form solver ('auto', "
                         f"'normal' or 'qr'), not solver={p['solver']!r}; fit one model per "
                         "target to use it")
    for name in ("fit_intercept", "standardize", "shuffle", "early_stopping", "warm_start"):
        _flag(p, name)
    if "positive" in p:
        _flag(p, "positive")
        if p["positive"] and p["solver"] not in POSITIVE_SOLVERS:
            raise ValueError(f"positive=True needs solver 'auto', 'normal' (an active set on "
                             f"the Gram matrix) or 'gd' (projected steps), not "
                             f"solver={p['solver']!r}")
    if "missing" in p:
        check_choice("missing", p["missing"], ("error", "drop"))
    if p.get("formula") is not None and not isinstance(p["formula"], str):
        raise bad_value("formula", p["formula"], " must be None or text such as "
                        "'y ~ x1 + C(group)'")
    rate = p["learning_rate"]
    if not (isinstance(rate, str) and rate == "auto"):
        if (isinstance(rate, (bool, str)) or not isinstance(rate, numbers.Real)
                or not np.isfinite(rate) or rate <= 0):
            raise bad_value("learning_rate", rate, " must be 'auto' or a finite number > 0")
    check_positive_int("max_iter", p["max_iter"])
    check_nonnegative_float("tol", p["tol"])
    check_choice("optimizer", p["optimizer"], ("auto", *OPTIMIZERS))
    check_choice("schedule", p["schedule"], ("auto",) + SCHEDULES)
    for name in ("momentum", "beta1", "beta2"):
        if check_nonnegative_float(name, p[name]) >= 1:
            raise bad_value(name, p[name], " must be in [0, 1)")
    if check_nonnegative_float("epsilon", p["epsilon"]) == 0:
        raise bad_value("epsilon", p["epsilon"], " must be > 0")
    check_nonnegative_float("power_t", p["power_t"])
    if not 0 < check_nonnegative_float("decay_rate", p["decay_rate"]) <= 1:
        raise bad_value("decay_rate", p["decay_rate"], " must be in (0, 1]")
    check_positive_int("batch_size", p["batch_size"])
    if p["random_state"] is not None:
        check_positive_int("random_state", p["random_state"], minimum=0)
    if not 0 < check_nonnegative_float("validation_fraction", p["validation_fraction"]) < 1:
        raise bad_value("validation_fraction", p["validation_fraction"], " must be in (0, 1)")
    check_positive_int("n_iter_no_change", p["n_iter_no_change"])
    if p["callback"] is not None and not callable(p["callback"]):
        raise ValueError(f"callback={p['callback']!r} must be None or a function of one "
                         "argument (the info dict)")
