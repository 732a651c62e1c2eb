"""``linreg report``: a saved model's report on its data, one self-contained HTML file.

DATA is read as a source (:mod:`linreg.sources`): the columns the model needs, by name — a
model fitted on a table or from a formula reads them through its encoding (text columns,
missing values) — in blocks of ``--chunk-rows`` rows when given, so memory stays bounded
however large the file (the plots draw a sample of the rows, the numbers use them all)."""

from __future__ import annotations

import contextlib
import warnings

from .errors import OK
from .output import write_output
from .reading import check_width_for_model, load_model, model_weight, source_for_model
from .svmlight_files import (cli_words, is_svmlight, model_numbering, model_source,
                             refuse_column_options)
from .tables import is_table_model, table_source
from .wording import cli_setting, show_warnings

__all__ = ["cmd_report"]


def cmd_report(args, out, err) -> int:
    from ..plotting import require_matplotlib
    from ..report.page import report_html

    require_matplotlib()
    model = load_model(args.model, args.data)
    if is_svmlight(args.data):
        refuse_column_options(args, args.data)
        source = model_source(model, args)
    elif is_table_model(model):
        source, _ = table_source(model, args, need_target=True,
                                 weight=model_weight(model, args))
    else:
        source = source_for_model(model, args, need_target=True, weighted=True,
                                  chunk_rows=args.chunk_rows)
        check_width_for_model(model, args, source.n_features)
    words = (cli_words(args.model, int(model.n_features_in_), model_numbering(model, args))
             if is_svmlight(args.data) else contextlib.nullcontext())
    with warnings.catch_warnings(record=True) as caught, words:
        warnings.simplefilter("always")
        page = report_html(model, source, source=args.data, setting=cli_setting)
    # (the columns were matched to the model's feature names when the file was read)
    show_warnings([w for w in caught if "valid feature names" not in str(w.message)], err)
    write_output(args.output, page.encode("utf-8"))
    if not args.quiet:
        out.write(f"wrote {args.output}: summary, plots and data of {args.data} "
                  f"({len(page) / 1e6:.2f} MB)\n")
    return OK
