"""``model.report(X, y, path)`` and ``linreg report``: one self-contained HTML page of a fit.

The page holds the summary table (from :meth:`~linreg.LinearRegression.summary`, every row),
R's four diagnostic plots (:mod:`.diagnostics`; at most :data:`.diagnostics.MAX_POINTS`
rows drawn, chosen as that module documents), the loss curve of an iterative fit, and the
data: rows, columns and each column's range.
"""

from __future__ import annotations

import numpy as np

from .diagnostics import MAX_POINTS, diagnostics, draw_diagnostics, results_html, sample_rows
from .html import escape, figure_png, img_tag, page, table

__all__ = ["report_html", "write_report"]

CLOSED_FORMS = ("normal", "qr")


def _data_table(X, y, names, target):
    rows = []
    for name, col in zip(list(names) + [target], list(X.T) + [y]):
        rows.append([name, f"{np.min(col):.6g}", f"{np.max(col):.6g}", f"{np.mean(col):.6g}",
                     f"{np.std(col):.6g}"])
    return table(["column", "min", "max", "mean", "std"], rows, table_id="data")


def report_html(model, X, y, sample_weight=None, feature_names=None, target_name=None,
                source: str = "", max_points: int = MAX_POINTS) -> str:
    """The report page of ``model`` (fitted, unpenalized, one target) on its training rows."""
    from ..plotting import draw_loss, optimal_loss, require_matplotlib

    Figure = require_matplotlib()
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"the report describes one target; y has shape {y.shape} "
                         "(fit and report one model per target)")
    n, d = X.shape
    from ..validation import coefficient_names
    names = list(feature_names) if feature_names is not None else (
        coefficient_names(model) or [f"x{j}" for j in range(d)])
    from ..inference import check_inference_allowed
    check_inference_allowed(model)   # (summary() of a ridge fit has no standard errors to show)
    result = model.summary(X=X, y=y, sample_weight=sample_weight,
                           **({"target_names": target_name} if target_name else {}))
    target = str(result.target_name)
    diag = diagnostics(result, model.predict(X), y)
    rows = sample_rows(diag, max_points)
    sampled = rows.size < n
    note = (f"The plots draw {rows.size:,} of the {n:,} rows: the 20 with the largest Cook's "
            f"distance and a random sample (seed 0) of the rest. Every statistic on this page "
            f"uses all {n:,} rows." if sampled else f"All {n:,} rows are drawn and used.")
    parts = [f"<h1>linreg report: {escape(target)}</h1>",
             f'<p class="note">{escape(source + ": " if source else "")}{n:,} rows, {d} '
             f"features; solver {escape(model.solver_)}, {int(model.n_iter_)} iteration(s), "
             f"stopped by: {escape(getattr(model, 'stop_reason_', None))}.</p>",
             "<h2>Summary</h2>", results_html(result),
             f"<details><summary>The text table</summary><pre>{escape(str(result))}</pre></details>",
             "<h2>Diagnostic plots</h2>", f'<p class="note" id="sample-note">{escape(note)}</p>']
    fig = Figure(figsize=(11, 8.5), layout="constrained")
    draw_diagnostics(fig.subplots(2, 2).ravel(), diag, rows)
    parts.append(f"<figure>{img_tag(figure_png(fig), 'diagnostic plots')}<figcaption>Residuals "
                 "vs fitted (lowess smoother), normal Q–Q of the studentized residuals, "
                 "scale–location, and studentized residuals vs leverage with Cook's distance "
                 "0.5 and 1 — as R's plot(lm).</figcaption></figure>")
    if model.solver_ not in CLOSED_FORMS and len(getattr(model, "loss_history_", [])) > 1:
        fig = Figure(figsize=(8, 4), layout="constrained")
        draw_loss(fig.add_subplot(1, 1, 1), model, optimal_loss(model, X, y, sample_weight),
                  target_name=target)
        parts += ["<h2>Loss curve</h2>",
                  f"<figure>{img_tag(figure_png(fig), 'loss curve')}</figure>"]
    parts += ["<h2>Data</h2>",
              f'<p>{n:,} rows, {d} feature columns and the target {escape(target)}'
              f'{" (weighted)" if sample_weight is not None else ""}.</p>',
              _data_table(X, y, names, target)]
    return page(f"linreg report: {target}", "\n".join(parts))


def write_report(model, X, y, path, sample_weight=None, **kwargs) -> None:
    """Write :func:`report_html` to ``path`` (atomically replaced)."""
    from ..fileio import atomic_write_bytes
    atomic_write_bytes(path, report_html(model, X, y, sample_weight, **kwargs).encode("utf-8"))
