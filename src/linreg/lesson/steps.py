"""The lesson's steps: what each computes, says and draws.

A step is a function ``(data) -> Step``: it runs the library (and :mod:`linreg.textbook`) on
the bundled diabetes data, and returns its text — built from the numbers it just computed —
the textbook code it shows, a ``draw(fig)`` that fills a matplotlib figure (called only when
a figure is wanted, so the terminal lesson needs no matplotlib) and ``facts``: the numbers
the text states, by name, for the tests to check against the library.
"""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import textbook as tb

__all__ = ["Step", "LessonData", "textbook_source", "quiet_fit",
           "best_time"]


@dataclass
class Step:
    """One step of the lesson: a title, paragraphs of text, textbook code, a figure."""
    title: str
    text: list[str]
    code: str = ""
    draw: Callable | None = None      # draw(fig): fills a matplotlib Figure
    figure_size: tuple[float, float] = (10.0, 4.0)
    facts: dict = field(default_factory=dict)
    caption: str = ""


@dataclass
class LessonData:
    """The bundled diabetes data, raw and standardized (``tb.standardize``)."""
    X: np.ndarray
    y: np.ndarray
    names: list[str]
    target: str

    @property
    def Z(self) -> np.ndarray:
        return tb.standardize(self.X)[0]

    @classmethod
    def diabetes(cls) -> "LessonData":
        from ..demo import load_diabetes
        X, y, names, target = load_diabetes()
        return cls(X, y, names, target)


def textbook_source(*functions) -> str:
    """The source of textbook functions, without their docstrings' examples (the code only)."""
    parts = []
    for f in functions:
        lines = inspect.getsource(f).splitlines()
        # keep the signature and the body; replace the docstring by its first line
        doc = inspect.getdoc(f) or ""
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith('"""'))
        end = start if lines[start].count('"""') == 2 else next(
            i for i in range(start + 1, len(lines)) if '"""' in lines[i])
        indent = lines[start][:len(lines[start]) - len(lines[start].lstrip())]
        first = doc.split("\n\n")[0].replace("\n", " ")
        where = f"# {f.__module__}.{f.__name__}"
        parts.append("\n".join([where] + lines[:start] + [f'{indent}"""{first}"""'] + lines[end + 1:]))
    return "\n\n".join(parts)


def quiet_fit(model, X, y, **kwargs):
    """``model.fit(X, y)`` with its warnings recorded, not shown: the lesson says in its own
    words what they say (e.g. that a run stopped at max_iter).  Returns (model, messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, **kwargs)
    return model, [str(w.message) for w in caught]


def best_time(fn, repeat: int = 5) -> float:
    """The shortest of ``repeat`` wall-clock timings of ``fn()``, in seconds (the least
    disturbed by other work on the machine)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
