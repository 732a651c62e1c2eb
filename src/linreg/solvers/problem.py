"""What every solver gets (:class:`Problem`) and how one is made from the statistics."""

from __future__ import annotations

from dataclasses import dataclass

from ..design import Design, DesignStats
from ..penalty import alpha_per_target, is_penalized
from ..rank import Identification, identify_stats
from ..rows import Rows
from ..stats import SufficientStats

__all__ = ["Problem", "make_problem"]


@dataclass
class Problem:
    """What a solver gets: the statistics, the design, the rank decision and the rows
    (:class:`linreg.rows.Rows`: in memory, in files, on Dask, or only their statistics);
    for the iterative solvers also the columns' means and variances (``moments``: a
    :class:`linreg.training_objective.ColumnMoments`, from which their design comes) and how
    to train (``training``: a :class:`linreg.training_state.TrainingSettings`; ``seed``, ``init``
    the starting parameters ``[θ.ravel(), β]`` or None, ``report`` ``params -> (coef,
    intercept)`` in original units for the callback, ``checkpoint`` a
    :class:`linreg.checkpoint.Checkpoint` or None).

    An iterative fit from the rows (:mod:`linreg.solvers.paths`) has no statistics:
    ``stats``, ``ds`` and ``identification`` are then None and ``condition_number`` NaN."""

    stats: SufficientStats | None
    design: Design
    ds: DesignStats | None
    alpha: object              # a float, or one per target (an array of shape (k,))
    rows: Rows
    #: the rank decision (linreg.rank.identify) every solver, the warning and rank_ share
    identification: Identification | None
    #: 2-norm condition number of the (penalized) equilibrated design
    condition_number: float = 1.0
    training: object = None
    seed: int | None = 0
    init: object = None
    report: object = None
    checkpoint: object = None
    #: non-negative coefficients (positive=True): the closed form is linreg.solvers.nnls
    positive: bool = False
    #: the iterative solvers' column moments (linreg.training_objective.ColumnMoments)
    moments: object = None
    #: a stochastic fit on the raw design with a given step needs no moments before its
    #: first epoch: None here, what its start needs comes with the first loss pass
    #: (linreg.deferred_start.DeferredStart; linreg.solvers.iterative.defers_moments)
    moments_deferred: bool = False


def make_problem(stats: SufficientStats, rows: Rows, fit_intercept: bool, standardize: bool,
                 alpha, positive: bool = False) -> Problem:
    """The design (centring and scaling) from the statistics, the statistics in its
    coordinates, the rank decision and the condition number.  ``alpha``: a number, or one
    per target (checked against the statistics' targets; a float when they are all equal)."""
    from ..closed_form import condition_number
    design = Design.from_stats(stats, fit_intercept, standardize)
    ds = design.apply(stats)
    identification = identify_stats(stats, fit_intercept)
    alpha = alpha_per_target(alpha, stats.n_targets)
    kappa = (condition_number(ds, alpha) if is_penalized(alpha)
             else identification.condition_number)
    return Problem(stats, design, ds, alpha, rows, identification, kappa,
                   positive=bool(positive))
