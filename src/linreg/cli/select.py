"""``linreg select``: feature selection by AIC, BIC or adjusted R² from the data's sufficient
statistics (:class:`linreg.selection.StepwiseSelector`); prints the path and the chosen
columns, and with ``-o`` saves the model fitted on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import read_table
from ..validation import most_columns
from .describe import objective_text, training_metrics
from .errors import OK, CommandError
from .output import dump_json, jsonable
from .reading import split_names

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
            what = "start: " + (", ".join(names[c] for c in selector.start or []) or "(intercept only)") \
                if action == "start" else f"{action} {names[col]}"
        lines.append(f"  {what:<50} {label} {value:.10g}")
    return lines


def cmd_select(args, out, err) -> int:
    from ..estimator import LinearRegression
    from ..persistence import save
    from ..selection import StepwiseSelector

    table = read_table(args.data, target=split_names(args.target), features=split_names(args.features),
                       drop=split_names(args.drop), need_target=True, max_columns=most_columns(),
                       weight=args.weight)
    if len(table.target_names) != 1:
        raise CommandError(f"select takes one --target, got {len(table.target_names)}")
    names = list(table.feature_names)
    y = np.ravel(table.y)
    selector = StepwiseSelector(criterion=args.criterion, direction=args.direction)
    try:
        selector.fit(table.X, y, sample_weight=table.weights)
    except ValueError as exc:
        raise CommandError(f"{table.path}: {exc}") from None
    chosen = [names[j] for j in selector.selected_]
    if args.output is not None:
        if not chosen:
            raise CommandError(f"the {args.criterion} chooses no column (the intercept alone): no model "
                               "to save")
        model = LinearRegression(solver="normal").fit(table.X[:, selector.selected_], y,
                                                      sample_weight=table.weights)
        model.feature_names_in_ = np.asarray(chosen, dtype=object)
        model.metadata_ = {
            "target_name": table.target_names[0],
            **({"weight_name": table.weight_name} if table.weight_name is not None else {}),
            "objective": objective_text(model),
            "training_metrics": training_metrics(y, model.predict(table.X[:, selector.selected_]),
                                                 table.weights),
            "data_file": Path(table.path).name,
        }
        try:
            save(model, args.output)
        except OSError as exc:
            raise CommandError(str(exc)) from None
    if args.json:
        dump_json({"criterion": args.criterion, "direction": args.direction, "selected": chosen,
                   "value": jsonable(selector.criterion_value_),
                   "path": [[a, names[c] if isinstance(c, (int, np.integer)) else
                             (None if c is None else [names[i] for i in c]), jsonable(v)]
                            for a, c, v in selector.path_],
                   "model_file": args.output}, out)
    elif not args.quiet:
        out.write(f"{args.direction} selection by {args.criterion} over {len(names)} columns of "
                  f"{table.path}, target {table.target_names[0]!r}:\n")
        out.write("\n".join(path_lines(selector, names)) + "\n")
        out.write("selected: " + (", ".join(chosen) or "(intercept only)") + "\n")
        if args.output is not None:
            out.write(f"saved {args.output}\n")
    return OK
