"""Cross-validation folds, as a function of the global row number.

A fold assignment must not depend on where the rows live: an array in memory, a file read in
blocks and a Dask collection split into partitions must put row ``i`` in the same fold.  So
every rule here maps the global row number ``i`` (0-based, in file order) to a fold:

* ``cv=k, shuffle=False``: contiguous folds, as ``sklearn.model_selection.KFold(k)``: the
  first ``n mod k`` folds hold ``⌊n/k⌋ + 1`` rows, the others ``⌊n/k⌋`` (needs ``n``
  before the pass: arrays, ``.npy`` and Parquet sources and dask arrays know it);
* ``cv=k, shuffle=True``: fold ``splitmix64(splitmix64(random_state) xor i) mod k`` — a
  pseudo-random fold per row, from the row number and the seed only, so a block of rows
  anywhere gets its folds without knowing the others (fold sizes are then about ``n/k``,
  not exactly equal);
* ``cv=array`` of length ``n``: fold ids or group labels; each distinct value is one fold
  (in sorted order of the values), as ``LeaveOneGroupOut`` would make them;
* a scikit-learn splitter (rows in memory only), or a list of ``(train, test)`` index pairs:
  the test sets, which must partition the rows, each training set being the rest.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Folds", "make_folds", "splitmix64"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """Steele, Lea & Flood's SplitMix64 finaliser on uint64 (wrapping arithmetic): a
    bijection that scatters consecutive integers over all 64 bits."""
    x = np.asarray(x, dtype=np.uint64) + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


class Folds:
    """Which fold each row is in: :meth:`of_rows` ``(start, stop) -> ids``.

    Attributes
    ----------
    n_folds : int
    kind : str
        ``"kfold"``, ``"hash"`` or ``"ids"``.
    labels : ndarray or None
        For ``"ids"``: the distinct values of the array, fold ``f`` holding value ``labels[f]``.
    """

    def __init__(self, n_folds: int, kind: str, *, bounds=None, seed=None, ids=None, labels=None):
        self.n_folds, self.kind = n_folds, kind
        self._bounds, self._ids, self.labels = bounds, ids, labels
        if seed is not None:
            self._key = splitmix64(np.array([seed], dtype=np.uint64))[0]

    def of_rows(self, start: int, stop: int) -> np.ndarray:
        """Fold ids (int64) of the global rows ``start, …, stop − 1``."""
        if self.kind == "ids":
            if stop > self._ids.shape[0]:
                raise ValueError(f"cv gives fold ids for {self._ids.shape[0]} rows, but the data "
                                 f"has at least {stop}")
            return self._ids[start:stop]
        return self.of_numbers(np.arange(start, stop, dtype=np.int64))

    def of_numbers(self, numbers: np.ndarray) -> np.ndarray:
        """Fold ids (int64) of the global rows numbered ``numbers`` (increasing, int64): the
        rows of a table left after those with a missing value are dropped keep their
        numbers."""
        i = np.asarray(numbers, dtype=np.int64)
        if self.kind == "kfold":
            return np.searchsorted(self._bounds, i, side="right").astype(np.int64)
        if self.kind == "hash":
            return (splitmix64(i.astype(np.uint64) ^ self._key)
                    % np.uint64(self.n_folds)).astype(np.int64)
        if i.shape[0] and i[-1] >= self._ids.shape[0]:
            raise ValueError(f"cv gives fold ids for {self._ids.shape[0]} rows, but the data has "
                             f"at least {int(i[-1]) + 1}")
        return self._ids[i]


def _check_count(n_folds: int, n_rows: int | None, what: str) -> None:
    if n_folds < 2:
        raise ValueError(f"{what} gives {n_folds} fold; cross-validation needs at least 2 "
                         "(with groups: at least 2 distinct groups)")
    if n_rows is not None and n_folds > n_rows:
        raise ValueError(f"cv asks for {n_folds} folds but there are only {n_rows} rows "
                         f"(n_samples={n_rows}); use at most {n_rows} folds")


def make_folds(cv, n_rows: int | None, shuffle: bool, random_state, X=None, y=None,
               groups=None) -> Folds:
    """The :class:`Folds` for ``cv`` (an int, an array of fold ids/groups, or a scikit-learn
    splitter, which needs the rows ``X``, ``y`` in memory).  ``n_rows`` may be None for rows
    whose count is not known before a pass (then only ``shuffle=True`` works for an int)."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        k = int(cv)
        _check_count(k, n_rows, f"cv={k}")
        if shuffle:
            if not isinstance(random_state, numbers.Integral) or random_state < 0:
                raise ValueError("shuffle=True needs random_state a non-negative int (the folds "
                                 "are computed from it and the row number, and must be the same "
                                 f"in every pass); got {random_state!r}")
            return Folds(k, "hash", seed=int(random_state))
        if n_rows is None:
            raise ValueError("contiguous folds (shuffle=False) need the row count before the "
                             "pass, which this data does not give; use shuffle=True or an "
                             "array of fold ids")
        sizes = np.full(k, n_rows // k)
        sizes[: n_rows % k] += 1
        return Folds(k, "kfold", bounds=np.cumsum(sizes)[:-1])
    splits = None
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        if X is None:
            raise ValueError("a scikit-learn splitter as cv needs the rows in memory; for files "
                             "and Dask give cv an int or an array of fold ids")
        splits = cv.split(X, y, groups)
    elif isinstance(cv, (list, tuple)) and cv and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in cv):
        splits = cv          # (train, test) index pairs, as scikit-learn accepts
    if splits is not None:
        if n_rows is None:
            raise ValueError("cv as (train, test) splits needs the row count before the pass; "
                             "give an array of fold ids instead")
        n = n_rows
        ids = np.full(n, -1, dtype=np.int64)
        f = -1
        for f, (train, test) in enumerate(splits):
            test = np.asarray(test)
            if test.dtype == bool:
                test = np.flatnonzero(test)
            train = np.asarray(train)
            if train.dtype == bool:
                train = np.flatnonzero(train)
            if train.shape[0] + test.shape[0] != n or np.intersect1d(train, test).shape[0]:
                raise ValueError(f"split {f}: the training rows must be exactly the rows not "
                                 "held out (exact cross-validation from statistics)")
            if np.any(ids[test] >= 0):
                raise ValueError(f"the splitter's test sets overlap (split {f} repeats rows); "
                                 "exact cross-validation needs test sets that partition the rows")
            ids[test] = f
        if np.any(ids < 0):
            raise ValueError(f"the splitter's test sets leave {int(np.sum(ids < 0))} rows out; "
                             "exact cross-validation needs test sets that partition the rows")
        _check_count(f + 1, n, "the splitter")
        return Folds(f + 1, "ids", ids=ids, labels=np.arange(f + 1))
    if isinstance(cv, str) or cv is None or isinstance(cv, bool):
        raise ValueError(f"cv must be an int (folds), an array of fold ids or groups, a "
                         f"scikit-learn splitter, 'loo' or 'gcv'; got {cv!r}")
    arr = np.asarray(cv)
    if arr.ndim != 1:
        raise ValueError(f"cv as fold ids must be 1-D (one id per row), got shape {arr.shape}")
    if n_rows is not None and arr.shape[0] != n_rows:
        raise ValueError(f"cv gives fold ids for {arr.shape[0]} rows, but the data has {n_rows}")
    labels, ids = np.unique(arr, return_inverse=True)
    _check_count(labels.shape[0], arr.shape[0], "cv (fold ids)")
    return Folds(labels.shape[0], "ids", ids=ids.astype(np.int64), labels=labels)
