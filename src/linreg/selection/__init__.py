"""Model selection from sufficient statistics: exact k-fold cross-validation of the whole
alpha path in one pass (:mod:`.cv`, :mod:`.folds`, :mod:`.path`, :mod:`.scores`),
leave-one-out and GCV (:mod:`.loo`), stepwise selection by AIC/BIC with the sweep
operator (:mod:`.stepwise`)."""

from .cv import LinearRegressionCV
from .folds import Folds, make_folds
from .stepwise import StepwiseResult, stepwise

__all__ = ["LinearRegressionCV", "Folds", "make_folds", "stepwise", "StepwiseResult"]
