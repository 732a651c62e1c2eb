"""The arrays of an svmlight source's parsed blocks (:mod:`linreg.sources.svmlight`): the
bounded set a pass parses into and uses again (:class:`BlockArrays`), and the blocks a fit
keeps for its later passes (:class:`KeptBlocks`)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import scipy.sparse as sp

__all__ = ["PARSERS", "KEEP", "KEEP_BYTES", "BlockArrays", "KeptBlocks", "block_bytes", "compact"]

#: blocks parsed side by side on threads during a pass
PARSERS = 2
#: sets of block arrays a pass keeps to use again: the blocks parsed ahead, the one handed
#: out, its shuffled copy and those the read-ahead thread and its caller hold
KEEP = 2 * PARSERS + 8
#: bytes of parsed blocks a fit keeps in memory to use again in its later passes instead of
#: reading and parsing them again (:meth:`linreg.sources.svmlight.SvmlightSource.keeping_blocks`): 128 MiB, the CSR
#: arrays of ~130 MB of text at 20 values a row (12 bytes a value); with it a streamed fit
#: over a 2 GB file stays under 600 MB resident
KEEP_BYTES = 128 << 20


def _most_refs(arrays: list) -> int:
    most = 0
    for a in arrays:
        most = max(most, sys.getrefcount(a))
    return most


#: the references :func:`_most_refs` sees to arrays only their list holds
_UNUSED = _most_refs([np.empty(0)])


class BlockArrays:
    """The arrays the blocks of one pass are parsed (or shuffled) into, used again once
    nothing else refers to them (no block, no view of one), at most ``keep`` sets: a pass
    allocates a few sets at its start and then reuses them, so its memory stays that of
    the blocks alive at once, whatever the number of blocks and however the allocator
    keeps what threads free.  Past ``keep`` sets in use (a caller that keeps every block)
    new arrays are allocated as before.  ``made`` counts the sets allocated."""

    def __init__(self, keep: int = KEEP):
        self.keep, self.sets, self.made = keep, [], 0
        self.lock = threading.Lock()

    def take(self, rows: int, values: int, dtype) -> tuple:
        """``(indptr, indices, data, y, qid)`` with room for ``rows`` rows and ``values``
        stored values (``indptr`` and ``indices`` of ``dtype``)."""
        with self.lock:
            free = None
            for at, arrays in enumerate(self.sets):
                if _most_refs(arrays) <= _UNUSED:
                    if arrays[0].shape[0] > rows and arrays[1].shape[0] >= values \
                            and arrays[0].dtype == dtype:
                        return tuple(arrays)      # in use from here (the tuple holds them)
                    free = at if free is None else free
            # room to spare: the next blocks' estimates vary a little
            rows, values = rows + rows // 4 + 16, values + values // 4 + 16
            made = [np.empty(rows + 1, dtype=dtype), np.empty(values, dtype=dtype),
                    np.empty(values), np.empty(rows), np.empty(rows, dtype=np.int64)]
            self.made += 1
            if free is not None:
                self.sets[free] = made
            elif len(self.sets) < self.keep:
                self.sets.append(made)
            return tuple(made)


class KeptBlocks:
    """Parsed blocks kept in memory for the later passes of one fit, at most ``budget``
    bytes of arrays (:meth:`linreg.sources.svmlight.SvmlightSource.keeping_blocks`): ``i → (X, y, lines)``, each
    block's arrays of its exact size (copied out of the pass's reused arrays when kept).
    The first blocks a pass parses are kept until the budget is spent; a later pass takes
    those from here and reads and parses only the others (while it works on the kept ones).
    (Two fits of one source at once share the outer one's.)"""

    def __init__(self, budget: int):
        self.budget, self.used, self.blocks = int(budget), 0, {}
        self.lock = threading.Lock()

    def __contains__(self, i) -> bool:
        return i in self.blocks

    def get(self, i):
        return self.blocks.get(i)

    def room_for(self, X) -> bool:
        """Whether a block like ``X`` (and its targets) would fit now."""
        return self.used + block_bytes(X) <= self.budget

    def offer(self, i: int, X, y, lines: int) -> None:
        """Keep block ``i`` if it fits (``X`` and ``y`` compact: see :func:`compact`)."""
        size = block_bytes(X)
        with self.lock:
            if i not in self.blocks and self.used + size <= self.budget:
                self.blocks[i] = (X, y, lines)
                self.used += size


def block_bytes(X) -> int:
    """The bytes of a CSR block and its targets, as kept."""
    return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + 8 * X.shape[0]


def compact(X, y) -> tuple:
    """``(X, y)`` in arrays of their own, of their exact size (a parsed block's are views
    of larger arrays the pass uses again)."""
    Xc = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape,
                       copy=False)
    Xc.has_sorted_indices = True
    return Xc, y.copy()
