"""The adoption gate: fetch a model at a pinned revision, check it, decide by policy, register it.

The public API is :func:`admit`, :func:`verify`, :func:`evaluate_model` and :func:`compare_models`,
and the values they return.
"""

from modelsteward.gate._admit import AdmitError, Outcome, admit
from modelsteward.gate._evaluate import Evaluated, EvaluationRequest, compare_models, evaluate_model
from modelsteward.gate._verify import Verification, verify

__all__ = [
    "AdmitError",
    "Evaluated",
    "EvaluationRequest",
    "Outcome",
    "Verification",
    "admit",
    "compare_models",
    "evaluate_model",
    "verify",
]
