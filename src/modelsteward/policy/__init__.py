"""The policy: an enterprise's rules in a validated YAML file, and the decision they make.

The public API is :func:`load_policy`, :func:`parse_policy` and :func:`default_policy`, which give
a :class:`Policy`; :func:`evaluate`, which applies it to an assessment; and
:func:`policy_json_schema`, the schema of the file.
"""

from modelsteward.policy._evaluate import evaluate
from modelsteward.policy._load import (
    PolicyError,
    PolicyIssue,
    default_policy,
    load_policy,
    parse_policy,
    policy_json_schema,
)
from modelsteward.policy._model import LICENSE_CLASSES, Policy

__all__ = [
    "LICENSE_CLASSES",
    "Policy",
    "PolicyError",
    "PolicyIssue",
    "default_policy",
    "evaluate",
    "load_policy",
    "parse_policy",
    "policy_json_schema",
]
