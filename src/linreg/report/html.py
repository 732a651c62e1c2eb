"""Self-contained HTML pages: one file, images inline as base64 PNG, styles inline, no
scripts, fonts or anything else fetched — a page opens the same with the network off."""

from __future__ import annotations

import base64
import html
import io

__all__ = ["STYLE", "escape", "figure_png", "img_tag", "page", "table"]

#: the pages' styles: system fonts only, nothing wider than the window
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1em 2em; line-height: 1.45; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em;
      white-space: pre; max-width: 100%; }
pre.out { background: #eef4ee; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
figcaption { font-size: 0.9em; color: #555; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; display: block;
        overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
.note { color: #555; font-size: 0.9em; }
"""


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def figure_png(fig, dpi: int = 80) -> bytes:
    """The PNG bytes of a matplotlib Figure (no pyplot: nothing global is touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def img_tag(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def table(header, rows, name_columns: int = 1, table_id: str = "") -> str:
    """An HTML table; the first ``name_columns`` columns left-aligned (names), the rest
    right-aligned (numbers, already formatted as text)."""
    def cell(tag, j, value):
        cls = ' class="name"' if j < name_columns else ""
        return f"<{tag}{cls}>{escape(value)}</{tag}>"

    head = "".join(cell("th", j, h) for j, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", j, v) for j, v in enumerate(row)) + "</tr>"
                   for row in rows)
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")
