"""Model files are data, not code, and saving never destroys the previous model.

Crafted attacks (a pickle inside an .npz, deeply nested or enormous JSON, absurd declared
sizes, wrong shapes, a newer format version, special files) must give a clear
:class:`linreg.ModelFileError` within bounded memory and time, and execute nothing.  A save
killed by SIGKILL, or failing because the disk is full, must leave the old file intact and
readable, with an error that says what happened.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linreg
from linreg import LinearRegression, ModelFileError
from linreg import persistence
from traps import PickleTrap

HERE = Path(__file__).parent


def fitted(seed=0, d=3, k=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, d))
    Y = X @ rng.standard_normal((d, k or 1)) + 1.0
    return LinearRegression().fit(X, Y[:, 0] if k is None else Y)


def model_dict(**changes):
    data = json.loads(json.dumps(persistence.to_dict(fitted())))
    data.update(changes)
    return data


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def bounded_load(path, max_seconds=10.0, max_bytes=None):
    """Load ``path`` expecting ModelFileError; return (message, seconds, peak Python bytes)."""
    size = path.stat().st_size if path.is_file() else 0
    limit = max_bytes if max_bytes is not None else 16 * size + 32 * 2**20
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ModelFileError) as err:
            linreg.load(path)
    finally:
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert seconds < max_seconds, f"took {seconds:.1f} s"
    assert peak < limit, f"peak memory {peak / 2**20:.0f} MiB for a {size / 2**20:.1f} MiB file"
    msg = str(err.value)
    assert str(path) in msg and "not a valid linreg model file" in msg
    return msg, seconds, peak


# ------------------------------------------------------------------ nothing is executed


@pytest.mark.resources
def test_pickle_inside_npz_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.npz"
    np.savez(path, coef=np.array([PickleTrap(marker)], dtype=object), intercept=np.zeros(1))
    # sanity: the trap does fire when unpickled on purpose
    with np.load(path, allow_pickle=True) as z:
        z["coef"]
    assert marker.exists()
    marker.unlink()
    msg, *_ = bounded_load(path)
    assert "not UTF-8" in msg or "not complete JSON" in msg
    assert not marker.exists()


@pytest.mark.resources
def test_raw_pickle_is_refused_and_never_unpickled(tmp_path):
    import pickle
    marker = tmp_path / "code-ran"
    for protocol in (0, pickle.HIGHEST_PROTOCOL):   # protocol 0 is ASCII text
        path = tmp_path / f"model-{protocol}.json"
        path.write_bytes(pickle.dumps(PickleTrap(marker), protocol=protocol))
        bounded_load(path)
        assert not marker.exists()


@pytest.mark.resources
def test_code_like_values_are_refused_not_evaluated(tmp_path):
    marker = tmp_path / "code-ran"
    payload = {"py/object": "pathlib.Path.touch", "args": [str(marker)]}
    for changes in ({"params": {**model_dict()["params"], "solver": payload}},
                    {"params": {**model_dict()["params"], "alpha": f"__import__('os').system('touch {marker}')"}},
                    {"coef": [payload, 1.0, 2.0]}):
        msg, *_ = bounded_load(write_json(tmp_path / "m.json", model_dict(**changes)))
        assert not marker.exists()


# ------------------------------------------------------------------ malformed structure
@pytest.mark.parametrize("depth", [40, 1_000, 200_000])
@pytest.mark.resources
def test_deeply_nested_json(tmp_path, depth):
    data = model_dict()
    text = json.dumps(data)
    nested = "[" * depth + "]" * depth
    path = tmp_path / "deep.json"
    path.write_text(text[:-1] + f', "extra": {nested}}}')
    msg, *_ = bounded_load(path)
    assert "nested too deeply" in msg or "too many" in msg


def in_child(fn, *args):
    """Run ``fn(*args)`` in a forked child (linreg already imported, so no start-up cost)
    and return what it returns (a short string) — a fresh process for memory and signals."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        code = 0
        try:
            out = str(fn(*args))
        except BaseException as exc:  # report anything to the parent
            out, code = f"CHILD ERROR {type(exc).__name__}: {exc}", 1
        os.write(write_end, out.encode())
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as r:
        out = r.read().decode()
    os.waitpid(pid, 0)
    return out


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _load_measured(path):
    """Load in this (forked) process; report seconds, the peak resident memory above the
    start (VmHWM, reset first: a forked child would otherwise inherit its parent's peak)
    and the outcome."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_kb("VmRSS")
    t0 = time.perf_counter()
    try:
        linreg.load(path)
    except ModelFileError as exc:
        outcome = str(exc)
    else:
        outcome = "LOADED"
    seconds = time.perf_counter() - t0
    extra = (_status_kb("VmHWM") - base) * 1024
    return f"{seconds}\n{extra}\n{outcome}"


@pytest.mark.resources
@pytest.mark.parametrize("kind", ["numbers", "containers", "string"])
def test_enormous_json_is_refused_within_bounded_memory(tmp_path, kind):
    """A 12–24 MB file built to blow up when parsed: refused in seconds, with extra memory
    within a few times its size (measured in a fresh process)."""
    path = tmp_path / "big.json"
    head = json.dumps(model_dict())[:-1]
    n = 2_000_000
    if kind == "numbers":           # 2 bytes per number in the file, 8+ in memory
        body = "[" + "0," * n + "0]"
    elif kind == "containers":      # 3 bytes per list in the file, ~60 in memory
        body = "[" + "[]," * n + "[]]"
    else:
        body = '"' + "x" * (6 * n) + '"'
    path.write_text(f'{head}, "coef": {body}}}')
    del body
    size = path.stat().st_size
    out = in_child(_load_measured, path)
    seconds, extra, outcome = out.split("\n", 2)
    assert "not a valid linreg model file" in outcome, out
    assert "coef" in outcome or "too many arrays" in outcome
    assert float(seconds) < 10
    assert int(extra) < 6 * size + 64 * 2**20, f"{int(extra) / 2**20:.0f} MiB for {size / 2**20:.0f} MiB"


@pytest.mark.resources
def test_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 1000)
    path = write_json(tmp_path / "m.json", model_dict(feature_names=None, padding="x" * 2000))
    msg, seconds, peak = bounded_load(path, max_bytes=2**20)
    assert "more than the 1000" in msg


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo", "directory"])
@pytest.mark.resources
def test_special_files_are_refused_without_reading_forever(tmp_path, special):
    if special == "fifo":
        path = tmp_path / "fifo.json"
        os.mkfifo(path)
    elif special == "directory":
        path = tmp_path / "dir.json"
        path.mkdir()
    else:
        path = Path(special)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises((ModelFileError, OSError)) as err:
            linreg.load(path)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5
    assert peak < 2**20
    assert "regular file" in str(err.value) or "directory" in str(err.value).lower()


@pytest.mark.parametrize("changes, message", [
    ({"n_features_in": 10**12}, "coef has shape (3,), expected (1000000000000,)"),
    ({"n_features_in": 10**400}, "coef has shape (3,), expected (1000000000"),
    ({"n_targets": 10**9, "intercept": [0.0]}, "coef has shape (3,), expected (1000000000, 3)"),
    ({"n_features_in": -3}, "positive integer"),
    ({"n_features_in": 3.0}, "positive integer"),
    ({"n_features_in": True}, "positive integer"),
    ({"coef": [1.0, 2.0]}, "coef has shape (2,), expected (3,)"),
    ({"coef": [[1.0, 2.0, 3.0]]}, "coef has shape (1, 3), expected (3,)"),
    ({"coef": [1.0, [2.0], 3.0]}, "coef is not an array of numbers"),
    ({"coef": [1.0, "2", 3.0]}, "coef"),
    ({"coef": [1.0, None, 3.0]}, "coef"),
    ({"coef": [1e400, 2.0, 3.0]}, "not finite"),
    ({"intercept": [1.0, 2.0]}, "intercept has shape (2,), expected ()"),
    ({"intercept": "NaN"}, "intercept"),
    ({"feature_names": ["a", "b"]}, "feature_names must be a list of 3 strings"),
    ({"feature_names": ["a", "b", 3]}, "feature_names must be a list of 3 strings"),
    ({"format_version": 3}, "newer than this linreg reads (2); upgrade linreg"),
    ({"format_version": 10**30}, "newer than this linreg reads"),
    ({"format_version": 0}, "unknown"),
    ({"format_version": "1"}, "format_version is missing"),
    ({"format": "sklearn-pickle"}, "does not declare format 'linreg-model'"),
    ({"params": {"solver": "qr", "os.system": "rm -rf /"}}, "unknown parameters ['os.system']"),
    ({"params": {"solver": "magic"}}, "bad parameters"),
    ({"params": {"alpha": -1.0}}, "bad parameters"),
    # alpha may be a list (one value per target, this model has one): of numbers, one a target
    ({"params": {"alpha": [1.0, 2.0]}}, "alpha has 2 values, but the model has 1 target(s)"),
    ({"params": {"alpha": ["1"]}}, "'alpha' must be a number or a list of numbers"),
    ({"params": {"alpha": [[1.0]]}}, "'alpha' must be a number or a list of numbers"),
    ({"params": {"alpha": [-1.0]}}, "bad parameters"),
    ({"params": {"solver": [1.0]}}, "has a value of type list"),
    ({"params": {"positive": 1}}, "bad parameters"),
    ({"params": None}, "params are missing"),
    ({"fitted": {"solver_": "qr"}}, "fitted attribute is missing or malformed"),
    ({"fitted": None}, "fitted attributes are missing"),
])
@pytest.mark.resources
def test_wrong_shapes_types_and_versions(tmp_path, changes, message):
    data = model_dict()
    if "params" in changes and changes["params"] is not None:
        changes = {**changes, "params": {**data["params"], **changes["params"]}}
    data.update(changes)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data).replace('"NaN"', "NaN") if changes.get("intercept") == "NaN"
                    else json.dumps(data))
    msg, *_ = bounded_load(path)
    assert message in msg


@pytest.mark.resources
def test_integer_with_too_many_digits(tmp_path):
    """Python refuses to convert integers of more than 4300 digits: a clear error too."""
    text = json.dumps(model_dict()).replace('"n_features_in": 3', '"n_features_in": ' + "9" * 5000)
    msg, *_ = bounded_load(_write(tmp_path, text))
    assert "cannot be read" in msg and "digits" in msg


def _write(folder, text):
    path = folder / "m.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("field", ["n_iter_", "rank_", "condition_number_"])
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", '"9999999999999999999999"', "1e999", "[1]", "{}"])
def test_fitted_attributes_of_the_wrong_kind(tmp_path, field, value):
    data = model_dict()
    text = json.dumps(data)
    old = f'"{field}": {json.dumps(data["fitted"][field])}'
    assert old in text
    path = tmp_path / "m.json"
    path.write_text(text.replace(old, f'"{field}": {value}'))
    try:
        model = linreg.load(path)
    except ModelFileError as exc:
        assert "fitted attribute" in str(exc)
        return
    # accepted: then it must be an honest number of the right type
    assert isinstance(getattr(model, field), (int, float))
    if field != "condition_number_":
        assert np.isfinite(getattr(model, field))


@pytest.mark.resources
def test_training_stats_of_the_wrong_shape(tmp_path):
    data = model_dict()
    stats = data["training_stats"]
    for bad in ({**stats, "comoment": stats["comoment"][:-1]}, {**stats, "n_features": 10**9},
                {**stats, "mean": stats["mean"] + [1.0]}, {**stats, "weight_sum": -1},
                {**stats, "evil": 1}):
        msg, *_ = bounded_load(write_json(tmp_path / "m.json", {**data, "training_stats": bad}))
        assert "training_stats" in msg


@settings(max_examples=2 * settings.default.max_examples)  # scales with the profile
@given(cut=st.floats(0.0, 1.0, exclude_max=True), flip=st.integers(0, 255), pos=st.floats(0, 1))
def test_truncated_or_corrupted_files_never_load_silently_wrong(tmp_path_factory, cut, flip, pos):
    """Any truncation is refused; any single corrupted byte is refused or loads a model that
    is still well-formed (finite, right shapes) — a file is never half-read."""
    model = fitted(1)
    folder = tmp_path_factory.mktemp("corrupt")
    good = folder / "good.json"
    model.save(good)
    raw = good.read_bytes()
    truncated = folder / "truncated.json"
    truncated.write_bytes(raw[: int(cut * len(raw))])
    with pytest.raises(ModelFileError):
        linreg.load(truncated)
    corrupted = folder / "corrupted.json"
    i = int(pos * (len(raw) - 1))
    corrupted.write_bytes(raw[:i] + bytes([flip]) + raw[i + 1:])
    try:
        loaded = linreg.load(corrupted)
    except ModelFileError:
        return
    assert loaded.coef_.shape == model.coef_.shape
    assert np.isfinite(loaded.coef_).all() and np.isfinite(loaded.intercept_)
    assert np.isfinite(loaded.predict(np.ones((2, 3)))).all()


def test_round_trip_after_all_this_is_still_exact(tmp_path):
    model = fitted(2, k=2)
    model.save(tmp_path / "m.json")
    loaded = linreg.load(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.intercept_, model.intercept_)


# ------------------------------------------------------------------ saving never destroys
def _big_model(seed):
    """A model whose file is a few MB (its training statistics), so a save takes a while."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((400, 300))
    return LinearRegression().fit(X, X @ rng.standard_normal(300))


def _old_model(path):
    old = fitted(3)
    old.save(path)
    return old, path.read_bytes()


def _assert_intact(path, old, old_bytes):
    assert path.read_bytes() == old_bytes
    loaded = linreg.load(path)
    np.testing.assert_array_equal(loaded.coef_, old.coef_)


def test_save_killed_after_writing_before_rename_leaves_old_file(tmp_path):
    """SIGKILL at the worst moment: the new file fully written, not yet renamed over."""
    path = tmp_path / "model.json"
    old, old_bytes = _old_model(path)
    new = _big_model(1)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: save, but stop right after the data reach the disk
        real_fsync = os.fsync

        def fsync_then_wait(fd):
            real_fsync(fd)
            os.write(ready_w, b"written")
            time.sleep(60)

        os.fsync = fsync_then_wait
        try:
            new.save(path)
        finally:
            os._exit(0)
    os.close(ready_w)
    try:
        assert os.read(ready_r, 16) == b"written"
        leftovers = list(tmp_path.glob(".model.json.*.tmp"))
        assert leftovers and leftovers[0].stat().st_size > 10**6
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(ready_r)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    _assert_intact(path, old, old_bytes)


def test_save_killed_at_random_moments_leaves_old_or_new_file(tmp_path):
    path = tmp_path / "model.json"
    old, old_bytes = _old_model(path)
    new = _big_model(5)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(12):
        pid = os.fork()
        if pid == 0:
            try:
                while True:
                    new.save(path)
            finally:
                os._exit(0)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        loaded = linreg.load(path)            # never a torn or truncated file
        if path.read_bytes() == old_bytes:
            seen.add("old")
        else:
            np.testing.assert_array_equal(loaded.coef_, new.coef_)
            seen.add("new")
    assert seen                              # (which ones depends on timing)


def test_disk_full_during_save_keeps_old_file_and_says_so(tmp_path, monkeypatch):
    """ENOSPC from the operating system (simulated at fsync, where a full disk surfaces for
    buffered writes): the old file is untouched, no temporary file is left behind."""
    path = tmp_path / "model.json"
    old, old_bytes = _old_model(path)

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError) as err:
        fitted(4).save(path)
    monkeypatch.undo()
    assert err.value.errno == errno.ENOSPC
    assert "No space left on device" in str(err.value)
    assert "previous file there is unchanged" in str(err.value)
    assert str(path) in str(err.value)
    _assert_intact(path, old, old_bytes)
    assert list(tmp_path.glob("*.tmp")) == []


def _save_under_file_size_limit(model, path, limit):
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        model.save(path)
    except OSError as exc:
        return f"ERROR {exc.errno} {exc}"
    return "SAVED"


def test_real_write_failure_from_the_os_keeps_old_file(tmp_path):
    """A real short write (a 4 kB file-size limit stands in for a full disk): EFBIG, old
    file intact, temporary file removed."""
    path = tmp_path / "model.json"
    old, old_bytes = _old_model(path)
    out = in_child(_save_under_file_size_limit, _big_model(2), path, 4096)
    assert out.startswith(f"ERROR {errno.EFBIG}"), out
    assert "could not save the model" in out and "unchanged" in out
    _assert_intact(path, old, old_bytes)
    assert list(tmp_path.glob("*.tmp")) == []


def test_save_into_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="could not save the model"):
        fitted().save(tmp_path / "no" / "such" / "folder" / "m.json")


def test_model_file_keeps_the_refinement_passes(tmp_path):
    """A streamed fit refined by passes over its file keeps their count through a save and
    load; a file without it (older) loads 0, or None (not recorded) for a QR fit; a count
    that is not a non-negative integer is refused."""
    from test_accuracy import economic
    X, y = economic()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    model = LinearRegression().fit(linreg.sources.npy(tmp_path / "X.npy", tmp_path / "y.npy",
                                                      chunk_rows=7))
    assert model.solver_ == "qr" and model.n_refinement_passes_ >= 1
    model.save(tmp_path / "m.json")
    loaded = linreg.load(tmp_path / "m.json")
    assert loaded.n_refinement_passes_ == model.n_refinement_passes_
    assert np.array_equal(loaded.coef_, model.coef_)
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["format_version"] == persistence.FORMAT_VERSION
    assert data["fitted"]["n_refinement_passes_"] == model.n_refinement_passes_
    fitted().save(tmp_path / "normal.json")
    assert linreg.load(tmp_path / "normal.json").n_refinement_passes_ == 0
    del data["fitted"]["n_refinement_passes_"]
    assert linreg.load(write_json(tmp_path / "old.json", data)).n_refinement_passes_ is None
    data["fitted"]["solver_"] = "normal"
    assert linreg.load(write_json(tmp_path / "old.json", data)).n_refinement_passes_ == 0
    for bad in (-1, 1.5, "2", True, [1]):
        data["fitted"]["n_refinement_passes_"] = bad
        with pytest.raises(ModelFileError, match="n_refinement_passes_ must be an integer"):
            linreg.load(write_json(tmp_path / "bad.json", data))
