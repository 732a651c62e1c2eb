"""A Dask DataFrame as a table (:class:`DaskTableRows`): every partition evaluated where it
lives, its levels learned there, and only the statistics of its cells sent back.

Partitions learn their levels independently — one pass, no levels known in advance — and
their statistics are keyed by the levels' values, so the tree reduction merges them exactly
into the union of all levels (:mod:`linreg.tables.cells`).  The passes after the fit (the
summary's residuals) evaluate each partition with the levels fixed.
"""

from __future__ import annotations

import numpy as np

from .base import Rows

__all__ = ["DaskTableRows", "dask_table_rows"]


def _block(df, names, index: int):
    from ..tables.frames import table_block
    block = table_block(df, names)
    labels = df.index

    def where(r: int) -> str:
        label = labels[r]
        label = label.item() if isinstance(label, np.generic) else label
        return f"row {r} (index {label!r}) of dask partition {index}"

    block.where = where
    return block


def _learned(encoding) -> dict:
    return {"kinds": dict(encoding.kinds), "widths": dict(encoding.widths),
            "levels": {e: list(v) for e, v in encoding.levels.items()},
            "reference": dict(encoding.reference), "declared": dict(encoding.declared)}


def _partition_cells(df, parsed, missing, states, names, weight, index):
    """One partition's statistics of cells, what it learned, and the rows it dropped."""
    from ..tables.cells import cell_stats
    from ..tables.encoding import Encoding
    encoding = Encoding(parsed, missing)
    encoding.states = states
    block = _block(df, names, index)
    weights = None if weight is None else block.columns[weight]
    ev = encoding.evaluate(block, weights)
    cells = cell_stats(ev, encoding) if ev.n_rows or encoding.kinds else None
    return cells, _learned(encoding), ev.n_dropped


def _partition_fold_cells(df, parsed, missing, states, names, weight, index, start, folds):
    """One partition's statistics of cells per fold (``start``: the table's number of its
    first row), what it learned, and the rows it dropped."""
    from ..tables.cells import cell_stats
    from ..tables.encoding import Encoding
    from .table_pieces import fold_pieces, row_numbers
    encoding = Encoding(parsed, missing)
    encoding.states = states
    block = _block(df, names, index)
    block.first_row = start
    weights = None if weight is None else block.columns[weight]
    ev = encoding.evaluate(block, weights)
    parts = [None] * folds.n_folds
    for f, sub in fold_pieces(ev, folds.of_numbers(row_numbers(ev)), folds.n_folds):
        parts[f] = cell_stats(sub, encoding)
    return parts, _learned(encoding), ev.n_dropped


def _merge_folds(a, b):
    parts = [x if y is None else (y if x is None else x.merge(y)) for x, y in zip(a[0], b[0])]
    return (parts,) + _merge((None,) + a[1:], (None,) + b[1:])[1:]


def _merge(a, b):
    cells = a[0] if b[0] is None else (b[0] if a[0] is None else a[0].merge(b[0]))
    learned = dict(a[1])
    for expr, kind in b[1]["kinds"].items():
        known = learned["kinds"].get(expr)
        if known is not None and known != kind:
            raise ValueError(f"{expr!r} is {known} in one dask partition and {kind} in another: "
                             "give the column one type in every partition")
    learned = {key: {**b[1][key], **a[1][key]} for key in a[1]}
    for expr, levels in b[1]["levels"].items():
        mine = list(a[1]["levels"].get(expr, []))
        seen = set(mine)
        learned["levels"][expr] = mine + [v for v in levels if v not in seen]
    return cells, learned, a[2] + b[2]


def _partition_design(df, encoding, names, weight, index, groups):
    """A partition's rows of the design ``(X, Y, w[, labels])``, the levels fixed."""
    block = _block(df, names, index)
    weights = None if weight is None else block.columns[weight]
    ev = encoding.evaluate(block, weights)
    out = (encoding.design(ev), ev.Y, ev.w)
    if groups:
        labels = []
        for g in groups:
            values = df[g].to_numpy()
            labels.append(values if ev.keep is None else values[ev.keep])
        out += (tuple(labels),)
    return out


def _apply(df, encoding, names, weight, index, groups, fn, at=None):
    block = _partition_design(df, encoding, names, weight, index, groups)
    return fn(block, index if at is None else at)


def _apply_numbered(df, encoding, names, weight, index, start, fn):
    from .table_pieces import row_numbers
    block = _block(df, names, index)
    block.first_row = start
    weights = None if weight is None else block.columns[weight]
    ev = encoding.evaluate(block, weights)
    return fn((encoding.design(ev), ev.Y, ev.w), row_numbers(ev))


def _kept(df, encoding, names, weight, index) -> int:
    block = _block(df, names, index)
    weights = None if weight is None else block.columns[weight]
    return encoding.evaluate(block, weights).n_rows


class DaskTableRows(Rows):
    """See the module docstring.  ``frame`` a Dask DataFrame, ``encoding`` a learning
    :class:`~linreg.tables.encoding.Encoding`, ``weight`` a column name or None."""

    def __init__(self, frame, encoding, weight=None, single_target: bool = True):
        self.frame, self.encoding, self.weight = frame, encoding, weight
        self.single_target = single_target
        self.target_names = list(encoding.formula.targets)
        self.n_targets = len(self.target_names)
        self.names = list(dict.fromkeys(encoding.columns_used + ([weight] if weight else [])))
        self.parts = frame.to_delayed()
        self.n_dropped = 0
        self._stats = None
        self._starts = None

    def stats(self):
        if self._stats is None:
            self._pass(None)
        return self._stats

    def table_row_count(self) -> int:
        """The number of rows of the DataFrame (those with a missing value included): the
        partitions' lengths, found by a pass that counts rows (once)."""
        self._count_rows()
        return int(self._starts[-1])

    count_table_rows = table_row_count

    def _count_rows(self) -> None:
        if self._starts is None:
            import dask
            from dask import delayed
            lengths = dask.compute(*[delayed(len, pure=True)(p) for p in self.parts])
            self._starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int).tolist()

    def fold_stats(self, folds) -> list:
        """As ``TableRows.fold_stats`` (:mod:`linreg.rows.table`): every fold's statistics, the
        levels learned in the same pass (each partition sorts its rows into folds by their
        numbers in the DataFrame, which need the partitions' lengths first:
        :meth:`table_row_count`)."""
        return self._pass(folds)

    def _pass(self, folds):
        import dask
        from dask import delayed

        from ..stats import SufficientStats
        from ..tables.cells import design_stats
        from .dask import tree_reduce
        enc = self.encoding
        if enc.stateful and not enc.states:
            enc.learn_states(lambda: (_block(p.compute(), self.names, i)
                                      for i, p in enumerate(self.parts)))
        if folds is None:
            tasks = [delayed(_partition_cells, pure=True)(p, enc.formula, enc.missing,
                                                          enc.states, self.names, self.weight, i)
                     for i, p in enumerate(self.parts)]
            cells, learned, dropped = dask.compute(tree_reduce(tasks, _merge))[0]
        else:
            self._count_rows()
            tasks = [delayed(_partition_fold_cells, pure=True)(
                p, enc.formula, enc.missing, enc.states, self.names, self.weight, i,
                self._starts[i], folds) for i, p in enumerate(self.parts)]
            parts, learned, dropped = dask.compute(tree_reduce(tasks, _merge_folds))[0]
            cells = None
            for cs in parts:
                if cs is not None:
                    cells = cs if cells is None else cells.merge(cs)
        if cells is None or cells.stats.n_rows == 0:
            raise ValueError("no rows to fit" + (f": all {dropped} rows have a missing value "
                                                 "(missing='drop')" if dropped else ""))
        enc.kinds, enc.widths = learned["kinds"], learned["widths"]
        enc.reference, enc.declared = learned["reference"], learned["declared"]
        enc.set_levels(learned["levels"])
        enc.finalize()
        self.n_features = enc.n_columns
        self.feature_names = list(enc.names)
        self.n_dropped = dropped
        self._stats = design_stats(cells, enc)
        if not self._stats.weight_sum > 0:
            raise ValueError("sample_weight is zero for every row: there is nothing to fit")
        if folds is None:
            return None
        return [SufficientStats.empty(enc.n_columns, self.n_targets) if cs is None
                else design_stats(cs, enc) for cs in parts]

    def _designs(self, groups=()):
        from dask import delayed
        self.stats()
        return [delayed(_partition_design, pure=True)(p, self.encoding, self.names,
                                                      self.weight, i, tuple(groups))
                for i, p in enumerate(self.parts)]

    def blocks(self, shuffle: bool = False, rng=None):
        rng = np.random.default_rng(rng)
        designs = self._designs()
        order = rng.permutation(len(designs)) if shuffle else range(len(designs))
        for i in order:
            X, Y, w = designs[i].compute()
            if shuffle:
                perm = rng.permutation(X.shape[0])
                X, Y, w = X[perm], Y[perm], None if w is None else w[perm]
            yield X, Y, w

    def map_blocks(self, fn, groups: tuple = ()) -> list:
        import dask
        from dask import delayed
        self.stats()
        bad = [g for g in groups if not isinstance(g, str) or g not in self.frame.columns]
        if bad:
            raise ValueError(f"with a dask DataFrame, give groups as column names of it "
                             f"({list(self.frame.columns)})")
        tasks = [delayed(_apply, pure=False)(p, self.encoding, self.names, self.weight, i,
                                             tuple(groups), fn)
                 for i, p in enumerate(self.parts)]
        return list(dask.compute(*tasks))

    def map_numbered(self, fn) -> list:
        """``[fn((X, Y, w), numbers) for each partition]``, ``numbers`` the DataFrame's
        numbers of the partition's rows (as ``TableRows.map_numbered``),
        run on the cluster."""
        import dask
        from dask import delayed
        self.stats()
        self._count_rows()
        tasks = [delayed(_apply_numbered, pure=False)(p, self.encoding, self.names, self.weight,
                                                      i, self._starts[i], fn)
                 for i, p in enumerate(self.parts)]
        return list(dask.compute(*tasks))

    def map_blocks_at(self, fn) -> list:
        import dask
        from dask import delayed
        self.stats()
        counts = dask.compute(*[delayed(_kept, pure=True)(p, self.encoding, self.names,
                                                          self.weight, i)
                                for i, p in enumerate(self.parts)])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
        tasks = [delayed(_apply, pure=False)(p, self.encoding, self.names, self.weight, i, (),
                                             fn, s)
                 for i, (p, s) in enumerate(zip(self.parts, starts))]
        return list(dask.compute(*tasks))


def dask_table_rows(frame, y, sample_weight, formula, missing: str, fit_intercept: bool):
    """The :class:`DaskTableRows` of a Dask DataFrame that needs the encoding (a formula,
    columns that are not numbers, ``missing="drop"``), else None."""
    from ..tables.encoding import Encoding
    from ..tables.formula import columns_formula, parse_formula
    from ..tables.formula import check_intercept
    columns = [str(c) for c in frame.columns]
    if sample_weight is not None and not isinstance(sample_weight, str):
        raise ValueError("with a dask DataFrame, give sample_weight as a column name")
    if formula is not None:
        if y is not None:
            raise ValueError("with a formula the target comes from the table (the formula's "
                             "left-hand side): call fit(dask_frame) without y")
        parsed = parse_formula(formula, [c for c in columns if c != sample_weight])
        check_intercept(parsed, formula, fit_intercept)
    else:
        if not (isinstance(y, str) or (isinstance(y, (list, tuple)) and y
                                       and all(isinstance(v, str) for v in y))):
            return None
        targets = [y] if isinstance(y, str) else list(y)
        if any(t not in columns for t in targets):
            return None          # the plain path says which column is not there
        features = [c for c in columns if c not in targets and c != sample_weight]
        plain = all(frame.dtypes[c].kind in "biuf" and frame.dtypes[c].kind != "b"
                    for c in features + targets)
        if plain and missing != "drop":
            return None
        parsed = columns_formula(targets, features, bool(fit_intercept))
    encoding = Encoding(parsed, missing)
    encoding.check_columns(columns, "the DataFrame")
    return DaskTableRows(frame, encoding, sample_weight, len(parsed.targets) == 1)
