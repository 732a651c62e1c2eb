"""svmlight / libsvm files on the command line (``.svm``, ``.svmlight``, ``.libsvm``).

Such a file is read by :func:`linreg.sources.svmlight` in sparse blocks, never densified.  Its
label is the target, called ``label``; its features are numbered, and named in the file's own
numbering: ``x1`` … ``xd`` (``--zero-based``: ``x0`` … ``x(d-1)``).  ``linreg fit`` takes
``--n-features N`` (the width, default one more than the largest index) and ``--zero-based``;
the model file records its width (``n_features_in``), those names and the numbering
(``metadata.svmlight``), and the commands that apply it read svmlight files with both, so a
file whose largest index is smaller than the model's width reads as well, and a larger index is
an error naming the file and the line.

What a column of a table means does not apply (``--target``, ``--features``, ``--drop``,
``--weight``, ``--formula``, ``--missing drop``, ``--sep``, ``--keep``), nor ``--chunk-rows``
(the file is always read in blocks of about 4 MB of text): each is refused, naming the option
and the file.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..sources import MalformedDataError, SVMLIGHT_SUFFIXES, is_svmlight
from ..sources.svmlight import column_names
from .errors import CommandError, UsageError

__all__ = ["TARGET_NAME", "is_svmlight", "refuse_column_options", "refuse_svmlight_options",
           "fit_source", "model_source", "model_blocks", "feature_names", "cli_words",
           "fit_words"]

#: the name of an svmlight file's label, as the target, in reports and model files
TARGET_NAME = "label"

#: option (as ``args`` holds it) → how the command line spells it, and the value that means
#: "not given"; all of them are about the columns of a table
_COLUMN_OPTIONS = (("target", "--target", None), ("features", "--features", None),
                   ("drop", "--drop", None), ("weight", "--weight", None),
                   ("formula", "--formula", None), ("sep", "--sep", None),
                   ("keep", "--keep", None))
_WHY = {
    "--target": "its label is the target",
    "--features": "every feature of the file is used (--n-features sets the width)",
    "--drop": "every feature of the file is used",
    "--weight": "it has no weight column",
    "--formula": "its features are numbered, not named columns",
    "--sep": "it is not a CSV file",
    "--keep": "it has no columns to copy",
}


def refuse_column_options(args, data: str, extra: dict | None = None) -> None:
    """A usage error for each option about a table's columns given with the svmlight file
    ``data`` (the first one found); ``extra``: more ``{option: reason}`` refused when given
    (``args`` attribute named as the option without dashes)."""
    for attr, option, unset in _COLUMN_OPTIONS:
        if getattr(args, attr, unset) is not unset:
            raise UsageError(f"{option} does not apply to the svmlight file {data}: "
                             f"{_WHY[option]}")
    if getattr(args, "missing", None) == "drop":
        raise UsageError(f"--missing drop does not apply to the svmlight file {data}: a value "
                         "is never missing (an absent feature is zero)")
    if getattr(args, "chunk_rows", None) is not None:
        raise UsageError(f"--chunk-rows does not apply to the svmlight file {data}: it is "
                         "always read in blocks (of about 4 MB of text); leave it out")
    for option, why in (extra or {}).items():
        value = getattr(args, option.lstrip("-").replace("-", "_"), None)
        if value not in (None, False):
            raise UsageError(f"{option} does not apply to the svmlight file {data}: {why}")


def refuse_svmlight_options(args, data: str) -> None:
    """``--n-features`` and ``--zero-based`` given with a file that is not svmlight."""
    for attr, option in (("n_features", "--n-features"), ("zero_based", "--zero-based")):
        if getattr(args, attr, None) not in (None, False):
            raise UsageError(f"{option} is for svmlight files ({', '.join(SVMLIGHT_SUFFIXES)}), "
                             f"not {data}")


def feature_names(n_features: int, zero_based: bool) -> list[str]:
    return column_names(n_features, zero_based)


@contextlib.contextmanager
def cli_words(model_path: str | None = None, width=None, zero_based=False):
    """An error of the svmlight file raised inside, in the command line's words (see
    :func:`_cli_words`)."""
    try:
        yield
    except MalformedDataError as exc:
        raise _cli_words(exc, model_path, width, zero_based) from None


def _cli_words(exc: MalformedDataError, model_path: str | None = None, width=None,
               zero_based=False) -> CommandError:
    """The source's message with its Python advice in the command line's words: for a fit
    (``model_path`` None), the options; for a saved model, its width and numbering."""
    text = str(exc)
    if model_path is None:
        text = text.replace("(pass zero_based=True for a file whose indices start at 0)",
                            "(give --zero-based for a file whose indices start at 0)")
        text = text.replace("beyond n_features=", "beyond --n-features ")
    else:
        names = feature_names(width, zero_based)
        text = text.replace("(pass zero_based=True for a file whose indices start at 0)",
                            f"(the model {model_path} was fitted on a one-based file: "
                            f"features {names[0]} … {names[-1]})")
        if f"beyond n_features={width}" in text:
            text += (f" (the model {model_path} has {width} features, {names[0]} … "
                     f"{names[-1]})")
    return CommandError(text)


def fit_source(args):
    """The source of ``linreg fit DATA.svm`` (or ``select``): the options checked first."""
    from ..sources import svmlight
    refuse_column_options(args, args.data)
    n_features = getattr(args, "n_features", None)
    with cli_words():
        return svmlight(args.data, n_features=n_features,
                        zero_based=bool(getattr(args, "zero_based", False)))


def model_numbering(model, args) -> bool:
    """Whether DATA is zero-based, for ``model``: as the svmlight file it was fitted on (its
    metadata), else one-based.  A model that reads its columns by name is refused."""
    from .tables import is_table_model
    meta = getattr(model, "metadata_", None) or {}
    if is_table_model(model):
        raise CommandError(f"{args.model} was fitted on a table (text columns or a formula) and "
                           f"reads its columns by name; {args.data} is an svmlight file, whose "
                           "features are numbered")
    if "svmlight" in meta:
        return bool(meta["svmlight"]["zero_based"])
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        shown = ", ".join(map(str, names[:3])) + (", …" if len(names) > 3 else "")
        raise CommandError(f"{args.model} reads its feature columns by name ({shown}); "
                           f"{args.data} is an svmlight file, whose features are numbered: "
                           "give a file with those columns")
    return False


def model_source(model, args):
    """The svmlight file DATA for ``model``: its width and numbering (so a file narrower
    than the model reads, and an index beyond it is an error naming the line)."""
    from ..sources import svmlight
    zero_based = model_numbering(model, args)
    with cli_words(args.model, int(model.n_features_in_), zero_based):
        return svmlight(args.data, n_features=int(model.n_features_in_), zero_based=zero_based)


def model_blocks(model, args, source):
    """``(X, y)`` for each block of ``source`` (from :func:`model_source`), ``y`` (m,); an
    error of the file in the command line's words."""
    with cli_words(args.model, int(model.n_features_in_), model_numbering(model, args)):
        for X, Y, _ in source.blocks():
            yield X, np.asarray(Y)[:, 0]


def fit_words(data):
    """:func:`cli_words` for a fit of ``data`` (a :class:`.fit_data.FitData`): the file's
    errors, found as the fit reads it, in the command line's words (nothing else for other
    files)."""
    return cli_words() if data.svmlight else contextlib.nullcontext()
