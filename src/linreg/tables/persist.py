"""A table's encoding in a model file: plain JSON data, checked on load.

The formula is stored as its structure (targets, terms as lists of factor expressions, the
intercept, which factors name a column as it is), with what the fit learned: each factor's
kind, a numeric factor's column names, a categorical factor's levels (text, numbers or
booleans, in their final order) and reference, and the state of stateful transforms.  On load
every expression is checked again against the allowed set
(:func:`linreg.tables.expressions.check_expression`): a model file cannot make linreg run
code, whatever it holds.
"""

from __future__ import annotations

from .expressions import FormulaError, check_expression
from .formula import ParsedFormula, Term

__all__ = ["encoding_to_dict", "encoding_from_dict"]

_KEYS = {"formula", "missing", "targets", "terms", "intercept", "lookups", "kinds", "widths",
         "levels", "reference_index", "states"}


def encoding_to_dict(enc) -> dict:
    f = enc.formula
    return {
        "formula": f.text,
        "missing": enc.missing,
        "targets": list(f.targets),
        "terms": [list(t.factors) for t in f.terms],
        "intercept": bool(f.intercept),
        "lookups": sorted(f.lookups),
        "kinds": dict(enc.kinds),
        "widths": {e: list(v) for e, v in enc.widths.items()},
        "levels": {e: list(v) for e, v in enc.levels.items()},
        "reference_index": {e: int(v) for e, v in enc.ref_index.items()},
        "states": dict(enc.states),
    }


def encoding_from_dict(data, fail):
    """The frozen :class:`~linreg.tables.encoding.Encoding` a model file describes;
    ``fail(why)`` raises the model file's error."""
    from .encoding import Encoding
    if not isinstance(data, dict) or set(data) != _KEYS:
        fail(f"encoding must be an object with the keys {sorted(_KEYS)}")

    def strings(value, what):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            fail(f"encoding: {what} must be a list of strings")
        return value

    if not isinstance(data["formula"], str):
        fail("encoding: formula must be text")
    targets = strings(data["targets"], "targets")
    lookups = set(strings(data["lookups"], "lookups"))
    if not isinstance(data["terms"], list):
        fail("encoding: terms must be a list")
    terms = [tuple(strings(t, "each term")) for t in data["terms"]]
    if not isinstance(data["intercept"], bool):
        fail("encoding: intercept must be true or false")
    for expr in targets + [e for t in terms for e in t]:
        if expr in lookups:
            continue
        try:
            check_expression(expr)
        except FormulaError as exc:
            fail(f"encoding: {exc}")
    parsed = ParsedFormula(data["formula"], tuple(targets), tuple(Term(t) for t in terms),
                           data["intercept"], frozenset(lookups))
    try:
        enc = Encoding(parsed, data["missing"])
    except ValueError as exc:
        fail(f"encoding: {exc}")
    factors = set(enc.factors)
    kinds = data["kinds"]
    if not isinstance(kinds, dict) or set(kinds) != factors or not all(
            k in ("numeric", "categorical") for k in kinds.values()):
        fail("encoding: kinds must give 'numeric' or 'categorical' for every factor")
    widths, levels, refs = data["widths"], data["levels"], data["reference_index"]
    numeric = {e for e, k in kinds.items() if k == "numeric"}
    if not isinstance(widths, dict) or set(widths) != numeric:
        fail("encoding: widths must list the columns of every numeric factor")
    for e in numeric:
        strings(widths[e], f"the columns of {e!r}")
    categorical = factors - numeric
    if (not isinstance(levels, dict) or set(levels) != categorical
            or not isinstance(refs, dict) or set(refs) != categorical):
        fail("encoding: levels and reference_index must be given for every categorical factor")
    for e in categorical:
        lv = levels[e]
        if (not isinstance(lv, list) or not lv or len(set(map(repr, lv))) != len(lv)
                or not all(isinstance(v, (str, int, float, bool)) for v in lv)):
            fail(f"encoding: the levels of {e!r} must be a list of distinct texts, numbers "
                 "or booleans")
        r = refs[e]
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < len(lv):
            fail(f"encoding: the reference of {e!r} must index its levels")
    states = data["states"]
    if not isinstance(states, dict) or set(states) != set(enc.stateful):
        fail("encoding: states must hold the state of every stateful transform")
    enc.kinds = dict(kinds)
    enc.widths = {e: list(widths[e]) for e in numeric}
    enc.set_levels({e: levels[e] for e in categorical})
    enc.reference = {e: None for e in categorical}
    enc.declared = {e: None for e in categorical}
    enc.states = dict(states)
    enc.frozen_from(refs)
    return enc
