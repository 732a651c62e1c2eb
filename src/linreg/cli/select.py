"""``linreg select``: feature selection by AIC, BIC or adjusted R² from the data's sufficient
statistics (:class:`linreg.selection.StepwiseSelector`); prints the path and the chosen
columns, and with ``-o`` saves the model fitted on them.  With ``--formula`` (or text
columns, ``--missing drop``, ``--chunk-rows``) the file is read as a source in blocks and,
for a table, whole terms are selected; the chosen model's formula is printed too.  An
svmlight file's features (x1 … xd) are chosen from its sparse blocks, without ``-o``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..validation import most_columns
from .describe import objective_text, training_metrics
from .errors import OK, CommandError
from .fit_data import fit_on, read_fit_data, training_score
from .output import dump_json, jsonable
from .svmlight_files import fit_words

__all__ = ["cmd_select"]


def path_lines(selector, names) -> list[str]:
    label = {"aic": "AIC", "bic": "BIC", "adjr2": "adjusted R²"}[selector.criterion]
    lines = []
    for step in selector.path_:
        if selector.direction == "exhaustive":
            size, cols, value = step
            what = f"best of {size}: " + (", ".join(names[c] for c in cols) or "(intercept only)")
        else:
            action, col, value = step
            start = [names[c] if isinstance(c, (int, np.integer)) else c
                     for c in selector.start or []]
            what = "start: " + (", ".join(start) or "(intercept only)") \
                if action == "start" else f"{action} {names[col]}"
        lines.append(f"  {what:<50} {label} {value:.10g}")
    return lines


def _select(args, data):
    """The fitted selector and the names its path uses (columns, or a table's terms)."""
    from ..selection import StepwiseSelector
    selector = StepwiseSelector(criterion=args.criterion, direction=args.direction,
                                formula=args.formula, missing=args.missing or "error")
    if data.table is not None and len(data.table.target_names) != 1:
        raise CommandError(f"select takes one --target, got {len(data.table.target_names)}")
    try:
        fit_on(selector, data, one_target=True)
    except ValueError as exc:
        raise CommandError(f"{data.path}: {exc}") from None
    if hasattr(selector, "formula_"):
        return selector, list(selector.result_.feature_names)
    return selector, data.feature_names


def _model(args, data, selector, chosen):
    """The model fitted on the chosen columns or terms, with the metadata a model file
    records."""
    from ..estimator import LinearRegression
    if not chosen:
        raise CommandError(f"the {args.criterion} chooses no column (the intercept alone): no "
                           "model to save")
    n_dropped = 0
    if data.table is not None:
        table = data.table
        y = np.ravel(table.y)
        model = LinearRegression(solver="normal").fit(table.X[:, selector.selected_], y,
                                                      sample_weight=table.weights)
        model.feature_names_in_ = np.asarray(chosen, dtype=object)
        metrics = training_metrics(y, model.predict(table.X[:, selector.selected_]),
                                   table.weights)
    else:
        model = selector.model_
        metrics, n_dropped = training_score(model, data)
    targets = data.target_names
    model.metadata_ = {
        "target_name": targets[0],
        **({"weight_name": data.weight_name} if data.weight_name is not None else {}),
        "objective": objective_text(model),
        "training_metrics": metrics,
        "data_file": Path(data.path).name,
    }
    return model, n_dropped


def _check_svmlight(args, data) -> None:
    """What ``select`` does not do with an svmlight file: save a model of some of its
    features (it could not read the file back: the file's features are numbered, the model
    would have fewer), or search more candidates than a Gram of them holds."""
    from ..solvers.lsqr import GRAM_MAX_FEATURES
    from .errors import UsageError
    if args.output is not None:
        raise UsageError(f"-o: a model of the features chosen from the svmlight file "
                         f"{data.path} would not read svmlight files back (it has fewer "
                         "features than the file's numbering); fit the file with linreg fit "
                         "instead")
    d = data.source.n_features
    if d > GRAM_MAX_FEATURES:
        raise CommandError(f"{data.path} has {d} features: selection works from the "
                           f"statistics of every pair of them, for at most {GRAM_MAX_FEATURES} "
                           "features")


def cmd_select(args, out, err) -> int:
    from ..persistence import save

    data = read_fit_data(args, most_columns())
    if data.svmlight:
        _check_svmlight(args, data)
    with fit_words(data):
        selector, names = _select(args, data)
    terms = hasattr(selector, "formula_")
    chosen = [names[j] for j in selector.selected_]
    if args.output is not None:
        model, _ = _model(args, data, selector, chosen)
        try:
            save(model, args.output)
        except OSError as exc:
            raise CommandError(str(exc)) from None
    target = data.target_names[0]
    if args.json:
        dump_json({"criterion": args.criterion, "direction": args.direction, "selected": chosen,
                   **({"formula": selector.formula_, "n_dropped": selector.n_dropped_}
                      if terms else {}),
                   "value": jsonable(selector.criterion_value_),
                   "path": [[a, names[c] if isinstance(c, (int, np.integer)) else
                             (None if c is None else [names[i] for i in c]), jsonable(v)]
                            for a, c, v in selector.path_],
                   "model_file": args.output}, out)
    elif not args.quiet:
        what = f"{len(names)} terms" if terms else f"{len(names)} columns"
        out.write(f"{args.direction} selection by {args.criterion} over {what} of "
                  f"{data.path}, target {target!r}:\n")
        if terms and selector.n_dropped_:
            out.write(f"({selector.n_dropped_} rows with a missing value left out of every "
                      "model)\n")
        out.write("\n".join(path_lines(selector, names)) + "\n")
        out.write("selected: " + (", ".join(chosen) or "(intercept only)") + "\n")
        if terms:
            out.write(f"formula: {selector.formula_}\n")
        if args.output is not None:
            out.write(f"saved {args.output}\n")
    return OK
