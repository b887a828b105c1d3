"""Containers: zip (with PyTorch's leniency), tar, compressed streams and 7z.

Every member is scanned as a file of its own through :meth:`Context.nested`, whatever its name.
"""

from modelsteward.checks.security.archive._compressed import scan_compressed
from modelsteward.checks.security.archive._sevenzip import scan_7z
from modelsteward.checks.security.archive._tar import scan_tar
from modelsteward.checks.security.archive._zip import scan_zip

__all__ = ["scan_7z", "scan_compressed", "scan_tar", "scan_zip"]
