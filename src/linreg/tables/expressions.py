"""Evaluate one factor of a formula (``np.log(bill_length_mm)``, ``C(species, Treatment("Gentoo"))``,
``poly(x, 2)``) on one block of a table — safely.

A formula may come from a model file or the command line, so a factor is never handed to
Python's ``eval``: :func:`check_expression` parses it into a tree and refuses everything outside
a short list of forms (:data:`ALLOWED_FUNCTIONS`, and
:data:`~linreg.tables.expr_syntax.ALLOWED_SYNTAX` in words); :func:`evaluate` then walks that tree
over the block's columns with numpy.  Attribute access other than ``np.<allowed function>``,
names starting with an underscore, lambdas, comprehensions, subscripts, comparisons, f-strings,
``*``/``**`` unpacking and constant exponents beyond ±100 are all refused before anything runs.

The data of a block (:mod:`linreg.tables.blocks`) maps each column name to a float64 array (NaN
where missing) or a :class:`~linreg.tables.blocks.Codes` (a categorical column).  A factor gives
either :class:`Numeric` columns, named as formulaic names them, or one :class:`Categorical`
column, whose encoding the caller builds from the union of every block's levels.

The stateful transforms (center, scale, standardize, poly) learn from the training data; their
state is gathered block by block with :func:`state_partial`, :func:`merge_state` and
:func:`finish_state` (see :mod:`linreg.tables.expr_state`), and passed to :func:`evaluate`.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from linreg.tables import expr_state
from linreg.tables.blocks import Codes, TableBlock
from linreg.tables.expr_syntax import (ALLOWED_FUNCTIONS, NUMPY_FUNCTIONS, FormulaError, Parsed,
                                       OPERATOR_SYMBOLS, apply_operator, bind_call, call_name, number_value, parse,
                                       shown)

__all__ = [
    "ALLOWED_FUNCTIONS", "Categorical", "FormulaError", "Numeric", "check_expression",
    "columns_used", "evaluate", "finish_state", "is_stateful", "merge_state", "quote_name",
    "state_partial",
]


@dataclass
class Numeric:
    """Numeric columns of a factor.

    Attributes
    ----------
    values : ndarray of float64, shape (n, m)
        NaN where an input was missing or the transform has no value (``log(-1)``).
    names : list of str
        The m column names, as formulaic's ``model_matrix`` names them.
    """

    values: np.ndarray
    names: list


@dataclass
class Categorical:
    """A categorical factor on one block.

    Attributes
    ----------
    codes : ndarray of int64, shape (n,)
        Index into ``levels``; -1 where missing.
    levels : list
        The block's levels (str, bool, int or float), each once.
    reference : object
        The reference level the formula names (``C(x, Treatment("Gentoo"))``), or None.
    declared : bool
        ``levels`` is a declared order (``C(x, levels=[...])``, or a column that declares its
        order); otherwise the caller sorts the union of the blocks' levels.
    """

    codes: np.ndarray
    levels: list
    reference: object = None
    declared: bool = False


def check_expression(expr: str) -> None:
    """Raise :class:`FormulaError` unless ``expr`` uses only the allowed syntax.

    Nothing is evaluated.

    Parameters
    ----------
    expr : str
        One factor of a formula, as formulaic gives it (``np.log(`bill length`)``).
    """
    parse(expr)


def columns_used(expr: str) -> list[str]:
    """The data columns ``expr`` reads, in order of first use (function names excluded).

    Parameters
    ----------
    expr : str

    Returns
    -------
    list of str
    """
    parsed = parse(expr)
    seen: dict = {}
    stack = [parsed.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            seen.setdefault(parsed.column(node), None)
        elif isinstance(node, ast.Call):
            stack.append(bind_call(parsed, node, call_name(node.func))["x"])
        else:
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return list(seen)


def is_stateful(expr: str) -> bool:
    """Whether ``expr`` calls center, scale, standardize or (orthogonal) poly, which need state
    learnt from the training data."""
    return bool(parse(expr).stateful)


def quote_name(name: str) -> str:
    """A column name as a formula term writes it: itself if it is a Python name, else in
    backticks (``bill length`` → `` `bill length` ``)."""
    if "`" in name:
        raise FormulaError(f"the column name {name!r} contains a backtick, so a formula cannot name it")
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_"):
        return name
    return f"`{name}`"


def evaluate(expr: str, data, state: dict | None = None) -> Numeric | Categorical:
    """Evaluate one factor on one block.

    Parameters
    ----------
    expr : str
        The factor.  A text that is exactly a column of ``data`` is that column (formulaic gives
        a bare column name without its backticks).
    data : mapping of str → ndarray or Codes, or TableBlock
        The block's columns: float64 arrays (NaN = missing) or :class:`Codes`.
    state : dict or None
        For a stateful factor, the learnt state by call (:func:`finish_state`; more entries than
        the factor's are ignored, so one dict can serve a whole formula).  None: learn it from
        ``data`` itself.

    Returns
    -------
    Numeric or Categorical

    Raises
    ------
    FormulaError
        The factor is refused, names a column ``data`` lacks, does arithmetic on a categorical
        column, or names levels the data contradicts.

    Examples
    --------
    >>> import numpy as np
    >>> evaluate("np.log(x)", {"x": np.array([1.0, np.nan])})
    Numeric(values=array([[ 0.],
           [nan]]), names=['np.log(x)'])
    >>> evaluate("C(x, Treatment(2))", {"x": np.array([2.0, 1.5, np.nan])})
    Categorical(codes=array([ 1,  0, -1]), levels=[1.5, 2], reference=2, declared=False)
    """
    columns = _columns(data)
    if isinstance(expr, str) and expr in columns:
        return _whole_column(expr, columns[expr])
    parsed = parse(expr)
    if parsed.stateful and state is None:
        state = _finish(parsed, _partials(parsed, columns))
    return _Evaluator(parsed, columns, state or {}).factor()


def state_partial(expr: str, data) -> dict:
    """The partial state of each stateful call of ``expr`` over one block (JSON-safe).

    Parameters
    ----------
    expr : str
    data : mapping of str → ndarray or Codes, or TableBlock

    Returns
    -------
    dict
        One entry per stateful call, by its text (``{"center(x)": {...}}``); empty if none.
    """
    columns = _columns(data)
    if isinstance(expr, str) and expr in columns:
        return {}
    return _partials(parse(expr), columns)


def merge_state(expr: str, a: dict, b: dict) -> dict:
    """Merge two partial states of ``expr`` into the partial state of both blocks.

    Exact up to rounding, and the same (to rounding) in either order or grouping, so blocks may
    be merged as they arrive or in a tree.

    Parameters
    ----------
    expr : str
    a, b : dict
        Partial states from :func:`state_partial` or earlier merges (a JSON round trip is fine).

    Returns
    -------
    dict
    """
    parsed = _parse_unless_column(expr)
    return {key: expr_state.merge(_func(node), _entry(a, key), _entry(b, key), key)
            for key, node in parsed.stateful.items()} if parsed else {}


def finish_state(expr: str, partial: dict) -> dict:
    """The state :func:`evaluate` takes, from the partial state over all the training data.

    Parameters
    ----------
    expr : str
    partial : dict
        The merged partial state of every block.

    Returns
    -------
    dict
        JSON-safe; one entry per stateful call (``{"center(x)": {"center": 3.0, "scale": None}}``).

    Raises
    ------
    FormulaError
        The statistics cannot be learnt: no values, no spread to scale by, fewer distinct values
        than a polynomial's degree needs.
    """
    parsed = _parse_unless_column(expr)
    return _finish(parsed, partial) if parsed else {}


def _parse_unless_column(expr: str) -> Parsed | None:
    try:
        return parse(expr)
    except FormulaError:
        if isinstance(expr, str) and "`" not in expr and "(" not in expr:
            return None  # a bare column name, which has no state
        raise


def _func(node: ast.Call) -> str:
    return call_name(node.func)


def _entry(mapping, key: str) -> dict:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise FormulaError(f"the state given for {key} is missing")
    return mapping[key]


def _partials(parsed: Parsed, columns: Mapping) -> dict:
    evaluator = _Evaluator(parsed, columns, {})
    out = {}
    for key, node in parsed.stateful.items():
        bound = bind_call(parsed, node, _func(node))
        values = evaluator.broadcast(evaluator.numeric(bound["x"], f"{_func(node)}()"))
        out[key] = expr_state.partial(_func(node), _options(bound), values, key)
    return out


def _finish(parsed: Parsed, partial: dict) -> dict:
    return {key: expr_state.finish(_func(node), _options(bind_call(parsed, node, _func(node))),
                                   _entry(partial, key), key)
            for key, node in parsed.stateful.items()}


def _options(bound: dict) -> dict:
    return {name: value for name, value in bound.items() if name not in ("x", "contrasts")}


def _columns(data) -> Mapping:
    if isinstance(data, TableBlock):
        return data.columns
    if not isinstance(data, Mapping):
        raise TypeError(f"data must map column names to arrays or Codes, not {type(data).__name__}")
    return data


def _whole_column(name: str, column) -> Numeric | Categorical:
    if isinstance(column, Codes):
        codes = np.asarray(column.codes, dtype=np.int64)
        if codes.size and (codes.min() < -1 or codes.max() >= len(column.levels)):
            raise ValueError(f"column {name!r}: its codes must lie from -1 to {len(column.levels) - 1}")
        return Categorical(codes, list(column.levels), None, bool(column.declared))
    return Numeric(_as_numbers(name, column).reshape(-1, 1), [name])


def _as_numbers(name: str, column) -> np.ndarray:
    values = np.asarray(column)
    if values.ndim != 1 or values.dtype.kind not in "fiub":
        raise TypeError(f"column {name!r} must be a one-dimensional float64 array or Codes, not "
                        f"{values.dtype} of shape {values.shape}")
    return values.astype(np.float64, copy=False)


class _Evaluator:
    """Walk a checked term's tree over one block's columns."""

    def __init__(self, parsed: Parsed, columns: Mapping, state: Mapping):
        self.parsed, self.columns, self.state = parsed, columns, state
        self.n = None

    def factor(self) -> Numeric | Categorical:
        root = self.parsed.tree
        if isinstance(root, ast.Call) and _func(root) == "poly":
            bound = bind_call(self.parsed, root, "poly")
            x, degree = self.broadcast(self.numeric(bound["x"], "poly()")), bound.get("degree", 1)
            if bound.get("raw"):
                return Numeric(expr_state.poly_raw(x, degree), [f"{self.parsed.normal}[{k}]" for k in range(degree)])
            key = self.parsed.normal
            values = expr_state.apply("poly", bound, self._state_of(key), x, key)
            return Numeric(values, [f"{self.parsed.normal}[{k}]" for k in range(1, degree + 1)])
        value = self.value(root)
        if isinstance(value, Categorical):
            return value
        name = self.parsed.column(root) if isinstance(root, ast.Name) else self.parsed.normal
        return Numeric(np.ascontiguousarray(self.broadcast(value), dtype=np.float64).reshape(-1, 1), [name])

    def value(self, node: ast.AST):
        """The node's value: a float64 array of the block's length, a float64 scalar, or a
        :class:`Categorical`."""
        if isinstance(node, ast.Name):
            return self._column(node)
        if isinstance(node, ast.Constant):
            return number_value(node.value)
        if isinstance(node, ast.UnaryOp):
            operand = self.numeric(node.operand, "a minus sign")
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            what = f"the operator {OPERATOR_SYMBOLS[type(node.op)]}"
            return apply_operator(node.op, self.numeric(node.left, what), self.numeric(node.right, what))
        name = _func(node)
        bound = bind_call(self.parsed, node, name)
        if name == "I":
            return self.value(bound["x"])
        if name == "C":
            return self._categorical(bound)
        x = self.numeric(bound["x"], f"{name}()")
        if name in NUMPY_FUNCTIONS:
            with np.errstate(all="ignore"):
                return NUMPY_FUNCTIONS[name](x)
        key = self.parsed.text_of(node)
        return expr_state.apply(name, bound, self._state_of(key), self.broadcast(x), key)

    def numeric(self, node: ast.AST, what: str):
        """The node's value, which must be numbers for ``what``."""
        value = self.value(node)
        if isinstance(value, Categorical):
            part = (f"column {self.parsed.column(node)!r}" if isinstance(node, ast.Name)
                    else repr(self.parsed.text_of(node)))
            raise FormulaError(f"formula term {shown(self.parsed.text)}: {part} is categorical, and "
                               f"{what} needs numbers; use a categorical column alone as a term "
                               "or inside C(...)")
        return value

    def _column(self, node: ast.Name):
        name = self.parsed.column(node)
        if name not in self.columns:
            listed = ", ".join(repr(c) for c in list(self.columns)[:30])
            more = f" and {len(self.columns) - 30} more" if len(self.columns) > 30 else ""
            raise FormulaError(f"formula term {shown(self.parsed.text)} names the column {name!r}, which "
                               f"the data does not have; its columns are {listed}{more}")
        column = self.columns[name]
        result = _whole_column(name, column)
        length = len(result.codes) if isinstance(result, Categorical) else result.values.shape[0]
        if self.n is None:
            self.n = length
        elif length != self.n:
            raise ValueError(f"column {name!r} has {length} rows but another column of the block "
                             f"has {self.n}")
        return result if isinstance(result, Categorical) else result.values[:, 0]

    def broadcast(self, value) -> np.ndarray:
        if np.ndim(value):
            return value
        if self.n is None:
            if not self.columns:
                raise FormulaError(f"formula term {shown(self.parsed.text)}: the data has no columns")
            self.n = len(next(iter(self.columns.values())))
        return np.full(self.n, value, dtype=np.float64)

    def _state_of(self, key: str):
        if not isinstance(self.state, Mapping) or key not in self.state:
            raise FormulaError(f"formula term {shown(self.parsed.text)}: the state learnt for {key} "
                               "is missing")
        return self.state[key]

    def _categorical(self, bound: dict) -> Categorical:
        inner = self.value(bound["x"])
        if isinstance(inner, Categorical):
            codes, levels, declared = inner.codes.copy(), list(inner.levels), inner.declared
            used = np.unique(codes[codes >= 0])
        else:
            values = self.broadcast(inner)
            finite = np.isfinite(values)
            distinct = np.unique(values[finite])
            codes = np.full(values.shape[0], -1, dtype=np.int64)
            codes[finite] = np.searchsorted(distinct, values[finite])
            levels, declared = [_number_level(v) for v in distinct], False
            used = np.arange(len(levels))
        kind = _level_kind(levels) if isinstance(inner, Categorical) else "number"
        reference = None
        contrasts = bound.get("contrasts")
        if isinstance(contrasts, ast.Call):
            given = bind_call(self.parsed, contrasts, "Treatment").get("reference")
            reference = None if given is None else self._coerce(given, kind)
        if "levels" in bound:
            order = [self._coerce(level, kind) for level in bound["levels"]]
            position = {level: i for i, level in enumerate(order)}
            unknown = [levels[i] for i in used if levels[i] not in position]
            if unknown:
                raise FormulaError(f"formula term {shown(self.parsed.text)}: the data has the value "
                                   f"{unknown[0]!r}, which levels={order!r} does not list")
            if reference is not None and reference not in position:
                raise FormulaError(f"formula term {shown(self.parsed.text)}: the reference level "
                                   f"{reference!r} is not among levels={order!r}")
            remap = np.array([position.get(level, -1) for level in levels] + [-1], dtype=np.int64)
            codes, levels, declared = remap[codes], order, True
        return Categorical(codes, levels, reference, declared)

    def _coerce(self, level, kind: str):
        """A level named in the formula, in the column's type where that makes sense."""
        if kind == "number":
            try:
                number = float(level) if not isinstance(level, bool) else None
            except ValueError:
                number = None
            if number is None or not np.isfinite(number):
                raise FormulaError(f"formula term {shown(self.parsed.text)}: the level {level!r} is "
                                   "not a number, but the column is numeric")
            return _number_level(number)
        if kind == "str" and not isinstance(level, str):
            return str(level)
        if kind == "bool" and isinstance(level, str) and level in ("True", "False"):
            return level == "True"
        return level


def _number_level(value) -> int | float:
    """A numeric level: an int when whole (as an integer column's levels are named), else float."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value


def _level_kind(levels: list) -> str:
    if not levels:
        return "mixed"
    if all(isinstance(v, str) for v in levels):
        return "str"
    if all(isinstance(v, (bool, np.bool_)) for v in levels):
        return "bool"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
           for v in levels):
        return "number"
    return "mixed"
