"""Licence detection and classification: which licence a model is under, and what it obliges.

The licence table and the text fingerprints are data (``modelsteward/data/licenses/``); the
public API is :func:`run` (the check), :func:`detect` and :func:`classify` (its two halves) and
the table's values.
"""

from modelsteward.checks.license._check import run
from modelsteward.checks.license._classify import Classification, Unresolved, classify
from modelsteward.checks.license._detect import Declaration, Origin, detect
from modelsteward.checks.license._table import License, LicenseClass, LicenseTable, Obligation, load_table

__all__ = [
    "Classification",
    "Declaration",
    "License",
    "LicenseClass",
    "LicenseTable",
    "Obligation",
    "Origin",
    "Unresolved",
    "classify",
    "detect",
    "load_table",
    "run",
]
