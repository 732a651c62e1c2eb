"""A block of a table, as the encoding reads it: each column either numbers or codes.

A table (a pandas or pyarrow table in memory, a CSV/Parquet/Feather file, a Dask DataFrame
partition) reaches the encoding one block of rows at a time, each column already in one of two
forms:

* numbers: a float64 array, ``NaN`` where a value is missing;
* :class:`Codes`: a categorical column (text, booleans, a pandas ``category`` or an Arrow
  dictionary column) as integer codes into the block's own list of levels, ``-1`` where a
  value is missing.  Blocks list their levels independently (a block need not have seen every
  level); the encoding merges them into the union of the levels seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Codes", "TableBlock"]


@dataclass
class Codes:
    """A categorical column of one block: ``levels[codes[i]]`` is row ``i``'s value.

    Attributes
    ----------
    codes : ndarray of int, shape (n,)
        Index into ``levels``; ``-1`` marks a missing value.
    levels : list
        The distinct values (str, bool, int or float), each once.
    declared : bool
        ``levels`` is the column's declared order (a pandas ``category`` or Arrow dictionary
        column): the first is the reference level.  Otherwise the reference is the first level
        in sorted order of the union of all blocks' levels.
    """

    codes: np.ndarray
    levels: list
    declared: bool = False

    def __len__(self) -> int:
        return len(self.codes)

    def missing(self) -> np.ndarray:
        return self.codes < 0


@dataclass
class TableBlock:
    """Rows ``first_row … first_row + n_rows − 1`` of a table, by column name.

    Attributes
    ----------
    columns : dict of str → ndarray (float64) or :class:`Codes`
    n_rows : int
    first_row : int
        The global (0-based) data-row number of the block's first row.
    where : callable or None
        ``where(r)`` says where row ``r`` of the block is, for a message ("line 58 of
        penguins.csv", "row 57 of part-0.parquet"); None: "row {first_row + r}".
    """

    columns: dict
    n_rows: int
    first_row: int = 0
    where: object = field(default=None, repr=False)

    def locate(self, r: int) -> str:
        """Where row ``r`` of this block is, in words."""
        if self.where is not None:
            return self.where(r)
        return f"row {self.first_row + r}"
