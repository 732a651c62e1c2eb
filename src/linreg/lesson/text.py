"""The lesson in a terminal: each step's title, text and textbook code, as it finishes."""

from __future__ import annotations

import textwrap

__all__ = ["format_step", "WIDTH"]

WIDTH = 92


def _paragraph(text: str) -> str:
    # tables and listings (several lines) keep their layout; prose is wrapped
    if "\n" in text:
        return textwrap.indent(text, "  ")
    return textwrap.fill(text, WIDTH, initial_indent="  ", subsequent_indent="  ")


def format_step(number: int, step, show_code: bool = False) -> str:
    lines = [f"{number}. {step.title}", "-" * min(WIDTH, len(step.title) + 4)]
    lines += [_paragraph(p) + "\n" for p in step.text]
    if show_code and step.code:
        lines.append("  The code:\n")
        lines.append(textwrap.indent(step.code, "    ") + "\n")
    return "\n".join(lines) + "\n"
