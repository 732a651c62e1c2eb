"""Rows of a table: columns of numbers and categories, read block by block through an
:class:`~linreg.tables.encoding.Encoding` (:class:`TableRows`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..stats import SufficientStats
from .base import Rows
from .table_pieces import block_rows, fold_pieces, labels_of, row_numbers, row_pieces

__all__ = ["TableRows"]

#: rows of a table evaluated at a time when its statistics are accumulated
CELL_BLOCK_ROWS = 65_536
#: bound on one dense block of the design handed to the row readers (elements)
DENSE_BLOCK_ELEMENTS = 1 << 22


class TableRows(Rows):
    """A table's rows: ``read()`` gives its :class:`~linreg.tables.blocks.TableBlock`\\ s
    (again on every call; one block for a table in memory), ``encoding`` turns them into the
    design, ``weights`` (an array over all rows, or the name of a weight column, or None).

    The statistics pass learns the levels (the union over all blocks: one pass, whatever the
    order in which levels appear) and accumulates the statistics of the cells
    (:mod:`linreg.tables.cells`); the design's columns exist only in the bounded blocks that
    :meth:`blocks` and :meth:`map_blocks` hand out after the fit.
    """

    def __init__(self, read: Callable[[], Iterator], encoding, weights=None,
                 single_target: bool = True, in_memory: bool = False, count: int | None = None,
                 source=None, required=None):
        self.read, self.encoding, self.weights = read, encoding, weights
        self.single_target = single_target
        self.in_memory = in_memory
        self.target_names = list(encoding.formula.targets)
        self.n_targets = len(self.target_names)
        self._cached = None
        self.n_dropped = 0
        self._stats = None
        self.count = count
        self.source = source
        self.rows_read = None
        #: an encoding (levels fixed) whose missing values also leave a row out: a smaller
        #: model read on the rows a larger one kept
        self.required = required

    # -- the statistics pass
    def _evaluated(self, block):
        weights = self.weights
        if isinstance(weights, str):
            weights = block.columns[weights]
        elif weights is not None:
            weights = weights[block.first_row:block.first_row + block.n_rows]
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if (weights < 0).any():
                r = int(np.flatnonzero(weights < 0)[0])
                raise ValueError(f"sample weights must be ≥ 0; {weights[r]} at {block.locate(r)}")
        if self.required is not None:
            keep = self.required.evaluate(block, weights).keep
            if keep is not None:
                block = block_rows(block, keep)
                weights = None if weights is None else weights[keep]
        return self.encoding.evaluate(block, weights)

    def with_stats(self, encoding, stats: SufficientStats, n_dropped: int) -> "TableRows":
        """These rows read through another ``encoding`` (levels fixed: a model of some of
        the terms), whose statistics are known (``stats``: no pass), on the rows this
        encoding keeps (a row it leaves out for a missing value is left out too)."""
        rows = TableRows(self.read, encoding, self.weights, self.single_target, self.in_memory,
                         self.count, self.source, self.encoding if self.n_dropped else None)
        rows._stats, rows.n_dropped = stats, n_dropped
        rows.n_features, rows.feature_names = encoding.n_columns, list(encoding.names)
        return rows

    def stats(self) -> SufficientStats:
        if self._stats is None:
            self._pass(None)
        return self._stats

    def fold_stats(self, folds) -> list:
        """Every fold's statistics of the design's columns (one
        :class:`~linreg.stats.SufficientStats` per fold of ``folds``, a
        :class:`~linreg.selection.folds.Folds`), from the one pass that learns the levels and
        the statistics of all rows (:meth:`stats` then costs nothing).

        A row's fold comes from its number in the table, counted as the rows are read
        (:func:`~linreg.rows.table_pieces.row_numbers`: rows left out for a missing value
        keep theirs).  Every fold's statistics are of the design of *all*
        the rows — the levels learned from every block — so a fold that lacks a level still
        has its column (zero in every one of its rows)."""
        return self._pass(folds)

    def _pass(self, folds):
        from ..tables.cells import cell_stats, design_stats
        enc_ = self.encoding
        if enc_.stateful and not enc_.states:
            enc_.learn_states(self.read)
        n_folds = 1 if folds is None else folds.n_folds
        parts, dropped, cached, read = [None] * n_folds, 0, [], 0
        evaluated = (self._cached if self._cached is not None
                     else (self._evaluated(block) for block in self.read()))
        for ev in evaluated:       # in file order: rows numbered as they are read
            if self.in_memory:
                cached.append(ev)
            split = ([(0, ev)] if folds is None
                     else fold_pieces(ev, folds.of_numbers(row_numbers(ev, read)), n_folds))
            dropped += ev.n_dropped
            read += ev.n_rows + ev.n_dropped
            for f, sub in split:
                for piece in row_pieces(sub, CELL_BLOCK_ROWS):
                    cs = cell_stats(piece, enc_)
                    parts[f] = cs if parts[f] is None else parts[f].merge(cs)
        total = None
        for cs in parts:
            if cs is not None:
                total = cs if total is None else total.merge(cs)
        if total is None or total.stats.n_rows == 0:
            if dropped:
                from ..exceptions import MessageBuilder
                from ..tables.encoding import MissingValueError
                b = MessageBuilder()
                raise MissingValueError(f"no rows to fit: all {dropped} rows have a missing "
                                        f"value ({b.setting('missing', 'drop')})",
                                        parameters=b.parameters)
            raise ValueError("no rows to fit")
        remap = None if enc_.frozen else enc_.finalize()
        self.n_features = enc_.n_columns
        self.feature_names = list(enc_.names)
        self.n_dropped, self.rows_read = dropped, read
        if self.in_memory:
            self._cached = cached if remap is None else [enc_.refreshed(ev, remap)
                                                          for ev in cached]
        self._stats = design_stats(total, enc_)
        if not self._stats.weight_sum > 0:
            raise ValueError("sample_weight is zero for every row: there is nothing to fit")
        if folds is None:
            return None
        return [SufficientStats.empty(enc_.n_columns, self.n_targets) if cs is None
                else design_stats(cs, enc_) for cs in parts]

    def table_row_count(self) -> int | None:
        """The number of rows of the table (those with a missing value included), when it
        is known without reading them (a table in memory, a Parquet, Feather or ``.npy``
        file; a CSV file after a pass), else None."""
        if self.count is not None:
            return self.count
        n = getattr(self.source, "n_rows", None)
        return int(n) if isinstance(n, (int, np.integer)) else None

    def count_table_rows(self) -> int | None:
        """:meth:`table_row_count`, counting a CSV file's rows if need be (its non-empty
        lines, read once without parsing)."""
        n = self.table_row_count()
        if n is None and self.source is not None:
            n = self.source.count_rows()
        return n

    def map_numbered(self, fn: Callable) -> list:
        """``[fn((X, Y, w), numbers) for each block]``: the design's blocks with the table's
        numbers of their rows (:func:`~linreg.rows.table_pieces.row_numbers`), for a pass that finds each row's fold."""
        out, first = [], 0
        for ev in self.evaluated():       # in file order: rows numbered as they are read
            numbers, at = row_numbers(ev, first), 0
            first += ev.n_rows + ev.n_dropped
            for block in self._dense(ev):
                m = block[0].shape[0]
                out.append(fn(block, numbers[at:at + m]))
                at += m
        return out

    def row_count(self) -> int | None:
        if self._cached is not None:
            return sum(ev.n_rows for ev in self._cached)
        return None

    # -- the rows after the fit
    def evaluated(self, shuffle: bool = False, rng=None) -> Iterator:
        """The evaluated blocks (levels fixed), in order or in a random block order."""
        if self._cached is not None:
            yield from self._cached
            return
        self.stats()
        if self._cached is not None:
            yield from self._cached
            return
        for block in self.read(shuffle, rng) if shuffle else self.read():
            yield self._evaluated(block)

    def _dense(self, ev, shuffle=False, rng=None, groups=(), sparse=False):
        step = (CELL_BLOCK_ROWS if sparse
                else max(64, DENSE_BLOCK_ELEMENTS // max(self.encoding.n_columns, 1)))
        order = np.random.default_rng(rng).permutation(ev.n_rows) if shuffle else None
        for piece in row_pieces(ev, step, order):
            X = self.encoding.sparse_design(piece) if sparse else self.encoding.design(piece)
            out = (X, piece.Y, piece.w)
            if groups:
                out += (tuple(labels_of(piece, g) for g in groups),)
            yield out

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        rng = np.random.default_rng(rng) if shuffle else None
        for ev in self.evaluated(shuffle, rng):
            yield from self._dense(ev, shuffle, rng)

    def map_blocks(self, fn: Callable, groups: tuple = ()) -> list:
        """As :meth:`Rows.map_blocks`; a ``fn`` marked ``accepts_sparse`` (the residual pass)
        gets each block's design as a CSR matrix: a categorical term is one stored entry a
        row (its cell's column), so the pass multiplies by the coefficients of the rows'
        levels, never by dummy columns."""
        sparse = bool(getattr(fn, "accepts_sparse", False))
        out = []
        for ev in self.evaluated():
            for block in self._dense(ev, groups=groups, sparse=sparse):
                out.append(fn(block, len(out)))
        return out

    def map_blocks_at(self, fn: Callable) -> list:
        """As :meth:`Rows.map_blocks_at`, ``start`` counting the design's rows (those kept);
        cross-validation numbers a table's rows as the table does instead (rows left out for
        a missing value keep their numbers): :meth:`fold_stats`, :meth:`map_numbered`."""
        out, start = [], 0
        for block in self.blocks():
            out.append(fn(block, start))
            start += block[0].shape[0]
        return out


def table_rows(X, y, sample_weight, formula, missing: str, fit_intercept: bool):
    """The :class:`TableRows` for what a user passed to ``fit``, or None when the data needs
    no encoding (plain numbers: the estimator's other paths take them).  A table needs the
    encoding when a formula is given, when a column is text, boolean or categorical, or
    with ``missing="drop"``."""
    from ..tables.encoding import Encoding
    from ..tables.formula import check_intercept, columns_formula, parse_formula
    from ..sources import is_source
    from ..tables.frames import (check_polars_X, check_untyped_text, column_names, is_table,
                                 needs_encoding, polars_values, table_block)
    check_polars_X(X)
    if is_source(X) and hasattr(X, "table_blocks"):
        return _source_rows(X, y, sample_weight, formula, missing, fit_intercept)
    from ..dask_support import is_dask_frame
    if is_dask_frame(X):
        from .table_dask import dask_table_rows
        return dask_table_rows(X, y, sample_weight, formula, missing, fit_intercept)
    if formula is None and not (is_table(X) and (needs_encoding(X) or missing == "drop")):
        return None
    if not is_table(X):
        raise ValueError(f"formula={formula!r} needs a table with named columns (a pandas or "
                         f"polars DataFrame or a pyarrow Table), not {type(X).__name__}")
    columns = column_names(X)
    if formula is not None:
        if y is not None:
            raise ValueError("with a formula the target comes from the table (the formula's "
                             "left-hand side): call fit(table) without y")
        parsed = parse_formula(formula, columns)
        check_intercept(parsed, formula, fit_intercept)
        table, targets = X, list(parsed.targets)
    else:
        if y is None:
            raise ValueError("y is required: pass the target, or its column name, or a "
                             "formula (LinearRegression(formula='y ~ ...'))")
        table, targets = _with_target(X, y, columns)
        features = [c for c in column_names(table) if c not in targets]
        parsed = columns_formula(targets, features, bool(fit_intercept))
    n = table.num_rows if hasattr(table, "num_rows") else len(table)
    weights = None
    if sample_weight is not None:
        weights = np.asarray(polars_values(sample_weight), dtype=np.float64).reshape(-1)
        if len(weights) != n:
            raise ValueError(f"sample_weight has {len(weights)} values for {n} rows")
    encoding = Encoding(parsed, missing)
    names = encoding.check_columns(column_names(table), "the table")
    block = table_block(table, names)
    if formula is None:
        check_untyped_text(table, block, names)
    single = len(targets) == 1 and (formula is not None or not _is_frame_target(y))
    return TableRows(lambda shuffle=False, rng=None: iter([block]), encoding, weights, single,
                     in_memory=True, count=n)


def _source_rows(source, y, sample_weight, formula, missing: str, fit_intercept: bool):
    """The :class:`TableRows` of a file source (CSV, Parquet, Feather) whose columns need
    the encoding, read in the source's blocks: one pass learns the levels and the
    statistics together."""
    from ..tables.encoding import Encoding
    from ..tables.formula import check_intercept, columns_formula, parse_formula
    if y is not None or sample_weight is not None:
        raise ValueError("when X is a data source, the targets and sample weights come from "
                         "it: pass y=None and sample_weight=None")
    weight = source.weight_name
    if formula is not None:
        parsed = parse_formula(formula, [c for c in source.file_columns if c != weight])
        check_intercept(parsed, formula, fit_intercept)
        if source.target_names and list(source.target_names) != list(parsed.targets):
            raise ValueError(f"the source's target {source.target_names} differs from the "
                             f"formula's {list(parsed.targets)}: give the target in one place")
    else:
        kinds = source.column_kinds(source.feature_names + source.target_names)
        if missing != "drop" and all(k == "number" for k in kinds.values()):
            return None
        if _numbers_with_words(source, [c for c, k in kinds.items() if k == "text"]):
            return None     # the numeric reader says which value is not a number, and where
        if not source.target_names:
            raise ValueError("the source has no target column: name it (target=...) or give "
                             "a formula")
        parsed = columns_formula(list(source.target_names), list(source.feature_names),
                                 bool(fit_intercept))
    encoding = Encoding(parsed, missing)
    names = encoding.check_columns(list(source.file_columns), repr(source))
    read_names = names + ([weight] if weight is not None and weight not in names else [])

    def read(shuffle: bool = False, rng=None):
        return source.table_blocks(read_names, shuffle, rng)

    return TableRows(read, encoding, weight, len(parsed.targets) == 1, in_memory=False,
                     source=source)


def _numbers_with_words(source, text: list) -> bool:
    """Whether a CSV file's text column looks like numbers with a stray word in it (its
    first block has values that read as numbers): a CSV declares no types, so such a column
    is read as numbers — and its stray word reported — rather than as categories."""
    from ..sources.csv_file import CsvSource
    from ..tables.frames import number_like
    if not text or not isinstance(source, CsvSource):
        return False
    first = next(iter(source.table_blocks(text)), None)
    return first is not None and any(
        any(number_like(v) for v in first.columns[name].levels) for name in text)


def _is_frame_target(y) -> bool:
    return hasattr(y, "columns") or (np.ndim(y) == 2 and not isinstance(y, str))


def _with_target(X, y, columns: list, name: str | None = None):
    """``(X with the target(s) as columns, their names)``: ``y`` a column name (or names) of ``X``, or
    values (a Series, an array, a DataFrame) added to ``X`` in its own library (``name``:
    the one target's column name)."""
    from ..tables.frames import polars_values, with_columns
    names = [y] if isinstance(y, str) else (list(y) if isinstance(y, (list, tuple)) and y
                                            and all(isinstance(v, str) for v in y) else None)
    if names is not None:
        unknown = [v for v in names if v not in columns]
        if unknown:
            raise ValueError(f"the target column {', '.join(map(repr, unknown))} is not a column "
                             f"of X (its columns: {', '.join(columns)})")
        return X, names
    values = np.asarray(polars_values(y), dtype=np.float64)
    if values.ndim == 1:
        if name is None:
            name = getattr(y, "name", None)
            name = str(name) if name is not None and str(name) not in columns else "y"
            while name in columns:
                name += "_"
        values, names = values.reshape(-1, 1), [name]
    else:
        names = [str(c) for c in getattr(y, "columns", [f"y{j}" for j in range(values.shape[1])])]
    n = X.num_rows if hasattr(X, "num_rows") else len(X)
    if len(values) != n:
        raise ValueError(f"y has {len(values)} rows and X {n}")
    return with_columns(X, names, values), names


def predict_table(model, X, interval=None, level: float = 0.95):
    """``ŷ`` for a table, through the model's encoding (levels looked up, never a dense
    design); rows with a missing value give NaN when the model was fitted with
    ``missing="drop"`` (else the missing value is an error)."""
    from ..tables.frames import check_polars_X, column_names, is_table, table_block
    check_polars_X(X)
    encoding = model.encoding_
    needed = [c for c in encoding.columns_used if c not in encoding.formula.targets]
    if not is_table(X):
        raise ValueError(f"this model was fitted on a table: pass a pandas or polars "
                         f"DataFrame or a pyarrow Table with the columns {', '.join(needed)}, not "
                         f"{type(X).__name__}")
    unknown = [c for c in needed if c not in column_names(X)]
    if unknown:
        raise ValueError(f"X has no column {', '.join(map(repr, unknown))}, which the model "
                         f"uses (it needs {', '.join(needed)})")
    return predict_block(model, table_block(X, needed), interval, level)[0]


def predict_block(model, block, interval=None, level: float = 0.95) -> tuple:
    """``(ŷ, n_left_out)`` for one :class:`~linreg.tables.blocks.TableBlock` (holding the
    columns the model uses), through the model's encoding; ``ŷ`` is ``(ŷ, lower, upper)``
    with an ``interval``.  A row with a missing value gets NaN under ``missing="drop"``
    (``n_left_out`` counts them), and is an error otherwise."""
    encoding = model.encoding_
    ev = encoding.evaluate(block, None, with_targets=False)
    coef = model.coef_.T if model.coef_.ndim == 2 else model.coef_
    single = model.coef_.ndim == 1
    if interval is None:
        out = encoding.linear(ev, coef) + model.intercept_
        return _spread(out, ev.keep, block.n_rows), ev.n_dropped
    from ..inference import prediction_interval
    yhat, lower, upper = prediction_interval(model, model.stats_, encoding.design(ev),
                                             interval, level)
    parts = [_spread(a[:, 0] if single else a, ev.keep, block.n_rows) for a in (yhat, lower, upper)]
    return tuple(parts), ev.n_dropped


def _spread(values, keep, n: int):
    """Values of the kept rows at their places among ``n`` rows (NaN elsewhere)."""
    if keep is None:
        return values
    out = np.full((n,) + values.shape[1:], np.nan)
    out[keep] = values
    return out


def frozen_table_rows(model, X, y=None, sample_weight=None) -> TableRows:
    """The rows of a table for a model already fitted on a table (``summary(X, y)`` after
    loading it): the model's encoding, its levels fixed."""
    from ..sources import is_source
    from ..tables.frames import column_names, drop_columns, is_table, table_block
    encoding = model.encoding_
    if is_source(X) and hasattr(X, "table_blocks"):
        return _frozen_source_rows(model, X, y, sample_weight)
    if not is_table(X):
        raise ValueError(f"this model was fitted on a table: pass its training table (a pandas "
                         f"or polars DataFrame, a pyarrow Table, or a file source), not "
                         f"{type(X).__name__}")
    table = X
    targets = list(encoding.formula.targets)
    if y is not None:
        table = drop_columns(X, targets)
        table, _ = _with_target(table, y, column_names(table),
                                targets[0] if len(targets) == 1 else None)
    unknown = [c for c in encoding.columns_used if c not in column_names(table)]
    if unknown:
        raise ValueError(f"the table has no column {', '.join(map(repr, unknown))}, which the "
                         "model uses")
    block = table_block(table, list(dict.fromkeys(encoding.columns_used)))
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return TableRows(lambda shuffle=False, rng=None: iter([block]), encoding, weights,
                     model.coef_.ndim == 1, in_memory=True)


def _frozen_source_rows(model, source, y, sample_weight) -> TableRows:
    """The rows of a file source (CSV, Parquet, Feather) for a model fitted on a table: the
    columns it uses read by name, its target(s) among them, weighted by the source's weight
    column."""
    if y is not None or sample_weight is not None:
        raise ValueError("when X is a data source, the targets and sample weights come from "
                         "it: pass y=None and sample_weight=None")
    encoding = model.encoding_
    weight = source.weight_name
    names = list(dict.fromkeys(encoding.columns_used))
    read_names = names + ([weight] if weight is not None and weight not in names else [])

    def read(shuffle: bool = False, rng=None):
        return source.table_blocks(read_names, shuffle, rng)

    return TableRows(read, encoding, weight, model.coef_.ndim == 1, in_memory=False)
