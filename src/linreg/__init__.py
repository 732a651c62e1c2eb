"""linreg: linear regression from scratch — exact closed forms, fast gradient descent,
honest diagnostics.

    ŷ = Xw + b,    J(w, b) = 1/(2 Σs_i) Σ s_i (ŷ_i − y_i)² + (alpha/2)‖w‖²
"""

__version__ = "0.1.0"

from .estimator import LinearRegression, load
from .exceptions import (ConvergenceWarning, DivergenceError, IllConditionedWarning,
                         RankDeficiencyWarning)
from .persistence import ModelFileError
from .stats import SufficientStats, sufficient_stats
from . import sources
from .inference import MultiOutputResults, RegressionResults

__all__ = [
    "LinearRegression",
    "load",
    "ModelFileError",
    "ConvergenceWarning",
    "DivergenceError",
    "IllConditionedWarning",
    "RankDeficiencyWarning",
    "SufficientStats",
    "sufficient_stats",
    "sources",
    "RegressionResults",
    "MultiOutputResults",
    "__version__",
]
