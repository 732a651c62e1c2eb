"""``linreg plot``: a model's loss curve and, given data, predicted vs actual and residuals vs
fitted, in one image."""

from __future__ import annotations

import numpy as np

from .errors import OK
from .output import save_figure
from .reading import load_model, model_targets, read_for_model
from .svmlight_files import (cli_words, is_svmlight, model_numbering, model_source,
                             refuse_column_options)
from .tables import encoded_blocks, input_columns, is_table_model, table_source

__all__ = ["cmd_plot"]


def cmd_plot(args, out, err) -> int:
    from .. import plotting

    figure_class = plotting.require_matplotlib()
    model = load_model(args.model, args.data)
    X = y = None
    if args.data and is_svmlight(args.data):
        refuse_column_options(args, args.data)
        source = model_source(model, args)
        with cli_words(args.model, int(model.n_features_in_), model_numbering(model, args)):
            X, Y, _ = source.gather()           # sparse rows, as the file holds them
        y = Y[:, 0]
    elif args.data and is_table_model(model):
        X, y = _table_rows(model, args)
    elif args.data:
        table = read_for_model(model, args, need_target=True)
        X, y = table.X, table.y
    fig = plotting.model_figure(model, X, y, figure_class=figure_class,
                                target_name=", ".join(model_targets(model) or []) or None)
    save_figure(fig, args.output)
    if not args.quiet:
        err.write(f"wrote {args.output}\n")
    return OK


def _table_rows(model, args) -> tuple:
    """The rows of DATA a model fitted on a table uses (those with a missing value left out
    under ``--missing drop``): its input columns as a pyarrow table, and the target(s)."""
    import pyarrow as pa

    from ..tables.blocks import Codes
    source, names = table_source(model, args, need_target=True, weight=None)
    inputs = input_columns(model.encoding_)
    columns, targets = {name: [] for name in inputs}, []
    for block, ev in encoded_blocks(model, source, names, with_targets=True):
        rows = slice(None) if ev.keep is None else ev.keep
        for name in inputs:
            col = block.columns[name]
            if isinstance(col, Codes):       # the levels themselves; code -1 (missing) → None
                col = np.asarray(list(col.levels) + [None], dtype=object)[col.codes]
            columns[name].append(col[rows])
        targets.append(ev.Y)
    X = pa.table({name: pa.array(np.concatenate(parts)) for name, parts in columns.items()})
    Y = np.concatenate(targets)
    return X, (Y[:, 0] if Y.shape[1] == 1 else Y)
