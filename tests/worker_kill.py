"""A Dask worker plugin that kills its worker's process when a chosen task starts: shared by
the tests of what a fit does when a worker dies.  Imports only the standard library and
distributed, so a worker that the nanny restarts takes it up at once."""

from __future__ import annotations

import json
import os
import signal
import time

from distributed import WorkerPlugin


class KillAtTask(WorkerPlugin):
    """Dormant until :func:`arm` writes ``root/armed``: then the worker on which the ``nth``
    task whose key starts with one of the armed prefixes starts executing (counted over all
    workers) kills its own process with SIGKILL, before the task runs — once, or at every
    such task with ``every``.  Every such start is logged to ``folder/started`` (pid, key);
    the kill to ``folder/killed`` (pid, key, time)."""

    name = "kill-at-task"

    def __init__(self, root: str):
        self.root = root

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing":
            return
        try:
            with open(os.path.join(self.root, "armed")) as f:
                armed = json.load(f)
        except (FileNotFoundError, ValueError):
            return
        name = str(key[0] if isinstance(key, tuple) else key)
        if not name.startswith(tuple(armed["prefixes"])):
            return
        folder = armed["folder"]
        with open(os.path.join(folder, "started"), "a") as f:
            f.write(f"{os.getpid()} {name}\n")
        with open(os.path.join(folder, "started")) as f:
            if sum(1 for _ in f) < armed["nth"]:
                return
        if not armed["every"]:
            try:     # the first worker to get here kills itself; no other one ever does
                fd = os.open(os.path.join(folder, "killed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, f"{os.getpid()} {name} {time.time()!r}\n".encode())
            os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)


def arm(root, folder, prefixes, nth: int = 1, every: bool = False) -> None:
    """Make the plugin kill at the ``nth`` task named by ``prefixes`` (logs in ``folder``)."""
    tmp = os.path.join(root, "armed.tmp")
    with open(tmp, "w") as f:
        json.dump({"folder": str(folder), "prefixes": list(prefixes), "nth": nth,
                   "every": every}, f)
    os.replace(tmp, os.path.join(root, "armed"))


def disarm(root) -> None:
    try:
        os.remove(os.path.join(root, "armed"))
    except FileNotFoundError:
        pass
