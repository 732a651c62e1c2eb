"""PLACEHOLDER (replaced by the safe evaluator): bare names and C(name) only."""
from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from .blocks import Codes


class FormulaError(ValueError):
    pass


@dataclass
class Numeric:
    values: np.ndarray
    names: list


@dataclass
class Categorical:
    codes: np.ndarray
    levels: list
    reference: object = None
    declared: bool = False


def check_expression(expr):
    ast.parse(expr, mode="eval")


def columns_used(expr):
    return [n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)
            and n.id not in ("C", "Treatment", "np", "I")]


def is_stateful(expr):
    return False


def evaluate(expr, data, state=None):
    tree = ast.parse(expr, mode="eval").body
    if isinstance(tree, ast.Name):
        if tree.id not in data:
            raise FormulaError(f"no column {tree.id!r}")
        v = data[tree.id]
        if isinstance(v, Codes):
            return Categorical(v.codes, v.levels, None, v.declared)
        return Numeric(np.asarray(v, float).reshape(-1, 1), [expr])
    if isinstance(tree, ast.Call) and tree.func.id == "C":
        v = data[tree.args[0].id]
        ref = None
        if len(tree.args) > 1:
            ref = tree.args[1].args[0].value
        if isinstance(v, Codes):
            return Categorical(v.codes, v.levels, ref, v.declared)
        v = np.asarray(v, float)
        lev, codes = np.unique(v[np.isfinite(v)], return_inverse=False), None
        codes = np.full(len(v), -1)
        ok = np.isfinite(v)
        codes[ok] = np.searchsorted(lev, v[ok])
        levels = [int(x) if float(x).is_integer() else float(x) for x in lev]
        return Categorical(codes, levels, ref, False)
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute) and tree.func.attr == "log":
        v = np.asarray(data[tree.args[0].id], float)
        return Numeric(np.log(v).reshape(-1, 1), [expr])
    raise FormulaError(expr)
