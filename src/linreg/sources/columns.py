"""Files whose columns have names (CSV, Parquet, ``.npy``/``.npz`` tables): which columns are
the features, the targets and the weights, and a block built from named columns."""

from __future__ import annotations

import copy
import glob
import os
from collections import Counter

import numpy as np

from ..validation import name_list
from .base import MalformedDataError, RawChunk, Source, check_width

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
