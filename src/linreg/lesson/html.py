"""The lesson as one self-contained HTML page: each step's text, the textbook code it
shows, and its figure inline as a PNG."""

from __future__ import annotations

from ..plotting import require_matplotlib
from ..report.html import escape, figure_png, img_tag, page

__all__ = ["step_figure", "lesson_html"]


def step_figure(step):
    """The step's matplotlib Figure (None if it draws none)."""
    if step.draw is None:
        return None
    Figure = require_matplotlib()
    fig = Figure(figsize=step.figure_size, layout="constrained")
    step.draw(fig)
    return fig


def _paragraph(text: str) -> str:
    if "\n" in text or text.startswith("DivergenceError"):
        return f'<pre class="out">{escape(text)}</pre>'
    return f"<p>{escape(text)}</p>"


def lesson_html(steps, pngs=None) -> str:
    """The page: ``pngs[i]`` is step i's figure as PNG bytes (drawn here when not given)."""
    parts = ["<h1>Linear regression, live: the linreg lesson</h1>",
             '<p class="note">Every number on this page was computed by linreg when the page was '
             "written (<code>linreg lesson --html</code>), on the bundled diabetes data (Efron et "
             "al. 2004). The equations are in <code>src/linreg/textbook.py</code>, plain NumPy; "
             "timings are of the machine that wrote the page.</p>", "<ol>"]
    parts += [f'<li><a href="#step-{i}">{escape(s.title)}</a></li>' for i, s in enumerate(steps, 1)]
    parts.append("</ol>")
    for i, step in enumerate(steps, 1):
        parts.append(f'<section id="step-{i}"><h2>{i}. {escape(step.title)}</h2>')
        parts += [_paragraph(p) for p in step.text]
        png = pngs[i - 1] if pngs is not None else None
        if png is None:
            fig = step_figure(step)
            png = figure_png(fig) if fig is not None else None
        if png is not None:
            parts.append(f"<figure>{img_tag(png, step.title)}"
                         f"<figcaption>{escape(step.caption)}</figcaption></figure>")
        if step.code:
            parts.append("<p>The code:</p>"
                         f"<pre>{escape(step.code)}</pre>")
        parts.append("</section>")
    return page("linreg lesson", "\n".join(parts))
