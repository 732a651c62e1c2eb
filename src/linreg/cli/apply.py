"""Applying a saved model to a data file: ``linreg predict`` and ``linreg evaluate`` (an
svmlight file in sparse blocks, as the model numbers it: :mod:`.svmlight_files`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..io import CSV_SUFFIXES, PARQUET_SUFFIXES
from .describe import training_metrics
from .errors import OK, CommandError
from .output import dump_json, jsonable, table_bytes, write_output
from .reading import (check_width_for_model, load_model, model_predict, model_targets, model_weight,
                      read_columns, read_for_model, source_for_model, split_names)
from .svmlight_files import (TARGET_NAME, is_svmlight, model_blocks, model_source,
                             refuse_column_options)
from .tables import Metrics, encoded_blocks, is_table_model, left_out_text, table_source
from .wording import show_warnings

__all__ = ["cmd_predict", "cmd_evaluate"]


def cmd_predict(args, out, err) -> int:
    model = load_model(args.model, args.data)
    single = np.ndim(model.coef_) == 1
    targets = model_targets(model)
    k = 1 if single else np.shape(model.coef_)[0]
    if targets is None or len(targets) != k:
        targets = None if single else [f"y{j}" for j in range(k)]
    # named after the target: prediction_price (plain "prediction" when it is not recorded)
    names = ["prediction"] if targets is None else [f"prediction_{t}" for t in targets]
    bounds = ([("lower", "upper")] if targets is None
              else [(f"lower_{t}", f"upper_{t}") for t in targets])
    if args.output and Path(args.output).suffix.lower() not in (
            CSV_SUFFIXES + PARQUET_SUFFIXES + (".npy",)):
        raise CommandError(f"cannot write predictions as {args.output!r}: use .csv, .parquet "
                           "or .npy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predicted, n_rows, left_out = _predictions(model, args)
    show_warnings([w for w in caught if "valid feature names" not in str(w.message)], err)
    kept = _kept_columns(args, n_rows)
    columns = dict(kept)
    for j, name in enumerate(names):
        pick = (lambda a: a) if single else (lambda a, j=j: np.asarray(a)[:, j])
        if args.interval:
            y_hat, lower, upper = predicted
            columns[name] = pick(y_hat)
            columns[bounds[j][0]] = pick(lower)
            columns[bounds[j][1]] = pick(upper)
        else:
            columns[name] = pick(predicted)
    data = table_bytes(columns, args.output, missing=[n for n in columns if n not in kept])
    if left_out and not args.quiet:
        err.write(f"linreg predict: {left_out_text(left_out)[1:-1]}: "
                  f"{'its' if left_out == 1 else 'their'} prediction is missing (NA)\n")
    if args.output:
        write_output(args.output, data)
        if not args.quiet:
            err.write(f"wrote {n_rows} predictions to {args.output}\n")
    else:
        out.write(data.decode("utf-8"))
    return OK


def _predictions(model, args) -> tuple:
    """``(ŷ or (ŷ, lower, upper), n_rows, n_left_out)`` for every row of DATA: read whole,
    or in blocks of ``--chunk-rows`` rows (a model fitted on a table always reads its
    columns by name, in blocks, through its encoding)."""
    options = {} if not args.interval else {"interval": args.interval, "level": args.level}
    if is_svmlight(args.data):
        refuse_column_options(args, args.data)
        source = model_source(model, args)
        parts = [model_predict(model, X, **options)
                 for X, _ in model_blocks(model, args, source)]
        left_out = 0
    elif is_table_model(model):
        from ..rows.table import predict_block
        source, names = table_source(model, args, need_target=False, weight=None)
        parts, left_out = [], 0
        for block in source.table_blocks(names):
            part, dropped = predict_block(model, block, **options)
            parts.append(part)
            left_out += dropped
    elif args.chunk_rows is not None:
        source = source_for_model(model, args, chunk_rows=args.chunk_rows)
        check_width_for_model(model, args, source.n_features)
        parts = [model_predict(model, X, **options) for X, _, _ in source.blocks()]
        left_out = 0
    else:
        table = read_for_model(model, args, need_target=False)
        return model_predict(model, table.X, **options), table.X.shape[0], 0
    if not parts:
        raise CommandError(f"{args.data}: no data rows to predict")
    if args.interval:
        joined = tuple(np.concatenate([p[i] for p in parts]) for i in range(3))
        return joined, len(joined[0]), left_out
    joined = np.concatenate(parts)
    return joined, len(joined), left_out


def _kept_columns(args, n_rows: int) -> dict:
    """The ``--keep`` columns of the data file, as read (numbers or text), in order."""
    names = split_names(getattr(args, "keep", None))
    if not names:
        return {}
    frame = read_columns(args.data, names, getattr(args, "sep", None))
    if len(frame) != n_rows:
        raise CommandError(f"{args.data}: --keep read {len(frame)} rows but the features "
                           f"{n_rows}")
    return {name: frame[name].to_numpy() for name in names}


def cmd_evaluate(args, out, err) -> int:
    model = load_model(args.model, args.data)
    left_out = 0
    if is_svmlight(args.data):
        refuse_column_options(args, args.data)
        metrics = Metrics()
        source = model_source(model, args)
        for X, y in model_blocks(model, args, source):
            metrics.add(y, model_predict(model, X))
        metrics, target_names, weight = metrics.result(), [TARGET_NAME], None
    elif is_table_model(model) or args.chunk_rows is not None:
        metrics, left_out, target_names, weight = _streamed_score(model, args)
    else:
        table = read_for_model(model, args, need_target=True, weighted=True)
        y_pred = model_predict(model, table.X)
        _check_targets(y_pred, table.target_names)
        metrics = training_metrics(table.y, y_pred, table.weights)
        target_names, weight = table.target_names, table.weight_name
    encoded = is_table_model(model)
    if args.json:
        dump_json({"data_file": args.data, "target": target_names, "weight": weight,
                   **({"n_dropped": left_out} if encoded else {}), **jsonable(metrics)}, out)
    else:
        weighted = "" if weight is None else f", weighted by {weight}"
        out.write(f"{args.data}: n = {metrics['n']}, target {', '.join(target_names)}"
                  f"{weighted}\n")
        if left_out:
            out.write(f"  {left_out_text(left_out)}\n")
        out.write(f"  R²    {metrics['r2']:.6g}\n  RMSE  {metrics['rmse']:.6g}\n"
                  f"  MAE   {metrics['mae']:.6g}\n")
    return OK


def _check_targets(y_pred, target_names) -> None:
    if np.ndim(y_pred) != (1 if len(target_names) == 1 else 2):
        raise CommandError(f"the model predicts {np.shape(y_pred)[1:] or 1} target(s) but "
                           f"{len(target_names)} target column(s) were read")


def _streamed_score(model, args) -> tuple:
    """``(metrics, n_left_out, target names, weight column)`` of the model on DATA, read in
    blocks (see :func:`_predictions`)."""
    metrics, left_out = Metrics(), 0
    weight = model_weight(model, args)
    if is_table_model(model):
        source, names = table_source(model, args, need_target=True, weight=weight)
        encoding = model.encoding_
        coef = model.coef_.T if model.coef_.ndim == 2 else model.coef_
        for _, ev in encoded_blocks(model, source, names, with_targets=True):
            metrics.add(ev.Y, encoding.linear(ev, coef) + model.intercept_, ev.w)
            left_out += ev.n_dropped
        return metrics.result(), left_out, list(encoding.formula.targets), weight
    source = source_for_model(model, args, need_target=True, weighted=True,
                              chunk_rows=args.chunk_rows)
    check_width_for_model(model, args, source.n_features)
    for X, Y, w in source.blocks():
        y_pred = model_predict(model, X)
        _check_targets(y_pred, source.target_names)
        metrics.add(Y, y_pred, w)
    return metrics.result(), 0, list(source.target_names), source.weight_name
