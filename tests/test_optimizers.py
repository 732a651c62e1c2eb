"""The update rules and schedules of linreg.optimizers, against hand-worked values and
PyTorch's optimizers (torch.optim.SGD with momentum / Nesterov, torch.optim.Adam) fed the
very same gradients."""

import math

import numpy as np
import pytest
import torch

from linreg import objective
from linreg.optimizers import (OPTIMIZERS, OptimizerState, get_optimizer,
                               scheduled_learning_rate)


def _torch_optimizer(name, param, lr, mu=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
    if name == "plain":
        return torch.optim.SGD([param], lr=lr)
    if name == "momentum":
        return torch.optim.SGD([param], lr=lr, momentum=mu)
    if name == "nesterov":
        return torch.optim.SGD([param], lr=lr, momentum=mu, nesterov=True)
    return torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)


# ---------------------------------------------------------------- hand-worked first steps
def test_plain_first_step_by_hand():
    opt = get_optimizer("plain")
    p = np.array([1.0, -2.0])
    opt.update(p, np.array([0.5, 4.0]), opt.init(2), 0.1)
    np.testing.assert_array_equal(p, [1.0 - 0.05, -2.0 - 0.4])


def test_momentum_and_nesterov_two_steps_by_hand():
    g1, g2 = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    lr, mu = 0.1, 0.9
    # momentum: v1 = g1, p1 = −η g1; v2 = μ g1 + g2, p2 = p1 − η v2
    opt = get_optimizer("momentum", momentum=mu)
    p, s = np.zeros(2), opt.init(2)
    opt.update(p, g1, s, lr)
    np.testing.assert_allclose(p, -lr * g1, rtol=1e-15)
    opt.update(p, g2, s, lr)
    np.testing.assert_allclose(p, -lr * g1 - lr * (mu * g1 + g2), rtol=1e-15)
    # Nesterov: p1 = −η (g1 + μ g1); p2 = p1 − η (g2 + μ (μ g1 + g2))
    opt = get_optimizer("nesterov", momentum=mu)
    p, s = np.zeros(2), opt.init(2)
    opt.update(p, g1, s, lr)
    np.testing.assert_allclose(p, -lr * (1 + mu) * g1, rtol=1e-15)
    opt.update(p, g2, s, lr)
    np.testing.assert_allclose(p, -lr * (1 + mu) * g1 - lr * (g2 + mu * (mu * g1 + g2)), rtol=1e-15)
    assert s.step == 2


def test_adam_first_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = get_optimizer("adam", beta1=b1, beta2=b2, epsilon=eps)
    g1, g2 = np.array([2.0, -0.5]), np.array([-1.0, 0.25])
    p, s = np.zeros(2), opt.init(2)
    opt.update(p, g1, s, lr)
    # after one step m̂ = g, v̂ = g², so the step is η·g/(|g| + ε) ≈ η·sign(g)
    np.testing.assert_allclose(p, -lr * g1 / (np.abs(g1) + eps), rtol=1e-14)
    opt.update(p, g2, s, lr)
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    step2 = lr / (1 - b1**2) * m / (np.sqrt(v) / math.sqrt(1 - b2**2) + eps)
    np.testing.assert_allclose(p, -lr * g1 / (np.abs(g1) + eps) - step2, rtol=1e-14)
    np.testing.assert_allclose(s.moments[0], m, rtol=1e-15)
    np.testing.assert_allclose(s.moments[1], v, rtol=1e-15)


# ---------------------------------------------------------------- PyTorch trajectories
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_match_torch_on_the_same_gradients(name):
    """40 steps on a fixed sequence of random gradients: the same parameters as torch.optim."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((40, 7)) * np.logspace(-3, 2, 7)
    lr = 0.05
    opt = get_optimizer(name, momentum=0.8, beta1=0.85, beta2=0.99, epsilon=1e-6)
    p, state = rng.standard_normal(7), opt.init(7)
    tp = torch.tensor(p.copy(), dtype=torch.float64, requires_grad=True)
    topt = _torch_optimizer(name, tp, lr, mu=0.8, beta1=0.85, beta2=0.99, eps=1e-6)
    for g in grads:
        opt.update(p, g, state, lr)
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trajectory_on_the_least_squares_loss_matches_torch_autograd(name):
    """Gradients from objective.gradient on one side, torch autograd of the same J on the
    other; 60 full-batch steps agree (each side computes its own gradients)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3))
    Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(50))[:, None]
    alpha, lr = 0.1, 0.05
    opt = get_optimizer(name)
    p, state = np.zeros(4), opt.init(4)
    tw = torch.zeros((3, 1), dtype=torch.float64, requires_grad=True)
    tb = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    topts = [_torch_optimizer(name, tw, lr), _torch_optimizer(name, tb, lr)]
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(60):
        gw, gb = objective.gradient(X, Y, p[:3, None], p[3:], alpha)
        opt.update(p, np.concatenate([gw.ravel(), gb]), state, lr)
        for o in topts:
            o.zero_grad()
        J = 0.5 * ((Xt @ tw + tb - Yt) ** 2).mean() + 0.5 * alpha * (tw**2).sum()
        J.backward()
        for o in topts:
            o.step()
    np.testing.assert_allclose(p[:3], tw.detach().numpy().ravel(), rtol=1e-11)
    np.testing.assert_allclose(p[3], tb.item(), rtol=1e-11)


def test_state_is_an_explicit_value():
    """Copying the state and replaying gives the same steps (what partial_fit and checkpoints
    rely on)."""
    opt = get_optimizer("adam")
    rng = np.random.default_rng(2)
    p, s = np.zeros(3), opt.init(3)
    for _ in range(5):
        opt.update(p, rng.standard_normal(3), s, 0.1)
    p2, s2 = p.copy(), OptimizerState(s.moments.copy(), s.step)
    g = rng.standard_normal(3)
    opt.update(p, g, s, 0.1)
    opt.update(p2, g, s2, 0.1)
    np.testing.assert_array_equal(p, p2)
    assert isinstance(s2, OptimizerState) and s2.step == 6


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ValueError, match="optimizer='rmsprop' is not one of"):
        get_optimizer("rmsprop")


# ---------------------------------------------------------------- schedules
def test_schedules_by_hand_and_against_torch():
    assert [scheduled_learning_rate("constant", 0.5, t) for t in (1, 7)] == [0.5, 0.5]
    assert scheduled_learning_rate("invscaling", 0.5, 16, power_t=0.25) == 0.25
    assert scheduled_learning_rate("exponential", 0.5, 1, decay_rate=0.9) == 0.5
    assert scheduled_learning_rate("exponential", 0.5, 3, decay_rate=0.9) == pytest.approx(0.405)
    # torch's ExponentialLR: epoch t (from 1) runs at lr·γ^(t−1)
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=0.5)
    sched = torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)
    for t in range(1, 6):
        assert o.param_groups[0]["lr"] == pytest.approx(
            scheduled_learning_rate("exponential", 0.5, t, decay_rate=0.9), rel=1e-14)
        o.step()
        sched.step()
    with pytest.raises(ValueError, match="schedule='cosine' is not one of"):
        scheduled_learning_rate("cosine", 0.5, 1)


def test_a_misspelled_hyperparameter_is_an_error_not_dropped():
    with pytest.raises(TypeError, match=r"unknown optimizer hyperparameter\(s\) \['monentum'\]"):
        get_optimizer("momentum", monentum=0.5)
    # each rule takes the ones it uses: Adam ignores momentum, plain takes none
    assert get_optimizer("adam", momentum=0.5, beta1=0.8).beta1 == 0.8
    assert get_optimizer("plain", momentum=0.5, epsilon=1e-3).name == "plain"
