"""``linreg report``: a saved model's report on its data, one self-contained HTML file."""

from __future__ import annotations

import warnings

from .errors import OK
from .output import write_output
from .reading import load_model, model_features, read_for_model
from .wording import show_warnings

__all__ = ["cmd_report"]


def cmd_report(args, out, err) -> int:
    from ..plotting import require_matplotlib
    from ..report.page import report_html

    require_matplotlib()
    model = load_model(args.model)
    table = read_for_model(model, args, need_target=True, weighted=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = report_html(model, table.X, table.y, table.weights,
                           feature_names=model_features(model),
                           target_name=(table.target_names or [None])[0], source=args.data)
    show_warnings([w for w in caught if "valid feature names" not in str(w.message)], err)
    write_output(args.output, page.encode("utf-8"))
    if not args.quiet:
        out.write(f"wrote {args.output}: summary, diagnostic plots, data ({len(page) / 1e6:.2f} MB)\n")
    return OK
