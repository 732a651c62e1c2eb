"""Statistical inference: every number against statsmodels (OLS/WLS, HC0–HC3), scipy and numpy."""

from __future__ import annotations

import sys
import warnings
import zlib

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import OLSInfluence
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest

import linreg
from linreg import LinearRegression
from linreg.rows import MemoryRows, Rows
from linreg.inference import (MultiOutputResults, RegressionResults, omnibus_test,
                              summarize)

RTOL = 1e-8
COV_TYPES = ["nonrobust", "HC0", "HC1", "HC2", "HC3"]


def close(actual, expected, rtol=RTOL, what=""):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    missing = np.isnan(expected)                   # NaN must be matched by NaN (undefined)
    assert np.array_equal(np.isnan(actual), missing), f"{what}: NaN where not expected: {actual}"
    actual, expected = actual[~missing], expected[~missing]
    scale = np.maximum(np.abs(expected), np.finfo(float).tiny)
    err = np.max(np.abs(actual - expected) / scale) if actual.size else 0.0
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol:g}"


def close_covariance(actual, expected, rtol=RTOL):
    """Covariances compared on the scale that gives them meaning: |ΔV_ij| ≤ rtol·√(V_ii V_jj),
    i.e. the correlations to rtol absolute and the variances to rtol relative.

    On collinear designs an off-diagonal entry can be 1e-9 of its row's scale; statsmodels'
    pinv then gets it to only ~1e-7 relative (exact arithmetic shows linreg's to ~1e-9), so an
    element-wise test would test statsmodels. The exact test below checks linreg element-wise."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, ("cov_params", actual.shape, expected.shape)
    d = np.sqrt(np.abs(np.diag(expected)))
    err = np.max(np.abs(actual - expected) / np.maximum(np.outer(d, d), np.finfo(float).tiny))
    assert err <= rtol, f"cov_params: error {err:.3g} of √(V_ii V_jj) > {rtol:g}"


def close_interval(actual, expected, rtol=RTOL, what="interval"):
    """Interval bounds θ ± t·se to rtol of |bound| + half-width: a bound that happens to lie
    near zero is a difference of two numbers each known to rtol, not a number known to rtol."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    half = (expected[..., 1] - expected[..., 0])[..., None] / 2
    err = np.max(np.abs(actual - expected) / (np.abs(expected) + half))
    assert err <= rtol, f"{what}: error {err:.3g} of |bound| + half-width > {rtol:g}"


# ------------------------------------------------------------------------------ datasets
def _data(name):
    # a seed that is the same in every process (str hash is salted per process)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n = 160
    X = rng.standard_normal((n, 4)) + np.array([0.0, 1.0, -2.0, 0.5])
    noise = rng.standard_normal(n) * (0.5 + np.abs(X[:, 0]))          # heteroscedastic
    y = X @ np.array([1.5, -2.0, 0.3, 0.0]) + 3.0 + noise
    w, fit_intercept = None, True
    if name == "weighted":
        w = rng.uniform(0.2, 3.0, n)
    elif name == "no_intercept":
        fit_intercept = False
    elif name == "no_intercept_constant_column":
        # the user added the constant column themselves (statsmodels' k_constant = 1)
        X = np.column_stack([np.full(n, 2.0), X])
        fit_intercept = False
    elif name == "no_intercept_dummies":
        # one-hot columns add up to one: statsmodels' implicit constant (k_constant = 1)
        group = np.arange(n) % 3
        X = np.column_stack([X[:, :2], np.eye(3)[group]])
        y = X[:, 0] - X[:, 1] + group + noise
        fit_intercept = False
    elif name == "weighted_no_intercept":
        w = rng.uniform(0.5, 2.0, n)
        fit_intercept = False
    elif name == "collinear":
        # two features nearly a linear combination of the others (κ of the scaled design ~ 300)
        X = np.column_stack([X, X[:, 0] - X[:, 1] + 0.01 * rng.standard_normal(n)])
        y = y + X[:, 4]
    elif name == "strongly_collinear":
        # κ of the scaled design ~ 3000: the statistics alone would lose ~7 digits in the
        # covariance; the summary then re-reads the rows for a QR factor
        X = np.column_stack([X, X[:, 0] - X[:, 1] + 1e-3 * rng.standard_normal(n)])
        y = y + X[:, 4]
    return X, y, w, fit_intercept


DATASETS = ["ols", "weighted", "no_intercept", "no_intercept_constant_column",
            "no_intercept_dummies",
            "weighted_no_intercept", "collinear", "strongly_collinear"]


def _statsmodels(X, y, w, fit_intercept, cov_type="nonrobust"):
    exog = sm.add_constant(X, has_constant="add") if fit_intercept else X
    model = sm.OLS(y, exog) if w is None else sm.WLS(y, exog, weights=w)
    return model.fit(cov_type=cov_type), exog


def _compare(r, s, rtol=RTOL, cond_rtol=RTOL, f_pvalue_digits=None, f_rtol=None):
    close(r.params, s.params, rtol, "params")
    close(r.bse, s.bse, rtol, "bse")
    close(r.tvalues, s.tvalues, rtol, "tvalues")
    close(r.pvalues, s.pvalues, rtol, "pvalues")
    close_covariance(r.cov_params(), s.cov_params(), rtol)
    close_interval(r.conf_int(), s.conf_int(), rtol, "conf_int")
    close_interval(r.conf_int(0.1), s.conf_int(0.1), rtol, "conf_int(0.1)")
    for name in ("rsquared", "rsquared_adj", "fvalue", "llf", "aic", "bic", "ssr", "ess",
                 "scale"):
        # f_rtol: where statsmodels' own F is known (by exact arithmetic) to be less accurate
        tol = f_rtol if name == "fvalue" and f_rtol is not None else rtol
        close(getattr(r, name), getattr(s, name), tol, name)
    if f_pvalue_digits is None:
        close(r.f_pvalue, s.f_pvalue, rtol, "f_pvalue")
    else:
        # a p-value of 1e-69 moves by ~30× the relative change of F: compare its logarithm
        close(np.log(r.f_pvalue), np.log(s.f_pvalue), f_pvalue_digits, "log f_pvalue")
    close(r.condition_number, s.condition_number, cond_rtol, "condition_number")
    assert r.nobs == s.nobs
    assert r.df_resid == s.df_resid
    assert r.df_model == s.df_model
    assert r.k_constant == s.k_constant
    assert r.use_t == s.use_t


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_number_matches_statsmodels(dataset, cov_type):
    X, y, w, fit_intercept = _data(dataset)
    model = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    r = model.summary(cov_type)
    s, _ = _statsmodels(X, y, w, fit_intercept, cov_type)
    # strongly collinear: statsmodels' robust F is itself off by ~1e-10 (see the exact test
    # below), which moves its tiny p-value by ~3e-8 relative
    _compare(r, s, f_pvalue_digits=1e-8 if dataset == "strongly_collinear" else None)


def test_robust_f_and_standard_errors_exact_on_collinear_data():
    """HC0 covariance and Wald F of the strongly collinear design in exact rational arithmetic."""
    from fractions import Fraction
    from exact import solve_exact
    X, y, _, _ = _data("strongly_collinear")
    X, y = X[:50], y[:50]
    model = LinearRegression().fit(X, y)
    r = model.summary("HC0")
    rows = [[Fraction(1)] + [Fraction(float(v)) for v in row] for row in X]
    yf = [Fraction(float(v)) for v in y]
    n, p = len(rows), len(rows[0])
    A = [[sum(rw[a] * rw[b] for rw in rows) for b in range(p)] for a in range(p)]
    theta = solve_exact(A, [sum(rw[a] * yi for rw, yi in zip(rows, yf)) for a in range(p)])
    # residuals at linreg's own coefficients (the statistics are evaluated there)
    fitted = [Fraction(float(v)) for v in r.params]
    res = [yi - sum(c * x for c, x in zip(fitted, rw)) for rw, yi in zip(rows, yf)]
    meat = [[sum(e * e * rw[a] * rw[b] for rw, e in zip(rows, res)) for b in range(p)]
            for a in range(p)]
    B = [solve_exact(A, [Fraction(int(i == j)) for i in range(p)]) for j in range(p)]   # columns
    BM = [[sum(B[k][a] * meat[k][b] for k in range(p)) for b in range(p)] for a in range(p)]
    V = [[sum(BM[a][k] * B[b][k] for k in range(p)) for b in range(p)] for a in range(p)]
    close(r.bse, [float(V[a][a]) ** 0.5 for a in range(p)], 1e-10, "exact HC0 bse")
    close(r.cov_params(), [[float(v) for v in row] for row in V], 1e-8, "exact HC0 cov element-wise")
    Vs = [row[1:] for row in V[1:]]
    z = solve_exact(Vs, fitted[1:])
    F = sum(t * zi for t, zi in zip(fitted[1:], z)) / (p - 1)
    close(r.fvalue, float(F), 1e-10, "exact robust F")
    close(r.f_pvalue, scipy.stats.f.sf(float(F), p - 1, n - p), 1e-8, "f_pvalue")
    close(r.params, [float(t) for t in theta], 1e-9, "params vs exact")


def compare_residual_diagnostics(r, s):
    """Durbin–Watson, Jarque–Bera, omnibus and the weighted residuals of ``r`` against those
    statsmodels computes from its results ``s``."""
    close(r.durbin_watson, durbin_watson(s.wresid), what="durbin_watson")
    jb, jbp, skew, kurt = jarque_bera(s.wresid)
    close([r.jarque_bera, r.jarque_bera_pvalue, r.skew, r.kurtosis], [jb, jbp, skew, kurt],
          what="jarque_bera")
    close([r.omnibus, r.omnibus_pvalue], omni_normtest(s.wresid), what="omnibus")
    close(r.wresid, s.wresid, 1e-7, "weighted residuals")
    # statsmodels' names: resid = y − ŷ (unweighted), fittedvalues = ŷ, resid_pearson
    close(r.resid, s.resid, 1e-7, "residuals")
    close(r.fittedvalues, s.fittedvalues, 1e-10, "fitted values")
    close(r.resid_pearson, s.resid_pearson, 1e-7, "Pearson residuals")


@pytest.mark.parametrize("dataset", ["ols", "weighted", "no_intercept"])
def test_residual_diagnostics_match_statsmodels(dataset):
    X, y, w, fit_intercept = _data(dataset)
    r = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w).summary()
    s, _ = _statsmodels(X, y, w, fit_intercept)
    compare_residual_diagnostics(r, s)


def test_offsets_and_scales_far_apart():
    """Raw condition number ~1e12 (huge offsets, scales 1e-3..1e4): statsmodels' own pinv of the
    raw design loses digits here, so the trusted reference is statsmodels on an exactly
    equivalent well-scaled design ``X' = (X − c)/s``, mapped back: θ = A θ', Cov = A Cov' Aᵀ."""
    rng = np.random.default_rng(7)
    n = 200
    Z = rng.standard_normal((n, 3))
    c, sc = np.array([1e4, -50.0, 3e5]), np.array([1e-3, 1.0, 1e4])
    X = Z * sc + c
    y = Z @ np.array([1.0, 2.0, 1.0]) + 7.0 + rng.standard_normal(n) * (1 + np.abs(Z[:, 0]))
    model = LinearRegression().fit(X, y)
    Xs = (X - c) / sc                                    # well conditioned (≈ Z)
    # θ = A θ' for [b, w] with b = b' − Σ c_j w'_j / s_j, w = w'/s
    A = np.zeros((4, 4))
    A[0, 0] = 1.0
    A[0, 1:] = -c / sc
    A[1:, 1:] = np.diag(1.0 / sc)
    raw, _ = _statsmodels(X, y, None, True)
    assert raw.condition_number > 1e11
    for cov_type in COV_TYPES:
        r = model.summary(cov_type)
        s, _ = _statsmodels(Xs, y, None, True, cov_type)
        close(r.params, A @ s.params, 1e-8, "params")
        cov = A @ s.cov_params() @ A.T
        # entries relative to √(V_ii V_jj): off-diagonal ones come from cancellation here, so
        # they are only determined to that scale (on both sides)
        sd = np.sqrt(np.diag(cov))
        err = np.max(np.abs(r.cov_params() - cov) / np.outer(sd, sd))
        assert err <= 1e-8, f"cov: error {err:.3g} of √(V_ii V_jj)"
        close(r.bse, np.sqrt(np.diag(cov)), 1e-8, "bse")
        t = A @ s.params / np.sqrt(np.diag(cov))
        dist = scipy.stats.t(r.df_resid) if r.use_t else scipy.stats.norm()
        close(r.pvalues, 2 * dist.sf(np.abs(t)), 1e-8, "pvalues")
        for name in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue", "llf", "aic", "bic"):
            close(getattr(r, name), getattr(s, name), 1e-8, name)
    # the condition number is of the raw design: statsmodels' SVD of it is the reference
    close(r.condition_number, raw.condition_number, 1e-6, "condition_number")
    assert "condition number is large" in str(r)
    assert "units" in str(r)       # centred and scaled, the design is fine: not collinearity


# ------------------------------------------------------------------------------ intervals
@pytest.mark.parametrize("dataset", ["ols", "weighted", "no_intercept"])
@pytest.mark.parametrize("level", [0.95, 0.8])
def test_predict_intervals_match_get_prediction(dataset, level):
    X, y, w, fit_intercept = _data(dataset)
    model = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    s, exog = _statsmodels(X, y, w, fit_intercept)
    Xnew = X[:25] * 1.3 + 0.2
    exog_new = sm.add_constant(Xnew, has_constant="add") if fit_intercept else Xnew
    frame = s.get_prediction(exog_new).summary_frame(alpha=1 - level)
    yhat, lo, hi = model.predict(Xnew, interval="confidence", level=level)
    close(yhat, frame["mean"], what="mean")
    close(lo, frame["mean_ci_lower"], what="mean_ci_lower")
    close(hi, frame["mean_ci_upper"], what="mean_ci_upper")
    yhat, lo, hi = model.predict(Xnew, interval="prediction", level=level)
    close(lo, frame["obs_ci_lower"], what="obs_ci_lower")
    close(hi, frame["obs_ci_upper"], what="obs_ci_upper")
    close(model.predict(Xnew), frame["mean"], what="plain predict unchanged")


def test_robust_result_intervals_match_get_prediction():
    X, y, w, _ = _data("weighted")
    model = LinearRegression().fit(X, y, sample_weight=w)
    s, exog = _statsmodels(X, y, w, True, "HC3")
    frame = s.get_prediction(exog[:30]).summary_frame(alpha=0.1)
    yhat, lo, hi = model.summary("HC3").predict(X[:30], interval="confidence", level=0.9)
    close(lo, frame["mean_ci_lower"], what="mean_ci_lower")
    close(hi, frame["mean_ci_upper"], what="mean_ci_upper")
    yhat, lo, hi = model.summary("HC3").predict(X[:30], interval="prediction", level=0.9)
    close(lo, frame["obs_ci_lower"], what="obs_ci_lower")
    close(hi, frame["obs_ci_upper"], what="obs_ci_upper")


@pytest.mark.parametrize("dataset", ["weighted", "no_intercept"])
def test_sparse_rows_intervals_match_get_prediction(dataset):
    """scipy.sparse rows (fit and the rows predicted), nonrobust and HC3: statsmodels on the
    same values dense."""
    import scipy.sparse as sp
    X, y, w, fit_intercept = _data(dataset)
    X = np.where(np.random.default_rng(4).random(X.shape) < 0.4, 0.0, X)
    model = LinearRegression(fit_intercept=fit_intercept).fit(sp.csr_matrix(X), y,
                                                              sample_weight=w)
    Xnew = X[:25] * 1.3
    exog_new = sm.add_constant(Xnew, has_constant="add") if fit_intercept else Xnew
    for cov in ("nonrobust", "HC3"):
        s, _ = _statsmodels(X, y, w, fit_intercept, *(() if cov == "nonrobust" else (cov,)))
        frame = s.get_prediction(exog_new).summary_frame(alpha=0.1)
        predict = model.predict if cov == "nonrobust" else model.summary(cov).predict
        for interval, lower, upper in [("confidence", "mean_ci_lower", "mean_ci_upper"),
                                       ("prediction", "obs_ci_lower", "obs_ci_upper")]:
            yhat, lo, hi = predict(sp.csc_matrix(Xnew), interval=interval, level=0.9)
            close(yhat, frame["mean"], what="mean")
            close(lo, frame[lower], what=f"{cov} {lower}")
            close(hi, frame[upper], what=f"{cov} {upper}")


def test_interval_arguments_are_checked():
    X, y, _, _ = _data("ols")
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="interval='both' is not one of"):
        model.predict(X, interval="both")
    for level in (0, 1, 1.5, True, "0.9"):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            model.predict(X, interval="prediction", level=level)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        model.summary().conf_int(alpha=0)
    with pytest.raises(ValueError, match="cov_type='HC4' is not one of"):
        model.summary("HC4")


# ------------------------------------------------------------------------------ influence
def test_influence_matches_statsmodels():
    X, y, _, _ = _data("ols")
    X, y = X[:60], y[:60]   # statsmodels' external studentization loops over the rows
    r = LinearRegression().fit(X, y).summary()
    s, _ = _statsmodels(X, y, None, True)
    infl = OLSInfluence(s)
    close(r.leverage, infl.hat_matrix_diag, what="leverage")
    close(r.resid_studentized, infl.resid_studentized_internal, what="internal")
    close(r.resid_studentized_external, infl.resid_studentized_external, what="external")
    close(r.cooks_distance, infl.cooks_distance[0], what="cooks")
    # HC3 needs the leverage in its own pass; nonrobust computes it on first use
    close(LinearRegression().fit(X, y).summary("HC3").leverage, infl.hat_matrix_diag,
          what="leverage from the HC3 pass")


def test_weighted_influence_is_that_of_the_rescaled_ols_problem():
    """WLS is OLS on rows scaled by √s: its influence measures are the reference."""
    X, y, w, _ = _data("weighted")
    X, y, w = X[:60], y[:60], w[:60]
    r = LinearRegression().fit(X, y, sample_weight=w).summary()
    root = np.sqrt(w)
    s = sm.OLS(y * root, sm.add_constant(X, has_constant="add") * root[:, None]).fit()
    infl = OLSInfluence(s)
    close(r.leverage, infl.hat_matrix_diag, what="leverage")
    close(r.resid_studentized, infl.resid_studentized_internal, what="internal")
    close(r.resid_studentized_external, infl.resid_studentized_external, what="external")
    close(r.cooks_distance, infl.cooks_distance[0], what="cooks")


# ------------------------------------------------------------------------------ solvers
def test_gradient_descent_coefficients_converged():
    X, y, _, _ = _data("ols")
    model = LinearRegression(solver="gd", max_iter=20000, tol=1e-13).fit(X, y)
    r = model.summary("HC1")
    s, _ = _statsmodels(X, y, None, True, "HC1")
    _compare(r, s)
    assert r.distance_in_se < 1e-6
    text = str(r)
    assert "solver 'gd'" in text and f"{model.n_iter_} iterations" in text
    assert "final gradient norm" in text


def test_unconverged_descent_is_evaluated_at_its_own_coefficients_and_flagged():
    X, y, _, _ = _data("ols")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression(solver="gd", max_iter=3, tol=1e-12).fit(X, y)
    r = model.summary()
    exog = sm.add_constant(X)
    theta = np.concatenate([[model.intercept_], model.coef_])
    close(r.params, theta, 0, "params are the fitted ones")
    close(r.ssr, np.sum((y - exog @ theta) ** 2), 1e-10, "ssr at the fitted coefficients")
    exact = np.linalg.lstsq(exog, y, rcond=None)[0]
    # σ² and so the standard errors are those at the fitted coefficients
    sigma2 = np.sum((y - exog @ theta) ** 2) / (len(y) - exog.shape[1])
    bse = np.sqrt(np.diag(sigma2 * np.linalg.inv(exog.T @ exog)))
    close(r.bse, bse, 1e-10, "bse at the fitted coefficients")
    close(r.distance_in_se, np.max(np.abs(theta - exact) / bse), 1e-6, "distance in se")
    ssr_star = np.sum((y - exog @ exact) ** 2)
    close(r.relative_loss_gap, (r.ssr - ssr_star) / ssr_star, 1e-6, "loss gap")
    assert r.distance_in_se > 0.01
    assert "has not converged" in str(r)


@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_stochastic_solvers_summarized_at_their_coefficients(solver):
    X, y, w, _ = _data("weighted")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression(solver=solver, max_iter=30, random_state=0).fit(
            X, y, sample_weight=w)
    r = model.summary("HC1")
    exog = sm.add_constant(X)
    theta = np.concatenate([[model.intercept_], model.coef_])
    close(r.params, theta, 0, "params")
    resid = y - exog @ theta
    close(r.ssr, np.sum(w * resid**2), 1e-10, "weighted ssr at the fitted coefficients")
    # HC1 sandwich at these coefficients, from its definition
    bread = np.linalg.inv(exog.T @ (w[:, None] * exog))
    meat = (exog * (w * resid)[:, None]).T @ (exog * (w * resid)[:, None])
    cov = bread @ meat @ bread * len(y) / (len(y) - exog.shape[1])
    close(r.bse, np.sqrt(np.diag(cov)), 1e-9, "HC1 bse")
    exact = sm.WLS(y, exog, weights=w).fit(cov_type="HC1")
    close(r.distance_in_se, np.max(np.abs(theta - exact.params) / r.bse), 1e-6, "distance")
    text = str(r)
    assert f"solver '{solver}'" in text and f"{model.n_iter_} iteration" in text


def test_qr_solver_for_ill_conditioned_data():
    X, y, _, _ = _data("collinear")
    r = LinearRegression(solver="qr").fit(X, y).summary("HC2")
    s, _ = _statsmodels(X, y, None, True, "HC2")
    _compare(r, s)


def test_penalized_fit_is_refused():
    X, y, _, _ = _data("ols")
    model = LinearRegression(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="alpha=0.1 .*penal.*Refit with alpha=0"):
        _ = model.summary().bse      # issue 20: the rest of a ridge summary is shown
    with pytest.raises(ValueError, match="alpha=0.1"):
        model.predict(X, interval="confidence")


# ------------------------------------------------------------------------------ shapes & names
@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_rank_deficient_design_marks_unidentified_coefficients():
    X, y, _, _ = _data("ols")
    Xd = np.column_stack([X, X[:, 1] + 2 * X[:, 2]])      # x4 = x1 + 2 x2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(Xd, y)
    r = model.summary()
    assert r.identified.tolist() == [True, True, False, False, True, False]
    assert np.isnan(r.bse[~r.identified]).all() and np.isnan(r.pvalues[~r.identified]).all()
    s, _ = _statsmodels(Xd, y, None, True)
    ok = r.identified
    close(r.params[ok], s.params[ok], 1e-8, "identified params")
    close(r.bse[ok], s.bse[ok], 1e-8, "identified bse")
    close(r.rsquared, s.rsquared, 1e-10, "rsquared")
    assert r.df_resid == s.df_resid and r.df_model == s.df_model
    text = str(r)
    assert text.count("not identified") == 3
    assert "rank-deficient" in text and "x1, x2, x4" in text
    with pytest.raises(ValueError, match="rank-deficient"):
        model.predict(Xd, interval="confidence")


def test_constant_column_and_intercept_are_both_unidentified():
    X, y, _, _ = _data("ols")
    Xc = np.column_stack([X, np.full(len(y), 5.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = LinearRegression().fit(Xc, y).summary()
    assert r.identified.tolist() == [False, True, True, True, True, False]
    s, _ = _statsmodels(X, y, None, True)           # the same fit without the redundant column
    close(r.bse[1:5], s.bse[1:], 1e-8, "slopes' bse")


def test_multi_output_one_result_and_table_per_target():
    X, y, w, _ = _data("weighted")
    Y = np.column_stack([y, 2 * X[:, 1] - y + np.sin(np.arange(len(y)))])
    results = LinearRegression().fit(X, Y, sample_weight=w).summary("HC1")
    assert isinstance(results, MultiOutputResults) and len(results) == 2
    for j, r in enumerate(results):
        s, _ = _statsmodels(X, Y[:, j], w, True, "HC1")
        _compare(r, s)
        close(r.durbin_watson, durbin_watson(s.wresid), what="dw")
    text = str(results)
    assert text.count("Linear regression results") == 2
    assert "results: y0" in text and "results: y1" in text
    frame = results.to_frame()
    assert list(frame.index.get_level_values(0).unique()) == ["y0", "y1"]
    yhat, lo, hi = LinearRegression().fit(X, Y, sample_weight=w).predict(X[:5], interval="confidence")
    assert yhat.shape == lo.shape == hi.shape == (5, 2)
    assert np.all(lo < yhat) and np.all(yhat < hi)


def test_feature_names_from_dataframe_and_defaults():
    X, y, _, _ = _data("ols")
    df = pd.DataFrame(X, columns=["age", "income", "height", "score"])
    r = LinearRegression().fit(df, y).summary()
    assert r.param_names == ("intercept", "age", "income", "height", "score")
    frame = r.to_frame()
    assert list(frame.index) == list(r.param_names)
    assert list(frame.columns[:6]) == ["coef", "std err", "t", "P>|t|", "[0.025", "0.975]"]
    robust = LinearRegression().fit(df, y).summary("HC1").to_frame(alpha=0.1)
    assert list(robust.columns[:6]) == ["coef", "std err", "z", "P>|z|", "[0.05", "0.95]"]
    close(frame["coef"], r.params, 0, "frame coef")
    text = str(r)
    for name in ("intercept", "age", "income", "height", "score"):
        assert f"\n{name} " in text
    r2 = LinearRegression(fit_intercept=False).fit(X, y).summary()
    assert r2.param_names == ("x0", "x1", "x2", "x3")


def test_the_target_name_of_a_pandas_fit_titles_the_summary():
    X, y, _, _ = _data("ols")
    df = pd.DataFrame(X, columns=["age", "income", "height", "score"])
    target = pd.Series(y, name="price")
    model = LinearRegression()
    r = model.fit(df, target).summary()       # no arguments: the training rows
    s = sm.OLS(target, sm.add_constant(df)).fit()
    assert r.target_name == s.model.endog_names == "price"
    assert "price" in str(r).splitlines()[2]
    # refitted on plain arrays, the model forgets it
    assert model.fit(X, y).summary().target_name == "y"


def test_table_content():
    X, y, w, _ = _data("weighted")
    model = LinearRegression().fit(X, y, sample_weight=w)
    r = model.summary("HC3")
    text = str(r)
    assert text == r.summary()
    for label in ("R-squared:", "Adj. R-squared:", "F-statistic:", "Prob (F-statistic):",
                  "Log-likelihood:", "AIC:", "BIC:", "Observations:", "Df residuals:",
                  "Df model:", "Covariance type:", "HC3", "Omnibus:", "Prob(Omnibus):", "Skew:",
                  "Kurtosis:", "Durbin-Watson:", "Jarque-Bera (JB):", "Prob(JB):", "Cond. No.",
                  "coef", "std err", "P>|z|", "[0.025", "0.975]", "WLS",
                  f"solver '{model.solver_}'", "final gradient norm",
                  "Distance from the exact least-squares solution", "heteroscedasticity robust"):
        assert label in text, label
    for value in (f"{r.rsquared:.4f}", f"{r.rsquared_adj:.4f}", f"{r.fvalue:.4g}",
                  f"{r.llf:.5g}", f"{r.aic:.4g}", f"{r.bic:.4g}", f"{r.durbin_watson:.3f}",
                  f"{r.jarque_bera:.3f}", f"{r.omnibus:.3f}", f"{r.skew:.3f}",
                  f"{r.kurtosis:.3f}", f"{r.condition_number:.3g}", str(r.nobs), str(r.df_resid)):
        assert value in text, value
    ci = r.conf_int()
    line = next(ln for ln in text.splitlines() if ln.startswith("x1 "))
    fields = line.split()
    np.testing.assert_allclose([float(f) for f in fields[1:7]],
                               [r.params[2], r.bse[2], r.tvalues[2], r.pvalues[2], *ci[2]],
                               atol=6e-4)
    assert all(len(ln) <= 78 for ln in text.splitlines())
    # no intercept: statsmodels' uncentered R² note
    r0 = LinearRegression(fit_intercept=False).fit(X, y).summary()
    assert "R-squared (uncentered):" in str(r0) and "uncentered" in str(r0).split("Notes:")[1]
    assert "P>|t|" in str(r0) and "nonrobust" in str(r0)


def test_collinearity_note_in_plain_language():
    X, y, _, _ = _data("ols")
    Xc = np.column_stack([X, X[:, 0] + X[:, 1] + 1e-4 * np.cos(np.arange(len(y)))])
    r = LinearRegression().fit(Xc, y).summary()
    text = str(r)
    assert "condition number is large" in text
    assert "nearly linear combinations" in text and "collinearity" in text
    assert "condition number is large" not in str(LinearRegression().fit(X, y).summary())


# ------------------------------------------------------------------------------ rows & files
def test_summary_after_load_needs_and_checks_the_training_rows(tmp_path):
    X, y, w, _ = _data("weighted")
    model = LinearRegression().fit(X, y, sample_weight=w)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = linreg.load(path)
    with pytest.raises(ValueError, match="pass them, as model.summary"):
        loaded.summary()
    r = loaded.summary("HC2", X=X, y=y, sample_weight=w)
    s, _ = _statsmodels(X, y, w, True, "HC2")
    _compare(r, s)
    yhat, lo, hi = r.predict(X[:4], interval="prediction")
    frame = s.get_prediction(sm.add_constant(X)[:4]).summary_frame()
    close(lo, frame["obs_ci_lower"], what="obs lower after load")
    # the model file keeps the training statistics: intervals need no rows
    yhat, lo, hi = loaded.predict(X[:4], interval="prediction")
    nonrobust, exog = _statsmodels(X, y, w, True)
    frame = nonrobust.get_prediction(exog[:4]).summary_frame()
    close(lo, frame["obs_ci_lower"], what="obs lower from the loaded statistics")
    close(hi, frame["obs_ci_upper"], what="obs upper from the loaded statistics")
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        loaded.summary(X=X, y=y, sample_weight=None)
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        model.summary(X=X, y=y + 1.0, sample_weight=w)
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        model.summary(X=X[:-1], y=y[:-1], sample_weight=w[:-1])
    with pytest.raises(ValueError, match="pass both X and y"):
        model.summary(X=X)


def test_streamed_blocks_give_the_same_answers():
    """The pass over small blocks (Durbin–Watson across block edges, merged moments)."""
    X, y, w, _ = _data("weighted")
    model = LinearRegression().fit(X, y, sample_weight=w)
    blocks = MemoryRows(X, y.reshape(-1, 1), w, block_rows=7)
    r = summarize(model, blocks, model.stats_, "HC3")
    s, _ = _statsmodels(X, y, w, True, "HC3")
    _compare(r, s)
    close(r.durbin_watson, durbin_watson(s.wresid), what="dw")
    close([r.jarque_bera, r.skew, r.kurtosis], np.array(jarque_bera(s.wresid))[[0, 2, 3]], what="jb")
    close(r.omnibus, omni_normtest(s.wresid)[0], what="omnibus")
    r2 = summarize(model, MemoryRows(X, y.reshape(-1, 1), w, block_rows=50), model.stats_,
                   keep_rows=False)
    with pytest.raises(ValueError, match="keep_rows=False"):
        _ = r2.leverage
    with pytest.raises(ValueError, match="block 0 of the row source has X of shape"):
        summarize(model, _Partitioned(X[:, :2], y, w, [len(X)]), model.stats_)


def test_partial_fit_model_summarized_with_explicit_rows():
    X, y, _, _ = _data("ols")
    model = LinearRegression()
    model.partial_fit(X[:70], y[:70]).partial_fit(X[70:], y[70:])
    with pytest.raises(ValueError, match="does not hold them"):
        model.summary()
    r = model.summary("HC0", X=X, y=y)
    s, _ = _statsmodels(X, y, None, True, "HC0")
    _compare(r, s)


def test_result_is_read_only():
    X, y, _, _ = _data("ols")
    r = LinearRegression().fit(X, y).summary()
    assert isinstance(r, RegressionResults)
    with pytest.raises(AttributeError, match="read-only"):
        r.rsquared = 1.0
    with pytest.raises(ValueError):
        r.params[0] = 0.0
    cov = r.cov_params()
    cov[0, 0] = -1.0
    assert r.cov_params()[0, 0] > 0


def test_to_frame_without_pandas_says_so(monkeypatch):
    X, y, _, _ = _data("ols")
    r = LinearRegression().fit(X, y).summary()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="to_frame\\(\\) needs pandas"):
        r.to_frame()


# ------------------------------------------------------------------------------ formulas
@pytest.mark.parametrize("n", [8, 9, 20, 57, 500])
def test_omnibus_formula_matches_scipy(n):
    rng = np.random.default_rng(n)
    for a in (rng.standard_normal(n), rng.exponential(size=n), rng.standard_t(3, size=n)):
        k2, p = omnibus_test(n, scipy.stats.skew(a), scipy.stats.kurtosis(a, fisher=False))
        expected = scipy.stats.normaltest(a)
        close([k2, p], [expected.statistic, expected.pvalue], 1e-10, "omnibus")


def test_omnibus_needs_eight_observations():
    k2, p = omnibus_test(7, 0.1, 3.2)
    assert np.isnan(k2) and np.isnan(p)


def test_hand_worked_simple_regression():
    """y = a + b x on five points, worked by hand with fractions-exact sums."""
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([1.1, 2.9, 5.2, 6.8, 9.1])
    r = LinearRegression().fit(x[:, None], y).summary()
    # Sxx = 10, Sxy = 19.9, b = 1.99, a = ȳ − b x̄ = 5.02 − 3.98 = 1.04
    close(r.params, [1.04, 1.99], 1e-12, "params")
    resid = y - (1.04 + 1.99 * x)
    s2 = np.sum(resid**2) / 3
    close(r.bse, [np.sqrt(s2 * (1 / 5 + 4 / 10)), np.sqrt(s2 / 10)], 1e-12, "bse")
    close(r.rsquared, 1 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2), 1e-12, "R²")


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:omni_normtest is not valid")
@pytest.mark.parametrize("case", ["no_residual_df", "constant_target", "five_rows", "perfect_fit"])
def test_degenerate_fits_give_nan_or_inf_not_errors(case):
    rng = np.random.default_rng(3)
    n = {"no_residual_df": 3, "five_rows": 5}.get(case, 30)
    X = rng.standard_normal((n, 2))
    y = {"constant_target": np.ones(n), "perfect_fit": X @ [1.0, 2.0] + 3.0}.get(
        case, rng.standard_normal(n))
    model = LinearRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cov_type in COV_TYPES:
            r = model.summary(cov_type)
            text = str(r)
    s, _ = _statsmodels(X, y, None, True)
    if case == "no_residual_df":
        assert r.df_resid == 0 and np.isnan(r.bse).all() and np.isnan(r.pvalues).all()
        assert "no residual degrees of freedom" in text
    if case == "five_rows":       # omnibus needs 8 observations, as in statsmodels
        assert np.isnan(r.omnibus) and np.isnan(omni_normtest(s.wresid)[0])
        close(r.jarque_bera, jarque_bera(s.wresid)[0], 1e-8, "jb")
    if case == "constant_target":
        assert not np.isfinite(r.rsquared) and not np.isfinite(s.rsquared)
    if case == "perfect_fit":
        close(r.params, [3.0, 1.0, 2.0], 1e-12, "params")
        assert r.rsquared == pytest.approx(1.0)


def test_model_fitted_from_a_streamed_source(tmp_path):
    """Fitted from .npy files read in chunks: the summary reads the source again."""
    from linreg import sources
    X, y, w, _ = _data("weighted")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "w.npy", w)
    source = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=37,
                         sample_weight_path=tmp_path / "w.npy")
    model = LinearRegression().fit(source)
    r = model.summary("HC2", X=source)
    s, _ = _statsmodels(X, y, w, True, "HC2")
    _compare(r, s)
    close(r.durbin_watson, durbin_watson(s.wresid), what="dw across chunks")


def test_model_fitted_on_dask_arrays():
    """Fitted from partition statistics; the summary's pass runs on each partition and merges
    their totals (here with dask's local scheduler)."""
    import dask.array as da
    X, y, w, _ = _data("weighted")
    Xd, yd, wd = da.from_array(X, chunks=(45, 4)), da.from_array(y, chunks=45), \
        da.from_array(w, chunks=45)
    model = LinearRegression().fit(Xd, yd, sample_weight=wd)
    r = model.summary("HC3", X=Xd, y=yd, sample_weight=wd)
    s, _ = _statsmodels(X, y, w, True, "HC3")
    _compare(r, s)
    close(r.durbin_watson, durbin_watson(s.wresid), what="dw across partitions")


def test_copies_of_the_estimator_do_not_carry_the_training_rows():
    import copy
    X, y, _, _ = _data("ols")
    model = LinearRegression().fit(X, y)
    twin = copy.deepcopy(model)
    assert getattr(twin, "_training_rows", None) is None
    assert getattr(model, "_training_rows", None) is not None      # the original keeps them
    model.summary()
    np.testing.assert_array_equal(twin.coef_, model.coef_)
    with pytest.raises(ValueError, match="pass them, as model.summary"):
        twin.summary()
    s, _ = _statsmodels(X, y, None, True)
    _compare(twin.summary(X=X, y=y), s)


class _Partitioned(Rows):
    """Rows in partitions processed by ``map_blocks`` (as dask_support's partitions are)."""

    def __init__(self, X, y, w, sizes):
        edges = np.cumsum([0] + list(sizes))
        assert edges[-1] == len(X)
        self.parts = [(X[a:b], y[a:b].reshape(-1, 1), None if w is None else w[a:b])
                      for a, b in zip(edges[:-1], edges[1:])]
        self.calls = 0

    def stats(self):
        raise AssertionError("the summary takes the statistics it is given")

    def blocks(self, shuffle=False, rng=None):
        return iter(self.parts)

    def map_blocks(self, func):
        self.calls += 1
        return [func(part, i) for i, part in enumerate(self.parts)]


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC2"])
def test_partitioned_rows_merge_their_totals_in_order(cov_type):
    """Partitions of every size (empty, one row, more than a block) give statsmodels'
    numbers, Durbin–Watson across their edges included; nonrobust leaves the leverage to a
    pass over the partitions on first use, HC2 computes it in the pass."""
    X, y, w, _ = _data("weighted")
    X, y, w = np.vstack([X] * 30), np.concatenate([y] * 30), np.concatenate([w] * 30)
    parts = _Partitioned(X, y, w, [0, 1, 5000, 0, 2, len(X) - 5003])
    model = LinearRegression().fit(X, y, sample_weight=w)
    r = summarize(model, parts, model.stats_, cov_type)
    s, exog = _statsmodels(X, y, w, True, cov_type)
    _compare(r, s)
    close(r.durbin_watson, durbin_watson(s.wresid), what="dw")
    close([r.jarque_bera, r.skew, r.kurtosis], np.array(jarque_bera(s.wresid))[[0, 2, 3]], what="jb")
    assert parts.calls == 1
    root = np.sqrt(w)
    hat = OLSInfluence(sm.OLS(y * root, exog * root[:, None]).fit()).hat_matrix_diag
    close(r.leverage, hat, what="leverage")
    assert parts.calls == (2 if cov_type == "nonrobust" else 1)
    close(r.wresid, s.wresid, 1e-7, "weighted residuals")
    # statsmodels' names: resid = y − ŷ (unweighted), fittedvalues = ŷ, resid_pearson
    close(r.resid, s.resid, 1e-7, "residuals")
    close(r.fittedvalues, s.fittedvalues, 1e-10, "fitted values")
    close(r.resid_pearson, s.resid_pearson, 1e-7, "Pearson residuals")
    parts.parts[2] = (X[:5000, :2], y[:5000], w[:5000])
    with pytest.raises(ValueError, match="block 2 of the row source has X of shape"):
        summarize(model, parts, model.stats_, cov_type)
