"""linreg: linear regression from scratch — exact closed forms, fast gradient descent,
honest diagnostics.

    ŷ = Xw + b,    J(w, b) = 1/(2 Σs_i) Σ s_i (ŷ_i − y_i)² + (alpha/2)‖w‖²

The public names are imported on first use (PEP 562), so that importing the package — as
``linreg --version`` and ``linreg --help`` do — loads neither scikit-learn, SciPy nor numba;
``from linreg import LinearRegression`` and ``linreg.load`` work as usual.
"""

import importlib
import importlib.util

__version__ = "0.1.0"

#: public name → the module of this package that defines it
_PUBLIC = {
    "LinearRegression": "estimator",
    "LinearRegressionCV": "selection",
    "load": "estimator",
    "ModelFileError": "persistence",
    "ConvergenceWarning": "exceptions",
    "DivergenceError": "exceptions",
    "IllConditionedWarning": "exceptions",
    "RankDeficiencyWarning": "exceptions",
    "SufficientStats": "stats",
    "sufficient_stats": "stats",
    "RegressionResults": "inference",
    "MultiOutputResults": "inference",
}

__all__ = [
    "LinearRegression",
    "LinearRegressionCV",
    "load",
    "ModelFileError",
    "ConvergenceWarning",
    "DivergenceError",
    "IllConditionedWarning",
    "RankDeficiencyWarning",
    "SufficientStats",
    "sufficient_stats",
    "sources",
    "RegressionResults",
    "MultiOutputResults",
    "__version__",
]


def __getattr__(name: str):
    """A public name, imported from its module; or a submodule (``linreg.sources``,
    ``linreg.exceptions``…), as an eager ``import`` of the estimator used to make them all
    attributes of the package."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
        globals()[name] = value  # the next look-up is an ordinary attribute
        return value
    if not name.startswith("_"):
        spec = importlib.util.find_spec(f"{__name__}.{name}")
        if spec is not None and spec.origin is not None:  # a module, not a folder of data
            return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
