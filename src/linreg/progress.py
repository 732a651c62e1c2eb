"""A progress bar for iterative fits, drawn on a terminal and nowhere else.

:class:`ProgressBar` is a ``callback`` for :class:`linreg.LinearRegression`: the training loop
calls it after each epoch (or iteration) with a dict holding at least ``epoch`` and ``loss``.
It draws one line, rewritten in place::

    fitting  ████████████░░░░░░░░  61% epoch 610/1000  loss 0.0123456  2.41k it/s  ≤0:00:01 left

The time left is an upper bound: the fit may stop earlier, when it meets ``tol``.

The bar is drawn only when the stream is a terminal (so logs and pipes stay clean), only once
the fit has lasted ``delay`` seconds (fast fits show nothing), and at most ``refresh`` times a
second (so it costs nothing measurable, however fast the iterations are).
"""

from __future__ import annotations

import math
import sys
import time

__all__ = ["ProgressBar", "format_duration", "format_rate"]


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` for a number of seconds (``?`` when unknown)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def format_rate(per_second: float) -> str:
    """Iterations per second with a k/M suffix: ``950 it/s``, ``2.41k it/s``."""
    if not math.isfinite(per_second) or per_second <= 0:
        return "? it/s"
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if per_second >= limit:
            return f"{per_second / limit:.3g}{suffix} it/s"
    return f"{per_second:.3g} it/s"


class ProgressBar:
    """Draw the progress of an iterative fit on ``stream`` (standard error by default).

    Parameters
    ----------
    total : int
        The most epochs the fit may run (its ``max_iter``).
    stream : file-like, optional
        Where to draw; ``sys.stderr`` when None (looked up at construction).
    enabled : bool, optional
        Force drawing on or off; by default it is on exactly when ``stream`` is a terminal.
    delay : float, default=0.3
        Seconds to wait before the first drawing, so that quick fits print nothing.
    refresh : float, default=0.1
        Least number of seconds between two drawings.
    width : int, default=20
        Characters of the bar itself.
    clock : callable, default=time.monotonic
        The time source (a parameter so that tests can drive it).
    unit : str, default="epoch"
        What one step of the fit is called ("iteration" for full-batch descent).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(100, stream=out, enabled=True, delay=0.0, refresh=0.0)
    >>> bar({"epoch": 50, "loss": 0.25})
    >>> bar.close()
    >>> "50%" in out.getvalue() and "epoch 50/100" in out.getvalue()
    True
    """

    def __init__(self, total: int, stream=None, enabled: bool | None = None, delay: float = 0.3,
                 refresh: float = 0.1, width: int = 20, clock=time.monotonic,
                 unit: str = "epoch"):
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"total={total!r} must be an integer >= 1")
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            try:
                enabled = bool(isatty and isatty())
            except (OSError, ValueError):
                enabled = False
        self.enabled = enabled
        self.delay = delay
        self.refresh = refresh
        self.width = width
        self.clock = clock
        self.unit = unit
        self.start = clock()
        self.last_draw = -math.inf
        self.drawn = False
        self.epoch = 0
        self.loss = math.nan
        self._last_len = 0

    def __call__(self, info: dict) -> None:
        """Record the epoch and loss of ``info``; redraw if it is time.  Never stops the fit
        (returns None)."""
        self.epoch = int(info.get("epoch", self.epoch + 1))
        loss = info.get("loss", math.nan)
        try:
            self.loss = float(loss)
        except (TypeError, ValueError):
            self.loss = math.nan
        if not self.enabled:
            return None
        now = self.clock()
        if now - self.start >= self.delay and now - self.last_draw >= self.refresh:
            self._draw(now)
        return None

    def line(self, now: float | None = None, final: bool = False) -> str:
        """The text of the bar at time ``now`` (``final``: the elapsed time instead of the
        time left)."""
        now = self.clock() if now is None else now
        elapsed = max(now - self.start, 1e-9)
        fraction = min(max(self.epoch / self.total, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        bar = "█" * filled + "░" * (self.width - filled)
        rate = self.epoch / elapsed
        left = (self.total - self.epoch) / rate if rate > 0 else math.inf
        when = (f"done in {format_duration(elapsed)}" if final
                else f"≤{format_duration(left)} left")
        return (f"fitting  {bar} {fraction:4.0%} {self.unit} {self.epoch}/{self.total}  "
                f"loss {self.loss:.6g}  {format_rate(rate)}  {when}")

    def _draw(self, now: float) -> None:
        text = self.line(now)
        pad = " " * max(self._last_len - len(text), 0)
        self.stream.write("\r" + text + pad)
        self.stream.flush()
        self._last_len = len(text)
        self.last_draw = now
        self.drawn = True

    def close(self) -> None:
        """Draw the final state and end the line — only if the bar was ever drawn, so that a
        quick fit leaves no trace."""
        if self.enabled and self.drawn:
            now = self.clock()
            text = self.line(now, final=True)
            pad = " " * max(self._last_len - len(text), 0)
            self.stream.write("\r" + text + pad + "\n")
            self.stream.flush()
            self.drawn = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
