"""The results objects: read-only, like statsmodels' — one target's, and several targets'."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import scipy.stats

from ..validation import check_fraction
from . import restrictions as restrictions_module
from . import terms as terms_module
from .anova import anova_table
from .table import format_table

__all__ = ["INTERVALS", "RegressionResults", "MultiOutputResults", "LazyRowValues",
           "LazyLeverage", "check_interval", "two_sided_pvalues"]

INTERVALS = ("confidence", "prediction")


def check_interval(interval, level) -> float:
    """Refuse an ``interval`` other than ``"confidence"`` or ``"prediction"``; ``level`` as a
    float strictly between 0 and 1."""
    if interval not in INTERVALS:
        raise ValueError(f"interval={interval!r} is not one of None, 'confidence', 'prediction'")
    return check_fraction("level", level, "0.95 for 95% intervals")


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view (no copy: per-row arrays can be large; the results own their data)."""
    a = a.view()
    a.flags.writeable = False
    return a


class LazyRowValues:
    """Per-row values computed on first use by one more pass over the rows (on the workers,
    for partitioned rows), shared by the results of all targets: the leverage, when the
    covariance did not need it, and the residuals and fitted values (only the weighted
    residuals travel with the summary's pass)."""

    def __init__(self, compute, n_rows: int):
        self._compute, self._n_rows = compute, n_rows
        self._value = None

    def get(self, columns=None) -> np.ndarray:
        """The values (``columns`` of them, e.g. one target's)."""
        if self._value is None:
            h = self._compute()
            if h.shape[0] != self._n_rows:
                raise ValueError(f"the training rows changed since the summary was computed "
                                 f"({h.shape[0]} rows now, {self._n_rows} then)")
            h.flags.writeable = False
            self._value = h
        return self._value if columns is None else self._value[:, columns]


#: the name it had when leverage was the only value computed this way
LazyLeverage = LazyRowValues


class RegressionResults:
    """Inference for one target of a least-squares fit: read-only, like statsmodels' results.

    Per-coefficient values are ordered as statsmodels orders them: the intercept first
    (when the model has one), then the columns of ``coef_``.  When the fit saw column names
    (a pandas DataFrame, a named source, or a fit that records ``coef_names_``) and pandas
    is installed, they are pandas objects indexed by ``param_names``, as statsmodels'
    (``params`` a Series, ``conf_int()`` a DataFrame with columns 0 and 1); otherwise
    numpy arrays in the same order.

    Attributes
    ----------
    params, bse, tvalues, pvalues : Series or ndarray of shape (p,)
        Coefficients, standard errors, ``t = θ/se`` and two-sided p-values
        ``2 P(T_{df} > |t|)`` with ``df = df_resid_inference`` (``2 P(Z > |t|)`` when
        ``use_t`` is False, the default for robust covariances, as in statsmodels).  NaN
        (except ``params``) for unidentified coefficients.  Series indexed by
        ``param_names`` when ``labelled``, arrays otherwise (a new object each time).
    labelled : bool
        Whether the per-coefficient values are pandas objects indexed by name.
    use_t : bool
        Student's t (True) or the normal (False) for p-values and intervals.
    df_resid_inference : int
        The degrees of freedom of t and F: ``df_resid``, or ``G − 1`` for cluster-robust
        inference (``G`` clusters, the fewer of two-way clustering), as statsmodels.
    cov_kwds : dict
        "cluster" and "HAC": how the covariance was made (``groups``, ``n_groups``,
        ``maxlags``, ``kernel``, ``use_correction``, ``df_correction``).
    param_names : tuple of str
        ``intercept`` (``Intercept`` for a fit with terms, as statsmodels) and the column
        names (``coef_names_``, else ``feature_names_in_``, else ``x0``, ``x1``, …).
    term_slices : dict or None
        For a fit that records ``terms_`` (a formula, categorical columns): ``{term:
        slice of params}`` in model order, the intercept a term of its own, first; else None.
    sufficient_stats : SufficientStats
        The training statistics the summary was made from (what :meth:`anova` reads).
    target_index : int
        Which target of the fit these results are about.
    identified : ndarray of bool, shape (p,)
        False for the coefficients a rank-deficient design cannot determine.
    rsquared, rsquared_adj : float
        ``1 − SSR/TSS`` (TSS centred with a constant, uncentred without) and
        ``1 − (n − k_constant)/(n − p) · (1 − R²)``.
    fvalue, f_pvalue : float
        Test that all slopes are zero: ``(ESS/df_model)/(SSR/df_resid)``, or with a robust
        covariance the Wald statistic ``θ_sᵀ V_s⁻¹ θ_s / q``.
    llf, aic, bic : float
        ``llf = −n/2 (1 + ln(2π SSR/n)) + ½ Σ ln s_i``; ``aic = −2 llf + 2k``,
        ``bic = −2 llf + k ln n`` with ``k = df_model + k_constant``.
    ssr, ess, tss, scale : float
        Residual, explained and total sums of squares; ``σ² = SSR/df_resid``.
    nobs, df_resid, df_model, rank, k_constant
    condition_number : float
        statsmodels' ``Cond. No.``: ratio of the extreme singular values of ``S^½[1, X]``.
    durbin_watson, jarque_bera, jarque_bera_pvalue, omnibus, omnibus_pvalue, skew, kurtosis
        Residual diagnostics of the weighted residuals ``√s r``, as statsmodels prints them.
    cov_type : str
    """

    def __init__(self, **values):
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                value = _readonly(value)
            object.__setattr__(self, key, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only: {name!r} cannot be set")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is read-only: {name!r} cannot be deleted")

    # ------------------------------------------------------------------ per coefficient
    def _labelled(self, values: np.ndarray):
        """``values`` (one per parameter, or a matrix ``(p, m)``) as a pandas Series or
        DataFrame indexed by ``param_names`` when ``labelled``; else a read-only array."""
        if not self.labelled:
            return values
        import pandas as pd
        index = list(self.param_names)
        if values.ndim == 1:
            return pd.Series(np.array(values), index=index)
        return pd.DataFrame(np.array(values), index=index)

    @property
    def params(self):
        """The coefficients, intercept first (a Series when ``labelled``)."""
        return self._labelled(self._params)

    @property
    def bse(self):
        """Standard errors ``√diag(Cov θ)`` (NaN where unidentified)."""
        return self._labelled(self._bse)

    @property
    def tvalues(self):
        """``θ / se`` (z statistics when ``use_t`` is False)."""
        return self._labelled(self._tvalues)

    @property
    def pvalues(self):
        """Two-sided p-values of ``tvalues``."""
        return self._labelled(self._pvalues)

    def cov_params(self):
        """The covariance matrix of ``params`` (a copy; NaN rows/columns where unidentified):
        a DataFrame indexed and labelled by ``param_names`` when ``labelled``."""
        cov = self._labelled(np.array(self._cov))
        if self.labelled:
            cov.columns = list(self.param_names)
        return cov

    def conf_int(self, alpha: float = 0.05):
        """``θ ± t_{1−α/2, n−p} · se``: lower and upper bounds, shape (p, 2) — a DataFrame
        with columns 0 and 1 indexed by ``param_names`` when ``labelled`` (statsmodels')."""
        return self._labelled(self._conf_int(alpha))

    def _conf_int(self, alpha: float) -> np.ndarray:
        alpha = check_fraction("alpha", alpha, "0.05 for 95% confidence intervals")
        q = _quantile(1.0 - alpha / 2.0, self.df_resid_inference, self.use_t)
        return np.column_stack([self._params - q * self._bse, self._params + q * self._bse])

    # ------------------------------------------------------------------ Wald tests
    def t_test(self, restrictions, q=None) -> restrictions_module.TTestResult:
        """t tests of linear restrictions, one per restriction, with this result's
        covariance (``cov_type``) and distribution (``use_t``), as statsmodels' ``t_test``.

        ``restrictions``: a string by coefficient name — ``"x1 = x2"``, ``"x1 = 0, x2 = 0"``,
        ``"2*x1 - x2 = 1"`` (see :mod:`linreg.inference.restrictions`) — or a matrix ``R``
        (one row per restriction, one column per coefficient, intercept first) with values
        ``q`` (default 0).  Returns ``effect`` (Rθ), ``sd``, ``tvalue``, ``pvalue`` and
        ``conf_int()``.
        """
        return restrictions_module.t_test(self, restrictions, q)

    def f_test(self, restrictions, q=None) -> restrictions_module.FTestResult:
        """The joint F test of linear restrictions (see :meth:`t_test` for how to write
        them), ``F = (Rθ − q)ᵀ(RVRᵀ)⁻¹(Rθ − q)/J`` on ``(J, df_resid_inference)`` degrees of
        freedom, with this result's covariance, as statsmodels' ``f_test``.  Returns
        ``fvalue``, ``pvalue``, ``df_num``, ``df_denom``."""
        return restrictions_module.f_test(self, restrictions, q)

    def wald_test_terms(self) -> terms_module.TermTests:
        """The joint Wald test of each model term (all its columns at once), as statsmodels'
        ``wald_test_terms(skip_single=False, scalar=True)``: F on ``(q, df_resid_inference)``
        degrees of freedom when ``use_t``, χ² on ``q`` otherwise (the default for robust
        covariances), with this result's covariance.  The terms are the fit's ``terms_``
        (the intercept first, as a term of its own); a fit without them tests each
        coefficient alone.  Returns a :class:`~linreg.inference.terms.TermTests` whose
        ``table`` is a DataFrame (``statistic``, ``pvalue``, ``df_constraint``,
        ``df_denom``) indexed by term."""
        return terms_module.wald_test_terms(self)

    def anova(self, typ=1):
        """The analysis-of-variance table by model term, as statsmodels'
        ``anova_lm(result, typ=typ)``, from the training statistics (no pass over the rows).

        Parameters
        ----------
        typ : {1, 2, 3}, default 1
            1: sequential sums of squares (each term given those before it, in model
            order); 2: each term given every term that does not contain it; 3: each term
            given all the others, the intercept included (meaningful with sum-to-zero
            contrasts).  statsmodels' ``"I"``, ``"II"``, ``"III"`` are accepted too.

        Returns
        -------
        pandas.DataFrame
            Indexed by the term names and ``Residual``; columns ``df``, ``sum_sq``,
            ``mean_sq``, ``F``, ``PR(>F)`` (type 1) or ``sum_sq``, ``df``, ``F``,
            ``PR(>F)`` (types 2 and 3).  The F tests are the classical ones whatever the
            ``cov_type`` (a warning says so for a robust one).  See
            :mod:`linreg.inference.anova`.

        Raises
        ------
        ValueError
            When the fit has no terms (``terms_``: fit from a formula or a table with named
            terms), for an unknown ``typ``, or type 3 on a rank-deficient design.
        """
        return anova_table(self, typ)

    # ------------------------------------------------------------------ influence
    def _rows(self, what: str):
        if self._wresid is None:
            raise ValueError(f"{what} needs per-row results, which this summary did not keep "
                             "(it was computed with keep_rows=False, e.g. for streamed data)")
        leverage = self._leverage
        if isinstance(leverage, LazyRowValues):
            leverage = leverage.get()
        return leverage, self._wresid

    @property
    def leverage(self) -> np.ndarray:
        """``h_i = s_i x_iᵀ (XᵀSX)⁻¹ x_i``, the diagonal of the hat matrix, per row."""
        return self._rows("leverage")[0]

    @property
    def resid(self) -> np.ndarray:
        """Residuals ``y_i − ŷ_i`` (statsmodels' ``resid``; computed on first use by one more
        pass over the rows).  Earlier linreg returned the weighted residual here, now
        :attr:`wresid` (see the README's "Changes")."""
        self._rows("resid")
        return self._fitted.get(self.target_index)

    @property
    def wresid(self) -> np.ndarray:
        """Weighted residuals ``√s_i (y_i − ŷ_i)`` (statsmodels' ``wresid``; ``resid``
        without weights)."""
        return self._rows("wresid")[1]

    @property
    def resid_pearson(self) -> np.ndarray:
        """``wresid / σ``, ``σ² = SSR/df_resid`` (statsmodels' ``resid_pearson``)."""
        u = self._rows("resid_pearson")[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return u / np.sqrt(self.scale)

    @property
    def fittedvalues(self) -> np.ndarray:
        """``ŷ_i = x_iᵀw + b`` for the training rows (statsmodels' ``fittedvalues``; computed
        on first use by one more pass over the rows)."""
        self._rows("fittedvalues")
        return self._fitted.get(self._n_targets + self.target_index)

    @property
    def resid_studentized(self) -> np.ndarray:
        """Internally studentized residuals ``√s_i r_i / (σ √(1 − h_i))``."""
        h, u = self._rows("resid_studentized")
        with np.errstate(divide="ignore", invalid="ignore"):
            return u / np.sqrt(self.scale * (1.0 - h))

    @property
    def resid_studentized_external(self) -> np.ndarray:
        """Externally studentized residuals ``√s_i r_i / (σ_(i) √(1 − h_i))`` with the
        leave-one-out variance ``σ_(i)² = (SSR − s_i r_i²/(1 − h_i)) / (n − p − 1)``."""
        h, u = self._rows("resid_studentized_external")
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma2_i = (self.ssr - u * u / (1.0 - h)) / (self.df_resid - 1)
            return u / np.sqrt(sigma2_i * (1.0 - h))

    @property
    def cooks_distance(self) -> np.ndarray:
        """Cook's distance ``D_i = t_i² h_i / (p (1 − h_i))`` (``t_i`` internally studentized)."""
        h, _ = self._rows("cooks_distance")
        t = self.resid_studentized
        with np.errstate(divide="ignore", invalid="ignore"):
            return t * t * h / (self.rank * (1.0 - h))

    # ------------------------------------------------------------------ prediction
    def predict(self, X, interval: str | None = None, level: float = 0.95):
        """``ŷ = Xw + b``; with ``interval``, also the lower and upper bounds.

        ``"confidence"``: for the mean, ``ŷ ± t·√(xᵀVx)``; ``"prediction"``: for a new
        observation (weight 1), ``ŷ ± t·√(xᵀVx + σ²)``; ``V`` this result's covariance,
        ``t = t_{(1+level)/2, n−p}`` — as statsmodels' ``get_prediction().summary_frame()``.
        """
        # scipy.sparse rows stay sparse (only products with them are formed)
        X = X.tocsr().astype(np.float64) if hasattr(X, "tocsr") else np.asarray(X, np.float64)
        d = self._params.shape[0] - self.k_intercept
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X has shape {X.shape}; expected (n, {d})")
        w = self._params[self.k_intercept:]
        b = self._params[0] if self.k_intercept else 0.0
        yhat = np.asarray(X @ w) + b
        if interval is None:
            return yhat
        level = check_interval(interval, level)
        if not self.identified.all():
            raise ValueError("intervals need every coefficient identified; this design is "
                             "rank-deficient (see the summary's unidentified coefficients)")
        V = self._cov
        # xᵀVx for each row, centred on the mean (well conditioned) when there is an intercept
        if self.k_intercept:
            var = _quadratic_rows(X, V[1:, 1:], V[0, 1:], V[0, 0])
        else:
            var = _row_dots(np.asarray(X @ V), X)
        var = np.maximum(var, 0.0)
        if interval == "prediction":
            var = var + self.scale
        half = _quantile(0.5 + level / 2.0, self.df_resid, self.use_t) * np.sqrt(var)
        return yhat, yhat - half, yhat + half

    # ------------------------------------------------------------------ output
    def to_frame(self, alpha: float = 0.05):
        """The coefficient table as a pandas DataFrame, one row per coefficient."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame() needs pandas, which is not installed; install it "
                              "(pip install pandas) or use the arrays params, bse, tvalues, "
                              "pvalues and conf_int() directly") from None
        ci = self._conf_int(alpha)
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        stat = "t" if self.use_t else "z"
        return pd.DataFrame({"coef": self._params, "std err": self._bse, stat: self._tvalues,
                             f"P>|{stat}|": self._pvalues, lo: ci[:, 0], hi: ci[:, 1],
                             "identified": self.identified},
                            index=pd.Index(list(self.param_names), name="term"))

    def compare_f_test(self, restricted):
        """F-test of the nested ``restricted`` model against this one: ``(F, p, df_diff)``,
        as statsmodels' (:func:`linreg.selection.compare.compare_f_test`)."""
        return import_module("linreg.selection.compare").compare_f_test(self, restricted)

    def __repr__(self) -> str:
        return (f"<RegressionResults {self.target_name!r}: {self.nobs} observations, "
                f"{len(self.param_names)} parameters, R²={self.rsquared:.4g}, cov_type={self.cov_type}>")

    def _repr_html_(self) -> str:
        """The fit statistics and coefficient table as HTML (what a notebook shows)."""
        from .table import results_html
        return results_html(self)

    def __str__(self) -> str:
        return format_table(self)

    def summary(self) -> str:
        """The text table (the same as ``str(result)``)."""
        return format_table(self)


def _quantile(prob: float, df_resid: int, use_t: bool) -> float:
    """Quantile of Student's t with ``df_resid`` degrees of freedom, or of N(0, 1)."""
    return float(scipy.stats.t.ppf(prob, df_resid) if use_t else scipy.stats.norm.ppf(prob))


def two_sided_pvalues(stat, df_resid: int, use_t: bool):
    """``2 P(T_{n−p} > |t|)``, or ``2 P(Z > |z|)`` for large-sample (robust) inference."""
    stat = np.abs(stat)
    return 2.0 * (scipy.stats.t.sf(stat, df_resid) if use_t else scipy.stats.norm.sf(stat))


def _quadratic_rows(X, Vww, Vbw, Vbb):
    """``x̃ᵀVx̃`` for ``x̃ = [1, x]``: ``V_bb + 2 xᵀV_wb + xᵀV_ww x`` for every row of X."""
    return Vbb + 2.0 * np.asarray(X @ Vbw) + _row_dots(np.asarray(X @ Vww), X)


def _row_dots(A: np.ndarray, X) -> np.ndarray:
    """``Σ_j A_ij X_ij`` for every row: ``X`` dense or ``scipy.sparse`` (its entries only)."""
    if hasattr(X, "tocsr"):
        return np.asarray(X.multiply(A).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", A, X)


class MultiOutputResults(tuple):
    """One :class:`RegressionResults` per target (``results[j]``), printed one table each.

    Per-coefficient values are each target's (``results[j].params``: a Series indexed by
    name when the fit saw names); :meth:`to_frame` and :meth:`anova` put the targets
    together in one DataFrame indexed by ``(target, term)``.
    """

    def _repr_html_(self) -> str:
        """One HTML table per target (what a notebook shows)."""
        return "".join(r._repr_html_() for r in self)

    def __str__(self) -> str:
        return "\n\n".join(format_table(r) for r in self)

    def summary(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<MultiOutputResults: {len(self)} targets>"

    def to_frame(self, alpha: float = 0.05):
        """The coefficient tables of all targets, indexed by (target, term)."""
        frames = [r.to_frame(alpha) for r in self]
        import pandas as pd
        return pd.concat(frames, keys=[r.target_name for r in self], names=["target", "term"])

    def anova(self, typ=1):
        """Every target's :meth:`RegressionResults.anova`, indexed by (target, term)."""
        frames = [r.anova(typ) for r in self]
        import pandas as pd
        return pd.concat(frames, keys=[r.target_name for r in self], names=["target", "term"])

    def wald_test_terms(self) -> tuple:
        """Every target's :meth:`RegressionResults.wald_test_terms`, in target order."""
        return tuple(r.wald_test_terms() for r in self)

    def predict(self, X, interval: str | None = None, level: float = 0.95):
        """Column-stacked :meth:`RegressionResults.predict` over the targets."""
        parts = [r.predict(X, interval, level) for r in self]
        if interval is None:
            return np.column_stack(parts)
        return tuple(np.column_stack([p[i] for p in parts]) for i in range(3))

