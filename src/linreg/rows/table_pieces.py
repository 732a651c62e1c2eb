"""Pieces of an evaluated block of a table (:class:`~linreg.tables.encoding.EncodedBlock`):
the rows of each fold, bounded pieces for the passes, where a piece's rows came from, and the
numbers of a block's rows in the table."""

from __future__ import annotations

import numpy as np

__all__ = ["row_numbers", "fold_pieces", "take_rows", "row_pieces", "Piece", "labels_of",
           "block_rows"]


def row_numbers(ev, first: int | None = None) -> np.ndarray:
    """The numbers (0-based, in the table or the file) of an evaluated block's rows, its
    first row numbered ``first`` (default: the block's ``first_row``): a row left out for a
    missing value keeps its number, so the others' do not move."""
    if first is None:
        first = ev.block.first_row if ev.block is not None else 0
    if ev.keep is None:
        return np.arange(first, first + ev.n_rows, dtype=np.int64)
    return first + np.flatnonzero(ev.keep).astype(np.int64)


def fold_pieces(ev, ids: np.ndarray, n_folds: int):
    """``(fold, rows of ev in that fold)`` for every fold with rows in ``ev``."""
    if ids.shape[0] and ids[0] == ids[-1] and (ids == ids[0]).all():
        yield int(ids[0]), ev
        return
    order = np.argsort(ids, kind="stable")
    cuts = np.searchsorted(ids[order], np.arange(n_folds + 1))
    for f in range(n_folds):
        a, b = int(cuts[f]), int(cuts[f + 1])
        if a < b:
            yield f, take_rows(ev, order[a:b])


def take_rows(ev, rows: np.ndarray):
    """The rows ``rows`` of an evaluated block, as an evaluated block."""
    from ..tables.encoding import EncodedBlock
    return EncodedBlock(len(rows), None, {e: v[rows] for e, v in ev.numeric.items()},
                        {e: c[rows] for e, c in ev.codes.items()}, ev.Y[rows],
                        None if ev.w is None else ev.w[rows], 0, Piece(ev, rows))


def row_pieces(ev, step: int, order=None):
    """An evaluated block cut into pieces of at most ``step`` rows (rows permuted by
    ``order`` first, when given)."""
    from ..tables.encoding import EncodedBlock
    n = ev.n_rows
    if order is None and n <= step:
        yield ev
        return
    for start in range(0, n, step):
        rows = (slice(start, min(start + step, n)) if order is None
                else order[start:start + step])
        keep = np.arange(n)[rows]
        yield EncodedBlock(len(keep), None, {e: v[rows] for e, v in ev.numeric.items()},
                           {e: c[rows] for e, c in ev.codes.items()}, ev.Y[rows],
                           None if ev.w is None else ev.w[rows], 0,
                           Piece(ev, keep))


class Piece:
    """Where the rows of a piece of an evaluated block came from (for ``groups``)."""

    def __init__(self, ev, rows):
        self.ev, self.rows = ev, rows


def labels_of(piece, name):
    """The labels ``name`` (a column of the table, or an array over all rows) of a piece."""
    if isinstance(piece.block, Piece):
        ev, rows = piece.block.ev, piece.block.rows
    else:
        ev, rows = piece, None
    block = ev.block
    if ev.keep is not None:
        kept = np.flatnonzero(ev.keep)
        rows = kept if rows is None else kept[rows]
    if isinstance(name, str):
        col = block.columns[name]
        values = np.asarray(col.levels, dtype=object)[col.codes] if hasattr(col, "codes") else col
    else:
        values = np.asarray(name)[block.first_row:block.first_row + block.n_rows]
    return values if rows is None else values[rows]


def block_rows(block, mask: np.ndarray):
    """The rows of a :class:`~linreg.tables.blocks.TableBlock` where ``mask`` is true, as a
    block (messages still name the rows' places in the file or table)."""
    from ..tables.blocks import Codes, TableBlock
    idx = np.flatnonzero(mask)
    columns = {name: (Codes(c.codes[idx], c.levels, c.declared) if isinstance(c, Codes)
                      else np.asarray(c)[idx]) for name, c in block.columns.items()}
    return TableBlock(columns, len(idx), block.first_row,
                      lambda r: block.locate(int(idx[r])))
