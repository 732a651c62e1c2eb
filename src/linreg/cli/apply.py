"""Applying a saved model to a data file: ``linreg predict`` and ``linreg evaluate``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..io import CSV_SUFFIXES, PARQUET_SUFFIXES
from .describe import training_metrics
from .errors import OK, CommandError
from .output import dump_json, jsonable, table_bytes, write_output
from .reading import load_model, model_predict, model_targets, read_for_model
from .wording import show_warnings

__all__ = ["cmd_predict", "cmd_evaluate"]


def cmd_predict(args, out, err) -> int:
    model = load_model(args.model)
    table = read_for_model(model, args, need_target=False)
    single = np.ndim(model.coef_) == 1
    targets = model_targets(model)
    if single or targets is None or len(targets) != np.shape(model.coef_)[0]:
        targets = ["y"] if single else [f"y{j}" for j in range(np.shape(model.coef_)[0])]
    names = ["prediction"] if single else [f"prediction_{t}" for t in targets]
    if args.output and Path(args.output).suffix.lower() not in (
            CSV_SUFFIXES + PARQUET_SUFFIXES + (".npy",)):
        raise CommandError(f"cannot write predictions as {args.output!r}: use .csv, .parquet "
                           "or .npy")
    if args.interval:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y_hat, lower, upper = model_predict(model, table.X, interval=args.interval, level=args.level)
        show_warnings(caught, err)
        columns = {}
        for j, name in enumerate(names):
            pick = (lambda a: a) if single else (lambda a, j=j: np.asarray(a)[:, j])
            columns[name] = pick(y_hat)
            columns["lower" if single else f"lower_{targets[j]}"] = pick(lower)
            columns["upper" if single else f"upper_{targets[j]}"] = pick(upper)
    else:
        y_hat = model_predict(model, table.X)
        columns = {name: (y_hat if single else y_hat[:, j]) for j, name in enumerate(names)}
    data = table_bytes(columns, args.output)
    if args.output:
        write_output(args.output, data)
        if not args.quiet:
            err.write(f"wrote {table.X.shape[0]} predictions to {args.output}\n")
    else:
        out.write(data.decode("utf-8"))
    return OK


def cmd_evaluate(args, out, err) -> int:
    model = load_model(args.model)
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
