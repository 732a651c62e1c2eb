"""What the reports say about a model: the objective it minimised, how an iterative fit
stopped, and its R², RMSE and MAE."""

from __future__ import annotations

import numpy as np

__all__ = ["CLOSED_FORMS", "training_metrics", "objective_text", "stop_line", "solver_reason"]

#: the solvers that solve exactly (no iterations to report)
CLOSED_FORMS = ("normal", "qr")


def training_metrics(y, y_pred, sample_weight=None) -> dict:
    """R², RMSE and MAE (scikit-learn's definitions, weighted by ``sample_weight`` when given;
    averaged over targets) and n."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
    n = int(np.shape(y)[0])
    w = {"sample_weight": sample_weight}
    return {
        "n": n,
        "r2": float(r2_score(y, y_pred, **w)) if n > 1 else float("nan"),
        "rmse": float(root_mean_squared_error(y, y_pred, **w)),
        "mae": float(mean_absolute_error(y, y_pred, **w)),
    }


def objective_text(model) -> str:
    """The objective the model minimised, in words a reader of the model file can check."""
    import numpy as np
    alpha = np.asarray(model.alpha, dtype=np.float64)
    text = "J(w, b) = 1/(2n) Σ (x_iᵀw + b − y_i)²"
    if np.any(alpha > 0):
        where = "standardized" if model.standardize else "original-unit"
        text += (f" + ({float(alpha):g}/2)‖w‖²" if alpha.ndim == 0 else
                 f" + (alpha_j/2)‖w_j‖² for target j, alpha = {alpha_text(model)},")
        text += f" on the {where} coefficients"
    if getattr(model, "positive", False):
        text += ", subject to w ≥ 0"
    if not model.fit_intercept:
        text += ", without intercept"
    return text


def alpha_text(model) -> str:
    """``alpha`` as the model has it: a number, or one per target."""
    import numpy as np
    alpha = np.asarray(model.alpha, dtype=np.float64)
    return f"{float(alpha):g}" if alpha.ndim == 0 else "[" + ", ".join(f"{a:g}" for a in alpha) + "]"


def stop_line(model) -> str:
    """How an iterative fit stopped, in words, as a line (empty for a closed form, or a model
    file that did not record it)."""
    from ..stopping import describe_stop
    words = describe_stop(getattr(model, "stop_reason_", None))
    return "" if model.solver_ in CLOSED_FORMS or words is None else f"stopped: {words}\n"


def solver_reason(model) -> str:
    """Why the solver that ran was chosen, in words: the option asked for it, or ``auto``
    weighed the condition number of the centred, scaled design (``condition_number_``)."""
    from ..closed_form import NORMAL_EQUATIONS_MAX_CONDITION as limit
    requested, ran = model.get_params().get("solver"), model.solver_
    kappa = getattr(model, "condition_number_", None)
    if requested != "auto":
        return f"asked for (--solver {requested})"
    if ran == "lsqr":
        from ..solvers.lsqr import GRAM_MAX_FEATURES
        d = int(model.n_features_in_)
        if d > GRAM_MAX_FEATURES:
            return (f"--solver auto: {d} features, more than the {GRAM_MAX_FEATURES} whose "
                    "d × d statistics the normal equations build, so LSQR (iterative, "
                    "matrix-free)")
        return ("--solver auto: sparse rows whose d × d factorisations would cost more than "
                "LSQR's iterations, so LSQR (iterative, matrix-free)")
    if kappa is None or not np.isfinite(kappa):
        return "--solver auto: the normal equations (the condition number is not known)"
    said = f"the centred, scaled design's condition number is {kappa:.3g}"
    if ran == "qr":
        return (f"--solver auto: {said}, so the normal equations (κ² > {_power(limit)}) would "
                "lose digits that QR keeps")
    if kappa**2 <= limit:
        return f"--solver auto: {said} (κ² ≤ {_power(limit)}), so the normal equations lose nothing"
    return (f"--solver auto: {said}, but only the statistics of the rows were at hand, so "
            "the normal equations")


def _power(x: float) -> str:
    """1e6 for 1000000.0 (a power of ten as people write it)."""
    return f"1e{round(np.log10(x))}"
