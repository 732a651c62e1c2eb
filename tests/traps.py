"""A pickle that proves code ran: shared by the tests that show linreg never unpickles."""

from __future__ import annotations

from pathlib import Path


class PickleTrap:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))
