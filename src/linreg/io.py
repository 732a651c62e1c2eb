r"""Whole data files in memory: the chosen columns of a CSV, Parquet, ``.npy`` or ``.npz`` file
as float64 arrays, every value checked, every problem reported in one line that names the file,
the column and (where it applies) the line.

:func:`read_table` is a thin layer over :func:`linreg.sources.from_file`: the same parsers,
column choice, checks and messages as the streaming sources, with the whole file read as one
block (CSV and Parquet through pyarrow, multi-threaded: the optional extra ``linreg[files]``;
``.npy``/``.npz`` with numpy and ``allow_pickle=False``).  For files bigger than memory, stream
them with :mod:`linreg.sources` instead.

Examples
--------
>>> import tempfile, os
>>> from linreg.io import read_table
>>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
>>> _ = open(path, "w").write("id,a,y\n1,0.5,2\n2,1.5,4\n")
>>> t = read_table(path, target="y", drop="id")
>>> t.X.tolist(), t.y.tolist(), t.feature_names, t.target_names
([[0.5], [1.5]], [2.0, 4.0], ['a'], ['y'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sources import CSV_SUFFIXES, PARQUET_SUFFIXES, MalformedDataError, from_file
from .sources.base import check_width
from .validation import name_list

__all__ = ["read_table", "source_table", "Table", "DataFileError", "CSV_SUFFIXES", "PARQUET_SUFFIXES"]

#: A data file cannot be used: the message names the file, the column and the line.  The
#: same class as :class:`linreg.sources.MalformedDataError` (a ``ValueError``).
DataFileError = MalformedDataError


@dataclass
class Table:
    """Columns read from a data file: features ``X`` (n, d), target ``y`` ((n,), (n, k) or
    None), sample ``weights`` ((n,) or None), and their names."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    path: str
    weights: np.ndarray | None = None
    weight_name: str | None = None


def read_table(path, target=None, features=None, drop=None, need_target: bool = False,
               features_role: str = "a feature", max_columns: int | None = None,
               weight: str | None = None, delimiter: str | None = None) -> Table:
    """Read the chosen columns of a CSV, Parquet, ``.npy`` or ``.npz`` file as float64.

    Parameters
    ----------
    path : str or Path
    target : str, list of str or None
        Target column names (one, or several for a multi-output model).
    features, drop : list of str or None
        The feature columns, or the columns to leave out (default: every other column).
    need_target : bool
        Whether the target must be present.
    features_role : str
        How an error message calls the feature list (e.g. "a feature the model needs").
    max_columns : int, optional
        Refuse, before reading any row, more chosen columns than this (e.g. more than the
        statistics of a fit can hold in memory).
    weight : str, optional
        A column of sample weights (never also a feature): finite, >= 0 and not all zero.
    delimiter : str, optional
        A CSV file's field separator (default: a tab for ``.tsv``, else a comma).

    Raises
    ------
    DataFileError
        With one line naming the file, the column and (where it applies) the line and row
        (0-based, as in :mod:`linreg.sources`): for an empty file, an unknown column, a
        non-numeric value, a ragged row, a NaN or a missing value, a negative weight, or
        weights that are zero in every row.
    """
    target, features, drop = name_list(target), name_list(features), name_list(drop)
    if need_target and not target:
        raise DataFileError("a target column is needed: the name of the column to predict")
    source = from_file(path, target=target, features=features, drop=drop, weight=weight,
                       chunk_rows=None, features_role=features_role, delimiter=delimiter)
    return source_table(source, path, max_columns)


def source_table(source, path, max_columns: int | None = None) -> Table:
    """The :class:`Table` of a source opened as :func:`read_table` opens it (``from_file``
    with ``chunk_rows=None``): all its rows in memory, checked as :func:`read_table` checks
    them.  ``path`` names the file in the table."""
    if max_columns is not None:
        check_width(source.n_features + source.n_targets, str(path), "--features", max_columns)
    X, Y, w = source.gather()
    y = None
    if source.n_targets:
        y = Y[:, 0].copy() if source.n_targets == 1 else Y
    return Table(np.asarray(X, dtype=np.float64), y, list(source.feature_names),
                 list(source.target_names), str(path), w, source.weight_name)
