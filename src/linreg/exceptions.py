"""Warnings and errors linreg raises."""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = ["ConvergenceWarning", "DivergenceError", "RankDeficiencyWarning", "IllConditionedWarning"]


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative solver stopped at ``max_iter`` before meeting ``tol``.

    A subclass of scikit-learn's, so tools that filter that one filter this one too."""


class DivergenceError(ArithmeticError):
    """Training diverged: the loss grew without bound for the chosen learning rate."""


class RankDeficiencyWarning(UserWarning):
    """The design is rank-deficient: some columns are linear combinations of others (or of
    the intercept); the minimum-norm solution is returned."""


class IllConditionedWarning(UserWarning):
    """The chosen solver loses many digits on this design; ``solver="qr"`` would not."""
