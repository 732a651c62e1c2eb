"""What every command shares about failing: the exit statuses and :class:`CommandError`.

Standard library only: :func:`linreg.cli.main` needs these before it knows which command runs.
"""

__all__ = ["OK", "FAILED", "USAGE", "INTERNAL", "CommandError", "UsageError"]

#: exit statuses
OK, FAILED, USAGE, INTERNAL = 0, 1, 2, 3


class CommandError(Exception):
    """A failure the user can fix (bad file, column or option): reported as one line."""


class UsageError(CommandError):
    """Options that do not go together (found after parsing): reported as the parser reports
    its errors, exit status :data:`USAGE`."""
