"""Model files: versioned JSON, validated on load, written atomically.  Never pickle.

A file is one JSON object::

    {"format": "linreg-model", "format_version": 1, "library_version": "...",
     "params": {...constructor parameters...},
     "n_features_in": d, "feature_names": [...] | null, "n_targets": k | null,
     "coef": [...], "intercept": ... ,
     "fitted": {...solver_, n_iter_, stop_reason_, n_refinement_passes_, ...},
     "metadata": {"target_name": ..., "objective": ..., "training_metrics": {...}},  (optional)
     "training_stats": {"n_rows", "weight_sum", "mean", "comoment", "n_features"}}  (optional)

The training statistics (``stats_``: (d+k)² numbers) let a loaded model give prediction
intervals, continue ``partial_fit`` and ``merge``.  ``stop_reason_`` is optional (files
written before it existed lack it): a missing one loads as ``"exact"`` for a closed-form
solver and as None (not recorded) for an iterative one.  So is ``n_refinement_passes_``: a
missing one loads as 0, or as None (not recorded) for the ``"qr"`` solver, which refines.

Floats are written with ``repr`` precision, so a round trip is exact.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

import numpy as np

from .fileio import atomic_write_bytes

__all__ = ["save", "read_model", "FORMAT", "FORMAT_VERSION", "ModelFileError"]

FORMAT = "linreg-model"
FORMAT_VERSION = 1
#: a model with a table's encoding (formula, levels) is written as version 2, which readers
#: of version 1 refuse (they could not use it); every other model stays version 1
TABLE_FORMAT_VERSION = 2
#: the newest version this linreg reads
READ_VERSION = TABLE_FORMAT_VERSION
#: a model file larger than this is refused before it is parsed
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_NESTING = 32
#: arrays + objects a model file may hold (one per row of the training statistics, plus a
#: few): a bound on the memory parsing can take, whatever the file holds
MAX_CONTAINERS = 100_000


class ModelFileError(ValueError):
    """A model file is corrupt, truncated, foreign, or from a newer format."""


def _library_version() -> str:
    from . import __version__
    return __version__


def _float_list(a) -> list:
    return np.asarray(a, dtype=np.float64).tolist()


#: histories that iterative fits record and a model file keeps when present (for plots)
OPTIONAL_HISTORIES = ("validation_loss_history_", "learning_rate_history_")


def to_dict(model) -> dict:
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(model)
    names = getattr(model, "feature_names_in_", None)
    coef = np.asarray(model.coef_)
    fitted = {
        "solver_": model.solver_,
        "n_iter_": int(model.n_iter_),
        # None when the fit never formed the d × d statistics (a wide design by LSQR)
        "rank_": None if model.rank_ is None else int(model.rank_),
        "condition_number_": float(model.condition_number_),
        "loss_history_": _float_list(model.loss_history_),
        "grad_norm_history_": _float_list(model.grad_norm_history_),
        **({"stop_reason_": model.stop_reason_}
           if getattr(model, "stop_reason_", None) is not None else {}),
        **({"n_refinement_passes_": int(model.n_refinement_passes_)}
           if getattr(model, "n_refinement_passes_", None) is not None else {}),
        **{name: _float_list(getattr(model, name)) for name in OPTIONAL_HISTORIES
           if getattr(model, name, None) is not None},
    }
    encoding = getattr(model, "encoding_", None)
    extra = {}
    if encoding is not None:
        from .tables.persist import encoding_to_dict
        extra = {"encoding": encoding_to_dict(encoding), "n_dropped": int(model.n_dropped_)}
    return {
        "format": FORMAT,
        # a table's encoding needs a reader that knows it
        "format_version": FORMAT_VERSION if encoding is None else TABLE_FORMAT_VERSION,
        "library_version": _library_version(),
        "estimator": type(model).__name__,
        # a callback is code, which a model file never holds: it is stored as null; alpha
        # with one value per target is a list of numbers
        "params": {**model.get_params(deep=False),
                   **({"callback": None} if "callback" in model.get_params(deep=False) else {}),
                   **({"alpha": _float_list(model.alpha)}
                      if np.ndim(getattr(model, "alpha", 0.0)) > 0 else {})},
        "n_features_in": int(model.n_features_in_),
        "feature_names": None if names is None else [str(n) for n in names],
        "n_targets": None if coef.ndim == 1 else int(coef.shape[0]),
        "coef": _float_list(coef),
        "intercept": _float_list(model.intercept_),
        "fitted": fitted,
        **({"metadata": check_metadata(model.metadata_)}
           if getattr(model, "metadata_", None) is not None else {}),
        **_stats_entry(getattr(model, "stats_", None)),
        **extra,
    }


def _stats_entry(stats) -> dict:
    from .stats import SufficientStats
    if not isinstance(stats, SufficientStats):
        return {}
    return {"training_stats": {"n_rows": int(stats.n_rows), "weight_sum": float(stats.weight_sum),
                               "mean": _float_list(stats.mean),
                               "comoment": _float_list(stats.comoment),
                               "n_features": int(stats.n_features)}}


def _stats_from(path, entry, d: int, k: int):
    """The training statistics of a model file, checked against the model's shape."""
    from .stats import SufficientStats
    keys = {"n_rows", "weight_sum", "mean", "comoment", "n_features"}
    if not isinstance(entry, dict) or set(entry) != keys:
        _fail(path, f"training_stats must be an object with the keys {sorted(keys)}")
    n_rows, n_features, weight_sum = entry["n_rows"], entry["n_features"], entry["weight_sum"]
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1:
        _fail(path, "training_stats.n_rows must be a positive integer")
    if n_features != d or isinstance(n_features, bool):
        _fail(path, f"training_stats.n_features must be {d}, the model's number of features")
    if isinstance(weight_sum, bool) or not isinstance(weight_sum, (int, float)) \
            or not math.isfinite(weight_sum) or weight_sum <= 0:
        _fail(path, "training_stats.weight_sum must be a finite number > 0")
    p = d + k
    mean = _array(path, entry["mean"], (p,), "training_stats.mean")
    comoment = _array(path, entry["comoment"], (p, p), "training_stats.comoment")
    if not (np.isfinite(mean).all() and np.isfinite(comoment).all()):
        _fail(path, "training_stats holds a value that is not finite")
    return SufficientStats(n_rows, float(weight_sum), mean, comoment, d)


#: what an optional "metadata" object may hold: the target's name(s), the sample-weight
#: column, the objective in words, the training data's file name and the model's scores on it
METADATA_KEYS = ("target_name", "weight_name", "objective", "data_file", "training_metrics", "cv_path",
                 "svmlight")
#: ``svmlight`` (``linreg fit DATA.svm``): the model reads svmlight files, numbered as the
#: training file was (``{"zero_based": false}``: indices from 1, features ``x1`` … ``xd``;
#: the width is ``n_features_in``); files written before it existed have no such key
SVMLIGHT_KEYS = {"zero_based"}
#: ``cv_path`` (``linreg fit --alpha cv``): the cross-validation curve the alpha was chosen from
CV_PATH_KEYS = {"scoring", "selection", "n_folds", "alphas", "mean", "se", "alpha_min", "alpha_1se"}
MAX_CV_ALPHAS = 10_000
METADATA_METRICS = ("n", "r2", "rmse", "mae")
MAX_METADATA_TEXT = 10_000


def check_metadata(meta, path="<model>") -> dict:
    """Validate a model's ``metadata_``: ``target_name`` (a string or a list of strings),
    ``weight_name``, ``objective`` and ``data_file`` (strings), ``training_metrics`` (``n``,
    ``r2``, ``rmse``, ``mae``: numbers or null).  Every key is optional; any other key is
    refused."""
    def bad(why):
        _fail(path, f"metadata: {why}")

    def text(value, what):
        if not isinstance(value, str) or len(value) > MAX_METADATA_TEXT:
            bad(f"{what} must be a string of at most {MAX_METADATA_TEXT} characters")

    if not isinstance(meta, dict):
        bad("it must be an object")
    unknown = sorted(set(meta) - set(METADATA_KEYS))
    if unknown:
        bad(f"unknown keys {unknown}")
    target = meta.get("target_name")
    if isinstance(target, list):
        if not target or len(target) > MAX_METADATA_TEXT:
            bad("target_name must not be an empty list")
        for t in target:
            text(t, "each target_name")
    elif target is not None:
        text(target, "target_name")
    for key in ("weight_name", "objective", "data_file"):
        if key in meta:
            text(meta[key], key)
    if "cv_path" in meta:
        check_cv_path(meta["cv_path"], bad)
    if "svmlight" in meta:
        svm = meta["svmlight"]
        if (not isinstance(svm, dict) or set(svm) != SVMLIGHT_KEYS
                or not isinstance(svm["zero_based"], bool)):
            bad('svmlight must be an object {"zero_based": true or false}')
    metrics = meta.get("training_metrics")
    if metrics is not None:
        if not isinstance(metrics, dict) or set(metrics) - set(METADATA_METRICS):
            bad(f"training_metrics must be an object with keys among {list(METADATA_METRICS)}")
        for key, value in metrics.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                bad(f"training_metrics.{key} must be a number or null")
    return meta


def check_cv_path(cv, bad) -> None:
    """``cv_path``: exactly :data:`CV_PATH_KEYS`; ``alphas``, ``mean``, ``se`` lists of equal
    length of finite numbers (alphas ≥ 0, se ≥ 0 or NaN)."""
    def numbers(key, value):
        if (not isinstance(value, list) or not 0 < len(value) <= MAX_CV_ALPHAS
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value)):
            bad(f"cv_path.{key} must be a list of 1 to {MAX_CV_ALPHAS} numbers")
        return np.array(value, dtype=float)

    if not isinstance(cv, dict) or set(cv) != CV_PATH_KEYS:
        bad(f"cv_path must be an object with the keys {sorted(CV_PATH_KEYS)}")
    alphas, mean, se = (numbers(k, cv[k]) for k in ("alphas", "mean", "se"))
    if not (len(alphas) == len(mean) == len(se)):
        bad("cv_path.alphas, mean and se must have the same length")
    if not (np.isfinite(alphas).all() and (alphas >= 0).all()) or (se < 0).any():
        bad("cv_path.alphas must be finite and >= 0, and cv_path.se >= 0")
    for key in ("alpha_min", "alpha_1se"):
        if isinstance(cv[key], bool) or not isinstance(cv[key], (int, float)) or cv[key] not in alphas:
            bad(f"cv_path.{key} must be one of cv_path.alphas")
    if not (isinstance(cv["n_folds"], int) and not isinstance(cv["n_folds"], bool) and cv["n_folds"] >= 1):
        bad("cv_path.n_folds must be a positive integer")
    for key in ("scoring", "selection"):
        if not isinstance(cv[key], str) or len(cv[key]) > 20:
            bad(f"cv_path.{key} must be a short string")


def save(model, path) -> None:
    """Save a fitted model as JSON at ``path`` (atomically; an older file stays intact on error)."""
    text = json.dumps(to_dict(model), allow_nan=True, indent=1)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise OSError(exc.errno, f"could not save the model to {str(path)!r}: {exc.strerror}; "
                      "any previous file there is unchanged") from exc


def _fail(path, why: str):
    raise ModelFileError(f"{str(path)!r} is not a valid linreg model file: {why}")


def _array(path, value, shape, what):
    if isinstance(value, list) and len(value) > 2 * math.prod(shape) + 16:
        # far too long: say so without converting millions of values first
        _fail(path, f"{what} has {len(value)} entries, expected shape {shape}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        _fail(path, f"{what} is not an array of numbers")
    if a.dtype.kind not in "iuf":
        # strings ("2"), null, true/false or integers too big for 64 bits are not numbers here
        _fail(path, f"{what} is not an array of numbers")
    a = a.astype(np.float64)
    if a.shape != shape:
        _fail(path, f"{what} has shape {a.shape}, expected {shape}")
    return a


def _stop_reason(value, solver: str) -> str | None:
    """``stop_reason_``: one of ``linreg.stopping.STOP_REASONS``; when absent (an older
    file), ``"exact"`` for a closed form, else None (not recorded)."""
    from .solvers import ITERATIVE_SOLVERS
    from .stopping import STOP_REASONS
    if value is None:
        return None if solver in ITERATIVE_SOLVERS else "exact"
    if not isinstance(value, str) or value not in STOP_REASONS:
        raise ValueError(f"stop_reason_ must be one of {sorted(STOP_REASONS)} or null, "
                         f"not {str(value)[:40]!r}")
    return value


def _refinement_passes(value, solver: str) -> int | None:
    """``n_refinement_passes_``: a count; when absent (an older file), 0 for every solver
    but ``"qr"``, which refines, and None (not recorded) for ``"qr"``."""
    if value is None:
        return None if solver == "qr" else 0
    return _count(value, "n_refinement_passes_")


def _count(value, what: str) -> int:
    """A non-negative JSON integer (not a string, float or bool) of sane size."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise ValueError(f"{what} must be an integer >= 0, not {str(value)[:40]}")
    return value


def _depth(obj, limit) -> int:
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        o, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(o, dict):
            stack.extend((v, level + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, level + 1) for v in o if isinstance(v, (list, dict)))
    return deepest


def from_dict(data, path="<model>", model_class=None):
    """The model a file's JSON describes, as a ``model_class`` (the estimator class)."""
    LinearRegression = model_class

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        _fail(path, "it does not declare format 'linreg-model'")
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        _fail(path, "format_version is missing")
    if version > READ_VERSION:
        _fail(path, f"it has format_version {version}, newer than this linreg reads "
                    f"({READ_VERSION}); upgrade linreg")
    if version < 1:
        _fail(path, f"format_version {version} is unknown")
    if _depth(data, MAX_NESTING) > MAX_NESTING:
        _fail(path, "it is nested too deeply")
    params = data.get("params")
    if not isinstance(params, dict):
        _fail(path, "params are missing")
    model = LinearRegression()
    known = model.get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        _fail(path, f"unknown parameters {unknown}")
    for key, value in params.items():
        if key == "alpha" and isinstance(value, list):
            # one value per target (checked against the targets below)
            if not value or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                    for v in value):
                _fail(path, "parameter 'alpha' must be a number or a list of numbers")
            params = {**params, "alpha": np.asarray(value, dtype=np.float64)}
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            _fail(path, f"parameter {key!r} has a value of type {type(value).__name__}")
    try:
        model.set_params(**params)
        model.check_params()
    except ValueError as exc:
        _fail(path, f"bad parameters: {exc}")
    d = data.get("n_features_in")
    if not isinstance(d, int) or isinstance(d, bool) or d < 1:
        _fail(path, "n_features_in must be a positive integer")
    k = data.get("n_targets")
    if k is not None and (not isinstance(k, int) or isinstance(k, bool) or k < 1):
        _fail(path, "n_targets must be null or a positive integer")
    if np.ndim(model.alpha) > 0 and len(model.alpha) != (1 if k is None else k):
        _fail(path, f"alpha has {len(model.alpha)} values, but the model has "
                    f"{1 if k is None else k} target(s)")
    encoding = None
    if data.get("encoding") is not None:
        from .tables.persist import encoding_from_dict
        encoding = encoding_from_dict(data["encoding"], lambda why: _fail(path, why))
        model.encoding_ = encoding
        model.coef_names_ = list(encoding.names)
        model.terms_ = dict(encoding.term_slices)
        try:
            model.n_dropped_ = _count(data.get("n_dropped", 0), "n_dropped")
        except (TypeError, ValueError) as exc:
            _fail(path, str(exc))
    width = d if encoding is None else encoding.n_columns
    coef_shape = (width,) if k is None else (k, width)
    coef = data.get("coef")
    if not isinstance(coef, list):
        _fail(path, "coef is missing or not an array")
    model.coef_ = _array(path, coef, coef_shape, "coef")
    intercept = _array(path, data.get("intercept"), () if k is None else (k,), "intercept")
    model.intercept_ = float(intercept) if k is None else intercept
    if not (np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()):
        _fail(path, "coef or intercept is not finite")
    model.n_features_in_ = d
    names = data.get("feature_names")
    if names is not None:
        if not isinstance(names, list) or len(names) != d or not all(isinstance(n, str) for n in names):
            _fail(path, f"feature_names must be a list of {d} strings")
        model.feature_names_in_ = np.asarray(names, dtype=object)
    fitted = data.get("fitted")
    if not isinstance(fitted, dict):
        _fail(path, "the fitted attributes are missing")
    try:
        model.solver_ = str(fitted["solver_"])
        model.n_iter_ = _count(fitted["n_iter_"], "n_iter_")
        model.rank_ = None if fitted["rank_"] is None else _count(fitted["rank_"], "rank_")
        if isinstance(fitted["condition_number_"], (bool, str)):
            raise TypeError("condition_number_ must be a number")
        model.condition_number_ = float(fitted["condition_number_"])
        model.loss_history_ = np.asarray(fitted["loss_history_"], dtype=np.float64).reshape(-1)
        model.grad_norm_history_ = np.asarray(fitted["grad_norm_history_"], dtype=np.float64).reshape(-1)
        model.stop_reason_ = _stop_reason(fitted.get("stop_reason_"), model.solver_)
        model.n_refinement_passes_ = _refinement_passes(fitted.get("n_refinement_passes_"),
                                                        model.solver_)
        for name in OPTIONAL_HISTORIES:
            if fitted.get(name) is not None:
                history = np.asarray(fitted[name], dtype=np.float64)
                if history.ndim != 1:
                    raise ValueError(f"{name} must be a list of numbers")
                setattr(model, name, history)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        _fail(path, f"a fitted attribute is missing or malformed ({exc})")
    if data.get("metadata") is not None:
        model.metadata_ = check_metadata(data["metadata"], path)
        _check_svmlight_names(path, model)
    if data.get("training_stats") is not None:
        model.stats_ = _stats_from(path, data["training_stats"], width, 1 if k is None else k)
    return model


def _check_svmlight_names(path, model) -> None:
    """A model that reads svmlight files is not fitted on a table, and its feature names, if
    recorded, are those of the file's numbering (:func:`linreg.sources.svmlight.column_names`)."""
    svm = model.metadata_.get("svmlight")
    if svm is None:
        return
    if getattr(model, "encoding_", None) is not None:
        _fail(path, "metadata: svmlight is for a model of numbered features, not of a table")
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        from .sources.svmlight import column_names
        if list(names) != column_names(model.n_features_in_, svm["zero_based"]):
            first = "x0" if svm["zero_based"] else "x1"
            _fail(path, f"feature_names of a model of svmlight files must be {first}, … in "
                        "the file's numbering (metadata.svmlight.zero_based)")


def read_model(path, model_class):
    """Load a model saved by :func:`save`, as a ``model_class`` (the estimator's class: see
    :func:`linreg.estimator.load`).  Raises :class:`ModelFileError` on a corrupt,
    truncated, foreign or newer file; nothing in the file is ever executed."""
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot read model file {str(path)!r}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as f:
        # the size and kind of the file that was opened (not of whatever the path names a
        # moment later: a concurrent save may rename a new file over it)
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            # a FIFO would block, /dev/zero never end: only regular files are read
            _fail(path, "it is not a regular file"
                  + (" (it is a directory)" if stat.S_ISDIR(info.st_mode) else ""))
        if info.st_size > MAX_FILE_BYTES:
            _fail(path, f"it is {info.st_size} bytes, more than the {MAX_FILE_BYTES} a model "
                        "file may have")
        try:
            raw = f.read(info.st_size + 1)    # never more, even if the file grows meanwhile
        except OSError as exc:
            raise OSError(exc.errno, f"cannot read model file {str(path)!r}: {exc.strerror}") from exc
    if len(raw) != info.st_size:
        _fail(path, "it changed while it was being read")
    _check_container_count(path, raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _fail(path, "it is not UTF-8 text (is it a different kind of file?)")
    del raw
    try:
        data = json.loads(text, parse_constant=lambda c: _fail(path, f"it contains {c}")
                          if c not in ("NaN", "Infinity", "-Infinity") else float(c))
    except json.JSONDecodeError as exc:
        _fail(path, f"it is not complete JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                    "it may be truncated or corrupt")
    except RecursionError:
        _fail(path, "it is nested too deeply")
    except ValueError as exc:   # e.g. an integer of more digits than Python converts
        _fail(path, f"it holds a value that cannot be read ({exc})")
    return from_dict(data, path, model_class)


def _check_container_count(path, raw: bytes) -> None:
    """Refuse, before parsing, a file with more arrays and objects than any model has.

    An empty array costs 3 bytes in the file and ~60 in memory once parsed: without this
    check a file within the size limit could take 20 times its size in memory.  Brackets
    inside strings (feature names) do not count.
    """
    count = raw.count(b"[") + raw.count(b"{")
    if count <= MAX_CONTAINERS:
        return
    outside_strings = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', raw)
    count = outside_strings.count(b"[") + outside_strings.count(b"{")
    if count > MAX_CONTAINERS:
        _fail(path, f"it has too many arrays and objects ({count}; a model file has at most "
                    f"{MAX_CONTAINERS})")
