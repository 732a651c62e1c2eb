"""Statistical inference for (weighted) least squares: covariance, tests, intervals, diagnostics.

The model is ``y_i = x_iᵀθ + ε_i`` with ``x_i = [1, x_i]`` when there is an intercept (the
intercept first, as statsmodels orders parameters after ``add_constant``), sample weights
``s_i`` (``Var ε_i = σ²/s_i``), and ``X_w = S^½ X`` the weighted design.  Everything here is
computed from the sufficient statistics (:class:`linreg.stats.SufficientStats`) plus **one**
blocked pass over the rows for what needs the residuals (leverage, when the chosen
covariance does not need it, is computed on first use by one more pass)::

    bread        B = (XᵀSX)⁻¹                       from the statistics (a factor of it)
    scale        σ² = Σ s_i r_i² / (n − p)          r = y − Xθ at the fitted θ (the pass)
    nonrobust    Cov θ = σ² B
    HC0..HC3     Cov θ = B [Σ s_i² r_i² ω_i x_i x_iᵀ] B,   ω = 1, n/(n−p), 1/(1−h), 1/(1−h)²
    cluster      Cov θ = c B [Σ_g G_g G_gᵀ] B,   G_g = Σ_{i∈g} s_i r_i x_i   (two-way: A + B − A∩B)
    HAC          Cov θ = c B [Σ_{|l|≤L} w_l Σ_t g_t g_{t−l}ᵀ] B,   g_t = s_t r_t x_t
    leverage     h_i = s_i x_iᵀ B x_i

No system is solved with an explicit inverse: with an intercept the statistics give the
centred Gram matrix ``G = Σ s (x − x̄)(x − x̄)ᵀ``, which is equilibrated to unit diagonal and
Cholesky-factored, ``D⁻¹GD⁻¹ = CᵀC``; the exact optimum (to say how far an iterative fit is
from it) comes from Cholesky solves.  The covariance matrix — an output — is made of the
inverse of the triangular factor, ``B = TTᵀ`` with ``T = D⁻¹C⁻¹``, and that same factor
*whitens* the rows in the pass, ``u = Tᵀ(x − x̄)`` (one matrix product per block): then
``h = s(1/n_w + ‖u‖²)`` and the HC "meat" is accumulated in whitened coordinates, where it
is well scaled.  When the design is ill-conditioned (``κ(D⁻¹GD⁻¹) > 1e6``) and the rows can
be read again, ``T`` comes from a TSQR factor of the rows instead of ``G`` (which squares
the condition number).  A rank-deficient design is handled by an eigendecomposition;
coefficients that the data cannot identify are marked (``identified`` is False, their
standard errors NaN) rather than printed as numbers.

The pass runs over the training rows wherever they live (:class:`linreg.rows.Rows`: in
memory, files, Dask): each block, where it lives (threads in memory, workers on Dask), yields
mergeable totals (sums, moments, HC meat, and its first and last weighted residual, so that
Durbin–Watson's terms across block edges can be added), merged in row order; only the
totals (and per-row leverage and residuals, for the influence measures) travel.

Numbers match statsmodels' ``OLS``/``WLS`` results (``cov_type`` "nonrobust", "HC0"–"HC3",
"cluster", "HAC"; ``t_test``/``f_test`` of linear restrictions, :mod:`.restrictions`):
R² is uncentred without a constant, AIC/BIC count ``df_model + k_constant`` parameters, and
the robust F statistic is the Wald test of all slopes with the robust covariance.  One
deliberate difference: with weights, the log-likelihood always includes ``½ Σ log s_i``
(statsmodels adds it only when no weight equals exactly 1).

The package, one module a step (imports flow down this list, never up)::

    summarize.py      summarize(), prediction_interval(): the assembly
    diagnostics.py    SSR from the statistics, Durbin–Watson, Jarque–Bera, omnibus, the F test
    residual_pass.py  the one pass over the rows, block by block, and its mergeable totals
    robust.py         cluster and HAC: options, mergeable score sums per cluster and lag
    results.py        RegressionResults, MultiOutputResults
    anova.py          ANOVA tables by model term (types I, II, III), from the statistics
    factor.py         GramFactor: the bread, from the statistics or a TSQR factor of the rows
    terms.py          coefficient names and terms (coef_names_, terms_); joint Wald tests of terms
    restrictions.py   Wald t and F tests of linear restrictions ("x1 = x2")
    table.py          the printed table

When the fit saw names (a DataFrame, a named source, ``coef_names_``), the per-coefficient
values are pandas objects indexed by them, as statsmodels'; :meth:`RegressionResults.anova`
and :meth:`~RegressionResults.wald_test_terms` work by the terms a fit records (``terms_``).
"""

from .diagnostics import (
    durbin_watson_statistic,
    jarque_bera_test,
    omnibus_test,
    ssr_from_stats,
)
from .factor import GramFactor
from .residual_pass import iter_blocks
from .restrictions import FTestResult, TTestResult
from .terms import TermTests
from .results import INTERVALS, MultiOutputResults, RegressionResults
from .robust import CovOptions, check_cov_options
from .summarize import (
    COV_TYPES,
    check_inference_allowed,
    prediction_interval,
    summarize,
    target_names_of,
)

__all__ = [
    "COV_TYPES",
    "INTERVALS",
    "RegressionResults",
    "MultiOutputResults",
    "GramFactor",
    "iter_blocks",
    "summarize",
    "target_names_of",
    "prediction_interval",
    "check_inference_allowed",
    "check_cov_options",
    "CovOptions",
    "TTestResult",
    "FTestResult",
    "TermTests",
    "ssr_from_stats",
    "omnibus_test",
    "jarque_bera_test",
    "durbin_watson_statistic",
]
