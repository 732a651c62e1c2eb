"""The command-line tool (thin: parses, calls the library, prints)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    from .demo import run_demo
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demo"]:
        return run_demo()
    print("usage: linreg demo", file=sys.stderr)
    return 2
