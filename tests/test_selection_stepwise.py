"""StepwiseSelector on every kind of rows ``as_rows`` takes (``.npy`` and Parquet sources,
``scipy.sparse``; Dask in test_selection_dask.py), against statsmodels refits of every model
on the path; scikit-learn's estimator checks; best-subset selection at d = 25 against
numpy.linalg.lstsq fits of its chosen models."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_selection import ic_statsmodels

from linreg import LinearRegressionCV, sources, sufficient_stats
from linreg.selection import StepwiseSelector, best_subset


def path_data(n=300, d=7, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(0.5, 4, d) + 10.0
    X[:, 4] += 0.6 * X[:, 0]
    beta = np.array([0.8, 0.0, -0.3, 0.15, 0.0, 0.05, 0.0])[:d]
    y = X @ beta + 3.0 + rng.standard_normal(n)
    return X, y, rng.uniform(0.3, 3.0, n)


def assert_path_is_statsmodels(sel, X, y, w=None):
    """Every criterion on the path is the statsmodels OLS/WLS value of that model, and model_
    is the statsmodels fit of the chosen columns."""
    import statsmodels.api as sm

    model = []
    value = ic_statsmodels(X, y, [], sel.criterion, w)
    assert abs(sel.path_[0][2] - value) <= 1e-8 * max(abs(value), 1e-3)
    for action, j, v in sel.path_[1:]:
        model = model + [j] if action == "+" else [c for c in model if c != j]
        want = ic_statsmodels(X, y, model, sel.criterion, w)
        assert abs(v - want) <= 1e-8 * max(abs(want), 1e-3)
    assert sorted(sel.selected_) == sorted(model) and model
    A = sm.add_constant(X[:, sorted(sel.selected_)])
    r = (sm.OLS(y, A) if w is None else sm.WLS(y, A, weights=w)).fit()
    np.testing.assert_allclose(sel.model_.coef_, r.params[1:], rtol=1e-8)
    np.testing.assert_allclose(sel.model_.intercept_, r.params[0], rtol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # one warning at most: the selector's own, when it has names
        warnings.filterwarnings("ignore", "X does not have valid feature names, but StepwiseSelector")
        np.testing.assert_allclose(sel.predict(X), r.fittedvalues, rtol=1e-8)


@pytest.mark.parametrize("criterion", ["aic", "bic", "adjr2"])
def test_npy_source_equals_statsmodels(tmp_path, criterion):
    X, y, _ = path_data()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    sel = StepwiseSelector(criterion=criterion).fit(
        sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=71))
    assert sel.n_features_in_ == 7 and not hasattr(sel, "feature_names_in_")
    assert_path_is_statsmodels(sel, X, y)


def test_weighted_parquet_source_equals_statsmodels_wls(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y, w = path_data(seed=5)
    names = [f"f{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=names).assign(target=y, w=w)
    df.iloc[:130].to_parquet(tmp_path / "a.parquet", row_group_size=50)
    df.iloc[130:].to_parquet(tmp_path / "b.parquet", row_group_size=64)
    src = sources.parquet(str(tmp_path / "*.parquet"), target="target", weight="w", chunk_rows=40)
    sel = StepwiseSelector(criterion="aic", direction="forward").fit(src)
    assert list(sel.feature_names_in_) == names
    assert sel.selected_names_ == [names[j] for j in sel.selected_]
    assert_path_is_statsmodels(sel, X, y, w)
    # exhaustive over the same source: the brute-force best of all 2^7 subsets
    import itertools
    best = min((ic_statsmodels(X, y, list(c), "bic", w), list(c))
               for k in range(8) for c in itertools.combinations(range(7), k))
    ex = StepwiseSelector(direction="exhaustive").fit(src)
    assert ex.selected_ == best[1] and abs(ex.criterion_value_ - best[0]) <= 1e-8 * abs(best[0])
    # a zero weight in the file is refused: that row has no likelihood
    df.loc[17, "w"] = 0.0
    df.to_parquet(tmp_path / "z.parquet")
    with pytest.raises(ValueError, match="zero or negative for 1 rows"):
        StepwiseSelector().fit(sources.parquet(str(tmp_path / "z.parquet"), target="target",
                                               weight="w"))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_rows_equal_statsmodels(fmt):
    X, y, w = path_data(seed=7)
    X = np.where(np.abs(X - 10) < 1.0, 0.0, X)        # many zeros
    Xs = scipy.sparse.csr_matrix(X) if fmt == "csr" else scipy.sparse.csc_matrix(X)
    sel = StepwiseSelector(criterion="bic").fit(Xs, y, sample_weight=w)
    assert_path_is_statsmodels(sel, X, y, w)
    assert np.allclose(sel.predict(Xs), sel.predict(X), rtol=1e-12)


def test_source_refusals(tmp_path):
    X, y, _ = path_data(n=50)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", np.column_stack([y, y]))
    with pytest.raises(ValueError, match="one target; got 2"):
        StepwiseSelector().fit(sources.npy(tmp_path / "X.npy", tmp_path / "Y.npy"))
    with pytest.raises(ValueError, match="requires y to be passed"):
        StepwiseSelector().fit(X)
    with pytest.raises(ValueError, match="n_samples=5"):
        StepwiseSelector().fit(X[:5], y[:5])


def _expected_failures(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data":
            "zero weights are refused (a row of zero weight has no likelihood for AIC/BIC), and "
            "the check's 15 rows × 30 features leave no finite criterion for the full model",
        "check_sample_weight_equivalence_on_sparse_data":
            "as on dense data: zero weights are refused, and n < d + 1",
    } if isinstance(estimator, StepwiseSelector) else {}


@parametrize_with_checks([StepwiseSelector(), StepwiseSelector(direction="exhaustive"),
                          StepwiseSelector(criterion="adjr2", direction="forward"),
                          LinearRegressionCV(alphas=[1e-3, 1e-1], alpha_per_target=True)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # "no features were selected"
        check(estimator)


# --------------------------------------------------------------------------- best subset
def test_best_subset_at_25_features_against_lstsq():
    """d = 25 (2^25 subsets): the best model of every size, its RSS checked by lstsq; and no
    other model of that size beats it among the neighbours one swap away."""
    rng = np.random.default_rng(25)
    n, d = 400, 25
    X = rng.standard_normal((n, d))
    X[:, 5] += 0.7 * X[:, 2]
    beta = np.where(rng.uniform(size=d) < 0.3, rng.standard_normal(d), 0.0)
    y = X @ beta + 1.0 + rng.standard_normal(n)
    stats = sufficient_stats(X, y.reshape(-1, 1))
    res = best_subset(stats, "bic")
    A1 = np.ones((n, 1))

    def rss(cols):
        A = np.column_stack([A1, X[:, sorted(cols)]])
        r = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
        return r @ r

    assert [k for k, _, _ in res.path] == list(range(d + 1))
    for k, cols, value in res.path[1:]:
        best = rss(cols)
        want = ic_statsmodels(X, y, cols, "bic") if k in (1, 8, 20) else None
        if want is not None:
            assert abs(value - want) <= 1e-8 * abs(want)
        for out in cols[:3]:                  # a few one-swap neighbours are no better
            for into in range(d):
                if into not in cols:
                    assert rss([c for c in cols if c != out] + [into]) >= best * (1 - 1e-10)


@pytest.mark.resources
def test_best_subset_at_25_features_takes_seconds():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, 25))
    y = X[:, :4].sum(axis=1) + rng.standard_normal(300)
    stats = sufficient_stats(X, y.reshape(-1, 1))
    best_subset(sufficient_stats(X[:, :3], y.reshape(-1, 1)))     # compiled (or cached) first
    t0 = time.perf_counter()
    best_subset(stats, "bic")
    assert time.perf_counter() - t0 < 30     # 0.9 s on the project's 2-core machine


def test_best_subset_every_size_equals_lstsq_over_all_subsets():
    """d = 12 with an exactly collinear column: the lowest RSS of every size over all 4,096
    subsets, each fitted by numpy.linalg.lstsq (rank-deficient subsets left out)."""
    import itertools

    rng = np.random.default_rng(12)
    n, d = 150, 12
    X = rng.standard_normal((n, d)) * np.geomspace(0.1, 30, d) + 5.0
    X[:, 7] = X[:, 1] - 2 * X[:, 4]
    y = X @ rng.standard_normal(d) * 0.1 + rng.standard_normal(n)
    best = {}
    for k in range(d + 1):
        for cols in itertools.combinations(range(d), k):
            A = np.column_stack([np.ones(n), X[:, list(cols)]])
            coef, _, rank, _ = np.linalg.lstsq(A, y, rcond=None)
            if rank < k + 1:
                continue
            r = y - A @ coef
            if k not in best or r @ r < best[k][0]:
                best[k] = (r @ r, list(cols))
    res = best_subset(sufficient_stats(X, y.reshape(-1, 1)), "aic")
    assert [k for k, _, _ in res.path] == sorted(best)
    for k, cols, value in res.path:
        # subsets spanning the same columns (with column 7, {1, 4} ~ {1, 7} ~ {4, 7}) tie
        assert abs(value - ic_statsmodels(X, y, best[k][1], "aic")) <= 1e-8 * abs(value)
        assert abs(value - ic_statsmodels(X, y, cols, "aic")) <= 1e-8 * abs(value)


def test_best_subset_limit_is_said():
    X, y, _ = path_data()
    with pytest.raises(ValueError, match="2\\^7 subsets .*max_features=6"):
        best_subset(sufficient_stats(X, y.reshape(-1, 1)), max_features=6)
    with pytest.raises(ValueError, match="max_features must be"):
        best_subset(sufficient_stats(X, y.reshape(-1, 1)), max_features=41)


def test_dataframe_names_and_no_spurious_warnings():
    pd = pytest.importorskip("pandas")
    X, y, _ = path_data(seed=9)
    df = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sel = StepwiseSelector().fit(df, y)
        assert_path_is_statsmodels(sel, X, y)
        assert sel.selected_names_ == [f"c{j}" for j in sel.selected_]
        assert list(sel.get_feature_names_out()) == [f"c{j}" for j in sorted(sel.selected_)]
        np.testing.assert_array_equal(sel.transform(df), X[:, sorted(sel.selected_)])
        sel.predict(df)


def test_refit_on_a_source_forgets_the_earlier_names(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y, _ = path_data(n=120)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    for est in (StepwiseSelector(), LinearRegressionCV(alphas=[0.01, 1.0])):
        est.fit(pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])]), y)
        assert hasattr(est, "feature_names_in_")
        est.fit(sources.npy(tmp_path / "X.npy", tmp_path / "y.npy"))
        assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == X.shape[1]
