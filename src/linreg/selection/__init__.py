"""Model selection from sufficient statistics: exact k-fold cross-validation of the whole
alpha path in one pass (:mod:`.cv`, :mod:`.folds`, :mod:`.path`, :mod:`.scores`),
leave-one-out and GCV (:mod:`.loo`)."""

from .cv import LinearRegressionCV
from .folds import Folds, make_folds

__all__ = ["LinearRegressionCV", "Folds", "make_folds"]
