"""One file of any format linreg reads, its reader chosen by the file name's extension."""

from __future__ import annotations

import os

from .base import DEFAULT_CHUNK_ROWS, MalformedDataError, Source
from .csv_file import COMPRESSIONS, CsvSource
from .feather_files import FEATHER_SUFFIXES, FeatherSource
from .numpy_files import NpyColumnsSource
from .parquet_files import ParquetSource
from .svmlight import SvmlightSource

__all__ = ["CSV_SUFFIXES", "PARQUET_SUFFIXES", "FEATHER_SUFFIXES", "SVMLIGHT_SUFFIXES",
           "from_file", "is_svmlight"]

#: the file name extensions :func:`from_file` reads as CSV and as Parquet
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: ... and as svmlight / libsvm text (a ``.txt`` file is CSV: name an svmlight file ``.svm``)
SVMLIGHT_SUFFIXES = (".svm", ".svmlight", ".libsvm")


def is_svmlight(path) -> bool:
    """Whether :func:`from_file` reads ``path`` as an svmlight / libsvm file (its extension)."""
    return os.path.splitext(os.fspath(path))[1].lower() in SVMLIGHT_SUFFIXES


def from_file(path, target=None, features=None, drop=None, weight=None,
              chunk_rows: int | None = DEFAULT_CHUNK_ROWS,
              features_role: str = "a feature", delimiter: str | None = None,
              n_features: int | None = None, zero_based: bool = False) -> Source:
    """A source for one file of any format linreg reads, chosen by its extension: CSV
    (``.csv``, ``.txt``; ``.tsv`` tab-separated), Feather / Arrow IPC (``.feather``, ``.arrow``,
    ``.ipc``), compressed CSV (``.csv.gz``, ``.csv.bz2``, ``.csv.zst``, decompressed in memory), Parquet (``.parquet``, ``.pq``), ``.npy`` or ``.npz``,
    svmlight / libsvm text (``.svm``, ``.svmlight``, ``.libsvm``: :func:`~linreg.sources.svmlight`,
    sparse blocks; its label is the target, its features are numbered, not named).

    Parameters
    ----------
    path : str or path-like
    target : str, list of str or None
        The target column(s); None for a file read for prediction (no target).
    features, drop : list of str, optional
        The feature columns, or the columns to leave out (default: every column that is not
        the target or the weight).
    weight : str, optional
        A column of sample weights (>= 0, never a feature).
    delimiter : str, optional
        The field separator of a CSV file (default: a tab for ``.tsv``, else a comma).
    chunk_rows : int or None
        Rows per block; None reads the whole file as one block.
    features_role : str
        How an error message calls a listed feature (e.g. "a feature the model needs").
    n_features, zero_based
        For an svmlight file only (see :func:`~linreg.sources.svmlight`): its width (default:
        one more than its largest index) and whether its indices start at 0.  An svmlight
        file takes none of ``target``, ``features``, ``drop``, ``weight`` and ``delimiter``
        (each refused, naming the file and the parameter), and is read in blocks of about
        4 MB of text whatever ``chunk_rows`` says.

    Raises
    ------
    MalformedDataError
        Naming the file (and the column): no such file, an unknown extension, an unreadable
        file, a column that is missing.  (A chosen column that is not numeric is refused
        when its numbers are read, by ``blocks()``, ``stats()`` or ``gather()``: a table
        reads it as categories, see ``table_blocks``.)
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise MalformedDataError(f"{p}: no such file")
    if os.path.isdir(p):
        raise MalformedDataError(f"{p} is a folder, not a data file")
    suffix = os.path.splitext(p)[1].lower()
    if suffix in COMPRESSIONS:        # data.csv.gz: a compressed CSV (or TSV)
        inner = os.path.splitext(p[: -len(suffix)])[1].lower()
        if inner not in CSV_SUFFIXES:
            raise MalformedDataError(f"{p}: a compressed file is read as CSV: name it "
                                     f"data.csv{suffix} or data.tsv{suffix}"
                                     + (" (svmlight files are read uncompressed)"
                                        if inner in SVMLIGHT_SUFFIXES else ""))
        suffix = inner
    if suffix in SVMLIGHT_SUFFIXES:
        given = {"target": target, "features": features, "drop": drop, "weight": weight,
                 "delimiter": delimiter}
        for name, value in given.items():
            if value is not None:
                raise MalformedDataError(
                    f"{p}: {name}={value!r} does not apply to an svmlight file (its label is "
                    "the target, its features are numbered, no weights, no separator)")
        return SvmlightSource(p, n_features, zero_based)
    if n_features is not None or zero_based:
        raise MalformedDataError(f"{p}: n_features and zero_based are for svmlight files "
                                 f"({', '.join(SVMLIGHT_SUFFIXES)}), not {suffix or 'this'} files")
    if suffix in CSV_SUFFIXES:
        make = CsvSource
    elif suffix in PARQUET_SUFFIXES:
        make = ParquetSource
    elif suffix in FEATHER_SUFFIXES:
        make = FeatherSource
    elif suffix in (".npy", ".npz"):
        make = NpyColumnsSource
    else:
        raise MalformedDataError(f"{p}: cannot tell the format from the extension "
                                 f"{suffix or '(none)'!r}; use .csv, .tsv, .parquet, .feather/.arrow, .npy, .npz or .svm")
    if make is CsvSource:
        sep = delimiter if delimiter is not None else ("\t" if suffix == ".tsv" else ",")
        return CsvSource(p, target, features, drop, weight, delimiter=sep,
                         chunk_rows=chunk_rows, features_role=features_role)
    if delimiter is not None:
        raise MalformedDataError(f"{p}: a field separator is for CSV files, not {suffix} files")
    return make(p, target, features, drop, weight, chunk_rows=chunk_rows,
                features_role=features_role)
