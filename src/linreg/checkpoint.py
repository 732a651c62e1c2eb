"""Checkpoints: a long iterative fit survives being killed.

``LinearRegression(solver="gd"|"sgd"|"minibatch").fit(X, y, checkpoint="run.ckpt",
checkpoint_every=10)`` writes the whole training state (:class:`linreg.training_state.TrainingState`:
parameters, optimizer moments and step, the random generator's state, the epoch counter,
learning rate, best parameters, histories, early-stopping counters) every ``checkpoint_every``
epochs and at the end.  Run the same fit again with the same checkpoint and it continues
from the last state written, so it ends with exactly the coefficients of an uninterrupted
run (bit for bit: every epoch is a deterministic function of that state).

The file is an ``.npz`` archive of plain numeric arrays plus one JSON text (numbers and
strings only), written atomically (a temporary file, flushed to disk, renamed over the old
one: a kill at any moment leaves the previous checkpoint whole) and read with
``allow_pickle=False``: it holds data, never code.

A checkpoint records a fingerprint of the problem it belongs to — the training settings
and a hash of the data's column means and variances.  Resuming with different data or settings
raises ``ValueError`` instead of silently continuing someone else's run.  (``max_iter`` is
not part of it: a finished run may be continued for more epochs by raising it.)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .optimizers import OptimizerState
from .fileio import atomic_write_bytes

__all__ = ["Checkpoint", "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION", "fingerprint"]

CHECKPOINT_FORMAT = "linreg-checkpoint"
CHECKPOINT_VERSION = 1
#: a checkpoint larger than this is refused before it is read
MAX_CHECKPOINT_BYTES = 2 * 1024**3

# TrainingState fields kept as JSON numbers / lists of numbers
_SCALARS = ("learning_rate", "epoch", "best_loss", "epochs_without_improvement",
            "plateau_halvings", "divergences", "lowest_validation_loss", "best_validation_loss",
            "validation_epochs_without_improvement", "first_learning_rate")
_INTEGERS = {"epoch", "epochs_without_improvement", "plateau_halvings", "divergences",
             "validation_epochs_without_improvement"}
_HISTORIES = ("loss_history", "grad_norm_history", "scaled_grad_norm_history",
              "learning_rate_history", "validation_loss_history", "progressive_loss_history")
#: histories a checkpoint written before they existed may lack (read as empty)
_LATER_HISTORIES = ("progressive_loss_history",)


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def fingerprint(settings, moments, design, seed) -> dict:
    """What must not change between a run and its resumption: the settings (all but
    ``max_iter`` and the callback), the seed, and a hash of the data's column moments
    (:class:`linreg.training_objective.ColumnMoments`: what every iterative fit computes,
    whether or not it forms the d × d statistics) and design."""
    opt = settings.optimizer
    return {
        "solver": settings.solver,
        "optimizer": [opt.name, float(opt.momentum), float(opt.beta1), float(opt.beta2),
                      float(opt.epsilon)],
        "learning_rate": (settings.learning_rate if isinstance(settings.learning_rate, str)
                          else float(settings.learning_rate)),
        "schedule": settings.schedule, "power_t": settings.power_t,
        "decay_rate": settings.decay_rate, "batch_size": settings.batch_size,
        "tol": settings.tol, "shuffle": settings.shuffle,
        "early_stopping": settings.early_stopping,
        "validation_fraction": settings.validation_fraction,
        "n_iter_no_change": settings.n_iter_no_change,
        "fit_intercept": settings.fit_intercept, "alpha": settings.alpha,
        "seed": int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None,
        "n_rows": int(moments.n_rows), "weight_sum": float(moments.weight_sum),
        "data": _digest(moments.mean_x, moments.m2_x, moments.mean_y, moments.m2_y,
                        design.shift, design.scale),
    }


def _jsonable(x: float):
    """Floats as JSON numbers; ±inf and NaN as strings (JSON has no literal for them)."""
    x = float(x)
    return x if np.isfinite(x) else repr(x)


def _number(x) -> float:
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{x!r} is not a number")
    return float(x)


class Checkpoint:
    """Where and how often to save the training state, and how to restore it.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file (created if missing; replaced atomically each time).
    every : int
        Save after every ``every`` completed epochs (``"gd"``: iterations), and at the end.
    """

    def __init__(self, path, every: int = 1):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"checkpoint_every={every!r} must be an integer >= 1")
        try:
            self.path = Path(os.fspath(path))
        except TypeError:
            raise ValueError(f"checkpoint={path!r} must be a file path") from None
        self.every = int(every)
        self.fingerprint: dict | None = None
        self.resumed_from_epoch: int | None = None

    # ---------------------------------------------------------------- writing
    def save(self, state) -> None:
        """Write ``state`` atomically (the previous checkpoint stays whole if this fails)."""
        meta = {
            "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "n_targets": int(state.n_targets),
            "optimizer_step": int(state.optimizer.step),
            "rng": state.rng.bit_generator.state,
            **{name: (int(getattr(state, name)) if name in _INTEGERS
                      else _jsonable(getattr(state, name))) for name in _SCALARS},
            **{name: [_jsonable(v) for v in getattr(state, name)] for name in _HISTORIES},
        }
        arrays = {"params": state.params, "moments": state.optimizer.moments,
                  "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)}
        if state.best_params is not None:
            arrays["best_params"] = state.best_params
        if state.lowest_validation_params is not None:
            arrays["lowest_validation_params"] = state.lowest_validation_params
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        try:
            atomic_write_bytes(self.path, buffer.getvalue())
        except OSError as exc:
            raise OSError(exc.errno, f"could not write the checkpoint {str(self.path)!r}: "
                          f"{exc.strerror}; the previous checkpoint there is unchanged") from exc

    def after_epoch(self, state) -> None:
        """The training loop's hook: save every ``every`` epochs."""
        if state.epoch % self.every == 0:
            self.save(state)

    # ---------------------------------------------------------------- reading
    def _fail(self, why: str):
        raise ValueError(f"{str(self.path)!r} is not a usable linreg checkpoint: {why}")

    def restore(self, state) -> bool:
        """If the checkpoint file exists, load it into ``state`` (in place) and return True.

        Raises ``ValueError`` when the file is corrupt, from a newer format, or belongs to
        other data or settings (its fingerprint differs).
        """
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return False
        if not self.path.is_file():
            self._fail("it is not a regular file")
        if size > MAX_CHECKPOINT_BYTES:
            self._fail(f"it is {size} bytes, more than {MAX_CHECKPOINT_BYTES}")
        try:
            with np.load(self.path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            self._fail(f"it cannot be read as an .npz archive of numbers ({exc})")
        try:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            self._fail(f"its description is missing or corrupt ({exc})")
        if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
            self._fail(f"it does not declare format {CHECKPOINT_FORMAT!r}")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self._fail("format_version is missing")
        if version > CHECKPOINT_VERSION:
            self._fail(f"it has format_version {version}, newer than this linreg reads "
                       f"({CHECKPOINT_VERSION}); upgrade linreg")
        if meta.get("fingerprint") != self.fingerprint:
            theirs = meta.get("fingerprint") or {}
            differ = sorted(k for k in set(theirs) | set(self.fingerprint or {})
                            if theirs.get(k) != (self.fingerprint or {}).get(k))
            raise ValueError(
                f"the checkpoint {str(self.path)!r} was written by a fit with different "
                f"{', '.join(differ) if differ else 'settings'}; it cannot be resumed with "
                "these. Delete it (or choose another checkpoint path) to start afresh.")
        self._load_into(state, meta, arrays)
        self.resumed_from_epoch = state.epoch
        return True

    def _load_into(self, state, meta: dict, arrays: dict) -> None:
        n = state.params.size
        try:
            params = self._vector(arrays, "params", n)
            moments = np.asarray(arrays["moments"], dtype=np.float64)
            if moments.shape != state.optimizer.moments.shape:
                self._fail(f"moments have shape {moments.shape}, expected "
                           f"{state.optimizer.moments.shape}")
            if int(meta["n_targets"]) != state.n_targets:
                self._fail("it was written for another number of targets")
            values = {}
            for name in _SCALARS:
                v = meta[name]
                if name in _INTEGERS:
                    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                        self._fail(f"{name} must be an integer >= 0")
                    values[name] = v
                else:
                    values[name] = _number(v)
            histories = {name: [_number(v) for v in (meta.get(name, []) if name in
                                                     _LATER_HISTORIES else meta[name])]
                         for name in _HISTORIES}
            step = meta["optimizer_step"]
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                self._fail("optimizer_step must be an integer >= 0")
            rng = np.random.Generator(type(state.rng.bit_generator)())
            rng.bit_generator.state = meta["rng"]
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and "linreg checkpoint" in str(exc):
                raise
            self._fail(f"a field is missing or malformed ({exc})")
        if not np.isfinite(params).all():
            self._fail("its parameters are not finite")
        state.params[:] = params
        state.optimizer = OptimizerState(moments.copy(), step)
        state.rng = rng
        for name, v in values.items():
            setattr(state, name, v)
        for name, v in histories.items():
            setattr(state, name, v)
        state.best_params = (self._vector(arrays, "best_params", n)
                             if "best_params" in arrays else None)
        state.lowest_validation_params = (self._vector(arrays, "lowest_validation_params", n)
                                          if "lowest_validation_params" in arrays else None)

    def _vector(self, arrays, name, n):
        a = np.asarray(arrays[name])
        if a.dtype.kind != "f" or a.shape != (n,):
            self._fail(f"{name} has shape {a.shape} and dtype {a.dtype}, expected ({n},) floats")
        return a.astype(np.float64)
