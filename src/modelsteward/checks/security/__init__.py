"""Security audit of every file of a model: weights, archives, configs, templates, shipped code.

The public API is :func:`scan` and the values it returns, and :func:`run`, the scan as a check of
the gate; format scanners are internal.
"""

from modelsteward.checks.security._check import run
from modelsteward.checks.security._context import Limits, ScanOptions
from modelsteward.checks.security._scan import FileReport, ScanReport, scan

__all__ = ["FileReport", "Limits", "ScanOptions", "ScanReport", "run", "scan"]
