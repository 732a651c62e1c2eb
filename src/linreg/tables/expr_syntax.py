"""The syntax a formula term may use, checked on its parse tree before anything is evaluated.

A term such as ``np.log(bill_length_mm)`` or ``C(species, Treatment("Gentoo"))`` is text that
may come from a model file or the command line, so it is never given to Python's ``eval``.  It
is parsed with :func:`ast.parse` (which only builds a tree) and every node is checked against a
short list of allowed forms (:data:`ALLOWED_FUNCTIONS`, :data:`ALLOWED_SYNTAX`).  Only then does
:mod:`linreg.tables.expressions` walk the tree over the data.

Column names that are not Python names are written in backticks, as formulaic writes them
(`` `bill length` ``); they are swapped for placeholder names before parsing.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ALLOWED_FUNCTIONS", "ALLOWED_SYNTAX", "FormulaError", "MAX_EXPONENT", "MAX_POLY_DEGREE",
    "NUMPY_FUNCTIONS", "OPERATOR_SYMBOLS", "STATEFUL_FUNCTIONS", "Parsed", "bind_call", "call_name", "fold_constant",
    "apply_operator", "literal_value", "number_value", "parse", "refusal", "shown",
]


class FormulaError(ValueError):
    """A formula or formula term that is malformed or uses something not allowed.

    The message names the term and the offending part, and says what is allowed.
    """


#: numpy functions of one column, by the name a formula uses (``numpy.`` may replace ``np.``;
#: the bare names below are shorthands formulaic also knows)
NUMPY_FUNCTIONS = {
    "np.log": np.log, "np.log1p": np.log1p, "np.log2": np.log2, "np.log10": np.log10,
    "np.exp": np.exp, "np.sqrt": np.sqrt, "np.abs": np.abs, "np.square": np.square,
    "log": np.log, "log2": np.log2, "log10": np.log10, "exp": np.exp, "sqrt": np.sqrt,
    "abs": np.abs,
}

#: transforms whose result depends on statistics learned from the training data
STATEFUL_FUNCTIONS = ("center", "scale", "standardize", "poly")

#: every function a formula term may call (``numpy.<name>`` is accepted for each ``np.<name>``)
ALLOWED_FUNCTIONS: tuple[str, ...] = (*NUMPY_FUNCTIONS, "I", "C", "Treatment", *STATEFUL_FUNCTIONS)

#: the largest constant exponent (``x ** 3`` is fine, ``x ** 10 ** 10`` is refused)
MAX_EXPONENT = 100
#: the highest degree of ``poly``; the merged state of orthogonal polynomials stays within about
#: 1e-11 of the whole-data state up to here (see :mod:`linreg.tables.expr_state`)
MAX_POLY_DEGREE = 10
MAX_LENGTH = 10_000
MAX_DEPTH = 64
MAX_LEVELS = 10_000

ALLOWED_SYNTAX = (
    "Allowed in a formula term: column names (in backticks if they are not Python names, as in "
    "`bill length`), numbers, the operators + - * / // ** and unary minus, and the functions "
    + ", ".join(f for f in ALLOWED_FUNCTIONS if f != "Treatment")
    + " (numpy. may replace np.); C(x, Treatment(level)) and C(x, levels=[...]) name levels, "
    f"poly(x, degree, raw=False) takes a degree from 1 to {MAX_POLY_DEGREE}, and scale/standardize "
    "take center=, scale=/rescale= and ddof= constants."
)

#: the parameters of each callable (positional order; the first is the data), and the kind of
#: constant each other parameter takes
_SIGNATURES = {
    "I": ("x",), "center": ("x",),
    "scale": ("x", ("center", "bool"), ("scale", "bool"), ("ddof", "number")),
    "standardize": ("x", ("center", "bool"), ("rescale", "bool"), ("ddof", "number")),
    "poly": ("x", ("degree", "int"), ("raw", "bool")),
    "C": ("x", ("contrasts", "contrast"), ("levels", "levels")),
    "Treatment": (("reference", "level"),),
    **{name: ("x",) for name in NUMPY_FUNCTIONS},
}

_NODE_WORDS = {
    ast.Lambda: "a lambda", ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
    ast.Subscript: "indexing (a subscript)", ast.Compare: "a comparison",
    ast.BoolOp: "and/or", ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment (:=)",
    ast.IfExp: "a conditional expression", ast.Starred: "* unpacking", ast.Attribute:
    "attribute access", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
    ast.Set: "a set", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Slice: "a slice", ast.FormattedValue: "an f-string",
}
_UFUNCS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
           ast.Pow: np.power, ast.FloorDiv: np.floor_divide}
OPERATOR_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
                    ast.FloorDiv: "//"}
_REFUSED_OPERATORS = {ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
                      ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}


@dataclass
class Parsed:
    """A checked term: its tree, the columns its placeholders stand for, its normal text.

    Attributes
    ----------
    text : str
        The term as given.
    tree : ast.expr
        The parsed body (backticked names replaced by placeholder names).
    placeholders : dict of str → str
        Placeholder name → the column name it stands for.
    normal : str
        The term in formulaic's normal spelling (``ast.unparse``, backticks restored).
    stateful : dict of str → ast.Call
        Each stateful call, by its normal text (one entry per distinct call), in order.
    """

    text: str
    tree: ast.expr
    placeholders: dict
    normal: str = ""
    stateful: dict = field(default_factory=dict)

    def column(self, name_node: ast.Name) -> str:
        """The column a name node reads."""
        return self.placeholders.get(name_node.id, name_node.id)

    def text_of(self, node: ast.AST) -> str:
        """A node in normal spelling, with backticked names restored."""
        return self._restore(ast.unparse(node).replace("\n", " "))

    def refuse(self, node: ast.AST, why: str) -> FormulaError:
        """The error for a refused part of the term."""
        return refusal(self.text, self.text_of(node), why)

    def _restore(self, text: str) -> str:
        if not self.placeholders:
            return text
        return re.sub("|".join(re.escape(p) for p in sorted(self.placeholders, key=len, reverse=True)),
                      lambda m: f"`{self.placeholders[m.group(0)]}`", text)


def refusal(expr: str, part: str, why: str) -> FormulaError:
    """A :class:`FormulaError` for term ``expr`` whose ``part`` is refused because ``why``."""
    if len(part) > 80:
        part = part[:77] + "..."
    return FormulaError(f"formula term {shown(expr)}: {why} (in {part!r}). {ALLOWED_SYNTAX}")


def shown(expr: str) -> str:
    """A term quoted for a message (shortened if long)."""
    return repr(expr) if len(expr) <= 120 else repr(expr[:117]) + "..."


def parse(expr: str) -> Parsed:
    """Parse and check one term; raise :class:`FormulaError` unless it is allowed.

    Nothing in the term is evaluated: only its tree is built and inspected.
    """
    if not isinstance(expr, str):
        raise FormulaError(f"a formula term must be text, not {type(expr).__name__}")
    if len(expr) > MAX_LENGTH:
        raise FormulaError(f"formula term {shown(expr)} is {len(expr)} characters long; "
                           f"the most allowed is {MAX_LENGTH}")
    source, placeholders = _replace_backticks(expr)
    try:
        with warnings.catch_warnings():  # "2x" warns before it fails: the error says it all
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.strip(), mode="eval").body
    except (MemoryError, RecursionError):
        raise FormulaError(f"formula term {shown(expr)} nests too deeply") from None
    except (SyntaxError, ValueError) as error:
        hint = ("; a column name that is not a Python name goes in backticks, as in `bill length`"
                if "`" not in expr else "")
        raise FormulaError(f"formula term {shown(expr)} is not a valid expression "
                           f"({getattr(error, 'msg', error)}){hint}") from None
    parsed = Parsed(expr, tree, placeholders)
    _check_depth(parsed)
    _Checker(parsed).check(tree, top=True, root=True, stateful=None)
    parsed.normal = parsed.text_of(tree)
    return parsed


def _replace_backticks(expr: str) -> tuple[str, dict]:
    """Swap each backticked name for a placeholder no part of ``expr`` contains."""
    if "`" not in expr:
        return expr, {}
    prefix = "_q"
    while prefix in expr:
        prefix += "q"
    out, placeholders, names, i = [], {}, {}, 0
    quote = None
    while i < len(expr):
        ch = expr[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "`":
            end = expr.find("`", i + 1)
            if end < 0:
                raise FormulaError(f"formula term {shown(expr)}: a backtick at character {i + 1} is "
                                   "never closed")
            name = expr[i + 1:end]
            if not name:
                raise FormulaError(f"formula term {shown(expr)}: empty backticks at character {i + 1}")
            if name not in names:
                names[name] = f"{prefix}{len(names)}_"
                placeholders[names[name]] = name
            out.append(f" {names[name]} ")
            i = end
        else:
            out.append(ch)
        i += 1
    return "".join(out), placeholders


def _check_depth(parsed: Parsed) -> None:
    stack = [(parsed.tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FormulaError(f"formula term {shown(parsed.text)} nests more than {MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def call_name(node: ast.AST) -> str | None:
    """The allowed name a call's function spells (``numpy.log`` → ``np.log``), or None."""
    if isinstance(node, ast.Name):
        name = node.id
    elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
          and node.value.id in ("np", "numpy")):
        name = f"np.{node.attr}"
    else:
        return None
    return name if name in _SIGNATURES else None


def _spelled(node: ast.AST) -> str:
    return ast.unparse(node)


def literal_value(node: ast.AST):
    """The value of a literal level or option (a str, bool, int or float, maybe negated), or
    raise ``ValueError``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal_value(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        raise ValueError("a sign before something that is not a number")
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool, int, float)):
        if isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > 2 ** 63:
            raise ValueError("an integer too large")
        return node.value
    raise ValueError("not a constant")


def fold_constant(node: ast.AST):
    """The float64 value of a numeric constant sub-expression, or None if it reads data.

    Computed in float64 only (never Python integers), so no size of constant can exhaust time
    or memory; overflow gives inf.
    """
    if isinstance(node, ast.Constant):
        return number_value(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = fold_constant(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _UFUNCS:
        left, right = fold_constant(node.left), fold_constant(node.right)
        if left is None or right is None:
            return None
        return apply_operator(node.op, left, right)
    if isinstance(node, ast.Call) and call_name(node.func) == "I" and len(node.args) == 1:
        return fold_constant(node.args[0])
    return None


def apply_operator(op: ast.operator, left, right):
    """``left op right`` in float64, quietly (NaN or inf where the operation has no finite value)."""
    with np.errstate(all="ignore"):
        return _UFUNCS[type(op)](left, right)


def number_value(value):
    """A numeric literal as float64 (an integer too large for float64 becomes ±inf); None for a
    literal that is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return np.float64(float(value))
    except OverflowError:
        return np.float64(np.inf if value > 0 else -np.inf)


def bind_call(parsed: Parsed, node: ast.Call, name: str) -> dict:
    """The arguments of an allowed call by parameter name: the data argument as a node, each
    option as its checked constant value (absent options are left out)."""
    params = _SIGNATURES[name]
    names = [p if isinstance(p, str) else p[0] for p in params]
    kinds = {p[0]: p[1] for p in params if not isinstance(p, str)}
    if len(node.args) > len(params):
        raise parsed.refuse(node, f"{name}() takes at most {len(params)} argument(s)")
    bound = {}
    for param, arg in zip(names, node.args):
        if isinstance(arg, ast.Starred):
            raise parsed.refuse(node, "* unpacking is not allowed")
        bound[param] = arg
    for keyword in node.keywords:
        if keyword.arg is None:
            raise parsed.refuse(node, "** unpacking is not allowed")
        if keyword.arg not in kinds:
            raise parsed.refuse(node, f"{name}() has no option {keyword.arg!r}"
                                + (f"; its options are {', '.join(kinds)}" if kinds else ""))
        if keyword.arg in bound:
            raise parsed.refuse(node, f"{name}() is given {keyword.arg!r} twice")
        bound[keyword.arg] = keyword.value
    if names[0] == "x" and "x" not in bound:
        raise parsed.refuse(node, f"{name}() needs a column or expression to work on")
    for param, kind in kinds.items():
        if param in bound and kind != "contrast":
            bound[param] = _option(parsed, name, param, kind, bound[param])
    return bound


def _option(parsed: Parsed, func: str, param: str, kind: str, node: ast.AST):
    where = f"{func}() option {param!r}"
    if kind == "levels":
        if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
            raise parsed.refuse(node, f"{where} must be a non-empty list of levels")
        if len(node.elts) > MAX_LEVELS:
            raise parsed.refuse(node, f"{where} lists more than {MAX_LEVELS} levels")
        values = [_option(parsed, func, param, "level", item) for item in node.elts]
        if len(set(values)) != len(values):
            raise parsed.refuse(node, f"{where} lists a level twice")
        return values
    try:
        value = literal_value(node)
    except ValueError:
        raise parsed.refuse(node, f"{where} must be a constant ({_KIND_WORDS[kind]})") from None
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool" and not isinstance(value, bool):
        raise parsed.refuse(node, f"{where} must be True or False")
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)
                          or not 1 <= value <= MAX_POLY_DEGREE):
        raise parsed.refuse(node, f"{where} must be a whole number from 1 to {MAX_POLY_DEGREE}")
    if kind == "number" and (not is_number or not 0 <= value < 1e6):
        raise parsed.refuse(node, f"{where} must be a number from 0 up to a million")
    if kind == "level" and isinstance(value, float) and not np.isfinite(value):
        raise parsed.refuse(node, f"{where} must be a finite level")
    return value


_KIND_WORDS = {"bool": "True or False", "int": "a whole number", "number": "a number",
               "level": "a text, number or True/False level", "levels": "a list of levels"}


class _Checker:
    """Walk a term's tree and refuse anything outside the allowed forms."""

    def __init__(self, parsed: Parsed):
        self.parsed = parsed

    def check(self, node: ast.AST, *, top: bool, root: bool, stateful: str | None) -> None:
        p = self.parsed
        if isinstance(node, ast.Name):
            if node.id not in p.placeholders and node.id.startswith("_"):
                raise p.refuse(node, f"the name {node.id!r} starts with an underscore; write a "
                                     "column named so in backticks")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise p.refuse(node, f"the constant {node.value!r} is not a real number (text and "
                                     "True/False only name levels or options)")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise p.refuse(node, "the only unary operators allowed are - and +")
            self.check(node.operand, top=False, root=False, stateful=stateful)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _UFUNCS:
                symbol = _REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)
                raise p.refuse(node, f"the operator {symbol} is not allowed")
            if isinstance(node.op, ast.Pow):
                exponent = fold_constant(node.right)
                if exponent is not None and not abs(exponent) <= MAX_EXPONENT:
                    raise p.refuse(node, f"a constant exponent must lie between -{MAX_EXPONENT} "
                                         f"and {MAX_EXPONENT}")
            self.check(node.left, top=False, root=False, stateful=stateful)
            self.check(node.right, top=False, root=False, stateful=stateful)
        elif isinstance(node, ast.Call):
            self._check_call(node, top=top, root=root, stateful=stateful)
        else:
            word = _NODE_WORDS.get(type(node), type(node).__name__)
            raise p.refuse(node, f"{word} is not allowed")

    def _check_call(self, node: ast.Call, *, top: bool, root: bool, stateful: str | None) -> None:
        p = self.parsed
        name = call_name(node.func)
        if name is None:
            raise p.refuse(node, f"calling {_spelled(node.func)!r} is not allowed")
        if name == "Treatment":
            raise p.refuse(node, "Treatment(...) belongs inside C(x, Treatment(level))")
        bound = bind_call(p, node, name)
        if name == "C" and not top:
            raise p.refuse(node, "C(...) makes a categorical column, which arithmetic and "
                                 "functions cannot take; use it as a whole term")
        if name == "poly" and not root:
            raise p.refuse(node, "poly(...) makes several columns; use it as a whole term")
        if name == "C" and "contrasts" in bound:
            self._check_contrasts(bound["contrasts"])
        is_stateful = name in STATEFUL_FUNCTIONS and not (name == "poly" and bound.get("raw"))
        if is_stateful:
            if stateful is not None:
                raise p.refuse(node, f"{name}(...) inside {stateful}(...): a transform that learns "
                                     "from the training data cannot take another one's result")
            p.stateful.setdefault(p.text_of(node), node)
        self.check(bound["x"], top=top and name == "I", root=False,
                   stateful=name if is_stateful else stateful)

    def _check_contrasts(self, node: ast.AST) -> None:
        p = self.parsed
        if isinstance(node, ast.Name) and node.id == "Treatment":
            return
        if isinstance(node, ast.Call) and call_name(node.func) == "Treatment":
            bind_call(p, node, "Treatment")
            return
        raise p.refuse(node, "the only contrasts allowed are Treatment and Treatment(level)")
