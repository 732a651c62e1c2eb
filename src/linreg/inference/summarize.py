"""Assembly: the summary of a fitted model (:func:`summarize`) and its prediction intervals
from the statistics alone (:func:`prediction_interval`).

:func:`summarize` takes the bread from the statistics (:mod:`.factor`), the residuals'
totals from one pass over the rows (:mod:`.residual_pass`), the tests from
:mod:`.diagnostics`, and puts each target's numbers in a
:class:`~linreg.inference.RegressionResults`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.stats

from ..exceptions import MessageBuilder, PenalizedInferenceError
from ..stats import SufficientStats
from ..validation import check_choice, name_list
from .diagnostics import (
    durbin_watson_statistic,
    f_test,
    jarque_bera_test,
    omnibus_test,
    ssr_from_stats,
)
from .factor import GramFactor
from .residual_pass import (
    check_same_data,
    partition_fitted,
    partition_leverage,
    residual_pass,
)
from .results import (
    LazyRowValues,
    MultiOutputResults,
    RegressionResults,
    check_interval,
    two_sided_pvalues,
)
from .robust import CovOptions, canonical_labels, check_cov_options, robust_meats
from .table import CONDITION_WARNING
from .terms import parameter_names

__all__ = ["COV_TYPES", "summarize", "prediction_interval", "check_inference_allowed",
           "target_names_of"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC")


def _explicit_constant(stats: SufficientStats) -> int | None:
    """Index of a column of X that is constant and non-zero (a user-added constant), or None."""
    var = np.diag(stats.gram) / stats.weight_sum
    mean = stats.mean_x
    const = np.flatnonzero((var <= (1e-13 * mean) ** 2) & (mean != 0))
    return int(const[0]) if const.size else None


def _coefficients(model):
    coef = np.asarray(model.coef_, dtype=np.float64)
    coef = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T          # (d, k)
    k = coef.shape[1]
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(-1)
    if intercept.size == 1 and k > 1:
        intercept = np.repeat(intercept, k)
    if not model.fit_intercept:
        intercept = np.zeros(k)
    return coef, intercept


def target_names_of(y) -> list[str] | None:
    """The names a target carries: a pandas, polars (or dask) Series' ``name``, a DataFrame's
    columns; None for arrays and for names that are not all strings (as scikit-learn treats
    ``feature_names_in_``)."""
    columns = getattr(y, "columns", None)
    if columns is not None:
        names = list(columns)
    elif len(getattr(y, "shape", ())) == 1 and hasattr(y, "name"):
        names = [y.name]
    else:
        return None
    return names if names and all(isinstance(n, str) for n in names) else None


def _recorded_target_names(model, k: int) -> list[str] | None:
    """The target name(s) a model records in its ``metadata_`` (a saved model's file), if
    there are ``k`` of them."""
    recorded = (getattr(model, "metadata_", None) or {}).get("target_name")
    if recorded is None:
        return None
    names = name_list(recorded)
    return names if len(names) == k else None


def check_inference_allowed(model) -> None:
    """Refuse OLS inference for a penalized or sign-constrained fit."""
    alpha = getattr(model, "alpha", 0.0)
    alpha = 0.0 if alpha is None else alpha
    if getattr(model, "positive", False):
        raise PenalizedInferenceError(
            "this model was fitted with positive=True (coefficients constrained to be >= 0). "
            "Standard errors, t-values and p-values of ordinary least squares do not hold for "
            "a constrained fit, so linreg does not print them. Refit with positive=False to "
            "get a summary.")
    if np.any(np.asarray(alpha, dtype=np.float64) > 0):
        m = MessageBuilder()
        raise PenalizedInferenceError(
            f"this model was fitted with {m.setting('alpha', alpha)} (an L2 penalty). Standard "
            "errors, t-values and p-values of ordinary least squares do not hold for a "
            f"penalized fit, so linreg does not print them. Refit with {m.setting('alpha', 0)} "
            "to get a summary.", parameters=m.parameters)


def _checked_options(options: CovOptions, stats: SufficientStats, dropped: int = 0) -> None:
    """What the options can be checked against once the rows are known: the lags against
    the number of rows, label arrays against their length (and every label).  ``dropped``:
    rows of a table left out for a missing value, whose labels an array still holds (it is
    aligned with the table)."""
    n = stats.n_rows
    if options.cov_type == "HAC" and options.maxlags >= n:
        raise ValueError(f"maxlags={options.maxlags} must be less than the number of rows "
                         f"({n}): there are no products of rows {options.maxlags} apart")
    for name, g in zip(options.group_names, options.groups, strict=True):
        if isinstance(g, str):
            continue
        if g.shape[0] != n + dropped:
            table = f" (and {dropped} left out for a missing value)" if dropped else ""
            raise ValueError(f"{name} has {g.shape[0]} labels, but the model was fitted on "
                             f"{n} rows{table}: give one cluster label a row, in the rows' "
                             "order")
        if not dropped:
            canonical_labels(g, name)        # a missing label, named by its row


def summarize(model, rows, stats: SufficientStats, cov_type: str = "nonrobust",
              keep_rows: bool = True, target_names=None, use_t: bool | None = None,
              groups=None, maxlags=None, kernel=None, use_correction=None,
              df_correction=None):
    """Inference for a fitted least-squares ``model`` from ``stats`` plus one pass over ``blocks``.

    Parameters
    ----------
    model : fitted estimator
        Needs ``coef_``, ``intercept_``, ``fit_intercept`` (and ``alpha``, which must be 0);
        optionally ``feature_names_in_``, ``solver_``, ``n_iter_``, ``grad_norm_history_``,
        and — a fit from a formula or a table with categorical columns — ``coef_names_`` (the
        name of each column of ``coef_``) and ``terms_`` (``{term: slice of coef_
        columns}``), checked (:mod:`.terms`).
    rows : linreg.rows.Rows
        The training rows, wherever they live.  The pass asks them to run each block's part
        where the block is (:meth:`~linreg.rows.Rows.map_blocks`: threads in memory, workers
        on Dask) and merges the blocks' totals in row order (sums, moments, HC meat, each
        block's first and last weighted residual for Durbin–Watson; ``O(d² k)`` numbers), with
        ``keep_rows`` its per-row leverage and weighted residuals.  For an ill-conditioned
        design (``κ(S) > 1e6``) the bread is taken from their TSQR factor
        (:meth:`~linreg.rows.Rows.qr_factor`, one more pass) instead of the statistics, which
        keeps standard errors accurate to about ``√κ(S)·ε`` instead of ``κ(S)·ε``.
    stats : SufficientStats
        The statistics of the same rows (checked during the pass).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC"}
        See :mod:`.robust` for "cluster" and "HAC".
    keep_rows : bool
        Keep leverage, residuals and fitted values per row (for influence measures and
        ``resid``/``fittedvalues``: 24 bytes a row and target, 32 with weights).
    target_names : list of str, optional
        The targets' names, for the tables.  Default: the ``target_name`` recorded in the
        model's ``metadata_`` (as a model fitted by ``linreg fit`` has), else ``"y"`` (one
        target) or ``"y0"``, ``"y1"``, … .
    use_t : bool, optional
        Student's t (True) or normal (False) reference distribution for the coefficient tests
        and intervals.  Default as statsmodels: t for "nonrobust", normal for the robust
        (large-sample) covariances.  Cluster-robust t (and every F test) uses ``G − 1``
        degrees of freedom (``G`` clusters; the fewer of two-way) unless ``df_correction``
        is False.
    groups : array, column name, or a pair of them
        "cluster": the cluster of each row — an array aligned with the rows (one label a
        row: numbers or text), or for a file source or a Dask DataFrame a column name; two
        of them (a tuple, or an (n, 2) array) for two-way clustering.  The pass keeps one
        score sum per cluster: memory grows with the number of clusters × ``d × k``.
    maxlags : int
        "HAC": the number of lags (>= 0, < n); the rows are taken in the order given.
    kernel : {"bartlett", "uniform"}, default "bartlett"
        "HAC": the lag weights.
    use_correction : bool
        The small-sample factor: for "cluster" ``G/(G − 1)·(n − 1)/(n − p)`` (default True),
        for "HAC" ``n/(n − p)`` (default False), as statsmodels.
    df_correction : bool, default True
        "cluster": t and F with ``G − 1`` degrees of freedom (statsmodels' ``df_correction``).
    Returns
    -------
    RegressionResults, or MultiOutputResults when the model has several targets.
    """
    check_choice("cov_type", cov_type, COV_TYPES)
    options = check_cov_options(cov_type, groups, maxlags, kernel, use_correction, df_correction)
    check_inference_allowed(model)
    if use_t is not None and not isinstance(use_t, (bool, np.bool_)):
        raise ValueError(f"use_t={use_t!r} must be True, False or None (statsmodels' default)")
    use_t = (cov_type == "nonrobust") if use_t is None else bool(use_t)
    coef, intercept = _coefficients(model)
    d, k = coef.shape
    if stats.n_features != d or stats.n_targets != k:
        raise ValueError(f"the statistics describe {stats.n_features} features and "
                         f"{stats.n_targets} targets, but the model has {d} and {k}")
    _checked_options(options, stats, getattr(rows, "n_dropped", 0))
    fit_intercept = bool(model.fit_intercept)
    factor = GramFactor(stats, fit_intercept)
    if factor.ill_conditioned():
        # each block's factor computed where it lives, merged in order (TSQR)
        factor.use_row_factor(rows.qr_factor(factor.design()))
    # leverage is needed by HC2/HC3; otherwise it is left to a pass on first use (it costs
    # as much as the rest of the summary)
    lazy = keep_rows and cov_type not in ("HC2", "HC3")
    totals = residual_pass(rows, coef, intercept, factor, cov_type, keep_rows,
                           need_leverage=keep_rows and not lazy, options=options)
    if lazy and totals.leverage is None:
        def again():
            parts = rows.map_blocks(functools.partial(partition_leverage, factor=factor))
            return np.concatenate(parts) if parts else np.zeros(0)
        totals.leverage = LazyRowValues(again, totals.n_rows)
    check_same_data(totals, stats, factor)

    def residuals_and_fitted():
        parts = rows.map_blocks(functools.partial(partition_fitted, coef=coef,
                                                  intercept=intercept))
        return np.concatenate(parts) if parts else np.zeros((0, 2 * k))
    fitted = LazyRowValues(residuals_and_fitted, totals.n_rows)

    param_names, labelled, term_slices = parameter_names(model, d, fit_intercept)
    feature_names = list(param_names[int(fit_intercept):])
    labelled = labelled and _pandas_available()
    if target_names is None:
        target_names = _recorded_target_names(model, k)
    if target_names is None:
        target_names = ["y"] if k == 1 else [f"y{j}" for j in range(k)]
    target_names = name_list(target_names)
    if len(target_names) != k:
        raise ValueError(f"target_names={target_names!r} names {len(target_names)} target(s), "
                         f"but the model has {k}")

    nobs = totals.n_rows
    rank = factor.rank
    unidentified = factor.unidentified()
    const_idx = None
    implicit_constant = False
    if fit_intercept:
        k_constant = 1
    else:
        # statsmodels' k_constant: a constant column, or columns that add up to one
        const_idx = _explicit_constant(stats)
        implicit_constant = const_idx is None and factor.spans_constant()
        k_constant = 0 if const_idx is None and not implicit_constant else 1
    df_resid = nobs - rank
    df_model = rank - k_constant
    sv = factor.singular_values()
    cond = float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else float("inf")
    min_eig = float(sv[-1] ** 2) if sv.size else float("nan")
    # needed only to word the collinearity note
    scaled_cond = (factor.scaled_condition_number()
                   if cond > CONDITION_WARNING or min_eig < 1e-10 else float("nan"))
    M = factor.theta_from_phi() @ factor.phi_transform()     # Cov θ = M Ω Mᵀ

    # the exact least-squares solution from the same statistics, to say how far the fit is
    if fit_intercept:
        w_star = factor.solve(np.asarray(stats.cross))
        b_star = stats.mean_y - stats.mean_x @ w_star
    else:
        w_star = factor.solve(stats.cross + stats.weight_sum * np.outer(stats.mean_x, stats.mean_y))
        b_star = np.zeros(k)

    n_mom, _, m2, m3, m4 = totals.moments
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (m3 / n_mom) / (m2 / n_mom) ** 1.5
        kurt = (m4 / n_mom) / (m2 / n_mom) ** 2
    jb, jb_p = jarque_bera_test(nobs, skew, kurt)
    omni, omni_p = omnibus_test(nobs, skew, kurt)
    dw = durbin_watson_statistic(totals.dw_num, totals.ssr)
    fit_info = _fit_info(model)
    meats, n_groups = None, ()
    df_inference = df_resid
    if cov_type in ("cluster", "HAC"):
        meats, n_groups = robust_meats(options, totals, nobs, d + int(fit_intercept))
        if n_groups and options.df_correction:
            df_inference = min(n_groups) - 1
    cov_kwds = {"groups": options.group_names, "n_groups": n_groups,
                "maxlags": options.maxlags, "kernel": options.kernel,
                "use_correction": options.use_correction,
                "df_correction": options.df_correction} if meats is not None else {}

    results = []
    for j in range(k):
        params = np.concatenate([[intercept[j]] if fit_intercept else [], coef[:, j]])
        # numpy scalars: a zero denominator (no residual degrees of freedom, a constant
        # target) gives inf/nan, which the table reports, instead of raising
        ssr = np.float64(totals.ssr[j])
        dfr = np.float64(df_resid)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = ssr / dfr if df_resid > 0 else np.float64("nan")
            if cov_type == "nonrobust":
                cov = scale * (M @ M.T)
            elif meats is not None:
                cov = M @ meats[j] @ M.T
            else:
                cov = M @ totals.meat[j] @ M.T
                if cov_type == "HC1":
                    cov = cov * (nobs / dfr)
        cov[unidentified, :] = np.nan
        cov[:, unidentified] = np.nan
        if df_resid <= 0:
            cov[:] = np.nan           # no residual degrees of freedom: nothing is estimable
        with np.errstate(invalid="ignore", divide="ignore"):
            bse = np.sqrt(np.diag(cov))
            tvalues = params / bse
        pvalues = two_sided_pvalues(tvalues, df_inference, use_t)
        # sums of squares: centred TSS from the centred statistics, exact
        q = np.float64(stats.target_comoment[j, j])
        tss = q if k_constant else q + stats.weight_sum * float(stats.mean_y[j]) ** 2
        ess = tss - ssr
        with np.errstate(divide="ignore", invalid="ignore"):
            rsquared = 1.0 - ssr / tss
            rsquared_adj = 1.0 - (nobs - k_constant) / dfr * (1.0 - rsquared)
        omega = None
        if meats is not None:
            omega = meats[j]
        elif cov_type != "nonrobust":
            with np.errstate(divide="ignore"):
                omega = totals.meat[j] * (nobs / dfr if cov_type == "HC1" else 1.0)
        if implicit_constant and cov_type != "nonrobust":
            # no coefficient is "the constant" to leave out of the Wald test (statsmodels: nan)
            fvalue, f_pvalue, f_df = float("nan"), float("nan"), (df_model, df_inference)
        else:
            fvalue, f_pvalue, f_df = f_test(cov_type, params, cov, ess, ssr, df_model,
                                            df_resid, fit_intercept, const_idx, unidentified,
                                            factor, omega, df_inference)
        llf = (-0.5 * nobs * (1.0 + math.log(2.0 * math.pi * ssr / nobs))
               + 0.5 * totals.log_weight_sum) if ssr > 0 and nobs > 0 else float("inf")
        n_par = df_model + k_constant
        aic = -2.0 * llf + 2.0 * n_par
        bic = -2.0 * llf + math.log(nobs) * n_par

        # distance from the exact optimum: J(θ) − J(θ*) = ½ δᵀ(XᵀSX)δ / n_w, exactly
        delta_w = coef[:, j] - w_star[:, j]
        delta_b = intercept[j] - b_star[j]
        if fit_intercept:
            at_mean = delta_b + stats.mean_x @ delta_w
            excess = float(stats.weight_sum * at_mean**2 + delta_w @ stats.gram @ delta_w)
        else:
            excess = float(delta_w @ factor.gram @ delta_w)
        ssr_star = ssr - excess
        delta = np.concatenate([[delta_b] if fit_intercept else [], delta_w])
        with np.errstate(divide="ignore", invalid="ignore"):
            in_se = np.abs(delta[~unidentified]) / bse[~unidentified]
            in_se = in_se[~np.isnan(in_se)]
            distance_se = float(np.max(in_se)) if in_se.size else float("nan")
            # relative to the optimal loss; to the total sum of squares for a (near) exact fit
            denom = ssr_star if ssr_star > 1e-10 * tss else tss
            loss_gap = float(excess / denom) if denom > 0 else (0.0 if excess == 0 else float("inf"))

        leverage = totals.leverage
        wresid = None if totals.wresid is None else totals.wresid[:, j]
        results.append(RegressionResults(
            target_name=target_names[j], param_names=param_names, feature_names=tuple(feature_names),
            labelled=labelled, term_slices=term_slices, sufficient_stats=stats, target_index=j,
            _params=params, _bse=bse, _tvalues=tvalues, _pvalues=pvalues, _cov=cov,
            identified=~unidentified, cov_type=cov_type, use_t=use_t, nobs=nobs, rank=rank,
            df_resid=df_resid, df_resid_inference=df_inference, cov_kwds=dict(cov_kwds),
            df_model=df_model, k_constant=k_constant,
            k_intercept=int(fit_intercept), const_idx=const_idx,
            weighted=stats.weight_sum != stats.n_rows or totals.log_weight_sum != 0.0,
            ssr=ssr, ess=ess, tss=tss, scale=scale, mse_resid=scale,
            rsquared=float(rsquared), rsquared_adj=float(rsquared_adj),
            fvalue=fvalue, f_pvalue=f_pvalue, f_df=f_df, llf=llf, aic=aic, bic=bic,
            condition_number=cond, min_eigenvalue=min_eig, scaled_condition_number=scaled_cond,
            durbin_watson=float(dw[j]), jarque_bera=float(jb[j]), jarque_bera_pvalue=float(jb_p[j]),
            omnibus=float(omni[j]), omnibus_pvalue=float(omni_p[j]), skew=float(skew[j]),
            kurtosis=float(kurt[j]), distance_in_se=distance_se, relative_loss_gap=loss_gap,
            fit_info=fit_info, _leverage=leverage, _wresid=wresid, _fitted=fitted,
            _n_targets=k, n_dropped=int(getattr(rows, "n_dropped", 0) or 0),
        ))
    return results[0] if k == 1 else MultiOutputResults(results)


def _pandas_available() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _fit_info(model) -> dict:
    solver = getattr(model, "solver_", None)
    n_iter = getattr(model, "n_iter_", None)
    norms = getattr(model, "grad_norm_history_", None)
    grad = rel = None
    if norms is not None and len(norms):
        grad = float(norms[-1])
        if len(norms) > 1 and norms[0] > 0:
            rel = float(norms[-1] / norms[0])
    return {"solver": solver, "n_iter": None if n_iter is None else int(n_iter),
            "grad_norm": grad, "relative_grad_norm": rel,
            "stop_reason": getattr(model, "stop_reason_", None)}


def prediction_interval(model, stats: SufficientStats, X, interval: str, level: float = 0.95):
    """``(ŷ, lower, upper)`` for a fitted model from its statistics alone (nonrobust).

    ``σ² = SSR/(n − p)`` with SSR at the fitted coefficients from :func:`ssr_from_stats`,
    ``V = σ²(XᵀSX)⁻¹``; confidence: ``ŷ ± t√(xᵀVx)``, prediction: ``ŷ ± t√(xᵀVx + σ²)``,
    ``t = t_{(1+level)/2, n−p}``.  ``X`` is a validated float array (n, d), dense or
    ``scipy.sparse`` (never made dense).
    """
    level = check_interval(interval, level)
    check_inference_allowed(model)
    coef, intercept = _coefficients(model)
    factor = GramFactor(stats, bool(model.fit_intercept))
    if factor.rank < factor.n_features + factor.fit_intercept:
        raise ValueError("intervals need every coefficient identified, but the training design "
                         f"is rank-deficient (rank {factor.rank} < "
                         f"{factor.n_features + factor.fit_intercept} parameters)")
    df_resid = stats.n_rows - factor.rank
    if df_resid <= 0:
        raise ValueError(f"intervals need more observations ({stats.n_rows}) than "
                         f"parameters ({factor.rank})")
    scale = ssr_from_stats(stats, coef, intercept) / df_resid          # (k,)
    if hasattr(X, "tocsr"):
        # sparse rows stay sparse: one sparse product each, the centring applied after
        X = X.tocsr().astype(np.float64)
        yhat = np.asarray(X @ coef) + intercept
        W = factor.whiten_sparse(X)
    else:
        X = np.asarray(X, dtype=np.float64)
        yhat = X @ coef + intercept
        # xᵀBx = ‖T_φᵀ J x‖²: centre the rows (J x = [1, x − x̄]) and whiten them
        W = factor.whiten(X - factor.shift)
    base = np.einsum("ij,ij->i", W, W)[:, None]
    var = base * scale
    if interval == "prediction":
        var = var + scale
    half = scipy.stats.t.ppf(0.5 + level / 2.0, df_resid) * np.sqrt(var)
    return yhat, yhat - half, yhat + half

