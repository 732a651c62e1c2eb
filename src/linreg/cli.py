"""The command-line tool (thin: parses, calls the library, prints).

::

    linreg fit data.csv --target price [--features a,b,c | --drop id] [--weight w] \
        [--solver ...] -o model.json
    linreg predict model.json new.csv -o predictions.csv [--interval prediction]
    linreg evaluate model.json test.csv [--weight w]
    linreg summary model.json [data.csv] [--weight w]
    linreg plot model.json [data.csv] -o fit.png
    linreg demo

Data files are read by :func:`linreg.io.read_table`, model files by :func:`linreg.load`.
Every command is a function ``cmd_<name>(args, out, err) -> int``; :func:`main` parses, runs it and
turns every expected failure (a bad file, column, value or model file) into one line on
standard error and exit status 1 — the traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

from .io import CSV_SUFFIXES, PARQUET_SUFFIXES, Table, read_table
from .solvers import ITERATIVE_SOLVERS, SOLVER_NAMES
from .sources.arrow import need_pyarrow
from .validation import most_columns as _most_columns
from .validation import name_list

__all__ = ["main", "build_parser", "CommandError"]

#: exit statuses
OK, FAILED, USAGE, INTERNAL = 0, 1, 2, 3

#: most coefficients a human-readable report lists before it says how many more there are
MAX_LISTED = 25


class CommandError(Exception):
    """A failure the user can fix (bad file, column or option): reported as one line."""


# ---------------------------------------------------------------------------------- reading
def _split_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",")]
    if any(not n for n in names):
        raise CommandError(f"the column list {text!r} has an empty name")
    return names


# ---------------------------------------------------------------------------------- writing
def _write_output(path: str, data: bytes) -> None:
    from .fileio import atomic_write_bytes

    target = Path(path)
    if not target.parent.exists():
        raise CommandError(f"cannot write {path}: the folder {str(target.parent)!r} does not exist")
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}; any previous file there "
                           "is unchanged") from None


def _table_bytes(columns: dict[str, np.ndarray], path: str | None) -> bytes:
    """Predictions as CSV (floats written with round-trip precision), Parquet or .npy."""
    suffix = Path(path).suffix.lower() if path else ".csv"
    if suffix in PARQUET_SUFFIXES:
        need_pyarrow("Parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq
        buf = io.BytesIO()
        pq.write_table(pa.table({k: np.asarray(v) for k, v in columns.items()}), buf)
        return buf.getvalue()
    if suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, np.column_stack(list(columns.values())), allow_pickle=False)
        return buf.getvalue()
    # floats are written so that reading the file back gives exactly the same numbers:
    # pyarrow writes the shortest such text; without it, 17 significant digits
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        M = np.column_stack([np.asarray(v, dtype=np.float64) for v in columns.values()])
        buf = io.StringIO()
        buf.write(",".join(columns) + "\n")
        np.savetxt(buf, M, delimiter=",", fmt="%.17g")
        return buf.getvalue().encode("utf-8")
    out = io.BytesIO()
    pcsv.write_csv(pa.table({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}), out)
    return out.getvalue()


# ---------------------------------------------------------------------------------- model helpers
def _load_model(path: str):
    from .estimator import load

    if not Path(path).exists():
        raise CommandError(f"{path}: no such model file")
    return load(path)


def _model_features(model) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _model_targets(model) -> list[str] | None:
    meta = getattr(model, "metadata_", None) or {}
    return name_list(meta.get("target_name"))


def _model_weight(model, args) -> str | None:
    """The sample-weight column: ``--weight``, else the one the model was fitted with."""
    given = getattr(args, "weight", None)
    if given is not None:
        return given
    return (getattr(model, "metadata_", None) or {}).get("weight_name")


def _read_for_model(model, args, need_target=False, weighted=False) -> Table:
    """Read the columns ``model`` was fitted on (by name) and, if wanted, its target and (with
    ``weighted``) its sample weights.  A model without feature names (fitted from Python on
    plain arrays) takes the file's columns in order, less the target, weights and ``--drop``."""
    features = _model_features(model)
    target = _split_names(getattr(args, "target", None)) or _model_targets(model)
    if need_target and not target:
        raise CommandError("the model file does not record its target column: give --target")
    drop = _split_names(args.drop)
    if features is not None and drop is not None:
        drop = None  # the model names its columns: nothing else is read anyway
    table = read_table(args.data, target=target if need_target else None, features=features,
                       drop=drop, need_target=need_target,
                       features_role="a feature the model needs",
                       weight=_model_weight(model, args) if weighted else None)
    if table.X.shape[1] != model.n_features_in_:
        raise CommandError(f"{args.data} gives {table.X.shape[1]} feature columns but the model "
                           f"was fitted on {model.n_features_in_} (leave columns out with --drop)")
    return table


def _predict(model, X, **kwargs):
    with warnings.catch_warnings():
        # the model's feature names are matched by name when the file is read
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.predict(X, **kwargs)


def training_metrics(y, y_pred, sample_weight=None) -> dict:
    """R², RMSE and MAE (scikit-learn's definitions, weighted by ``sample_weight`` when given;
    averaged over targets) and n."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
    n = int(np.shape(y)[0])
    w = {"sample_weight": sample_weight}
    return {
        "n": n,
        "r2": float(r2_score(y, y_pred, **w)) if n > 1 else float("nan"),
        "rmse": float(root_mean_squared_error(y, y_pred, **w)),
        "mae": float(mean_absolute_error(y, y_pred, **w)),
    }


def objective_text(model) -> str:
    """The objective the model minimised, in words a reader of the model file can check."""
    alpha = np.asarray(model.alpha, dtype=np.float64)
    text = "J(w, b) = 1/(2n) Σ (x_iᵀw + b − y_i)²"
    if np.any(alpha > 0):
        where = "standardized" if model.standardize else "original-unit"
        text += (f" + ({float(alpha):g}/2)‖w‖²" if alpha.ndim == 0 else
                 f" + (alpha_j/2)‖w_j‖² for target j, alpha = {_alpha_text(model)},")
        text += f" on the {where} coefficients"
    if getattr(model, "positive", False):
        text += ", subject to w ≥ 0"
    if not model.fit_intercept:
        text += ", without intercept"
    return text


def _alpha_text(model) -> str:
    """``alpha`` as the model has it: a number, or one per target."""
    alpha = np.asarray(model.alpha, dtype=np.float64)
    return f"{float(alpha):g}" if alpha.ndim == 0 else "[" + ", ".join(f"{a:g}" for a in alpha) + "]"


def _number(x) -> str:
    return "n/a" if x is None else f"{x:.6g}"


def _dump_json(obj, out) -> None:
    """Strict JSON (no NaN/Infinity: they become null) on ``out``."""
    out.write(json.dumps(_jsonable(obj), indent=1, allow_nan=False) + "\n")


def _jsonable(x):
    """numpy values and arrays as plain JSON values (non-finite floats as null)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if x is None or isinstance(x, (str, int, bool)):
        return x
    if hasattr(x, "tolist"):  # e.g. a pandas Series
        return _jsonable(x.tolist())
    return str(x)


def _coefficient_rows(model, names) -> list[tuple[str, str]]:
    coef = np.asarray(model.coef_)
    intercept = np.atleast_1d(model.intercept_)
    names = names or [f"x{j}" for j in range(coef.shape[-1])]
    if coef.ndim == 1:
        rows = [(n, f"{c:.10g}") for n, c in zip(names, coef)]
        rows.append(("intercept", f"{intercept[0]:.10g}"))
    else:
        rows = [(n, "  ".join(f"{c:16.10g}" for c in coef[:, j])) for j, n in enumerate(names)]
        rows.append(("intercept", "  ".join(f"{c:16.10g}" for c in intercept)))
    return rows


def _print_coefficients(model, names, out) -> None:
    rows = _coefficient_rows(model, names)
    width = max(len(r[0]) for r in rows)
    shown = rows[:MAX_LISTED] + ([rows[-1]] if len(rows) > MAX_LISTED else [])
    for name, value in shown[:-1]:
        out.write(f"  {name:<{width}}  {value}\n")
    if len(rows) > MAX_LISTED:
        out.write(f"  … {len(rows) - MAX_LISTED} more (see --json)\n")
    out.write(f"  {shown[-1][0]:<{width}}  {shown[-1][1]}\n")


def _coefficients_json(model, names) -> dict:
    coef = np.asarray(model.coef_)
    names = names or [f"x{j}" for j in range(coef.shape[-1])]
    if coef.ndim == 1:
        return {"coef": dict(zip(names, _jsonable(coef))), "intercept": _jsonable(model.intercept_)}
    return {"coef": {n: _jsonable(coef[:, j]) for j, n in enumerate(names)},
            "intercept": _jsonable(model.intercept_)}


# ---------------------------------------------------------------------------------- commands
CLOSED_FORMS = ("normal", "qr")

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


#: how the command line sets an estimator parameter, for messages that name one (a warning's
#: advice, an error): an option taking the value, or a switch for one value.  Messages keep
#: their parameter settings apart (linreg.exceptions.ParameterWording), and this is the one
#: place they are worded for the command line.
PARAMETER_OPTIONS = {"solver": "--solver", "optimizer": "--optimizer", "alpha": "--alpha",
                     "learning_rate": "--learning-rate", "batch_size": "--batch-size",
                     "max_iter": "--max-iter", "tol": "--tol", "schedule": "--schedule",
                     "validation_fraction": "--validation-fraction", "random_state": "--seed"}
PARAMETER_SWITCHES = {("standardize", True): "leaving out --no-standardize",
                      ("standardize", False): "--no-standardize",
                      ("fit_intercept", True): "leaving out --no-intercept",
                      ("fit_intercept", False): "--no-intercept",
                      ("early_stopping", True): "--early-stopping",
                      ("early_stopping", False): "leaving out --early-stopping"}


def cli_setting(name: str, value) -> str:
    """A parameter setting as the command line spells it: ``--max-iter 3000``,
    ``--solver auto``, ``leaving out --no-standardize``; a parameter the command line does
    not set keeps its Python spelling."""
    from .exceptions import python_setting
    if isinstance(value, (bool, np.bool_)) and (name, bool(value)) in PARAMETER_SWITCHES:
        return PARAMETER_SWITCHES[(name, bool(value))]
    if name in PARAMETER_OPTIONS:
        shown = format(value, "g") if isinstance(value, float) else str(value)
        return f"{PARAMETER_OPTIONS[name]} {shown}"
    return python_setting(name, value)


def _message(item) -> str:
    """A warning's or an error's text, its parameter settings worded for the command line."""
    from .exceptions import ParameterWording
    return item.worded(cli_setting) if isinstance(item, ParameterWording) else str(item)


def _learning_rate(text: str):
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'auto' or a number") from None


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


def _column_label(match, names) -> str:
    j = int(match.group(1))
    return f"column {j} ({names[j]!r})" if j < len(names) else match.group(0)


def _warning_texts(caught, feature_names=None) -> list[str]:
    """Each distinct warning as one line; ``column j`` named when the names are known."""
    texts = []
    for w in caught:
        text = " ".join(_message(w.message).split())
        if feature_names:
            text = re.sub(r"\bcolumn (\d+)\b(?! \()", lambda m: _column_label(m, feature_names), text)
        if text not in texts:
            texts.append(text)
    return texts


def _show_warnings(caught, err, feature_names=None) -> list[str]:
    texts = _warning_texts(caught, feature_names)
    for text in texts:
        err.write(f"linreg: warning: {text}\n")
    return texts


def _stop_line(model) -> str:
    """How an iterative fit stopped, in words, as a line (empty for a closed form, or a model
    file that did not record it)."""
    from .stopping import describe_stop
    words = describe_stop(getattr(model, "stop_reason_", None))
    return "" if model.solver_ in CLOSED_FORMS or words is None else f"stopped: {words}\n"


def cmd_fit(args, out, err) -> int:
    from .estimator import LinearRegression
    from .progress import ProgressBar

    params = _estimator_params(args)
    model = LinearRegression(**params)
    model.check_params()  # a bad option fails before a long read, not after
    table = read_table(args.data, target=_split_names(args.target),
                       features=_split_names(args.features), drop=_split_names(args.drop),
                       need_target=True, max_columns=_most_columns(), weight=args.weight)
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
            model.fit(table.X, table.y, sample_weight=table.weights, **fit_options)
        finally:
            if bar is not None:
                bar.close()
                model.set_params(callback=None)
    seconds = time.perf_counter() - start
    warned = _show_warnings(caught, err, table.feature_names)
    model.feature_names_in_ = np.asarray(table.feature_names, dtype=object)
    metrics = training_metrics(table.y, _predict(model, table.X), table.weights)
    model.metadata_ = {
        "target_name": table.target_names[0] if len(table.target_names) == 1 else table.target_names,
        **({"weight_name": table.weight_name} if table.weight_name is not None else {}),
        "objective": objective_text(model),
        "training_metrics": metrics,
        "data_file": Path(table.path).name,
    }
    from .persistence import save
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
        "n_iter": int(model.n_iter_),
        "stop_reason": getattr(model, "stop_reason_", None),
        "final_loss": _jsonable(model.loss_history_[-1]),
        "condition_number": _jsonable(model.condition_number_),
        "seconds": round(seconds, 6),
        "training_metrics": _jsonable(metrics),
        **_coefficients_json(model, table.feature_names),
        "warnings": warned,
    }
    if args.json:
        _dump_json(report, out)
    elif not args.quiet:
        how = "closed form" if model.solver_ in CLOSED_FORMS else f"{model.n_iter_} iterations"
        weighted = "" if table.weight_name is None else f", weighted by {table.weight_name!r}"
        out.write(f"fitted {table.X.shape[0]} rows × {table.X.shape[1]} features of {table.path}, "
                  f"target {report['target']!r}{weighted}\n")
        out.write(f"solver {model.solver_} ({how}) in {seconds:.3g} s; training R² "
                  f"{metrics['r2']:.6g}, RMSE {metrics['rmse']:.6g}, MAE {metrics['mae']:.6g}\n")
        out.write(_stop_line(model))
        out.write("coefficients (original units):\n")
        _print_coefficients(model, table.feature_names, out)
        out.write(f"saved {args.output}\n")
    return OK


def cmd_predict(args, out, err) -> int:
    model = _load_model(args.model)
    table = _read_for_model(model, args, need_target=False)
    single = np.ndim(model.coef_) == 1
    targets = _model_targets(model)
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
            y_hat, lower, upper = _predict(model, table.X, interval=args.interval, level=args.level)
        _show_warnings(caught, err)
        columns = {}
        for j, name in enumerate(names):
            pick = (lambda a: a) if single else (lambda a, j=j: np.asarray(a)[:, j])
            columns[name] = pick(y_hat)
            columns["lower" if single else f"lower_{targets[j]}"] = pick(lower)
            columns["upper" if single else f"upper_{targets[j]}"] = pick(upper)
    else:
        y_hat = _predict(model, table.X)
        columns = {name: (y_hat if single else y_hat[:, j]) for j, name in enumerate(names)}
    data = _table_bytes(columns, args.output)
    if args.output:
        _write_output(args.output, data)
        if not args.quiet:
            err.write(f"wrote {table.X.shape[0]} predictions to {args.output}\n")
    else:
        out.write(data.decode("utf-8"))
    return OK


def cmd_evaluate(args, out, err) -> int:
    model = _load_model(args.model)
    table = _read_for_model(model, args, need_target=True, weighted=True)
    y_pred = _predict(model, table.X)
    if np.ndim(table.y) != np.ndim(y_pred):
        raise CommandError(f"the model predicts {np.shape(y_pred)[1:] or 1} target(s) but "
                           f"{len(table.target_names)} target column(s) were read")
    metrics = training_metrics(table.y, y_pred, table.weights)
    if args.json:
        _dump_json({"data_file": table.path, "target": table.target_names,
                    "weight": table.weight_name, **_jsonable(metrics)}, out)
    else:
        weighted = "" if table.weight_name is None else f", weighted by {table.weight_name}"
        out.write(f"{table.path}: n = {metrics['n']}, target {', '.join(table.target_names)}"
                  f"{weighted}\n")
        out.write(f"  R²    {metrics['r2']:.6g}\n  RMSE  {metrics['rmse']:.6g}\n"
                  f"  MAE   {metrics['mae']:.6g}\n")
    return OK


INFERENCE_FIELDS = ("param_names", "params", "bse", "tvalues", "pvalues", "identified",
                    "rsquared", "rsquared_adj", "fvalue", "f_pvalue", "llf", "aic", "bic", "ssr",
                    "scale", "nobs", "df_resid", "df_model", "condition_number", "durbin_watson",
                    "jarque_bera", "jarque_bera_pvalue", "omnibus", "omnibus_pvalue", "skew",
                    "kurtosis", "cov_type", "target_name")


def _result_json(result):
    """The numbers of an inference result; a list of them for several targets."""
    if isinstance(result, tuple):
        return [_result_json(r) for r in result]
    data = {}
    for name in INFERENCE_FIELDS:
        try:
            data[name] = _jsonable(getattr(result, name))
        except (AttributeError, ValueError):
            continue
    if hasattr(result, "conf_int"):
        data["conf_int"] = _jsonable(np.asarray(result.conf_int()))
    return data


def cmd_summary(args, out, err) -> int:
    model = _load_model(args.model)
    names = _model_features(model)
    meta = getattr(model, "metadata_", None) or {}
    saved_by = json.loads(Path(args.model).read_text(encoding="utf-8")).get("library_version")
    description = {
        "model_file": args.model,
        "library_version": saved_by if isinstance(saved_by, str) else None,
        "target": meta.get("target_name"),
        "weight": meta.get("weight_name"),
        "objective": meta.get("objective", objective_text(model)),
        "solver": model.solver_,
        "n_iter": int(model.n_iter_),
        "stop_reason": getattr(model, "stop_reason_", None),
        "params": _jsonable(model.get_params()),
        "training_metrics": _jsonable(meta.get("training_metrics")),
        **_coefficients_json(model, names),
    }
    description = {k: v for k, v in description.items() if v is not None}
    result = None
    if args.data:
        table = _read_for_model(model, args, need_target=True, weighted=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = model.summary(cov_type=args.cov_type, X=table.X, y=table.y,
                                   sample_weight=table.weights, target_names=table.target_names)
        # (the columns were matched to the model's feature names when the file was read)
        _show_warnings([w for w in caught if "valid feature names" not in str(w.message)], err)
    if args.json:
        if result is not None:
            description["inference"] = _result_json(result)
        _dump_json(description, out)
        return OK
    if result is not None:
        out.write(str(result).rstrip("\n") + "\n")
        return OK
    out.write(f"{args.model}: LinearRegression, target {description.get('target', '(not recorded)')!r}"
              f" (saved by linreg {description.get('library_version', '?')})\n")
    out.write(f"objective: {description['objective']}\n")
    how = "closed form" if model.solver_ in CLOSED_FORMS else f"{model.n_iter_} iterations"
    out.write(f"solver {model.solver_} ({how}); alpha = {_alpha_text(model)}, "
              f"standardize = {model.standardize}, fit_intercept = {model.fit_intercept}\n")
    out.write(_stop_line(model))
    if meta.get("training_metrics"):
        m = meta["training_metrics"]
        out.write(f"training data ({meta.get('data_file', '?')}, n = {m.get('n')}): "
                  f"R² {_number(m.get('r2'))}, RMSE {_number(m.get('rmse'))}, "
                  f"MAE {_number(m.get('mae'))}\n")
    out.write("coefficients (original units):\n")
    _print_coefficients(model, names, out)
    out.write("(standard errors, p-values and intervals need the data: linreg summary MODEL DATA)\n")
    return OK


def cmd_plot(args, out, err) -> int:
    from . import plotting

    figure_class = plotting.require_matplotlib()
    model = _load_model(args.model)
    table = None
    if args.data:
        table = _read_for_model(model, args, need_target=True)
    fig = plotting.model_figure(model, None if table is None else table.X,
                                None if table is None else table.y, figure_class=figure_class,
                                target_name=", ".join(_model_targets(model) or []) or None)
    _save_figure(fig, args.output)
    if not args.quiet:
        err.write(f"wrote {args.output}\n")
    return OK


def _save_figure(fig, path: str) -> None:
    from . import plotting

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise CommandError(f"cannot write a plot as {path!r}: use .png, .svg or .pdf")
    buf = io.BytesIO()
    fig.savefig(buf, format=suffix, dpi=plotting.DPI)
    _write_output(path, buf.getvalue())


def cmd_demo(args, out, err) -> int:
    from .demo import load_diabetes, run_demo

    code = run_demo(out=out)
    if args.plot:
        from . import plotting
        from .estimator import LinearRegression

        figure_class = plotting.require_matplotlib()
        X, y, names, target = load_diabetes()
        model = LinearRegression(solver="gd", max_iter=500, tol=0.0).fit(X, y)
        fig = plotting.model_figure(model, X, y, figure_class=figure_class, target_name=target)
        _save_figure(fig, args.plot)
        out.write(f"\nwrote {args.plot}: gradient descent's loss curve (500 iterations) against "
                  "the closed-form optimum, predicted vs actual, residuals vs fitted\n")
    return code


# ---------------------------------------------------------------------------------- parsing
class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (plus a pointer to --help)."""

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _example(text: str) -> str:
    return "example:\n  " + text


def _add_model_columns(p: argparse.ArgumentParser) -> None:
    """--target and --drop for the commands that apply a saved model to a data file."""
    p.add_argument("--target", metavar="COLUMN",
                   help="the target column (default: the one the model was fitted on)")
    p.add_argument("--drop", metavar="A,B,…",
                   help="columns to leave out, for a model that does not record its feature names")


def _add_weight(p: argparse.ArgumentParser) -> None:
    """--weight for the commands whose numbers depend on the sample weights."""
    p.add_argument("--weight", metavar="COLUMN",
                   help="the sample-weight column (default: the one the model was fitted with)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no report (errors and warnings still shown)")
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    fmt = argparse.RawDescriptionHelpFormatter

    parser = _Parser(prog="linreg", formatter_class=fmt,
                     description="Linear regression from the shell: fit, inspect, plot and apply "
                                 "a model to CSV, Parquet, .npy or .npz files.",
                     epilog="examples:\n  linreg fit houses.csv --target price -o model.json\n"
                            "  linreg predict model.json new.csv -o predictions.csv\n"
                            "  linreg demo\n\nRun 'linreg COMMAND --help' for a command's options.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"linreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    columns_help = ("Columns are named as in the CSV header or the Parquet schema, by field in "
                    "a structured .npy, by array in a .npz, by index (0, 1, …) in a 2-D .npy")

    p = sub.add_parser("fit", parents=[common], formatter_class=fmt,
                       help="fit a model to a data file and save it",
                       description=textwrap.fill(
                           "Fit a linear regression to DATA and save the model as JSON "
                           "(coefficients, feature and target names, solver, objective, "
                           "training R²/RMSE/MAE, library version). " + columns_help + ".", 79),
                       epilog=_example("linreg fit houses.csv --target price --drop id -o model.json\n"
                                       "  linreg fit big.parquet --target y --solver gd "
                                       "--max-iter 500 -o model.json --json"))
    p.add_argument("data", help="CSV (with a header row), Parquet, .npy or .npz file")
    p.add_argument("--target", required=True, metavar="COLUMN",
                   help="the column to predict (COL1,COL2 for several targets)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--features", metavar="A,B,…", help="the feature columns (default: all others)")
    group.add_argument("--drop", metavar="A,B,…", help="columns to leave out of the features, e.g. an id")
    p.add_argument("--weight", metavar="COLUMN",
                   help="a column of sample weights (>= 0, not all zero; never a feature); "
                        "recorded in the model, so evaluate and summary use it too")
    p.add_argument("-o", "--output", required=True, metavar="MODEL.json",
                   help="where to save the model (replaced atomically)")
    p.add_argument("--solver", default="auto", choices=list(SOLVER_NAMES),
                   help="closed form (auto, normal, qr) or iterative (gd, sgd, minibatch); default auto")
    p.add_argument("--optimizer", metavar="NAME",
                   help="auto, plain, momentum, nesterov or adam (iterative solvers; default auto: "
                        "nesterov for gd with an automatic learning rate, else plain)")
    p.add_argument("--alpha", type=float, default=0.0, metavar="A",
                   help="L2 penalty (alpha/2)‖w‖²; default 0")
    p.add_argument("--learning-rate", type=_learning_rate, default="auto", metavar="ETA",
                   help="step size of the iterative solvers, or 'auto' (default: safe for the data)")
    p.add_argument("--batch-size", type=int, metavar="B", help="rows per update of minibatch")
    p.add_argument("--max-iter", type=int, default=1000, metavar="N",
                   help="most iterations (gd) or epochs (sgd, minibatch); default 1000")
    p.add_argument("--tol", type=float, default=1e-6, metavar="TOL",
                   help="stop when ‖∇J‖ ≤ TOL·‖∇J(start)‖; default 1e-6")
    p.add_argument("--schedule", metavar="NAME",
                   help="learning-rate schedule: constant, invscaling, exponential or plateau")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop when the validation loss stops improving; keep the best epoch")
    p.add_argument("--validation-fraction", type=float, metavar="F",
                   help="share of rows held out for the validation loss")
    p.add_argument("--no-standardize", action="store_true",
                   help="do not scale features inside the fit (changes what --alpha means)")
    p.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    p.add_argument("--seed", type=int, metavar="S", help="random seed of the shuffling (sgd, minibatch)")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="save the training state to FILE as it goes, and resume from it if it "
                        "exists (iterative solvers)")
    p.add_argument("--checkpoint-every", type=int, metavar="K",
                   help="epochs between two checkpoints")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=cmd_fit)

    p = sub.add_parser("predict", parents=[common], formatter_class=fmt,
                       help="apply a saved model to a data file",
                       description="Predict with MODEL for every row of DATA; the columns are "
                                   "matched by name.",
                       epilog=_example("linreg predict model.json new.csv -o predictions.csv "
                                       "--interval prediction"))
    p.add_argument("model", help="a model file written by 'linreg fit'")
    p.add_argument("data", help="CSV, Parquet, .npy or .npz file with the model's feature columns")
    p.add_argument("-o", "--output",
                   help="where to write the predictions (.csv, .parquet or .npy); default: stdout as CSV")
    p.add_argument("--drop", metavar="A,B,…",
                   help="columns to leave out, for a model that does not record its feature names")
    p.add_argument("--interval", choices=["confidence", "prediction"],
                   help="add lower and upper bounds of this interval")
    p.add_argument("--level", type=float, default=0.95, help="interval level; default 0.95")
    p.set_defaults(run=cmd_predict)

    p = sub.add_parser("evaluate", parents=[common], formatter_class=fmt,
                       help="R², RMSE, MAE and n of a model on a data file",
                       description="Score MODEL on DATA (which must hold the target column); "
                                   "weighted by the model's sample-weight column, if it has one.",
                       epilog=_example("linreg evaluate model.json test.csv --json"))
    p.add_argument("model")
    p.add_argument("data")
    _add_model_columns(p)
    _add_weight(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("summary", parents=[common], formatter_class=fmt,
                       help="the model, and with data its inference table",
                       description="Describe MODEL; given DATA, print the inference table "
                                   "(standard errors, t, p-values, intervals, R², F, AIC/BIC).",
                       epilog=_example("linreg summary model.json train.csv --cov-type HC3"))
    p.add_argument("model")
    p.add_argument("data", nargs="?")
    _add_model_columns(p)
    _add_weight(p)
    p.add_argument("--cov-type", default="nonrobust", choices=["nonrobust", "HC0", "HC1", "HC2", "HC3"],
                   help="covariance of the coefficients; default nonrobust")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(run=cmd_summary)

    p = sub.add_parser("plot", parents=[common], formatter_class=fmt,
                       help="loss curve, predicted vs actual, residuals vs fitted",
                       description="Draw MODEL's loss curve and, given DATA, predicted vs actual "
                                   "and residuals vs fitted, into one image.",
                       epilog=_example("linreg plot model.json test.csv -o fit.png"))
    p.add_argument("model")
    p.add_argument("data", nargs="?")
    _add_model_columns(p)
    p.add_argument("-o", "--output", required=True, help="the image to write (.png, .svg or .pdf)")
    p.set_defaults(run=cmd_plot)

    p = sub.add_parser("demo", parents=[common], formatter_class=fmt,
                       help="the bundled diabetes data, end to end",
                       description="Fit the bundled diabetes data with every batch solver and "
                                   "compare them.",
                       epilog=_example("linreg demo --plot diabetes.png"))
    p.add_argument("--plot", metavar="FILE",
                   help="also draw gradient descent's loss curve and the fit (.png, .svg, .pdf)")
    p.set_defaults(run=cmd_demo)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(_message(exc).split()) or type(exc).__name__


def main(argv=None, stdout=None, stderr=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else USAGE
    if args.command is None:
        parser.print_help(err)
        return USAGE
    from .exceptions import DivergenceError

    try:
        return args.run(args, out, err)
    except BrokenPipeError:
        # the reader of our output went away (e.g. `linreg predict ... | head`): stop quietly
        try:
            import os
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return FAILED
    except (CommandError, ValueError, DivergenceError, OSError, ImportError) as exc:
        if args.debug:
            raise
        err.write(f"linreg {args.command}: error: {_one_line(exc)}\n")
        return FAILED
    except MemoryError:
        if args.debug:
            raise
        err.write(f"linreg {args.command}: error: not enough memory for this data\n")
        return FAILED
    except KeyboardInterrupt:
        err.write(f"linreg {args.command}: interrupted\n")
        return 130
    except Exception as exc:  # a bug: say so in one line, the traceback with --debug
        if args.debug:
            raise
        err.write(f"linreg {args.command}: internal error ({type(exc).__name__}: {_one_line(exc)}); "
                  "run again with --debug for the traceback\n")
        return INTERNAL
