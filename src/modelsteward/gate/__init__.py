"""The adoption gate: fetch a model at a pinned revision, check it, decide by policy, register it.

The public API is :func:`admit` and :func:`verify`, and the values they return.
"""

from modelsteward.gate._admit import AdmitError, Outcome, admit
from modelsteward.gate._verify import Verification, verify

__all__ = ["AdmitError", "Outcome", "Verification", "admit", "verify"]
