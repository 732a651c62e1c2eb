"""Applying a saved model to a data file: ``linreg predict`` and ``linreg evaluate``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..io import CSV_SUFFIXES, PARQUET_SUFFIXES
from .describe import training_metrics
from .errors import OK, CommandError
from .output import dump_json, jsonable, table_bytes, write_output
from .reading import load_model, model_predict, model_targets, read_columns, read_for_model, split_names
from .wording import show_warnings

__all__ = ["cmd_predict", "cmd_evaluate"]


def cmd_predict(args, out, err) -> int:
    model = load_model(args.model, args.data)
    table = read_for_model(model, args, need_target=False)
    single = np.ndim(model.coef_) == 1
    targets = model_targets(model)
    k = 1 if single else np.shape(model.coef_)[0]
    if targets is None or len(targets) != k:
        targets = None if single else [f"y{j}" for j in range(k)]
    # named after the target: prediction_price (plain "prediction" when it is not recorded)
    names = ["prediction"] if targets is None else [f"prediction_{t}" for t in targets]
    bounds = ([("lower", "upper")] if targets is None
              else [(f"lower_{t}", f"upper_{t}") for t in targets])
    kept = _kept_columns(args, table.X.shape[0])
    if args.output and Path(args.output).suffix.lower() not in (
            CSV_SUFFIXES + PARQUET_SUFFIXES + (".npy",)):
        raise CommandError(f"cannot write predictions as {args.output!r}: use .csv, .parquet "
                           "or .npy")
    if args.interval:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y_hat, lower, upper = model_predict(model, table.X, interval=args.interval, level=args.level)
        show_warnings(caught, err)
        columns = dict(kept)
        for j, name in enumerate(names):
            pick = (lambda a: a) if single else (lambda a, j=j: np.asarray(a)[:, j])
            columns[name] = pick(y_hat)
            columns[bounds[j][0]] = pick(lower)
            columns[bounds[j][1]] = pick(upper)
    else:
        y_hat = model_predict(model, table.X)
        columns = dict(kept)
        columns.update({name: (y_hat if single else y_hat[:, j]) for j, name in enumerate(names)})
    data = table_bytes(columns, args.output)
    if args.output:
        write_output(args.output, data)
        if not args.quiet:
            err.write(f"wrote {table.X.shape[0]} predictions to {args.output}\n")
    else:
        out.write(data.decode("utf-8"))
    return OK


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
    table = read_for_model(model, args, need_target=True, weighted=True)
    y_pred = model_predict(model, table.X)
    if np.ndim(table.y) != np.ndim(y_pred):
        raise CommandError(f"the model predicts {np.shape(y_pred)[1:] or 1} target(s) but "
                           f"{len(table.target_names)} target column(s) were read")
    metrics = training_metrics(table.y, y_pred, table.weights)
    if args.json:
        dump_json({"data_file": table.path, "target": table.target_names,
                    "weight": table.weight_name, **jsonable(metrics)}, out)
    else:
        weighted = "" if table.weight_name is None else f", weighted by {table.weight_name}"
        out.write(f"{table.path}: n = {metrics['n']}, target {', '.join(table.target_names)}"
                  f"{weighted}\n")
        out.write(f"  R²    {metrics['r2']:.6g}\n  RMSE  {metrics['rmse']:.6g}\n"
                  f"  MAE   {metrics['mae']:.6g}\n")
    return OK
