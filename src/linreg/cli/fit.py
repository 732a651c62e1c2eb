"""``linreg fit``: read a data file, fit, report and (with ``-o``) save the model (with a progress bar for the
iterative solvers)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from ..io import read_table
from ..solvers import ITERATIVE_SOLVERS
from ..validation import most_columns as _most_columns
from .crossval import check_cv_options, cv_path, fit_cv
from .describe import CLOSED_FORMS, objective_text, solver_reason, stop_line, training_metrics
from .errors import OK, CommandError
from .output import coefficients_json, dump_json, jsonable, print_coefficients
from .reading import model_predict, split_names
from .wording import show_warnings

__all__ = ["OPTIONAL_PARAMS", "cmd_fit"]

#: command-line option → LinearRegression parameter, for the options that are passed only
#: when given (so that the estimator's own defaults apply otherwise)
OPTIONAL_PARAMS = {
    "optimizer": "optimizer",
    "batch_size": "batch_size",
    "seed": "random_state",
    "schedule": "schedule",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
}


def _estimator_params(args) -> dict:
    params = {
        "solver": args.solver,
        "alpha": args.alpha,
        "fit_intercept": not args.no_intercept,
        "standardize": not args.no_standardize,
        "learning_rate": args.learning_rate,
        "max_iter": args.max_iter,
        "tol": args.tol,
    }
    for option, param in OPTIONAL_PARAMS.items():
        value = getattr(args, option, None)
        if value is None or value is False:
            continue
        params[param] = value
    return params


def cmd_fit(args, out, err) -> int:
    from ..estimator import LinearRegression
    from ..progress import ProgressBar

    params = _estimator_params(args)
    cross_validate = params["alpha"] == "cv"
    if cross_validate:
        check_cv_options(args)
        params["alpha"] = 0.0
    elif args.alphas is not None:
        raise CommandError("--alphas goes with --alpha cv")
    model = LinearRegression(**params)
    model.check_params()  # a bad option fails before a long read, not after
    with warnings.catch_warnings(record=True) as reading:
        warnings.simplefilter("always")
        table = read_table(args.data, target=split_names(args.target),
                           features=split_names(args.features), drop=split_names(args.drop, blank=True),
                           need_target=True, max_columns=_most_columns(), weight=args.weight,
                           delimiter=args.sep)
    read_warned = show_warnings(reading, err)
    bar = None
    if (params["solver"] in ITERATIVE_SOLVERS and not args.quiet
            and "callback" in model.get_params()):
        bar = ProgressBar(int(params["max_iter"]), stream=err,
                          unit="iteration" if params["solver"] == "gd" else "epoch")
        model.set_params(callback=bar)
    fit_options = {}
    if args.checkpoint is not None:
        fit_options["checkpoint"] = args.checkpoint
        if args.checkpoint_every is not None:
            fit_options["checkpoint_every"] = args.checkpoint_every
    elif args.checkpoint_every is not None:
        raise CommandError("--checkpoint-every needs --checkpoint FILE")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if cross_validate:
                searched = fit_cv(args, table)
                model = searched.estimator_
            else:
                model.fit(table.X, table.y, sample_weight=table.weights, **fit_options)
        finally:
            if bar is not None:
                bar.close()
                model.set_params(callback=None)
    seconds = time.perf_counter() - start
    warned = show_warnings(caught, err, table.feature_names)
    model.feature_names_in_ = np.asarray(table.feature_names, dtype=object)
    metrics = training_metrics(table.y, model_predict(model, table.X), table.weights)
    model.metadata_ = {
        "target_name": table.target_names[0] if len(table.target_names) == 1 else table.target_names,
        **({"weight_name": table.weight_name} if table.weight_name is not None else {}),
        "objective": objective_text(model),
        "training_metrics": metrics,
        "data_file": Path(table.path).name,
        **({"cv_path": cv_path(searched)} if cross_validate else {}),
    }
    if args.output is not None:
        from ..persistence import save
        try:
            save(model, args.output)
        except OSError as exc:
            raise CommandError(str(exc)) from None
    report = {
        "model_file": args.output,
        "data_file": table.path,
        "n_rows": int(table.X.shape[0]),
        "n_features": int(table.X.shape[1]),
        "target": model.metadata_["target_name"],
        "weight": table.weight_name,
        "solver": model.solver_,
        "solver_reason": solver_reason(model),
        "n_iter": int(model.n_iter_),
        "stop_reason": getattr(model, "stop_reason_", None),
        "final_loss": jsonable(model.loss_history_[-1]),
        "condition_number": jsonable(model.condition_number_),
        "seconds": round(seconds, 6),
        "training_metrics": jsonable(metrics),
        **coefficients_json(model, table.feature_names),
        "warnings": read_warned + warned,
    }
    if args.json:
        dump_json(report, out)
    elif not args.quiet:
        how = "closed form" if model.solver_ in CLOSED_FORMS else f"{model.n_iter_} iterations"
        weighted = "" if table.weight_name is None else f", weighted by {table.weight_name!r}"
        out.write(f"fitted {table.X.shape[0]} rows × {table.X.shape[1]} features of {table.path}, "
                  f"target {report['target']!r}{weighted}\n")
        out.write(f"solver {model.solver_} ({how}) in {seconds:.3g} s; training R² "
                  f"{metrics['r2']:.6g}, RMSE {metrics['rmse']:.6g}, MAE {metrics['mae']:.6g}\n")
        out.write(f"why {model.solver_}: {report['solver_reason']}\n")
        out.write(stop_line(model))
        if cross_validate:
            out.write(f"alpha {model.alpha:g} chosen by {args.cv}-fold cross-validation (min "
                      f"{searched.alpha_min_:g}, one-standard-error {searched.alpha_1se_:g})\n")
        out.write("coefficients (original units):\n")
        print_coefficients(model, table.feature_names, out)
        out.write(f"saved {args.output}\n" if args.output is not None
                  else "not saved (give -o MODEL.json to save the model)\n")
    return OK
