"""The core estimator against independent references: finite differences, numpy.linalg.lstsq,
scikit-learn Ridge / SGDRegressor, and hand-checked properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, SGDRegressor

import linreg
from linreg import (ConvergenceWarning, DivergenceError, LinearRegression, RankDeficiencyWarning,
                    objective, textbook)
from linreg.design import Design
from linreg.stats import SufficientStats, sufficient_stats

#: tests that stop training short of the optimum on purpose (a few epochs for a trajectory,
#: determinism, counters or files; a callback; early stopping): the ConvergenceWarning that
#: says so is right, and tests/test_stopping.py checks it; these tests check other things
STOPPED_ON_PURPOSE = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")


def make_data(n=200, d=5, k=None, seed=0, shift=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 5, d) + shift * rng.standard_normal(d)
    w = rng.standard_normal((d, k or 1))
    Y = X @ w + 1.5 + 0.1 * rng.standard_normal((n, k or 1))
    return X, (Y[:, 0] if k is None else Y)


def lstsq_fit(X, y, sample_weight=None, fit_intercept=True):
    """Reference: numpy.linalg.lstsq on [1, X] scaled by √s."""
    A = np.hstack([np.ones((X.shape[0], 1)), X]) if fit_intercept else X
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    sol = np.linalg.lstsq(A * np.sqrt(s)[:, None], (y.T * np.sqrt(s)).T, rcond=None)[0]
    return (sol[1:], sol[0]) if fit_intercept else (sol, 0.0 * sol[0])


# ---------------------------------------------------------------- the equations
def numeric_gradient(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 3])
def test_gradient_matches_finite_differences(weighted, k):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((30, k))
    s = rng.uniform(0.1, 2, 30) if weighted else None
    w = rng.standard_normal((4, k))
    b = rng.standard_normal(k)
    alpha = 0.3
    gw, gb = objective.gradient(X, Y, w, b, alpha, s)
    np.testing.assert_allclose(gw, numeric_gradient(lambda v: objective.loss(X, Y, v, b, alpha, s), w),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, numeric_gradient(lambda v: objective.loss(X, Y, w, v, alpha, s), b),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
def test_statistics_give_the_textbook_loss_and_gradient(fit_intercept, standardize):
    """J and ∇J from the sufficient statistics equal linreg.textbook's row formulas on the
    same design, target by target (J sums the targets' losses; ∇J has a column per target)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 3)) * [1, 10, 0.1] + [5, -2, 100]
    Y = rng.standard_normal((50, 2))
    s = rng.uniform(0.5, 1.5, 50)
    stats = sufficient_stats(X, Y, s)
    design = Design.from_stats(stats, fit_intercept, standardize)
    ds = design.apply(stats)
    Xd = design.transform(X)
    w, b = rng.standard_normal((3, 2)), rng.standard_normal(2) * fit_intercept
    ref_loss = sum(textbook.loss(Xd, Y[:, c], w[:, c], b[c], s, 0.2) for c in range(2))
    assert objective.loss_from_stats(ds, w, b, 0.2) == pytest.approx(ref_loss, rel=1e-12)
    per_target = [textbook.gradients(Xd, Y[:, c], w[:, c], b[c], s, 0.2) for c in range(2)]
    gw = np.column_stack([g for g, _ in per_target])
    gb = np.array([g for _, g in per_target])
    sgw, sgb = objective.gradient_from_stats(ds, w, b, 0.2)
    np.testing.assert_allclose(sgw, gw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sgb, gb, rtol=1e-10, atol=1e-12)


def test_statistics_merge_exactly_and_survive_large_means():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1000, 3)) + 1e8          # a huge mean: naive sums would cancel
    Y = rng.standard_normal((1000, 1))
    whole = sufficient_stats(X, Y, block_rows=64)
    parts = sufficient_stats(X[:337], Y[:337]).merge(sufficient_stats(X[337:], Y[337:]))
    Z = np.hstack([X, Y])
    centred = Z - Z.mean(axis=0)
    exact = centred.T @ centred
    scale = np.sqrt(np.outer(np.diag(exact), np.diag(exact)))   # errors relative to the spreads
    assert np.max(np.abs(whole.comoment - exact) / scale) < 1e-12
    assert np.max(np.abs(parts.comoment - exact) / scale) < 1e-8  # δ of the merge carries |μ|·ε
    np.testing.assert_allclose(parts.mean, Z.mean(axis=0), rtol=1e-13, atol=1e-15)
    assert isinstance(whole, SufficientStats) and whole.n_rows == 1000


# ---------------------------------------------------------------- closed forms
@pytest.mark.parametrize("solver", ["auto", "normal", "qr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_matches_lstsq(solver, fit_intercept, standardize, weighted):
    X, y = make_data(seed=4)
    s = np.random.default_rng(5).uniform(0, 3, len(y)) if weighted else None
    m = LinearRegression(solver=solver, fit_intercept=fit_intercept, standardize=standardize)
    m.fit(X, y, sample_weight=s)
    coef, intercept = lstsq_fit(X, y, s, fit_intercept)
    np.testing.assert_allclose(m.coef_, coef, rtol=1e-10)
    assert m.intercept_ == pytest.approx(float(intercept), rel=1e-10, abs=1e-12)
    assert m.n_iter_ == 1 and m.loss_history_.shape == (1,)


@pytest.mark.parametrize("solver", ["normal", "qr", "gd"])
def test_ridge_equals_sklearn_ridge_with_n_alpha(solver):
    X, y = make_data(seed=6)
    alpha = 0.05
    m = LinearRegression(solver=solver, alpha=alpha, standardize=False, tol=1e-12,
                         max_iter=100_000).fit(X, y)
    r = Ridge(alpha=len(y) * alpha, solver="cholesky").fit(X, y)
    rtol = 1e-6 if solver == "gd" else 1e-10
    np.testing.assert_allclose(m.coef_, r.coef_, rtol=rtol)
    assert m.intercept_ == pytest.approx(r.intercept_, rel=rtol)


def test_weighted_ridge_equals_sklearn_ridge_with_weight_sum_alpha():
    X, y = make_data(seed=7)
    s = np.random.default_rng(8).uniform(0.2, 3, len(y))
    alpha = 0.1
    m = LinearRegression(alpha=alpha, standardize=False).fit(X, y, sample_weight=s)
    r = Ridge(alpha=s.sum() * alpha, solver="cholesky").fit(X, y, sample_weight=s)
    np.testing.assert_allclose(m.coef_, r.coef_, rtol=1e-10)
    assert m.intercept_ == pytest.approx(r.intercept_, rel=1e-10)


def test_alpha_is_sgdregressors_alpha():
    """SGDRegressor minimises the same J; averaged SGD gets close to our exact answer."""
    X, y = make_data(n=4000, d=3, seed=9, shift=0.0)
    X = X / X.std(axis=0)
    alpha = 0.01
    m = LinearRegression(alpha=alpha, standardize=False).fit(X, y)
    sgd = SGDRegressor(alpha=alpha, penalty="l2", max_iter=200, tol=None, average=True,
                       learning_rate="invscaling", eta0=0.01, random_state=0).fit(X, y)
    np.testing.assert_allclose(sgd.coef_, m.coef_, rtol=2e-2)
    # and it is NOT the solution with a different scaling of alpha
    other = LinearRegression(alpha=alpha * 2, standardize=False).fit(X, y)
    assert np.max(np.abs(other.coef_ - m.coef_)) > 10 * np.max(np.abs(sgd.coef_ - m.coef_))


def test_standardized_ridge_penalises_standardized_coefficients():
    """With standardize=True the penalty is on θ = w·σ (glmnet's convention)."""
    X, y = make_data(seed=10)
    alpha = 0.2
    m = LinearRegression(alpha=alpha).fit(X, y)
    sd = X.std(axis=0)
    r = Ridge(alpha=len(y) * alpha).fit(X / sd, y)
    np.testing.assert_allclose(m.coef_, r.coef_ / sd, rtol=1e-10)
    assert m.intercept_ == pytest.approx(r.intercept_, rel=1e-10)


@pytest.mark.parametrize("solver", ["normal", "qr", "gd"])
def test_multi_output(solver):
    X, Y = make_data(k=3, seed=11)
    m = LinearRegression(solver=solver, tol=1e-12, max_iter=100_000).fit(X, Y)
    coef, intercept = lstsq_fit(X, Y)
    rtol = 1e-6 if solver == "gd" else 1e-10
    assert m.coef_.shape == (3, X.shape[1]) and m.intercept_.shape == (3,)
    np.testing.assert_allclose(m.coef_, coef.T, rtol=rtol)
    np.testing.assert_allclose(m.intercept_, intercept, rtol=rtol)
    assert m.predict(X).shape == Y.shape


def test_constant_column_is_handled():
    X, y = make_data(seed=12)
    Xc = np.hstack([X, np.full((len(y), 1), 7.0)])
    with pytest.warns(RankDeficiencyWarning, match=r"constant.*column 5"):
        m = LinearRegression().fit(Xc, y)
    coef, intercept = lstsq_fit(X, y)
    np.testing.assert_allclose(m.coef_[:5], coef, rtol=1e-9)
    assert m.coef_[5] == 0.0
    assert m.intercept_ == pytest.approx(float(intercept), rel=1e-9)
    assert np.isfinite(m.coef_).all()


@pytest.mark.parametrize("solver", ["normal", "qr", "auto"])
def test_collinear_columns_are_named_and_minimum_norm(solver):
    X, y = make_data(seed=13)
    Xd = np.hstack([X, X[:, [1]] - 2 * X[:, [3]]])          # column 5 = x1 − 2·x3
    with pytest.warns(RankDeficiencyWarning, match=r"column 1.*column 3.*column 5"):
        m = LinearRegression(solver=solver, standardize=False).fit(Xd, y)
    assert m.rank_ == 5
    Xc = Xd - Xd.mean(axis=0)
    ref = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]      # minimum-norm solution
    np.testing.assert_allclose(m.coef_, ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(m.predict(Xd), Xd @ ref + (y.mean() - Xd.mean(0) @ ref), rtol=1e-9)


def test_more_features_than_rows_says_so_and_keeps_the_warning_short():
    rng = np.random.default_rng(15)
    X, y = rng.standard_normal((30, 200)), rng.standard_normal(30)
    with pytest.warns(RankDeficiencyWarning) as caught:
        m = LinearRegression(standardize=False).fit(X, y)
    message = str(caught[0].message)
    assert "30 rows cannot determine 201 parameters" in message
    assert "column 0, column 1," in message and "column 9 and 190 more" in message
    assert "column 10," not in message and len(message) < 500
    assert m.rank_ == 29
    # the minimum-norm interpolant, as numpy.linalg.lstsq gives it
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(m.coef_, np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0],
                               rtol=1e-7, atol=1e-9)


def test_collinear_names_come_from_dataframe_columns():
    pd = pytest.importorskip("pandas")
    X, y = make_data(seed=14, d=3)
    df = pd.DataFrame(np.hstack([X, X[:, [0]] * 2]), columns=["price", "size", "age", "price2"])
    with pytest.warns(RankDeficiencyWarning, match=r"'price'.*'price2'"):
        LinearRegression().fit(df, y)


# ---------------------------------------------------------------- gradient descent
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gd_reaches_the_closed_form(standardize, fit_intercept):
    X, y = make_data(seed=15)
    kw = dict(standardize=standardize, fit_intercept=fit_intercept)
    exact = LinearRegression(**kw).fit(X, y)
    # plain descent, whose loss decreases monotonically (checked below; the default
    # optimizer="auto" is Nesterov for gd: see test_default_gd_is_nesterov_...)
    gd = LinearRegression(solver="gd", optimizer="plain", tol=1e-10, max_iter=200_000, **kw).fit(X, y)
    np.testing.assert_allclose(gd.coef_, exact.coef_, rtol=1e-6)
    assert gd.intercept_ == pytest.approx(exact.intercept_, rel=1e-6, abs=1e-9)
    # the history is J per iteration, starting at w = 0, b = 0, and decreasing
    assert gd.loss_history_.shape == (gd.n_iter_ + 1,)
    Xd = X if not standardize else (X - X.mean(0) * fit_intercept) / np.sqrt(
        ((X - X.mean(0) * fit_intercept) ** 2).mean(0))
    assert gd.loss_history_[0] == pytest.approx(textbook.loss(Xd, y, np.zeros(5), 0.0))
    assert np.all(np.diff(gd.loss_history_) <= 1e-12 * gd.loss_history_[0])
    assert gd.loss_history_[-1] == pytest.approx(exact.loss_history_[0], rel=1e-9)


@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_default_gd_is_nesterov_and_reaches_the_closed_form(standardize, fit_intercept):
    """optimizer="auto": Nesterov for gd with the automatic step (the same trajectory, to the
    bit, as optimizer="nesterov"), in far fewer iterations than plain descent; plain with a
    chosen learning rate, and for the stochastic solvers."""
    X, y = make_data(seed=15)
    X[:, 1] = X[:, 0] + 0.1 * X[:, 1]                # correlated: where momentum pays
    kw = dict(standardize=standardize, fit_intercept=fit_intercept, tol=1e-10, max_iter=200_000)
    exact = LinearRegression(standardize=standardize, fit_intercept=fit_intercept).fit(X, y)
    default = LinearRegression(solver="gd", **kw).fit(X, y)
    np.testing.assert_allclose(default.coef_, exact.coef_, rtol=1e-6)
    assert default.intercept_ == pytest.approx(exact.intercept_, rel=1e-6, abs=1e-9)
    assert default.stop_reason_ == "tolerance"
    nesterov = LinearRegression(solver="gd", optimizer="nesterov", **kw).fit(X, y)
    np.testing.assert_array_equal(default.loss_history_, nesterov.loss_history_)
    plain = LinearRegression(solver="gd", optimizer="plain", **kw).fit(X, y)
    assert default.n_iter_ * 5 < plain.n_iter_
    lr = 0.5 * plain.learning_rate_
    chosen = LinearRegression(solver="gd", learning_rate=lr, max_iter=50, tol=0).fit(X, y)
    by_hand = LinearRegression(solver="gd", optimizer="plain", learning_rate=lr, max_iter=50,
                               tol=0).fit(X, y)
    np.testing.assert_array_equal(chosen.loss_history_, by_hand.loss_history_)
    sgd = LinearRegression(solver="sgd", max_iter=3, tol=0).fit(X, y)
    sgd_plain = LinearRegression(solver="sgd", optimizer="plain", max_iter=3, tol=0).fit(X, y)
    np.testing.assert_array_equal(sgd.loss_history_, sgd_plain.loss_history_)


def test_gd_from_rows_when_features_outnumber_rows():
    rng = np.random.default_rng(16)
    X, y = rng.standard_normal((20, 40)), rng.standard_normal(20)
    m = LinearRegression(solver="gd", alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    exact = LinearRegression(alpha=0.1).fit(X, y)
    np.testing.assert_allclose(m.coef_, exact.coef_, rtol=1e-6, atol=1e-10)


@STOPPED_ON_PURPOSE
def test_gd_plain_update_is_the_textbook_step():
    """One iteration from zero is w = −η ∇J(0), b = −η mean(−y), by hand."""
    X = np.array([[1.0], [2.0], [3.0]])
    y = np.array([1.0, 2.0, 4.0])
    m = LinearRegression(solver="gd", standardize=False, learning_rate=0.1, max_iter=1, tol=0)
    m.fit(X, y)
    # ∇_w J(0) = Xᵀ(−y)/n = −(1 + 4 + 12)/3, ∇_b J(0) = −7/3
    assert m.coef_[0] == pytest.approx(0.1 * 17 / 3, rel=1e-15)
    assert m.intercept_ == pytest.approx(0.1 * 7 / 3, rel=1e-15)
    assert m.n_iter_ == 1


def test_tol_zero_runs_exactly_max_iter():
    X, y = make_data(seed=17)
    m = LinearRegression(solver="gd", tol=0, max_iter=37).fit(X, y)
    assert m.n_iter_ == 37 and len(m.loss_history_) == 38


def test_convergence_warning_at_max_iter():
    X, y = make_data(seed=18)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        m = LinearRegression(solver="gd", max_iter=3).fit(X, y)
    assert np.isfinite(m.coef_).all()


def test_too_large_learning_rate_is_a_clear_error_not_nan():
    X, y = make_data(seed=19)
    with pytest.raises(DivergenceError, match=r"learning_rate=5.*2/L.*'auto'"):
        LinearRegression(solver="gd", learning_rate=5.0).fit(X, y)
    with pytest.raises(DivergenceError, match=r"standardize=True"):
        LinearRegression(solver="gd", learning_rate=0.5, standardize=False).fit(X * 100, y)


@STOPPED_ON_PURPOSE
def test_auto_learning_rate_is_one_over_L():
    X, y = make_data(seed=20)
    m = LinearRegression(solver="gd", max_iter=5, tol=0).fit(X, y)
    Xs = (X - X.mean(0)) / X.std(0)
    L = max(np.linalg.eigvalsh(Xs.T @ Xs / len(y))[-1], 1.0)
    assert m.learning_rate_ == pytest.approx(1 / L, rel=1e-10)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, where", [(np.nan, "NaN at row 7, column 2"), (np.inf, "inf at row 7, column 2")])
def test_nonfinite_X_names_row_and_column(bad, where):
    X, y = make_data(seed=21)
    X[7, 2] = bad
    X[9, 0] = np.nan
    with pytest.raises(ValueError, match=where):
        LinearRegression().fit(X, y)


def test_nonfinite_y_names_row():
    X, y = make_data(seed=22)
    y[4] = -np.inf
    with pytest.raises(ValueError, match="y contains -inf at row 4"):
        LinearRegression().fit(X, y)


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((0, 3)), np.zeros(0), "0 sample"),
    (np.ones((5, 2)), np.ones(4), "inconsistent numbers of samples"),
    (np.array([["a", "b"], ["c", "d"]], dtype=object), np.ones(2), "could not convert"),
    (np.ones((4, 2, 2)), np.ones(4), "dim 3"),
    (np.ones((4, 2)), np.array(["x", "y", "z", "w"], dtype=object), "could not convert|Unknown label"),
])
def test_bad_data_is_a_clear_error(X, y, message):
    with pytest.raises(ValueError, match=message):
        LinearRegression().fit(X, y)


@pytest.mark.parametrize("weights, message", [
    (np.array([1.0, -1.0, 1.0, 1.0]), "[Nn]egative"),
    (np.zeros(4), "non-zero|zero for every row"),
    (np.array([1.0, np.nan, 1.0, 1.0]), "NaN"),
    (np.ones(3), "shape"),
])
def test_bad_sample_weight(weights, message):
    X, y = make_data(n=4, d=2, seed=23)
    with pytest.raises(ValueError, match=message):
        LinearRegression().fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("params, message", [
    (dict(solver="newton"), "solver='newton' is not one of"),
    (dict(alpha=-1.0), "alpha=-1.0 must be"),
    (dict(learning_rate=0), "learning_rate=0 must be"),
    (dict(learning_rate="fast"), "learning_rate='fast'"),
    (dict(max_iter=0), "max_iter=0 must be"),
    (dict(tol=-1e-3), "tol=-0.001 must be"),
    (dict(fit_intercept="yes"), "fit_intercept='yes'"),
])
def test_bad_parameters(params, message):
    X, y = make_data(seed=24)
    with pytest.raises(ValueError, match=message):
        LinearRegression(**params).fit(X, y)


def test_predict_with_wrong_feature_count():
    X, y = make_data(seed=25)
    m = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        m.predict(X[:, :3])


# ---------------------------------------------------------------- model files
@pytest.mark.parametrize("k", [None, 2])
def test_save_load_round_trip_is_exact(tmp_path, k):
    X, y = make_data(seed=26, k=k)
    m = LinearRegression(solver="gd", alpha=0.01, max_iter=50, tol=0).fit(X, y)
    path = tmp_path / "model.json"
    m.save(path)
    back = linreg.load(path)
    np.testing.assert_array_equal(back.coef_, m.coef_)
    np.testing.assert_array_equal(back.intercept_, m.intercept_)
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    np.testing.assert_array_equal(back.loss_history_, m.loss_history_)
    assert back.get_params() == m.get_params() and back.solver_ == "gd"


def test_save_load_keeps_feature_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = make_data(seed=27, d=2)
    df = pd.DataFrame(X, columns=["a", "b"])
    m = LinearRegression().fit(df, y)
    m.save(tmp_path / "m.json")
    back = linreg.load(tmp_path / "m.json")
    assert list(back.feature_names_in_) == ["a", "b"]
    np.testing.assert_array_equal(back.predict(df), m.predict(df))


@pytest.mark.parametrize("content, message", [
    (b"", "not complete JSON"),
    (b'{"format": "linreg-model", "format_version": 1, "params": {', "truncated or corrupt"),
    (b"\x80\x04\x95 pickle", "not UTF-8"),
    (b'{"hello": "world"}', "does not declare format"),
    (b'{"format": "linreg-model", "format_version": 99}', "newer than this linreg reads"),
])
def test_corrupt_or_foreign_model_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(linreg.ModelFileError, match=message):
        linreg.load(path)


def test_truncated_real_model_file(tmp_path):
    X, y = make_data(seed=28)
    path = tmp_path / "m.json"
    LinearRegression().fit(X, y).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(linreg.ModelFileError, match="truncated"):
        linreg.load(path)


def test_model_file_with_wrong_shapes(tmp_path):
    import json
    X, y = make_data(seed=29)
    path = tmp_path / "m.json"
    LinearRegression().fit(X, y).save(path)
    data = json.loads(path.read_text())
    data["coef"] = data["coef"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(linreg.ModelFileError, match=r"coef has shape \(4,\), expected \(5,\)"):
        linreg.load(path)


def test_no_warnings_on_ordinary_data():
    X, y = make_data(seed=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LinearRegression().fit(X, y)
        LinearRegression(solver="gd").fit(X, y)


# ---------------------------------------------------------------- partial_fit with QR
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
def test_partial_fit_qr_equals_batch_exact_answer(fit_intercept, standardize):
    """Chunk by chunk, solver='qr' keeps a TSQR factor: the ill-conditioned polynomial design
    still gets 9+ digits against exact rational arithmetic."""
    from exact import correct_digits, exact_least_squares
    x = np.arange(21.0)
    X = np.vander(x, 6, increasing=True)[:, 1:] + 1e3
    y = 1 + 2 * x - 0.5 * x**2 + 0.1 * x**3 + np.random.default_rng(0).standard_normal(21)
    w = np.random.default_rng(1).uniform(0.5, 2, 21)
    coef, intercept = exact_least_squares(X, y, sample_weight=w, fit_intercept=fit_intercept)
    m = LinearRegression(solver="qr", fit_intercept=fit_intercept, standardize=standardize)
    parts = np.array_split(np.arange(21), [5, 6, 15])
    with pytest.warns(RankDeficiencyWarning):      # 5 rows cannot determine 6 parameters
        m.partial_fit(X[parts[0]], y[parts[0]], sample_weight=w[parts[0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for part in parts[1:]:
            m.partial_fit(X[part], y[part], sample_weight=w[part])
    assert m.solver_ == "qr"
    assert correct_digits(m.coef_, coef) >= 9
    if fit_intercept:
        assert correct_digits([m.intercept_], [intercept]) >= 9


def test_partial_fit_qr_continues_a_fit():
    X, y = make_data(seed=31)
    m = LinearRegression(solver="qr").fit(X[:100], y[:100]).partial_fit(X[100:], y[100:])
    coef, intercept = lstsq_fit(X, y)
    np.testing.assert_allclose(m.coef_, coef, rtol=1e-10)
    assert m.intercept_ == pytest.approx(float(intercept), rel=1e-10)


# ---------------------------------------------------------------- the raw-moment fast path
def _exact_comoment(Z):
    """Centred co-moments in exact rational arithmetic (the data's floats taken exactly)."""
    from fractions import Fraction
    cols = [[Fraction(float(v)) for v in Z[:, j]] for j in range(Z.shape[1])]
    n = Z.shape[0]
    means = [sum(c) / n for c in cols]
    return np.array([[float(sum((a - ma) * (b - mb) for a, b in zip(ca, cb)))
                      for cb, mb in zip(cols, means)] for ca, ma in zip(cols, means)])


@pytest.mark.parametrize("offset, late_shift", [(3.0, 0.0), (0.0, 50.0), (1e6, 0.0)])
def test_statistics_accurate_on_every_path(offset, late_shift):
    """Means within a few spreads take the raw-moment path; a first block that looks centred
    but later rows far off (sorted data), or large means, take the centred path.  Either way
    the co-moments match exact rational arithmetic."""
    rng = np.random.default_rng(32)
    X = rng.standard_normal((3000, 3)) + offset
    X[2000:] += late_shift
    Y = rng.standard_normal((3000, 1)) + offset
    stats = sufficient_stats(X, Y, block_rows=1000)
    exact = _exact_comoment(np.hstack([X, Y]))
    scale = np.sqrt(np.outer(np.diag(exact), np.diag(exact)))
    assert np.max(np.abs(stats.comoment - exact) / scale) < 1e-13


def test_nan_found_after_the_fast_statistics_pass():
    X, y = make_data(seed=33)
    X[150, 4] = np.nan
    with pytest.raises(ValueError, match="NaN at row 150, column 4"):
        LinearRegression().fit(X, y)


def test_warnings_point_at_the_callers_line(tmp_path):
    """Whichever path leads to a warning (arrays, a file source, an iterative solver), it is
    attributed to the line that called linreg, not to a line inside linreg."""
    from linreg import sources
    X = np.random.default_rng(16).standard_normal((5, 8))
    y = np.ones(5)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    calls = [lambda: LinearRegression().fit(X, y),
             lambda: LinearRegression().fit(sources.npy(tmp_path / "X.npy", tmp_path / "y.npy")),
             lambda: LinearRegression(solver="gd", max_iter=2).fit(X[:, :2], X[:, 0] + 1)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert caught, "expected a warning"
        assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]
