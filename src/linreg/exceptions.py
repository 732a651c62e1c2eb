"""Warnings and errors linreg raises, and :func:`warn_user`, which points warnings at the
caller's line."""

import os
import sys
import warnings

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = ["ConvergenceWarning", "DivergenceError", "RankDeficiencyWarning", "IllConditionedWarning",
           "warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first frame outside linreg — the user's own line,
    whichever path (array, file source, Dask, ``partial_fit``, the CLI) led to the warning."""
    level, frame = 2, sys._getframe(1)      # stacklevel 2: the caller of warn_user
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


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
