"""Messages worded for the command line: the estimator's parameters as the options that set
them, each warning on one line with its columns named, an error as one line."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["PARAMETER_OPTIONS", "PARAMETER_SWITCHES", "cli_setting", "message", "warning_texts",
           "show_warnings", "one_line"]

#: how the command line sets an estimator parameter, for messages that name one (a warning's
#: advice, an error): an option taking the value, or a switch for one value.  Messages keep
#: their parameter settings apart (linreg.exceptions.ParameterWording), and this is the one
#: place they are worded for the command line.
PARAMETER_OPTIONS = {"solver": "--solver", "optimizer": "--optimizer", "alpha": "--alpha",
                     "learning_rate": "--learning-rate", "batch_size": "--batch-size",
                     "max_iter": "--max-iter", "tol": "--tol", "schedule": "--schedule",
                     "validation_fraction": "--validation-fraction", "random_state": "--seed",
                     "missing": "--missing"}
PARAMETER_SWITCHES = {("standardize", True): "leaving out --no-standardize",
                      ("standardize", False): "--no-standardize",
                      ("fit_intercept", True): "leaving out --no-intercept",
                      ("fit_intercept", False): "--no-intercept",
                      ("early_stopping", True): "--early-stopping",
                      ("early_stopping", False): "leaving out --early-stopping"}


#: what messages name that the command line spells its own way (Python's spelling:
#: linreg.exceptions.PYTHON_PHRASES)
CLI_PHRASES = {
    "training_data": "the training data file the model was fitted on (linreg summary MODEL "
                     "DATA, with the same rows and the same --weight column)",
}


def cli_setting(name: str, value) -> str:
    """A parameter setting as the command line spells it: ``--max-iter 3000``,
    ``--solver auto``, ``leaving out --no-standardize``; a parameter the command line does
    not set keeps its Python spelling."""
    from ..exceptions import python_setting
    if name in CLI_PHRASES:
        return CLI_PHRASES[name]
    if isinstance(value, (bool, np.bool_)) and (name, bool(value)) in PARAMETER_SWITCHES:
        return PARAMETER_SWITCHES[(name, bool(value))]
    if name in PARAMETER_OPTIONS:
        shown = format(value, "g") if isinstance(value, float) else str(value)
        return f"{PARAMETER_OPTIONS[name]} {shown}"
    return python_setting(name, value)


def message(item) -> str:
    """A warning's or an error's text, its parameter settings worded for the command line."""
    from ..exceptions import ParameterWording
    return item.worded(cli_setting) if isinstance(item, ParameterWording) else str(item)


def _column_label(match, names) -> str:
    j = int(match.group(1))
    return f"column {j} ({names[j]!r})" if j < len(names) else match.group(0)


def warning_texts(caught, feature_names=None) -> list[str]:
    """Each distinct warning as one line; ``column j`` named when the names are known."""
    texts = []
    for w in caught:
        text = " ".join(message(w.message).split())
        if feature_names:
            text = re.sub(r"\bcolumn (\d+)\b(?! \()", lambda m: _column_label(m, feature_names), text)
        if text not in texts:
            texts.append(text)
    return texts


def show_warnings(caught, err, feature_names=None) -> list[str]:
    texts = warning_texts(caught, feature_names)
    for text in texts:
        err.write(f"linreg: warning: {text}\n")
    return texts


def one_line(exc: BaseException) -> str:
    return " ".join(message(exc).split()) or type(exc).__name__
