"""The encoding of a table: from a block of columns to the model's design, one block at a time.

An :class:`Encoding` holds what a fit learns about a table — each factor's kind (numbers or
categories), the levels of each categorical factor (the union over every block seen), the
state of stateful transforms — and, once :meth:`Encoding.finalize` has fixed the levels, the
design's columns (names, terms, the map from the statistics' columns).

Blocks are encoded in two forms:

* for the statistics (:meth:`Encoding.learn`): numeric terms as dense columns, and each term
  with categorical factors as *cells* — the combination of its categorical factors' levels
  seen in each row (an integer per row) times the product of its numeric factors — never as
  dense dummy columns (:mod:`linreg.tables.cells` accumulates their statistics);
* for everything that reads rows after the fit (:meth:`Encoding.design`,
  :meth:`Encoding.linear`): the design's own columns, in bounded blocks, or the linear
  predictor computed by indexing the coefficients by level.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from ..exceptions import MessageBuilder, ParameterWording
from . import expressions as ex
from .blocks import Codes, TableBlock
from .formula import ParsedFormula, layout

__all__ = ["Encoding", "EncodedBlock", "MissingValueError", "UnknownLevelError", "MISSING_CHOICES",
           "missing_value_error"]

MISSING_CHOICES = ("error", "drop")


class MissingValueError(ParameterWording, ValueError):
    """A value the model uses is missing, and ``missing="error"`` (or every row misses one).

    Its advice names the ``missing`` parameter (see
    :class:`~linreg.exceptions.ParameterWording`): ``missing='drop'`` from Python,
    ``--missing drop`` on the command line."""


def missing_value_error(what: str, applying: bool = False) -> MissingValueError:
    """The error for a missing value, ``what`` saying which and where; ``applying``: the
    rows are being read for a fitted model (prediction, scoring), not fitted."""
    b = MessageBuilder()
    if applying:
        advice = (f"; the model was fitted with {b.setting('missing', 'error')}, which "
                  f"refuses them: fit it with {b.setting('missing', 'drop')} to predict NaN "
                  "for (and score without) rows with a missing value")
    else:
        advice = (f"; pass {b.setting('missing', 'drop')} to leave rows with a missing value "
                  "out of the fit")
    return MissingValueError(b.text(what) + advice, parameters=b.parameters)


class UnknownLevelError(ValueError):
    """A categorical value that the fit never saw."""


@dataclass
class EncodedBlock:
    """One block, evaluated: the rows kept, each factor's values, the targets."""

    n_rows: int                  # rows kept
    keep: np.ndarray | None      # which of the block's rows were kept (None: all)
    numeric: dict                # factor expression → (n, m) float64
    codes: dict                  # factor expression → (n,) int64 into Encoding.levels[expr]
    Y: np.ndarray                # (n, k)
    w: np.ndarray | None
    n_dropped: int = 0
    block: TableBlock | None = field(default=None, repr=False)


def _level_key(level):
    """Levels of one column sort as R and patsy sort them: numbers by value, text by
    code point, booleans False before True; a mix sorts by type name first."""
    if isinstance(level, (bool, np.bool_)):
        return (0, int(level), "")
    if isinstance(level, (int, float, np.integer, np.floating)):
        return (1, float(level), "")
    return (2, 0.0, str(level))


def level_text(level) -> str:
    """A level as it appears in a column name (``species[T.Gentoo]``, ``C(cyl)[T.6]``)."""
    if isinstance(level, (bool, np.bool_)):
        return str(bool(level))
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return repr(float(level))
    return str(level)


class Encoding:
    """See the module docstring.  ``formula`` is a parsed formula; ``missing`` is
    ``"error"`` or ``"drop"``."""

    def __init__(self, formula: ParsedFormula, missing: str = "error"):
        if missing not in MISSING_CHOICES:
            raise ValueError(f"missing={missing!r} must be one of {MISSING_CHOICES}")
        self.formula = formula
        self.missing = missing
        self.factors = list(dict.fromkeys(f for t in formula.terms for f in t.factors))
        self.kinds: dict = {}          # expr → "numeric" | "categorical"
        self.widths: dict = {}         # numeric expr → its column names
        self.levels: dict = {}         # categorical expr → levels in first-seen order (learning)
        self._level_index: dict = {}   # categorical expr → {level: index into levels}
        self.reference: dict = {}      # categorical expr → the level named in the formula
        self.declared: dict = {}       # categorical expr → declared order (or None)
        self.states: dict = {}         # stateful expr → state
        self.frozen = False

    # ----------------------------------------------------------------- learning
    @property
    def columns_used(self) -> list:
        """The table's columns the model reads (targets first)."""
        names = []
        for expr in list(self.formula.targets) + self.factors:
            names += [expr] if expr in self.formula.lookups else ex.columns_used(expr)
        return list(dict.fromkeys(names))

    def check_columns(self, columns: list, where: str) -> list:
        """The columns the model reads (``columns_used``, once each), after checking that
        ``columns`` (those of ``where``: "the table", a file source, …) has them all."""
        names = list(dict.fromkeys(self.columns_used))
        unknown = [c for c in names if c not in columns]
        if unknown:
            raise ex.FormulaError(f"the formula names {', '.join(map(repr, unknown))}, which "
                                  f"{where} does not have (its columns: {', '.join(columns)})")
        return names

    @property
    def stateful(self) -> list:
        return [e for e in list(self.formula.targets) + self.factors
                if e not in self.formula.lookups and ex.is_stateful(e)]

    def learn_states(self, read) -> None:
        """The state of the stateful transforms (``center``, ``scale``, ``poly``) from one
        pass over the blocks ``read()`` gives (mergeable partial states)."""
        partial: dict = {}
        for block in read():
            for expr in self.stateful:
                p = ex.state_partial(expr, block.columns)
                partial[expr] = p if expr not in partial else ex.merge_state(expr, partial[expr], p)
        self.states = {e: ex.finish_state(e, p) for e, p in partial.items()}

    def evaluate(self, block: TableBlock, weights=None, with_targets: bool = True) -> EncodedBlock:
        """Evaluate every factor and target on ``block``, apply the missing-value policy,
        and (while learning) extend the levels; with frozen levels an unseen level is an
        error that names the column, the level and where it is."""
        data = block.columns
        n = block.n_rows
        values, missing = {}, np.zeros(n, dtype=bool)
        targets = list(self.formula.targets) if with_targets else []
        for expr in targets + self.factors:
            if expr in self.formula.lookups:
                if expr not in data:
                    raise ex.FormulaError(f"the table has no column {expr!r} (its columns: "
                                          f"{_shown(list(data))})")
                value = _lookup(expr, data[expr])
            else:
                value = ex.evaluate(expr, data, self.states.get(expr))
            values[expr] = value
            kind = "categorical" if isinstance(value, ex.Categorical) else "numeric"
            if expr in self.formula.targets and kind != "numeric":
                raise ValueError(f"the target {expr!r} is not numeric: linreg fits numeric "
                                 "targets (encode a categorical target yourself)")
            if expr not in self.formula.targets:
                self._check_kind(expr, kind, value)
            bad = value.codes < 0 if kind == "categorical" else np.isnan(value.values).any(axis=1)
            if kind == "numeric":
                inf = np.isinf(value.values).any(axis=1)
                if inf.any():
                    r = int(np.flatnonzero(inf)[0])
                    raise ValueError(f"{_what(expr)} is {value.values[r][np.isinf(value.values[r])][0]} "
                                     f"at {block.locate(r)}: linreg needs finite numbers")
            if bad.any():
                if self.missing == "error":
                    r = int(np.flatnonzero(bad)[0])
                    raise missing_value_error(
                        f"{_what(expr)} is missing in {int(bad.sum())} row(s) (the first at "
                        f"{block.locate(r)})", self.frozen)
                missing |= bad
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            bad = np.isnan(weights)
            if bad.any():
                if self.missing == "error":
                    r = int(np.flatnonzero(bad)[0])
                    raise missing_value_error(
                        f"the sample weight is missing in {int(bad.sum())} row(s) (the first "
                        f"at {block.locate(r)})", self.frozen)
                missing |= bad
        keep = None if not missing.any() else ~missing
        numeric, codes = {}, {}
        for expr, value in values.items():
            if isinstance(value, ex.Categorical):
                codes[expr] = self._global_codes(expr, value, keep, block)
            else:
                numeric[expr] = value.values if keep is None else value.values[keep]
        kept = n if keep is None else int(keep.sum())
        Y = (np.column_stack([numeric.pop(t)[:, 0] for t in targets]) if targets
             else np.empty((kept, 0)))
        w = None if weights is None else (weights if keep is None else weights[keep])
        return EncodedBlock(kept, keep, numeric, codes, Y, w, n - kept, block)

    def _check_kind(self, expr: str, kind: str, value) -> None:
        known = self.kinds.get(expr)
        if known is None:
            if self.frozen:
                raise ValueError(f"{_what(expr)} was not part of the fitted model")
            self.kinds[expr] = kind
            if kind == "numeric":
                self.widths[expr] = list(value.names)
            else:
                self.levels[expr], self._level_index[expr] = [], {}
                self.reference[expr] = value.reference
                self.declared[expr] = list(value.levels) if value.declared else None
        elif known != kind:
            raise ValueError(f"{_what(expr)} was {known} in the rows before and is {kind} "
                             "here; give the column one type in every file/partition (or use "
                             f"C({expr}) to make it categorical everywhere)")
        elif kind == "numeric" and len(value.names) != len(self.widths[expr]):
            raise ValueError(f"{_what(expr)} has {len(value.names)} columns here and "
                             f"{len(self.widths[expr])} before")

    def _global_codes(self, expr: str, value, keep, block: TableBlock) -> np.ndarray:
        """The block's codes as indices into ``self.levels[expr]``."""
        index = self._level_index[expr]
        local = np.empty(len(value.levels), dtype=np.int64)
        for i, level in enumerate(value.levels):
            level = _plain(level)
            j = index.get(level)
            if j is None:
                if self.frozen:
                    rows = np.flatnonzero(value.codes == i)
                    if keep is not None:
                        rows = rows[keep[rows]]
                    if len(rows) == 0:
                        local[i] = -1
                        continue
                    raise UnknownLevelError(
                        f"{_what(expr)} has the level {level!r} at {block.locate(int(rows[0]))}, "
                        f"which the model never saw in training (its levels: "
                        f"{_shown(self.levels[expr])})")
                j = index[level] = len(self.levels[expr])
                self.levels[expr].append(level)
            local[i] = j
        codes = value.codes if keep is None else value.codes[keep]
        return local[codes] if len(local) else codes.astype(np.int64)

    # ----------------------------------------------------------------- the design
    def finalize(self) -> dict:
        """Fix the levels (sorted, or the declared order), the reference levels, the coding
        of each term and the design's columns.  Returns, per categorical factor, the map from
        the codes of blocks evaluated while learning to the final ones."""
        remap, self.ref_index = {}, {}
        for expr in self.levels:
            levels = self.levels[expr]
            declared = self.declared.get(expr)
            if declared is not None:
                order = [_plain(v) for v in declared if _plain(v) in self._level_index[expr]]
            else:
                order = sorted(levels, key=_level_key)
            ref = self.reference.get(expr)
            self.ref_index[expr] = 0 if ref is None else order.index(_coerce_level(ref, order, expr))
            new_index = {v: i for i, v in enumerate(order)}
            remap[expr] = np.array([new_index[v] for v in levels], dtype=np.int64)
            self.levels[expr], self._level_index[expr] = order, new_index
        numeric = {e for e, k in self.kinds.items() if k == "numeric"}
        self.layout = layout(self.formula.terms, numeric, self.formula.intercept)
        self.frozen = True
        self._columns()
        return remap

    def frozen_from(self, ref_index: dict) -> None:
        """Freeze with the levels already in their final order (a model file's encoding)."""
        self.ref_index = dict(ref_index)
        numeric = {e for e, k in self.kinds.items() if k == "numeric"}
        self.layout = layout(self.formula.terms, numeric, self.formula.intercept)
        self.frozen = True
        self._columns()

    def _columns(self) -> None:
        """Names, term slices and, per subterm, how to find a row's column."""
        names, terms, self.pieces = [], {}, []
        for tl in self.layout:
            start = len(names)
            for sub in tl.subterms:
                dims = []          # per factor of the term, in order: (expr, kind, size, stride)
                stride = 1
                for f in tl.term.factors:
                    if f in tl.numeric:
                        size = len(self.widths[f])
                        dims.append((f, "numeric", size, stride, 0))
                    elif f in sub.categorical:
                        full = f in sub.full
                        size = len(self.levels[f]) - (0 if full else 1)
                        dims.append((f, "full" if full else "treatment", size, stride, 0))
                    else:
                        continue
                    stride *= size
                self.pieces.append((len(names), dims))
                names += _piece_names(dims, self)
            terms[tl.term.name] = slice(start, len(names))
        self.names, self.term_slices = names, terms

    @property
    def n_columns(self) -> int:
        return len(self.names)

    def design(self, enc: EncodedBlock) -> np.ndarray:
        """The block's rows of the design (n, n_columns), dummies and all: for the row
        readers, which take bounded blocks."""
        X = np.zeros((enc.n_rows, self.n_columns))
        for base, dims in self.pieces:
            for cols, value, rows in self._piece(enc, base, dims):
                X[rows, cols] = value
        return X

    def sparse_design(self, enc: EncodedBlock):
        """The block's rows of the design as a CSR matrix: one stored entry per row and
        column of a numeric term, one per row and term for the categorical ones (its cell) —
        what a pass that multiplies by the design reads in O(entries), not O(n × columns)."""
        import scipy.sparse as sp
        rows, cols, values = [], [], []
        for base, dims in self.pieces:
            for c, v, r in self._piece(enc, base, dims):
                rows.append(r)
                cols.append(c)
                values.append(v)
        if not rows:
            return sp.csr_matrix((enc.n_rows, self.n_columns))
        X = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(enc.n_rows, self.n_columns))
        X.sum_duplicates()
        return X

    def linear(self, enc: EncodedBlock, coef: np.ndarray) -> np.ndarray:
        """``X @ coef`` without forming ``X``: each row's coefficients looked up by its
        levels.  ``coef`` is (n_columns,) or (n_columns, k)."""
        coef = np.asarray(coef, dtype=np.float64)
        out = np.zeros((enc.n_rows,) + coef.shape[1:])
        for base, dims in self.pieces:
            for cols, value, rows in self._piece(enc, base, dims):
                c = coef[cols]
                out[rows] += c * (value if coef.ndim == 1 else value[:, None])
        return out

    def _piece(self, enc: EncodedBlock, base: int, dims: list):
        """For one subterm: ``(columns, values, rows)`` for each combination of its numeric
        factors' columns — row ``rows[i]``'s entry in column ``columns[i]`` is ``values[i]``."""
        offset = np.full(enc.n_rows, base, dtype=np.int64)
        valid = np.ones(enc.n_rows, dtype=bool)
        numeric = []
        for expr, kind, size, stride, _ in dims:
            if kind == "numeric":
                numeric.append((enc.numeric[expr], size, stride))
                continue
            codes = enc.codes[expr]
            if kind == "treatment":
                ref = self.ref_index[expr]
                valid &= codes != ref
                codes = codes - (codes > ref)
            offset += np.where(valid, codes, 0) * stride
        rows = np.flatnonzero(valid)
        offset = offset[rows]
        for combo in itertools.product(*[range(size) for _, size, _ in numeric]):
            value = np.ones(len(rows))
            extra = 0
            for (V, _, stride), j in zip(numeric, combo):
                value = value * V[rows, j]
                extra += j * stride
            yield offset + extra, value, rows

    def set_levels(self, levels: dict) -> None:
        """Each categorical factor's levels (learned elsewhere: on a cluster's workers, or
        read from a model file), in order."""
        self.levels = {e: list(v) for e, v in levels.items()}
        self._level_index = {e: {v: i for i, v in enumerate(v)} for e, v in self.levels.items()}

    def level_position(self, expr: str, level) -> int:
        """The index of ``level`` among the final levels of ``expr``."""
        return self._level_index[expr][level]

    @staticmethod
    def refreshed(enc: EncodedBlock, remap: dict) -> EncodedBlock:
        """A block evaluated while the levels were being learned, with its codes in the
        final order of the levels (``remap`` from :meth:`finalize`)."""
        codes = {e: remap[e][c] for e, c in enc.codes.items()}
        return EncodedBlock(enc.n_rows, enc.keep, enc.numeric, codes, enc.Y, enc.w,
                            enc.n_dropped, enc.block)


def _piece_names(dims: list, enc: Encoding) -> list:
    sizes = [d[2] for d in dims]
    names = []
    for combo in itertools.product(*[range(s) for s in reversed(sizes)]):
        combo = combo[::-1]            # the first factor varies fastest
        parts = []
        for (expr, kind, _, _, _), j in zip(dims, combo):
            if kind == "numeric":
                parts.append(enc.widths[expr][j])
            elif kind == "full":
                parts.append(f"{expr}[{level_text(enc.levels[expr][j])}]")
            else:
                r = enc.ref_index[expr]
                parts.append(f"{expr}[T.{level_text(enc.levels[expr][j + (j >= r)])}]")
        names.append(":".join(parts) if parts else "Intercept")
    return names


def _lookup(expr: str, column):
    """A column named as it is (no expression to evaluate)."""
    if isinstance(column, Codes):
        return ex.Categorical(column.codes, column.levels, None, column.declared)
    values = np.asarray(column, dtype=np.float64)
    return ex.Numeric(values.reshape(len(values), -1), [expr])


def _plain(level):
    """A level as a plain Python value (numpy scalars compare and hash as Python ones)."""
    return level.item() if isinstance(level, np.generic) else level


def _coerce_level(ref, order: list, expr: str):
    if ref in order:
        return ref
    for level in order:
        if str(level) == str(ref) or (isinstance(level, (int, float))
                                      and not isinstance(level, bool)
                                      and _num(ref) == level):
            return level
    raise ex.FormulaError(f"the reference level {ref!r} of {expr} is not one of its levels "
                          f"({_shown(order)})")


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _what(expr: str) -> str:
    return f"column {expr!r}" if expr.isidentifier() else f"{expr!r}"


def _shown(levels: list, limit: int = 20) -> str:
    shown = ", ".join(repr(v) for v in levels[:limit])
    return shown + (f", … ({len(levels)} in all)" if len(levels) > limit else "")
