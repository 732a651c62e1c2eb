"""What the command line accepts: :func:`build_parser`, its options and their help.

Standard library only, so that ``linreg --help`` and ``linreg COMMAND --help`` answer at once:
the command that runs imports what it needs (see :data:`linreg.cli.COMMANDS`).
"""

from __future__ import annotations

import argparse
import textwrap

from .errors import USAGE

__all__ = ["SOLVER_CHOICES", "build_parser"]

#: the values of ``--solver``: :data:`linreg.solvers.SOLVER_NAMES`, spelled out here because
#: importing the solvers loads SciPy and numba (the tests check that the two agree)
SOLVER_CHOICES = ("auto", "normal", "qr", "gd", "sgd", "minibatch", "lsqr")


def _learning_rate(text: str):
    if text == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'auto' or a number") from None


def _alpha(text: str):
    if text == "cv":
        return "cv"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not 'cv' or a number") from None


def _cov_type(text: str) -> str:
    """hc3 → HC3: the covariance types in any case."""
    return text.upper() if text.lower().startswith("hc") else text.lower()


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (plus a pointer to --help); an unknown
    option is reported by the command it was given to, with the closest of its options."""

    def error(self, message):
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._command_parser(getattr(parsed, "command", None)) or self
            command.error(unknown_arguments(extras, command))
        return parsed

    def _command_parser(self, name):
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and name in action.choices:
                return action.choices[name]
        return None


def unknown_arguments(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """'unrecognized arguments: …', with 'did you mean --solver?' for a mistyped option."""
    import difflib
    known = [o for action in parser._actions for o in action.option_strings if o.startswith("--")]
    text = "unrecognized arguments: " + " ".join(extras)
    for extra in extras:
        if extra.startswith("--"):
            close = difflib.get_close_matches(extra.split("=")[0], known, n=1, cutoff=0.6)
            if close:
                text += f"; did you mean {close[0]}?"
                break
    return text


def _example(text: str) -> str:
    return "example:\n  " + text


def _add_model_columns(p: argparse.ArgumentParser) -> None:
    """--target, --drop and --sep for the commands that apply a saved model to a data file."""
    _add_sep(p)
    p.add_argument("--target", metavar="COLUMN",
                   help="the target column (default: the one the model was fitted on)")
    p.add_argument("--drop", metavar="A,B,…",
                   help="columns to leave out, for a model that does not record its feature names")


def _add_sep(p: argparse.ArgumentParser) -> None:
    """--sep for the commands that read a data file."""
    p.add_argument("--sep", metavar="CHAR", type=_separator,
                   help="the field separator of a CSV file (default: tab for .tsv, else comma; "
                        "'\\t' for a tab)")


def _positive_count(what: str):
    """An argparse type: a whole number ≥ 1 of ``what`` (rows, features)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of {what}")
        return value
    return parse


def _add_chunk_rows(p: argparse.ArgumentParser) -> None:
    """--chunk-rows for the commands that read a data file."""
    p.add_argument("--chunk-rows", type=_positive_count("rows"), metavar="N",
                   help="read DATA in blocks of N rows, in bounded memory (default: the whole "
                        "file at once)")


def _add_svmlight(p: argparse.ArgumentParser) -> None:
    """--n-features and --zero-based for the commands that fit an svmlight file."""
    p.add_argument("--n-features", type=_positive_count("features"), metavar="N",
                   help="svmlight files: the number of features (default: the largest index "
                        "in the file; a larger index is an error)")
    p.add_argument("--zero-based", action="store_true",
                   help="svmlight files: the indices start at 0, features x0, x1, … (default: "
                        "at 1, features x1, x2, …, as libsvm writes them)")


def _separator(text: str) -> str:
    text = "\t" if text in ("\\t", "tab") else text
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not one character")
    return text


def _add_weight(p: argparse.ArgumentParser) -> None:
    """--weight for the commands whose numbers depend on the sample weights."""
    p.add_argument("--weight", metavar="COLUMN",
                   help="the sample-weight column (default: the one the model was fitted with)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bar and no report (errors and warnings still shown)")
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    fmt = argparse.RawDescriptionHelpFormatter

    parser = _Parser(prog="linreg", formatter_class=fmt,
                     description="Linear regression from the shell: fit, inspect, plot and apply "
                                 "a model to CSV, Parquet, .npy or .npz files.",
                     epilog="examples:\n  linreg fit houses.csv --target price -o model.json\n"
                            "  linreg predict model.json new.csv -o predictions.csv\n"
                            "  linreg demo\n\nRun 'linreg COMMAND --help' for a command's options.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"linreg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    columns_help = ("Columns are named as in the CSV header or the Parquet schema, by field in "
                    "a structured .npy, by array in a .npz, by index (0, 1, …) in a 2-D .npy; "
                    "an svmlight file's label is the target (named label) and its features are "
                    "x1, x2, … (x0, x1, … with --zero-based), read sparse")

    p = sub.add_parser("fit", parents=[common], formatter_class=fmt,
                       help="fit a model to a data file (and save it with -o)",
                       description=textwrap.fill(
                           "Fit a linear regression to DATA, show it and, with -o, save the model as JSON "
                           "(coefficients, feature and target names, solver, objective, "
                           "training R²/RMSE/MAE, library version). " + columns_help + ". "
                           "Text columns are categories, coded as R and statsmodels code them "
                           "(one column per level but the first: species[T.Gentoo]); "
                           "--formula chooses the terms, interactions included.", 79),
                       epilog=_example("linreg fit houses.csv --target price --drop id -o model.json\n"
                                       "  linreg fit big.parquet --target y --solver gd "
                                       "--max-iter 500 -o model.json --json\n"
                                       "  linreg fit penguins.csv --formula 'body_mass_g ~ "
                                       "flipper_length_mm + species * sex' --missing drop\n"
                                       "  linreg fit news.svm --solver lsqr -o model.json"))
    p.add_argument("data", help="CSV (with a header row), Parquet, .npy, .npz or svmlight file "
                                "(.svm, .svmlight, .libsvm: the label is the target)")
    _add_sep(p)
    _add_svmlight(p)
    p.add_argument("--target", metavar="COLUMN",
                   help="the column to predict (COL1,COL2 for several targets); not needed "
                        "with --formula")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--features", metavar="A,B,…", help="the feature columns (default: all others)")
    group.add_argument("--drop", metavar="A,B,…", help="columns to leave out of the features, e.g. an id")
    p.add_argument("--formula", metavar="'Y ~ TERMS'",
                   help="the model as a formula, as in R and statsmodels: "
                        "'body_mass_g ~ flipper_length_mm + species * sex' (text columns are "
                        "categories, C(col) makes numbers one; '- 1' leaves out the intercept)")
    p.add_argument("--missing", choices=["error", "drop"],
                   help="a row with a missing value in a column the model uses: an error "
                        "(default), or left out of the fit (drop)")
    _add_chunk_rows(p)
    p.add_argument("--weight", metavar="COLUMN",
                   help="a column of sample weights (>= 0, not all zero; never a feature); "
                        "recorded in the model, so evaluate and summary use it too")
    p.add_argument("-o", "--output", metavar="MODEL.json",
                   help="where to save the model (replaced atomically); without it the fit is "
                        "shown and nothing is written")
    p.add_argument("--solver", default="auto", choices=list(SOLVER_CHOICES),
                   help="closed form (auto, normal, qr) or iterative (gd, sgd, minibatch); default auto")
    p.add_argument("--optimizer", metavar="NAME",
                   help="auto, plain, momentum, nesterov or adam (iterative solvers; default auto: "
                        "nesterov for gd with an automatic learning rate, else plain)")
    p.add_argument("--alpha", type=_alpha, default=0.0, metavar="A",
                   help="L2 penalty (alpha/2)‖w‖²; default 0; 'cv' chooses it by exact k-fold "
                        "cross-validation (LinearRegressionCV)")
    p.add_argument("--cv", type=int, default=5, metavar="K", help="folds of --alpha cv; default 5")
    p.add_argument("--alphas", metavar="A1,A2,…",
                   help="the alphas --alpha cv tries (default: a log-spaced path from the data)")
    p.add_argument("--learning-rate", type=_learning_rate, default="auto", metavar="ETA",
                   help="step size of the iterative solvers, or 'auto' (default: safe for the data)")
    p.add_argument("--batch-size", type=int, metavar="B", help="rows per update of minibatch")
    p.add_argument("--max-iter", type=int, default=1000, metavar="N",
                   help="most iterations (gd) or epochs (sgd, minibatch); default 1000")
    p.add_argument("--tol", type=float, default=1e-6, metavar="TOL",
                   help="stop when ‖∇J‖ ≤ TOL·‖∇J(start)‖; default 1e-6")
    p.add_argument("--schedule", metavar="NAME",
                   help="learning-rate schedule: constant, invscaling, exponential or plateau")
    p.add_argument("--early-stopping", action="store_true",
                   help="stop when the validation loss stops improving; keep the best epoch")
    p.add_argument("--validation-fraction", type=float, metavar="F",
                   help="share of rows held out for the validation loss")
    p.add_argument("--no-standardize", action="store_true",
                   help="do not scale features inside the fit (changes what --alpha means)")
    p.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    p.add_argument("--seed", type=int, metavar="S", help="random seed of the shuffling (sgd, minibatch)")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="save the training state to FILE as it goes, and resume from it if it "
                        "exists (iterative solvers)")
    p.add_argument("--checkpoint-every", type=int, metavar="K",
                   help="epochs between two checkpoints")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("predict", parents=[common], formatter_class=fmt,
                       help="apply a saved model to a data file",
                       description="Predict with MODEL for every row of DATA; the columns are "
                                   "matched by name.  The output column is prediction_TARGET "
                                   "(TARGET the model's target; 'prediction' when the model does "
                                   "not record it), with lower_TARGET and upper_TARGET for "
                                   "--interval, after the --keep columns.",
                       epilog=_example("linreg predict model.json new.csv -o predictions.csv "
                                       "--interval prediction"))
    p.add_argument("model", help="a model file written by 'linreg fit'")
    p.add_argument("data", help="CSV, Parquet, .npy or .npz file with the model's feature "
                                "columns, or an svmlight file (numbered as the model's)")
    _add_sep(p)
    p.add_argument("-o", "--output",
                   help="where to write the predictions (.csv, .parquet or .npy); default: stdout as CSV")
    p.add_argument("--drop", metavar="A,B,…",
                   help="columns to leave out, for a model that does not record its feature names")
    p.add_argument("--keep", metavar="A,B,…",
                   help="columns of DATA to copy into the output beside the predictions "
                        "(e.g. an id)")
    p.add_argument("--interval", choices=["confidence", "prediction"],
                   help="add lower and upper bounds of this interval")
    p.add_argument("--level", type=float, default=0.95, help="interval level; default 0.95")
    _add_chunk_rows(p)

    p = sub.add_parser("evaluate", parents=[common], formatter_class=fmt,
                       help="R², RMSE, MAE and n of a model on a data file",
                       description="Score MODEL on DATA (which must hold the target column); "
                                   "weighted by the model's sample-weight column, if it has one.",
                       epilog=_example("linreg evaluate model.json test.csv --json"))
    p.add_argument("model")
    p.add_argument("data")
    _add_model_columns(p)
    _add_weight(p)
    _add_chunk_rows(p)
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")

    p = sub.add_parser("summary", parents=[common], formatter_class=fmt,
                       help="the model, and with data its inference table",
                       description="Describe MODEL; given DATA, print the inference table "
                                   "(standard errors, t, p-values, intervals, R², F, AIC/BIC).",
                       epilog=_example("linreg summary model.json train.csv --cov-type HC3"))
    p.add_argument("model")
    p.add_argument("data", nargs="?")
    _add_model_columns(p)
    _add_weight(p)
    p.add_argument("--cov-type", default="nonrobust", type=_cov_type,
                   choices=["nonrobust", "HC0", "HC1", "HC2", "HC3"],
                   help="covariance of the coefficients; default nonrobust")
    p.add_argument("--anova", nargs="?", const="2", choices=["1", "2", "3"], metavar="TYPE",
                   help="also the analysis of variance by term of a table or formula model: "
                        "type 1 (sequential), 2 (default) or 3, as R's and statsmodels' anova")
    _add_chunk_rows(p)
    p.add_argument("--json", action="store_true", help="print as JSON")

    p = sub.add_parser("plot", parents=[common], formatter_class=fmt,
                       help="loss curve, predicted vs actual, residuals vs fitted",
                       description="Draw MODEL's loss curve and, given DATA, predicted vs actual "
                                   "and residuals vs fitted, into one image.",
                       epilog=_example("linreg plot model.json test.csv -o fit.png"))
    p.add_argument("model")
    p.add_argument("data", nargs="?")
    _add_model_columns(p)
    p.add_argument("-o", "--output", required=True, help="the image to write (.png, .svg or .pdf)")

    p = sub.add_parser("demo", parents=[common], formatter_class=fmt,
                       help="the bundled diabetes data, end to end",
                       description="Fit the bundled diabetes data with every batch solver and "
                                   "compare them.",
                       epilog=_example("linreg demo --plot diabetes.png"))
    p.add_argument("--plot", metavar="FILE",
                   help="also draw gradient descent's loss curve and the fit (.png, .svg, .pdf)")
    _add_lesson_and_report(sub, common, fmt)
    _add_select(sub, common, fmt)
    return parser


def _add_select(sub, common, fmt) -> None:
    p = sub.add_parser("select", parents=[common], formatter_class=fmt,
                       help="choose feature columns (or a formula's terms) by AIC, BIC or "
                            "adjusted R²",
                       description="Stepwise (or exhaustive) feature selection from the data's "
                                   "sufficient statistics; prints the path and the chosen columns. "
                                   "With --formula or text columns, whole terms enter and leave "
                                   "(an interaction after its main effects, as R's step).",
                       epilog=_example("linreg select houses.csv --target price --drop id "
                                       "--criterion bic -o model.json\n"
                                       "  linreg select penguins.csv --formula 'body_mass_g ~ "
                                       "flipper_length_mm + island + species * sex' "
                                       "--missing drop"))
    p.add_argument("data", help="CSV (with a header row), Parquet, .npy, .npz or svmlight "
                                "file (.svm, .svmlight, .libsvm: the label is the target)")
    _add_sep(p)
    _add_svmlight(p)
    p.add_argument("--target", metavar="COLUMN",
                   help="the column to predict; not needed with --formula")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--features", metavar="A,B,…", help="the candidate columns (default: all others)")
    group.add_argument("--drop", metavar="A,B,…", help="columns to leave out of the candidates")
    p.add_argument("--formula", metavar="'Y ~ TERMS'",
                   help="the largest model: its terms are the candidates (text columns are "
                        "categories)")
    p.add_argument("--missing", choices=["error", "drop"],
                   help="a row with a missing value in a column the formula uses: an error "
                        "(default), or left out (drop) of every model")
    _add_chunk_rows(p)
    p.add_argument("--weight", metavar="COLUMN", help="a column of sample weights (> 0)")
    p.add_argument("--criterion", default="bic", choices=["aic", "bic", "adjr2"],
                   help="default bic")
    p.add_argument("--direction", default="both", choices=["both", "forward", "backward", "exhaustive"],
                   help="default both; exhaustive tries every subset (at most 20 candidates)")
    p.add_argument("-o", "--output", metavar="MODEL.json",
                   help="also fit the chosen columns and save the model")
    p.add_argument("--json", action="store_true", help="print the path and the choice as JSON")


def _add_lesson_and_report(sub, common, fmt) -> None:
    p = sub.add_parser("lesson", parents=[common], formatter_class=fmt,
                       help="the textbook's lesson, run live on the bundled data",
                       description="Ten steps of linear regression (the equations, the learning "
                                   "rate, scaling, SGD, momentum and Adam, L2, debugging), each "
                                   "computed now on the bundled diabetes data.",
                       epilog=_example("linreg lesson --html lesson.html"))
    p.add_argument("--html", metavar="FILE",
                   help="also write the lesson with its figures as one self-contained page")
    p.add_argument("--steps", metavar="I,J,...", help="run only these steps (1 to 10)")
    p.add_argument("--no-code", action="store_true", help="do not print the code")

    p = sub.add_parser("report", parents=[common], formatter_class=fmt,
                       help="one self-contained HTML page: summary, diagnostic plots, data",
                       description="Write MODEL's report on DATA (its training data) as one "
                                   "HTML file: the summary table\n(a penalized fit: "
                                   "coefficients, R², RMSE, the objective), the ANOVA table of a "
                                   "formula's terms,\nR's four diagnostic plots, the "
                                   "cross-validation and loss curves and a description of the "
                                   "data.",
                       epilog=_example("linreg report model.json train.csv -o report.html"))
    p.add_argument("model")
    p.add_argument("data")
    _add_model_columns(p)
    _add_weight(p)
    _add_chunk_rows(p)
    p.add_argument("-o", "--output", required=True, metavar="REPORT.html",
                   help="the page to write")
