"""Tables on the command line: data files read as sources (text columns as categories, a
formula, missing values, blocks of ``--chunk-rows`` rows), what a model fitted on a table reads
back by name, and R², RMSE and MAE accumulated block by block."""

from __future__ import annotations

import math

import numpy as np

from .errors import CommandError

__all__ = ["NUMERIC_KINDS", "is_table_model", "open_source", "has_categories", "check_text_columns",
           "input_columns", "table_source", "check_weight_column", "encoded_blocks", "Metrics", "left_out_text"]

#: the kinds of column the numeric reader reads as numbers (``true``/``false`` as 1/0)
NUMERIC_KINDS = ("number", "bool")


def is_table_model(model) -> bool:
    """Whether ``model`` was fitted on a table through its encoding (a formula, categories,
    missing values): it reads its columns by name, text included."""
    return getattr(model, "encoding_", None) is not None


def open_source(path: str, args, chunk_rows=None, **columns):
    """``linreg.sources.from_file`` for the command's DATA: the separator of ``--sep``,
    blocks of ``chunk_rows`` rows (None: the whole file as one block); ``columns`` are
    ``target``, ``features``, ``drop``, ``weight`` and ``features_role``."""
    from ..sources import from_file
    target = columns.get("target")
    if isinstance(target, list) and len(target) == 1:
        columns["target"] = target[0]        # one target: y is 1-D, as read_table gives it
    return from_file(path, chunk_rows=chunk_rows, delimiter=getattr(args, "sep", None),
                     **columns)


def has_categories(source) -> bool:
    """Whether a source's features hold a column the numeric reader cannot read as numbers
    (text, categories): then it is fitted as a table.  (A target that is not numbers is
    reported by the numeric reader, with its line.)"""
    kinds = getattr(source, "column_kinds", None)
    if kinds is None:
        return False
    return any(k not in NUMERIC_KINDS for k in kinds(source.feature_names).values())


def _number_like(level) -> bool:
    if not isinstance(level, str):
        return False
    try:
        return math.isfinite(float(level))
    except ValueError:
        return False


def check_text_columns(model, source) -> None:
    """Refuse a text column whose values are partly numbers, in a fit without ``--formula``:
    a numeric column with a stray word in it (``five``, ``n/a``) is likelier than categories
    named by numbers.  The message names the first value that is not a number and its line,
    and how to use the values as categories all the same (``--formula``)."""
    kinds = source.column_kinds(source.feature_names)
    for name in [c for c, k in kinds.items() if k == "text"]:
        levels = model.encoding_.levels.get(name, [])
        if not any(_number_like(v) for v in levels):
            continue
        for block in source.table_blocks([name]):
            col = block.columns[name]
            bad = [i for i, v in enumerate(col.levels) if not _number_like(v)]
            rows = np.flatnonzero(np.isin(col.codes, bad))
            if rows.size:
                r = int(rows[0])
                raise CommandError(
                    f"column {name!r} mixes numbers and text: {col.levels[col.codes[r]]!r} at "
                    f"{block.locate(r)} is not a number; fix it if the column holds numbers, "
                    f"or give --formula to use its values as categories "
                    f"(e.g. --formula '{source.target_names[0]} ~ {name} + ...')")


def input_columns(encoding) -> list[str]:
    """The columns of the table that the model's terms read (its target(s) left out)."""
    from ..tables import expressions
    names = []
    for factor in encoding.factors:
        names += ([factor] if factor in encoding.formula.lookups
                  else expressions.columns_used(factor))
    return list(dict.fromkeys(names))


def _target_columns(encoding) -> list[str]:
    from ..tables import expressions
    names = []
    for target in encoding.formula.targets:
        names += ([target] if target in encoding.formula.lookups
                  else expressions.columns_used(target))
    return list(dict.fromkeys(names))


def table_source(model, args, need_target: bool, weight: str | None) -> tuple:
    """``(source, names)``: the source of DATA for a model fitted on a table, in blocks of
    ``--chunk-rows`` rows, and the columns to read from it — those its formula uses, named as
    the model names them (``--target`` may only repeat the model's target), and ``weight``,
    the sample-weight column (numbers)."""
    encoding = model.encoding_
    targets = list(encoding.formula.targets)
    given = getattr(args, "target", None)
    if given is not None and [t.strip() for t in given.split(",")] != targets:
        raise CommandError(f"this model's target is {', '.join(map(repr, targets))} (from its "
                           f"formula {encoding.formula.text!r}), read by name: --target cannot "
                           "name another column")
    features = input_columns(encoding)
    target_columns = _target_columns(encoding) if need_target else []
    plain = need_target and all(t in encoding.formula.lookups for t in targets)
    source = open_source(args.data, args, getattr(args, "chunk_rows", None),
                         target=targets if plain else None,
                         features=[c for c in features if c not in target_columns] or None,
                         weight=weight, features_role="a column the model uses")
    check_weight_column(source, args.data)
    names = target_columns + features + ([weight] if weight is not None else [])
    return source, list(dict.fromkeys(names))


def check_weight_column(source, path: str) -> None:
    """Refuse a sample-weight column that is not numbers, before a table reads it."""
    weight = source.weight_name
    if weight is not None:
        kind = source.column_kinds([weight])[weight]
        if kind != "number":
            raise CommandError(f"{path}: the sample-weight column {weight!r} holds {kind} "
                               "values, not numbers")


def encoded_blocks(model, source, names: list, with_targets: bool):
    """``(block, evaluated)`` for every block of the columns ``names`` of ``source`` (both
    from :func:`table_source`), through the model's encoding: levels it never saw and missing
    values are errors that name the column, the value and the line (a missing value leaves
    the row out of a model fitted with ``--missing drop``)."""
    encoding = model.encoding_
    weight = source.weight_name
    for block in source.table_blocks(names):
        w = None
        if weight is not None:
            w = np.asarray(block.columns[weight], dtype=np.float64)
            negative = np.flatnonzero(w < 0)
            if negative.size:
                r = int(negative[0])
                raise CommandError(f"{block.locate(r)}: the sample weight {weight!r} is "
                                   f"{w[r]!r}; weights must be >= 0")
        yield block, encoding.evaluate(block, w, with_targets=with_targets)


def left_out_text(n: int) -> str:
    """R's "(11 observations deleted due to missingness)", in linreg's words."""
    return f"({n} row{'s' if n != 1 else ''} with a missing value left out)"


class Metrics:
    """R², RMSE, MAE and n over blocks of rows, as scikit-learn defines them (weighted by
    the sample weights when given; averaged over targets): the same numbers as
    :func:`linreg.cli.describe.training_metrics` on all rows at once, in bounded memory.

    Each target's weighted mean and sum of squared deviations are merged block by block
    (Chan, Golub & LeVeque's update), so R²'s denominator keeps its digits.
    """

    def __init__(self):
        self.n, self.weight = 0, 0.0
        self.mean = self.m2 = self.ssr = self.sae = None

    def add(self, y, y_pred, w=None) -> None:
        """Add the rows ``y`` (n,) or (n, k), their predictions and weights (n,) or None."""
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        P = np.asarray(y_pred, dtype=np.float64).reshape(Y.shape)
        wv = np.ones(len(Y)) if w is None else np.asarray(w, dtype=np.float64)
        if self.mean is None:
            k = Y.shape[1]
            self.mean, self.m2, self.ssr, self.sae = (np.zeros(k) for _ in range(4))
        self.n += len(Y)
        W = float(wv.sum())
        if len(Y) == 0 or W == 0:
            return
        mean = wv @ Y / W
        m2 = wv @ (Y - mean) ** 2
        total = self.weight + W
        delta = mean - self.mean
        self.mean = self.mean + delta * (W / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.weight * W / total)
        self.weight = total
        R = Y - P
        self.ssr = self.ssr + wv @ R**2
        self.sae = self.sae + wv @ np.abs(R)

    def result(self) -> dict:
        """``{"n", "r2", "rmse", "mae"}`` (R² NaN for fewer than two rows, as
        scikit-learn's; 1 for a perfect fit of a constant target, 0 for an imperfect one)."""
        if self.mean is None or self.weight == 0:
            raise CommandError("no rows to score (or their sample weights are all zero)")
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(self.m2 > 0, 1.0 - self.ssr / self.m2,
                          np.where(self.ssr == 0, 1.0, 0.0))
        return {
            "n": int(self.n),
            "r2": float(np.mean(r2)) if self.n > 1 else float("nan"),
            "rmse": float(np.mean(np.sqrt(self.ssr / self.weight))),
            "mae": float(np.mean(self.sae / self.weight)),
        }
