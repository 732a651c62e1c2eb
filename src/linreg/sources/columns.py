"""Files whose columns have names (CSV, Parquet, Feather, ``.npy``/``.npz`` tables): which
columns are the features, the targets and the weights, a block built from named columns, and
the blocks of a table (any chosen columns, numbers or categories: :meth:`ColumnSource.table_blocks`)."""

from __future__ import annotations

import copy
import glob
import os
from collections import Counter
from collections.abc import Iterator

import numpy as np

from ..validation import name_list
from .base import MalformedDataError, RawChunk, Source, check_width
from .table_kinds import refuse_other

__all__ = ["ColumnSource", "expand_paths"]


class ColumnSource(Source):
    """A source whose file has named columns (Parquet, CSV, ``.npy``/``.npz`` tables): the
    choice of target, features, drop and weight, and a block built from named columns."""

    #: label columns read with each block (see :meth:`grouped_blocks`); none for a fit
    group_names: tuple = ()

    def _select(self, columns: list, target, features, drop, weight, where: str,
                features_role: str = "a feature") -> None:
        """Which columns are features, targets and weights; every name checked against the
        file's ``columns``.  ``features_role`` is how a message calls a listed feature."""
        dup = sorted(c for c, times in Counter(columns).items() if times > 1)
        if dup:
            raise MalformedDataError(f"{where}: duplicate column names {dup[:30]} in the header")
        if target is None:
            targets, self.single_target = [], False
        elif isinstance(target, str):
            targets, self.single_target = [target], True
        elif (isinstance(target, (list, tuple)) and target
              and all(isinstance(t, str) for t in target)):
            targets, self.single_target = list(target), False
        else:
            raise ValueError(f"target={target!r} must be a column name, a list of column names "
                             "or None")
        drop = name_list(drop) or []
        features = name_list(features)
        known = set(columns)
        for group, role in ((targets, "the target"), ([] if weight is None else [weight],
                            "the sample weights"), (features or [], features_role),
                            (drop, "to drop")):
            for name in group:
                if name not in known:
                    raise MalformedDataError(f"{where} has no column {name!r} ({role}); its "
                                             f"columns are {_shown(columns)}")
        if features is not None and drop:
            raise ValueError("give features or drop, not both")
        if features is None:
            exclude = set(targets) | set(drop) | {weight}
            features = [c for c in columns if c not in exclude]
        for name in features:
            if name in targets or name == weight:
                role = "the target" if name in targets else "the sample weights"
                raise MalformedDataError(f"column {name!r} is both {role} and a feature")
        if weight is not None and weight in targets:
            raise MalformedDataError(f"column {weight!r} is both the target and the sample "
                                     "weights")
        if not features:
            raise MalformedDataError(f"{where}: no feature columns are left once the target, "
                                     f"weight and dropped columns are removed (target={target!r}"
                                     f", drop={drop})")
        check_width(len(features) + len(targets), where, "features=[...] or drop=[...]")
        self.feature_names = features
        self.target_names = targets
        self.file_columns = list(columns)
        self.weight_name = weight
        self.has_weights = weight is not None
        self.n_features = len(features)
        self.n_targets = len(targets)

    def _weight_label(self):
        return str(self.weight_name)

    # -- the blocks of a table
    def column_kinds(self, names: list | None = None) -> dict:
        """The kind of each column ``names`` of the file (every column when None).

        Parameters
        ----------
        names : list of str, optional

        Returns
        -------
        dict of str → str
            ``"number"`` (integers, floats), ``"text"``, ``"bool"``, ``"category"`` (a column
            that declares its levels: an Arrow dictionary column, a pandas ``category`` written
            to Parquet or Feather), or ``"other"`` (a type a table cannot read: dates in
            Parquet, binary, nested; see :mod:`linreg.sources.table_kinds`).  Parquet,
            Feather and ``.npy`` files say it in their schema (no data is read; an ``.npz``
            archive's arrays are loaded); a CSV file's kinds are pyarrow's inference on its
            first lines (see :class:`~linreg.sources.csv_tables.CsvTables`).

        Raises
        ------
        MalformedDataError
            A name the file does not have; the files of a Parquet source that give a column
            different kinds.
        """
        names = self.file_columns if names is None else self._known(names, "column_kinds")
        kinds = self._kinds(names)
        return {name: kinds[name] for name in names}

    def table_blocks(self, names: list, shuffle: bool = False,
                     random_state=None) -> Iterator:
        """The columns ``names`` of every row, as :class:`~linreg.tables.blocks.TableBlock`
        blocks of the source's ``chunk_rows`` rows, in one pass.

        Columns of kind ``"number"`` come as float64, NaN where a value is missing; ``"text"``,
        ``"bool"`` and ``"category"`` columns as :class:`~linreg.tables.blocks.Codes` into the
        levels of the block, ``-1`` where missing (a ``"category"`` column's levels are the
        ones it declares, in their order, ``declared=True``).  See :meth:`column_kinds`.

        Parameters
        ----------
        names : list of str
            Any columns of the file (the target and the features chosen at construction
            play no part).
        shuffle : bool
            Visit the blocks in a random order, as ``blocks(shuffle=True)`` does (the same
            order for the same ``random_state``).  The rows of a block stay in file order, so
            ``first_row`` and ``where`` stay exact.
        random_state : int, Generator or None

        Yields
        ------
        TableBlock
            ``first_row`` the global data-row number of its first row; ``where(r)`` names
            the file and the line (CSV: ``"line 58 of penguins.csv"``, the header being
            line 1) or the row within the file (``"row 57 of part-0.parquet"``, 0-based).

        Raises
        ------
        MalformedDataError
            Up front: a column the file does not have, or of kind ``"other"``.  While reading:
            a value that does not fit its column's kind (a CSV file), naming the file, the
            line, the column and the value.
        SourceChangedError
            A file changed while being read.
        """
        names = self._known(names, "table_blocks")
        if not names:
            raise ValueError("table_blocks needs at least one column name")
        dup = sorted(n for n, times in Counter(names).items() if times > 1)
        if dup:
            raise ValueError(f"table_blocks: columns {dup} are listed more than once")
        kinds = self.column_kinds(names)
        refuse_other(kinds, self._type_names(names), self._file_names())
        rng = np.random.default_rng(random_state)
        return self._table_pass(self._order(shuffle, rng), names, kinds)

    def _table_pass(self, order, names, kinds) -> Iterator:
        yield from self._table_chunks(order, names, kinds)
        self.check_unchanged()

    def _rows_where(self, file, file_row: int, first_row: int):
        """``where(r)`` of a block whose rows start at data row ``file_row`` of ``file`` (and
        ``first_row`` of the source): "row R of FILE", R counted from 0 within the file."""
        several = len(self._files()) > 1

        def where(r: int) -> str:
            text = f"row {file_row + r} of {file}"
            return text + (f" (row {first_row + r} of the source)" if several else "")
        return where

    def _known(self, names, what: str) -> list:
        """``names`` as a list, every one a column of the file."""
        names = name_list(names)
        known = set(self.file_columns)
        for name in names:
            if not isinstance(name, str):
                raise ValueError(f"{what}: column names are strings, not {name!r}")
            if name not in known:
                raise MalformedDataError(f"{self._file_names()} has no column {name!r}; its "
                                         f"columns are {_shown(self.file_columns)}")
        return names

    # -- to be provided by each kind of file, for tables
    def _kinds(self, names: list) -> dict:
        """Column → kind, for the columns ``names``."""
        raise NotImplementedError

    def _type_names(self, names: list) -> dict:
        """Column → its type as the file says it (for messages)."""
        raise NotImplementedError

    def _table_chunks(self, order, names: list, kinds: dict) -> Iterator:
        """:class:`~linreg.tables.blocks.TableBlock` blocks, in file order (``order=None``)
        or in the given order of block indices."""
        raise NotImplementedError

    def grouped_blocks(self, names: list):
        """Blocks ``(X, Y, w, labels)``: ``labels`` the columns ``names`` of the same rows
        (cluster labels; any column of the file, numbers or text), read in the same pass."""
        for name in names:
            if name not in self.file_columns:
                raise MalformedDataError(f"{self._file_names()} has no column {name!r} (the "
                                         f"groups); its columns are {_shown(self.file_columns)}")
        for X, Y, w, c in self.reading_groups(names).checked_blocks():
            yield X, Y, w, c.groups

    def reading_groups(self, names: list) -> ColumnSource:
        """A copy of this source that also reads the columns ``names`` with every block."""
        reader = copy.copy(self)
        reader.group_names = tuple(names)
        reader.prepare_groups()
        return reader

    def prepare_groups(self) -> None:
        """Make the label columns :attr:`group_names` readable (a hook for the formats that
        load chosen columns up front)."""

    @property
    def _used(self) -> list:
        """The columns read: features, targets, then the weights."""
        return self.feature_names + self.target_names + (
            [self.weight_name] if self.weight_name is not None else [])

    def _columns_to_chunk(self, getcol, rows, first_row, file, file_row) -> RawChunk:
        X = np.empty((rows, self.n_features))
        for j, name in enumerate(self.feature_names):
            X[:, j] = getcol(name)
        Y = np.empty((rows, self.n_targets))
        for j, name in enumerate(self.target_names):
            Y[:, j] = getcol(name)
        w = (None if self.weight_name is None
             else np.asarray(getcol(self.weight_name), dtype=np.float64))
        groups = tuple(np.asarray(getcol(name)) for name in self.group_names) or None
        return RawChunk(X, Y, w, first_row, file, file_row, groups)


def _shown(columns: list) -> str:
    """The column names for a message: all of them, or the first 30 of a wide file."""
    if len(columns) <= 30:
        return repr(list(columns))
    return repr(list(columns[:30]))[:-1] + f", … ({len(columns)} columns)]"


def expand_paths(pattern) -> list:
    """The files of ``pattern``: a path, a glob (matches in sorted order) or a list of paths;
    every one must exist."""
    if isinstance(pattern, (list, tuple)):
        files = [os.fspath(p) for p in pattern]
    else:
        pattern = os.fspath(pattern)
        files = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    if not files:
        raise FileNotFoundError(f"no file matches {pattern!r}")
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"{f} does not exist")
    return files
