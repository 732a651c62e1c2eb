"""LinearRegressionCV: fold scores against explicit refits (in memory, .npy and Parquet
sources, Dask), leave-one-out against scikit-learn's RidgeCV, the chosen alpha against
GridSearchCV(Ridge), GCV against its definition from the explicit hat matrix, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, PredefinedSplit
from sklearn.utils.estimator_checks import parametrize_with_checks

from linreg import LinearRegression, LinearRegressionCV, sources
from linreg.selection import make_folds

ALPHAS = np.array([0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def make_data(n=403, d=5, k=1, seed=0, offset=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1, 20, d) + offset
    W = rng.standard_normal((d, k)) * 0.3
    Y = X @ W + 1.5 + rng.standard_normal((n, k))
    return X, (Y[:, 0] if k == 1 else Y), rng.uniform(0.2, 3.0, n)


def fold_ids(m, n):
    """The fold of every row, as the fitted model's settings say (public make_folds)."""
    folds = make_folds(m.cv, n, m.shuffle, m.random_state)
    return folds.of_rows(0, n)


def explicit_scores(X, y, w, ids, alphas, scoring="mse", **params):
    """Refit LinearRegression on every training fold and score the held-out fold."""
    out = np.empty((len(alphas), ids.max() + 1))
    Y = y.reshape(len(y), -1)
    for f in range(ids.max() + 1):
        tr, te = ids != f, ids == f
        sw = None if w is None else w[tr]
        s = np.ones(te.sum()) if w is None else w[te]
        for i, a in enumerate(alphas):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pred = LinearRegression(alpha=a, solver="normal", **params).fit(
                    X[tr], y[tr], sample_weight=sw).predict(X[te]).reshape(te.sum(), -1)
            e = pred - Y[te]
            if scoring == "mse":
                v = s @ e**2 / s.sum()
            elif scoring == "mae":
                v = s @ np.abs(e) / s.sum()
            else:
                yc = Y[te] - s @ Y[te] / s.sum()
                v = 1 - (s @ e**2) / (s @ yc**2)
            out[i, f] = np.mean(v)
    return out


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("params", [
    dict(), dict(standardize=False), dict(fit_intercept=False), dict(shuffle=True, random_state=3),
    dict(cv=3, scoring="r2"), dict(cv=4, scoring="mae"), dict(weights=False),
])
def test_fold_scores_equal_explicit_refits(params):
    params = dict(params)
    weighted = params.pop("weights", True)
    X, y, w = make_data()
    w = w if weighted else None
    m = LinearRegressionCV(alphas=ALPHAS, **params).fit(X, y, sample_weight=w)
    ids = fold_ids(m, len(y))
    lr = {k: v for k, v in params.items() if k in ("fit_intercept", "standardize")}
    want = explicit_scores(X, y, w, ids, ALPHAS, m.scoring, **lr)
    assert rel(m.score_path_, want) < 1e-9
    # the refit on all rows is LinearRegression at the chosen alpha
    full = LinearRegression(alpha=m.alpha_, solver="normal", **lr).fit(X, y, sample_weight=w)
    assert rel(m.coef_, full.coef_) < 1e-9
    assert abs(m.intercept_ - full.intercept_) <= 1e-9 * max(1, abs(full.intercept_))
    assert m.alpha_ == ALPHAS[np.argmax(m.score_path_.mean(1)) if m.scoring == "r2"
                              else np.argmin(m.score_path_.mean(1))]


def test_multi_output_and_large_offsets():
    X, Y, w = make_data(k=3, offset=1e6)
    m = LinearRegressionCV(alphas=ALPHAS, shuffle=True).fit(X, Y, sample_weight=w)
    want = explicit_scores(X, Y, w, fold_ids(m, len(Y)), ALPHAS)
    assert rel(m.mse_path_, want) < 1e-9
    assert m.coef_.shape == (3, 5) and m.intercept_.shape == (3,)


def test_hash_folds_do_not_depend_on_blocks():
    f = make_folds(5, None, True, 7)
    whole = f.of_rows(0, 1000)
    parts = np.concatenate([f.of_rows(0, 137), f.of_rows(137, 600), f.of_rows(600, 1000)])
    assert np.array_equal(whole, parts)
    assert set(np.unique(whole)) == set(range(5))
    assert not np.array_equal(whole, make_folds(5, None, True, 8).of_rows(0, 1000))


def test_contiguous_folds_are_kfold():
    n = 103
    ids = make_folds(5, n, False, 0).of_rows(0, n)
    for f, (_, te) in enumerate(KFold(5).split(np.zeros(n))):
        assert np.array_equal(np.flatnonzero(ids == f), te)


def test_groups_and_splitter():
    X, y, _ = make_data(n=120)
    groups = np.repeat(np.arange(6), 20)[np.random.default_rng(1).permutation(120)]
    m = LinearRegressionCV(alphas=ALPHAS, cv=groups).fit(X, y)
    want = explicit_scores(X, y, None, groups, ALPHAS)
    assert rel(m.mse_path_, want) < 1e-9
    # a GroupKFold splitter with 6 groups in 6 splits gives the same folds (possibly reordered)
    s = LinearRegressionCV(alphas=ALPHAS, cv=GroupKFold(6)).fit(X, y, groups=groups)
    assert rel(np.sort(s.mse_path_, axis=1), np.sort(m.mse_path_, axis=1)) < 1e-12


def test_chosen_alpha_matches_grid_search_ridge():
    X, y, _ = make_data(n=500, seed=4)
    n = len(y)
    alphas = np.geomspace(1e-4, 10, 15)
    m = LinearRegressionCV(alphas=alphas, cv=5, standardize=False).fit(X, y)
    # each training fold has n_train rows: Ridge's alpha is n_train·alpha there, so the grid
    # is searched over alpha per row with a Ridge wrapper that converts on each fold
    ids = fold_ids(m, n)
    grid = GridSearchCV(LinearRegression(solver="normal", standardize=False),
                        {"alpha": list(alphas)}, cv=PredefinedSplit(ids),
                        scoring="neg_mean_squared_error").fit(X, y)
    assert m.alpha_ == grid.best_params_["alpha"]
    assert rel(-grid.cv_results_["mean_test_score"], m.mse_path_.mean(1)) < 1e-9
    # and Ridge itself, fold by fold, with alpha = n_train · alpha
    for f in range(5):
        tr, te = ids != f, ids == f
        for i in (0, 7, 14):
            r = Ridge(alpha=tr.sum() * alphas[i]).fit(X[tr], y[tr])
            assert rel(np.mean((r.predict(X[te]) - y[te]) ** 2), m.mse_path_[i, f]) < 1e-8


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_matches_ridgecv(fit_intercept):
    X, y, _ = make_data(n=150)
    n = len(y)
    alphas = np.geomspace(1e-3, 10, 8)
    m = LinearRegressionCV(alphas=alphas, cv="loo", standardize=False,
                           fit_intercept=fit_intercept).fit(X, y)
    sk = RidgeCV(alphas=n * alphas, fit_intercept=fit_intercept, store_cv_results=True,
                 scoring=None).fit(X, y)
    assert rel(m.mse_path_[:, 0], sk.cv_results_.mean(axis=0)) < 1e-9
    assert m.alpha_ * n == pytest.approx(sk.alpha_, rel=1e-12)


def test_loo_weighted_equals_explicit_leave_one_out():
    X, y, w = make_data(n=40, d=3)
    alphas = np.array([1e-3, 0.1])
    m = LinearRegressionCV(alphas=alphas, cv="loo", standardize=False).fit(X, y, sample_weight=w)
    n_w = w.sum()
    for i, a in enumerate(alphas):
        e = []
        for r in range(len(y)):
            keep = np.arange(len(y)) != r
            # the whole data's penalty n_w·a held fixed: alpha per row n_w·a/(n_w − s_r)
            fit = LinearRegression(alpha=a * n_w / w[keep].sum(), standardize=False).fit(
                X[keep], y[keep], sample_weight=w[keep])
            e.append(fit.predict(X[r:r + 1])[0] - y[r])
        assert rel(m.mse_path_[i, 0], w @ np.square(e) / n_w) < 1e-9


def test_gcv_from_explicit_hat_matrix():
    X, y, _ = make_data(n=80, d=4)
    n = len(y)
    alphas = np.geomspace(1e-3, 1, 5)
    m = LinearRegressionCV(alphas=alphas, cv="gcv", standardize=False).fit(X, y)
    A = np.column_stack([np.ones(n), X])
    for i, a in enumerate(alphas):
        P = np.diag([0.0] + [n * a] * 4)
        H = A @ np.linalg.solve(A.T @ A + P, A.T)
        r = y - H @ y
        gcv = np.mean(r**2) / (1 - np.trace(H) / n) ** 2
        assert rel(m.mse_path_[i, 0], gcv) < 1e-9


def test_npy_and_parquet_sources_equal_memory(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y, _ = make_data(n=2000, offset=50.0)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(5)]).assign(y=y)
    df.iloc[:1100].to_parquet(tmp_path / "a.parquet", row_group_size=300)
    df.iloc[1100:].to_parquet(tmp_path / "b.parquet", row_group_size=256)
    for shuffle in (False, True):
        mem = LinearRegressionCV(alphas=ALPHAS, shuffle=shuffle).fit(X, y)
        want = explicit_scores(X, y, None, fold_ids(mem, len(y)), ALPHAS)
        assert rel(mem.mse_path_, want) < 1e-9
        for src in (sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=333),
                    sources.parquet(str(tmp_path / "*.parquet"), target="y", chunk_rows=200)):
            m = LinearRegressionCV(alphas=ALPHAS, shuffle=shuffle).fit(src)
            assert rel(m.mse_path_, mem.mse_path_) < 1e-10
            assert rel(m.coef_, mem.coef_) < 1e-10 and m.alpha_ == mem.alpha_
    mae = LinearRegressionCV(alphas=ALPHAS, scoring="mae").fit(
        sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=333))
    assert rel(mae.score_path_, explicit_scores(X, y, None, fold_ids(mae, len(y)), ALPHAS,
                                                "mae")) < 1e-9
    loo = LinearRegressionCV(alphas=ALPHAS[1:], cv="loo").fit(
        sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=333))
    assert rel(loo.mse_path_, LinearRegressionCV(alphas=ALPHAS[1:], cv="loo").fit(X, y)
               .mse_path_) < 1e-10


def test_the_streamed_fold_pass_names_bad_values(tmp_path):
    """The fold pass reads a file's blocks as stored (no copy, no check of every value) and
    checks its own sums: a bad value is still named, with its file, row and column, as the
    plain fit names it."""
    from linreg.sources import MalformedDataError
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((500, 3)), rng.standard_normal(500)
    w = rng.uniform(0.5, 2.0, 500)

    def files(X, y, w=None):
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        np.save(folder / "X.npy", X)
        np.save(folder / "y.npy", y)
        if w is not None:
            np.save(folder / "w.npy", w)
        return sources.npy(folder / "X.npy", folder / "y.npy", chunk_rows=64,
                           sample_weight_path=None if w is None else folder / "w.npy")

    bad_y = y.copy()
    bad_y[400] = np.inf
    bad_w = w.copy()
    bad_w[77] = -1.0
    huge = X.copy()
    huge[130, 1] = 1e200
    for data, says in ((files(X, bad_y), "row 400 is inf"),
                       (files(X, y, bad_w), "-1.0; weights must be >= 0"),
                       (files(huge, y), "X column 1 has values so large")):
        for shuffle in (False, True):
            with pytest.raises(MalformedDataError, match=says) as caught:
                LinearRegressionCV(alphas=[0.1, 1.0], shuffle=shuffle).fit(data)
            assert "y.npy" in str(caught.value) or "w.npy" in str(caught.value) \
                or "X.npy" in str(caught.value)
    # and the good file gives what the rows in memory give
    m = LinearRegressionCV(alphas=ALPHAS).fit(files(X, y, w))
    mem = LinearRegressionCV(alphas=ALPHAS).fit(X, y, sample_weight=w)
    assert rel(m.mse_path_, mem.mse_path_) < 1e-10


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(cv=500), "only 403 rows"),
    (dict(cv=1), "at least 2"),
    (dict(cv=np.zeros(403)), "1 fold"),
    (dict(cv=np.zeros(10)), "10 rows"),
    (dict(alphas=[0.1, -1.0]), ">= 0"),
    (dict(alphas=[1.0, 0.1]), "strictly increasing"),
    (dict(alphas=[0.1, 0.1]), "strictly increasing"),
    (dict(alphas=[np.nan]), "finite"),
    (dict(scoring="rmse"), "scoring"),
    (dict(selection="best"), "selection"),
    (dict(cv="gcv", selection="1se"), "1se"),
    (dict(cv="loo", scoring="r2"), "mean squared error only"),
    (dict(cv="kfold"), "cv must be"),
    (dict(shuffle=True, random_state=None), "random_state"),
])
def test_bad_input(kwargs, match):
    X, y, _ = make_data()
    with pytest.raises(ValueError, match=match):
        LinearRegressionCV(**kwargs).fit(X, y)


def test_fold_with_one_row_is_refused():
    X, y, _ = make_data(n=30)
    ids = np.r_[np.zeros(29), 1]
    with pytest.raises(ValueError, match="fold 1 holds 1 rows"):
        LinearRegressionCV(cv=ids, alphas=ALPHAS).fit(X, y)


def test_nan_scores_are_never_chosen_silently():
    X, y, _ = make_data(n=40)
    y2 = y.copy()
    y2[:8] = 5.0                 # the first fold's targets are constant: r2 there is NaN
    with pytest.raises(ValueError, match="every alpha"):
        LinearRegressionCV(alphas=ALPHAS, scoring="r2").fit(X, y2)


def test_one_standard_error_rule():
    X, y, _ = make_data(n=300, d=8, seed=5)
    alphas = np.geomspace(1e-5, 10, 30)
    m = LinearRegressionCV(alphas=alphas, selection="1se").fit(X, y)
    mean = m.mse_path_.mean(1)
    se = m.mse_path_.std(1, ddof=1) / np.sqrt(5)
    best = np.argmin(mean)
    want = alphas[np.flatnonzero(mean <= mean[best] + se[best]).max()]
    assert m.alpha_ == want == m.alpha_1se_ and m.alpha_ >= m.alpha_min_


def sparse_copy(X, fmt, seed=0):
    """``X`` with about half its entries zero, as a scipy.sparse matrix of format ``fmt``
    (one column empty, one explicit zero stored), and the same values dense."""
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    D = np.where(rng.random(X.shape) < 0.5, 0.0, X)
    D[:, 2] = 0.0
    S = sp.csr_matrix(D)
    S.data[0] = 0.0                       # an explicit zero (D there becomes 0 too)
    D = S.toarray()
    return S.asformat(fmt), D


@pytest.mark.parametrize("fmt, params", [
    ("csr", dict()), ("csc", dict(shuffle=True, random_state=2)), ("coo", dict(cv=4, scoring="mae")),
    ("csr", dict(standardize=False, fit_intercept=False)), ("csr", dict(k=2)),
])
def test_sparse_rows_fold_scores_equal_explicit_dense_refits(fmt, params):
    """Sparse X gives the fold scores of refits on the same rows made dense (every fold's
    statistics from sparse products), and the same chosen alpha and refit."""
    params = dict(params)
    X, y, w = make_data(k=params.pop("k", 1))
    S, D = sparse_copy(X, fmt)
    m = LinearRegressionCV(alphas=ALPHAS, **params).fit(S, y, sample_weight=w)
    lr = {k: v for k, v in params.items() if k in ("fit_intercept", "standardize")}
    want = explicit_scores(D, y, w, fold_ids(m, len(y)), ALPHAS, m.scoring, **lr)
    assert rel(m.score_path_, want) < 1e-9
    dense = LinearRegressionCV(alphas=ALPHAS, **params).fit(D, y, sample_weight=w)
    assert m.alpha_ == dense.alpha_
    assert rel(m.coef_, dense.coef_) < 1e-10
    np.testing.assert_allclose(m.predict(S), dense.predict(D), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cv", ["loo", "gcv"])
def test_sparse_rows_loo_and_gcv_equal_dense(cv):
    X, y, w = make_data(n=120)
    S, D = sparse_copy(X, "csr")
    m = LinearRegressionCV(alphas=ALPHAS, cv=cv).fit(S, y, sample_weight=w)
    dense = LinearRegressionCV(alphas=ALPHAS, cv=cv).fit(D, y, sample_weight=w)
    assert rel(m.mse_path_, dense.mse_path_) < 1e-9 and m.alpha_ == dense.alpha_


def test_sparse_rows_bad_input_named():
    import scipy.sparse as sp
    X, y, _ = make_data(n=50)
    S = sp.csr_matrix(X)
    S.data[7] = np.nan
    with pytest.raises(ValueError, match=r"row 1, column 2"):
        LinearRegressionCV(alphas=ALPHAS).fit(S, y)
    with pytest.raises(ValueError, match="dense y"):
        LinearRegressionCV(alphas=ALPHAS).fit(sp.csr_matrix(X), sp.csr_matrix(y[:, None]))


def test_automatic_alphas():
    X, y, _ = make_data()
    m = LinearRegressionCV(n_alphas=12).fit(X, y)
    assert m.alphas_.shape == (12,) and np.all(np.diff(m.alphas_) > 0)
    assert m.mse_path_.shape == (12, 5)


@parametrize_with_checks([LinearRegressionCV(alphas=[1e-3, 1e-1]),
                          LinearRegressionCV(cv="gcv", standardize=False)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------------- stepwise
def greedy_statsmodels(X, y, direction, criterion, start):
    """The same search through statsmodels OLS refits: every candidate model fitted."""
    import statsmodels.api as sm

    def ic(cols):
        A = sm.add_constant(X[:, sorted(cols)], has_constant="add") if cols else np.ones((len(y), 1))
        r = sm.OLS(y, A).fit()
        return r.aic if criterion == "aic" else r.bic

    model = list(start)
    value = ic(model)
    while True:
        moves = []
        for j in range(X.shape[1]):
            if j in model and direction != "forward":
                moves.append((ic([c for c in model if c != j]), j))
            if j not in model and direction != "backward":
                moves.append((ic(model + [j]), j))
        best = min(moves, default=(np.inf, None))
        if best[0] >= value:
            return sorted(model), value
        value, j = best
        model = [c for c in model if c != j] if j in model else model + [j]


@pytest.mark.parametrize("direction, criterion, start", [
    ("forward", "aic", None), ("backward", "bic", None), ("both", "aic", None),
    ("both", "bic", [0, 1, 2, 3, 4, 5, 6, 7]),
])
def test_stepwise_equals_statsmodels_refits(direction, criterion, start):
    from linreg import sufficient_stats
    from linreg.selection import stepwise
    rng = np.random.default_rng(11)
    n, d = 120, 8
    X = rng.standard_normal((n, d))
    X[:, 3] += 0.8 * X[:, 1]
    y = X @ [0.9, 0.0, 0.4, 0.25, 0.0, -0.3, 0.1, 0.0] + 2 + rng.standard_normal(n)
    s0 = [] if start is None and direction != "backward" else (start or list(range(d)))
    want, value = greedy_statsmodels(X, y, direction, criterion, s0)
    res = stepwise(sufficient_stats(X, y.reshape(-1, 1)), direction, criterion, start)
    assert sorted(res.selected) == want
    assert abs(res.value - value) <= 1e-8 * abs(value)
    # every criterion on the path is the statsmodels value of that model
    import statsmodels.api as sm
    model = list(s0)
    for action, j, v in res.path[1:]:
        model = model + [j] if action == "+" else [c for c in model if c != j]
        r = sm.OLS(y, sm.add_constant(X[:, sorted(model)], has_constant="add")).fit()
        assert abs(v - (r.aic if criterion == "aic" else r.bic)) <= 1e-8 * abs(v)


def test_stepwise_bad_input():
    from linreg import sufficient_stats
    from linreg.selection import stepwise
    X, y, _ = make_data(n=50)
    s = sufficient_stats(X, y.reshape(-1, 1))
    with pytest.raises(ValueError, match="direction"):
        stepwise(s, direction="sideways")
    with pytest.raises(ValueError, match="criterion"):
        stepwise(s, criterion="cp")
    with pytest.raises(ValueError, match="start must"):
        stepwise(s, start=[0, 9])


def ic_statsmodels(X, y, cols, criterion, w=None):
    import statsmodels.api as sm
    A = sm.add_constant(X[:, sorted(cols)], has_constant="add") if cols else np.ones((len(y), 1))
    r = (sm.OLS(y, A) if w is None else sm.WLS(y, A, weights=w)).fit()
    return {"aic": r.aic, "bic": r.bic, "adjr2": r.rsquared_adj}[criterion]


def selection_data(n=90, d=8, seed=11):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, 3] += 0.8 * X[:, 1]
    beta = np.zeros(d)
    beta[:6] = [0.9, 0.0, 0.4, 0.25, 0.0, -0.3]
    y = X @ beta + 2 + rng.standard_normal(n)
    return X, y, rng.uniform(0.3, 3.0, n)


@pytest.mark.parametrize("criterion", ["aic", "bic", "adjr2"])
@pytest.mark.parametrize("weighted", [False, True])
def test_best_subset_equals_brute_force_statsmodels(criterion, weighted):
    """Every one of the 2^8 subsets refitted by statsmodels: the best is ours, and so is the
    best of every size on the path, with the same criterion (1e-8)."""
    import itertools

    from linreg import sufficient_stats
    from linreg.selection import best_subset
    X, y, w = selection_data()
    w = w if weighted else None
    d = X.shape[1]
    sign = -1.0 if criterion == "adjr2" else 1.0
    by_size = {}
    for k in range(d + 1):
        for cols in itertools.combinations(range(d), k):
            v = ic_statsmodels(X, y, list(cols), criterion, w)
            if k not in by_size or sign * v < sign * by_size[k][1]:
                by_size[k] = (list(cols), v)
    want = min(by_size.values(), key=lambda cv: sign * cv[1])
    lws = None if w is None else np.log(w).sum()
    res = best_subset(sufficient_stats(X, y.reshape(-1, 1), w), criterion, log_weight_sum=lws)
    assert res.selected == want[0]
    assert abs(res.value - want[1]) <= 1e-8 * abs(want[1])
    assert [k for k, _, _ in res.path] == list(range(d + 1))
    for k, cols, v in res.path:
        assert cols == by_size[k][0]
        assert abs(v - by_size[k][1]) <= 1e-8 * max(abs(v), 1e-3)


@pytest.mark.parametrize("criterion, direction", [("adjr2", "both"), ("aic", "forward"), ("bic", "both")])
def test_stepwise_selector_weighted_and_adjr2_equal_statsmodels(criterion, direction):
    """The selector's path is the greedy search through statsmodels WLS refits; model_ is the
    statsmodels fit of the chosen columns."""
    import statsmodels.api as sm

    from linreg.selection import StepwiseSelector
    X, y, w = selection_data(seed=4)
    sel = StepwiseSelector(criterion=criterion, direction=direction).fit(X, y, sample_weight=w)
    sign = -1.0 if criterion == "adjr2" else 1.0
    model, value = [], ic_statsmodels(X, y, [], criterion, w)
    assert abs(sel.path_[0][2] - value) <= 1e-8 * max(abs(value), 1e-3)
    for action, j, v in sel.path_[1:]:
        model = model + [j] if action == "+" else [c for c in model if c != j]
        want = ic_statsmodels(X, y, model, criterion, w)
        assert abs(v - want) <= 1e-8 * max(abs(want), 1e-3)
        # no other single move was better than the one taken
        for c in range(X.shape[1]):
            if c == j or (direction == "forward" and c in model):
                continue
            prev = [m for m in model if m != j] if action == "+" else model + [j]
            other = [m for m in prev if m != c] if c in prev else prev + [c]
            assert sign * ic_statsmodels(X, y, other, criterion, w) >= sign * v - 1e-9 * abs(v)
    assert sorted(sel.selected_) == sorted(model)
    r = sm.WLS(y, sm.add_constant(X[:, sorted(sel.selected_)]), weights=w).fit()
    np.testing.assert_allclose(sel.model_.coef_, r.params[1:], rtol=1e-8)
    np.testing.assert_allclose(sel.predict(X), r.fittedvalues, rtol=1e-8)


def test_selection_refuses_weights_without_log_weights_and_large_exhaustive():
    from linreg import sufficient_stats
    from linreg.selection import StepwiseSelector, best_subset, stepwise
    X, y, w = selection_data()
    s = sufficient_stats(X, y.reshape(-1, 1), w)
    with pytest.raises(ValueError, match="weighted .*log_weight_sum"):
        stepwise(s, "both", "aic")
    with pytest.raises(ValueError, match="weighted .*log_weight_sum"):
        best_subset(s, "aic")
    with pytest.raises(ValueError, match="log_weight_sum must be finite"):
        stepwise(s, "both", "aic", log_weight_sum=-np.inf)
    with pytest.raises(ValueError, match="2\\^8 subsets .*max_features=5"):
        best_subset(sufficient_stats(X, y.reshape(-1, 1)), max_features=5)
    with pytest.raises(ValueError, match="criterion"):
        best_subset(sufficient_stats(X, y.reshape(-1, 1)), criterion="cp")
    w0 = w.copy()
    w0[3] = 0
    with pytest.raises(ValueError, match="positive"):
        StepwiseSelector().fit(X, y, sample_weight=w0)
    with pytest.raises(ValueError, match="start has no meaning"):
        StepwiseSelector(direction="exhaustive", start=[1]).fit(X, y)
    with pytest.raises(ValueError, match="direction"):
        StepwiseSelector(direction="sideways").fit(X, y)
