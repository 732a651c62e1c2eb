"""Reading what a command works on: a model file, and the columns of a data file that the model
needs (matched by name), its target and its sample weights."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..io import Table
from ..validation import name_list
from .errors import CommandError

__all__ = ["split_names", "load_model", "read_columns", "model_features", "model_targets", "model_weight",
           "read_for_model", "source_for_model", "check_width_for_model", "model_predict"]


def split_names(text: str | None, blank: bool = False) -> list[str] | None:
    """``a,b`` → ``["a", "b"]``; with ``blank`` (for ``--drop``) an empty name stands for
    the column whose header is empty (pandas' index: ``--drop ''``, ``--drop ,id``)."""
    if text is None:
        return None
    names = [t.strip() for t in text.split(",")]
    if any(not n for n in names) and not (blank and names.count("") == 1):
        raise CommandError(f"the column list {text!r} has an empty name")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CommandError(f"the column list {text!r} names {', '.join(map(repr, twice))} "
                           "more than once")
    return names


def load_model(path: str, data: str | None = None):
    """The model saved at ``path``; ``data`` (the command's DATA argument) is used only to
    recognise the two arguments given the wrong way round."""
    from ..estimator import load

    if (data is not None and Path(data).suffix.lower() == ".json"
            and Path(path).suffix.lower() != ".json"):
        raise CommandError(f"the arguments look swapped: {data} is a model file and {path} is "
                           "not; give the model first (MODEL DATA)")
    if not Path(path).exists():
        raise CommandError(f"{path}: no such model file")
    return load(path)


def model_features(model) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def model_targets(model) -> list[str] | None:
    meta = getattr(model, "metadata_", None) or {}
    return name_list(meta.get("target_name"))


def model_weight(model, args) -> str | None:
    """The sample-weight column: ``--weight``, else the one the model was fitted with."""
    given = getattr(args, "weight", None)
    if given is not None:
        return given
    return (getattr(model, "metadata_", None) or {}).get("weight_name")


def read_for_model(model, args, need_target=False, weighted=False) -> Table:
    """Read the columns ``model`` was fitted on (by name) and, if wanted, its target and (with
    ``weighted``) its sample weights.  A model without feature names (fitted from Python on
    plain arrays) takes the file's columns in order, less the target, weights and ``--drop``.
    (Not for a model fitted on a table: see :mod:`.tables`.)"""
    from ..io import source_table
    if getattr(model, "encoding_", None) is not None:
        raise CommandError(f"linreg {getattr(args, 'command', '')} does not read tables with text columns "
                           "or formulas yet; fit the model on numeric columns to use it here")
    source = source_for_model(model, args, need_target, weighted, chunk_rows=None)
    table = source_table(source, args.data)
    check_width_for_model(model, args, table.X.shape[1])
    return table


def source_for_model(model, args, need_target=False, weighted=False, chunk_rows=None):
    """The source of DATA with the columns of :func:`read_for_model`, in blocks of
    ``chunk_rows`` rows (None: the whole file)."""
    from .tables import open_source
    features = model_features(model)
    target = split_names(getattr(args, "target", None)) or model_targets(model)
    if need_target and not target:
        raise CommandError("the model file does not record its target column: give --target")
    drop = split_names(args.drop, blank=True)
    if features is not None and drop is not None:
        drop = None  # the model names its columns: nothing else is read anyway
    return open_source(args.data, args, chunk_rows, target=target if need_target else None,
                       features=features, drop=drop,
                       features_role="a feature the model needs",
                       weight=model_weight(model, args) if weighted else None)


def check_width_for_model(model, args, n_columns: int) -> None:
    """Refuse a file that gives another number of feature columns than the model has."""
    if n_columns != model.n_features_in_:
        raise CommandError(f"{args.data} gives {n_columns} feature columns but the model "
                           f"was fitted on {model.n_features_in_} (leave columns out with --drop)")


def model_predict(model, X, **kwargs):
    with warnings.catch_warnings():
        # the model's feature names are matched by name when the file is read
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.predict(X, **kwargs)


def read_columns(path: str, names: list[str], delimiter: str | None = None):
    """Columns of a CSV or Parquet file as they are (numbers or text), as a pyarrow table's
    pandas frame: what ``linreg predict --keep`` copies into its output."""
    from ..sources import CSV_SUFFIXES, PARQUET_SUFFIXES
    from ..sources.arrow import need_pyarrow

    from ..sources.csv_file import COMPRESSIONS
    from ..sources.feather_files import FEATHER_SUFFIXES

    need_pyarrow("--keep")
    suffix = Path(path).suffix.lower()
    if suffix in COMPRESSIONS:         # pyarrow decompresses by the extension
        suffix = Path(path).with_suffix("").suffix.lower()
    if suffix in CSV_SUFFIXES:
        import pyarrow.csv as pcsv
        sep = delimiter or ("\t" if suffix == ".tsv" else ",")
        parse = pcsv.ParseOptions(delimiter=sep)
        with pcsv.open_csv(path, parse_options=parse) as reader:   # (the first block only)
            header = reader.schema.names
        missing = [n for n in names if n not in header]
        if not missing:
            table = pcsv.read_csv(path, parse_options=parse,
                                  convert_options=pcsv.ConvertOptions(include_columns=names))
    elif suffix in PARQUET_SUFFIXES:
        import pyarrow.parquet as pq
        header = pq.read_schema(path).names
        missing = [n for n in names if n not in header]
        if not missing:
            table = pq.read_table(path, columns=names)
    elif suffix in FEATHER_SUFFIXES:
        import pyarrow.feather as feather
        header = _feather_names(path)
        missing = [n for n in names if n not in header]
        if not missing:
            table = feather.read_table(path, columns=names, memory_map=True)
    else:
        raise CommandError(f"--keep copies columns of CSV, Parquet and Feather files, not of "
                           f"{path}")
    if missing:
        raise CommandError(f"{path}: --keep names {', '.join(map(repr, missing))}, not a column "
                           f"of the file (its columns: {', '.join(header)})")
    return table.to_pandas()


def _feather_names(path) -> list[str]:
    import pyarrow as pa
    with pa.ipc.open_file(pa.memory_map(str(path))) as reader:
        return list(reader.schema.names)
