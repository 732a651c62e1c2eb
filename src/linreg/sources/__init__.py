"""Data sources bigger than memory: ``.npy``, Parquet and CSV files read in row blocks.

A source gives the rows of ``X`` (features), ``Y`` (targets) and, optionally, sample
weights ``s`` in blocks of about ``chunk_rows`` rows, so the memory a pass needs is bounded
by the block size whatever the file size::

    for X_block, Y_block, w_block in source.blocks():   # X (m, d), Y (m, k), w (m,) or None
        ...

Everything the batch solvers need is the :class:`~linreg.stats.SufficientStats` of the
rows, computed in **one pass** (:meth:`Source.stats`): each block's statistics are
computed on its own mean and merged exactly with Chan et al.'s update, so
``LinearRegression().fit(source)`` gives the coefficients of the in-memory fit.

Every block is checked as it is read.  A bad value (not a number, empty, NaN, ±inf), a
row with the wrong number of columns, or a weight below zero raises
:class:`MalformedDataError` naming the file, the row (0-based, counting data rows over all
the files of the source), the line of a CSV file (1-based, the header is line 1) and the
column.

Sources whose columns have names (CSV, Parquet, Feather, ``.npy``/``.npz`` tables) also
read any chosen columns as the blocks of a table, text and categories included:
``column_kinds(names)`` says what kind each column is (``"number"``, ``"text"``, ``"bool"``,
``"category"``) and ``table_blocks(names)`` gives
:class:`~linreg.tables.blocks.TableBlock` blocks, numbers as float64 (NaN where missing) and
the other kinds as codes into the block's levels (see :mod:`~linreg.sources.table_kinds`).

:func:`from_file` opens any of the formats by its extension (CSV, Parquet, ``.npy``,
``.npz``, svmlight as ``.svm``/``.svmlight``/``.libsvm``), with or without a target column; ``chunk_rows=None`` reads the whole file as one
block, the fastest way when it fits in memory (what :func:`linreg.io.read_table` does).

Each file's size and modification time are recorded when the source is created and checked
before every block and at the end of every pass: a file that changes meanwhile raises
:class:`SourceChangedError` (create a new source to read the new contents).

Shuffled passes (``blocks(shuffle=True)``, used by the stochastic solvers) visit the
blocks in a random order and shuffle the rows *within* each block.  That is not a global
shuffle: rows of one block stay together in an epoch.  If the file is sorted (by time, by
target, ...), use blocks small compared with the file, or shuffle the file once first.

The package, one module each: :mod:`~linreg.sources.base` (the :class:`Source` base class,
its checks and messages), :mod:`~linreg.sources.columns` (files with named columns: choosing
target, features and weights), :mod:`~linreg.sources.arrow` (pyarrow tables to float64
blocks, for CSV and Parquet), :mod:`~linreg.sources.numpy_files` (``.npy``/``.npz``),
:mod:`~linreg.sources.parquet_files`, :mod:`~linreg.sources.feather_files`,
:mod:`~linreg.sources.csv_file`, :mod:`~linreg.sources.formats` (:func:`from_file`),
:mod:`~linreg.sources.svmlight` (svmlight / libsvm text as sparse blocks, parsed by
:mod:`~linreg.sources.svmlight_kernel`),
:mod:`~linreg.sources.table_kinds` and :mod:`~linreg.sources.csv_tables` (the blocks of a
table).

Examples
--------
>>> import numpy as np, tempfile, os
>>> from linreg import LinearRegression, sources
>>> folder = tempfile.mkdtemp()
>>> t = np.arange(10.0); X = np.column_stack([t, t**2]); y = X @ [1.0, -2.0] + 3.0
>>> np.save(os.path.join(folder, "X.npy"), X); np.save(os.path.join(folder, "y.npy"), y)
>>> src = sources.npy(os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy"), chunk_rows=3)
>>> model = LinearRegression().fit(src)
>>> np.round(model.coef_, 10).tolist(), round(float(model.intercept_), 10)
([1.0, -2.0], 3.0)
"""

from ..stats import representative_point, shifted_stats, unshift
from .base import (
    DEFAULT_CHUNK_ROWS,
    MalformedDataError,
    Source,
    SourceChangedError,
    Table,
    is_source,
)
from .csv_file import CsvSource, csv
from .formats import CSV_SUFFIXES, PARQUET_SUFFIXES, SVMLIGHT_SUFFIXES, from_file, is_svmlight
from .numpy_files import NpyColumnsSource, NpyXYSource, arrays, npy
from .parquet_files import ParquetSource, parquet
from .svmlight import SvmlightSource, svmlight

#: the names these classes had before they said which ``.npy`` reader is which
NpySource = NpyXYSource
ArraySource = NpyColumnsSource

__all__ = ["CSV_SUFFIXES", "DEFAULT_CHUNK_ROWS", "PARQUET_SUFFIXES", "ArraySource", "CsvSource",
           "MalformedDataError", "NpySource", "ParquetSource", "Source", "SourceChangedError",
           "SVMLIGHT_SUFFIXES", "SvmlightSource", "Table", "arrays", "csv", "from_file", "is_source",
           "is_svmlight", "npy", "parquet",
           "representative_point", "shifted_stats", "svmlight", "unshift"]
