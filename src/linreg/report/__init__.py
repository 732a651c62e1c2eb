"""HTML report of a fitted model (:mod:`.page`: :func:`report_html`, :func:`write_report`;
what it shows is computed in :mod:`.data` and :mod:`.sample`, drawn in :mod:`.sections`),
R's four diagnostic plots (:mod:`.diagnostics`) and the self-contained page they share with
the lesson (:mod:`.html`)."""

from .page import report_html, write_report

__all__ = ["report_html", "write_report"]
