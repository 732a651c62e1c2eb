"""The lesson's ten steps, in order, and how to run them."""

from __future__ import annotations

from . import basics, practice
from .steps import LessonData, Step

__all__ = ["STEPS", "run_steps"]


def STEPS() -> list:
    """The step functions, in the lesson's order."""
    return [basics.step_equations, basics.step_normal_vs_gd, basics.step_learning_rate,
            basics.step_scaling, basics.step_batch_sizes, practice.step_optimizers,
            practice.step_vectorized, practice.step_closed_form_cost, practice.step_l2,
            practice.step_debugging]


def run_steps(data: LessonData | None = None, only=None, on_step=None) -> list[Step]:
    """Run the lesson's steps (all, or the 1-based numbers in ``only``); ``on_step(i, step)``
    is called as each one finishes, so a terminal shows the lesson as it runs."""
    data = LessonData.diabetes() if data is None else data
    steps = []
    for i, fn in enumerate(STEPS(), start=1):
        if only is not None and i not in only:
            continue
        step = fn(data)
        steps.append(step)
        if on_step is not None:
            on_step(i, step)
    return steps
