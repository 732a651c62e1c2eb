"""``solver="lsqr"``: matrix-free least squares (``scipy.sparse.linalg.lsqr``).

LSQR (Paige & Saunders) runs on a :class:`~scipy.sparse.linalg.LinearOperator` that applies
the weighted, centred, scaled and column-equilibrated design without forming it::

    A z = [ √S ((X − 1 shiftᵀ) D⁻¹ E z) ]        b = [ √S (y − ȳ) ]
          [ √(n_w α) E z               ]            [ 0          ]

with ``D = diag(scale)`` the design's scale (:class:`linreg.design.Design`), ``shift`` the
weighted column means when there is an intercept (else 0, and ``y`` is not centred), and
``E`` the equilibration that gives every column of the top block unit norm (so LSQR's
convergence does not depend on the units of the features).  ``θ = E z`` are the coefficients
in design coordinates, so the penalty is on the same ``θ`` as every other solver's.  A
product with ``A`` or ``Aᵀ`` costs one product with ``X`` or ``Xᵀ`` — O(nnz) for a sparse
``X`` — plus O(n + d): the centring is the rank-one term ``1 shiftᵀ``, never subtracted
from the entries.

**When it stops.** For the coefficients, not for the residual: LSQR runs at ``atol = btol =
LSQR_TOL = 1e-8`` (it stops when ``‖Aᵀr‖ ≤ 1e-8 ‖A‖ ‖r‖``, or ``‖r‖ ≤ 1e-8 (‖b‖ + ‖A‖ ‖z‖)``
for a consistent system), then its own estimate of the coefficients' relative error,
``‖Aᵀr‖ / (σ̂² ‖z‖)`` with ``σ̂ = ‖A‖̂ / κ̂`` (:func:`forward_error`: ``Aᵀr = AᵀA (z* − z)``,
so the error is at most ``‖Aᵀr‖ / σ_min²``), is checked against ``COEF_TOL = 1e-8``; above
it, LSQR runs once more from where it stopped (``x0``) at ``LSQR_TOL_MIN = 1e-10``, the
tolerance every fit used before.  Measured: the 1,000,000 × 20,000 benchmark stops at 11
iterations (estimate 3.6e-9, error 3.3e-10 against a fit at ``1e-14``; 1e-10 took 13, error
7e-12 — the estimate runs about 10 times above the error there); the tests' 400 × 12 designs
(κ of a few, noise comparable to the signal) run again and end within 1e-9 of
``numpy.linalg.lstsq``, the κ ≈ 1e5 ones as before (a few 1e-9).  scikit-learn's
``LinearRegression`` stops at ``atol = btol = 1e-6`` (2e-7 on the benchmark).  Running again
costs a ``b − A x0`` product and a real ``Aᵀu`` and restarts the Krylov space: on the
κ ≈ 1e5 test designs up to 8 more iterations.
The iteration limit is
``max(LSQR_MIN_ITER, 2 d)``; a target that reaches it, or stops because the condition
estimate exceeds ``1e16``, gives a :class:`~linreg.exceptions.ConvergenceWarning` with the
reason and ``stop_reason_ = "max_iter"``.  A rank-deficient design gets the minimum-norm
solution in the equilibrated coordinates ``z``.

**Where the rows are.** A product with ``A`` or ``Aᵀ`` is one with ``X`` or ``Xᵀ``
(:mod:`.lsqr_products`): a CSR ``X`` in memory is read in place by compiled kernels on threads
(the weights and the centring inside the loop; ``Xᵀu`` with one d-long sum per piece of rows,
added in order: no transpose, no CSC copy, the same bits on any number of threads), a dense
one by BLAS.  Rows in files (a :mod:`linreg.sources` source) or in a Dask collection are
streamed: the column means and variances from one checked pass, then the products block by
block (``X v`` into the n-vector, ``Xᵀu`` accumulated; on Dask each partition's piece is
computed on the workers and only an m-vector or a d-vector comes back), plus one pass per
target for its right-hand side.  What is held is O(n) per target being solved (LSQR's
n-vectors), never O(n·d).

**One read of the rows per iteration.** On a CSR in memory and on streamed rows, the
operator is a :class:`OnePassOperator`: each ``A v`` LSQR asks for also gives ``AᵀA v``
from the same read of the rows, and the ``Aᵀu'`` that follows is formed from it and the
previous ``Aᵀu`` (LSQR's ``u' = (A v − α u)/β``), checked to be that combination to
rounding and within a bound on the error it carries; otherwise it is a real pass.  scipy's
LSQR stays the driver, with the products it asks for.  Measured against the two-pass
operator: the same coefficients to 1e-15 on the benchmark below (13 iterations, 14 reads of
the rows instead of 27), and on ``κ ≈ 1e5`` designs the same accuracy against
``numpy.linalg.lstsq`` (median 1e-10 relative over seeds; the two differ by the rounding of
the last, nearly exhausted iterations: up to a few 1e-10).  With an intercept on a CSR in
memory the first ``Aᵀb`` needs no pass either: it is ``Σ s (x − x̄)(y − ȳ)ᵀ``, summed in
the read of the rows that gives the column moments (:meth:`OnePassOperator.start`); and
the NaN/infinity check of ``X`` reads the values only when those sums are not finite.  The
combination's coefficients ``c₁, c₂`` are refined once from the residual's own fit on the
span (in the same read that checks it): solved from dot products alone, they carry the
rounding of a 2 × 2 solve that is ill-conditioned when ``t`` and ``u`` are nearly parallel —
LSQR's first steps on data whose target is well explained — and that error, carried on by
the recurrence, made the second step's combination a real pass.  On the benchmark (1e-8
tolerance): 11 iterations, 11 reads of the rows besides the moments' (was 13 iterations
and 15 reads).

**The Gram path or LSQR.** ``solver="auto"`` on a ``scipy.sparse`` X uses the sufficient
statistics (a d × d Gram from one sparse product) while ``d ≤ GRAM_MAX_FEATURES`` (4096: the
d × d matrix is at most 128 MB) and ``d³ ≤ max(200 · nnz, 10⁸)`` (the d × d factorizations
cost no more than about 100 LSQR iterations, or a few milliseconds: a small design always gets
the exact path, its rank decision and its warning), and LSQR otherwise (:func:`matrix_free`); ``solver_`` says
which.
Beyond that width (and for ``solver="lsqr"`` at any width beyond it) the fit never forms a
d × d matrix: it needs only the column means and variances (O(nnz)), and leaves
``stats_ = None``, ``rank_ = None`` (no rank decision without the Gram) and
``condition_number_`` LSQR's estimate of ``κ(A)``; ``summary()`` then says it needs the
statistics.  At ``d ≤ GRAM_MAX_FEATURES``, ``solver="lsqr"`` runs from the usual
:class:`~linreg.solvers.problem.Problem` (statistics, rank, ``summary()`` as for any solver).
"""

from __future__ import annotations


import numpy as np
from scipy.sparse.linalg import LinearOperator, lsqr

from ..closed_form import Solution
from ..design import Design, constant_columns
from ..exceptions import ConvergenceWarning, warn_user
from .lsqr_operator import OnePassOperator
from .lsqr_products import MemoryProducts, StreamedProducts, streamed_moments
from .problem import Problem

__all__ = ["solve", "fit_matrix_free", "matrix_free", "lsqr_solve",
           "forward_error", "GRAM_MAX_FEATURES", "LSQR_TOL", "LSQR_TOL_MIN", "COEF_TOL",
           "LSQR_MIN_ITER", "LSQR_ITER_PER_FEATURE"]

#: the widest design for which ``solver="auto"`` builds the d × d Gram of sparse rows
GRAM_MAX_FEATURES = 4096
#: ``"auto"`` on sparse X also takes LSQR when ``d³ > GRAM_FLOPS_PER_NONZERO · nnz``
GRAM_FLOPS_PER_NONZERO = 200
#: ... and ``d³ > GRAM_FREE_FLOPS`` (below it the d × d work takes a few milliseconds)
GRAM_FREE_FLOPS = 1e8
#: LSQR's ``atol`` and ``btol`` (see the module docstring: when it stops)
LSQR_TOL = 1e-8
#: ... and once more from there at this tolerance when LSQR's estimate of the coefficients'
#: relative error is above :data:`COEF_TOL`
LSQR_TOL_MIN = 1e-10
COEF_TOL = 1e-8
#: the iteration limit is ``max(LSQR_MIN_ITER, LSQR_ITER_PER_FEATURE · d)``
LSQR_MIN_ITER = 1000
LSQR_ITER_PER_FEATURE = 2
_LSQR_CONLIM = 1e16


def matrix_free(requested: str, rows) -> bool:
    """Whether this fit runs LSQR without any d × d matrix: ``solver="lsqr"`` with more than
    :data:`GRAM_MAX_FEATURES` features, or ``"auto"`` on ``scipy.sparse`` rows when
    ``d > GRAM_MAX_FEATURES`` or the d × d factorizations of the Gram path (rank decision,
    condition number, Cholesky: about ``d³`` flops each) cost more than about 100 LSQR
    iterations (``2·nnz`` flops each) and more than a few milliseconds:
    ``d³ > max(GRAM_FLOPS_PER_NONZERO · nnz, GRAM_FREE_FLOPS)``; and ``"auto"`` on rows in
    files or on a Dask cluster wider than :data:`GRAM_MAX_FEATURES` (LSQR then streams them:
    :mod:`.lsqr_products`)."""
    d = rows.n_features
    if requested not in ("lsqr", "auto"):
        return False
    if requested == "lsqr":
        return d > GRAM_MAX_FEATURES
    matrix = rows.matrix()
    if matrix is None:          # rows in files or on a Dask cluster: LSQR streams them
        return d > GRAM_MAX_FEATURES and rows.has_rows()
    if not hasattr(matrix[0], "tocsr"):
        return False
    return d > GRAM_MAX_FEATURES or float(d) ** 3 > max(GRAM_FLOPS_PER_NONZERO * matrix[0].nnz,
                                                         GRAM_FREE_FLOPS)


def _design(n_w, mean, var, fit_intercept: bool, standardize: bool) -> Design:
    """The design of :meth:`linreg.design.Design.from_stats`, from column moments only, with
    the shift at the means when there is an intercept (the coordinates LSQR works in)."""
    d = mean.shape[0]
    if not standardize:
        scale = np.ones(d)
    else:
        spread = var / n_w if fit_intercept else (var + n_w * mean**2) / n_w
        scale = np.sqrt(np.maximum(spread, 0.0))
        scale[constant_columns(mean, scale)] = 1.0
    return Design(mean.copy() if fit_intercept else np.zeros(d), scale, fit_intercept, standardize)


def forward_error(arnorm: float, anorm: float, acond: float, xnorm: float) -> float:
    """LSQR's estimate of ``‖z − z*‖ / ‖z‖``: ``‖Aᵀr‖ / (σ̂² ‖z‖)``, with ``σ̂ = ‖A‖̂ / κ̂``
    its estimate of the smallest singular value (``Aᵀr = AᵀA (z* − z)``, so the error is at
    most ``‖Aᵀr‖ / σ_min²``); infinite when it cannot say (``z = 0``, no estimate yet)."""
    if not (xnorm > 0 and anorm > 0 and acond > 0):
        return 0.0 if arnorm == 0 else float("inf")
    return float(arnorm * acond**2 / (anorm**2 * xnorm))


def _lsqr_to_accuracy(A, b, iter_lim: int):
    """scipy's LSQR on ``A z ≈ b`` until the coefficients are within :data:`COEF_TOL` by
    its own estimate (:func:`forward_error`): first at ``atol = btol =`` :data:`LSQR_TOL`;
    when that stops with a larger estimate, once more from where it stopped at
    :data:`LSQR_TOL_MIN`.  Returns ``(z, istop, iterations, ‖r‖, κ̂, ‖Aᵀr‖)``."""
    z, istop, itn, _, r2norm, anorm, acond, arnorm, xnorm, _ = lsqr(
        A, b, atol=LSQR_TOL, btol=LSQR_TOL, conlim=_LSQR_CONLIM, iter_lim=iter_lim)
    if (istop in (1, 2) and itn < iter_lim
            and forward_error(arnorm, anorm, acond, xnorm) > COEF_TOL):
        z, istop, more, _, r2norm, _, acond2, arnorm, *_ = lsqr(
            A, b, atol=LSQR_TOL_MIN, btol=LSQR_TOL_MIN, conlim=_LSQR_CONLIM,
            iter_lim=iter_lim - itn, x0=z)
        itn += more
        acond = max(acond, acond2)
    return z, istop, itn, r2norm, acond, arnorm


def lsqr_solve(products, n: int, k: int, design: Design, alpha: float, n_w: float,
               column_sq: np.ndarray, mean_y: np.ndarray, cross=None):
    """LSQR on the operator of the module docstring, one target at a time.

    ``products``: the rows' products (:mod:`linreg.solvers.lsqr_products`: in memory, or
    streamed block by block).  ``column_sq``: ``Σ s (x − shift)²`` per column (the top
    block's squared column norms before scaling); ``mean_y``: the targets' weighted means
    (used when there is an intercept); ``cross`` (d, k) or None: ``Σ s (x − x̄)(y − ȳ)ᵀ``
    from the moments' pass, which with an intercept gives LSQR's first ``Aᵀb`` without a
    pass of its own (:meth:`OnePassOperator.start`).  Returns ``(θ (d, k), β (k,), info)``, ``info`` a dict
    with ``n_iter`` (the most any target took), ``converged``, ``istop`` per target,
    ``acond``, ``loss`` (``J`` at the solution) and ``arnorm`` (``‖Aᵀr‖``, summed in
    quadrature over targets).
    """
    shift, scale = design.shift, design.scale
    d = shift.shape[0]
    norms = np.sqrt(np.maximum(column_sq, 0.0)) / scale
    e = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 1.0)
    ridge = np.sqrt(n_w * alpha) if alpha > 0 else 0.0
    m = n + d if ridge else n
    factor = e / scale      # z → original-unit coefficients v = D⁻¹ E z

    def matvec(z):
        z = np.ravel(z)
        v = factor * z
        top = products.times(v, float(shift @ v))
        return np.concatenate([top, ridge * e * z]) if ridge else top

    def transposed(g, total, r):
        """``Aᵀr`` from ``(Xᵀ(√s ⊙ r_top), Σ √s ⊙ r_top)``."""
        g -= shift * total
        g *= factor
        return g + ridge * e * r[n:] if ridge else g

    def rmatvec(r):
        r = np.ravel(r)
        return transposed(*products.transpose_times(r[:n] if ridge else r), r)

    def normal(z, kept, out=None):
        """``(A z, Aᵀ A z)`` in one read of the rows — the bits of ``rmatvec(matvec(z))`` —
        and ``kept[:] = A z``; ``A z`` written into ``out`` (m,) if given (no ridge)."""
        z = np.ravel(z)
        v = factor * z
        top, g, total = products.times_and_normal(v, float(shift @ v), kept[:n],
                                                  None if ridge else out)
        az = np.concatenate([top, ridge * e * z]) if ridge else top
        if ridge:
            kept[n:] = az[n:]
        return az, transposed(g, total, az)

    if getattr(products, "one_pass", False):
        A = OnePassOperator((m, d), matvec, rmatvec, normal)
    else:
        A = LinearOperator((m, d), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)
    mean_y = mean_y if design.fit_intercept else np.zeros(k)
    theta = np.zeros((d, k))
    info = {"n_iter": 0, "istop": [], "acond": 0.0, "loss": 0.0, "arnorm": 0.0}
    iter_lim = max(LSQR_MIN_ITER, LSQR_ITER_PER_FEATURE * d)
    for j in range(k):
        b = products.target(j, float(mean_y[j]))
        if ridge:
            b = np.concatenate([b, np.zeros(d)])
        if cross is not None and design.fit_intercept and isinstance(A, OnePassOperator):
            A.start(b, factor * cross[:, j])        # Aᵀb: the top block's, the rest is 0
        with products.blas_setting():
            z, istop, itn, r2norm, acond, arnorm = _lsqr_to_accuracy(A, b, iter_lim)
        theta[:, j] = e * z
        info["n_iter"] = max(info["n_iter"], int(itn))
        info["istop"].append(int(istop))
        info["acond"] = max(info["acond"], float(acond))
        info["loss"] += r2norm**2 / (2.0 * n_w)
        info["arnorm"] = float(np.hypot(info["arnorm"], arnorm))
    info["converged"] = all(i in (0, 1, 2, 4, 5) for i in info["istop"])
    if not info["converged"]:
        why = ("the iteration limit" if 7 in info["istop"] else
               "the condition-number limit (the design is numerically singular)")
        warn_user(f"LSQR stopped at {why} after {info['n_iter']} iterations before reaching its "
                  f"tolerance {LSQR_TOL:g} (estimated condition number {info['acond']:.3g}); "
                  "the coefficients may be inaccurate — use alpha > 0, or solver='qr' if d "
                  "allows it", ConvergenceWarning)
    # x̃ is centred (shift = x̄) with an intercept, so β = ȳ; without one, β = 0
    return theta, mean_y, info


def _products(rows, n: int | None = None):
    """The products of the rows (:mod:`.lsqr_products`) and the number of rows: in memory
    when :meth:`~linreg.rows.Rows.matrix` gives them, else streamed block by block."""
    matrix = rows.matrix()
    if matrix is not None:
        X, _, _ = matrix
        return MemoryProducts(*matrix), X.shape[0]
    if not rows.has_rows():
        raise ValueError("solver='lsqr' needs the rows in memory, in files (a data source) or "
                         "in a Dask collection; only their statistics are available here — "
                         "use solver='normal' or 'auto'")
    return StreamedProducts(rows, n), n


def solve(problem: Problem) -> Solution:
    """LSQR from a :class:`Problem` (``d ≤ GRAM_MAX_FEATURES``: statistics, rank decision and
    condition number as for every solver); the shift and scale come from the statistics.
    Equals :func:`linreg.textbook.normal_equation` to LSQR's tolerance (tests/test_sparse.py).
    """
    stats, design = problem.stats, problem.design
    products, n = _products(problem.rows, int(stats.n_rows))
    d = stats.n_features
    mean = stats.mean_x.copy()
    var = np.diag(stats.gram).copy()
    fi = design.fit_intercept
    centred = Design(mean if fi else np.zeros(d), design.scale, fi, design.standardize)
    column_sq = var if fi else var + stats.weight_sum * mean**2
    theta, beta, info = lsqr_solve(products, n, stats.n_targets, centred, problem.alpha,
                                   stats.weight_sum, column_sq, stats.mean_y)
    coef, intercept = centred.to_original(theta, beta)
    theta, beta = design.from_original(coef, intercept)
    return Solution(theta, beta, problem.identification.rank_x,
                    stop_reason="exact" if info["converged"] else "max_iter",
                    n_iter=info["n_iter"])


def _moments(rows) -> tuple:
    """``(n, n_w, x̄, Σ s (x − x̄)², ȳ, cross)``: O(nnz) in memory, else one checked streamed
    pass; ``cross`` = ``Σ s (x − x̄)(y − ȳ)ᵀ`` (d, k) from the same read of a CSR (else
    None), NaN and infinity stored in it looked for only when the sums are not finite."""
    matrix = rows.matrix()
    if matrix is None:
        return (*streamed_moments(rows), None)
    X, Y, w = matrix
    if not hasattr(X, "tocsr"):
        from ..passes import dense_moments
        n_w, mean, var, mean_y, _, _ = dense_moments(X, Y, w)
        return X.shape[0], n_w, mean, var, mean_y, None
    sums = Y.sum(axis=0) if w is None else np.asarray(w, dtype=np.float64) @ Y
    from ..rows.sparse import check_sparse_finite, column_moments as sparse_moments
    n_w = float(X.shape[0] if w is None else np.sum(w))
    with np.errstate(over="ignore", invalid="ignore"):
        n_w, mean, var, cross = sparse_moments(X, w, Y - sums / n_w)
    # a NaN or an infinity stored in X makes the sums so: only then look for it (by name)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))
            and np.all(np.isfinite(cross))):
        check_sparse_finite(X, "X", rows.feature_names)
    return X.shape[0], n_w, mean, var, sums / n_w, cross


def fit_matrix_free(rows, fit_intercept: bool, standardize: bool, alpha: float) -> dict:
    """The fitted attributes of an LSQR fit that forms no d × d matrix (see the module
    docstring): coefficients, ``n_iter_``, ``stop_reason_``, ``loss_history_`` (``J`` at the
    solution), ``grad_norm_history_`` (``‖Aᵀr‖/n_w`` in the equilibrated coordinates),
    ``condition_number_`` (LSQR's estimate), ``stats_ = rank_ = None``."""
    from . import coefficient_attributes
    n, n_w, mean, var, mean_y, cross = _moments(rows)
    products, n = _products(rows, n)
    centred = _design(n_w, mean, var, fit_intercept, standardize)
    column_sq = var if fit_intercept else var + n_w * mean**2
    theta, beta, info = lsqr_solve(products, n, rows.n_targets, centred, alpha, n_w,
                                   column_sq, mean_y, cross)
    coef, intercept = centred.to_original(theta, beta)
    return {**coefficient_attributes(coef, intercept, rows.single_target, fit_intercept),
            "stats_": None, "rank_": None, "condition_number_": info["acond"],
            "n_refinement_passes_": 0, "n_iter_": info["n_iter"],
            "stop_reason_": "tolerance" if info["converged"] else "max_iter",
            "loss_history_": np.array([info["loss"]]),
            "grad_norm_history_": np.array([info["arnorm"] / n_w])}
