"""scikit-learn parity: ``positive=True`` (non-negative least squares) against
``scipy.optimize.nnls`` and scikit-learn's ``LinearRegression(positive=True)``, and ``alpha``
with one value per target against ``Ridge(alpha=array)``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import Ridge

import linreg
from linreg import LinearRegression, sources
from linreg.exceptions import PenalizedInferenceError, RankDeficiencyWarning
from linreg.nonnegative import lawson_hanson


def _data(n=400, d=9, k=1, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(0.5, 20.0, d) + rng.normal(0, 5, d)
    W = rng.standard_normal((d, k))                   # about half the signs negative
    Y = X @ W + 4.0 + rng.standard_normal((n, k)) * 3.0
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    return X, (Y[:, 0] if k == 1 else Y), w


def _scipy_nnls(X, y, w=None, fit_intercept=True):
    """The reference: scipy.optimize.nnls on the (weighted, centred) rows, per target."""
    Y = y.reshape(len(y), -1)
    s = np.ones(len(y)) if w is None else w
    if fit_intercept:
        xm, ym = s @ X / s.sum(), s @ Y / s.sum()
    else:
        xm, ym = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    A = (X - xm) * np.sqrt(s)[:, None]
    coef = np.column_stack([scipy.optimize.nnls(A, (Y[:, j] - ym[j]) * np.sqrt(s))[0]
                            for j in range(Y.shape[1])])
    return coef, ym - xm @ coef


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# ----------------------------------------------------------------------------- positive
@pytest.mark.parametrize("solver", ["auto", "normal"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_positive_equals_scipy_nnls_and_sklearn(solver, weighted, fit_intercept, standardize, k):
    X, y, w = _data(k=k, seed=k + 2 * weighted, weighted=weighted)
    model = LinearRegression(solver=solver, positive=True, fit_intercept=fit_intercept,
                             standardize=standardize).fit(X, y, sample_weight=w)
    coef, intercept = _scipy_nnls(X, y, w, fit_intercept)
    got = model.coef_.reshape(k, -1).T
    assert np.all(got >= 0)
    assert rel(got, coef) < 1e-10
    assert rel(np.atleast_1d(model.intercept_), intercept) < 1e-10
    zero = coef == 0
    assert zero.any() and (~zero).any()               # constraints active and inactive
    assert np.array_equal(got == 0, zero)             # the same active set, exactly
    sk = SkLinearRegression(positive=True, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    assert rel(model.coef_, sk.coef_) < 1e-10
    assert rel(model.predict(X), sk.predict(X)) < 1e-12
    assert model.solver_ == "normal"


def test_positive_from_a_streamed_source_is_the_in_memory_fit(tmp_path):
    X, y, _ = _data(n=700, seed=5)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    streamed = LinearRegression(positive=True).fit(
        sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=64))
    coef, intercept = _scipy_nnls(X, y)
    assert rel(streamed.coef_, coef[:, 0]) < 1e-10 and rel(streamed.intercept_, intercept) < 1e-10


def test_positive_with_a_penalty_is_nnls_of_the_ridge_rows():
    """alpha > 0 and positive=True: NNLS of the rows stacked on √(n_w α)·I (standardize=False)."""
    X, y, w = _data(seed=7, weighted=True)
    alpha = 0.3
    model = LinearRegression(positive=True, alpha=alpha, standardize=False).fit(
        X, y, sample_weight=w)
    s = w / 1.0
    xm, ym = s @ X / s.sum(), s @ y / s.sum()
    A = np.vstack([(X - xm) * np.sqrt(s)[:, None], np.sqrt(s.sum() * alpha) * np.eye(X.shape[1])])
    b = np.concatenate([(y - ym) * np.sqrt(s), np.zeros(X.shape[1])])
    coef = scipy.optimize.nnls(A, b)[0]
    assert (coef == 0).any() and rel(model.coef_, coef) < 1e-10


def test_positive_gradient_descent_takes_projected_steps_to_the_same_solution():
    X, y, _ = _data(seed=11)
    coef, intercept = _scipy_nnls(X, y)
    seen = []
    for optimizer in ("plain", "nesterov", "adam"):
        model = LinearRegression(solver="gd", positive=True, optimizer=optimizer, tol=1e-11,
                                 max_iter=50_000,
                                 callback=lambda info: seen.append(info["coef"].min())).fit(X, y)
        assert model.stop_reason_ == "tolerance", optimizer
        assert rel(model.coef_, coef[:, 0]) < 1e-7, optimizer
        assert abs(model.intercept_ - intercept[0]) < 1e-7 * abs(intercept[0])
    assert min(seen) >= 0.0                           # every iterate was projected


def test_positive_stopped_short_warns_with_the_gap_to_the_nonnegative_optimum():
    X, y, _ = _data(seed=11)
    with pytest.warns(linreg.ConvergenceWarning, match="times the exact optimum") as record:
        model = LinearRegression(solver="gd", positive=True, optimizer="plain", max_iter=3,
                                 standardize=False, learning_rate=1e-5).fit(X, y)
    best = SkLinearRegression(positive=True).fit(X, y)
    J = np.mean((model.predict(X) - y) ** 2) / 2
    J_star = np.mean((best.predict(X) - y) ** 2) / 2      # the non-negative optimum
    assert record[0].message.relative_loss_gap == pytest.approx((J - J_star) / J_star, rel=1e-8)


def test_positive_all_coefficients_at_zero():
    """Every feature pulls y down: all coefficients 0, the intercept the mean of y."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 3))
    y = -X @ [1.0, 2.0, 3.0] + 5.0
    model = LinearRegression(positive=True).fit(X, y)
    assert np.all(model.coef_ == 0) and model.intercept_ == pytest.approx(np.mean(y), rel=1e-14)


def test_positive_with_dependent_columns_gives_sklearns_predictions():
    X, y, _ = _data(n=300, d=4, seed=3)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])       # a dependent column
    with pytest.warns(RankDeficiencyWarning, match="one of the non-negative solutions"):
        model = LinearRegression(positive=True).fit(X, y)
    sk = SkLinearRegression(positive=True).fit(X, y)
    assert np.all(model.coef_ >= 0)
    assert rel(model.predict(X), sk.predict(X)) < 1e-9   # the fitted values are unique


def test_lawson_hanson_kkt_conditions_on_random_problems():
    rng = np.random.default_rng(0)
    for _ in range(50):
        d = int(rng.integers(1, 12))
        A = rng.standard_normal((d + 5, d))
        b = rng.standard_normal(d + 5)
        x, ok = lawson_hanson(A.T @ A, A.T @ b, 1e-12)
        ref = scipy.optimize.nnls(A, b)[0]
        grad = A.T @ b - A.T @ A @ x
        assert ok and np.all(x >= 0)
        assert np.all(grad[x == 0] <= 1e-10) and np.allclose(grad[x > 0], 0, atol=1e-10)
        np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-12)


def test_positive_bad_input_and_refused_inference(tmp_path):
    X, y, _ = _data(n=100, d=3)
    for solver in ("qr", "sgd", "minibatch"):
        with pytest.raises(ValueError, match=f"positive=True needs solver .*not solver='{solver}'"):
            LinearRegression(positive=True, solver=solver).fit(X, y)
    with pytest.raises(ValueError, match="positive=1 must be True or False"):
        LinearRegression(positive=1).fit(X, y)
    model = LinearRegression(positive=True).fit(X, y)
    with pytest.raises(PenalizedInferenceError, match="positive=True"):
        model.summary()
    model.save(tmp_path / "m.json")
    loaded = linreg.load(tmp_path / "m.json")
    assert loaded.positive is True and np.array_equal(loaded.coef_, model.coef_)


# ----------------------------------------------------------------------------- alpha per target
@pytest.mark.parametrize("solver", ["auto", "normal", "qr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_per_target_equals_sklearn_ridge(solver, weighted, fit_intercept):
    """With standardize=False, linreg's alpha_j is Ridge's alpha_j / Σs."""
    X, Y, w = _data(k=4, seed=21, weighted=weighted)
    alpha = np.array([0.0, 0.05, 2.0, 0.05])
    model = LinearRegression(alpha=alpha, solver=solver, standardize=False,
                             fit_intercept=fit_intercept).fit(X, Y, sample_weight=w)
    total = len(Y) if w is None else w.sum()
    ref = Ridge(alpha=alpha * total, fit_intercept=fit_intercept, solver="cholesky").fit(
        X, Y, sample_weight=w)
    assert rel(model.coef_, ref.coef_) < 1e-9
    assert rel(model.intercept_, ref.intercept_) < 1e-9 if fit_intercept else True
    # each target as if fitted alone with its own alpha
    for j, a in enumerate(alpha):
        one = LinearRegression(alpha=a, solver=solver, standardize=False,
                               fit_intercept=fit_intercept).fit(X, Y[:, j], sample_weight=w)
        assert rel(model.coef_[j], one.coef_) < 1e-12


def test_alpha_per_target_from_a_streamed_source_and_the_standardized_penalty(tmp_path):
    X, Y, _ = _data(n=600, k=2, seed=4)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    alpha = [0.5, 0.01]
    for solver in ("normal", "qr"):            # "qr" streamed: the TSQR factor's columns
        streamed = LinearRegression(alpha=alpha, solver=solver).fit(
            sources.npy(tmp_path / "X.npy", tmp_path / "Y.npy", chunk_rows=97))
        memory = LinearRegression(alpha=alpha, solver=solver).fit(X, Y)
        assert rel(streamed.coef_, memory.coef_) < 1e-10
        for j in range(2):                     # standardize=True: each target alone
            one = LinearRegression(alpha=alpha[j], solver=solver).fit(X, Y[:, j])
            assert rel(streamed.coef_[j], one.coef_) < 1e-10


def test_alpha_per_target_bad_input_and_model_files(tmp_path):
    X, Y, _ = _data(n=100, k=2, seed=1)
    with pytest.raises(ValueError, match="alpha has 3 values, one per target, but y has 2"):
        LinearRegression(alpha=[1.0, 2.0, 3.0]).fit(X, Y)
    with pytest.raises(ValueError, match=r"alpha\[1\]=-1.0: every alpha must be"):
        LinearRegression(alpha=[1.0, -1.0]).fit(X, Y)
    with pytest.raises(ValueError, match="1-D array of numbers with one per target"):
        LinearRegression(alpha=[[1.0, 2.0]]).fit(X, Y)
    for solver in ("gd", "sgd", "minibatch"):
        with pytest.raises(ValueError, match="alpha with one value per target needs a closed"):
            LinearRegression(alpha=[1.0, 2.0], solver=solver).fit(X, Y)
    model = LinearRegression(alpha=np.array([0.1, 3.0])).fit(X, Y)
    with pytest.raises(PenalizedInferenceError, match="alpha"):
        _ = model.summary().bse      # the penalized summary refuses only what OLS would give
    model.save(tmp_path / "m.json")
    loaded = linreg.load(tmp_path / "m.json")
    assert np.array_equal(loaded.alpha, [0.1, 3.0]) and np.array_equal(loaded.coef_, model.coef_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = LinearRegression(alpha=[0.2, 0.2]).fit(X, Y)     # equal values: one solve
    assert rel(same.coef_, LinearRegression(alpha=0.2).fit(X, Y).coef_) < 1e-15


def test_the_command_line_describes_per_target_alpha_and_positive_models(tmp_path):
    """``linreg summary MODEL`` of models saved from Python with these parameters."""
    import io

    from linreg.cli import main
    X, Y, _ = _data(n=100, k=2, seed=1)
    LinearRegression(alpha=[0.1, 3.0]).fit(X, Y).save(tmp_path / "ridge.json")
    LinearRegression(positive=True).fit(X, Y[:, 0]).save(tmp_path / "nnls.json")
    for name, expected in (("ridge.json", ["alpha = [0.1, 3]", "(alpha_j/2)‖w_j‖² for target j"]),
                           ("nnls.json", ["subject to w ≥ 0"])):
        out, err = io.StringIO(), io.StringIO()
        assert main(["summary", str(tmp_path / name)], stdout=out, stderr=err) == 0, err.getvalue()
        for text in expected:
            assert text in out.getvalue(), (text, out.getvalue())
