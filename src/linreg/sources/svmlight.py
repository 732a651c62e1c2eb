"""Rows of an svmlight / libsvm text file, read as sparse blocks (:func:`svmlight`).

Each line is ``label [qid:q] index:value index:value ... [# comment]``: the target, then the
features that are not zero.  The file is read in pieces of about ``block_bytes`` bytes that
end at a newline, each parsed by one compiled call (:mod:`linreg.sources.svmlight_kernel`)
into a CSR block (float64 values, int32 indices — int64 when ``n_features`` needs them), so
a pass holds a few blocks in memory whatever the size of the file.  Within one fit
(:meth:`SvmlightSource.keeping_blocks`) up to ``keep_bytes`` (128 MiB) of parsed blocks are
kept for its later passes, which parse only the others; a shuffled epoch visits a block's
rows in place, in the order :meth:`SvmlightSource.ordered_blocks` gives.

What is refused, naming the file and the line (1-based): a label or a value that is not a
number or not finite, a pair that is not ``index:value``, index 0 in a one-based file, an
index at or beyond ``n_features``, indices that are not strictly increasing within a line
(unsorted or repeated: refused, as scikit-learn's ``load_svmlight_file`` does, rather than
summed), a malformed ``qid``, and a blank line (a row always has a label; a line that is only
a comment is skipped).  A last line without its newline is read as any other.  Values equal
to zero are not stored (the CSR blocks are canonical).

Without ``n_features`` one quick pass over the file, on two threads, finds the largest index
(each line's last, as the indices of a line increase) and counts the lines; a block with a
comment or anything unusual at a line's end is parsed whole instead.  The lines are checked
by the passes that read them.  Like every source,
the file's size and modification time are recorded when the source is created and checked
before each block and at the end of every pass (:class:`SourceChangedError`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from ..stats import SufficientStats
from .base import NEEDS_FINITE, MalformedDataError, RawChunk, Source, describe_value
from .svmlight_blocks import KEEP_BYTES, PARSERS, BlockArrays, KeptBlocks, compact

__all__ = ["SvmlightSource", "svmlight", "DEFAULT_BLOCK_BYTES", "KEEP_BYTES", "column_names"]

#: bytes per block: about 15,000 rows of 20 features
DEFAULT_BLOCK_BYTES = 4 << 20
_INT32_MAX = np.iinfo(np.int32).max
class SvmlightSource(Source):
    """An svmlight / libsvm file read in CSR blocks (see :func:`svmlight`)."""

    feature_names = None
    target_names = None
    n_targets = 1
    single_target = True
    chunk_rows = None

    def __init__(self, path, n_features=None, zero_based: bool = False,
                 block_bytes: int = DEFAULT_BLOCK_BYTES, keep_bytes: int = KEEP_BYTES):
        p = os.fspath(path)
        if not os.path.exists(p):
            raise MalformedDataError(f"{p}: no such file")
        if os.path.isdir(p):
            raise MalformedDataError(f"{p} is a folder, not a data file")
        if isinstance(block_bytes, bool) or not isinstance(block_bytes, (int, np.integer)) \
                or block_bytes < 1:
            raise ValueError(f"block_bytes must be a positive integer, got {block_bytes!r}")
        if isinstance(keep_bytes, bool) or not isinstance(keep_bytes, (int, np.integer)) \
                or keep_bytes < 0:
            raise ValueError(f"keep_bytes must be an integer ≥ 0, got {keep_bytes!r}")
        self.path, self.zero_based = p, bool(zero_based)
        self.block_bytes, self.keep_bytes = int(block_bytes), int(keep_bytes)
        #: the blocks the fit running now keeps (:meth:`keeping_blocks`), else None
        self._kept = None
        self._snapshot()
        self._ranges = self._find_ranges()
        # per block, once known (a pass in file order): its first line and first row
        k = len(self._ranges)
        self._lines = np.full(k + 1, -1, dtype=np.int64)
        self._rows = np.full(k + 1, -1, dtype=np.int64)
        self._lines[0] = self._rows[0] = 0
        self.n_rows = None
        self._bytes_per_row, self._bytes_per_value = 64.0, 8.0     # until a block is read
        self._inferred = n_features is None
        if n_features is None:
            self.n_features = self._infer_width()
        else:
            if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) \
                    or n_features < 1:
                raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
            self.n_features = int(n_features)
        self.index_dtype = np.int32 if self.n_features <= _INT32_MAX else np.int64

    def __repr__(self):
        return f"sources.svmlight({self.path!r}, n_features={self.n_features})"

    # -- the file's pieces
    def _find_ranges(self) -> list:
        """``[(start, stop), …]``: pieces of about ``block_bytes`` bytes, each ending just
        after a newline (the last at the end of the file)."""
        size = os.path.getsize(self.path)
        ranges, start = [], 0
        with open(self.path, "rb") as f:
            while start < size:
                stop = start + self.block_bytes
                if stop >= size:
                    stop = size
                else:
                    f.seek(stop - 1)
                    while True:
                        piece = f.read(1 << 16)
                        if not piece:
                            stop = size
                            break
                        at = piece.find(b"\n")
                        if at >= 0:
                            stop += at
                            break
                        stop += len(piece)
                    stop = min(stop, size)
                ranges.append((start, stop))
                start = stop
        return ranges

    def _files(self):
        return [self.path]

    @contextlib.contextmanager
    def keeping_blocks(self):
        """Within it, the passes keep up to :attr:`keep_bytes` of parsed blocks in memory and
        use them again instead of reading and parsing them anew (:class:`KeptBlocks`); they
        are let go at its end.  A fit over the rows runs in it
        (:meth:`linreg.rows.Rows.keeping_blocks`): its passes after the first parse only
        the blocks not kept.  (Nested or concurrent: the outermost one keeps them.)"""
        if self._kept is not None or self.keep_bytes == 0:
            yield
            return
        self._kept = KeptBlocks(self.keep_bytes)
        try:
            yield
        finally:
            self._kept = None

    def _n_chunks(self):
        return len(self._ranges)        # known without reading the blocks

    def count_rows(self) -> int:
        if self.n_rows is None:
            for _ in self._chunks(None):
                pass
        return int(self.n_rows)

    def _first_line(self, i: int) -> int:
        """The number of lines before piece ``i`` (its newlines: every piece before it ends
        with one), counted when a message needs it and no pass in file order has yet."""
        if self._lines[i] < 0:
            total = 0
            with open(self.path, "rb") as f:
                for start, stop in self._ranges[:i]:
                    f.seek(start)
                    total += f.read(stop - start).count(b"\n")
            self._lines[i] = total
        return int(self._lines[i])

    def _read(self, f, i: int, spare=None) -> np.ndarray:
        """The bytes of piece ``i``, in ``spare`` (a buffer to reuse) when it is large enough."""
        start, stop = self._ranges[i]
        if spare is not None and spare.local.shape[0] >= stop - start:
            buf = spare.local[:stop - start]
        else:
            buf = np.empty(stop - start, dtype=np.uint8)
            if spare is not None:
                spare.local = buf
        f.seek(start)
        got = f.readinto(memoryview(buf))
        if got != buf.shape[0]:
            self.check_unchanged()
            raise MalformedDataError(f"{self.path}: could not read bytes {start}–{stop}")
        return buf

    # -- parsing
    def _parse(self, buf: np.ndarray, i: int, limit: int, dtype, arrays=None):
        """``(X, y, qid, top, lines)`` of piece ``i`` (its bytes ``buf``), in arrays from
        ``arrays`` (a :class:`BlockArrays`) when given."""
        from .svmlight_kernel import ARRAYS_FULL, FIXUPS_FULL, OK, OUT_OF_RANGE, parse_block
        n = buf.shape[0]
        # room for the rows and values at the bytes per row and per value seen so far (with
        # a margin); a block that needs more is parsed again with room for the most it can
        # hold (a row takes at least 2 bytes, "1\n", a stored value 4, " 1:2")
        rows = int(n / self._bytes_per_row * 1.25) + 16
        colons = int(n / self._bytes_per_value * 1.25) + 16
        fix = np.empty((1024, 5), dtype=np.int64)
        while True:
            if arrays is None:
                indptr, indices, data, y, qid = (
                    np.empty(rows + 1, dtype=dtype), np.empty(colons, dtype=dtype),
                    np.empty(colons), np.empty(rows), np.empty(rows, dtype=np.int64))
            else:
                indptr, indices, data, y, qid = arrays.take(rows, colons, dtype)
            code, m, nnz, nfix, top, line, pos = parse_block(
                buf, n, self.zero_based, limit, indptr, indices, data, y, qid, fix)
            if code == FIXUPS_FULL:
                fix = np.empty((n // 2 + 2, 5), dtype=np.int64)
            elif code == ARRAYS_FULL:
                rows, colons = n // 2 + 2, n // 4 + 2
            else:
                break
        if code == OK and m:
            self._bytes_per_row = max(n / m, 2.0)
            self._bytes_per_value = max(n / max(nnz, 1), 4.0)
        if code != OK:
            if code == OUT_OF_RANGE and self._inferred and limit >= 0:
                # the width came from each line's last index: an unsorted line can hide a
                # larger one, which this parse names
                self._parse(buf, i, -1, np.int64)
            self._syntax_error(buf, i, code, line, pos)
        if nfix:
            self._fixups(buf, i, fix[:nfix], y, data)
        X = sp.csr_matrix((data[:nnz], indices[:nnz], indptr[:m + 1]),
                          shape=(m, self.n_features if limit >= 0 else max(top + 1, 0)),
                          copy=False)
        X.has_sorted_indices = True
        if nfix and not X.data.all():
            X.eliminate_zeros()
        return X, y[:m], qid[:m], top, line

    def _where_line(self, i: int, line: int) -> str:
        return f"{self.path}: line {self._first_line(i) + line + 1}"

    def _syntax_error(self, buf, i, code, line, pos):
        from .svmlight_kernel import ERRORS
        end = pos
        while end < buf.shape[0] and buf[end] not in b" \t\r\n":
            end += 1
        token = bytes(buf[pos:end]).decode("utf-8", "replace")
        what = ERRORS[code]
        if code == 4:
            what = f"feature index beyond n_features={self.n_features}"
        raise MalformedDataError(f"{self._where_line(i, line)}: {what}: {token!r}")

    def _fixups(self, buf, i, fix, y, data):
        """Read the tokens the compiled parser left to Python (see its module docstring)."""
        for kind, at, a, b, line in fix:
            token = bytes(buf[a:b])
            what = "the label" if kind == 0 else "a feature value"
            try:
                value = float(token)
            except ValueError:
                shown = token.decode("utf-8", "replace")
                hint = "" if kind == 0 else " (features are written index:value, e.g. 3:0.5)"
                raise MalformedDataError(f"{self._where_line(i, int(line))}: {what} "
                                         f"{shown!r} is not a number{hint}") from None
            if not np.isfinite(value):
                raise MalformedDataError(f"{self._where_line(i, int(line))}: {what} is "
                                         f"{describe_value(value)}; {NEEDS_FINITE}")
            (y if kind == 0 else data)[at] = value

    def _infer_width(self) -> int:
        """The number of features from the largest index, in one pass on two threads (which
        also counts the lines of every block)."""
        from .svmlight_kernel import last_indices

        spare = threading.local()      # each thread reads into one buffer, again and again

        def piece(i):
            if not hasattr(spare, "local"):
                spare.local = np.empty(0, dtype=np.uint8)
            with open(self.path, "rb") as f:
                buf = self._read(f, i, spare)
            # the quick way: each line's last index (NumPy finds the newlines); a block with
            # a comment, a qid or anything unusual is parsed instead
            ends = np.flatnonzero(buf == 10)
            lines = ends.shape[0]
            if buf.shape[0] and buf[-1] != 10:
                ends = np.append(ends, buf.shape[0])
                lines += 1
            top = -2 if (buf == 35).any() else last_indices(buf, ends)
            if top >= 0:
                top -= 0 if self.zero_based else 1
            if top < -1:
                X, _, _, top, lines = self._parse(buf, i, -1, np.int64)
                return X.shape[0], X.nnz, top, lines
            return lines, -1, top, lines         # (values not counted: no need)

        try:
            with ThreadPoolExecutor(2) as pool:
                parts = list(pool.map(piece, range(len(self._ranges))))
        except MalformedDataError:
            # again in file order, counting lines, to name the line of the first error
            with open(self.path, "rb") as f:
                for i in range(len(self._ranges)):
                    lines = self._parse(self._read(f, i), i, -1, np.int64)[4]
                    self._lines[i + 1] = self._lines[i] + lines
            raise
        self.check_unchanged()
        self._record([(m, nnz, lines) for m, nnz, _, lines in parts])
        top = max((t for _, _, t, _ in parts), default=-1)
        if self.n_rows == 0:
            raise self._no_rows()
        return max(top + 1, 1)

    def _record(self, counts: list) -> None:
        for i, (m, _, lines) in enumerate(counts):
            self._rows[i + 1] = self._rows[i] + m
            self._lines[i + 1] = self._lines[i] + lines
        self.n_rows = int(self._rows[-1])

    def _chunks(self, order):
        """The blocks in ``order`` (None: file order), parsed :data:`PARSERS` at a time on
        threads (the compiled parser releases the GIL), handed out in order; their arrays
        used again through the pass (:class:`BlockArrays`).  Within :meth:`keeping_blocks`,
        the blocks kept by an earlier pass come from memory (the threads parse the next
        blocks not kept meanwhile), and the first blocks parsed are kept while there is
        room."""
        arrays = BlockArrays()
        in_order = order is None
        ids = [int(i) for i in (range(len(self._ranges)) if in_order else order)]
        counts = []
        kept = self._kept
        if kept is not None and kept.blocks:
            self.check_unchanged()      # (the kept blocks are of the file as it was)

        spare = threading.local()      # each thread reads into one buffer, again and again
        spare.local = np.empty(0, dtype=np.uint8)

        def parse(i):
            if not hasattr(spare, "local"):
                spare.local = np.empty(0, dtype=np.uint8)
            with open(self.path, "rb") as f:
                buf = self._read(f, i, spare)
            out = self._parse(buf, i, self.n_features, self.index_dtype, arrays)
            if kept is not None and kept.room_for(out[0]):
                return compact(out[0], out[1]) + out[2:]      # (copied here, on the thread)
            return out

        pool = ThreadPoolExecutor(PARSERS, thread_name_prefix="linreg-svmlight")
        try:
            waiting = deque()       # (block, its parse) for the next blocks not kept
            ahead = 0               # where the next block to parse is looked for in ids
            for i in ids:
                while len(waiting) < PARSERS + 1 and ahead < len(ids):
                    j = ids[ahead]
                    ahead += 1
                    if kept is None or j not in kept:
                        self.check_unchanged()
                        waiting.append((j, pool.submit(parse, j)))
                if waiting and waiting[0][0] == i:
                    try:
                        X, y, _, _, lines = waiting.popleft()[1].result()
                    except MalformedDataError:
                        parse(i)     # again, the lines before it counted now: names the line
                        raise
                    if kept is not None:
                        kept.offer(i, X, y, lines)
                else:
                    X, y, lines = kept.get(i)
                if in_order:
                    counts.append((X.shape[0], X.nnz, lines))
                    self._rows[i + 1] = self._rows[i] + X.shape[0]
                    self._lines[i + 1] = self._lines[i] + lines
                first = int(self._rows[i])
                yield RawChunk(X, y.reshape(-1, 1), None, first, self.path, first)
        finally:
            for _, job in waiting:
                job.cancel()
            pool.shutdown(wait=True)
        if in_order and self.n_rows is None:
            self._record(counts)

    # -- blocks: sparse X, every value checked by the parser
    def checked_blocks(self, shuffle: bool = False, random_state=None):
        from .svmlight_kernel import permute_rows
        rng = np.random.default_rng(random_state)
        arrays = BlockArrays()        # for the shuffled copies
        for c in self._chunks(self._order(shuffle, rng)):
            X, Y = c.X, c.Y
            if shuffle:
                # as X[perm], Y[perm], into arrays used again
                perm = rng.permutation(X.shape[0])
                m, nnz = X.shape[0], X.nnz
                indptr, indices, data, y, _ = arrays.take(m, nnz, X.indices.dtype)
                permute_rows(X.indptr, X.indices, X.data, Y[:, 0], perm, indptr, indices,
                             data, y)
                X = sp.csr_matrix((data[:nnz], indices[:nnz], indptr[:m + 1]),
                                  shape=X.shape, copy=False)
                X.has_sorted_indices = True
                Y = y[:m].reshape(-1, 1)
            yield X, Y, None, c
        self.check_unchanged()

    def ordered_blocks(self, shuffle: bool = False, random_state=None):
        """``(X, Y, None, order)``: the blocks as :meth:`blocks` gives them, each with the
        order to visit its rows in — shuffled, the blocks in a random order and ``order`` the
        permutation :meth:`blocks` would apply (the same draws), the rows left in place:
        ``X[order]`` is the block :meth:`blocks` gives, without its copy (a kernel that
        takes an order, :func:`linreg.epochs.streamed_kernel_rows`, reads them so)."""
        rng = np.random.default_rng(random_state)
        for c in self._chunks(self._order(shuffle, rng)):
            m = c.X.shape[0]
            order = rng.permutation(m) if shuffle else np.arange(m, dtype=np.int64)
            yield c.X, c.Y, None, order
        self.check_unchanged()

    def blocks_again(self):
        for X, Y, w, _ in self.checked_blocks():
            yield X, Y, w

    def unchecked_blocks(self):
        yield from self.checked_blocks()

    def check_chunk(self, c) -> None:
        """Every value was checked when the block was parsed."""

    def stats(self) -> SufficientStats:
        """The statistics of all rows, merged block by block from sparse products."""
        from ..rows.sparse import sparse_stats
        total = SufficientStats.empty(self.n_features, 1)
        for X, Y, w in self.blocks():
            if X.shape[0]:
                total = total.merge(sparse_stats(X, Y, w))
        self.check_unchanged()
        if total.n_rows == 0:
            raise self._no_rows()
        return total

    def gather(self) -> tuple:
        Xs, Ys = [], []
        for X, Y, _ in self.blocks():
            Xs.append(X)
            Ys.append(Y)
        if not Xs or sum(X.shape[0] for X in Xs) == 0:
            raise self._no_rows()
        return sp.vstack(Xs, format="csr"), np.concatenate(Ys), None

    def read_qid(self) -> np.ndarray:
        """The ``qid`` of every row (−1 where a line has none), in one pass."""
        out = []
        with open(self.path, "rb") as f:
            for i in range(len(self._ranges)):
                out.append(self._parse(self._read(f, i), i, self.n_features,
                                       self.index_dtype)[2])
        self.check_unchanged()
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def column_names(n_features: int, zero_based: bool = False) -> list[str]:
    """The names the command line gives the columns of an svmlight file, in the file's own
    numbering: ``x1`` … ``xd`` (one-based), ``x0`` … ``x(d-1)`` (``zero_based``): column ``j``
    of ``X`` is ``x{j+1}`` or ``x{j}``.  (A source itself has no feature names.)"""
    first = 0 if zero_based else 1
    return [f"x{j}" for j in range(first, first + int(n_features))]


def svmlight(path, n_features: int | None = None, zero_based: bool = False,
             block_bytes: int = DEFAULT_BLOCK_BYTES,
             keep_bytes: int = KEEP_BYTES) -> SvmlightSource:
    """Rows of an svmlight / libsvm text file (``label [qid:q] index:value … [# comment]``),
    read in sparse CSR blocks of about ``block_bytes`` bytes of the file.

    Parameters
    ----------
    path : str or path-like
    n_features : int, optional
        The number of columns; by default one more than the largest index (found by one
        pass over the file before any block is handed out).
    zero_based : bool
        Whether the first column is index 0 (default: one-based, index 1, as libsvm and
        svmlight write).
    block_bytes : int
        About how many bytes of the file each block holds (whole lines).
    keep_bytes : int
        At most how many bytes of parsed blocks a fit keeps in memory, to use again in its
        later passes instead of parsing them anew (default :data:`KEEP_BYTES`, 128 MiB; 0:
        none, every pass reads the file).  Let go when the fit ends.

    The blocks are ``(X, Y, None)`` with ``X`` a canonical ``scipy.sparse`` CSR matrix
    (float64 values; int32 indices, int64 beyond 2³¹ − 1 columns) and ``Y`` (m, 1).  ``qid``
    is read and checked; :meth:`SvmlightSource.read_qid` returns it.  See
    :mod:`linreg.sources.svmlight` for what is refused.
    """
    return SvmlightSource(path, n_features, zero_based, block_bytes, keep_bytes)
