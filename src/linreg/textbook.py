"""The lesson's equations in plain NumPy — read this first; the tests' oracle.

One target ``y`` of shape (n,), coefficients ``w`` of shape (d,), an intercept ``b``::

    model       ŷ = X w + b
    loss        J(w, b) = 1/(2 Σs) Σ s_i (x_iᵀw + b − y_i)² + (α/2) ‖w‖²
    gradients   ∇_w J = Xᵀ S (Xw + b − y)/Σs + α w,   ∇_b J = Σ s_i (ŷ_i − y_i)/Σs
    step        w := w − η ∇_w J,   b := b − η ∇_b J

(``s`` the sample weights, 1 by default: then ``∇_w J = Xᵀ(Xw + b − y)/n + αw`` and
``∇_b J = mean(ŷ − y)``.)  Each function is a few lines next to its formula.  Nothing here
is fast and nothing imports the rest of linreg: every fast path of linreg is tested against
these functions (``tests/test_textbook.py``) and names the one it must equal.
"""

import numpy as np

__all__ = ["adam_step", "check_gradient", "gd_step", "gradients", "loss", "minibatch_epoch",
           "momentum_step", "nesterov_step", "normal_equation", "predict", "sgd_epoch",
           "standardize"]


def predict(X, w, b):
    """The model ``ŷ = X w + b``.

    >>> predict(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0]), 0.5)
    array([-0.5, -0.5])
    """
    return X @ w + b


def _weights(y, sample_weight):
    return np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)


def loss(X, y, w, b, sample_weight=None, alpha=0.0):
    """``J(w, b) = 1/(2 Σs) Σ s_i (x_iᵀw + b − y_i)² + (α/2)‖w‖²``.

    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    >>> float(loss(X, y, np.array([2.0]), 1.0)), float(loss(X, y, np.array([0.0]), 0.0))
    (0.0, 5.833333333333333)
    """
    s, r = _weights(y, sample_weight), predict(X, w, b) - y
    return s @ r**2 / (2 * s.sum()) + alpha / 2 * (w @ w)


def gradients(X, y, w, b, sample_weight=None, alpha=0.0):
    """``(∇_w J, ∇_b J) = (Xᵀ S (Xw + b − y)/Σs + α w,  Σ s_i (ŷ_i − y_i)/Σs)``.

    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    >>> grad_w, grad_b = gradients(X, y, np.array([0.0]), 0.0)   # Xᵀ(−y)/3 and mean(−y)
    >>> grad_w, float(grad_b)
    (array([-4.33333333]), -3.0)
    """
    s = _weights(y, sample_weight)
    r = s * (predict(X, w, b) - y)
    return X.T @ r / s.sum() + alpha * w, r.sum() / s.sum()


def gd_step(X, y, w, b, learning_rate, sample_weight=None, alpha=0.0):
    """One step of batch gradient descent: ``w := w − η ∇_w J``, ``b := b − η ∇_b J``.

    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    >>> w, b = np.zeros(1), 0.0
    >>> for _ in range(2000):
    ...     w, b = gd_step(X, y, w, b, learning_rate=0.5)
    >>> np.round(w, 6), round(float(b), 6)          # y = 2x + 1
    (array([2.]), 1.0)
    """
    grad_w, grad_b = gradients(X, y, w, b, sample_weight, alpha)
    return w - learning_rate * grad_w, b - learning_rate * grad_b


def sgd_epoch(X, y, w, b, learning_rate, order, alpha=0.0):
    """One epoch of SGD: for each row ``i`` in ``order``, one :func:`gd_step` on that row
    alone, ``r = x_iᵀw + b − y_i``, ``w := w − η (x_i r + α w)``, ``b := b − η r``."""
    for i in order:
        w, b = gd_step(X[i:i + 1], y[i:i + 1], w, b, learning_rate, alpha=alpha)
    return w, b


def minibatch_epoch(X, y, w, b, learning_rate, order, batch_size, alpha=0.0):
    """One epoch of mini-batch SGD: ``order`` cut into consecutive batches of ``batch_size``
    rows (the last may be smaller), one :func:`gd_step` on each batch's rows."""
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        w, b = gd_step(X[batch], y[batch], w, b, learning_rate, alpha=alpha)
    return w, b


def momentum_step(params, grad, velocity, learning_rate, momentum=0.9):
    """Heavy ball, as ``torch.optim.SGD(momentum=μ)``: ``v := μ v + ∇J``, ``p := p − η v``
    (``v`` starts at 0).  Returns ``(params, velocity)``."""
    velocity = momentum * velocity + grad
    return params - learning_rate * velocity, velocity


def nesterov_step(params, grad, velocity, learning_rate, momentum=0.9):
    """Nesterov, as ``torch.optim.SGD(momentum=μ, nesterov=True)``: ``v := μ v + ∇J``,
    ``p := p − η (∇J + μ v)``.  Returns ``(params, velocity)``."""
    velocity = momentum * velocity + grad
    return params - learning_rate * (grad + momentum * velocity), velocity


def adam_step(params, grad, m, v, t, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam, as ``torch.optim.Adam``; ``t = 1, 2, …`` counts the steps, ``m = v = 0`` at first::

        m := β₁ m + (1 − β₁) ∇J,    v := β₂ v + (1 − β₂) ∇J²
        p := p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    Returns ``(params, m, v)``.  The first step moves each coordinate by about ``η``:

    >>> p, m, v = adam_step(np.zeros(2), np.array([4.0, -0.5]), 0.0, 0.0, 1, 0.1)
    >>> np.round(p, 6)
    array([-0.1,  0.1])
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    step_size = learning_rate / (1 - beta1**t)
    return params - step_size * m / (np.sqrt(v) / np.sqrt(1 - beta2**t) + eps), m, v


def normal_equation(X, y, sample_weight=None, alpha=0.0, fit_intercept=True):
    """The minimiser of ``J``: with ``A = [X, 1]`` (no column of ones without an intercept),
    ``S = diag(s)`` and ``P`` the identity with 0 for the intercept, ``∇J = 0`` reads::

        (Aᵀ S A + Σs·α P) [w; b] = Aᵀ S y

    solved by ``numpy.linalg.solve`` (never an inverse).  Returns ``(w, b)``.

    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    >>> w, b = normal_equation(X, y)
    >>> np.round(w, 12), round(float(b), 12)
    (array([2.]), 1.0)
    """
    s = _weights(y, sample_weight)
    A = np.column_stack([X, np.ones(len(y))]) if fit_intercept else np.asarray(X, dtype=float)
    penalty = np.eye(A.shape[1]) * s.sum() * alpha
    if fit_intercept:
        penalty[-1, -1] = 0.0
    theta = np.linalg.solve(A.T @ (s[:, None] * A) + penalty, A.T @ (s * y))
    return (theta[:-1], theta[-1]) if fit_intercept else (theta, 0.0)


def standardize(X):
    """``z = (x − mean) / std`` per column (std with ``1/n``); a constant column keeps scale
    1, so it never divides by zero.  Returns ``(Z, mean, scale)``.

    >>> Z, mean, scale = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> Z, mean, scale
    (array([[-1.,  0.],
           [ 1.,  0.]]), array([2., 5.]), array([1., 1.]))
    """
    mean, std = X.mean(axis=0), X.std(axis=0)
    scale = np.where(np.ptp(X, axis=0) == 0, 1.0, std)
    return (X - mean) / scale, mean, scale


def check_gradient(f, grad, w, b, eps=1e-6):
    """Compare ``grad(w, b) = (∇_w f, ∇_b f)`` with central differences
    ``(f(θ + ε e_j) − f(θ − ε e_j)) / 2ε`` over the parameters ``θ = [w, b]``; returns the
    relative error ``‖g − g_fd‖ / (‖g‖ + ‖g_fd‖)`` (about 1e-9 when right, 1 for a wrong sign).

    >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
    >>> J = lambda w, b: loss(X, y, w, b)
    >>> bool(check_gradient(J, lambda w, b: gradients(X, y, w, b), np.zeros(1), 0.0) < 1e-6)
    True
    >>> wrong_sign = lambda w, b: tuple(-g for g in gradients(X, y, w, b))
    >>> round(float(check_gradient(J, wrong_sign, np.zeros(1), 0.0)), 6)
    1.0
    """
    theta = np.append(w, b).astype(float)

    def f_theta(t):
        return f(t[:-1], t[-1])

    g = np.append(*grad(w, b))
    g_fd = np.array([(f_theta(theta + e) - f_theta(theta - e)) / (2 * eps)
                     for e in eps * np.eye(theta.size)])
    return np.linalg.norm(g - g_fd) / (np.linalg.norm(g) + np.linalg.norm(g_fd))
