"""linreg.textbook, the lesson's equations in plain NumPy, and every fast path against it.

First the oracle itself is checked against trusted independent answers: exact rational
arithmetic (a hand-worked example and tests/exact.py), numpy.linalg.lstsq, PyTorch's autograd
and optimizers, scikit-learn's StandardScaler, and its own runnable examples.  Then each fast
path of linreg — objective.py, the compiled update rules (update_rules.py through
optimizers.py), the training loops (descent.py, the kernels of stochastic.py), the closed
forms (closed_form.py) and the design (design.Design) — is compared with the textbook
function its docstring names.

How linreg's settings line up with the textbook (so the comparisons can be exact):
``standardize=False`` with an intercept runs the textbook on the raw X (shift 0, scale 1:
``coef_`` is w and ``intercept_`` is b); ``learning_rate=η`` with ``schedule="constant"`` is
the textbook's η in every step (linreg's other schedules change η per epoch by design);
``tol=0`` runs exactly ``max_iter`` steps (``"gd"``) or epochs; ``shuffle=False`` visits the
rows in order, ``shuffle=True`` in the order ``numpy.random.default_rng(random_state)
.permutation(n)`` draws, a fresh permutation per epoch; parameters start at zero.
"""

from __future__ import annotations

import doctest
from fractions import Fraction

import numpy as np
import pytest
import torch
from exact import exact_least_squares
from torch_reference import torch_minibatch_epoch
from sklearn.preprocessing import StandardScaler

from linreg import LinearRegression, objective, textbook
from linreg.optimizers import get_optimizer
from linreg.design import Design
from linreg.stats import sufficient_stats

OPTIMIZERS = ("plain", "momentum", "nesterov", "adam")


def make_data(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + np.linspace(-0.5, 1.0, d)
    y = X @ rng.standard_normal(d) + 2.0 + 0.3 * rng.standard_normal(n)
    return X, y


# ================================================================ the oracle itself
def test_the_examples_in_the_docstrings_run():
    result = doctest.testmod(textbook)
    assert result.attempted >= 10 and result.failed == 0


# x = 0, 1, 2, 4 and y = 1, 2, 2, 5 by hand: x̄ = 7/4, ȳ = 5/2, Sxx = 21 − 4·49/16 = 35/4,
# Sxy = 26 − 4·(7/4)(5/2) = 17/2.  OLS: w = Sxy/Sxx = 34/35, b = ȳ − w x̄ = 4/5.
# Ridge with α = 1/4 (n α = 1 added to Sxx): w = (17/2)/(39/4) = 34/39, b = 5/2 − (34/39)(7/4) = 38/39.
HAND_X = np.array([[0.0], [1.0], [2.0], [4.0]])
HAND_Y = np.array([1.0, 2.0, 2.0, 5.0])


@pytest.mark.parametrize("alpha, w_exact, b_exact", [
    (0.0, Fraction(34, 35), Fraction(4, 5)),
    (0.25, Fraction(34, 39), Fraction(38, 39)),
])
def test_normal_equation_on_a_hand_worked_example(alpha, w_exact, b_exact):
    w, b = textbook.normal_equation(HAND_X, HAND_Y, alpha=alpha)
    assert w[0] == pytest.approx(float(w_exact), rel=1e-15)
    assert b == pytest.approx(float(b_exact), rel=1e-15)
    # J at the exact solution, in rational arithmetic
    r = [w_exact * int(x) + b_exact - int(y) for x, y in zip(HAND_X[:, 0], HAND_Y)]
    J = sum(v * v for v in r) / (2 * len(r)) + Fraction(alpha) / 2 * w_exact**2
    assert textbook.loss(HAND_X, HAND_Y, np.array([float(w_exact)]), float(b_exact),
                         alpha=alpha) == pytest.approx(float(J), rel=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_normal_equation_equals_exact_rational_least_squares(fit_intercept, weighted, alpha):
    X, y = make_data(n=12, d=3, seed=1)
    s = np.random.default_rng(2).uniform(0.2, 3.0, 12) if weighted else None
    w, b = textbook.normal_equation(X, y, s, alpha, fit_intercept)
    w_exact, b_exact = exact_least_squares(X, y, s, fit_intercept, Fraction(alpha))
    np.testing.assert_allclose(w, [float(v) for v in w_exact], rtol=1e-12)
    assert b == pytest.approx(float(b_exact), rel=1e-12, abs=0 if fit_intercept else 1e-300)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_normal_equation_equals_lstsq(fit_intercept):
    """Weighted ridge as one least-squares problem: rows √s·[X, 1] with rows √(Σs α)·[I, 0]
    appended (the intercept is not penalised), solved by numpy.linalg.lstsq."""
    X, y = make_data(n=200, d=5, seed=3)
    s = np.random.default_rng(4).uniform(0.2, 3.0, 200)
    alpha = 0.05
    A = np.column_stack([X, np.ones(200)]) if fit_intercept else X
    p = A.shape[1]
    ridge_rows = np.sqrt(s.sum() * alpha) * np.eye(5, p)
    sol = np.linalg.lstsq(np.vstack([A * np.sqrt(s)[:, None], ridge_rows]),
                          np.concatenate([y * np.sqrt(s), np.zeros(5)]), rcond=None)[0]
    w, b = textbook.normal_equation(X, y, s, alpha, fit_intercept)
    np.testing.assert_allclose(w, sol[:5], rtol=1e-11)
    assert b == (pytest.approx(sol[5], rel=1e-11) if fit_intercept else 0.0)


def test_loss_and_gradients_equal_torch_autograd():
    X, y = make_data(n=40, d=4, seed=5)
    s = np.random.default_rng(6).uniform(0.2, 3.0, 40)
    w, b, alpha = np.array([0.3, -1.0, 2.0, 0.5]), 0.7, 0.2
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ts = torch.from_numpy(s)
    J = (ts * (torch.from_numpy(X) @ tw + tb - torch.from_numpy(y)) ** 2).sum() / (2 * ts.sum()) \
        + alpha / 2 * (tw**2).sum()
    J.backward()
    assert textbook.loss(X, y, w, b, s, alpha) == pytest.approx(J.item(), rel=1e-14)
    grad_w, grad_b = textbook.gradients(X, y, w, b, s, alpha)
    np.testing.assert_allclose(grad_w, tw.grad.numpy(), rtol=1e-13)
    assert grad_b == pytest.approx(tb.grad.item(), rel=1e-13)


def test_check_gradient_passes_the_true_gradient_and_catches_wrong_ones():
    """The lesson's debugging checklist: a wrong sign, a missing 1/n or a forgotten penalty
    term each give a relative error far above the ~1e-9 of the true gradient."""
    X, y = make_data(n=30, d=3, seed=7)
    s = np.random.default_rng(8).uniform(0.5, 2.0, 30)
    w, b, alpha = np.array([0.5, -0.2, 1.0]), 0.3, 0.1

    def J(w, b):
        return textbook.loss(X, y, w, b, s, alpha)

    def true(w, b):
        return textbook.gradients(X, y, w, b, s, alpha)

    def wrong_sign(w, b):
        gw, gb = true(w, b)
        return -gw, -gb

    def missing_mean(w, b):
        gw, gb = true(w, b)
        return gw * s.sum(), gb * s.sum()

    def no_penalty(w, b):
        return textbook.gradients(X, y, w, b, s, 0.0)

    assert textbook.check_gradient(J, true, w, b) < 1e-7
    assert textbook.check_gradient(J, wrong_sign, w, b) == pytest.approx(1.0, abs=1e-6)
    assert textbook.check_gradient(J, missing_mean, w, b) > 0.9
    assert textbook.check_gradient(J, no_penalty, w, b) > 1e-3


def _torch_optimizer(name, param, lr, mu, beta1, beta2, eps):
    if name == "adam":
        return torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
    return torch.optim.SGD([param], lr=lr, momentum=0.0 if name == "plain" else mu,
                           nesterov=name == "nesterov")


def textbook_update(name, p, g, state, lr, mu=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
    """One textbook step of optimizer ``name``; ``state = [velocity or m, v, t]`` in place."""
    if name == "plain":
        return p - lr * g                       # the update of textbook.gd_step
    if name == "momentum":
        p, state[0] = textbook.momentum_step(p, g, state[0], lr, mu)
    elif name == "nesterov":
        p, state[0] = textbook.nesterov_step(p, g, state[0], lr, mu)
    else:
        state[2] += 1
        p, state[0], state[1] = textbook.adam_step(p, g, state[0], state[1], state[2], lr,
                                                   beta1, beta2, eps)
    return p


def new_optimizer_state(n):
    return [np.zeros(n), np.zeros(n), 0]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_equal_torch(name):
    """40 steps on a fixed sequence of gradients spanning five decades: the textbook's
    parameters equal torch.optim.SGD(momentum, nesterov) / torch.optim.Adam's."""
    rng = np.random.default_rng(9)
    grads = rng.standard_normal((40, 6)) * np.logspace(-3, 2, 6)
    hyper = {"mu": 0.8, "beta1": 0.85, "beta2": 0.99, "eps": 1e-6}
    p, state = rng.standard_normal(6), new_optimizer_state(6)
    tp = torch.tensor(p.copy(), requires_grad=True)
    topt = _torch_optimizer(name, tp, 0.05, **hyper)
    for g in grads:
        p = textbook_update(name, p, g, state, 0.05, **hyper)
        tp.grad = torch.tensor(g)
        topt.step()
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_minibatch_epoch_equals_torch_and_sgd_epoch_is_batches_of_one():
    """torch.nn.Linear (zero init), torch.optim.SGD on mean ½(ŷ − y)² + (α/2)‖w‖² over
    batches of 8 (the last of 4), rows in a given order."""
    X, y = make_data(n=100, d=4, seed=10)
    order = np.random.default_rng(11).permutation(100)
    lr, alpha = 0.02, 0.01
    w, b = textbook.minibatch_epoch(X, y, np.zeros(4), 0.0, lr, order, 8, alpha=alpha)
    tw, tb = torch_minibatch_epoch(X[order], y[order], lambda ps: torch.optim.SGD(ps, lr=lr), 8,
                                   alpha)
    np.testing.assert_allclose(w, tw, rtol=1e-12)
    assert b == pytest.approx(tb, rel=1e-12)
    w1, b1 = textbook.sgd_epoch(X, y, np.zeros(4), 0.0, lr, order, alpha=alpha)
    wb, bb = textbook.minibatch_epoch(X, y, np.zeros(4), 0.0, lr, order, 1, alpha=alpha)
    np.testing.assert_array_equal(w1, wb)
    assert b1 == bb


def test_standardize_equals_sklearn_standard_scaler():
    """StandardScaler also divides by the 1/n standard deviation and keeps scale 1 for a
    constant column."""
    X, _ = make_data(n=50, d=3, seed=12)
    X = np.column_stack([X, np.full(50, 7.25)])
    Z, mean, scale = textbook.standardize(X)
    ref = StandardScaler().fit(X)
    np.testing.assert_allclose(mean, ref.mean_, rtol=1e-15)
    np.testing.assert_allclose(scale, ref.scale_, rtol=1e-15)
    np.testing.assert_allclose(Z, ref.transform(X), rtol=1e-14, atol=1e-15)
    assert scale[3] == 1.0 and np.all(Z[:, 3] == 0.0)


# ================================================================ linreg against the oracle
# ---------------------------------------------------------------- objective.py
@pytest.mark.parametrize("weighted", [False, True])
def test_objective_row_formulas_equal_the_textbook(weighted):
    """objective.predict/loss/gradient with two targets are the textbook's, column by column
    (J sums the targets' losses; the gradient's columns are the targets' gradients)."""
    X, _ = make_data(n=40, d=3, seed=13)
    rng = np.random.default_rng(14)
    Y = rng.standard_normal((40, 2))
    s = rng.uniform(0.2, 3.0, 40) if weighted else None
    W, B, alpha = rng.standard_normal((3, 2)), rng.standard_normal(2), 0.4
    gw, gb = objective.gradient(X, Y, W, B, alpha, s)
    J = 0.0
    for c in range(2):
        np.testing.assert_allclose(objective.predict(X, W, B)[:, c],
                                   textbook.predict(X, W[:, c], B[c]), rtol=1e-14)
        J += textbook.loss(X, Y[:, c], W[:, c], B[c], s, alpha)
        tw, tb = textbook.gradients(X, Y[:, c], W[:, c], B[c], s, alpha)
        np.testing.assert_allclose(gw[:, c], tw, rtol=1e-13)
        assert gb[c] == pytest.approx(tb, rel=1e-13)
    assert objective.loss(X, Y, W, B, alpha, s) == pytest.approx(J, rel=1e-14)


@pytest.mark.parametrize("standardize", [False, True])
def test_objective_from_statistics_equals_the_textbook(standardize):
    """loss_from_stats/gradient_from_stats (O(d²), what "gd" iterates with) equal the
    textbook's row formulas on the design's rows."""
    X, y = make_data(n=80, d=3, seed=15)
    X = X * [1.0, 10.0, 0.1] + [5.0, -2.0, 100.0]
    s = np.random.default_rng(16).uniform(0.5, 1.5, 80)
    stats = sufficient_stats(X, y[:, None], s)
    design = Design.from_stats(stats, True, standardize)
    ds, Xd = design.apply(stats), design.transform(X)
    w, b, alpha = np.array([0.2, -0.03, 1.5]), 0.8, 0.2
    assert objective.loss_from_stats(ds, w[:, None], np.array([b]), alpha) == pytest.approx(
        textbook.loss(Xd, y, w, b, s, alpha), rel=1e-12)
    gw, gb = objective.gradient_from_stats(ds, w[:, None], np.array([b]), alpha)
    tw, tb = textbook.gradients(Xd, y, w, b, s, alpha)
    np.testing.assert_allclose(gw[:, 0], tw, rtol=1e-10)
    assert gb[0] == pytest.approx(tb, rel=1e-10)


# ---------------------------------------------------------------- the compiled update rules
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_compiled_update_rules_equal_the_textbook_steps(name):
    """update_rules.apply_update (through optimizers.get_optimizer(name).update), 40 steps on
    the same gradients, against textbook.gd_step's update / momentum_step / nesterov_step /
    adam_step."""
    rng = np.random.default_rng(17)
    grads = rng.standard_normal((40, 5)) * np.logspace(-2, 2, 5)
    opt = get_optimizer(name, momentum=0.7, beta1=0.8, beta2=0.995, epsilon=1e-7)
    p, state = rng.standard_normal(5), opt.init(5)
    q, tstate = p.copy(), new_optimizer_state(5)
    for g in grads:
        opt.update(p, g, state, 0.03)
        q = textbook_update(name, q, g, tstate, 0.03, mu=0.7, beta1=0.8, beta2=0.995, eps=1e-7)
        np.testing.assert_allclose(p, q, rtol=1e-14, atol=1e-16)
    assert state.step == 40


# ---------------------------------------------------------------- training loops
def textbook_training(X, y, name, lr, batches, sample_weight=None, alpha=0.0):
    """From w = 0, b = 0: per batch of rows, the textbook gradient of J on those rows, then
    one textbook step of optimizer ``name`` on p = [w, b] (linreg's momentum 0.9 and Adam's
    β₁ = 0.9, β₂ = 0.999, ε = 1e-8 are its defaults)."""
    d = X.shape[1]
    p, state = np.zeros(d + 1), new_optimizer_state(d + 1)
    for rows in batches:
        s = None if sample_weight is None else sample_weight[rows]
        g = np.append(*textbook.gradients(X[rows], y[rows], p[:d], p[d], s, alpha))
        p = textbook_update(name, p, g, state, lr)
    return p[:d], p[d]


def epoch_orders(n, epochs, shuffle, random_state):
    """The row order of each epoch, as linreg draws it."""
    rng = np.random.default_rng(random_state)
    return [rng.permutation(n) if shuffle else np.arange(n) for _ in range(epochs)]


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("steps", [1, 3, 10])
def test_gd_fit_equals_textbook_steps(name, steps):
    """solver="gd" (its gradient from the sufficient statistics, n ≥ d), weighted ridge:
    ``steps`` iterations equal ``steps`` textbook steps; for "plain" that is textbook.gd_step."""
    X, y = make_data(n=60, d=3, seed=18)
    s = np.random.default_rng(19).uniform(0.2, 3.0, 60)
    lr, alpha = 0.05, 0.1
    m = LinearRegression(solver="gd", optimizer=name, standardize=False, learning_rate=lr,
                         schedule="constant", alpha=alpha, max_iter=steps, tol=0)
    m.fit(X, y, sample_weight=s)
    if name == "plain":
        w, b = np.zeros(3), 0.0
        for _ in range(steps):
            w, b = textbook.gd_step(X, y, w, b, lr, s, alpha)
    else:
        w, b = textbook_training(X, y, name, lr, [np.arange(60)] * steps, s, alpha)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_gd_fit_from_rows_equals_textbook_steps(name):
    """Fewer rows than features: "gd" takes its gradient from the rows (objective.gradient)."""
    rng = np.random.default_rng(20)
    X, y = rng.standard_normal((6, 9)), rng.standard_normal(6)
    m = LinearRegression(solver="gd", optimizer=name, standardize=False, learning_rate=0.02,
                         schedule="constant", alpha=0.05, max_iter=5, tol=0).fit(X, y)
    w, b = textbook_training(X, y, name, 0.02, [np.arange(6)] * 5, alpha=0.05)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_sgd_fit_equals_textbook_sgd_epochs(shuffle, epochs):
    """solver="sgd" (the compiled one-sample kernel, plain SGD fused with its gradient):
    ``epochs`` epochs are textbook.sgd_epoch applied as often, over the same row orders."""
    X, y = make_data(n=60, d=3, seed=21)
    lr, alpha = 0.02, 0.05
    m = LinearRegression(solver="sgd", standardize=False, shuffle=shuffle, random_state=4,
                         learning_rate=lr, schedule="constant", alpha=alpha, max_iter=epochs,
                         tol=0).fit(X, y)
    w, b = np.zeros(3), 0.0
    for order in epoch_orders(60, epochs, shuffle, 4):
        w, b = textbook.sgd_epoch(X, y, w, b, lr, order, alpha=alpha)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("epochs", [1, 3])
def test_minibatch_fit_equals_textbook_minibatch_epochs(shuffle, epochs):
    """solver="minibatch", 60 rows in batches of 8 (the last of 4): textbook.minibatch_epoch."""
    X, y = make_data(n=60, d=3, seed=22)
    lr, alpha = 0.05, 0.05
    m = LinearRegression(solver="minibatch", batch_size=8, standardize=False, shuffle=shuffle,
                         random_state=5, learning_rate=lr, schedule="constant", alpha=alpha,
                         max_iter=epochs, tol=0).fit(X, y)
    w, b = np.zeros(3), 0.0
    for order in epoch_orders(60, epochs, shuffle, 5):
        w, b = textbook.minibatch_epoch(X, y, w, b, lr, order, 8, alpha=alpha)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("name", ("momentum", "nesterov", "adam"))
@pytest.mark.parametrize("solver, batch_size", [("sgd", 1), ("minibatch", 8)])
def test_stochastic_fit_with_an_optimizer_equals_textbook_steps(solver, batch_size, name):
    """The kernels' optimizer steps (one per batch, the state carried across epochs)."""
    X, y = make_data(n=60, d=3, seed=23)
    lr, alpha = 0.01, 0.05
    m = LinearRegression(solver=solver, batch_size=batch_size, optimizer=name,
                         standardize=False, random_state=6, learning_rate=lr,
                         schedule="constant", alpha=alpha, max_iter=2, tol=0).fit(X, y)
    batches = [order[i:i + batch_size] for order in epoch_orders(60, 2, True, 6)
               for i in range(0, 60, batch_size)]
    w, b = textbook_training(X, y, name, lr, batches, alpha=alpha)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-12)
    assert m.intercept_ == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("solver, batch_size", [("sgd", 1), ("minibatch", 8)])
def test_standardized_stochastic_fit_is_the_textbook_on_standardized_rows(solver, batch_size):
    """standardize=True: linreg trains on z = (x − mean)/std (formed on the fly from the raw
    rows) and reports w = θ/std, b = β − meanᵀw: the textbook on textbook.standardize(X)."""
    X, y = make_data(n=60, d=3, seed=24)
    X = X * [1.0, 20.0, 0.05] + [3.0, -40.0, 0.5]
    lr = 0.02
    m = LinearRegression(solver=solver, batch_size=batch_size, random_state=7,
                         learning_rate=lr, schedule="constant", max_iter=2, tol=0).fit(X, y)
    Z, mean, scale = textbook.standardize(X)
    theta, beta = np.zeros(3), 0.0
    for order in epoch_orders(60, 2, True, 7):
        theta, beta = textbook.minibatch_epoch(Z, y, theta, beta, lr, order, batch_size)
    w = theta / scale
    np.testing.assert_allclose(m.coef_, w, rtol=1e-11)
    assert m.intercept_ == pytest.approx(beta - mean @ w, rel=1e-11)


# ---------------------------------------------------------------- closed forms and the design
@pytest.mark.parametrize("solver", ["normal", "qr", "auto"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_closed_form_fit_equals_textbook_normal_equation(solver, fit_intercept, weighted, alpha):
    """standardize=False: the penalty is on the raw coefficients, exactly the textbook's J."""
    X, y = make_data(n=100, d=4, seed=25)
    s = np.random.default_rng(26).uniform(0.2, 3.0, 100) if weighted else None
    m = LinearRegression(solver=solver, alpha=alpha, fit_intercept=fit_intercept,
                         standardize=False).fit(X, y, sample_weight=s)
    w, b = textbook.normal_equation(X, y, s, alpha, fit_intercept)
    np.testing.assert_allclose(m.coef_, w, rtol=1e-11)
    assert m.intercept_ == pytest.approx(b, rel=1e-11, abs=0 if fit_intercept else 1e-300)


@pytest.mark.parametrize("solver", ["normal", "qr"])
def test_standardized_ridge_is_the_normal_equation_on_standardized_rows(solver):
    """standardize=True with alpha > 0 penalises the standardized coefficients (glmnet's
    choice, not the textbook's raw ‖w‖²): it is textbook.normal_equation on
    textbook.standardize(X), mapped back by w = θ/std, b = β − meanᵀw."""
    X, y = make_data(n=100, d=4, seed=27)
    X = X * [1.0, 30.0, 0.02, 5.0] + [0.0, 100.0, -1.0, 3.0]
    m = LinearRegression(solver=solver, alpha=0.3).fit(X, y)
    Z, mean, scale = textbook.standardize(X)
    theta, beta = textbook.normal_equation(Z, y, alpha=0.3)
    w = theta / scale
    np.testing.assert_allclose(m.coef_, w, rtol=1e-11)
    assert m.intercept_ == pytest.approx(beta - mean @ w, rel=1e-11)


def test_design_standardization_equals_textbook_standardize():
    """design.Design (standardize=True, intercept): shift = mean, scale = the 1/n standard
    deviation, 1 for a constant column; Design.transform(X) is the textbook's Z."""
    X, y = make_data(n=70, d=3, seed=28)
    X = np.column_stack([X * [1.0, 1e3, 1e-3], np.full(70, -3.5)])
    design = Design.from_stats(sufficient_stats(X, y[:, None]), True, True)
    Z, mean, scale = textbook.standardize(X)
    np.testing.assert_allclose(design.shift, mean, rtol=1e-14)
    np.testing.assert_allclose(design.scale, scale, rtol=1e-13)
    assert design.scale[3] == 1.0
    np.testing.assert_allclose(design.transform(X), Z, rtol=1e-12, atol=1e-13)
