"""The parts of the report page, each from a :class:`~.data.ReportData`: the cross-validation
curve, one section per target (the summary or, without OLS inference, the coefficients, R²,
RMSE and objective; the ANOVA table and the terms' Wald tests; the diagnostic plots), the
loss curve and the data."""

from __future__ import annotations

import numpy as np

from .diagnostics import draw_diagnostics, draw_residual_panels, results_html
from .html import escape, figure_png, img_tag, table

__all__ = ["cv_section", "target_section", "loss_section", "data_section", "frame_table",
           "sample_note"]


def _number(value, digits: int = 6) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if np.isnan(value) else f"{value:.{digits}g}"


def frame_table(frame, table_id: str, first: str = "term") -> str:
    """A pandas DataFrame as an HTML table: its index as the first column, numbers to 6
    significant digits (p-values to 4), NaN left blank."""
    header = [first] + [str(c) for c in frame.columns]
    rows = []
    for name, values in zip(frame.index, frame.to_numpy(), strict=True):
        rows.append([str(name)] + [_number(v, 4 if str(c).startswith(("P", "p")) else 6)
                                   for c, v in zip(frame.columns, values, strict=True)])
    return table(header, rows, table_id=table_id)


def _figure(Figure, size, draw, alt: str, caption: str) -> str:
    fig = Figure(figsize=size, layout="constrained")
    draw(fig)
    return (f"<figure>{img_tag(figure_png(fig), alt)}"
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def cv_section(data, Figure) -> str:
    """The cross-validation curve (mean held-out score ± 1 s.e. per alpha, alpha_min and
    alpha_1se marked), the choice in words, and the curve's numbers."""
    from ..plotting import cv_curve, draw_cv
    source = data.cv_source
    curve = cv_curve(source)
    mean, se = np.asarray(curve["mean"], dtype=float), np.asarray(curve["se"], dtype=float)
    lows, ones = np.atleast_1d(curve["alpha_min"]), np.atleast_1d(curve["alpha_1se"])
    several = mean.ndim == 2
    chosen = curve.get("selection", "min")
    alpha = np.atleast_1d(np.asarray(data.model.alpha, dtype=float))
    k = mean.shape[1] if several else 1
    columns = min(k, 2)
    size = (8, 4.5) if k == 1 else (11, 4 * -(-k // columns))

    def draw(fig):
        if not several:
            draw_cv(fig.add_subplot(1, 1, 1), source)
            return
        axes = fig.subplots(-(-k // columns), columns, squeeze=False).ravel()
        for j, ax in enumerate(axes):
            if j < k:
                draw_cv(ax, source, target=j)
                ax.set_title(f"Cross-validation: {data.targets[j].name}")
            else:
                ax.set_visible(False)

    words = []
    for j in range(lows.size):
        who = f"{data.targets[j].name}: " if several and j < len(data.targets) else ""
        words.append(f"{who}alpha_min = {lows[j]:.6g} (the best mean held-out "
                     f"{curve['scoring']}), alpha_1se = {ones[j]:.6g} (the largest alpha within "
                     f"one standard error of it); the model uses alpha = "
                     f"{alpha[min(j, alpha.size - 1)]:.6g} (rule: {chosen}).")
    parts = ["<h2>Cross-validation</h2>",
             f'<p id="cv-choice">{curve["n_folds"]}-fold cross-validation over '
             f'{len(curve["alphas"])} alphas. {escape(" ".join(words))} Each fold\'s score is the '
             "held-out error of the fit on the other folds; the model was then refitted on all "
             "rows with the chosen alpha.</p>",
             _figure(Figure, size, draw, "cross-validation curve",
                     "Mean held-out score per alpha ± one standard error over the folds (log "
                     "alpha axis); dashed: alpha_min, dotted: alpha_1se"
                     + (", one panel per target (one alpha each)." if several else "."))]
    header = ["alpha"]
    columns = [np.asarray(curve["alphas"], dtype=float)]
    names = [t.name for t in data.targets] if several else [""]
    for j, name in enumerate(names):
        suffix = f" ({name})" if name else ""
        header += [f"mean {curve['scoring']}{suffix}", f"s.e.{suffix}"]
        columns += [mean[:, j] if several else mean, se[:, j] if several else se]
    rows = [[_number(v) for v in row] for row in zip(*columns, strict=True)]
    parts.append("<details><summary>The curve's numbers</summary>"
                 + table(header, rows, table_id="cv-curve") + "</details>")
    return "\n".join(parts)


def sample_note(data, j: int) -> str:
    """What the plots of target ``j`` draw, in words."""
    sample = data.sample
    drawn = sample.rows_for(j).size
    usable = sample.n_rows - sample.n_zero_weight
    zero = (f" Rows of weight zero ({sample.n_zero_weight:,}) are not drawn."
            if sample.n_zero_weight else "")
    if drawn < usable:
        ranked = "Cook's distance" if data.refusal is None else "weighted residual |√s·r|"
        return (f"The plots draw {drawn:,} of the {usable:,} rows: the 20 with the largest "
                f"{ranked} and a random sample of the rest (each row's key is "
                f"splitmix64 of its row number, seed 0); the normal Q–Q draws the random "
                f"sample alone, whose quantiles are unbiased. Every statistic on this page uses "
                f"all {sample.n_rows:,} rows.{zero}")
    return f"All {drawn:,} rows are drawn and used.{zero}"


def _fit_only_tables(part, j: int) -> str:
    rows = [[name, _number(value)] for name, value in zip(part.param_names, part.params,
                                                          strict=True)]
    coef = table(["term", "coef (original units)"], rows, table_id="coefficients")
    fit = [["R²", _number(part.rsquared)], ["RMSE", _number(part.rmse)],
           ["objective J at the solution", _number(part.objective)],
           ["alpha", _number(part.alpha)]]
    scale = ("w·sd(x), the coefficients on the standardized scale" if part.standardized
             else "w in original units")
    objective = ('<p class="note">J = 1/(2Σs) Σ s_i (x_iᵀw + b − y_i)² + (alpha/2)‖θ‖², '
                 f"θ = {escape(scale)}: the objective the fit minimised.</p>")
    return table(["statistic", "value"], fit, table_id="fit-statistics") + objective + coef


def target_section(data, j: int, Figure, heading: bool, setting=None) -> str:
    """Target ``j``'s section: its tables, its tests of the terms and its plots
    (``setting(name, value)`` words a parameter setting in why OLS inference is not
    shown; default Python's ``alpha=0``)."""
    part = data.targets[j]
    parts = [f"<h2>{escape(part.name) if heading else 'Summary'}</h2>"]
    if part.results is not None:
        parts += [results_html(part.results),
                  f"<details><summary>The text table</summary><pre>"
                  f"{escape(str(part.results))}</pre></details>"]
    else:
        parts += [_fit_only_tables(part, j),
                  f'<p class="note" id="not-shown">Not shown: '
                  f"{escape(data.refusal.worded(setting) if setting else data.refusal)}</p>"]
    if data.n_dropped:
        parts.append(f'<p class="note" id="missing">({data.n_dropped:,} observation'
                     f'{"s" if data.n_dropped != 1 else ""} deleted due to missingness: rows with '
                     "a missing value in a column the model uses, left out of the fit and of "
                     "everything on this page)</p>")
    if part.anova is not None:
        parts += ["<h3>Analysis of variance (type 2)</h3>",
                  '<p class="note">Each term\'s sum of squares given every term that does not '
                  "contain it, as R's car::Anova and statsmodels' anova_lm(typ=2).</p>",
                  frame_table(part.anova, f"anova-{j}"),
                  "<h3>Wald tests of the terms</h3>",
                  f'<p class="note">All coefficients of each term tested at once '
                  f"({escape(part.wald.distribution)}), as statsmodels' wald_test_terms().</p>",
                  frame_table(part.wald.summary_frame(), f"wald-{j}")]
    elif part.anova_note:
        parts.append(f'<p class="note">No ANOVA table: {escape(part.anova_note)}</p>')
    title = "Diagnostic plots" if part.results is not None else "Residual plots"
    parts.append(f'<h3>{title}</h3><p class="note" id="sample-note-{j}">'
                 f"{escape(sample_note(data, j))}</p>")
    if part.results is not None:
        diag = data.diagnostics(j)
        parts.append(_figure(
            Figure, (11, 8.5), lambda fig: draw_diagnostics(fig.subplots(2, 2).ravel(), diag),
            "diagnostic plots", "Residuals vs fitted (lowess smoother), normal Q–Q of the "
            "studentized residuals, scale–location, and studentized residuals vs leverage with "
            "Cook's distance 0.5 and 1 — as R's plot(lm). The three most influential rows "
            "are labelled by their number among the rows used, counted from 0."))
    else:
        fitted, resid, z = data.sample.residuals(j, part.rmse)
        parts.append(_figure(
            Figure, (11, 4.5),
            lambda fig: draw_residual_panels(fig.subplots(1, 2), fitted, resid, z),
            "residual plots", "Residuals vs fitted (lowess smoother) and the normal Q–Q of "
            "the residuals over the RMSE. Leverage, studentized residuals and Cook's distance "
            "are OLS quantities and are not drawn for this fit."))
    return "\n".join(parts)


def loss_section(data, Figure) -> str:
    """The loss curve of an iterative fit ("" for a closed form)."""
    from ..plotting import draw_loss, optimal_loss
    model = data.model
    if model.solver_ in ("normal", "qr") or len(getattr(model, "loss_history_", [])) < 2:
        return ""
    optimum = optimal_loss(model)            # from the training statistics, when kept
    names = ", ".join(t.name for t in data.targets)
    return "<h2>Loss curve</h2>" + _figure(
        Figure, (8, 4), lambda fig: draw_loss(fig.add_subplot(1, 1, 1), model, optimum,
                                              target_name=names),
        "loss curve", "The objective J after each iteration (log scale), and J − J* where "
        "the exact optimum J* is known.")


def data_section(data) -> str:
    """Rows, columns and each column's range; a table's categorical levels and missing rows."""
    ranges = data.sample.ranges
    k = len(data.targets)
    d = len(data.column_names) - k
    rows = [[name, _number(lo), _number(hi), _number(mean), _number(sd)]
            for name, lo, hi, mean, sd in zip(data.column_names, ranges.min, ranges.max,
                                              ranges.mean, ranges.std, strict=True)]
    kind = "design columns (as the model's coefficients name them)" if data.levels else \
        "feature columns"
    targets = ", ".join(t.name for t in data.targets)
    text = (f"{data.n_rows:,} rows, {d} {kind} and the target{'s' if k > 1 else ''} "
            f"{targets}{' (weighted)' if data.weighted else ''}.")
    if data.n_dropped is not None:
        text += f" {data.n_dropped:,} more rows had a missing value and were left out."
    parts = ["<h2>Data</h2>", f'<p id="data-note">{escape(text)}</p>',
             table(["column", "min", "max", "mean", "std"], rows, table_id="data"),
             '<p class="note">Unweighted, over every row used'
             + ("; a 0/1 column's mean is the share of rows at that level" if data.levels
                else "") + ".</p>"]
    if data.levels:
        items = "".join(f"<li><code>{escape(name)}</code>: {escape(', '.join(levels))}</li>"
                        for name, levels in data.levels.items())
        parts.append(f"<p>Categorical columns and their levels:</p><ul id=\"levels\">{items}</ul>")
    return "\n".join(parts)
