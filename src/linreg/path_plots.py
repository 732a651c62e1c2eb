"""Plots of model selection: the coefficient paths of :class:`~linreg.LinearRegressionCV`
and the path of :class:`~linreg.selection.StepwiseSelector` (the cross-validation curve is
:func:`linreg.plotting.draw_cv`), and the panels both draw on: new axes side by side (a
figure without pyplot when it only goes to a file) and writing them to a file.

matplotlib is an optional extra, imported only when a plot is drawn
(:func:`linreg.plotting.require_matplotlib` says how to get it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plotting import DPI, PANEL_SIZE, pyplot, require_matplotlib

__all__ = ["draw_coef_path", "draw_selection_path", "panels", "save_panels"]


def draw_coef_path(ax, alphas, coefs, names, alpha=None, ylabel="coefficient",
                   title="Coefficient paths"):
    """One line per feature: its coefficient (``coefs``, shape (n_alphas, d)) against alpha
    (log axis when every alpha is positive), the chosen ``alpha`` marked.  More than ten
    features: only the ten largest in magnitude at the smallest alpha are named."""
    alphas = np.asarray(alphas, dtype=float)
    coefs = np.asarray(coefs, dtype=float)
    named = set(np.argsort(-np.abs(coefs[0]), kind="stable")[:10].tolist())
    for j in range(coefs.shape[1]):
        ax.plot(alphas, coefs[:, j], color=f"C{j % 10}", linewidth=1.4,
                label=str(names[j]) if j in named else None)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    if alpha is not None:
        ax.axvline(alpha, color="k", ls="--", linewidth=1.0, label=f"chosen alpha={alpha:.3g}")
    if (alphas > 0).all():
        ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small", ncol=2 if len(named) > 5 else 1)
    return ax


def draw_selection_path(ax, path, criterion: str, names, exhaustive: bool = False):
    """A stepwise path — the criterion after each step, each point labelled with the feature
    that entered (+) or left (−) — or, for best subset, the criterion of the best model of
    each size; the chosen model's point ringed."""
    names = list(names)
    values = np.array([p[2] for p in path], dtype=float)
    steps = np.array([p[0] for p in path]) if exhaustive else np.arange(len(path))
    best = int(np.argmax(values) if criterion == "adjr2" else np.argmin(values))
    if not exhaustive:
        best = len(path) - 1              # a stepwise search stops at its chosen model
    label = {"aic": "AIC", "bic": "BIC", "adjr2": "adjusted R²"}[criterion]
    ax.plot(steps, values, "o-", color="C0", ms=4, label=label)
    ax.plot(steps[best], values[best], "o", ms=11, mfc="none", mec="C3", mew=1.6,
            label="chosen model")
    for x, (what, which, value) in zip(steps, path):
        if exhaustive:
            text = ""
        elif what == "start":
            text = "start"
        else:
            text = f"{'+' if what == '+' else '−'}{names[which]}"
        if text:
            ax.annotate(text, (x, value), textcoords="offset points", xytext=(3, 5),
                        fontsize="x-small", rotation=30)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.12, y=0.12)             # room for the labels of the last points
    ax.set_xlabel("number of features" if exhaustive else "step")
    ax.set_ylabel(label + (" (higher is better)" if criterion == "adjr2" else " (lower is better)"))
    ax.set_title("Best subset of each size" if exhaustive else "Stepwise selection path")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def panels(n: int, axes=None, to_file: bool = False):
    """``n`` axes side by side: ``axes`` checked, or new ones — a figure without pyplot when
    it is only to be written to a file, else pyplot's."""
    if axes is not None:
        axes = list(np.ravel(axes)) if not hasattr(axes, "figure") else [axes]
        if len(axes) != n:
            raise ValueError(f"this plot draws {n} panel(s): give {n} axes, not {len(axes)}")
        return axes
    size = (PANEL_SIZE[0] * n, PANEL_SIZE[1])
    if to_file:
        fig = require_matplotlib()(figsize=size, dpi=DPI, layout="constrained")
        return list(fig.subplots(1, n, squeeze=False)[0])
    _, grid = pyplot().subplots(1, n, squeeze=False, figsize=size, layout="constrained")
    return list(grid[0])


def save_panels(axes, path) -> None:
    """Write the figure of ``axes`` to ``path`` (.png, .svg or .pdf)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise ValueError(f"cannot write a plot as {str(path)!r}: use .png, .svg or .pdf")
    axes[0].figure.savefig(path, format=suffix, dpi=DPI)
