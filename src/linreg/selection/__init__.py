"""Model selection from sufficient statistics: exact k-fold cross-validation of the whole
alpha path in one pass (:mod:`.cv`, :mod:`.folds`, :mod:`.path`, :mod:`.scores`),
leave-one-out and GCV (:mod:`.loo`), stepwise selection by AIC/BIC/adjusted R² with the
sweep operator (:mod:`.stepwise`), exhaustive best-subset (:mod:`.subsets`), both as an
estimator (:mod:`.selector`), nested F-tests (:mod:`.compare`)."""

from .cv import LinearRegressionCV
from .folds import Folds, make_folds
from .selector import StepwiseSelector
from .stepwise import StepwiseResult, stepwise
from .subsets import best_subset

__all__ = ["LinearRegressionCV", "Folds", "make_folds", "stepwise", "StepwiseResult", "best_subset",
           "StepwiseSelector"]
