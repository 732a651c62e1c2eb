"""``linreg lesson``: the textbook's lesson run live on the bundled data (see
:mod:`linreg.lesson`); with ``--html``, also written as one self-contained page."""

from __future__ import annotations

from .errors import CommandError
from .output import write_output

__all__ = ["cmd_lesson"]


def _steps_option(text, count):
    if not text:
        return None
    try:
        chosen = {int(part) for part in text.split(",")}
    except ValueError:
        raise CommandError(f"--steps {text!r}: give step numbers separated by commas, e.g. 3,4") from None
    if not chosen <= set(range(1, count + 1)):
        raise CommandError(f"--steps {text!r}: the steps are numbered 1 to {count}")
    return chosen


def cmd_lesson(args, out, err) -> int:
    from ..lesson import STEPS, run_steps
    from ..lesson.text import format_step

    only = _steps_option(args.steps, len(STEPS()))
    if args.html:
        from ..plotting import require_matplotlib
        require_matplotlib()     # say so before a minute of work, not after
    out.write("linreg lesson: linear regression from src/linreg/textbook.py, live on the bundled "
              "diabetes data\n\n")

    def show(i, step):
        if not args.quiet:
            out.write(format_step(i, step, show_code=not args.no_code))
            out.flush()

    steps = run_steps(only=only, on_step=show)
    if args.html:
        from ..lesson.html import lesson_html
        write_output(args.html, lesson_html(steps).encode("utf-8"))
        out.write(f"wrote {args.html}: the lesson's {len(steps)} steps with their figures, "
                  "one self-contained page\n")
    return 0
