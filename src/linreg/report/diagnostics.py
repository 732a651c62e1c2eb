"""R's four diagnostic plots of a least-squares fit (``plot(lm(...))``), their data, and a
notebook's HTML view of a results object.

The data come from :class:`linreg.inference.RegressionResults` as it is today:
``leverage``, ``resid_studentized`` (internally studentized, √s_i r_i/(σ√(1 − h_i))),
``cooks_distance``, ``rank`` and ``params``; the residuals drawn are ``y − ŷ`` computed here,
so the page does not depend on which residual ``result.resid`` names.

* residuals vs fitted, with a lowess smoother;
* normal Q–Q of the studentized residuals against ``Φ⁻¹`` of R's ``ppoints``;
* scale–location: ``√|studentized residual|`` vs fitted, with a smoother;
* studentized residuals vs leverage, with Cook's distance contours at 0.5 and 1
  (``r = ±√(D·p·(1 − h)/h)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.stats

from ..inference.table import results_html

__all__ = ["Diagnostics", "diagnostics", "lowess", "ppoints", "draw_diagnostics",
           "draw_residual_panels", "plot_diagnostics", "results_html", "sample_rows",
           "MAX_POINTS"]

#: the diagnostic plots draw at most this many rows: the 20 with the largest Cook's distance
#: and a seeded random sample of the rest (statistics always use every row)
MAX_POINTS = 5000


@dataclass
class Diagnostics:
    fitted: np.ndarray
    resid: np.ndarray              # y − ŷ
    resid_studentized: np.ndarray
    leverage: np.ndarray
    cooks_distance: np.ndarray
    n_params: int                  # p of Cook's distance: the rank of [1, X]
    index: np.ndarray | None = None   # the rows' numbers (None: 0, 1, …)
    #: the rows of a uniform random sample (None: all): the Q–Q plot draws only these, as
    #: quantiles of a sample that includes the most influential rows would be biased
    random: np.ndarray | None = None


def diagnostics(result, fitted, y) -> Diagnostics:
    """The plots' data for one target: ``result`` a RegressionResults of the fit, ``fitted``
    its predictions ŷ and ``y`` the targets of the same rows."""
    fitted, y = np.asarray(fitted, dtype=float), np.asarray(y, dtype=float)
    return Diagnostics(fitted, y - fitted, np.asarray(result.resid_studentized),
                       np.asarray(result.leverage), np.asarray(result.cooks_distance),
                       int(result.rank))


def sample_rows(diag: Diagnostics, limit: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """The rows a plot draws: all when there are at most ``limit``; else the 20 with the
    largest Cook's distance and a seeded random sample of the others, ``limit`` in all."""
    n = diag.fitted.shape[0]
    if n <= limit:
        return np.arange(n)
    cooks = np.nan_to_num(diag.cooks_distance, nan=-np.inf)
    top = np.argsort(cooks)[-20:]
    rest = np.setdiff1d(np.arange(n), top)
    chosen = np.random.default_rng(seed).choice(rest, limit - top.size, replace=False)
    return np.sort(np.concatenate([top, chosen]))


def lowess(x, y, frac: float = 2 / 3, points: int = 100):
    """A lowess smoother (tricube-weighted local lines, R's default span 2/3, no robustness
    iterations), evaluated at ``points`` values of x across its range: returns (xs, ys)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3 or np.ptp(x) == 0:
        return np.array([]), np.array([])
    k = max(2, min(int(frac * x.size + 1e-7), x.size))   # R's lowess: ns = (int)(f·n + 1e-7)
    xs = np.linspace(x.min(), x.max(), points)
    ys = np.empty(points)
    for i, x0 in enumerate(xs):
        dist = np.abs(x - x0)
        h = np.partition(dist, k - 1)[k - 1] or 1.0
        w = np.clip(1 - (dist / h) ** 3, 0, None) ** 3
        A = np.column_stack([np.ones_like(x), x - x0]) * np.sqrt(w)[:, None]
        ys[i] = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)[0][0]
    return xs, ys


def ppoints(n: int) -> np.ndarray:
    """R's ``ppoints(n)``: ``(i − a)/(n + 1 − 2a)``, ``a = 3/8`` for n ≤ 10, else 1/2."""
    a = 3 / 8 if n <= 10 else 0.5
    return (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)


def draw_diagnostics(axes, diag: Diagnostics, rows=None, shown_note: str = "") -> None:
    """Draw the four panels on ``axes`` (a sequence of four matplotlib Axes)."""
    rows = np.arange(diag.fitted.shape[0]) if rows is None else rows
    labels = rows if diag.index is None else diag.index[rows]
    f, r, t = diag.fitted[rows], diag.resid[rows], diag.resid_studentized[rows]
    h, D = diag.leverage[rows], diag.cooks_distance[rows]
    style = dict(s=10, alpha=0.6, edgecolors="none")
    ax1, ax2, ax3, ax4 = axes
    ax1.scatter(f, r, **style)
    ax1.plot(*lowess(f, r), color="C3")
    ax1.axhline(0, color="grey", ls=":", lw=1)
    ax1.set(xlabel="fitted values", ylabel="residuals y − ŷ", title="Residuals vs Fitted")
    finite = np.isfinite(t)
    if diag.random is not None:
        finite &= diag.random[rows]
    t_sorted = np.sort(t[finite])
    q = scipy.stats.norm.ppf(ppoints(t_sorted.size))
    ax2.scatter(q, t_sorted, **style)
    ax2.plot(q, q, color="grey", ls=":", lw=1)
    ax2.set(xlabel="theoretical quantiles", ylabel="studentized residuals", title="Normal Q–Q")
    root = np.sqrt(np.abs(t))
    ax3.scatter(f, root, **style)
    ax3.plot(*lowess(f, root), color="C3")
    ax3.set(xlabel="fitted values", ylabel="√|studentized residuals|", title="Scale–Location")
    ax4.scatter(h, t, **style)
    ax4.plot(*lowess(h, t), color="C3")
    ax4.axhline(0, color="grey", ls=":", lw=1)
    hs = np.linspace(max(np.nanmin(h), 1e-6) * 0.9 + 1e-9, min(np.nanmax(h) * 1.05, 0.999), 100)
    lim = ax4.get_ylim()
    for level, ls in ((0.5, "--"), (1.0, "-.")):
        bound = np.sqrt(level * diag.n_params * (1 - hs) / hs)
        ax4.plot(hs, bound, color="C1", ls=ls, lw=1, label=f"Cook's distance {level:g}")
        ax4.plot(hs, -bound, color="C1", ls=ls, lw=1)
    ax4.set_ylim(lim)
    for i in np.argsort(np.nan_to_num(D, nan=-np.inf))[-3:]:   # R labels the 3 largest
        ax4.annotate(str(labels[i]), (h[i], t[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax4.legend(fontsize=8, loc="lower left")
    ax4.set(xlabel="leverage", ylabel="studentized residuals", title="Residuals vs Leverage")
    if shown_note:
        ax1.annotate(shown_note, (0.01, 0.01), xycoords="figure fraction", fontsize=8, color="#555")


def draw_residual_panels(axes, fitted, resid, standardized) -> None:
    """Two panels for a fit without OLS inference (penalized, sign-constrained): residuals
    ``y − ŷ`` vs fitted with a lowess smoother, and the normal Q–Q of the standardized
    residuals ``√s r / RMSE`` (no leverage: a ridge fit's hat matrix is not OLS's)."""
    style = dict(s=10, alpha=0.6, edgecolors="none")
    ax1, ax2 = axes
    ax1.scatter(fitted, resid, **style)
    ax1.plot(*lowess(fitted, resid), color="C3")
    ax1.axhline(0, color="grey", ls=":", lw=1)
    ax1.set(xlabel="fitted values", ylabel="residuals y − ŷ", title="Residuals vs Fitted")
    z = np.sort(np.asarray(standardized)[np.isfinite(standardized)])
    q = scipy.stats.norm.ppf(ppoints(z.size))
    ax2.scatter(q, z, **style)
    ax2.plot(q, q, color="grey", ls=":", lw=1)
    ax2.set(xlabel="theoretical quantiles", ylabel="residuals / RMSE", title="Normal Q–Q")


def plot_diagnostics(model, X, y, sample_weight=None, axes=None):
    """R's four diagnostic plots of ``model`` (fitted, unpenalized) on its training rows
    ``X``, ``y``; with pyplot unless ``axes`` (four Axes) are given.  Returns the axes."""
    from ..plotting import pyplot

    from ..inference import check_inference_allowed
    check_inference_allowed(model)   # (summary() of a ridge fit has no residual diagnostics)
    result = model.summary(X=X, y=y, sample_weight=sample_weight)
    if isinstance(result, tuple):
        raise ValueError("plot_diagnostics draws one target; this model has several "
                         "(fit one model per target)")
    diag = diagnostics(result, model.predict(X), np.asarray(y, dtype=float).ravel())
    if axes is None:
        fig, grid = pyplot().subplots(2, 2, figsize=(10, 8), layout="constrained")
        axes = grid.ravel()
    rows = sample_rows(diag)
    note = "" if rows.size == diag.fitted.size else f"{rows.size} of {diag.fitted.size} rows drawn"
    draw_diagnostics(axes, diag, rows, note)
    return axes


