"""``model.report(X, y, path)`` and ``linreg report``: one self-contained HTML page of a fit.

What the page holds (computed by :func:`.data.report_data`, drawn by :mod:`.sections`):

* a fit with OLS inference: per target the summary table, the ANOVA table (type 2) and the
  Wald tests of the terms when the model has terms (a formula or a table), R's four
  diagnostic plots (:mod:`.diagnostics`);
* a penalized (or sign-constrained) fit: per target the coefficients in original units,
  R², RMSE and the objective ``J``, why there are no standard errors, and residual plots;
* a model chosen by cross-validation (a :class:`~linreg.LinearRegressionCV`, or a model
  saved by ``linreg fit --alpha cv``): the cross-validation curve;
* the loss curve of an iterative fit; the data: rows, columns and their ranges, a table's
  categorical levels and the rows left out for missing values.

Every number uses all rows; the plots draw at most ``max_points`` rows per target
(:mod:`.sample`, which says how they are chosen; the page says so too).
"""

from __future__ import annotations

from .diagnostics import MAX_POINTS
from .html import escape, page

__all__ = ["report_html", "write_report"]


def _overview(data, source: str) -> str:
    model = data.model
    k = len(data.targets)
    d = len(data.column_names) - k
    formula = getattr(getattr(model, "encoding_", None), "formula", None)
    what = f"formula {formula.text}; " if formula is not None else ""
    solver = getattr(model, "solver_", "?")
    if solver in ("normal", "qr"):
        how = "closed form"
    else:
        stop = getattr(model, "stop_reason_", None)
        how = f"{int(getattr(model, 'n_iter_', 0) or 0)} iterations" + (
            f", stopped by: {stop}" if stop else "")
    return (f'<p class="note" id="overview">{escape(source + ": " if source else "")}'
            f"{data.n_rows:,} rows, {d} {'design columns' if data.levels else 'features'}, "
            f"{k} target{'s' if k > 1 else ''}; {escape(what)}solver {escape(solver)} "
            f"({escape(how)}).</p>")


def report_html(model, X, y=None, sample_weight=None, feature_names=None, target_name=None,
                source: str = "", max_points: int = MAX_POINTS, setting=None) -> str:
    """The report page of a fitted ``model`` — a :class:`~linreg.LinearRegression` or a
    :class:`~linreg.LinearRegressionCV` — on its training rows.

    Parameters
    ----------
    model : fitted LinearRegression or LinearRegressionCV
    X : array-like, sparse matrix, pandas/pyarrow table, data source or Dask collection
        The training rows: for a model fitted from a formula or a table, the table (its
        target among its columns, read through the model's encoding); a
        :mod:`linreg.sources` source (targets and weights from it; read block by block).
    y : array-like, optional
        The targets, (n,) or (n, k) (not for a source or a formula's table).
    sample_weight : array-like, optional
    feature_names : list of str, optional
        Unused: the names are the model's (kept for callers of earlier versions).
    target_name : str or list of str, optional
        The target names shown (default: those of ``y``, the source, or the model file).
    source : str
        What the rows are (a file name), said at the top of the page.
    max_points : int, default 5000
        At most this many rows are drawn in each target's plots.
    setting : callable, optional
        ``setting(name, value)`` words a parameter setting (the command line's flags);
        default Python's ``name=value``.

    Returns
    -------
    str
        One HTML document: images inline, no scripts, nothing fetched.
    """
    from ..plotting import require_matplotlib
    from .data import report_data
    from .sections import cv_section, data_section, loss_section, target_section

    Figure = require_matplotlib()
    data = report_data(model, X, y, sample_weight, target_names=target_name,
                       max_points=max_points)
    names = ", ".join(t.name for t in data.targets)
    several = len(data.targets) > 1
    parts = [f"<h1>linreg report: {escape(names)}</h1>", _overview(data, source)]
    if data.cv_source is not None:
        parts.append(cv_section(data, Figure))
    parts += [target_section(data, j, Figure, heading=several, setting=setting)
              for j in range(len(data.targets))]
    parts += [loss_section(data, Figure), data_section(data)]
    return page(f"linreg report: {names}", "\n".join(p for p in parts if p))


def write_report(model, X, y, path, sample_weight=None, **kwargs) -> None:
    """Write :func:`report_html` to ``path`` (atomically replaced)."""
    from ..fileio import atomic_write_bytes
    atomic_write_bytes(path, report_html(model, X, y, sample_weight, **kwargs).encode("utf-8"))
