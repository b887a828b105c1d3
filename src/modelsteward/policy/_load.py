"""Reading a policy file: YAML with every error located at its line and column."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from modelsteward._yamlfile import (
    Document,
    Issue,
    IssueError,
    Loc,
    describe,
    did_you_mean,
    dotted,
    parse_yaml,
    read_text,
)
from modelsteward.policy._model import (
    COLLECTING,
    Contradiction,
    LicenseRules,
    Policy,
    RejectFrom,
    ReviewAbove,
    licence_contradictions,
    severity_contradictions,
)

Section = TypeVar("Section", bound=BaseModel)

PolicyIssue = Issue
"""One thing wrong with a policy file, and where."""


class PolicyError(IssueError):
    """A policy file that cannot be used, with every issue found in it."""


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file at ``path``; raise :class:`PolicyError` listing every issue."""
    return parse_policy(read_text(path, PolicyError), filename=str(path))


def parse_policy(text: str, *, filename: str) -> Policy:
    """Validate the policy in ``text``, naming ``filename`` in errors; raise :class:`PolicyError`."""
    document = parse_yaml(
        text,
        filename,
        empty="the policy is empty; it needs at least version: 1 and a name",
        error=PolicyError,
    )
    issues = list(document.issues)
    try:
        policy = Policy.model_validate(document.data, context=COLLECTING)
    except ValidationError as error:
        issues += [_issue(detail, document) for detail in error.errors()]
    issues += [_contradiction_issue(found, document) for found in _contradictions(document.data)]
    if issues:
        raise PolicyError(issues)
    policy._digest = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return policy


def default_policy() -> Policy:
    """The built-in policy, used when none is given: every field at its documented default."""
    policy = Policy(version=1, name="default")
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    policy._digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return policy


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a policy file, for editors and other tools."""
    schema = Policy.model_json_schema()
    schema["title"] = "ModelSteward policy"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _contradictions(raw: object) -> Iterator[Contradiction]:
    """The contradictions among the sections that are valid on their own, whatever else is wrong.

    Each section is validated again by itself: a policy with any error has no sections to read.
    """
    licence = _section(raw, "license", LicenseRules)
    if licence is not None:
        yield from licence_contradictions(licence)
    review, reject = _section(raw, "max_severity", ReviewAbove), _section(raw, "reject_severity", RejectFrom)
    if review is not None and reject is not None:
        yield from severity_contradictions(review, reject)


def _section(raw: object, key: str, model: type[Section]) -> Section | None:
    """The section ``key`` of ``raw`` (its defaults when absent), or None when it is not valid."""
    if not isinstance(raw, Mapping):
        return None
    try:
        return model.model_validate(raw.get(key, {}), context=COLLECTING)
    except ValidationError:
        return None


def _contradiction_issue(found: Contradiction, document: Document) -> Issue:
    return document.issue(found.at, f"{dotted(found.at)} {found.message} (got {describe(found.got)})")


def _issue(detail: ErrorDetails, document: Document) -> Issue:
    context = detail.get("ctx") or {}
    loc: Loc = (*detail["loc"], *context.get("at", ()))
    kind = detail["type"]
    if kind == "extra_forbidden":
        return document.issue(loc, _unknown_key(loc), key=True)
    if kind == "policy":  # raised by the schema's own validators, already worded to follow the path
        value = context["got"] if "at" in context else detail["input"]
        return document.issue(loc, f"{dotted(loc) or 'the policy'} {detail['msg']} (got {describe(value)})")
    return document.validation_issue(detail, loc=loc, whole="the policy")


def _unknown_key(loc: Loc) -> str:
    """``<path> is not a policy key``, the keys allowed there, and the closest one."""
    model: type[BaseModel] = Policy
    parts = iter(loc[:-1])
    for part in parts:
        annotation = model.model_fields[str(part)].annotation
        if get_origin(annotation) is dict:
            # A section keyed by names (promotion.<alias>): its entries are the value type.
            annotation = get_args(annotation)[1]
            if next(parts, None) is None:
                break
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    allowed = list(model.model_fields)
    where = f"the keys of {dotted(loc[:-1])}" if len(loc) > 1 else "the top-level keys"
    hint = did_you_mean(str(loc[-1]), allowed)
    return f"{dotted(loc)} is not a policy key{hint}; {where} are {', '.join(allowed)}"
