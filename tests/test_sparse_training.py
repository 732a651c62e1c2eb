"""The iterative solvers without the d × d statistics: CSR rows read in place (the compiled
kernels of linreg.stochastic_sparse), the loss history from passes over the rows, the path
chosen by cost — each against the dense kernels on X.toarray(), the textbook module, NumPy
on the rows and scikit-learn."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from linreg import ConvergenceWarning, LinearRegression, textbook
from linreg.exceptions import RankDeficiencyWarning
from linreg.rows import MemoryRows, SparseRows
from linreg.solvers import paths

STOPPED_ON_PURPOSE = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
OPTIMIZERS = ("plain", "momentum", "nesterov", "adam")


def sparse_problem(n=400, d=30, k=1, density=0.15, seed=0, index_dtype=np.int32, offset=0.0):
    """A random CSR X with an empty row and an empty column (values around ``offset``), its
    dense copy, targets (n,) or (n, k) and weights."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda m: rng.normal(size=m) + offset).tolil()
    X[3, :] = 0
    X[:, 5] = 0
    X = X.tocsr()
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    dense = X.toarray()
    Y = dense @ rng.normal(size=(d, k)) + 2.0 + 0.1 * rng.normal(size=(n, k))
    w = rng.uniform(0.2, 3.0, size=n)
    return X, dense, (Y[:, 0] if k == 1 else Y), w


def fit(X, y, w=None, checkpoint=None, **params):
    """A fit, quiet about stopping short (on purpose here) and the empty column."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        return LinearRegression(**params).fit(X, y, sample_weight=w, checkpoint=checkpoint)


def rows_loss(dense, y, coef, intercept, w=None, alpha=0.0, scale=None):
    """J from the rows by NumPy (coef (d,) or (k, d)); ``alpha`` on the coefficients in the
    design's units (``coef · scale``)."""
    s = np.ones(len(dense)) if w is None else w
    C = np.atleast_2d(coef).T
    r = dense @ C + intercept - y.reshape(len(dense), -1)
    theta = C * (1.0 if scale is None else scale[:, None])
    return float(s @ (r**2).sum(axis=1) / (2 * s.sum()) + alpha / 2 * np.sum(theta**2))


# ---------------------------------------------------------------- CSR kernels = dense kernels
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
@pytest.mark.parametrize("k", [1, 3])
def test_csr_training_follows_the_dense_trajectory(solver, optimizer, k):
    """Weighted, ridge, standardized (so centring is implicit on the CSR rows), three epochs
    with a fixed step and with the automatic one: the coefficients after each epoch, the loss
    history and the progressive loss equal those of the dense kernels on X.toarray()."""
    X, dense, Y, w = sparse_problem(k=k, seed=1, offset=0.5)
    params = dict(solver=solver, optimizer=optimizer, batch_size=7, alpha=0.01, max_iter=3,
                  tol=0, random_state=3, momentum=0.8)
    for lr in (0.005, "auto"):
        seen = {"sparse": [], "dense": []}
        models = {}
        for kind, data in (("sparse", X), ("dense", dense)):
            models[kind] = fit(data, Y, w, learning_rate=lr, **params, callback=lambda info,
                               kind=kind, seen=seen: seen[kind].append(
                                   np.array(info["coef"], copy=True)))
        a, b = models["sparse"], models["dense"]
        assert a.training_path_ == "rows"
        for coef_a, coef_b in zip(seen["sparse"], seen["dense"]):
            np.testing.assert_allclose(coef_a, coef_b, rtol=0, atol=1e-12 * np.abs(coef_b).max())
        np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)
        np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=1e-11)
        np.testing.assert_allclose(a.progressive_loss_history_, b.progressive_loss_history_,
                                   rtol=1e-11)
        assert a.learning_rate_ == pytest.approx(b.learning_rate_, rel=1e-13)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_csr_epochs_are_the_textbook_epochs(solver, index_dtype, standardize, fit_intercept):
    """Plain SGD / mini-batch on CSR rows (int32 or int64 indices, an empty row and column):
    two epochs equal textbook.sgd_epoch / minibatch_epoch on the dense rows — standardized
    by textbook.standardize when asked (no intercept: scaled by the root mean square)."""
    X, dense, y, _ = sparse_problem(n=120, d=12, seed=2, index_dtype=index_dtype)
    lr, alpha, batch = 0.01, 0.02, 1 if solver == "sgd" else 8
    m = fit(X, y, solver=solver, batch_size=batch, standardize=standardize,
            fit_intercept=fit_intercept, learning_rate=lr, alpha=alpha, max_iter=2, tol=0,
            random_state=4, schedule="constant")
    assert m.training_path_ == "rows"
    if standardize and fit_intercept:
        Z, mean, scale = textbook.standardize(dense)
    elif standardize:
        scale = np.sqrt((dense**2).mean(axis=0))
        scale[scale == 0] = 1.0
        Z, mean = dense / scale, np.zeros(12)
    else:
        Z, mean, scale = dense, np.zeros(12), np.ones(12)
    rng = np.random.default_rng(4)
    theta, beta = np.zeros(12), 0.0
    for _ in range(2):
        order = rng.permutation(120)
        if fit_intercept:
            theta, beta = textbook.minibatch_epoch(Z, y, theta, beta, lr, order, batch, alpha)
        else:     # no intercept: the same steps with b held at 0
            for start in range(0, 120, batch):
                rows = order[start:start + batch]
                gw, _ = textbook.gradients(Z[rows], y[rows], theta, 0.0, alpha=alpha)
                theta = theta - lr * gw
    coef = theta / scale
    np.testing.assert_allclose(m.coef_, coef, rtol=0, atol=1e-12 * np.abs(coef).max())
    assert m.intercept_ == pytest.approx(beta - mean @ coef if fit_intercept else 0.0,
                                         rel=1e-11, abs=1e-12)


@STOPPED_ON_PURPOSE
def test_progressive_loss_is_the_before_update_loss():
    """shuffle=False, raw features, plain SGD: the progressive loss of the first epoch is
    1/(2n) Σ r_i², each r_i taken (by the textbook) before the step on row i."""
    X, dense, y, _ = sparse_problem(n=80, d=6, seed=5)
    lr = 0.02
    m = LinearRegression(solver="sgd", standardize=False, shuffle=False, learning_rate=lr,
                         max_iter=1, tol=0).fit(X, y)
    wv, b, total = np.zeros(6), 0.0, 0.0
    for i in range(80):
        total += (dense[i] @ wv + b - y[i]) ** 2
        wv, b = textbook.gd_step(dense[i:i + 1], y[i:i + 1], wv, b, lr)
    assert m.progressive_loss_history_[0] == pytest.approx(total / 160, rel=1e-12)
    # and the loss history is J of all rows at the returned parameters, from the rows
    assert m.loss_history_[-1] == pytest.approx(textbook.loss(dense, y, m.coef_, m.intercept_),
                                                rel=1e-12)


def test_sparse_sgd_reaches_ridge_on_the_same_matrix():
    """Defaults (the plateau schedule) on CSR rows, with weights: the ridge solution of
    scikit-learn's Ridge on the same matrix (alpha·Σs, standardize=False)."""
    X, dense, y, w = sparse_problem(n=3000, d=20, density=0.3, seed=6)
    alpha = 1e-3
    m = fit(X, y, w, solver="sgd", alpha=alpha, standardize=False, max_iter=300)
    ref = Ridge(alpha=alpha * w.sum()).fit(X, y, sample_weight=w)
    J_ref = rows_loss(dense, y, ref.coef_, ref.intercept_, w, alpha)
    assert rows_loss(dense, y, m.coef_, m.intercept_, w, alpha) <= J_ref * (1 + 1e-3)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=0, atol=3e-3 * np.abs(ref.coef_).max())


# ---------------------------------------------------------------- no Gram pass
def _no_statistics(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the d × d statistics were formed")
    for cls in (SparseRows, MemoryRows):
        monkeypatch.setattr(cls, "stats", refuse)


@pytest.mark.parametrize("solver, dense_input", [("sgd", False), ("sgd", True),
                                                 ("minibatch", False), ("minibatch", True),
                                                 ("gd", False)])
def test_a_short_fit_forms_no_gram_and_passes_the_rows_once_per_epoch(monkeypatch, solver,
                                                                     dense_input):
    """max_iter=3 on 20,000 × 200 (5 % stored; "gd": 5,000 × 1,500, 12 a row): the statistics
    would cost more than the passes they replace, so none are formed; the loss history costs
    one pass per epoch (its starting point comes with the column moments), and "gd" one per
    iteration plus its Lanczos products.  (At 200 columns "gd" takes the statistics: its
    Lanczos passes would cost more than them.)"""
    import linreg.training_objective as objective_module
    n, d = (5_000, 1_500) if solver == "gd" else (20_000, 200)
    X, dense, y, _ = sparse_problem(n=n, d=d, density=12 / d if solver == "gd" else 0.05,
                                    seed=7)
    _no_statistics(monkeypatch)
    passes = []
    real = objective_module.residual_pass
    monkeypatch.setattr(objective_module, "residual_pass",
                        lambda *a, **kw: passes.append(kw.get("targets", a[-1] if len(a) > 8
                                                              else True)) or real(*a, **kw))
    m = fit(dense if dense_input else X, y, solver=solver, max_iter=3, tol=0)
    assert m.training_path_ == "rows" and m.stats_ is None and m.rank_ is None
    assert np.isnan(m.condition_number_)
    loss_passes = sum(1 for t in passes if t is True)
    assert loss_passes == 3                       # after each of the 3 epochs (iterations)
    assert m.loss_history_.shape == (4,)
    assert m.loss_history_[0] == pytest.approx(rows_loss(dense, y, np.zeros(d), 0.0),
                                               rel=1e-13)
    if solver == "gd":
        assert len(passes) - loss_passes > 0     # Lanczos's products with the Hessian
    else:
        assert m.progressive_loss_history_.shape == (3,)


def test_the_cost_model_takes_the_statistics_for_long_fits_and_the_rows_for_wide_ones(
        monkeypatch):
    X, dense, y, _ = sparse_problem(n=20_000, d=200, density=0.05, seed=8)
    rows = SparseRows(X, y[:, None])
    assert paths.training_path("sgd", 1, rows) == "rows"
    assert paths.training_path("sgd", 1000, rows) == "statistics"
    dense_rows = MemoryRows(dense, y[:, None])
    assert paths.training_path("sgd", 1, dense_rows) == "rows"
    assert paths.training_path("gd", 3, dense_rows) == "statistics"     # Lanczos would cost more
    assert paths.training_path("gd", 3, rows) == "statistics"
    assert paths.training_path("minibatch", 1000, dense_rows) == "statistics"
    monkeypatch.setattr("linreg.solvers.lsqr.GRAM_MAX_FEATURES", 100)
    assert paths.training_path("sgd", 10**6, rows) == "rows"      # too wide for a d × d matrix


@STOPPED_ON_PURPOSE
def test_both_paths_give_the_same_fit(monkeypatch):
    """The same stochastic fit, forced down each path: bit-identical coefficients (the design
    and the step come from the column moments and row norms either way), the loss history
    to rounding; the statistics path adds stats_, rank_ and the condition number."""
    X, dense, y, w = sparse_problem(n=2000, d=15, seed=9, offset=1.0)
    fits = {}
    for path in paths.PATHS:
        monkeypatch.setattr(paths, "training_path", lambda *a, path=path: path)
        fits[path] = fit(X, y, w, solver="minibatch", max_iter=4)
    a, b = fits["rows"], fits["statistics"]
    assert (a.training_path_, b.training_path_) == ("rows", "statistics")
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=1e-11)
    np.testing.assert_allclose(a.grad_norm_history_, b.grad_norm_history_, rtol=1e-8)
    assert b.rank_ == 14 and a.rank_ is None       # column 5 is empty


@pytest.mark.parametrize("optimizer", ["plain", "nesterov"])
@pytest.mark.parametrize("sparse_input", [False, True])
def test_gd_takes_the_same_steps_from_the_rows_as_from_the_statistics(monkeypatch, optimizer,
                                                                      sparse_input):
    """"gd" forced down each path: with a fixed step, 25 iterations equal to 1e-12 — and the
    textbook's gd_step on the standardized rows for plain; with the automatic step 1/L (L by
    Lanczos on the rows, by an eigenvalue problem on the statistics) to Lanczos's accuracy."""
    from linreg.training_objective import LANCZOS_TOL
    X, dense, y, w = sparse_problem(n=1500, d=40, density=0.3, seed=10, offset=0.3)
    data = X if sparse_input else dense
    for lr in (0.05, "auto"):
        fits = {}
        for path in paths.PATHS:
            monkeypatch.setattr(paths, "training_path", lambda *a, path=path: path)
            fits[path] = fit(data, y, solver="gd", optimizer=optimizer, learning_rate=lr,
                             max_iter=25, tol=0)
        a, b = fits["rows"], fits["statistics"]
        tol = 1e-12 if lr != "auto" else LANCZOS_TOL
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=tol * np.abs(b.coef_).max())
        np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=max(tol, 1e-10))
        assert a.learning_rate_ == pytest.approx(b.learning_rate_, rel=max(tol, 1e-10))
    if optimizer == "plain":
        Z, mean, scale = textbook.standardize(dense)
        theta, beta = np.zeros(40), 0.0
        for _ in range(25):
            theta, beta = textbook.gd_step(Z, y, theta, beta, a.learning_rate_)
        np.testing.assert_allclose(a.coef_, theta / scale, rtol=0,
                                   atol=1e-11 * np.abs(theta / scale).max())


@STOPPED_ON_PURPOSE
def test_automatic_steps_come_from_row_norms(monkeypatch):
    """sgd: 1/L_max, L_max the largest (s_i/s̄)(‖x̃_i‖² + 1); minibatch B: Gower et al.'s L_B
    with the mean curvature (1/n_w) Σ s(‖x̃‖² + 1) in place of λ_max — computed here by NumPy
    on the standardized dense rows.  The same whichever path the fit takes."""
    X, dense, y, w = sparse_problem(n=500, d=10, seed=11)
    mean = (w @ dense) / w.sum()
    std = np.sqrt(w @ (dense - mean) ** 2 / w.sum())
    std[std == 0] = 1.0
    Z = (dense - mean) / std
    curvature = np.sum(Z**2, axis=1) + 1
    rel = w / w.mean()
    L_max, L_mean = np.max(rel * curvature), (w @ curvature) / w.sum()
    n, B = 500, 16
    L_B = (n - B) / (B * (n - 1)) * L_max + n * (B - 1) / (B * (n - 1)) * L_mean
    for path in paths.PATHS:
        monkeypatch.setattr(paths, "training_path", lambda *a, path=path: path)
        assert fit(X, y, w, solver="sgd", max_iter=1).learning_rate_ == pytest.approx(
            1 / L_max, rel=1e-12)
        assert fit(X, y, w, solver="minibatch", batch_size=B, max_iter=1).learning_rate_ == \
            pytest.approx(1 / L_B, rel=1e-12)


@STOPPED_ON_PURPOSE
def test_early_stopping_and_a_checkpoint_across_paths(tmp_path):
    """Early stopping on CSR rows holds the same rows out as on dense ones; a checkpoint
    written by a one-epoch fit (from the rows) resumes in a longer fit (from the
    statistics) and ends where the uninterrupted run ends."""
    X, dense, y, w = sparse_problem(n=1200, d=10, seed=12)
    kw = dict(solver="sgd", early_stopping=True, max_iter=6, tol=0, random_state=2)
    a, b = fit(X, y, w, **kw), fit(dense, y, w, **kw)
    np.testing.assert_allclose(a.validation_loss_history_, b.validation_loss_history_,
                               rtol=1e-10)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-12 * np.abs(b.coef_).max())
    path = tmp_path / "run.ckpt"
    kw = dict(solver="minibatch", tol=0, schedule="constant")
    first = fit(X, y, max_iter=1, checkpoint=path, **kw)
    resumed = fit(X, y, max_iter=60, checkpoint=path, **kw)
    whole = fit(X, y, max_iter=60, **kw)
    assert first.training_path_ == "rows" and whole.training_path_ == "statistics"
    np.testing.assert_array_equal(resumed.coef_, whole.coef_)


# ---------------------------------------------------------------- partial_fit, summary
@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("optimizer", ["plain", "adam"])
@pytest.mark.parametrize("wide", [False, True])
def test_partial_fit_with_sparse_chunks_equals_dense_chunks(monkeypatch, optimizer, wide):
    """Chunks as CSR matrices take the same steps as the same chunks dense.  Narrow: the
    statistics of all rows seen are kept (the loss history is theirs); wide (here: beyond a
    lowered limit), none: the loss history is each chunk's own J."""
    if wide:
        monkeypatch.setattr("linreg.solvers.lsqr.GRAM_MAX_FEATURES", 20)
    X, dense, y, w = sparse_problem(n=3000, d=30, seed=13)
    a = LinearRegression(solver="minibatch", optimizer=optimizer, batch_size=8)
    b = LinearRegression(solver="minibatch", optimizer=optimizer, batch_size=8)
    for chunk in np.array_split(np.arange(3000), 3):
        a.partial_fit(X[chunk], y[chunk], sample_weight=w[chunk])
        b.partial_fit(dense[chunk], y[chunk], sample_weight=w[chunk])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-12 * np.abs(b.coef_).max())
    assert a.intercept_ == pytest.approx(b.intercept_, rel=1e-12)
    assert a.training_path_ == b.training_path_ == ("rows" if wide else "statistics")
    last = chunk if wide else np.arange(3000)
    J = rows_loss(dense[last], y[last], a.coef_, a.intercept_, w[last])
    assert a.loss_history_[-1] == pytest.approx(J, rel=1e-10)
    assert (a.stats_ is None) == wide


@STOPPED_ON_PURPOSE
def test_summary_after_a_fit_from_the_rows_forms_the_statistics_then():
    X, dense, y, _ = sparse_problem(n=3000, d=8, density=0.5, seed=14)
    X = (X + sp.eye(3000, 8, format="csr")).tocsr()      # column 5 not empty
    dense = X.toarray()
    m = fit(X, y, solver="sgd", max_iter=1)
    assert m.training_path_ == "rows" and m.stats_ is None
    result = m.summary()
    assert m.stats_ is not None and m.stats_.n_rows == 3000
    import statsmodels.api as sm
    ref = sm.WLS(y, sm.add_constant(dense)).fit()
    # the same design, so the same standard errors but for the residual variance at m's coef
    r = y - m.predict(X)
    sigma2 = r @ r / (3000 - 9)
    np.testing.assert_allclose(result.bse, ref.bse * np.sqrt(sigma2 / ref.scale), rtol=1e-8)


# ---------------------------------------------------------------- bad and unusual input
@pytest.mark.parametrize("sparse_input", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_fit_from_the_rows_names_a_nonfinite_value(sparse_input, bad):
    """No statistics pass to catch it: the column moments do, and the value is named by row
    and column before any training."""
    X, dense, y, _ = sparse_problem(n=300, d=8, density=0.5, seed=15)
    X = X.tocsr()
    r = 40
    c = int(X.indices[X.indptr[r]])
    X.data[X.indptr[r]] = bad
    dense[r, c] = bad
    with pytest.raises(ValueError, match=f"row {r}, column {c}"):
        fit(X if sparse_input else dense, y, solver="sgd", max_iter=1)


@STOPPED_ON_PURPOSE
def test_float32_rows_train_from_the_rows_like_float64():
    """float32 X is read as it is (the kernels and passes compile for it) and trains as the
    same values in float64 do."""
    rng = np.random.default_rng(16)
    X32 = rng.standard_normal((3000, 40)).astype(np.float32)
    y = X32.astype(np.float64) @ rng.normal(size=40) + 1.0
    a = fit(X32, y, solver="minibatch", max_iter=1, tol=0)
    b = fit(X32.astype(np.float64), y, solver="minibatch", max_iter=1, tol=0)
    assert a.training_path_ == "rows"
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-12 * np.abs(b.coef_).max())
    np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=1e-12)


def test_hashed_text_trains_without_copies_of_a_wide_gradient():
    """2²⁰ hashed columns: a pass splits its rows into few enough pieces that their partial
    gradients stay within PIECE_MEMORY, and a pipeline from raw text fits (R² near 1 on
    texts whose target is a sum of word effects)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.pipeline import make_pipeline
    from linreg import parallel
    pieces = parallel.pass_pieces(1_000_000, parallel.PASS_BLOCK_ROWS, 2**20)
    assert 8 * 2**20 * len(pieces) <= parallel.PIECE_MEMORY
    assert pieces[0][0] == 0 and pieces[-1][1] == 1_000_000
    rng = np.random.default_rng(17)
    words = [f"w{i}" for i in range(300)]
    effect = rng.normal(size=300)
    chosen = rng.integers(0, 300, size=(3000, 12))
    texts = [" ".join(words[j] for j in row) for row in chosen]
    y = effect[chosen].sum(axis=1)
    model = make_pipeline(HashingVectorizer(alternate_sign=False, norm=None),
                          LinearRegression(solver="sgd", standardize=False, max_iter=40))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(texts, y)
    assert model[-1].training_path_ == "rows" and model[-1].coef_.shape == (2**20,)
    assert model.score(texts, y) > 0.99
