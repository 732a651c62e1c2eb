"""What every command shares about failing: the exit statuses and :class:`CommandError`.

Standard library only: :func:`linreg.cli.main` needs these before it knows which command runs.
"""

__all__ = ["OK", "FAILED", "USAGE", "INTERNAL", "CommandError"]

#: exit statuses
OK, FAILED, USAGE, INTERNAL = 0, 1, 2, 3


class CommandError(Exception):
    """A failure the user can fix (bad file, column or option): reported as one line."""
