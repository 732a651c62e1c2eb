"""Long fits survive interruption: a process killed (SIGKILL) in the middle of an iterative
fit, restarted with the same checkpoint, ends with exactly the coefficients of an
uninterrupted run with the same seed.  A checkpoint is data, not code, and belongs to one
problem."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest

from linreg import LinearRegression
from traps import PickleTrap

#: tests that stop training short of the optimum on purpose (a few epochs for a trajectory,
#: determinism, counters or files; a callback; early stopping): the ConvergenceWarning that
#: says so is right, and tests/test_stopping.py checks it; these tests check other things
STOPPED_ON_PURPOSE = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

CASES = {
    "gd": dict(solver="gd", max_iter=300, tol=0.0),
    "gd-momentum": dict(solver="gd", optimizer="momentum", max_iter=300, tol=1e-9),
    "sgd": dict(solver="sgd", max_iter=40, tol=0.0),
    "minibatch-adam": dict(solver="minibatch", optimizer="adam", batch_size=16, max_iter=40),
    "minibatch-early-stopping": dict(solver="minibatch", batch_size=32, max_iter=60,
                                     early_stopping=True, n_iter_no_change=3),
}


def data(seed=0, n=600, d=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 4, d) + rng.standard_normal(d)
    y = X @ rng.standard_normal(d) + 2.0 + 0.5 * rng.standard_normal(n)
    return X, y


def checkpoint_epoch(path) -> int:
    with np.load(path, allow_pickle=False) as z:
        return json.loads(z["meta"].tobytes().decode())["epoch"]


def slow_epochs(info):
    """A callback that makes every epoch take a while, so the kill lands mid-fit."""
    time.sleep(0.01)


@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("case", list(CASES))
def test_fit_killed_mid_run_resumes_to_the_uninterrupted_coefficients(tmp_path, case):
    X, y = data()
    params = dict(random_state=7, **CASES[case])
    reference = LinearRegression(**params).fit(X, y)

    path = tmp_path / "run.ckpt"
    pid = os.fork()
    if pid == 0:  # the run that gets killed
        try:
            LinearRegression(callback=slow_epochs, **params).fit(X, y, checkpoint=path,
                                                                 checkpoint_every=2)
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and checkpoint_epoch(path) >= 4:
                break
            time.sleep(0.005)
    finally:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    killed_at = checkpoint_epoch(path)
    assert 4 <= killed_at < reference.n_iter_, "the kill did not land in the middle of the fit"

    resumed = LinearRegression(**params).fit(X, y, checkpoint=path, checkpoint_every=2)
    np.testing.assert_array_equal(resumed.coef_, reference.coef_)
    assert resumed.intercept_ == reference.intercept_
    assert resumed.n_iter_ == reference.n_iter_
    np.testing.assert_array_equal(resumed.loss_history_, reference.loss_history_)
    # and the answer is the right one, independently: close to numpy's least squares
    A = np.column_stack([np.ones(len(X)), X])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.max(np.abs(resumed.coef_ - exact[1:])) < 0.2 * np.max(np.abs(exact[1:]))


@STOPPED_ON_PURPOSE
def test_resuming_a_finished_run_returns_it_unchanged(tmp_path):
    X, y = data(1)
    path = tmp_path / "run.ckpt"
    first = LinearRegression(solver="sgd", random_state=0, max_iter=15).fit(X, y, checkpoint=path)
    again = LinearRegression(solver="sgd", random_state=0, max_iter=15).fit(X, y, checkpoint=path)
    np.testing.assert_array_equal(first.coef_, again.coef_)
    assert again.n_iter_ == first.n_iter_


@STOPPED_ON_PURPOSE
def test_a_finished_run_can_be_continued_for_more_epochs(tmp_path):
    """max_iter is not part of the fingerprint: 10 epochs, then 10 more == 20 at once."""
    X, y = data(2)
    path = tmp_path / "run.ckpt"
    LinearRegression(solver="sgd", random_state=0, max_iter=10, tol=0).fit(X, y, checkpoint=path)
    more = LinearRegression(solver="sgd", random_state=0, max_iter=20, tol=0).fit(X, y, checkpoint=path)
    once = LinearRegression(solver="sgd", random_state=0, max_iter=20, tol=0).fit(X, y)
    np.testing.assert_array_equal(more.coef_, once.coef_)


@pytest.mark.parametrize("change", [
    {"data": 3},
    {"alpha": 0.1},
    {"optimizer": "adam"},
    {"random_state": 1},
    {"batch_size": 8},
])
@STOPPED_ON_PURPOSE
def test_a_checkpoint_of_another_problem_is_refused(tmp_path, change):
    X, y = data(0)
    path = tmp_path / "run.ckpt"
    base = dict(solver="minibatch", random_state=0, max_iter=3, batch_size=16)
    LinearRegression(**base).fit(X, y, checkpoint=path)
    params = {**base, **{k: v for k, v in change.items() if k != "data"}}
    X2, y2 = data(change["data"]) if "data" in change else (X, y)
    with pytest.raises(ValueError, match="written by a fit with different"):
        LinearRegression(**params).fit(X2, y2, checkpoint=path)


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04" + bytes(100)])
def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path, content):
    X, y = data()
    path = tmp_path / "run.ckpt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a usable linreg checkpoint"):
        LinearRegression(solver="gd", max_iter=3).fit(X, y, checkpoint=path)


@STOPPED_ON_PURPOSE
def test_a_pickle_in_a_checkpoint_is_never_unpickled(tmp_path):
    X, y = data()
    path = tmp_path / "run.ckpt"
    LinearRegression(solver="gd", max_iter=3, random_state=0).fit(X, y, checkpoint=path)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    marker = tmp_path / "code-ran"
    arrays["params"] = np.array([PickleTrap(marker)], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="not a usable linreg checkpoint"):
        LinearRegression(solver="gd", max_iter=3, random_state=0).fit(X, y, checkpoint=path)
    assert not marker.exists()


@STOPPED_ON_PURPOSE
def test_a_newer_checkpoint_format_is_refused(tmp_path):
    X, y = data()
    path = tmp_path / "run.ckpt"
    LinearRegression(solver="gd", max_iter=3).fit(X, y, checkpoint=path)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays["meta"].tobytes().decode())
    meta["format_version"] = 99
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ValueError, match="newer than this linreg reads"):
        LinearRegression(solver="gd", max_iter=3).fit(X, y, checkpoint=path)


@pytest.mark.parametrize("solver", ["auto", "normal", "qr"])
def test_checkpoint_with_a_closed_form_solver_is_a_clear_error(tmp_path, solver):
    X, y = data()
    with pytest.raises(ValueError, match="iterative solvers"):
        LinearRegression(solver=solver).fit(X, y, checkpoint=tmp_path / "c.ckpt")


@pytest.mark.parametrize("every", [0, -1, 1.5, True, "2"])
def test_bad_checkpoint_every(tmp_path, every):
    X, y = data()
    with pytest.raises(ValueError, match="checkpoint_every"):
        LinearRegression(solver="gd").fit(X, y, checkpoint=tmp_path / "c.ckpt", checkpoint_every=every)


def test_cli_fit_with_checkpoint_killed_and_resumed(tmp_path):
    """``linreg fit --checkpoint``: the same guarantee through the command line."""
    import linreg.checkpoint
    from linreg import cli, load
    X, y = data(4, n=2000)
    csv_path = tmp_path / "train.csv"
    np.savetxt(csv_path, np.column_stack([X, y]), delimiter=",", comments="",
               header=",".join([f"x{j}" for j in range(X.shape[1])] + ["y"]))
    args = ["fit", str(csv_path), "--target", "y", "--solver", "sgd", "--seed", "3",
            "--max-iter", "60", "--tol", "0", "-q"]
    assert cli.main(args + ["-o", str(tmp_path / "reference.json")]) == 0
    ckpt = tmp_path / "run.ckpt"
    pid = os.fork()
    if pid == 0:  # slowed down (in this child only), then killed
        try:
            save = linreg.checkpoint.Checkpoint.after_epoch

            def slow(self, state):
                save(self, state)
                time.sleep(0.02)

            linreg.checkpoint.Checkpoint.after_epoch = slow
            cli.main(args + ["-o", str(tmp_path / "killed.json"), "--checkpoint", str(ckpt)])
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (ckpt.exists() and checkpoint_epoch(ckpt) >= 5):
            time.sleep(0.005)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert 5 <= checkpoint_epoch(ckpt) < 60
    assert not (tmp_path / "killed.json").exists()
    assert cli.main(args + ["-o", str(tmp_path / "resumed.json"), "--checkpoint", str(ckpt)]) == 0
    reference, resumed = load(tmp_path / "reference.json"), load(tmp_path / "resumed.json")
    np.testing.assert_array_equal(resumed.coef_, reference.coef_)
    assert resumed.intercept_ == reference.intercept_
