"""Every example of the README runs, and shows what it prints.

The README's ``python`` blocks run in order, in one namespace (the inference block continues
the quick start), in a temporary folder holding the files they name; a line ending in
``#> TEXT`` must print exactly ``TEXT``.  The command-line block runs through
:func:`linreg.cli.main` on files of the names it uses.  (The ``make`` block is the Makefile's,
run by ``make demo``/``make test`` themselves.)
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest

import linreg.cli

README = Path(__file__).resolve().parents[1] / "README.md"
PENGUINS = Path(__file__).resolve().parents[1] / "src" / "linreg" / "data" / "penguins.csv"
#: the time a fit took, the one part of its report that changes from run to run
SECONDS = re.compile(r" in [0-9.e+-]+ s;")
SHOWN = re.compile(r"#> (.*)$")


def blocks(language: str) -> list[str]:
    """The README's fenced blocks of ``language`` ("" for the bare fences), in order."""
    found, current, inside = [], [], None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if inside is None:
                inside, current = line[3:].strip(), []
            else:
                if inside == language:
                    found.append("\n".join(current) + "\n")
                inside = None
        elif inside is not None:
            current.append(line)
    return found


def _table(rng, n=200, d=3):
    X = rng.normal(size=(n, d))
    y = X @ np.arange(1.0, d + 1) + 1.0 + 0.1 * rng.normal(size=n)
    return X, y


def _make_files(folder: Path) -> None:
    """The files the 'Data bigger than memory' and 'Dask' blocks read."""
    import pandas as pd
    rng = np.random.default_rng(1)
    X, y = _table(rng)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    (folder / "data").mkdir()
    frame.iloc[:100].assign(id=np.arange(100)).to_parquet(folder / "data" / "part0.parquet")
    frame.iloc[100:].assign(id=np.arange(100, 200)).to_parquet(folder / "data" / "part1.parquet")
    frame.to_csv(folder / "big.csv", index=False)
    frame.to_parquet(folder / "any.parquet")
    np.savez(folder / "table.npz", **{c: frame[c].to_numpy() for c in frame},
             w=rng.uniform(0.5, 2.0, size=len(frame)))
    shutil.copyfile(PENGUINS, folder / "penguins.csv")
    from sklearn.datasets import dump_svmlight_file
    dump_svmlight_file(X, y, str(folder / "data.svm"), zero_based=False)


def test_readme_has_the_blocks_this_test_runs():
    assert len(blocks("python")) >= 5
    assert any(b.lstrip().startswith("linreg fit") for b in blocks(""))


def test_every_python_block_runs_and_prints_what_it_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _make_files(tmp_path)
    namespace: dict = {"__name__": "readme"}
    checked = 0
    for code in blocks("python"):
        if "from dask.distributed import Client" in code:
            pytest.importorskip("dask.distributed")
            # the README's cluster address stands for any cluster: here an in-process one
            code = code.replace('Client("tcp://scheduler:8786")', 'Client(processes=False, dashboard_address=None)')
            assert "Client(processes=False, dashboard_address=None)" in code
            if "from linreg import LinearRegression" not in code:
                code = "from linreg import LinearRegression\n" + code
        if "model.partial_fit(X_chunk" in code:
            import pandas as pd
            from linreg import LinearRegression
            rng = np.random.default_rng(2)
            X_chunk, namespace["y_chunk"] = _table(rng, 50)
            namespace["X_chunk"] = pd.DataFrame(X_chunk, columns=["a", "b", "c"])
            X_other, y_other = _table(rng, 80)
            namespace["other_model"] = LinearRegression().fit(
                pd.DataFrame(X_other, columns=["a", "b", "c"]), y_other)
        for statement, shown in _split_shown(code):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(statement, str(README), "exec"), namespace)  # noqa: S102 - our own README
            if shown is not None:
                assert out.getvalue().rstrip("\n") == shown, statement
                checked += 1
        if "Client(processes=False, dashboard_address=None)" in code:
            namespace["client"].close()
    assert checked >= 2


def _split_shown(code: str):
    """The block cut after each line that shows its output: (code, shown text or None)."""
    lines, pieces = [], []
    for line in code.splitlines():
        lines.append(line)
        match = SHOWN.search(line)
        if match:
            pieces.append(("\n".join(lines), match.group(1).rstrip()))
            lines = []
    if lines:
        pieces.append(("\n".join(lines), None))
    return pieces


def test_quick_start_summary_is_readable():
    """The quick start's table: every coefficient row has its seven columns apart, and a closed
    form is not said to be an unconverged iterative solver."""
    code = next(b for b in blocks("python") if "## " not in b and "model.summary()" in b)
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace('model.save("model.json")\nsame = linreg.load("model.json")', ""),
             namespace)
    text = out.getvalue()
    rows = [line.split() for line in text.splitlines()
            if line.split() and line.split()[0] in ("intercept", "x0", "x1", "x2")]
    assert len(rows) == 4 and all(len(r) == 7 for r in rows), text
    assert "has not converged" not in text


def test_command_line_block_runs(tmp_path, monkeypatch):
    import pandas as pd
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(3)
    for name in ("houses.csv", "new.csv", "test.csv", "train.csv"):
        X = rng.normal(size=(60, 2))
        price = X @ [2.0, -1.0] + 5.0 + 0.1 * rng.normal(size=60)
        pd.DataFrame({"id": np.arange(60), "a": X[:, 0], "b": X[:, 1], "w": rng.uniform(1, 2, 60),
                      "price": price}).to_csv(name, index=False)
    Path("train.csv").write_bytes(Path("houses.csv").read_bytes())  # what model.json was fitted on
    block = next(b for b in blocks("") if b.lstrip().startswith("linreg fit"))
    ran = 0
    for line in block.splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        argv = shlex.split(command)
        assert argv[0] == "linreg"
        out, err = io.StringIO(), io.StringIO()
        status = linreg.cli.main(argv[1:], stdout=out, stderr=err)
        assert status == 0, (command, err.getvalue())
        ran += 1
    assert ran >= 7
    assert Path("fit.png").stat().st_size > 0 and Path("diabetes.png").stat().st_size > 0


def test_svmlight_command_block_runs(tmp_path, monkeypatch):
    """The svmlight block of *Command line* (indented in its list item), on files written
    by scikit-learn's ``dump_svmlight_file``."""
    import re

    import scipy.sparse as sp
    from sklearn.datasets import dump_svmlight_file
    monkeypatch.chdir(tmp_path)
    text = README.read_text(encoding="utf-8")
    block = re.search(r"\n  ```\n(  linreg fit train\.svm.*?)\n  ```\n", text, re.S).group(1)
    rng = np.random.default_rng(5)
    X = sp.random(200, 30, density=0.3, format="csr", random_state=6)
    dump_svmlight_file(X, X @ rng.standard_normal(30) + 1.0, "train.svm", zero_based=False)
    dump_svmlight_file(X[:40], rng.standard_normal(40), "test.svm", zero_based=False)
    ran = 0
    for line in block.splitlines():
        argv = shlex.split(line.split("#")[0])
        if not argv:
            continue
        out, err = io.StringIO(), io.StringIO()
        assert linreg.cli.main(argv[1:], stdout=out, stderr=err) == 0, (line, err.getvalue())
        ran += 1
    assert ran == 4 and len(Path("predictions.csv").read_text().splitlines()) == 41


def test_console_block_prints_what_it_shows(tmp_path, monkeypatch):
    """The ``console`` block: each ``$ linreg …`` line runs through :func:`linreg.cli.main` in
    a folder holding the bundled penguins, and prints (standard output, then standard error)
    exactly the lines below it, the seconds of a fit aside."""
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(PENGUINS, "penguins.csv")
    (block,) = blocks("console")
    commands = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            commands[-1][1].append(line)
    assert len(commands) >= 3
    for command, shown in commands:
        argv = shlex.split(command)
        assert argv[0] == "linreg"
        out, err = io.StringIO(), io.StringIO()
        status = linreg.cli.main(argv[1:], stdout=out, stderr=err)
        printed = (out.getvalue() + err.getvalue()).rstrip("\n")
        assert status == 0 or printed.startswith(f"linreg {argv[1]}: error:"), (command, printed)
        assert SECONDS.sub(" in … s;", printed) == SECONDS.sub(" in … s;", "\n".join(shown)), command
