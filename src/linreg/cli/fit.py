"""``linreg fit``: read a data file, fit, report and (with ``-o``) save the model (with a progress bar for the
iterative solvers)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from ..solvers import ITERATIVE_SOLVERS
from ..validation import most_columns as _most_columns
from .crossval import check_cv_options, cv_path, fit_cv
from .describe import CLOSED_FORMS, objective_text, solver_reason, stop_line, training_metrics
from .errors import OK, CommandError, UsageError
from .fit_data import check_source_fit, read_fit_data, table_options, training_score
from .output import coefficients_json, dump_json, jsonable, print_coefficients
from .reading import model_features, model_predict
from .svmlight_files import fit_words
from .tables import check_text_columns, is_table_model, left_out_text
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
    LinearRegression(**params).check_params()  # a bad option fails before a long read, not after
    with warnings.catch_warnings(record=True) as reading:
        warnings.simplefilter("always")
        data = read_fit_data(args, _most_columns())
    read_warned = show_warnings(reading, err)
    if data.source is not None:
        table_options(args, data, params)
        check_source_fit(args, data)
    model = LinearRegression(**params)
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
    table = data.table
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught, fit_words(data):
        warnings.simplefilter("always")
        try:
            if cross_validate:
                searched = fit_cv(args, data, params)
                model = searched.estimator_
            elif table is not None:
                model.fit(table.X, table.y, sample_weight=table.weights, **fit_options)
            else:
                _fit_source(model, data, fit_options)
        finally:
            if bar is not None:
                bar.close()
                model.set_params(callback=None)
    seconds = time.perf_counter() - start
    encoded = is_table_model(model)
    if encoded and data.formula is None:
        check_text_columns(model, data.source)
    names = list(model.coef_names_) if encoded else data.feature_names
    if data.svmlight:       # x1 … xd: the model file records them (a source has no names)
        model.feature_names_in_ = np.asarray(names, dtype=object)
    warned = show_warnings(caught, err, names)
    n_dropped = 0
    if table is not None:
        model.feature_names_in_ = np.asarray(table.feature_names, dtype=object)
        metrics = training_metrics(table.y, model_predict(model, table.X), table.weights)
    else:
        metrics, n_dropped = training_score(model, data)
    targets = data.target_names
    model.metadata_ = {
        "target_name": targets[0] if len(targets) == 1 else targets,
        **({"weight_name": data.weight_name} if data.weight_name is not None else {}),
        "objective": objective_text(model),
        "training_metrics": metrics,
        "data_file": Path(data.path).name,
        **({"cv_path": cv_path(searched)} if cross_validate else {}),
        **data.metadata,
    }
    if args.output is not None:
        from ..persistence import save
        try:
            save(model, args.output)
        except OSError as exc:
            raise CommandError(str(exc)) from None
    report = {
        "model_file": args.output,
        "data_file": data.path,
        "n_rows": int(metrics["n"]),
        "n_features": len(names),
        "target": model.metadata_["target_name"],
        "weight": data.weight_name,
        **({"formula": model.encoding_.formula.text, "missing": model.missing,
            "n_dropped": n_dropped, "columns": model_features(model)} if encoded else {}),
        "solver": model.solver_,
        "solver_reason": solver_reason(model),
        "n_iter": int(model.n_iter_),
        "stop_reason": getattr(model, "stop_reason_", None),
        "final_loss": jsonable(model.loss_history_[-1]),
        "condition_number": jsonable(model.condition_number_),
        "seconds": round(seconds, 6),
        "training_metrics": jsonable(metrics),
        **({"coef_names": names} if encoded else {}),
        **coefficients_json(model, names),
        "warnings": read_warned + warned,
    }
    if args.json:
        dump_json(report, out)
    elif not args.quiet:
        how = "closed form" if model.solver_ in CLOSED_FORMS else f"{model.n_iter_} iterations"
        weighted = "" if data.weight_name is None else f", weighted by {data.weight_name!r}"
        out.write(f"fitted {metrics['n']} rows × {len(names)} features of {data.path}, "
                  f"target {report['target']!r}{weighted}\n")
        if n_dropped:
            out.write(left_out_text(n_dropped) + "\n")
        if encoded:
            out.write(f"formula: {report['formula']}\n")
        out.write(f"solver {model.solver_} ({how}) in {seconds:.3g} s; training R² "
                  f"{metrics['r2']:.6g}, RMSE {metrics['rmse']:.6g}, MAE {metrics['mae']:.6g}\n")
        out.write(f"why {model.solver_}: {report['solver_reason']}\n")
        out.write(stop_line(model))
        if cross_validate:
            out.write(f"alpha {model.alpha:g} chosen by {args.cv}-fold cross-validation (min "
                      f"{searched.alpha_min_:g}, one-standard-error {searched.alpha_1se_:g})\n")
        out.write("coefficients (original units):\n")
        print_coefficients(model, names, out, largest=data.svmlight)
        out.write(f"saved {args.output}\n" if args.output is not None
                  else "not saved (give -o MODEL.json to save the model)\n")
    return OK


def _fit_source(model, data, fit_options) -> None:
    """Fit ``data.source``; a formula the data cannot use is a usage error of --formula."""
    from ..tables.expressions import FormulaError
    try:
        model.fit(data.source, **fit_options)
    except FormulaError as exc:
        if data.formula is None:
            raise
        raise UsageError(f"--formula: {exc}") from None
