"""The command-line tool (thin: parses, calls the library, prints).

::

    linreg fit data.csv --target price [--features a,b,c | --drop id] [--weight w] \
        [--solver ...] -o model.json
    linreg fit penguins.csv --formula 'body_mass_g ~ flipper_length_mm + species * sex' \
        [--missing drop] [--chunk-rows N] -o model.json
    linreg predict model.json new.csv -o predictions.csv [--interval prediction]
    linreg evaluate model.json test.csv [--weight w]
    linreg summary model.json [data.csv] [--weight w]
    linreg plot model.json [data.csv] -o fit.png
    linreg demo
    linreg lesson [--html lesson.html]
    linreg report model.json data.csv -o report.html
    linreg fit data.csv --target y --alpha cv [--cv 10] [--alphas 0.01,0.1,1] -o model.json
    linreg select data.csv --target y --criterion bic [--direction both] [-o model.json]
    linreg fit data.svm [--n-features N] [--zero-based] [--solver ...] -o model.json
    linreg predict model.json new.svm        (evaluate, summary, plot, report alike)

Numeric data files are read whole by :func:`linreg.io.source_table` (as
:func:`linreg.io.read_table` reads them); a file with text columns, a formula, ``--missing`` or
``--chunk-rows`` is read as a source of :mod:`linreg.sources`, in blocks (:mod:`.fit_data`,
:mod:`.tables`); an svmlight file always as a source, in sparse blocks (:mod:`.svmlight_files`);
model files by :func:`linreg.load`.
Every command is a function ``cmd_<name>(args, out, err) -> int``; :func:`main` parses, runs it and
turns every expected failure (a bad file, column, value or model file) into one line on
standard error and exit status 1 (2 for options that do not go together, :class:`UsageError`)
— the traceback only with ``--debug``.

The modules: :mod:`.parser` (the options), one per command or pair of commands (:mod:`.fit`,
:mod:`.apply` for predict and evaluate, :mod:`.summary`, :mod:`.plot`, :mod:`.demo`), and what
several of them share: :mod:`.reading` (a model and the data it needs), :mod:`.output` (files,
JSON, the coefficient listing), :mod:`.describe` (objective, stop, metrics), :mod:`.tables`
(sources, a table model's columns by name, metrics in blocks), :mod:`.svmlight_files`
(svmlight files: their options, names and numbering), :mod:`.wording`
(messages in the command line's words) and :mod:`.errors` (exit statuses, :class:`CommandError`).
"""

from __future__ import annotations

import contextlib
import importlib
import sys

from .errors import FAILED, INTERNAL, USAGE, CommandError, UsageError
from .parser import build_parser

__all__ = ["main", "build_parser", "CommandError"]

#: command → the module of this package that carries it out, and its function.  A module is
#: imported only when its command runs: ``linreg --version`` and ``--help`` load no numerics
COMMANDS = {
    "fit": ("fit", "cmd_fit"),
    "predict": ("apply", "cmd_predict"),
    "evaluate": ("apply", "cmd_evaluate"),
    "summary": ("summary", "cmd_summary"),
    "plot": ("plot", "cmd_plot"),
    "demo": ("demo", "cmd_demo"),
    "lesson": ("lesson", "cmd_lesson"),
    "report": ("report", "cmd_report"),
    "select": ("select", "cmd_select"),
}

#: what the one-module ``linreg.cli`` defined, still importable from it: name → (module, name)
MOVED = {
    **{function: (f".{module}", function) for module, function in COMMANDS.values()},
    "OK": (".errors", "OK"),
    "MAX_LISTED": (".output", "MAX_LISTED"),
    "_table_bytes": (".output", "table_bytes"),
    "CLOSED_FORMS": (".describe", "CLOSED_FORMS"),
    "training_metrics": (".describe", "training_metrics"),
    "objective_text": (".describe", "objective_text"),
    "OPTIONAL_PARAMS": (".fit", "OPTIONAL_PARAMS"),
    "INFERENCE_FIELDS": (".summary", "INFERENCE_FIELDS"),
    "PARAMETER_OPTIONS": (".wording", "PARAMETER_OPTIONS"),
    "PARAMETER_SWITCHES": (".wording", "PARAMETER_SWITCHES"),
    "cli_setting": (".wording", "cli_setting"),
    "_most_columns": ("..validation", "most_columns"),
}


def __getattr__(name: str):
    """The names of :data:`MOVED`, imported on first use (PEP 562)."""
    if name not in MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = MOVED[name]
    return getattr(importlib.import_module(module, __name__), attribute)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(MOVED))


def command_function(name: str):
    """The function ``(args, out, err) -> int`` that carries out the command ``name``."""
    module, function = COMMANDS[name]
    return getattr(importlib.import_module(f".{module}", __name__), function)


def main(argv=None, stdout=None, stderr=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else USAGE
    if args.command is None:
        parser.print_help(err)
        return USAGE
    from ..exceptions import DivergenceError
    from .wording import one_line

    try:
        return command_function(args.command)(args, out, err)
    except BrokenPipeError:
        # the reader of our output went away (e.g. `linreg predict ... | head`): stop quietly
        try:
            import os
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return FAILED
    except UsageError as exc:
        if args.debug:
            raise
        err.write(f"linreg {args.command}: error: {one_line(exc)} (see linreg {args.command} "
                  "--help)\n")
        return USAGE
    except (CommandError, ValueError, DivergenceError, OSError, ImportError) as exc:
        if args.debug:
            raise
        err.write(f"linreg {args.command}: error: {one_line(exc)}\n")
        return FAILED
    except MemoryError:
        if args.debug:
            raise
        err.write(f"linreg {args.command}: error: not enough memory for this data\n")
        return FAILED
    except KeyboardInterrupt:
        err.write(f"linreg {args.command}: interrupted\n")
        return 130
    except Exception as exc:  # a bug: say so in one line, the traceback with --debug
        if args.debug:
            raise
        err.write(f"linreg {args.command}: internal error ({type(exc).__name__}: {one_line(exc)}); "
                  "run again with --debug for the traceback\n")
        return INTERNAL
