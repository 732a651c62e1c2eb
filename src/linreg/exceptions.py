"""Warnings and errors linreg raises, and :func:`warn_user`, which points warnings at the
caller's line.

A message that names the estimator's parameters (``max_iter=3000``, ``solver='auto'``) is
kept as a template with the parameters beside it (:class:`ParameterWording`), so that each
interface words them its own way: ``str()`` gives Python's keywords, and the command line
passes its own ``setting(name, value)`` to :meth:`ParameterWording.worded` to get its flags
(``--max-iter 3000``, ``--solver auto``).  One message, one place; no second copy per interface.
"""

import os
import sys
import warnings

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning

__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "IllConditionedWarning",
    "NoStatisticsError",
    "ParameterValueError",
    "ParameterWording",
    "PenalizedInferenceError",
    "RankDeficiencyWarning",
    "TrainingDataMismatchError",
    "no_statistics",
    "python_setting",
    "warn_user",
]


#: what a message names that is not a parameter setting but is spelt differently by each
#: interface: the Python spelling here, the command line's in linreg.cli.wording
PYTHON_PHRASES = {
    "training_data": "the training data (X, y and sample_weight)",
}


def python_setting(name: str, value) -> str:
    """How Python code sets an estimator parameter: ``max_iter=3000``, ``solver='auto'``,
    ``tol=1e-08``, ``standardize=True`` (or names a :data:`PYTHON_PHRASES` thing)."""
    if name in PYTHON_PHRASES:
        return PYTHON_PHRASES[name]
    if isinstance(value, float):
        return f"{name}={value:g}"
    return f"{name}={value!r}"


def repr_setting(name: str, value) -> str:
    """``name=value`` with the value's ``repr``: how a bad value is quoted back."""
    return f"{name}={value!r}"


class ParameterWording:
    """A message whose parameter settings are worded by the interface that shows it.

    ``template`` is a :meth:`str.format` string whose fields are keys of ``parameters``,
    each ``(parameter name, value)``; literal braces are doubled.  ``worded(setting)`` fills
    each field with ``setting(name, value)``; ``str()`` uses :func:`python_setting`.
    """

    template: str = ""
    parameters: dict | None = None

    def __init__(self, message: str = "", *, parameters: dict | None = None):
        self.template = message
        self.parameters = dict(parameters or {})
        super().__init__(self.worded())

    def worded(self, setting=python_setting) -> str:
        if not self.parameters:
            return self.template
        return self.template.format(**{key: setting(name, value)
                                       for key, (name, value) in self.parameters.items()})

    def __str__(self) -> str:
        return self.worded()


class MessageBuilder:
    """Builds a :class:`ParameterWording` template: ``text(...)`` adds literal text,
    ``setting(name, value)`` returns the field that stands for that parameter setting."""

    def __init__(self):
        self.parameters = {}

    def setting(self, name: str, value) -> str:
        key = f"p{len(self.parameters)}"
        self.parameters[key] = (name, value)
        return "{" + key + "}"

    @staticmethod
    def text(literal: str) -> str:
        """``literal`` safe inside the template (braces doubled)."""
        return literal.replace("{", "{{").replace("}", "}}")

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: "str | Warning", category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first frame outside linreg — the user's own line,
    whichever path (array, file source, Dask, ``partial_fit``, the CLI) led to the warning."""
    level, frame = 2, sys._getframe(1)      # stacklevel 2: the caller of warn_user
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


class ConvergenceWarning(ParameterWording, _SklearnConvergenceWarning):
    """An iterative solver stopped short of the optimum, or had to undo diverging epochs.

    A subclass of scikit-learn's, so tools that filter that one filter this one too.
    Besides the message it carries what the message says, for programs: ``stop_reason``
    (one of :data:`linreg.stopping.STOP_REASONS`, or None), ``relative_loss_gap``
    (``(J − J*)/J*``, None when unknown) and ``distance_in_se`` (the largest distance of a
    coefficient from the exact optimum in standard errors, None when unknown); and
    ``template``/``parameters`` (see :class:`ParameterWording`).
    """

    def __init__(self, message: str = "", *, parameters: dict | None = None,
                 stop_reason: str | None = None, relative_loss_gap: float | None = None,
                 distance_in_se: float | None = None):
        self.stop_reason = stop_reason
        self.relative_loss_gap = relative_loss_gap
        self.distance_in_se = distance_in_se
        super().__init__(message, parameters=parameters)


class DivergenceError(ParameterWording, ArithmeticError):
    """Training diverged: the loss grew without bound for the chosen learning rate."""


class ParameterValueError(ParameterWording, ValueError):
    """A parameter's value is not allowed; the message quotes it back (``max_iter=0``, or
    ``--max-iter 0`` on the command line)."""

    def __str__(self) -> str:
        return self.worded(repr_setting)


def bad_value(name: str, value, rest: str) -> ParameterValueError:
    """``name=value`` followed by ``rest`` (e.g. " must be an integer >= 1")."""
    return ParameterValueError("{p0}" + MessageBuilder.text(rest),
                               parameters={"p0": (name, value)})


class TrainingDataMismatchError(ParameterWording, ValueError):
    """The rows given for a summary are not the rows the model was fitted on."""


class RankDeficiencyWarning(UserWarning):
    """The design is rank-deficient: some columns are linear combinations of others (or of
    the intercept); the minimum-norm solution is returned."""


class IllConditionedWarning(ParameterWording, UserWarning):
    """The chosen solver loses many digits on this design; ``solver="qr"`` would not."""


class PenalizedInferenceError(ParameterWording, ValueError):
    """Ordinary-least-squares inference was asked of a penalized fit (``alpha > 0``)."""


class NoStatisticsError(ParameterWording, ValueError):
    """What needs the d × d statistics was asked of a model fitted by LSQR without them."""


def no_statistics(d: int, needs: str) -> NoStatisticsError:
    """The error for ``needs`` (what the d × d statistics would give) of a model fitted by
    LSQR without them; its advice worded by the interface that shows it."""
    return NoStatisticsError(
        MessageBuilder.text(f"this model was fitted by LSQR without the {d} × {d} statistics "
                            f"(a design too wide for them), and {needs}: refit with ")
        + "{p0}" + MessageBuilder.text(" if they fit in memory, or reduce the features"),
        parameters={"p0": ("solver", "normal")})
