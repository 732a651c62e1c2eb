"""Wald tests of linear restrictions ``Rθ = q``: restrictions written by coefficient name
("x1 = x2", "x1 = 0, x2 = 0", "2*x1 - x3 = 1") or given as a matrix, and the t and F tests
of :meth:`RegressionResults.t_test <linreg.inference.RegressionResults.t_test>` and
:meth:`~linreg.inference.RegressionResults.f_test`, as statsmodels computes them::

    t test   t_i = ((Rθ)_i − q_i) / √(R V Rᵀ)_ii          one test per restriction
    F test   F = (Rθ − q)ᵀ (R V Rᵀ)⁺ (Rθ − q) / J        J = rank(R V Rᵀ)

with ``V`` the covariance of the results (whichever ``cov_type`` they were made with), on
``df_resid_inference`` degrees of freedom (Student's t or the normal, as the results'
``use_t``; the F test always uses the F distribution, as statsmodels' ``f_test``).

The restriction language: restrictions separated by commas (or given as a list of strings);
each is two or more linear expressions joined by ``=`` (a lone expression means ``= 0``); an
expression is a sum of terms — numbers, coefficient names, products with a number,
divisions by a number, parentheses.  Names are the results' ``param_names`` (``intercept``
and the feature names), matched longest first, so names with spaces or signs in them work;
a name in backticks (```0```, ```a=b```) is always a coefficient — the way to write names
that read as numbers or hold ``=`` or ``,``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.stats

from ..exceptions import warn_user

__all__ = ["parse_restrictions", "restriction_matrix", "TTestResult", "FTestResult",
           "t_test", "f_test"]

_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class _Parser:
    """Recursive descent over one side of a restriction: a linear form ``(coefficients, constant)``."""

    def __init__(self, text: str, names: list):
        self.text, self.names, self.pos = text, names, 0
        # longest names first ("x1" must not swallow the start of "x10"); a name that reads
        # as a number (the columns "0", "1", … of a .npy file) is written `0`, in backticks
        self.by_length = sorted((i for i in range(len(names))
                                 if not _NUMBER.fullmatch(names[i].strip())),
                                key=lambda i: -len(names[i]))

    def error(self, what: str):
        raise ValueError(f"cannot read the restriction {self.text!r}: {what} at position "
                         f"{self.pos} ({self.text[:self.pos]}⟨here⟩{self.text[self.pos:]})")

    def skip(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expression(self):
        coef, const = self.term()
        while self.peek() in ("+", "-"):
            sign = 1.0 if self.text[self.pos] == "+" else -1.0
            self.pos += 1
            c, k = self.term()
            coef, const = coef + sign * c, const + sign * k
        return coef, const

    def term(self):
        coef, const = self.factor()
        while self.peek() in ("*", "/"):
            op = self.text[self.pos]
            self.pos += 1
            c, k = self.factor()
            if op == "/":
                if c.any():
                    self.error("division by a coefficient (not a linear restriction)")
                if k == 0:
                    self.error("division by zero")
                coef, const = coef / k, const / k
            elif c.any() and coef.any():
                self.error("a product of two coefficients (not a linear restriction)")
            else:
                coef, const = coef * k + c * const, const * k
        return coef, const

    def factor(self):
        ch = self.peek()
        zero = np.zeros(len(self.names))
        if ch in ("+", "-"):
            self.pos += 1
            c, k = self.factor()
            return (c, k) if ch == "+" else (-c, -k)
        if ch == "`":
            end = self.text.find("`", self.pos + 1)
            if end < 0:
                self.error("a missing closing '`'")
            name = self.text[self.pos + 1:end]
            if name not in self.names:
                raise ValueError(f"the restriction {self.text!r} names {name!r}, which is not a "
                                 f"coefficient; the coefficients are {self.names}")
            self.pos = end + 1
            coef = zero.copy()
            coef[self.names.index(name)] = 1.0
            return coef, 0.0
        if ch == "(":
            self.pos += 1
            value = self.expression()
            if self.peek() != ")":
                self.error("a missing ')'")
            self.pos += 1
            return value
        for i in self.by_length:
            name = self.names[i]
            if self.text.startswith(name, self.pos):
                self.pos += len(name)
                coef = zero.copy()
                coef[i] = 1.0
                return coef, 0.0
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return zero, float(match.group(0))
        if not ch:
            self.error("an expression is missing")
        word = re.match(r"[^\s=+\-*/(),]+", self.text[self.pos:])
        unknown = word.group(0) if word else ch
        raise ValueError(f"the restriction {self.text!r} names {unknown!r}, which is not a "
                         f"coefficient; the coefficients are {self.names}")


def _split_top(text: str, sep: str) -> list:
    """``text`` split at the ``sep`` characters outside parentheses and backticks."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif not quoted:
            depth += ch == "("
            depth -= ch == ")"
            if ch == sep and depth == 0:
                parts.append(text[start:i])
                start = i + 1
    parts.append(text[start:])
    return parts


def parse_restrictions(text, names) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` of the restrictions ``text`` (a string, or a list of strings) over the
    coefficients ``names``.  ``"a = b = 0"`` is two restrictions, ``a = b`` and ``b = 0``.

    >>> R, q = parse_restrictions("x1 = x2, 2*x3 = 1", ["intercept", "x1", "x2", "x3"])
    >>> R.tolist(), q.tolist()
    ([[0.0, 1.0, -1.0, 0.0], [0.0, 0.0, 0.0, 2.0]], [0.0, 1.0])
    """
    names = [str(n) for n in names]
    pieces = [text] if isinstance(text, str) else list(text)
    rows, values = [], []
    for piece in pieces:
        if not isinstance(piece, str):
            raise ValueError(f"a restriction must be a string like 'x1 = x2', got {piece!r}")
        for restriction in _split_top(piece, ","):
            if not restriction.strip():
                raise ValueError(f"the restrictions {piece!r} hold an empty restriction")
            sides = []
            for side in _split_top(restriction, "="):
                parser = _Parser(side, names)
                sides.append(parser.expression())
                if parser.peek():
                    parser.error(f"unexpected {parser.peek()!r}")
            if len(sides) == 1:
                sides.append((np.zeros(len(names)), 0.0))
            for (c1, k1), (c2, k2) in zip(sides[:-1], sides[1:], strict=True):
                coef = c1 - c2
                if not coef.any():
                    raise ValueError(f"the restriction {restriction.strip()!r} involves no "
                                     "coefficient")
                rows.append(coef)
                values.append(k2 - k1)
    return np.array(rows), np.array(values)


def restriction_matrix(restrictions, names, q=None) -> tuple[np.ndarray, np.ndarray]:
    """``(R, q)`` from restriction strings, or from a matrix ``R`` (one row per restriction,
    one column per coefficient) and optional values ``q`` (default 0)."""
    if isinstance(restrictions, str) or (isinstance(restrictions, (list, tuple)) and restrictions
                                         and all(isinstance(r, str) for r in restrictions)):
        if q is not None:
            raise ValueError("q is given with the restriction strings; write the values in "
                             "the strings ('x1 = 2')")
        return parse_restrictions(restrictions, names)
    R = np.atleast_2d(np.asarray(restrictions, dtype=np.float64))
    p = len(names)
    if R.ndim != 2 or R.shape[1] != p or R.shape[0] == 0:
        raise ValueError(f"a restriction matrix needs one column per coefficient ({p}: "
                         f"{list(names)}); got shape {np.shape(restrictions)}")
    qv = np.zeros(R.shape[0]) if q is None else np.atleast_1d(np.asarray(q, dtype=np.float64))
    if qv.shape != (R.shape[0],):
        raise ValueError(f"q has shape {qv.shape}; it needs one value per restriction "
                         f"({R.shape[0]})")
    if not (np.isfinite(R).all() and np.isfinite(qv).all()):
        raise ValueError("the restriction matrix and q must be finite numbers")
    return R, qv


def _check_consistent(R: np.ndarray, q: np.ndarray, names) -> int:
    """The rank of ``R``; raises when ``Rθ = q`` has no solution (contradictory restrictions)."""
    rank = int(np.linalg.matrix_rank(R))
    if rank < R.shape[0]:
        solution = np.linalg.lstsq(R, q, rcond=None)[0]
        gap = np.abs(R @ solution - q)
        if np.max(gap) > 1e-9 * (1.0 + np.max(np.abs(q))):
            raise ValueError("the restrictions contradict each other (no coefficients satisfy "
                             "all of them at once, e.g. 'x1 = 0, x1 = 1'): drop or correct one")
    return rank


def _involved_unidentified(R: np.ndarray, identified, names) -> None:
    bad = [n for n, used, ok in zip(names, np.any(R != 0, axis=0), identified, strict=True)
           if used and not ok]
    if bad:
        raise ValueError(f"the restrictions involve {bad}, which the data cannot identify (a "
                         "rank-deficient design): they have no standard errors to test with")


@dataclass(frozen=True)
class TTestResult:
    """One t (or z) test per restriction, as statsmodels' ``ContrastResults``."""

    effect: np.ndarray       # Rθ
    sd: np.ndarray           # √diag(R V Rᵀ)
    tvalue: np.ndarray       # (Rθ − q)/sd
    pvalue: np.ndarray       # two-sided
    df_denom: float
    use_t: bool
    q: np.ndarray

    @property
    def statistic(self) -> np.ndarray:
        return self.tvalue

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """``Rθ ± crit·sd`` (p, 2), with crit from Student's t or the normal."""
        prob = 1.0 - alpha / 2.0
        crit = (scipy.stats.t.ppf(prob, self.df_denom) if self.use_t
                else scipy.stats.norm.ppf(prob))
        return np.column_stack([self.effect - crit * self.sd, self.effect + crit * self.sd])

    def __repr__(self) -> str:
        stat = "t" if self.use_t else "z"
        rows = ", ".join(f"{e:.6g} (se {s:.4g}, {stat}={t:.4g}, p={p:.4g})" for e, s, t, p in
                         zip(self.effect, self.sd, self.tvalue, self.pvalue, strict=True))
        return f"<{stat} test: {rows}>"


@dataclass(frozen=True)
class FTestResult:
    """The joint F test of the restrictions, as statsmodels' ``ContrastResults``."""

    fvalue: float
    pvalue: float
    df_num: int
    df_denom: float

    @property
    def statistic(self) -> float:
        return self.fvalue

    def __repr__(self) -> str:
        return (f"<F test: F={self.fvalue:.6g}, p={self.pvalue:.6g}, df_denom={self.df_denom:g}, "
                f"df_num={self.df_num}>")


def _prepared(result, restrictions, q):
    names = list(result.param_names)
    R, qv = restriction_matrix(restrictions, names, q)
    _involved_unidentified(R, np.asarray(result.identified), names)
    rank = _check_consistent(R, qv, names)
    V = np.nan_to_num(np.asarray(result.cov_params()))   # unidentified rows are not involved
    return R, qv, rank, R @ V @ R.T


def t_test(result, restrictions, q=None) -> TTestResult:
    """t (or z, as the results' ``use_t``) test of each restriction ``(Rθ)_i = q_i``."""
    R, qv, _, RVR = _prepared(result, restrictions, q)
    effect = R @ np.asarray(result.params)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(np.diag(RVR))
        t = (effect - qv) / sd
    df = result.df_resid_inference
    p = 2.0 * (scipy.stats.t.sf(np.abs(t), df) if result.use_t else scipy.stats.norm.sf(np.abs(t)))
    return TTestResult(effect, sd, t, p, df, bool(result.use_t), qv)


def f_test(result, restrictions, q=None) -> FTestResult:
    """Joint F test of ``Rθ = q`` with the results' covariance (statsmodels' ``f_test``: the
    pseudo-inverse of ``R V Rᵀ`` and ``J`` its rank, with a warning when redundant
    restrictions make it less than their number)."""
    R, qv, _, RVR = _prepared(result, restrictions, q)
    J = R.shape[0]
    rank = int(np.linalg.matrix_rank(RVR))
    if rank < J:
        warn_user(f"the {J} restrictions are not independent (the covariance of Rθ has rank "
                  f"{rank}): the F test counts {rank}, as statsmodels does", UserWarning)
    if rank == 0:
        raise ValueError("the restrictions have no variance to test with (R V Rᵀ is zero)")
    diff = R @ np.asarray(result.params) - qv
    F = float(diff @ np.linalg.pinv(RVR) @ diff) / rank
    df = result.df_resid_inference
    return FTestResult(F, float(scipy.stats.f.sf(F, rank, df)), rank, df)
