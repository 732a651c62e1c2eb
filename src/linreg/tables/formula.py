"""A formula's structure: its terms, how each categorical factor is coded, and the names and
order of the columns — as R's ``lm`` and statsmodels (patsy) lay them out.

The formula text is parsed by formulaic (``y ~ a * b + np.log(c)``, ``.``, ``-1``, ``**``,
backticks); nothing of it is evaluated here (each factor is a Python expression that
:mod:`linreg.tables.expressions` checks against an allowed set and evaluates by walking its
syntax tree).  What this module adds is the layout:

* **Coding.**  A categorical factor in a term is coded with treatment contrasts (its reference
  level left out) when the part of the model the term builds on already spans that level's
  indicator, and with one indicator per level otherwise.  Concretely (patsy's rule, which
  agrees with R's for hierarchical formulas): the term's categorical factors are expanded into
  all their subsets, smallest first; subsets already used by earlier terms of the same bucket
  (the same numeric factors) are dropped — the intercept is the empty subset — and a subset
  that differs from a later one by one factor is absorbed into it, giving that factor full
  coding.  So ``y ~ species`` has ``species[T.Chinstrap]``, ``species[T.Gentoo]``, and
  ``y ~ species - 1`` has ``species[Adelie]``, ``species[Chinstrap]``, ``species[Gentoo]``.
* **Order.**  Terms are grouped by the set of numeric factors they contain (the group with
  none first, then groups in order of first appearance), and sorted by degree within a group.
  Within a term, the first factor's levels vary fastest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

from .expressions import FormulaError, check_expression

__all__ = ["ParsedFormula", "Subterm", "Term", "TermLayout", "check_intercept", "columns_formula",
           "layout", "parse_formula"]


@dataclass(frozen=True)
class Term:
    """One term of the formula: its factors (expressions), in the order written."""

    factors: tuple

    @property
    def name(self) -> str:
        return ":".join(self.factors)


@dataclass(frozen=True)
class ParsedFormula:
    """``targets ~ terms``: the target expressions (one per target), the terms (the intercept
    not among them) and whether the formula keeps the intercept."""

    text: str
    targets: tuple
    terms: tuple
    intercept: bool
    #: factors and targets that name a column as it is (no expression to evaluate)
    lookups: frozenset = frozenset()


def parse_formula(formula: str, columns: list | None = None) -> ParsedFormula:
    """Parse ``formula`` with formulaic (``.`` means every column of ``columns`` not on the
    left-hand side); every factor expression is checked (nothing is evaluated)."""
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"formula={formula!r} must be text of the form 'target ~ terms' "
                           "(e.g. 'body_mass_g ~ flipper_length_mm + species')")
    try:
        from formulaic import Formula
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError("formulas need formulaic, which is not installed; install the "
                          "'formula' extra: pip install 'linreg[formula]'") from None
    context = {} if columns is None else {"__formulaic_variables_available__": list(columns)}
    try:
        parsed = Formula(formula, _ordering="none", _context=context)
    except Exception as exc:  # formulaic's parser errors have many classes
        # (formulaic marks the place in colour: terminal escapes, left out of the message)
        reason = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        raise FormulaError(f"formula {formula!r} cannot be parsed: {reason}") from None
    lhs = getattr(parsed, "lhs", None)
    if lhs is None:
        raise FormulaError(f"formula {formula!r} has no target: write 'target ~ terms'")
    targets, lookups = [], set()
    for term in lhs:
        if len(term.factors) != 1:
            raise FormulaError(f"formula {formula!r}: the left-hand side must list target "
                               f"columns separated by '+', not {str(term)!r}")
        targets.append(_checked(term.factors[0], formula))
        if term.factors[0].eval_method.value == "lookup":
            lookups.add(targets[-1])
    terms, intercept = [], False
    for term in parsed.rhs:
        factors = [f for f in term.factors]
        if len(factors) == 1 and factors[0].eval_method.value == "literal":
            if str(factors[0].expr) in ("1", "1.0"):
                intercept = True
                continue
            raise FormulaError(f"formula {formula!r}: the constant {factors[0].expr!r} is not a "
                               "term (write '1' for the intercept, '- 1' or '+ 0' to leave it out)")
        exprs = tuple(_checked(f, formula) for f in factors)
        lookups.update(str(f.expr) for f in factors if f.eval_method.value == "lookup")
        if any(t in exprs for t in targets):
            raise FormulaError(f"formula {formula!r} uses the target on both sides")
        terms.append(Term(exprs))
    if not terms and not intercept:
        raise FormulaError(f"formula {formula!r} has no terms and no intercept")
    return ParsedFormula(formula, tuple(targets), tuple(dict.fromkeys(terms)), intercept,
                         frozenset(lookups))


def columns_formula(targets: list, features: list, intercept: bool) -> ParsedFormula:
    """The formula of a table fitted without one: every feature column a term of its own."""
    text = " + ".join(targets) + " ~ " + " + ".join(features) + ("" if intercept else " - 1")
    return ParsedFormula(text, tuple(targets), tuple(Term((f,)) for f in features), intercept,
                         frozenset(targets) | frozenset(features))


def check_intercept(parsed, formula: str, fit_intercept: bool) -> None:
    """The formula's intercept and ``fit_intercept`` must agree (the estimator reads
    ``fit_intercept``; a formula's ``- 1`` alone cannot change it)."""
    if parsed.intercept != bool(fit_intercept):
        raise ValueError(
            f"the formula {formula!r} " + ("keeps the intercept but fit_intercept=False: write "
                                           "'- 1' in the formula" if parsed.intercept
                                           else "leaves the intercept out ('- 1' or '+ 0'): pass "
                                           "fit_intercept=False too"))


def _checked(factor, formula: str) -> str:
    expr = str(factor.expr)
    if factor.eval_method.value == "literal":
        raise FormulaError(f"formula {formula!r}: the constant {expr!r} cannot be a factor")
    if factor.eval_method.value == "python":
        try:
            check_expression(expr)
        except FormulaError as exc:
            raise FormulaError(f"formula {formula!r}: {exc}") from None
    return expr


@dataclass(frozen=True)
class Subterm:
    """Part of a term's columns: each categorical factor of ``full`` coded with one indicator
    per level, each other categorical factor of the subterm with treatment contrasts;
    the categorical factors not in ``categorical`` do not enter it."""

    categorical: tuple
    full: frozenset


@dataclass(frozen=True)
class TermLayout:
    """A term, its subterms, and its place in the column order."""

    term: Term
    numeric: tuple        # its numeric factors, in term order
    subterms: tuple


def layout(terms, numeric: set, intercept: bool) -> list:
    """The terms in column order with their subterms (see the module docstring); ``numeric``
    is the set of factor expressions that evaluate to numbers."""
    buckets: dict = {}
    for term in terms:
        key = frozenset(f for f in term.factors if f in numeric)
        buckets.setdefault(key, []).append(term)
    order = sorted(buckets, key=lambda k: 0 if not k else 1)   # stable: the empty set first
    if intercept:
        buckets.setdefault(frozenset(), [])
        if frozenset() not in order:
            order.insert(0, frozenset())
    out = []
    for key in order:
        used = {frozenset()} if (intercept and not key) else set()
        for term in sorted(buckets[key], key=lambda t: len(t.factors)):
            cats = [f for f in term.factors if f not in numeric]
            subsets = []
            for size in range(len(cats) + 1):
                for subset in combinations(cats, size):
                    if frozenset(subset) not in used:
                        subsets.append([set(subset), set()])   # [factors, full-coded]
                    used.add(frozenset(subset))
            _absorb(subsets)
            subterms = tuple(Subterm(tuple(f for f in cats if f in s), frozenset(full))
                             for s, full in subsets)
            out.append(TermLayout(term, tuple(f for f in term.factors if f in numeric),
                                  subterms))
    return out


def _absorb(subsets: list) -> None:
    """Merge a subset into a later one with exactly one more factor, which then gets full
    coding (``1 + a-`` is ``a+``; ``a- + a-:b-`` is ``a-:b+``), until none merges."""
    changed = True
    while changed:
        changed = False
        for i, (short, short_full) in enumerate(subsets):
            for j in range(i + 1, len(subsets)):
                long, long_full = subsets[j]
                extra = long - short
                if (len(long) == len(short) + 1 and short <= long
                        and (long_full & short) == short_full and not (extra & long_full)):
                    subsets[j] = [long, long_full | extra]
                    subsets.pop(i)
                    changed = True
                    break
            if changed:
                break
