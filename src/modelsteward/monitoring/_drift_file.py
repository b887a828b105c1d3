"""The drift settings file: thresholds per kind and per column, and the other drift settings, in YAML.

A drift settings file is validated with every error located at its ``file:line:col``, as every YAML
file ModelSteward reads (:mod:`modelsteward._yamlfile`). Its bounds are :class:`DriftSettings`' own:
each value is checked by giving it to ``DriftSettings``, so they are stated in one place. See
docs/drift.md.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationError, ValidationInfo
from pydantic_core import ErrorDetails, PydanticCustomError

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
from modelsteward.monitoring._drift import KINDS, ColumnOverride, DriftSettings, Kind
from modelsteward.monitoring._event import INPUT, OUTPUT

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)
_DEFAULTS = DriftSettings()
# parse_yaml refuses a file without a document with this message; here such a file means the defaults.
_NO_DOCUMENT = "the file is empty"


class DriftSettingsError(IssueError):
    """A drift settings file that cannot be used, with every issue found in it."""


def load_drift_settings(path: Path) -> DriftSettings:
    """Read and validate the drift settings file at ``path``; raise :class:`DriftSettingsError`."""
    return parse_drift_settings(read_text(path, DriftSettingsError), filename=str(path))


def parse_drift_settings(text: str, *, filename: str) -> DriftSettings:
    """The drift settings in ``text``, naming ``filename`` in errors; raise :class:`DriftSettingsError`.

    A file without a document (empty, or comments only) gives the defaults.
    """
    try:
        document = parse_yaml(text, filename, empty=_NO_DOCUMENT, error=DriftSettingsError)
    except DriftSettingsError as error:
        if [issue.message for issue in error.issues] == [_NO_DOCUMENT]:
            return _DEFAULTS
        raise
    issues = list(document.issues)
    try:
        # A bare ``---`` is a document whose value is null: as empty as no document at all.
        parsed = _DriftFile.model_validate({} if document.data is None else document.data)
    except ValidationError as error:
        issues += [_issue(detail, document) for detail in error.errors()]
        raise DriftSettingsError(issues) from None
    if issues:
        raise DriftSettingsError(issues)
    overrides = {name: ColumnOverride(c.kind, c.threshold) for name, c in parsed.columns.items()}
    return replace(_DEFAULTS, **parsed.model_dump(exclude={"columns"}), overrides=overrides)


def _requirement(error: ValueError) -> str:
    """``DriftSettings``' message without the name of the value it refused: ``must be ... (got ...)``."""
    message = str(error)
    return message[message.index("must ") :]


def _accepted(value: float, info: ValidationInfo) -> float:
    """``value``, if ``DriftSettings`` accepts it for the field of the same name."""
    change: dict[str, Any] = {str(info.field_name): value}
    try:
        replace(_DEFAULTS, **change)
    except ValueError as error:
        raise PydanticCustomError("drift", _requirement(error)) from None
    return value


def _accepted_threshold(value: float) -> float:
    """``value``, if ``DriftSettings`` accepts it as a column's threshold."""
    try:
        replace(_DEFAULTS, overrides={"column": ColumnOverride(threshold=value)})
    except ValueError as error:
        raise PydanticCustomError("drift", _requirement(error)) from None
    return value


def _column(name: str) -> str:
    # The monitor compares only these columns: an override of any other would never apply, silently.
    if name.startswith((INPUT, OUTPUT)) and name not in (INPUT, OUTPUT):
        return name
    raise PydanticCustomError(
        "drift",
        f"is not a column the monitor compares: name it {INPUT}<field> or {OUTPUT}<field>,"
        " as the event store does",
    )


_Number = Annotated[float, Field(strict=True), AfterValidator(_accepted)]
_Whole = Annotated[int, Field(strict=True), AfterValidator(_accepted)]


class _Column(BaseModel):
    """One column's entry under ``columns``."""

    model_config = _CONFIG

    kind: Kind | None = None
    """Compare the column as this kind instead of the one inferred."""
    threshold: Annotated[float, Field(strict=True), AfterValidator(_accepted_threshold)] | None = None
    """The column's own threshold instead of its kind's."""


class _DriftFile(BaseModel):
    """The drift settings file; each key is the ``DriftSettings`` field of the same name."""

    model_config = _CONFIG

    numeric_threshold: _Number = _DEFAULTS.numeric_threshold
    categorical_threshold: _Number = _DEFAULTS.categorical_threshold
    text_threshold: _Number = _DEFAULTS.text_threshold
    embedding_threshold: _Number = _DEFAULTS.embedding_threshold
    sample: _Whole = _DEFAULTS.sample
    alpha: _Number = _DEFAULTS.alpha
    share: _Number = _DEFAULTS.share
    seed: _Whole = _DEFAULTS.seed
    columns: dict[Annotated[StrictStr, AfterValidator(_column)], _Column] = Field(default_factory=dict)
    """Column name (``input.age``) -> its kind or threshold: ``DriftSettings.overrides``."""


def _issue(detail: ErrorDetails, document: Document) -> Issue:
    loc = detail["loc"]
    kind = detail["type"]
    if kind == "extra_forbidden":
        return document.issue(loc, _unknown_key(loc), key=True)
    if loc[-1:] == ("[key]",):  # a column's name: placed at it
        name = loc[:-1]
        if kind == "drift":
            return document.issue(name, f"{dotted(name)} {detail['msg']}", key=True)
        message = f"{dotted(name[:-1])} has a key that is not text (got {describe(detail['input'])})"
        return document.issue(name, message, key=True)
    if kind == "drift":  # raised by this module's validators: worded already, but for the path
        return document.issue(loc, f"{dotted(loc)} {detail['msg']}")
    issue = document.validation_issue(detail)
    if kind == "literal_error":  # the only literal is a column's kind
        return replace(issue, message=issue.message + did_you_mean(str(detail["input"]), KINDS))
    return issue


def _unknown_key(loc: Loc) -> str:
    """``<path> is not a key of ...``, the keys allowed there, and the closest one."""
    model = _Column if len(loc) > 1 else _DriftFile
    owner = "a column's settings" if len(loc) > 1 else "the drift settings file"
    allowed = tuple(model.model_fields)
    hint = did_you_mean(str(loc[-1]), allowed)
    return f"{dotted(loc)} is not a key of {owner}{hint}; its keys are {', '.join(allowed)}"
