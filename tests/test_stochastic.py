"""Stochastic training ("sgd", "minibatch") and the optimizers on every iterative solver:
convergence to numpy.linalg.lstsq, steps equal to linreg.textbook's and to PyTorch,
determinism, partial_fit, early stopping, divergence recovery, callback, parameter checks."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone

import linreg
from torch_reference import torch_minibatch_epoch
from linreg import ConvergenceWarning, DivergenceError, LinearRegression, textbook

#: tests that stop training short of the optimum on purpose (a few epochs for a trajectory,
#: determinism, counters or files; a callback; early stopping): the ConvergenceWarning that
#: says so is right, and tests/test_stopping.py checks it; these tests check other things
STOPPED_ON_PURPOSE = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")

SOLVERS = ("gd", "sgd", "minibatch")
OPTIMIZERS = ("plain", "momentum", "nesterov", "adam")


def well_conditioned(n=4000, d=10, k=1, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + np.linspace(-1, 1, d)
    w = rng.standard_normal((d, k))
    Y = X @ w + 3.0 + noise * rng.standard_normal((n, k))
    return X, (Y[:, 0] if k == 1 else Y)


def lstsq_fit(X, y, sample_weight=None):
    """Weighted least squares with an intercept by numpy.linalg.lstsq."""
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    A = np.hstack([X, np.ones((len(X), 1))]) * np.sqrt(s)[:, None]
    Y = y.reshape(len(X), -1) * np.sqrt(s)[:, None]
    sol = np.linalg.lstsq(A, Y, rcond=None)[0]
    return sol[:-1], sol[-1]          # (d, k), (k,)


def loss(X, y, coef, intercept, sample_weight=None):
    """J = 1/(2 Σs) Σ s (xᵀw + b − y)², computed directly from the rows."""
    s = np.ones(len(X)) if sample_weight is None else sample_weight
    coef = np.asarray(coef).reshape(-1, X.shape[1]).T
    r = X @ coef + intercept - y.reshape(len(X), -1)
    return float(s @ (r**2).sum(axis=1) / (2 * s.sum()))


def quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


# ---------------------------------------------------------------- defaults that converge
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_defaults_reach_the_closed_form(solver, optimizer):
    """Default settings, max_iter=200, n=4000, d=10, noise 0.1: the final loss is within
    0.1 % of the optimum (the promise), and the coefficients within 1e-3 (relative, 2-norm)
    of numpy.linalg.lstsq's."""
    X, y = well_conditioned()
    W, b = lstsq_fit(X, y)
    J_opt = loss(X, y, W.T, b)
    m = quiet_fit(LinearRegression(solver=solver, optimizer=optimizer, max_iter=200), X, y)
    assert np.isfinite(m.coef_).all()
    J = loss(X, y, m.coef_, m.intercept_)
    assert J <= J_opt * (1 + 1e-3), f"J = {J!r} vs optimum {J_opt!r}"
    assert np.linalg.norm(m.coef_ - W[:, 0]) <= 1e-3 * np.linalg.norm(W)
    assert m.intercept_ == pytest.approx(b[0], rel=1e-3)
    # the history is the full-data J (from the statistics) — the last entry is the loss of
    # the returned parameters, computed here from the rows
    assert m.loss_history_[-1] == pytest.approx(J, rel=1e-9)
    assert m.loss_history_.shape == m.grad_norm_history_.shape == (m.n_iter_ + 1,)
    assert m.learning_rate_history_.shape == (m.n_iter_,)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("solver", ("sgd", "minibatch"))
def test_weighted_and_multi_output_reach_lstsq(solver, optimizer):
    X, Y = well_conditioned(n=1500, d=4, k=2, seed=3)
    s = np.random.default_rng(4).uniform(0.2, 3.0, len(X))
    W, b = lstsq_fit(X, Y, s)
    m = quiet_fit(LinearRegression(solver=solver, optimizer=optimizer, max_iter=200), X, Y,
                  sample_weight=s)
    assert m.coef_.shape == (2, 4) and m.intercept_.shape == (2,)
    J_opt, J = loss(X, Y, W.T, b, s), loss(X, Y, m.coef_, m.intercept_, s)
    assert J <= J_opt * (1 + 1e-3)
    np.testing.assert_allclose(m.coef_, W.T, rtol=0, atol=2e-3 * np.abs(W).max())


def test_ridge_penalty_matches_sklearn_ridge():
    from sklearn.linear_model import Ridge
    X, y = well_conditioned(n=1000, d=5, seed=5)
    alpha = 0.05
    ref = Ridge(alpha=alpha * len(X)).fit(X, y)
    m = quiet_fit(LinearRegression(solver="minibatch", optimizer="nesterov", alpha=alpha,
                                   standardize=False, max_iter=300), X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=2e-3, atol=1e-4)


# ---------------------------------------------------------------- the steps themselves
@STOPPED_ON_PURPOSE
def test_one_weighted_sgd_epoch_is_the_textbook_step_scaled_by_the_relative_weight():
    """shuffle=False, standardize=False: one epoch is, sample by sample, the textbook's
    one-sample gradient (x r, r) with r = xᵀw + b − y — scaled by s_i/s̄, linreg's weighting
    of a stochastic step, which is not in the textbook — plus the penalty's αw:
    w := w − η (x r s_i/s̄ + αw);  b := b − η r s_i/s̄.  (Unweighted, the epoch is exactly
    textbook.sgd_epoch: tests/test_textbook.py.)"""
    X, y = well_conditioned(n=60, d=3, seed=6)
    s = np.random.default_rng(7).uniform(0.5, 2.0, 60)
    lr, alpha = 0.01, 0.1
    m = LinearRegression(solver="sgd", standardize=False, shuffle=False, learning_rate=lr,
                         alpha=alpha, max_iter=1, tol=0).fit(X, y, sample_weight=s)
    w, b, s_rel = np.zeros(3), 0.0, s / s.mean()
    for i in range(60):
        grad_w, grad_b = textbook.gradients(X[i:i + 1], y[i:i + 1], w, b)
        w, b = w - lr * (s_rel[i] * grad_w + alpha * w), b - lr * s_rel[i] * grad_b
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_minibatch_epoch_matches_torch(optimizer):
    """shuffle=False, standardize=False, batch 8: torch.nn.Linear (zero init) with
    torch.optim.SGD / Adam on J_batch = mean ½(ŷ − y)² + (α/2)‖w‖², one epoch, same result."""
    X, y = well_conditioned(n=100, d=4, seed=8)    # 100 = 12 batches of 8 and one of 4
    lr, alpha = 0.02, 0.01
    m = LinearRegression(solver="minibatch", batch_size=8, optimizer=optimizer, shuffle=False,
                         standardize=False, learning_rate=lr, alpha=alpha, max_iter=1, tol=0,
                         momentum=0.8).fit(X, y)
    def make_optimizer(parameters):
        if optimizer == "adam":
            return torch.optim.Adam(parameters, lr=lr)
        return torch.optim.SGD(parameters, lr=lr, momentum=0.0 if optimizer == "plain" else 0.8,
                               nesterov=optimizer == "nesterov")
    tw, tb = torch_minibatch_epoch(X, y, make_optimizer, 8, alpha)
    np.testing.assert_allclose(m.coef_, tw, rtol=1e-10)
    assert m.intercept_ == pytest.approx(tb, rel=1e-10)


def test_float32_X_is_read_without_conversion_and_gives_the_float64_answer():
    X, y = well_conditioned(n=2000, d=5, seed=9)
    X32 = X.astype(np.float32)
    m32 = quiet_fit(LinearRegression(solver="minibatch", max_iter=100), X32, y)
    W, b = lstsq_fit(X32.astype(np.float64), y)
    np.testing.assert_allclose(m32.coef_, W[:, 0], rtol=1e-3, atol=1e-3)


# ---------------------------------------------------------------- determinism, partial_fit
@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("solver", ("sgd", "minibatch"))
def test_same_random_state_is_bit_identical(solver):
    X, y = well_conditioned(n=500, d=4, seed=10)
    kw = dict(solver=solver, optimizer="adam", max_iter=5, tol=0, early_stopping=True)
    a = LinearRegression(random_state=3, **kw).fit(X, y)
    b = LinearRegression(random_state=3, **kw).fit(X, y)
    c = LinearRegression(random_state=4, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    np.testing.assert_array_equal(a.validation_loss_history_, b.validation_loss_history_)
    assert not np.array_equal(a.coef_, c.coef_)


@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("solver", ("sgd", "minibatch"))
def test_partial_fit_in_one_call_is_one_epoch_of_fit(solver, optimizer):
    X, y = well_conditioned(n=300, d=3, seed=11)
    kw = dict(solver=solver, optimizer=optimizer, random_state=5, batch_size=16, tol=0)
    fitted = LinearRegression(max_iter=1, **kw).fit(X, y)
    streamed = LinearRegression(**kw).partial_fit(X, y)
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    assert streamed.intercept_ == fitted.intercept_
    # a second call continues the optimizer state, the step count and the random order:
    # exactly the second epoch of fit
    fitted2 = LinearRegression(max_iter=2, **kw).fit(X, y)
    streamed.partial_fit(X, y)
    np.testing.assert_array_equal(streamed.coef_, fitted2.coef_)
    assert streamed.n_iter_ == 2 and streamed.training_state_.optimizer.step == \
        fitted2.training_state_.optimizer.step
    # the loss history is J of all rows seen (here the same rows twice: the same J)
    assert streamed.loss_history_[-1] == pytest.approx(loss(X, y, streamed.coef_, streamed.intercept_),
                                                      rel=1e-9)


@STOPPED_ON_PURPOSE
def test_partial_fit_over_chunks_converges():
    X, y = well_conditioned(n=4000, d=5, seed=12)
    m = LinearRegression(solver="minibatch", optimizer="adam")
    for _ in range(30):
        for chunk in np.array_split(np.arange(4000), 8):
            m.partial_fit(X[chunk], y[chunk])
    W, b = lstsq_fit(X, y)
    assert loss(X, y, m.coef_, m.intercept_) <= loss(X, y, W.T, b) * 1.01
    assert m.n_iter_ == 240 and m.stats_.n_rows == 240 * 500


def test_warm_start_continues_from_the_previous_solution():
    X, y = well_conditioned(n=1000, d=4, seed=13)
    m = quiet_fit(LinearRegression(solver="sgd", max_iter=20), X, y)
    J_end = loss(X, y, m.coef_, m.intercept_)
    m.set_params(warm_start=True, max_iter=1)
    quiet_fit(m, X, y)
    assert m.loss_history_[0] == pytest.approx(J_end, rel=1e-9)
    cold = quiet_fit(LinearRegression(solver="sgd", max_iter=1), X, y)
    assert cold.loss_history_[0] > 10 * J_end


# ---------------------------------------------------------------- schedules and histories
@STOPPED_ON_PURPOSE
def test_schedules_give_the_documented_learning_rates():
    X, y = well_conditioned(n=400, d=3, seed=14)
    kw = dict(solver="minibatch", max_iter=6, tol=0, learning_rate=0.01)
    inv = LinearRegression(schedule="invscaling", power_t=0.5, **kw).fit(X, y)
    np.testing.assert_allclose(inv.learning_rate_history_, 0.01 / np.sqrt(np.arange(1, 7)), rtol=1e-15)
    exp = LinearRegression(schedule="exponential", decay_rate=0.5, **kw).fit(X, y)
    np.testing.assert_allclose(exp.learning_rate_history_, 0.01 * 0.5 ** np.arange(6), rtol=1e-15)
    const = LinearRegression(schedule="constant", **kw).fit(X, y)
    assert np.all(const.learning_rate_history_ == 0.01)


def test_plateau_halves_when_the_loss_stalls_and_then_stops():
    X, y = well_conditioned(n=400, d=3, seed=15)
    with pytest.warns(ConvergenceWarning, match="learning rate exhausted"):
        m = LinearRegression(solver="sgd", schedule="plateau", n_iter_no_change=2, max_iter=500).fit(X, y)
    rates = m.learning_rate_history_
    ratios = rates[1:] / rates[:-1]
    assert set(np.unique(ratios)) <= {0.5, 1.0} and np.sum(ratios == 0.5) == 19
    # stopped after 20 halvings: the rate is exhausted, which is said (not called convergence)
    assert m.n_iter_ < 500 and m.stop_reason_ == "learning_rate_exhausted"


def test_gd_with_momentum_optimizers_and_callback_info():
    X, y = well_conditioned(n=500, d=4, seed=16)
    seen = []
    m = LinearRegression(solver="gd", optimizer="nesterov", max_iter=500,
                         callback=lambda info: seen.append(info)).fit(X, y)
    assert [i["epoch"] for i in seen] == list(range(1, m.n_iter_ + 1))
    assert set(seen[0]) == {"epoch", "loss", "grad_norm", "learning_rate", "coef", "intercept",
                            "validation_loss"}
    last = seen[-1]
    np.testing.assert_array_equal(last["coef"], m.coef_)
    assert last["intercept"] == m.intercept_
    assert last["loss"] == pytest.approx(loss(X, y, last["coef"], last["intercept"]), rel=1e-9)
    np.testing.assert_allclose([i["loss"] for i in seen], m.loss_history_[1:], rtol=0)


@STOPPED_ON_PURPOSE
def test_auto_schedule_is_constant_for_gd_and_plateau_for_stochastic():
    X, y = well_conditioned(n=400, d=3, seed=26)
    gd = LinearRegression(solver="gd", optimizer="momentum", max_iter=50, tol=0).fit(X, y)
    assert np.all(gd.learning_rate_history_ == gd.learning_rate_history_[0])
    sgd = LinearRegression(solver="sgd", n_iter_no_change=2, max_iter=60, tol=0).fit(X, y)
    assert sgd.learning_rate_history_[-1] < sgd.learning_rate_history_[0]


@STOPPED_ON_PURPOSE
def test_gd_early_stopping_uses_the_held_out_rows():
    rng = np.random.default_rng(27)
    X = rng.standard_normal((300, 20))
    y = X[:, 0] + rng.standard_normal(300)
    m = LinearRegression(solver="gd", optimizer="adam", early_stopping=True, tol=1e-3,
                         n_iter_no_change=3, max_iter=1000, random_state=1).fit(X, y)
    val = np.sort(np.random.default_rng(1).permutation(300)[:30])
    assert m.n_iter_ < 1000 and len(m.validation_loss_history_) == m.n_iter_ + 1
    assert loss(X[val], y[val], m.coef_, m.intercept_) == pytest.approx(
        m.validation_loss_history_.min(), rel=1e-9)


@STOPPED_ON_PURPOSE
def test_callback_returning_true_stops_training():
    X, y = well_conditioned(n=500, d=4, seed=17)
    m = LinearRegression(solver="sgd", max_iter=100, callback=lambda info: info["epoch"] == 3).fit(X, y)
    assert m.n_iter_ == 3 and len(m.loss_history_) == 4


# ---------------------------------------------------------------- early stopping
@STOPPED_ON_PURPOSE
def test_early_stopping_restores_the_best_validation_parameters():
    X, y = well_conditioned(n=1000, d=8, noise=2.0, seed=18)
    m = LinearRegression(solver="sgd", optimizer="momentum", early_stopping=True, tol=1e-2,
                         n_iter_no_change=3, max_iter=200, random_state=7,
                         learning_rate=0.01).fit(X, y)
    hist = m.validation_loss_history_
    assert len(hist) == m.n_iter_ + 1 and m.n_iter_ < 200
    # the held-out rows, drawn as documented: the first ceil(0.1 n) of a permutation
    val = np.sort(np.random.default_rng(7).permutation(1000)[:100])
    assert loss(X[val], y[val], m.coef_, m.intercept_) == pytest.approx(hist.min(), rel=1e-9)
    assert np.argmin(hist) < len(hist) - 1        # stopped after some epochs without progress


# ---------------------------------------------------------------- divergence
def test_sgd_recovers_from_a_learning_rate_that_diverges():
    X, y = well_conditioned(n=1000, d=5, seed=19)
    with pytest.warns(ConvergenceWarning, match=r"diverged \d+ time.*halved") as caught:
        m = LinearRegression(solver="sgd", learning_rate=50.0, max_iter=100).fit(X, y)
    assert all(w.filename == __file__ for w in caught)     # points at the caller's line
    assert np.isfinite(m.coef_).all() and np.isfinite(m.loss_history_).all()
    W, b = lstsq_fit(X, y)
    assert loss(X, y, m.coef_, m.intercept_) <= loss(X, y, W.T, b) * 1.01
    assert m.learning_rate_ < 50.0 / 2**5


@pytest.mark.parametrize("solver", ("sgd", "minibatch"))
def test_hopeless_divergence_is_a_clear_error(solver):
    X, y = well_conditioned(n=200, d=3, seed=20)
    with pytest.raises(DivergenceError, match="cannot make progress"):
        LinearRegression(solver=solver, learning_rate=1e300, optimizer="momentum").fit(X, y)


def test_gd_still_raises_on_divergence_with_any_optimizer():
    X, y = well_conditioned(n=200, d=3, seed=21)
    with pytest.raises(DivergenceError, match="diverged"):
        LinearRegression(solver="gd", optimizer="momentum", learning_rate=10.0).fit(X, y)


# ---------------------------------------------------------------- parameters
def test_new_parameters_are_scikit_learn_parameters():
    cb = print
    m = LinearRegression(solver="minibatch", optimizer="adam", batch_size=7, callback=cb,
                         schedule="exponential", random_state=None, warm_start=True)
    p = m.get_params()
    for name in ("optimizer", "momentum", "beta1", "beta2", "epsilon", "schedule", "power_t",
                 "decay_rate", "batch_size", "shuffle", "random_state", "early_stopping",
                 "validation_fraction", "n_iter_no_change", "callback", "warm_start"):
        assert name in p
    assert p["callback"] is cb and p["batch_size"] == 7 and p["random_state"] is None
    assert clone(m).get_params()["optimizer"] == "adam"
    m.set_params(momentum=0.5)
    assert m.momentum == 0.5


@pytest.mark.parametrize("params, message", [
    (dict(learning_rate=-0.1), r"learning_rate=-0.1 must be 'auto' or a finite number > 0"),
    (dict(learning_rate=0), r"learning_rate=0 must be"),
    (dict(solver="minibatch", batch_size=0), r"batch_size=0 must be an integer >= 1"),
    (dict(solver="minibatch", batch_size=101), r"batch_size=101 is larger than the number of training rows: 100 samples"),
    (dict(solver="minibatch", batch_size=95, early_stopping=True), r"batch_size=95 is larger than .*rows: 90 samples"),
    (dict(optimizer="rmsprop"), r"optimizer='rmsprop' is not one of"),
    (dict(schedule="cosine"), r"schedule='cosine' is not one of"),
    (dict(momentum=1.0), r"momentum=1.0 must be in \[0, 1\)"),
    (dict(momentum=-0.1), r"momentum=-0.1 must be a finite number >= 0"),
    (dict(beta1=1.5), r"beta1=1.5 must be in \[0, 1\)"),
    (dict(beta2=float("nan")), r"beta2=nan must be a finite number"),
    (dict(epsilon=0.0), r"epsilon=0.0 must be > 0"),
    (dict(power_t=-1), r"power_t=-1 must be a finite number >= 0"),
    (dict(decay_rate=0), r"decay_rate=0 must be in \(0, 1\]"),
    (dict(decay_rate=1.5), r"decay_rate=1.5 must be in \(0, 1\]"),
    (dict(shuffle="yes"), r"shuffle='yes' must be True or False"),
    (dict(early_stopping=1), r"early_stopping=1 must be True or False"),
    (dict(warm_start=None), r"warm_start=None must be True or False"),
    (dict(random_state=-1), r"random_state=-1 must be an integer >= 0"),
    (dict(random_state=1.5), r"random_state=1.5 must be an integer >= 0"),
    (dict(validation_fraction=1.0), r"validation_fraction=1.0 must be in \(0, 1\)"),
    (dict(validation_fraction=0), r"validation_fraction=0 must be in \(0, 1\)"),
    (dict(n_iter_no_change=0), r"n_iter_no_change=0 must be an integer >= 1"),
    (dict(callback="print"), r"callback='print' must be None or a function"),
    (dict(max_iter=0), r"max_iter=0 must be an integer >= 1"),
    (dict(tol=-1.0), r"tol=-1.0 must be a finite number >= 0"),
])
def test_bad_parameter_values_are_clear_errors(params, message):
    X, y = well_conditioned(n=100, d=3, seed=22)
    params.setdefault("solver", "sgd")
    with pytest.raises(ValueError, match=message):
        LinearRegression(**params).fit(X, y)


def test_sgd_needs_rows():
    X, y = well_conditioned(n=100, d=3, seed=23)
    m = LinearRegression(solver="sgd")
    with pytest.raises(ValueError, match="needs the rows of X"):
        m.solve_from_stats(linreg.sufficient_stats(X, y[:, None]))


@STOPPED_ON_PURPOSE
def test_model_file_stores_callback_as_null(tmp_path):
    X, y = well_conditioned(n=200, d=3, seed=24)
    m = LinearRegression(solver="minibatch", optimizer="adam", max_iter=5, tol=0,
                         callback=lambda info: None).fit(X, y)
    m.save(tmp_path / "m.json")
    back = linreg.load(tmp_path / "m.json")
    assert back.callback is None and back.optimizer == "adam" and back.solver == "minibatch"
    np.testing.assert_array_equal(back.predict(X), m.predict(X))


# ---------------------------------------------------------------- compilation is cached
def test_a_second_process_loads_the_compiled_kernel_from_the_cache():
    X, y = well_conditioned(n=50, d=3, seed=25)
    LinearRegression(solver="minibatch", max_iter=2).fit(X, y)    # compiled (and cached) here
    code = ("import numpy as np, linreg\n"
            "from linreg.stochastic import _batch_epoch\n"
            "X = np.random.default_rng(0).standard_normal((50, 3)); y = X.sum(1)\n"
            "linreg.LinearRegression(solver='minibatch', max_iter=2).fit(X, y)\n"
            "print(sum(_batch_epoch.stats.cache_hits.values()), len(_batch_epoch.stats.cache_misses))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    hits, misses = map(int, run.stdout.split())
    assert hits >= 1 and misses == 0, run.stdout + run.stderr


# ---------------------------------------------------------------- scikit-learn's own checks
@pytest.mark.parametrize("estimator", [
    LinearRegression(solver="sgd", max_iter=50),
    LinearRegression(solver="minibatch", optimizer="adam", batch_size=4, max_iter=50),
    # short fits, which take their loss history from the rows (no d × d statistics)
    LinearRegression(solver="sgd", max_iter=2),
    LinearRegression(solver="minibatch", batch_size=4, max_iter=2),
    LinearRegression(solver="gd", max_iter=3),
], ids=["sgd", "minibatch-adam", "sgd-rows", "minibatch-rows", "gd-rows"])
def test_scikit_learn_estimator_checks(estimator):
    """All of check_estimator passes — dense and sparse input — except, for the stochastic
    solvers, the exact equivalence of sample weights with repeated rows, which a stochastic
    method cannot have (the rows are sampled differently; scikit-learn's SGDRegressor is
    exempt from it too)."""
    from sklearn.utils.estimator_checks import check_estimator
    stochastic = estimator.solver != "gd"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None, expected_failed_checks={
            "check_sample_weight_equivalence_on_dense_data": "stochastic: different sampling",
            # runs since sparse X is accepted (the sparse tag); the same reason
            "check_sample_weight_equivalence_on_sparse_data": "stochastic: different sampling",
        } if stochastic else {})
    failed = [(r["check_name"], str(r["exception"])[:300]) for r in results if r["status"] == "failed"]
    assert not failed


@STOPPED_ON_PURPOSE
def test_partial_fit_after_a_closed_form_fit_starts_afresh():
    X, y = well_conditioned(n=300, d=3, seed=28)
    m = LinearRegression(solver="sgd", max_iter=3, tol=0).fit(X, y)
    m.set_params(solver="normal").fit(X, y)
    m.set_params(solver="sgd").partial_fit(X, y)
    fresh = LinearRegression(solver="sgd").partial_fit(X, y)
    np.testing.assert_array_equal(m.coef_, fresh.coef_)
    assert m.n_iter_ == 1
