"""Property-based tests: every solver, on generated data of every shape, dtype and weighting,
either returns finite coefficients that satisfy the optimality condition or raises a clear
error — never NaN, never a hang.  Plus metamorphic properties of the exact solution.

The optimality condition is checked independently of linreg, with numpy: the gradient of

    J(w, b) = 1/(2 n_w) Σ s_i (x_iᵀw + b − y_i)² + (α/2)‖θ‖²,   θ_j = w_j·scale_j

computed from the rows must vanish, relative to the size of the terms it is a sum of.  For
well-conditioned full-rank problems the coefficients are also compared with
``numpy.linalg.lstsq``.  The number of generated examples is set by the hypothesis profile
(``tests/conftest.py``): bounded in ``make test``, large in ``make fuzz``.
"""

from __future__ import annotations

import contextlib
import signal
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from linreg import ConvergenceWarning, DivergenceError, LinearRegression
from linreg.rank import identify_stats
from linreg.stats import sufficient_stats

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

SOLVERS = ["normal", "qr", "auto", "gd"]
CLOSED_FORMS = ["normal", "qr", "auto"]

#: a single fit taking longer than this counts as a hang
FIT_TIME_LIMIT_S = 60


@contextlib.contextmanager
def time_limit(seconds: int = FIT_TIME_LIMIT_S):
    """Fail (rather than hang the suite) if the block runs longer than ``seconds``."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"a fit ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------- generated data
@dataclass
class Problem:
    X: np.ndarray
    y: np.ndarray                 # (n,) or (n, k)
    sample_weight: np.ndarray | None
    fit_intercept: bool
    standardize: bool
    alpha: float
    well_conditioned: bool        # full rank with a modest condition number, by construction

    def __repr__(self):  # what hypothesis prints for a failing example
        return (f"Problem(X {self.X.shape} {self.X.dtype}, y {self.y.shape} {self.y.dtype}, "
                f"weights={'none' if self.sample_weight is None else 'yes'}, "
                f"fit_intercept={self.fit_intercept}, standardize={self.standardize}, "
                f"alpha={self.alpha}, well_conditioned={self.well_conditioned})")


def _sizes(edges):
    """Sizes from 1 to edges[-1], small, medium and large equally often."""
    bands = [st.integers(lo + (i > 0), hi) for i, (lo, hi) in enumerate(zip(edges, edges[1:]))
             if hi >= lo + (i > 0)]
    return st.one_of(bands)


KINDS = ["gaussian", "integers", "binary", "collinear", "constant", "sparse"]


@st.composite
def problems(draw, kinds=tuple(KINDS), max_n=3000, max_d=200, alphas=(0.0, 1e-3, 1.0, 100.0),
             well_conditioned=False):
    n = draw(_sizes([1, 12, 300, max_n]))
    d = draw(_sizes([1, 6, 40, max_d]))
    if well_conditioned:
        kind = "gaussian"
        assume(n >= d + 3)
    else:
        kind = draw(st.sampled_from(kinds))
    k = draw(st.sampled_from([None, None, 1, 2, 3]))          # None: a 1-D y
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "bool"]))
    if kind == "integers":
        dtype = draw(st.sampled_from(["int64", "int32", "float64"]))
    if kind == "binary":
        dtype = "bool"
    if well_conditioned and dtype in ("int64", "bool"):
        dtype = "float64"
    scale_exp = draw(st.sampled_from([0.0, 1.0, 3.0] if well_conditioned else [0.0, 2.0, 6.0]))
    offset_exp = draw(st.sampled_from([None, 0.0, 3.0, 6.0]))
    noise = draw(st.sampled_from([0.0, 1e-3, 1.0]))
    weights = draw(st.sampled_from(["none", "ones", "uniform", "integers", "loguniform"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    if kind in ("gaussian", "collinear", "constant"):
        X = rng.standard_normal((n, d))
    elif kind == "integers":
        X = rng.integers(-3, 4, (n, d)).astype(np.float64)
    elif kind == "binary":
        X = (rng.random((n, d)) < rng.uniform(0.05, 0.95)).astype(np.float64)
    else:  # sparse
        X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.1)
    if kind == "collinear" and d >= 2:
        j = rng.integers(1, d)
        X[:, j] = X[:, rng.integers(0, j)] * rng.choice([1.0, -2.0, 0.5])
        if d >= 3:
            X[:, 0] = X[:, 1] + X[:, 2]
    if kind == "constant":
        X[:, rng.integers(0, d)] = rng.choice([0.0, 1.0, -7.5])
    if dtype in ("float64", "float32") and kind not in ("integers", "binary"):
        X = X * 10.0 ** rng.uniform(-scale_exp, scale_exp, d)
        if offset_exp is not None:
            X = X + rng.choice([-1, 1], d) * 10.0 ** rng.uniform(0, offset_exp, d)
    if dtype == "bool":
        X = X > np.median(X, axis=0)
    X = X.astype(dtype)

    kk = 1 if k is None else k
    w_true = rng.standard_normal((d, kk))
    Xf = X.astype(np.float64)
    Y = Xf @ w_true + rng.standard_normal(kk) * 10 + noise * rng.standard_normal((n, kk))
    y = Y[:, 0] if k is None else Y
    y_dtype = draw(st.sampled_from(["float64", "float64", "float32", "int64"]))
    if y_dtype == "int64":
        y = np.round(y * 100).astype(np.int64)
    else:
        y = y.astype(y_dtype)

    if weights == "none":
        sw = None
    elif weights == "ones":
        sw = np.ones(n)
    elif weights == "uniform":
        sw = rng.uniform(0.1, 10.0, n)
    elif weights == "integers":
        sw = rng.integers(0, 4, n).astype(np.float64)
        sw[rng.integers(0, n)] = 1.0            # never all zero
    else:
        sw = 10.0 ** rng.uniform(-3, 3, n)
    return Problem(X, y, sw, draw(st.booleans()), draw(st.booleans()),
                   draw(st.sampled_from(list(alphas))), well_conditioned)


# ---------------------------------------------------------------------------- the reference
def _as_2d(y):
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _coef_2d(model):
    return model.coef_.reshape(-1, 1) if model.coef_.ndim == 1 else model.coef_.T


def _centring(p: Problem):
    """Weights, weight sum, means (zero without an intercept), centred X and Y — in numpy."""
    X = p.X.astype(np.float64)
    Y = _as_2d(p.y)
    s = np.ones(X.shape[0]) if p.sample_weight is None else np.asarray(p.sample_weight, float)
    n_w = s.sum()
    if p.fit_intercept:
        xbar = s @ X / n_w
        ybar = s @ Y / n_w
    else:
        xbar = np.zeros(X.shape[1])
        ybar = np.zeros(Y.shape[1])
    return s, n_w, xbar, ybar, X - xbar, Y - ybar


def optimality(p: Problem, coef, intercept):
    """Independent first-order optimality check, in numpy.

    Returns ``(‖g‖, ‖ref‖, |e|, e_ref)``: ``g`` is the gradient of ``J`` with respect to each
    coefficient, with every column measured in units of its own root-mean-square spread (so
    wildly different column scales do not hide an error); ``ref`` is the same sum taken over
    absolute values — the size rounding errors are relative to.  ``e = x̄ᵀw + b − ȳ`` is the
    gradient with respect to the intercept.
    """
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    spread = np.sqrt(s @ (Xc * Xc) / n_w)
    magnitude = np.abs(xbar) + spread
    live = spread > 1e-9 * np.maximum(magnitude, np.finfo(float).tiny)
    scale = np.where(live, spread, 1.0) if p.standardize else np.ones_like(spread)
    C = coef
    b = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    e = xbar @ C + b - ybar if p.fit_intercept else np.zeros(C.shape[1])
    R = Xc @ C - Yc + e
    theta = C * scale[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(live, 1.0 / np.where(live, spread, 1.0), 0.0)[:, None]
        g = (Xc.T @ (s[:, None] * R)) / n_w * unit + p.alpha * theta * (scale[:, None] * unit)
        absR = np.abs(Xc) @ np.abs(C) + np.abs(Yc) + np.abs(e)
        ref = (np.abs(Xc).T @ (s[:, None] * absR)) / n_w * unit + p.alpha * np.abs(theta) * (scale[:, None] * unit)
    e_ref = np.abs(xbar) @ np.abs(C) + np.abs(b) + np.abs(ybar)
    return (float(np.linalg.norm(g[live])), float(np.linalg.norm(ref[live])),
            np.abs(e), e_ref)


def design_gradient(p: Problem, coef2d, intercept):
    """The gradient in the solver's own (documented) coordinates, by numpy, for gd's ``tol``.

    With ``standardize=True``: ``x̃ = (x − x̄)/σ`` (``x̄ = 0`` and σ the root mean square
    without an intercept; σ = 1 for a constant column).  With ``standardize=False``: ``x̃ = x``.
    Returns ``(‖∇J(θ, β)‖, ‖∇J(0, 0)‖)``.
    """
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    X = p.X.astype(np.float64)
    if p.standardize:
        spread = np.sqrt(s @ (Xc * Xc) / n_w)
        constant = (spread <= 1e-13 * (np.abs(xbar) + spread)) | (spread == 0)
        scale = np.where(constant, 1.0, spread)
        Xd = Xc / scale
        shift = xbar
    else:
        scale, Xd, shift = np.ones(X.shape[1]), X, np.zeros(X.shape[1])
    Y = _as_2d(p.y)
    b = np.atleast_1d(np.asarray(intercept, dtype=np.float64))

    def grad(theta, beta):
        R = Xd @ theta + beta - Y
        gw = Xd.T @ (s[:, None] * R) / n_w + p.alpha * theta
        gb = s @ R / n_w if p.fit_intercept else np.zeros(0)
        return np.concatenate([gw.ravel(), gb])

    theta = coef2d * scale[:, None]
    beta = (b + shift @ coef2d) if p.fit_intercept else np.zeros(Y.shape[1])
    return (float(np.linalg.norm(grad(theta, beta))),
            float(np.linalg.norm(grad(np.zeros_like(theta), np.zeros(Y.shape[1])))))


def fit(p: Problem, solver: str, **params):
    model = LinearRegression(solver=solver, fit_intercept=p.fit_intercept,
                             standardize=p.standardize, alpha=p.alpha, **params)
    with time_limit(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(p.X, p.y, sample_weight=p.sample_weight)
    return model, [w.category for w in caught]


def check_shapes_and_finite(p: Problem, model):
    d = p.X.shape[1]
    if p.y.ndim == 1:
        assert model.coef_.shape == (d,)
        assert isinstance(model.intercept_, float)
    else:
        assert model.coef_.shape == (p.y.shape[1], d)
        assert model.intercept_.shape == (p.y.shape[1],)
    assert np.isfinite(model.coef_).all(), "non-finite coefficients"
    assert np.isfinite(model.intercept_).all(), "non-finite intercept"
    pred = model.predict(p.X)
    assert np.isfinite(pred).all(), "non-finite predictions"
    if not p.fit_intercept:
        assert np.all(model.intercept_ == 0)


# ---------------------------------------------------------------------------- properties
@pytest.mark.parametrize("solver", CLOSED_FORMS)
@given(p=problems())
def test_closed_form_is_finite_and_optimal(solver, p):
    """Any finite input: finite coefficients at which the gradient vanishes."""
    model, caught = fit(p, solver)
    check_shapes_and_finite(p, model)
    g, ref, e, e_ref = optimality(p, _coef_2d(model), model.intercept_)
    note(f"‖g‖={g:.3g} ‖ref‖={ref:.3g} |e|={e} e_ref={e_ref} warnings={caught}")
    assert g <= 1e-7 * ref + 1e-300, f"gradient {g:.3g} is not small relative to {ref:.3g}"
    assert np.all(e <= 1e-10 * e_ref + 1e-300), f"intercept gradient {e} vs {e_ref}"


@given(p=problems())
def test_gd_is_finite_and_meets_its_tolerance_or_warns(p):
    """Gradient descent: finite, and either ‖∇J‖ ≤ tol·‖∇J(0)‖ or a ConvergenceWarning."""
    model, caught = fit(p, "gd")
    check_shapes_and_finite(p, model)
    g, g0 = design_gradient(p, _coef_2d(model), model.intercept_)
    note(f"‖∇J‖={g:.3g} ‖∇J(0)‖={g0:.3g} n_iter={model.n_iter_} warnings={caught}")
    if ConvergenceWarning not in caught:
        assert g <= 10 * model.tol * g0 + 1e-300, (
            f"no ConvergenceWarning, yet ‖∇J‖ = {g:.3g} > tol·‖∇J(0)‖ = {model.tol * g0:.3g}")


@pytest.mark.parametrize("solver", SOLVERS)
@given(p=problems(well_conditioned=True, alphas=(0.0,)))
def test_well_conditioned_fit_equals_lstsq(solver, p):
    """Full rank, modest condition number: the coefficients of numpy.linalg.lstsq."""
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    r = np.sqrt(s)[:, None]
    A = Xc * r
    assume(np.linalg.cond(A) < 1e4)
    ref = np.linalg.lstsq(A, Yc * r, rcond=None)[0]
    ref_b = ybar - xbar @ ref
    if solver == "gd":
        # gd runs on the raw [1, X] when not standardizing, on the standardized design
        # otherwise; it needs about κ²·log(1/tol) iterations, so only small κ are tried
        if p.standardize:
            scale = np.linalg.norm(A, axis=0) / np.sqrt(n_w)
            D = A / np.maximum(scale, 1e-300)
        else:
            scale = np.ones(A.shape[1])
            D = p.X.astype(np.float64) * r
            if p.fit_intercept:
                D = np.hstack([r, D])
        assume(np.linalg.cond(D) < 8)
    params = {"max_iter": 5000, "tol": 1e-12} if solver == "gd" else {}
    model, caught = fit(p, solver, **params)
    check_shapes_and_finite(p, model)
    assert ConvergenceWarning not in caught
    C = _coef_2d(model)
    if solver == "gd":
        # J is λ-strongly convex (λ = λ_min of its Hessian), so ‖θ − θ*‖ ≤ ‖∇J(θ)‖/λ: the
        # distance to lstsq's answer that gd's stopping rule ‖∇J‖ ≤ tol·‖∇J(0)‖ allows
        lam = np.linalg.eigvalsh(D.T @ D / n_w)[0]
        if p.standardize and p.fit_intercept:
            lam = min(lam, 1.0)
        g, g0 = design_gradient(p, C, model.intercept_)
        assert g <= 10 * model.tol * g0 + 1e-300
        err = np.linalg.norm((C - ref) * scale[-C.shape[0]:, None])
        assert err <= 2 * g / lam + 1e-8 * np.linalg.norm(ref * scale[-C.shape[0]:, None])
        return
    assert (_close(p, C, ref, 1e-8)
            or np.linalg.norm(C - ref) <= 1e-8 * np.linalg.norm(ref) + 1e-12 * np.linalg.norm(Yc))
    b = np.atleast_1d(model.intercept_)
    if p.fit_intercept:
        assert np.allclose(b, ref_b, rtol=1e-8, atol=1e-8 * (np.abs(xbar) @ np.abs(ref) + 1e-300))


STOCHASTIC = ["sgd", "minibatch"]


def _loss(p: Problem, coef2d, intercept) -> float:
    """``J`` at the given coefficients (in numpy; the penalty on the design coefficients)."""
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    X, Y = p.X.astype(np.float64), _as_2d(p.y)
    b = np.atleast_1d(np.asarray(intercept, dtype=np.float64)) if p.fit_intercept else 0.0
    R = X @ coef2d + b - Y
    spread = np.sqrt(s @ (Xc * Xc) / n_w)
    constant = (spread <= 1e-13 * (np.abs(xbar) + spread)) | (spread == 0)
    scale = np.where(constant, 1.0, spread) if p.standardize else np.ones_like(spread)
    theta = coef2d * scale[:, None]
    return float(s @ np.sum(R * R, axis=1) / (2 * n_w) + 0.5 * p.alpha * np.sum(theta * theta))


@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize("optimizer", ["plain", "adam"])
@given(p=problems(max_n=400, max_d=30), data=st.data())
def test_stochastic_is_finite_and_no_worse_than_its_start_or_says_so(solver, optimizer, p, data):
    """sgd / minibatch: finite coefficients, a loss no higher than at the start (zero
    coefficients, intercept 0), or a clear error or warning — never NaN."""
    batch = data.draw(st.integers(1, max(1, min(32, p.X.shape[0]))))
    params = dict(max_iter=15, random_state=data.draw(st.integers(0, 2**16)), optimizer=optimizer)
    if solver == "minibatch":
        params["batch_size"] = batch
    try:
        model, caught = fit(p, solver, **params)
    except (ValueError, ArithmeticError) as exc:
        assert str(exc)
        note(f"error: {exc}")
        return
    check_shapes_and_finite(p, model)
    C = _coef_2d(model)
    J = _loss(p, C, model.intercept_)
    J0 = _loss(p, np.zeros_like(C), np.zeros(C.shape[1]))
    note(f"J={J:.6g} J0={J0:.6g} warnings={caught}")
    if ConvergenceWarning not in caught:
        assert J <= J0 * (1 + 1e-9) + 1e-300, f"J went from {J0:.6g} to {J:.6g} without a warning"


# ---------------------------------------------------------------------------- metamorphic
def solution_rtol(p: Problem, solver: str) -> float:
    """How far two backward-stable answers to (exactly) equivalent problems may differ,
    relative: ``ε·(κ + κ²·ρ)`` for QR and ``ε·κ²`` for the normal equations, with κ the
    condition number of the column-equilibrated design the solver faces and
    ``ρ = ‖r‖/(‖A‖‖x‖)`` the relative residual (times a safety factor)."""
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    A = Xc * np.sqrt(s)[:, None]
    A = A / np.maximum(np.linalg.norm(A, axis=0), 1e-300)
    B = Yc * np.sqrt(s)[:, None]
    x, *_ = np.linalg.lstsq(A, B, rcond=None)
    sv = np.linalg.svd(A, compute_uv=False)
    sv = sv[sv > sv[0] * max(A.shape) * np.finfo(float).eps] if sv.size and sv[0] > 0 else np.ones(1)
    kappa = sv[0] / sv[-1]    # of the part the (minimum-norm) solution lives in
    rho = np.linalg.norm(B - A @ x) / max(np.linalg.norm(A, 2) * np.linalg.norm(x), 1e-300)
    eps = np.finfo(float).eps
    normal = kappa**2
    qr = kappa + kappa**2 * rho
    bound = {"normal": normal, "qr": qr, "gd": normal,
             "auto": normal if kappa**2 < 1e7 else qr}[solver]
    return 1e-10 + 1e3 * eps * bound


def _intercept_size(p: Problem, coef2d) -> np.ndarray:
    """The size the intercept's rounding errors are relative to: the terms of
    ``b = ȳ − x̄ᵀw``, plus ``Σ_j |x̄_j|/σ_j · ‖w∘σ‖`` — a coefficient is accurate to a
    fraction of ‖w∘σ‖/σ_j, and that error reaches ``b`` multiplied by ``x̄_j``."""
    s, n_w, xbar, ybar, *_ = _centring(p)
    sigma = _column_spread(p)
    u = np.linalg.norm(coef2d * sigma[:, None], axis=0)
    return np.abs(ybar) + np.abs(xbar) @ np.abs(coef2d) + (np.abs(xbar) / sigma).sum() * u


def _intercepts_close(p: Problem, a, b, rtol):
    """Intercepts agree to ``rtol`` relative to :func:`_intercept_size`."""
    size = _intercept_size(p, _coef_2d(a)) + np.abs(a.intercept_)
    return np.all(np.abs(np.atleast_1d(a.intercept_) - np.atleast_1d(b.intercept_))
                  <= rtol * size + 1e-300)


def _column_spread(p: Problem) -> np.ndarray:
    """Root-mean-square spread of each column (about its mean with an intercept): the units
    in which the solvers are accurate normwise (a tiny column's coefficient is large)."""
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    spread = np.sqrt(s @ (Xc * Xc) / n_w)
    return np.where(spread > 0, spread, 1.0)


def _close(p: Problem, a, b, rtol):
    """Coefficients of shape (d, k) agree to ``rtol`` normwise, each column measured in
    units of its spread (so ``w∘σ`` is in units of y), relative to ``‖w∘σ‖`` plus the
    spread of y (rounding in the cross moments ``Σ x y`` is relative to the latter)."""
    s, n_w, xbar, ybar, Xc, Yc = _centring(p)
    y_spread = np.sqrt(np.sum(s @ (Yc * Yc)) / n_w)
    d = _column_spread(p)[:, None]
    a, b = np.asarray(a, float) * d, np.asarray(b, float) * d
    size = max(np.linalg.norm(a), np.linalg.norm(b)) + y_spread
    return np.linalg.norm(a - b) <= rtol * size + 1e-300


@st.composite
def metamorphic_problems(draw):
    return draw(problems(well_conditioned=True, max_n=1000, max_d=40, alphas=(0.0, 0.1)))


@pytest.mark.parametrize("solver", CLOSED_FORMS)
@given(p=metamorphic_problems(), data=st.data())
def test_permuting_rows_changes_nothing(solver, p, data):
    perm = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).permutation(p.X.shape[0])
    a, _ = fit(p, solver)
    q = Problem(p.X[perm], p.y[perm], None if p.sample_weight is None else p.sample_weight[perm],
                p.fit_intercept, p.standardize, p.alpha, True)
    b, _ = fit(q, solver)
    rtol = solution_rtol(p, solver)
    assert _close(p, _coef_2d(a), _coef_2d(b), rtol)
    assert _intercepts_close(p, a, b, rtol)


@pytest.mark.parametrize("solver", CLOSED_FORMS)
@given(p=metamorphic_problems(), data=st.data())
def test_scaling_a_feature_by_c_scales_its_coefficient_by_one_over_c(solver, p, data):
    assume(p.X.dtype.kind == "f")
    # the penalty is on standardized coefficients only with standardize=True
    assume(p.alpha == 0 or p.standardize)
    if not p.standardize:
        # a minimum-norm (rank-deficient) solution in raw units is not scale-equivariant:
        # the property holds for full column rank (zero weights can remove rows)
        s, n_w, xbar, ybar, Xc, Yc = _centring(p)
        assume(np.linalg.matrix_rank(Xc * np.sqrt(s)[:, None]) == p.X.shape[1])
        # ... and full rank as linreg decides it (linreg.rank: a singular value of the
        # equilibrated design below 1e-6 of the largest is zero, with a warning): designs
        # conditioned beyond that get the minimum-norm solution, which is not equivariant
        assume(identify_stats(sufficient_stats(p.X, np.asarray(p.y, dtype=np.float64)
                                               .reshape(p.X.shape[0], -1), p.sample_weight),
                              p.fit_intercept).full_rank)
    j = data.draw(st.integers(0, p.X.shape[1] - 1))
    # powers of two (and −1): the scaled data are exact, so any difference is the solver's
    # (multiplying by 1000 would round X, and a small coefficient can be sensitive to that)
    c = data.draw(st.sampled_from([-1.0, 2.0, 0.5, 1024.0, -2.0**-10, 2.0**40]))
    a, _ = fit(p, solver)
    X2 = p.X.copy()
    X2[:, j] *= c
    q = Problem(X2, p.y, p.sample_weight, p.fit_intercept, p.standardize, p.alpha, True)
    b, _ = fit(q, solver)
    expect = _coef_2d(a).copy()
    expect[j] /= c
    rtol = solution_rtol(p, solver)
    assert _close(q, _coef_2d(b), expect, rtol)
    assert _intercepts_close(p, a, b, rtol)


@pytest.mark.parametrize("solver", CLOSED_FORMS)
@given(p=metamorphic_problems(), shift=st.sampled_from([1.0, -3.5, 1e3, 1e6]))
def test_adding_a_constant_to_y_shifts_only_the_intercept(solver, p, shift):
    # the property is about the intercept: always fit one
    q = Problem(p.X, p.y.astype(np.float64), p.sample_weight, True, p.standardize, p.alpha, True)
    shifted = Problem(q.X, q.y + shift, q.sample_weight, True, q.standardize, q.alpha, True)
    a, _ = fit(q, solver)
    b, _ = fit(shifted, solver)
    # y + shift is rounded to float64: each entry moved by up to ε·|y + shift|
    y = q.y
    rounding = (1e3 * np.finfo(float).eps * (np.max(np.abs(y)) + abs(shift))
                / max(np.min(np.std(_as_2d(y), axis=0)), 1e-300))
    rtol = solution_rtol(q, solver) + rounding
    assert _close(q, _coef_2d(b), _coef_2d(a), rtol)
    size = _intercept_size(q, _coef_2d(a)) + abs(shift) + np.std(y)
    assert np.all(np.abs(np.atleast_1d(b.intercept_) - shift - np.atleast_1d(a.intercept_))
                  <= rtol * size)


@pytest.mark.parametrize("solver", CLOSED_FORMS)
@given(p=metamorphic_problems(), times=st.integers(2, 3))
def test_duplicating_every_row_changes_nothing(solver, p, times):
    a, _ = fit(p, solver)
    sw = None if p.sample_weight is None else np.tile(p.sample_weight, times)
    q = Problem(np.tile(p.X, (times, 1)), np.tile(p.y, (times,) + (1,) * (p.y.ndim - 1)), sw,
                p.fit_intercept, p.standardize, p.alpha, True)
    b, _ = fit(q, solver)
    rtol = solution_rtol(p, solver)
    assert _close(p, _coef_2d(a), _coef_2d(b), rtol)
    assert _intercepts_close(p, a, b, rtol)


@pytest.mark.parametrize("solver", SOLVERS)
@given(p=metamorphic_problems(), data=st.data())
def test_integer_weights_equal_repeated_rows(solver, p, data):
    """Weight 2 == the row twice; weight 0 == the row removed (any integer weight: repeats)."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n = p.X.shape[0]
    counts = rng.integers(0, 4, n)
    counts[rng.integers(0, n)] = 2
    assume((counts > 0).sum() >= p.X.shape[1] + 3)
    idx = np.repeat(np.arange(n), counts)
    # gd: the same number of steps on the same objective follow the same path, converged or not
    params = {"max_iter": 200, "tol": 0.0} if solver == "gd" else {}
    weighted = Problem(p.X, p.y, counts.astype(float), p.fit_intercept, p.standardize, p.alpha, True)
    repeated = Problem(p.X[idx], p.y[idx], None, p.fit_intercept, p.standardize, p.alpha, True)
    a, ca = fit(weighted, solver, **params)
    b, cb = fit(repeated, solver, **params)
    rtol = 1e-7 if solver == "gd" else solution_rtol(weighted, solver)
    assert _close(p, _coef_2d(a), _coef_2d(b), rtol)
    assert _intercepts_close(p, a, b, rtol)


# ---------------------------------------------------------------------------- clear errors
@pytest.mark.parametrize("solver", SOLVERS)
@given(p=problems(max_n=200, max_d=20), data=st.data())
def test_non_finite_input_is_a_clear_error_naming_where(solver, p, data):
    """A NaN or ±inf in X, y or the weights: a ValueError naming the row, never a NaN fit."""
    where = data.draw(st.sampled_from(["X", "y", "sample_weight"]))
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    n, d = p.X.shape
    r = data.draw(st.integers(0, n - 1))
    X = p.X.astype(np.float64)
    y = p.y.astype(np.float64)
    sw = np.ones(n) if p.sample_weight is None else p.sample_weight.copy()
    if where == "X":
        c = data.draw(st.integers(0, d - 1))
        X[r, c] = bad
    elif where == "y":
        y[r] = bad
    else:
        sw[r] = abs(bad) if np.isinf(bad) else bad
    with pytest.raises(ValueError) as err:
        fit(Problem(X, y, sw, p.fit_intercept, p.standardize, p.alpha, False), solver)
    msg = str(err.value)
    assert where in msg
    if where in ("X", "y"):
        assert f"row {r}" in msg
        assert ("NaN" if np.isnan(bad) else "inf") in msg
    if where == "X":
        assert f"column {c}" in msg


@given(n=st.integers(1, 50), d=st.integers(1, 5), data=st.data())
def test_bad_weights_are_clear_errors(n, d, data):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    kind = data.draw(st.sampled_from(["negative", "all zero", "wrong length"]))
    if kind == "negative":
        sw = np.ones(n)
        sw[data.draw(st.integers(0, n - 1))] = -data.draw(st.floats(1e-300, 1e300))
        match = "(?i)negative"
    elif kind == "all zero":
        sw, match = np.zeros(n), "(?i)zero"
    else:
        sw, match = np.ones(n + data.draw(st.integers(1, 3))), "sample_weight"
    with pytest.raises(ValueError, match=match):
        LinearRegression().fit(X, y, sample_weight=sw)


@given(solver=st.sampled_from(SOLVERS), n=st.integers(0, 3), d=st.integers(0, 3),
       ny=st.integers(0, 4))
def test_empty_or_mismatched_shapes_are_clear_errors(solver, n, d, ny):
    assume(n == 0 or d == 0 or ny != n)
    with pytest.raises(ValueError) as err:
        LinearRegression(solver=solver).fit(np.ones((n, d)), np.ones(ny))
    assert str(err.value)


@pytest.mark.parametrize("solver", ["gd"])
@given(p=problems(max_n=300, max_d=20), factor=st.sampled_from([1.9, 3.0, 10.0, 1e6]))
def test_too_large_learning_rate_is_an_error_never_nan(solver, p, factor):
    """A learning rate beyond the stability bound: DivergenceError with the bound, never NaN."""
    auto, _ = fit(p, "gd", max_iter=1)
    lr = factor * auto.learning_rate_
    assume(np.isfinite(lr))    # (an all-zero design has curvature ~0: its "auto" step is huge)
    try:
        model, _ = fit(p, "gd", learning_rate=lr, max_iter=200)
    except DivergenceError as exc:
        assert "learning_rate" in str(exc)
        return
    check_shapes_and_finite(p, model)


# ---------------------------------------------------------------------------- files
@pytest.mark.parametrize("solver", ["normal", "qr", "gd"])
@given(p=problems(kinds=("gaussian", "integers", "sparse"), max_n=600, max_d=20,
                  alphas=(0.0, 1.0), well_conditioned=True),
       chunk_rows=st.integers(1, 700))
def test_fit_from_npy_files_in_any_block_size_equals_the_in_memory_fit(tmp_path_factory, solver,
                                                                        p, chunk_rows):
    """The same problem streamed from .npy files in blocks of any size gives the in-memory
    coefficients (statistics merged exactly; TSQR for "qr")."""
    from linreg import sources
    folder = tmp_path_factory.mktemp("npy")
    np.save(folder / "X.npy", p.X)
    np.save(folder / "y.npy", p.y)
    w_path = None
    if p.sample_weight is not None:
        w_path = folder / "w.npy"
        np.save(w_path, p.sample_weight)
    src = sources.npy(folder / "X.npy", folder / "y.npy", chunk_rows=chunk_rows,
                      sample_weight_path=w_path)
    params = {"max_iter": 200, "tol": 0.0} if solver == "gd" else {}
    in_memory, _ = fit(p, solver, **params)
    model = LinearRegression(solver=solver, fit_intercept=p.fit_intercept,
                             standardize=p.standardize, alpha=p.alpha, **params)
    with time_limit(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(src)
    rtol = 1e-7 if solver == "gd" else solution_rtol(p, solver)
    assert _close(p, _coef_2d(model), _coef_2d(in_memory), 10 * rtol)
    assert _intercepts_close(p, model, in_memory, 10 * rtol)
