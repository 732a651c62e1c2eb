"""``linreg lesson``: the lesson of :mod:`linreg.textbook`, run live on the bundled data.

Ten steps (:mod:`.steps`), each a few lines of text with the numbers the library has just
computed and a figure; :mod:`.text` prints them for a terminal, :mod:`.html` writes them as
one self-contained page (images inline, nothing fetched).  No number in the text is written
by hand: every one is computed when the lesson runs, and ``tests/test_lesson.py`` checks
the claims the text makes.
"""

from .steps import Step
from .tour import STEPS, run_steps

__all__ = ["STEPS", "Step", "run_steps"]
