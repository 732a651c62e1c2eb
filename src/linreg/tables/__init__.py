"""Tables: categorical columns, missing values and formulas.

A table is rows plus an encoding applied block by block (see ``docs/architecture.md``).
"""
