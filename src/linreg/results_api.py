"""What a fitted :class:`~linreg.estimator.LinearRegression` tells about itself: the
inference summary (and a ridge fit's), variance inflation and standardized coefficients,
plots, the report page and the model file.  A mixin, so the estimator module keeps to
fitting."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .penalty import is_penalized
from .rows import as_rows
from .stats import SufficientStats
from .validation import check_choice

__all__ = ["ResultsMixin"]


class ResultsMixin:
    """Summary, diagnostics, plots, report and saving for a fitted estimator (it needs the
    estimator's ``_validate_training_data`` and fitted attributes)."""

    def vif(self):
        """Variance inflation factors of the features, from the training statistics
        (:func:`linreg.collinearity.vif`; a pandas Series when the fit saw column names)."""
        from .collinearity import vif
        check_is_fitted(self)
        return vif(self)

    def standardized_coef(self):
        """Standardized coefficients ``coef_ · s_x / s_y``
        (:func:`linreg.collinearity.standardized_coefficients`)."""
        from .collinearity import standardized_coefficients
        check_is_fitted(self)
        return standardized_coefficients(self)

    def _penalized_summary(self, stats, X, y, sample_weight, target_names):
        """A ridge fit's summary: what is valid without OLS inference (linreg.penalized)."""
        from .penalized import penalized_summary
        if X is not None:
            rows = as_rows(X, y, sample_weight, validate=functools.partial(
                self._validate_training_data, reset=False))
            stats = rows.stats()
            target_names = target_names if target_names is not None else rows.target_names
        k = 1 if np.ndim(self.coef_) == 1 else np.shape(self.coef_)[0]
        from .validation import coefficient_names
        names = coefficient_names(self)
        names = (names if names is not None
                 else [f"x{j}" for j in range(stats.n_features)])
        recorded = (getattr(self, "metadata_", None) or {}).get("target_name")
        if recorded is None and X is None:
            recorded = getattr(getattr(self, "_training_rows", None), "target_names", None)
        targets = None
        for candidate in (target_names, recorded):
            if candidate is not None:
                targets = [candidate] if isinstance(candidate, str) else list(candidate)
                break
        if targets is None or len(targets) != k:
            targets = ["y"] if k == 1 else [f"y{j}" for j in range(k)]
        return penalized_summary(self, stats, names, targets)

    def summary(self, cov_type="nonrobust", X=None, y=None, sample_weight=None,
                target_names=None, *, groups=None, maxlags=None, kernel=None,
                use_correction=None, df_correction=None, use_t=None):
        """Statistical inference for an unpenalized fit, like statsmodels' results.

        Computed from the training statistics plus one pass over the training rows (kept by
        reference after :meth:`fit`).  Pass ``X``, ``y`` (and ``sample_weight``) — numpy,
        pandas or polars, dask collections, or a :mod:`linreg.sources` source as ``X`` — when
        the model does not hold its rows: after :func:`linreg.load`, or when it was fitted on
        dask collections, with ``partial_fit`` or ``merge``.  They must be the training data
        (checked: row count, total weight and means).

        Parameters
        ----------
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC"}, default="nonrobust"
            ``"cluster"``: cluster-robust (one- or two-way, by ``groups``); ``"HAC"``:
            heteroscedasticity and autocorrelation robust (Newey–West, ``maxlags`` lags of the
            rows in the order given) — as statsmodels' ``fit(cov_type=...)``.
        target_names : str or list of str, optional
            The target's name(s) in the tables.  Default: the name ``y`` carries (a pandas
            Series' name, a DataFrame's columns), a source's target columns, the target name a
            saved model records, else ``"y"``.
        groups : array, column name, or a pair of them
            ``"cluster"``: each row's cluster — an array aligned with the rows, or for a file
            source or a Dask DataFrame a column name; two for two-way clustering.  Memory
            grows with the number of clusters × n_features × n_targets (one score sum per
            cluster), not with the rows.
        maxlags : int
            ``"HAC"``: how many lags (0 ≤ maxlags < n).
        kernel : {"bartlett", "uniform"}, default="bartlett"
            ``"HAC"``: the weights of the lags.
        use_correction : bool
            Small-sample factor (statsmodels' defaults): ``"cluster"``
            ``G/(G − 1)·(n − 1)/(n − p)``, on by default; ``"HAC"`` ``n/(n − p)``, off.
        df_correction : bool, default=True
            ``"cluster"``: t and F on ``G − 1`` degrees of freedom (``G`` clusters).
        use_t : bool, optional
            Student's t (True) or the normal (False) for p-values and intervals; default as
            statsmodels: t for ``"nonrobust"``, normal for the robust covariances.  The table
            says which it used.

        Returns
        -------
        linreg.inference.RegressionResults
            ``print(result)`` shows the table; ``result.params`` (intercept first),
            ``bse``, ``pvalues``, ``conf_int()``, ``rsquared``, ``leverage``, … .
            With several targets, a :class:`~linreg.inference.MultiOutputResults` (one
            result, and one table, per target).

        Examples
        --------
        >>> import numpy as np
        >>> from linreg import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]]); y = np.array([1.1, 2.9, 5.2, 6.8, 9.1])
        >>> result = LinearRegression().fit(X, y).summary()
        >>> [round(float(v), 4) for v in result.params], round(float(result.rsquared), 4)
        ([1.04, 1.99], 0.9973)
        """
        from .inference import COV_TYPES
        from .inference.entry import summary_of
        check_is_fitted(self)
        # "hc3" is "HC3": statsmodels' spelling, whatever the case
        cov_type = {c.lower(): c for c in COV_TYPES}.get(str(cov_type).lower(), cov_type)
        check_choice("cov_type", cov_type, COV_TYPES)
        stats = getattr(self, "stats_", None)
        stats = stats if isinstance(stats, SufficientStats) else None
        if stats is None and getattr(self, "solver_", None) == "lsqr":
            from .exceptions import no_statistics
            raise no_statistics(self.n_features_in_, "the summary's covariance of the "
                                "coefficients is a matrix of that size")
        if stats is None and getattr(self, "training_path_", None) == "rows" and X is None:
            stats = self._statistics_from_held_rows()
        if is_penalized(self.alpha) and (stats is not None or X is not None):
            return self._penalized_summary(stats, X, y, sample_weight, target_names)
        return summary_of(self, cov_type, X, y, sample_weight, target_names,
                          functools.partial(self._validate_training_data, reset=False),
                          getattr(self, "_training_rows", None), use_t=use_t, groups=groups,
                          maxlags=maxlags, kernel=kernel, use_correction=use_correction,
                          df_correction=df_correction)

    def _statistics_from_held_rows(self) -> SufficientStats | None:
        """An iterative fit from the rows formed no statistics (:mod:`linreg.solvers.paths`);
        ``summary()`` forms them now from the rows the model holds, once, and keeps them as
        ``stats_`` — unless the design is too wide for a d × d covariance."""
        from .solvers.lsqr import GRAM_MAX_FEATURES
        rows = getattr(self, "_training_rows", None)
        if rows is None or not rows.has_rows():
            return None
        d = self.n_features_in_
        if d > GRAM_MAX_FEATURES:
            raise ValueError(
                f"this model was trained from its rows without the {d} × {d} statistics (a "
                f"design wider than {GRAM_MAX_FEATURES} features), and summary()'s covariance "
                "of the coefficients is a matrix of that size: reduce the features to get one")
        self.stats_ = rows.stats()
        return self.stats_

    def plot_loss(self, X=None, y=None, ax=None):
        """Plot the loss curve (log scale) with the closed-form optimum as a reference line
        (from ``X``, ``y`` or the training statistics); needs matplotlib.  Returns the axes.
        See :func:`linreg.plotting.plot_loss`."""
        from .plotting import plot_loss
        return plot_loss(self, X, y, ax=ax)

    def plot_fit(self, X, y, axes=None):
        """Plot predicted vs actual (with the identity line) and residuals vs fitted for
        ``X``, ``y``; needs matplotlib.  Returns the two axes.
        See :func:`linreg.plotting.plot_fit`."""
        from .plotting import plot_fit
        return plot_fit(self, X, y, axes=axes)

    def report(self, X, y=None, path=None, sample_weight=None, max_points=5000) -> None:
        """Write one self-contained HTML page of this fit on its training rows to ``path``;
        needs matplotlib.  See :func:`linreg.report.report_html`.

        The page holds the summary table (a penalized or sign-constrained fit: the
        coefficients, R², RMSE and the objective, and why there are no standard errors), the
        ANOVA table and the Wald tests of the terms of a formula or table fit, R's four
        diagnostic plots, the loss curve of an iterative fit and the data's ranges.  ``X`` may
        be arrays (with ``y``), the table a formula model was fitted on (``y`` None), or a
        :mod:`linreg.sources` source read block by block; every number uses all rows, the
        plots at most ``max_points`` of them.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> from linreg import LinearRegression
        >>> X = np.arange(20.0).reshape(10, 2); y = X @ [1.0, -1.0] + np.sin(np.arange(10.0))
        >>> path = os.path.join(tempfile.mkdtemp(), "report.html")
        >>> LinearRegression().fit(X, y).report(X, y, path)
        >>> open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
        True
        """
        from .report.page import write_report
        if path is None:
            raise TypeError("report() needs the path of the page to write: "
                            "model.report(X, y, 'report.html')")
        write_report(self, X, y, path, sample_weight=sample_weight, max_points=max_points)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` (JSON, versioned; atomically replaced)."""
        from .persistence import save
        save(self, path)
