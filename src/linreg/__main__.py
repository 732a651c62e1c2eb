"""``python -m linreg ...``: the command-line tool (see :mod:`linreg.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
