"""Plots of a fitted model: the loss curve, predicted vs actual, residuals vs fitted.

matplotlib is an optional extra (``pip install 'linreg[plot]'``); it is imported only when a
plot is drawn, and its absence gives a clear message.  Each ``draw_*`` function draws one
panel on a given matplotlib ``Axes``; :func:`plot_loss` and :func:`plot_fit` (also
``model.plot_loss()`` and ``model.plot_fit(X, y)``) create the axes with pyplot when none are
given; :func:`model_figure` builds the command line's figure without pyplot.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["require_matplotlib", "optimal_loss", "draw_loss", "draw_predicted_vs_actual",
           "draw_residuals", "plot_loss", "plot_fit", "model_figure", "cv_curve", "draw_cv", "plot_cv",
           "MAX_POINTS", "DPI", "PANEL_SIZE"]

#: scatter plots show at most this many points (a random, reproducible subset beyond)
MAX_POINTS = 20_000
#: resolution and size (inches) of one panel of the command line's figure
DPI = 100
PANEL_SIZE = (5.5, 4.5)


def require_matplotlib():
    """The ``matplotlib.figure.Figure`` class, or an ImportError that says how to get it."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib, an optional extra: "
                          "pip install 'linreg[plot]' (or pip install matplotlib)") from None
    return Figure


def pyplot():
    """matplotlib.pyplot, or a clear error naming the extra to install."""
    require_matplotlib()
    import matplotlib.pyplot as plt
    return plt


def optimal_loss(model, X=None, y=None, sample_weight=None) -> float | None:
    """The closed-form minimum ``J*`` of the objective ``model`` minimises, or None if unknown.

    Computed from ``X``, ``y`` when given, else from the model's training statistics
    (``stats_``, present after :meth:`~linreg.LinearRegression.fit`).  ``J*`` is the loss of
    the exact solution (``solver="auto"``, same ``alpha``, intercept and scaling), so a loss
    curve that reaches it has converged.
    """
    from sklearn.base import clone

    from .stats import SufficientStats

    reference = clone(model)
    params = reference.get_params()
    reference.set_params(solver="auto", **({"callback": None} if "callback" in params else {}))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the model's own fit already said what was wrong
            if X is not None and y is not None:
                reference.fit(X, y, sample_weight=sample_weight)
            else:
                stats = getattr(model, "stats_", None)
                if not isinstance(stats, SufficientStats):
                    return None
                reference.solve_from_stats(stats, np.ndim(model.coef_) == 1)
    except (ValueError, ArithmeticError):
        return None
    J = float(np.asarray(reference.loss_history_)[-1])
    return J if np.isfinite(J) else None


def draw_loss(ax, model, optimum: float | None = None, title: str = "Training loss:",
              target_name=None):
    """The loss ``J`` after each iteration (log scale), the validation loss if recorded, and
    the closed-form optimum ``J*`` as a dashed reference line.  When ``J*`` is known, the
    excess loss ``J − J*`` is drawn too, on its own log axis at the right, so convergence
    stays visible after ``J`` has flattened onto ``J*``."""
    loss = np.asarray(model.loss_history_, dtype=float)
    solver = getattr(model, "solver_", "")
    unit = "epoch" if solver in ("sgd", "minibatch") else "iteration"
    closed = solver in ("normal", "qr") or loss.size == 1
    squared = f" [{target_name}²]" if isinstance(target_name, str) and "," not in target_name \
        else " [target units²]"
    steps = np.arange(loss.size)
    finite = loss[np.isfinite(loss)]
    positive = finite.size > 0 and bool(np.all(finite > 0)) and (optimum is None or optimum > 0)
    if closed:
        # one exact solve has no curve: show what it achieved against the intercept-only
        # model (J₀; 1 − J/J₀ is R² without a penalty) instead of a lone dot
        ax.set_title(f"Closed-form fit ({solver}, no iterations):  {_objective(model)}",
                     fontsize="medium")
        baseline = baseline_loss(model)
        if baseline is None:
            ax.text(0.5, 0.5, f"J = {loss[-1]:.6g}", ha="center", va="center",
                    transform=ax.transAxes, fontsize="large")
            ax.set_xticks([])
            ax.set_yticks([])
            return ax
        ax.barh([1, 0], [baseline, loss[-1]], color=["0.7", "C0"], height=0.6)
        ax.set_yticks([1, 0], ["intercept only\n(ŷ = mean y)" if model.fit_intercept
                               else "zero model\n(ŷ = 0)", f"fitted\n({solver})"])
        for position, value in ((1, baseline), (0, loss[-1])):
            ax.text(value, position, f" J = {value:.4g}", va="center", ha="left",
                    fontsize="small")
        ax.set_xlim(0, 1.35 * max(baseline, loss[-1], np.finfo(float).tiny))
        ax.set_xlabel("loss J" + squared + f";  J / J₀ = {loss[-1] / baseline:.4g}"
                      if baseline > 0 else "loss J" + squared)
        ax.grid(True, axis="x", alpha=0.3)
        return ax
    else:
        ax.plot(steps, loss, color="C0", linewidth=1.8, label="training loss J")
        ax.set_xlabel(f"{unit} (ran {model.n_iter_})")
    val = getattr(model, "validation_loss_history_", None)
    if val is not None and np.size(val):
        val = np.asarray(val, dtype=float)
        ax.plot(np.arange(val.size) + (loss.size - val.size), val, color="C1", linewidth=1.4,
                label="validation loss")
        vfinite = val[np.isfinite(val)]
        positive = positive and bool(np.all(vfinite > 0))
    if optimum is not None and not closed:
        ax.axhline(optimum, color="k", linestyle="--", linewidth=1.0,
                   label=f"closed-form optimum J* = {optimum:.6g}")
    if positive:
        ax.set_yscale("log")
    ax.set_ylabel("loss J" + squared + (", log scale" if positive else ""))
    ax.set_title(f"{title}  {_objective(model)}", fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if optimum is not None and not closed:
        excess = loss - optimum
        keep = np.isfinite(excess) & (excess > 0)
        if keep.any():
            twin = ax.twinx()
            twin.plot(steps[keep], excess[keep], color="C2", linestyle=":", linewidth=1.6,
                      label="excess loss J − J* (right axis)")
            twin.set_yscale("log")
            twin.set_ylabel("excess loss J − J*, log scale", color="C2")
            twin.tick_params(axis="y", colors="C2")
            h2, l2 = twin.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="upper right", fontsize="small")
    return ax


def baseline_loss(model) -> float | None:
    """``J₀``, the loss of the model without features (``ŷ`` = the weighted mean of ``y``,
    or 0 without an intercept), from the training statistics: ``M_yy / (2 n_w)`` (plus
    ``μ_y²/2`` without intercept).  None for several targets or without statistics."""
    from .stats import SufficientStats
    stats = getattr(model, "stats_", None)
    if not isinstance(stats, SufficientStats) or stats.n_targets != 1:
        return None
    d = stats.n_features
    J0 = float(stats.comoment[d, d]) / (2 * stats.weight_sum)
    if not model.fit_intercept:
        J0 += float(stats.mean[d]) ** 2 / 2
    return J0 if np.isfinite(J0) else None


def _objective(model) -> str:
    """The objective, with its penalty only when there is one."""
    return "J = Σ(ŷ − y)²/(2n)" + (" + (α/2)‖w‖²" if float(getattr(model, "alpha", 0)) > 0 else "")


def _subsample(n: int, limit: int = MAX_POINTS) -> np.ndarray | slice:
    if n <= limit:
        return slice(None)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def _columns(y, y_pred):
    y = np.asarray(y, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    return y.reshape(y.shape[0], -1), y_pred.reshape(y_pred.shape[0], -1)


def _target_labels(k: int, target_name) -> list[str]:
    if target_name is None:
        return ["y"] if k == 1 else [f"y{j}" for j in range(k)]
    if isinstance(target_name, str):
        names = [t.strip() for t in target_name.split(",")]
    else:
        names = [str(t) for t in target_name]
    return names if len(names) == k else [f"y{j}" for j in range(k)]


def _shown(n: int) -> str:
    # on a line of its own: one line with the statistic did not fit a panel's width
    return f"\n{MAX_POINTS:,} of {n:,} points shown" if n > MAX_POINTS else ""


def draw_predicted_vs_actual(ax, y, y_pred, target_name=None):
    """Predicted against actual values, with the identity line ``ŷ = y`` (a perfect fit)."""
    from sklearn.metrics import r2_score

    Y, P = _columns(y, y_pred)
    labels = _target_labels(Y.shape[1], target_name)
    pick = _subsample(Y.shape[0])
    for j in range(Y.shape[1]):
        ax.scatter(Y[pick, j], P[pick, j], s=9, alpha=0.5, color=f"C{j}", edgecolors="none",
                   label=labels[j] if Y.shape[1] > 1 else None)
    lo = float(min(Y.min(), P.min()))
    hi = float(max(Y.max(), P.max()))
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="k", linestyle="--", linewidth=1.0,
            label="identity ŷ = y")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    name = ", ".join(labels)
    ax.set_xlabel(f"actual {name}")
    ax.set_ylabel(f"predicted {name}")
    r2 = r2_score(Y, P) if Y.shape[0] > 1 else float("nan")
    ax.set_title(f"Predicted vs actual (R² = {r2:.4f}){_shown(Y.shape[0])}", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def draw_residuals(ax, y, y_pred, target_name=None):
    """Residuals ``y − ŷ`` against the fitted values ``ŷ``, with the zero line."""
    Y, P = _columns(y, y_pred)
    labels = _target_labels(Y.shape[1], target_name)
    R = Y - P
    pick = _subsample(Y.shape[0])
    for j in range(Y.shape[1]):
        ax.scatter(P[pick, j], R[pick, j], s=9, alpha=0.5, color=f"C{j}", edgecolors="none",
                   label=labels[j] if Y.shape[1] > 1 else None)
    ax.axhline(0.0, color="k", linestyle="--", linewidth=1.0, label="zero residual")
    name = ", ".join(labels)
    ax.set_xlabel(f"fitted (predicted) {name}")
    ax.set_ylabel(f"residual: actual − predicted {name}")
    rmse = float(np.sqrt(np.mean(R ** 2)))
    ax.set_title(f"Residuals vs fitted (RMSE = {rmse:.4g}){_shown(Y.shape[0])}", fontsize="medium")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def _target_name_of(model, y=None):
    """The target's name: a pandas Series' (or one-column frame's) name, else the one the model
    records (a saved model's file, or the target of the data it was fitted on)."""
    name = getattr(y, "name", None)
    if name is None and hasattr(y, "columns"):
        name = ", ".join(str(c) for c in y.columns)
    if name is not None:
        return str(name)
    meta = getattr(model, "metadata_", None) or {}
    if meta.get("target_name") is not None:
        return meta["target_name"]
    names = getattr(getattr(model, "_training_rows", None), "target_names", None)
    return ", ".join(map(str, names)) if names else None


def plot_loss(model, X=None, y=None, ax=None):
    """Draw ``model``'s loss curve (see :func:`draw_loss`) on ``ax`` (new pyplot axes if None);
    the closed-form optimum comes from ``X``, ``y`` or the model's training statistics.
    Returns the axes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from linreg import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 2)); y = X @ [1.0, -2.0] + 0.1 * rng.standard_normal(100)
    >>> ax = LinearRegression(solver="gd", max_iter=50).fit(X, y).plot_loss()
    >>> ax.get_yscale(), ax.get_legend().get_texts()[1].get_text().startswith("closed-form optimum")
    ('log', True)
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if ax is None:
        _, ax = pyplot().subplots(figsize=PANEL_SIZE, layout="constrained")
    return draw_loss(ax, model, optimal_loss(model, X, y), target_name=_target_name_of(model, y))


def plot_fit(model, X, y, axes=None, target_name=None):
    """Draw predicted vs actual and residuals vs fitted for ``X``, ``y`` side by side on
    ``axes`` (two axes; new pyplot ones if None).  Returns the two axes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np
    >>> from linreg import LinearRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]]); y = X @ [1.0, 1.0]
    >>> left, right = LinearRegression().fit(X, y).plot_fit(X, y)
    >>> left.get_xlabel(), right.get_ylabel()
    ('actual y', 'residual: actual − predicted y')
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    if axes is None:
        _, axes = pyplot().subplots(1, 2, figsize=(2 * PANEL_SIZE[0], PANEL_SIZE[1]),
                                     layout="constrained")
    if len(axes) != 2:
        raise ValueError(f"plot_fit draws two panels: give two axes, not {len(axes)}")
    y_pred = model.predict(X)
    target_name = target_name or _target_name_of(model, y)
    draw_predicted_vs_actual(axes[0], y, y_pred, target_name)
    draw_residuals(axes[1], y, y_pred, target_name)
    return axes


def cv_curve(source) -> dict:
    """The cross-validation curve of a fitted :class:`~linreg.LinearRegressionCV`, or of a
    model saved by ``linreg fit --alpha cv`` (its ``metadata_["cv_path"]``).  With one alpha
    per target, ``mean``, ``se``, ``alpha_min`` and ``alpha_1se`` hold one entry per target."""
    curve = (getattr(source, "metadata_", None) or {}).get("cv_path")
    if curve is not None:
        return curve
    if not hasattr(source, "cv_results_"):
        raise ValueError("plot_cv needs a fitted LinearRegressionCV, or a model saved by "
                         "'linreg fit --alpha cv' (whose file records the curve)")
    name = source.scoring
    mean = np.asarray(source.cv_results_[f"mean_test_{name}"], dtype=float)
    se = np.asarray(source.cv_results_[f"se_test_{name}"], dtype=float)
    return {"scoring": name, "selection": source.selection, "n_folds": source.n_folds_,
            "alphas": list(source.alphas_), "mean": mean.tolist(), "se": se.tolist(),
            "alpha_min": np.asarray(source.alpha_min_).tolist(),
            "alpha_1se": np.asarray(source.alpha_1se_).tolist()}


def draw_cv(ax, source, target=None):
    """The mean held-out score per alpha ± one standard error (log alpha axis), with the
    alpha of the best mean and the one-standard-error alpha marked (the chosen one says so).
    With one alpha per target: every target's curve and alphas in its colour, or only
    ``target``'s (an index)."""
    curve = cv_curve(source)
    alphas = np.asarray(curve["alphas"], dtype=float)
    mean = np.asarray(curve["mean"], dtype=float)
    se = np.asarray(curve["se"], dtype=float)
    lows, ones = np.atleast_1d(curve["alpha_min"]), np.atleast_1d(curve["alpha_1se"])
    several = mean.ndim == 2
    if not several:
        mean, se = mean[:, None], se[:, None]
    chosen = curve.get("selection", "min")
    names = [f"target {j}" for j in range(mean.shape[1])]
    shown = range(mean.shape[1]) if target is None else [_target_index(target, mean.shape[1])]
    for j in shown:
        color = f"C{j}" if several else "C0"
        who = f"{names[j]}: " if several else ""
        ax.errorbar(alphas, mean[:, j], yerr=np.where(np.isfinite(se[:, j]), se[:, j], 0.0),
                    fmt="o-", ms=3, capsize=2, color=color,
                    label=f"{who}mean ± 1 s.e. over {curve['n_folds']} folds")
        for rule, value, style, other in (("min", lows[j], "--", "C1"), ("1se", ones[j], ":", "C2")):
            tag = " (chosen)" if rule == chosen else ""
            ax.axvline(value, color=color if several else other, ls=style,
                       label=f"{who}{rule}: alpha={value:.3g}{tag}")
    if (alphas > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel(f"held-out {curve['scoring']}")
    ax.set_title("Cross-validation")
    ax.legend(fontsize="small")
    return ax


def _target_index(target, k: int) -> int:
    if not isinstance(target, (int, np.integer)) or isinstance(target, bool) or not 0 <= target < k:
        raise ValueError(f"target must be an index in 0–{k - 1}, got {target!r}")
    return int(target)


def plot_cv(model_cv, ax=None):
    """Draw the CV curve (:func:`draw_cv`) on ``ax`` (new pyplot axes if None); returns ``ax``."""
    if ax is None:
        _, ax = pyplot().subplots(figsize=PANEL_SIZE, layout="constrained")
    return draw_cv(ax, model_cv)


def model_figure(model, X=None, y=None, figure_class=None, target_name=None):
    """The command line's figure: the loss curve and, given data, predicted vs actual and
    residuals vs fitted, in one row (built without pyplot, so no display is needed); first the
    cross-validation curve for a model saved by ``linreg fit --alpha cv``."""
    Figure = figure_class or require_matplotlib()
    has_cv = "cv_path" in (getattr(model, "metadata_", None) or {})
    panels = (1 if X is None else 3) + has_cv
    fig = Figure(figsize=(PANEL_SIZE[0] * panels, PANEL_SIZE[1]), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if has_cv:
        draw_cv(axes[0], model)
        axes = axes[1:]
    target_name = target_name or _target_name_of(model, y)
    draw_loss(axes[0], model, optimal_loss(model, X, y), target_name=target_name)
    if X is not None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            y_pred = model.predict(X)
        draw_predicted_vs_actual(axes[1], y, y_pred, target_name)
        draw_residuals(axes[2], y, y_pred, target_name)
    return fig
