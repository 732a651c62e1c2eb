"""The Palmer penguins table (CC0) that linreg ships (src/linreg/data/penguins.csv): the same
344 rows as the ``palmerpenguins`` package's ``load_penguins()``, read by pandas."""

from __future__ import annotations

from importlib import resources


def load_penguins():
    import pandas as pd
    with resources.as_file(resources.files("linreg") / "data" / "penguins.csv") as path:
        return pd.read_csv(path)
