"""What ``linreg fit`` fits: a numeric file read whole (the fast path: arrays in memory), or the
file as a source — a table whose text columns are categories, a ``--formula``, ``--missing
drop``, or blocks of ``--chunk-rows`` rows; an svmlight file always as a source, in sparse
blocks (:mod:`.svmlight_files`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..sources import MalformedDataError
from .errors import CommandError, UsageError
from .reading import split_names
from .tables import check_weight_column, encoded_blocks, has_categories, is_table_model, open_source

__all__ = ["FitData", "read_fit_data", "fit_on", "table_options", "training_score"]


@dataclass
class FitData:
    """A numeric file read whole (``table``: :class:`linreg.io.Table`), or a ``source`` of
    :mod:`linreg.sources` read in blocks (its ``formula``, if any, parsed)."""

    path: str
    table: object = None
    source: object = None
    formula: object = None
    #: an svmlight file (``source``: :func:`linreg.sources.svmlight`), see :mod:`.svmlight_files`
    svmlight: bool = False

    @property
    def target_names(self) -> list:
        if self.svmlight:
            from .svmlight_files import TARGET_NAME
            return [TARGET_NAME]
        if self.table is not None:
            return list(self.table.target_names)
        if self.formula is not None:
            return list(self.formula.targets)
        return list(self.source.target_names)

    @property
    def weight_name(self):
        if self.svmlight:
            return None
        return (self.table if self.table is not None else self.source).weight_name

    @property
    def feature_names(self) -> list:
        """The names of the columns of X (a table's encoded columns are the model's)."""
        if self.svmlight:
            from .svmlight_files import feature_names
            return feature_names(self.source.n_features, self.source.zero_based)
        if self.table is not None:
            return list(self.table.feature_names)
        return list(self.source.feature_names)

    @property
    def metadata(self) -> dict:
        """What a model file records of the data beyond its target and weights: an svmlight
        file's numbering."""
        return {"svmlight": {"zero_based": self.source.zero_based}} if self.svmlight else {}


def read_fit_data(args, max_columns: int | None = None) -> FitData:
    """The data of ``linreg fit`` (see the module docstring); the options checked against
    each other and against the file's columns.  ``max_columns``: the most columns a numeric
    file read whole may give (refused before its rows are read)."""
    from ..io import source_table
    from .svmlight_files import fit_source, is_svmlight, refuse_svmlight_options

    if is_svmlight(args.data):
        return FitData(args.data, source=fit_source(args), svmlight=True)
    refuse_svmlight_options(args, args.data)
    target = split_names(args.target)
    if args.formula is None and target is None:
        raise UsageError("give --target COLUMN (the column to predict) or --formula "
                         "'TARGET ~ TERMS'")
    if args.formula is not None:
        if args.features is not None or args.drop is not None:
            raise UsageError("--features and --drop choose the columns of a fit without "
                             "--formula; with --formula, the formula names them (all but some: "
                             "'y ~ . - id')")
        source = open_source(args.data, args, args.chunk_rows, target=None, weight=args.weight)
        check_weight_column(source, args.data)
        return FitData(args.data, source=source, formula=_parsed(args, source, target))
    drop = split_names(args.drop, blank=True)
    columns = dict(target=target, features=split_names(args.features), drop=drop,
                   weight=args.weight)
    if args.missing == "drop" or args.chunk_rows is not None:
        source = open_source(args.data, args, args.chunk_rows, **columns)
        check_weight_column(source, args.data)
        return FitData(args.data, source=source)
    source = open_source(args.data, args, None, **columns)
    if has_categories(source):
        check_weight_column(source, args.data)
        return FitData(args.data, source=source)
    try:
        return FitData(args.data, table=source_table(source, args.data, max_columns=max_columns))
    except MalformedDataError as exc:
        if "missing value" not in str(exc):
            raise
        raise CommandError(f"{exc}; --missing drop leaves the rows with a missing value out of "
                           "the fit") from None


def fit_on(estimator, data: FitData, one_target: bool = False):
    """``estimator.fit`` on what :func:`read_fit_data` read: the numeric table whole (with its
    weights; ``one_target``: ``y`` as a vector), or the source in blocks.  A formula the data
    cannot take is a usage error of ``--formula``."""
    import numpy as np

    from ..tables.expressions import FormulaError
    try:
        if data.table is not None:
            y = np.ravel(data.table.y) if one_target else data.table.y
            return estimator.fit(data.table.X, y, sample_weight=data.table.weights)
        return estimator.fit(data.source)
    except FormulaError as exc:
        if data.formula is None:
            raise
        raise UsageError(f"--formula: {exc}") from None


def _parsed(args, source, target):
    """The ``--formula`` parsed against the file's columns; its target(s) checked against
    ``--target``, its intercept against ``--no-intercept``."""
    from ..tables.expressions import FormulaError
    from ..tables.formula import parse_formula
    try:
        parsed = parse_formula(args.formula, [c for c in source.file_columns if c != args.weight])
    except FormulaError as exc:
        raise UsageError(f"--formula: {exc}") from None
    if target is not None and target != list(parsed.targets):
        raise UsageError(f"--target {args.target} and --formula {args.formula!r} name different "
                         f"targets ({', '.join(map(repr, parsed.targets))}): give the target in "
                         "the formula only")
    if getattr(args, "no_intercept", False) and parsed.intercept:
        raise UsageError(f"--no-intercept with --formula {args.formula!r}: leave the intercept "
                         "out in the formula instead ('... - 1')")
    return parsed


def table_options(args, data: FitData, params: dict) -> None:
    """The estimator's parameters for a source: the formula, the missing-value policy and
    the intercept (the formula's)."""
    params["missing"] = args.missing or "error"
    if data.formula is not None:
        params["formula"] = args.formula
        params["fit_intercept"] = data.formula.intercept


def training_score(model, data: FitData) -> tuple:
    """``(metrics, n_left_out)`` of a model fitted on ``data.source``: one more pass over
    the file (block by block), the rows with a missing value left out as in the fit."""
    from .reading import model_predict
    from .tables import Metrics
    metrics, dropped = Metrics(), 0
    source = data.source
    if is_table_model(model):
        encoding = model.encoding_
        names = list(dict.fromkeys(encoding.columns_used))
        if source.weight_name is not None and source.weight_name not in names:
            names.append(source.weight_name)
        coef = model.coef_.T if model.coef_.ndim == 2 else model.coef_
        for _, ev in encoded_blocks(model, source, names, with_targets=True):
            metrics.add(ev.Y, encoding.linear(ev, coef) + model.intercept_, ev.w)
            dropped += ev.n_dropped
    else:
        for X, Y, w in source.blocks():
            metrics.add(Y, model_predict(model, X), w)
    return metrics.result(), dropped


def check_source_fit(args, data: FitData) -> None:
    """Refuse what a fit from a source cannot do."""
    if args.checkpoint is not None and (data.formula is not None or has_categories(data.source)
                                        or args.missing == "drop"):
        raise UsageError("--checkpoint is for numeric columns (without text columns, "
                         "--formula or --missing drop)")
