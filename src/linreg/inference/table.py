"""The printed table of a result: statsmodels' layout, plus how the fit was obtained and
plain-language notes.  It reads the attributes of a
:class:`~linreg.inference.RegressionResults` (and knows nothing else of it)."""

from __future__ import annotations

import math
import textwrap

import numpy as np

from ..stopping import describe_stop

__all__ = ["CONDITION_WARNING", "WIDTH", "format_table"]

#: statsmodels prints its collinearity warning above this condition number
CONDITION_WARNING = 1000.0
#: characters a line of the table holds (long feature names widen the coefficient rows)
WIDTH = 78

_COV_DESCRIPTIONS = {
    "nonrobust": "Standard errors assume that the errors are independent with constant "
                 "variance (covariance type nonrobust).",
    "HC0": "Standard errors are heteroscedasticity robust (HC0, White's estimator).",
    "HC1": "Standard errors are heteroscedasticity robust (HC1: HC0 scaled by n/(n − p)).",
    "HC2": "Standard errors are heteroscedasticity robust (HC2: squared residuals divided "
           "by 1 − leverage).",
    "HC3": "Standard errors are heteroscedasticity robust (HC3: squared residuals divided "
           "by (1 − leverage)²).",
}


def _cov_description(r) -> str:
    """What the covariance is, in words (cluster and HAC with their settings)."""
    kw = r.cov_kwds
    if r.cov_type == "cluster":
        groups = [f"{name} ({G} clusters)" for name, G in zip(kw["groups"], kw["n_groups"],
                                                              strict=True)]
        text = ("Standard errors are robust to correlation within clusters of "
                + " and of ".join(groups)
                + (" (two-way: Cameron, Gelbach and Miller)" if len(groups) == 2 else ""))
        text += (", with the small-sample correction G/(G − 1)·(n − 1)/(n − p)"
                 if kw["use_correction"] else ", without small-sample correction")
        return text + "."
    if r.cov_type == "HAC":
        return (f"Standard errors are heteroscedasticity and autocorrelation robust (HAC, "
                f"Newey–West, {kw['kernel']} kernel, {kw['maxlags']} lags of the rows in their "
                f"order, {'with' if kw['use_correction'] else 'without'} small-sample "
                "correction).")
    return _COV_DESCRIPTIONS[r.cov_type]


def _distribution(r) -> str:
    """Which distribution the p-values and intervals come from."""
    if r.use_t:
        df = r.df_resid_inference
        extra = " (the number of clusters − 1)" if df != r.df_resid else ""
        return (f"p-values and confidence intervals use Student's t with {df} degrees of "
                f"freedom{extra}.")
    return ("p-values and confidence intervals use the normal distribution (z: large-sample "
            "inference; use_t=True for Student's t).")


def _fmt(x: float, width: int = 10) -> str:
    """Like statsmodels' forg: 4 decimals for moderate numbers, else 4 significant digits."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return f"{'nan':>{width}}"
    ax = abs(x)
    s = f"{x:.4f}" if (1e-4 <= ax < 1e4 or ax == 0) else f"{x:.4g}"
    return f"{s:>{width}}"


def _statistic(t: float, width: int = 10) -> str:
    """A t or z statistic in its column: 3 decimals, or 4 significant digits when that would
    not fit (noiseless data gives t ~ 1e16, which must not run into the next column)."""
    s = f"{t:.3f}"
    if len(s) > width - 1:
        s = f"{t:.3g}"
    return f"{s:>{width}}"


def _two_columns(left, right) -> list[str]:
    lines = []
    half = WIDTH // 2
    for i in range(max(len(left), len(right))):
        lk, lv = left[i] if i < len(left) else ("", "")
        rk, rv = right[i] if i < len(right) else ("", "")
        lcol = f"{lk:<{half - 2 - len(lv)}}{lv}" if lk else ""
        rcol = f"{rk:<{half - len(rv)}}{rv}" if rk else ""
        lines.append(f"{lcol:<{half}}{rcol}".rstrip())
    return lines


def _g(x, spec=".4g") -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return format(x, spec)


def format_table(r) -> str:
    """The text table of a :class:`RegressionResults` (statsmodels' layout, plus how the fit
    was obtained and plain-language notes)."""
    rsq = "" if r.k_constant else " (uncentered)"
    weights = "sample weights" if r.weighted else "none"
    left = [("Dep. variable:", r.target_name), ("Model:", "WLS" if r.weighted else "OLS"),
            ("Method:", "least squares"), ("Observations:", str(r.nobs)),
            ("Df residuals:", str(r.df_resid)), ("Df model:", str(r.df_model)),
            ("Covariance type:", r.cov_type), ("Weights:", weights)]
    right = [(f"R-squared{rsq}:", _g(r.rsquared, ".4f")),
             (f"Adj. R-squared{rsq}:", _g(r.rsquared_adj, ".4f")),
             ("F-statistic:", _g(r.fvalue)), ("Prob (F-statistic):", _g(r.f_pvalue, ".3g")),
             ("Log-likelihood:", _g(r.llf, ".5g")), ("AIC:", _g(r.aic)), ("BIC:", _g(r.bic))]
    lines = [f"Linear regression results: {r.target_name}".center(WIDTH), "=" * WIDTH]
    lines += _two_columns(left, right)
    lines.append("=" * WIDTH)
    # wide enough for the names of a table's interactions (species[T.Chinstrap]:sex[T.male])
    name_w = max(12, min(48, max(len(n) for n in r.param_names) + 2)) if r.param_names else 12
    rule = max(WIDTH, name_w + 63)          # long feature names widen the coefficient rows
    ci = np.asarray(r.conf_int(0.05))
    params, bse = np.asarray(r.params), np.asarray(r.bse)
    tvalues, pvalues = np.asarray(r.tvalues), np.asarray(r.pvalues)
    stat = "t" if r.use_t else "z"
    head = (f"{'':<{name_w}}{'coef':>11}{'std err':>11}{stat:>10}{f'P>|{stat}|':>9}"
            f"{'[0.025':>11}{'0.975]':>11}")
    lines += [head, "-" * rule]
    for i, name in enumerate(r.param_names):
        label = name if len(name) <= name_w - 1 else name[: name_w - 2] + "…"
        if not r.identified[i]:
            lines.append(f"{label:<{name_w}}{'not identified (collinear; see notes)':>40}")
            continue
        lines.append(f"{label:<{name_w}}{_fmt(params[i], 11)}{_fmt(bse[i], 11)}"
                     f"{_statistic(tvalues[i])}{pvalues[i]:>9.3f}"
                     f"{_fmt(ci[i, 0], 11)}{_fmt(ci[i, 1], 11)}")
    lines.append("=" * rule)
    lines += _term_lines(r, name_w, rule)
    left = [("Omnibus:", _g(r.omnibus, ".3f")), ("Prob(Omnibus):", _g(r.omnibus_pvalue, ".3f")),
            ("Skew:", _g(r.skew, ".3f")), ("Kurtosis:", _g(r.kurtosis, ".3f"))]
    right = [("Durbin-Watson:", _g(r.durbin_watson, ".3f")),
             ("Jarque-Bera (JB):", _g(r.jarque_bera, ".3f")),
             ("Prob(JB):", _g(r.jarque_bera_pvalue, ".3g")), ("Cond. No.", _g(r.condition_number, ".3g"))]
    lines += _two_columns(left, right)
    lines.append("=" * WIDTH)

    info = r.fit_info
    fit = f"Fit: solver {info['solver']!r}" if info["solver"] else "Fit: solver unknown"
    if info["n_iter"] is not None:
        fit += f", {info['n_iter']} iteration{'s' if info['n_iter'] != 1 else ''}"
    if info["grad_norm"] is not None:
        fit += f", final gradient norm {info['grad_norm']:.3g}"
        if info["relative_grad_norm"] is not None:
            fit += f" ({info['relative_grad_norm']:.3g} of its start)"
    if info.get("stop_reason") is not None:
        fit += f"; {describe_stop(info['stop_reason'])}"
    lines += _wrap(fit + ".")
    if not math.isnan(r.distance_in_se):
        lines += _wrap(f"Distance from the exact least-squares solution: at most "
                       f"{r.distance_in_se:.3g} standard errors per coefficient; loss above "
                       f"the optimum by {r.relative_loss_gap:.3g} (relative).")
    else:
        lines += _wrap(f"Distance from the exact least-squares solution: loss above the "
                       f"optimum by {r.relative_loss_gap:.3g} (relative).")

    notes = []
    dropped = getattr(r, "n_dropped", 0)
    if dropped:
        # as R's summary.lm says it
        notes.append(f"{dropped} observation{'s' if dropped != 1 else ''} deleted due to "
                     "missingness.")
    if r.k_constant == 0:
        notes.append("R² is computed without centering (uncentered) since the model does not "
                     "contain a constant.")
    notes.append(_cov_description(r))
    notes.append(_distribution(r))
    with_nan = [n for n, v, ok in zip(r.param_names, bse, r.identified, strict=True)
                if ok and v != v]
    if r.cov_type == "cluster" and with_nan:
        notes.append(f"The two-way covariance (A + B − A∩B) is not positive semi-definite: the "
                     f"variance of {', '.join(with_nan)} is negative, so its standard error is "
                     "NaN (as in statsmodels); clustering on one variable avoids this.")
    if r.distance_in_se > 0.01 and info.get("stop_reason") != "exact":
        # (a closed form is the exact solution up to rounding; on noiseless data the standard
        # errors are themselves rounding-sized, so the distance in them means nothing)
        notes.append(f"The coefficients are {r.distance_in_se:.3g} standard errors away from the "
                     "exact least-squares solution: the iterative solver has not converged far "
                     "enough for these standard errors and p-values to be trusted. Fit with more "
                     "iterations, a smaller tol, or solver='auto'.")
    if not r.identified.all():
        bad = [n for n, ok in zip(r.param_names, r.identified, strict=True) if not ok]
        notes.append(f"The design is rank-deficient (rank {r.rank} < {len(params)} "
                     f"parameters): {', '.join(bad)} cannot be told apart from combinations of "
                     "the other columns (or of the intercept), so their individual coefficients "
                     "are not determined by the data; the values in params are one arbitrary "
                     "(minimum-norm) choice. Drop or combine these columns.")
    elif r.min_eigenvalue < 1e-10 or r.condition_number > CONDITION_WARNING:
        text = (f"The condition number is large ({r.condition_number:.3g}): small changes in the "
                "data can move the coefficients a lot.")
        if r.scaled_condition_number > CONDITION_WARNING:
            text += (f" Even with the features centred and scaled it is "
                     f"{r.scaled_condition_number:.3g}, so some features are nearly linear "
                     "combinations of others (strong collinearity): their individual "
                     "coefficients are poorly determined, even if the predictions are fine.")
        else:
            text += (f" With the features centred and scaled it is only "
                     f"{r.scaled_condition_number:.3g}, so this comes from the features' units "
                     "or offsets, not from collinearity; rescaling them would not change the fit.")
        notes.append(text)
    if r.df_resid <= 0:
        notes.append("There are no residual degrees of freedom (observations ≤ parameters): "
                     "standard errors, tests and intervals are undefined.")
    if notes:
        lines.append("Notes:")
        for i, text in enumerate(notes, 1):
            lines += _wrap(f"[{i}] {text}")
    return "\n".join(lines)


def _term_lines(r, name_w: int, rule: int) -> list[str]:
    """Under the coefficients, for a fit whose terms (``term_slices``) include one of several
    columns: the joint Wald test of each such term (the others' is the square of their t)."""
    slices = getattr(r, "term_slices", None)
    if not slices or not getattr(r, "labelled", False) or r.df_resid <= 0:
        return []
    several = [name for name, cols in slices.items() if cols.stop - cols.start > 1]
    if not several:
        return []
    tests = r.wald_test_terms()
    stat = tests.distribution
    title = f"Terms (joint Wald {stat})"
    width = max(name_w, len(title) + 1)
    lines = [f"{title:<{width}}{stat:>11}{'df':>11}{'P>' + stat:>9}", "-" * rule]
    for name in several:
        row = tests.table.loc[name]
        label = name if len(name) <= width - 1 else name[: width - 2] + "…"
        if row["statistic"] != row["statistic"]:
            lines.append(f"{label:<{width}}{'not identified (collinear; see notes)':>40}")
            continue
        df = f"{int(row['df_constraint'])}"
        if stat == "F":
            df += f", {int(row['df_denom'])}"
        lines.append(f"{label:<{width}}{_fmt(float(row['statistic']), 11)}{df:>11}"
                     f"{float(row['pvalue']):>9.3f}")
    lines.append("=" * rule)
    return lines


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, subsequent_indent="    ")


def results_html(result) -> str:
    """An HTML table of a RegressionResults (what ``_repr_html_`` shows in a notebook)."""
    from ..report.html import escape, table

    stat = "t" if result.use_t else "z"
    ci = np.asarray(result.conf_int())
    columns = [np.asarray(v) for v in (result.params, result.bse, result.tvalues,
                                       result.pvalues)]
    rows = [[name, f"{c:.6g}", f"{s:.4g}", f"{tv:.3f}", f"{p:.3g}", f"{lo:.6g}", f"{hi:.6g}"]
            for name, c, s, tv, p, (lo, hi) in zip(result.param_names, *columns, ci)]
    coef = table(["term", "coef", "std err", stat, f"P>|{stat}|", "[0.025", "0.975]"], rows,
                 table_id="coefficients")
    def count(x) -> str:          # 2,000,000 rather than 2e+06
        return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"

    fit = [["observations", count(result.nobs)], ["R²", f"{result.rsquared:.6g}"],
           ["adjusted R²", f"{result.rsquared_adj:.6g}"],
           ["F statistic", f"{result.fvalue:.6g}"], ["P(F)", f"{result.f_pvalue:.3g}"],
           ["residual std. error σ", f"{np.sqrt(result.scale):.6g}"],
           ["df (model, residual)", f"{count(result.df_model)}, {count(result.df_resid)}"],
           ["log-likelihood", f"{result.llf:.6g}"], ["AIC", f"{result.aic:.6g}"],
           ["BIC", f"{result.bic:.6g}"], ["condition number", f"{result.condition_number:.4g}"],
           ["covariance", str(result.cov_type)]]
    return (f"<div><strong>OLS results: {escape(result.target_name)}</strong>"
            f"{table(['statistic', 'value'], fit, table_id='fit-statistics')}{coef}</div>")
