"""Run every benchmark, one process each, and collect the tables in benchmarks/results/.

    python benchmarks/run.py            # full size (as reported in the README)
    python benchmarks/run.py --quick    # small data: only checks the scripts work
    python benchmarks/run.py core sgd   # only bench_core.py and bench_sgd.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = [a for a in argv if not a.startswith("--")]
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only]
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        args = [sys.executable, str(script)] + (["--quick"] if quick else [])
        proc = subprocess.run(args, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode:
            failed += 1
            print(proc.stderr, file=sys.stderr)
        (out / f"{script.stem}.md").write_text(proc.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
