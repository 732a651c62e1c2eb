"""``linreg summary``: describe a saved model and, given its data, print its inference table."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from .describe import CLOSED_FORMS, alpha_text, objective_text, stop_line
from .errors import OK, UsageError
from .output import coefficients_json, dump_json, jsonable, print_coefficients
from .reading import (check_width_for_model, load_model, model_features, model_weight, read_for_model,
                      source_for_model)
from .svmlight_files import (TARGET_NAME, cli_words, is_svmlight, model_numbering, model_source,
                             refuse_column_options)
from .tables import encoded_blocks, is_table_model, left_out_text, table_source
from ..penalized import PenalizedSummary
from .wording import cli_setting, message, show_warnings

__all__ = ["INFERENCE_FIELDS", "cmd_summary"]

#: the numbers of an inference result that ``--json`` reports
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
            data[name] = jsonable(getattr(result, name))
        except (AttributeError, ValueError):
            continue
    if hasattr(result, "conf_int"):
        data["conf_int"] = jsonable(np.asarray(result.conf_int()))
    return data


def cmd_summary(args, out, err) -> int:
    model = load_model(args.model, args.data)
    encoded = is_table_model(model)
    anova = getattr(args, "anova", None)
    if anova is not None and not (encoded and args.data):
        raise UsageError("--anova tests the terms of a model fitted on a table (text columns or "
                         "--formula), and needs its data: linreg summary MODEL DATA --anova"
                         if not encoded else "--anova needs the data: linreg summary MODEL "
                         "DATA --anova")
    names = list(model.coef_names_) if encoded else model_features(model)
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
        "params": jsonable(model.get_params()),
        "training_metrics": jsonable(meta.get("training_metrics")),
        **({"formula": model.encoding_.formula.text, "missing": model.missing,
            "n_dropped": int(model.n_dropped_), "columns": model_features(model),
            "coef_names": names} if encoded else {}),
        **coefficients_json(model, names),
    }
    description = {k: v for k, v in description.items() if v is not None}
    result, left_out = None, 0
    if args.data:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result, left_out = _summary_on(model, args)
        # (the columns were matched to the model's feature names when the file was read)
        show_warnings([w for w in caught if "valid feature names" not in str(w.message)], err)
    penalized = isinstance(result, PenalizedSummary)
    if args.json:
        if penalized:
            description["penalized_summary"] = {
                "param_names": result.param_names, "params": jsonable(result.params),
                "rsquared": jsonable(result.rsquared), "rmse": jsonable(result.rmse),
                "nobs": result.nobs, "objective": jsonable(result.objective),
                "not_shown": message(result.refusal)}
        elif result is not None:
            description["inference"] = _result_json(result)
            if encoded:
                description["inference"]["n_dropped"] = left_out
            if anova is not None:
                table = _anova(result, anova)
                description["anova"] = {"type": int(anova), "terms": list(table.index),
                                        **{c: jsonable(table[c].to_numpy())
                                           for c in table.columns}}
        dump_json(description, out)
        return OK
    if penalized:
        out.write(result.text(cli_setting))
        return OK
    if result is not None:
        out.write(str(result).rstrip("\n") + "\n")
        if left_out:
            out.write(left_out_text(left_out) + "\n")
        if anova is not None:
            out.write(f"\nAnalysis of variance (type {anova}"
                      + (", sums of squares added in the model's order" if anova == "1" else "")
                      + "):\n" + _anova(result, anova).to_string() + "\n")
        return OK
    out.write(f"{args.model}: LinearRegression, target {description.get('target', '(not recorded)')!r}"
              f" (saved by linreg {description.get('library_version', '?')})\n")
    out.write(f"objective: {description['objective']}\n")
    how = "closed form" if model.solver_ in CLOSED_FORMS else f"{model.n_iter_} iterations"
    out.write(f"solver {model.solver_} ({how}); alpha = {alpha_text(model)}, "
              f"standardize = {model.standardize}, fit_intercept = {model.fit_intercept}\n")
    out.write(stop_line(model))
    if encoded:
        out.write(f"formula: {model.encoding_.formula.text} (missing values: "
                  f"--missing {model.missing})\n")
    if meta.get("training_metrics"):
        m = meta["training_metrics"]
        out.write(f"training data ({meta.get('data_file', '?')}, n = {m.get('n')}): "
                  f"R² {_number(m.get('r2'))}, RMSE {_number(m.get('rmse'))}, "
                  f"MAE {_number(m.get('mae'))}\n")
    if encoded and model.n_dropped_:
        out.write(f"  {left_out_text(int(model.n_dropped_))}\n")
    out.write("coefficients (original units):\n")
    print_coefficients(model, names, out, largest="svmlight" in meta)
    from ..penalty import is_penalized
    from ..solvers.lsqr import GRAM_MAX_FEATURES
    if is_penalized(model.alpha):
        out.write("(a penalized fit: no OLS standard errors or p-values; R² and RMSE on the "
                  "training data above)\n")
    elif model.n_features_in_ > GRAM_MAX_FEATURES and getattr(model, "stats_", None) is None:
        out.write(f"(no standard errors or p-values: their covariance would be a "
                  f"{model.n_features_in_} × {model.n_features_in_} matrix, more than the "
                  f"{GRAM_MAX_FEATURES} features it is computed for)\n")
    else:
        out.write("(standard errors, p-values and intervals need the data: "
                  "linreg summary MODEL DATA)\n")
    return OK


def _summary_on(model, args) -> tuple:
    """``(summary, n_left_out)`` of the model on DATA: read whole, or (a model fitted on a
    table, or ``--chunk-rows``, or an svmlight file) as a source, in blocks."""
    if is_svmlight(args.data):
        refuse_column_options(args, args.data)
        source = model_source(model, args)
        with cli_words(args.model, int(model.n_features_in_), model_numbering(model, args)):
            return model.summary(cov_type=args.cov_type, X=source,
                                 target_names=[TARGET_NAME]), 0
    if is_table_model(model):
        source, names = table_source(model, args, need_target=True, weight=model_weight(model, args))
        left_out = 0
        if model.missing == "drop":     # what the summary's rows leave out, counted
            left_out = sum(ev.n_dropped for _, ev in
                           encoded_blocks(model, source, names, with_targets=True))
        return model.summary(cov_type=args.cov_type, X=source), left_out
    if args.chunk_rows is not None:
        source = source_for_model(model, args, need_target=True, weighted=True,
                                  chunk_rows=args.chunk_rows)
        check_width_for_model(model, args, source.n_features)
        return model.summary(cov_type=args.cov_type, X=source,
                             target_names=list(source.target_names)), 0
    table = read_for_model(model, args, need_target=True, weighted=True)
    return model.summary(cov_type=args.cov_type, X=table.X, y=table.y,
                         sample_weight=table.weights, target_names=table.target_names), 0


def _anova(result, typ: str):
    """The ANOVA table of a summary (its terms' sums of squares, F and p)."""
    from .errors import CommandError
    try:
        return result.anova(typ=int(typ))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _number(x) -> str:
    return "n/a" if x is None else f"{x:.6g}"
