"""Which adapter loads a model directory, judged by the files in it, and which file it loads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from modelsteward.checks.performance.adapters._base import AdapterError

SKLEARN_SUFFIXES = (".skops", ".joblib", ".pkl", ".pickle")
"""Files the sklearn adapter loads: skops, joblib and plain pickles."""

SENTENCE_TRANSFORMERS_MARKERS = ("modules.json", "sentence_bert_config.json")

# Hugging Face architecture names end in the head they carry; the head decides the pipeline.
_HEAD_TASKS = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
)
_LISTED_FILES = 20


@dataclass(frozen=True, slots=True)
class Detection:
    """The adapter a directory's files call for."""

    adapter: str
    file: str | None = None
    """The model file inside the directory, for adapters that load one file (``model.onnx``, a GGUF)."""
    task: str | None = None
    """The transformers pipeline task (``text-classification``, ...)."""

    @property
    def options(self) -> dict[str, str]:
        """The adapter options that load exactly what was detected."""
        found = {"file": self.file, "task": self.task}
        return {name: value for name, value in found.items() if value is not None}


def detect_adapter(root: Path) -> Detection:
    """Pick the adapter for the model in ``root`` from the files at its top level.

    Raises :class:`AdapterError`, naming the files seen, when no adapter fits or several do.
    """
    if not root.is_dir():
        raise AdapterError(f"{root} is not a directory of model files")
    names = sorted(path.name for path in root.iterdir() if path.is_file())
    candidates: list[Detection] = []
    unsupported = ""
    if any(marker in names for marker in SENTENCE_TRANSFORMERS_MARKERS):
        candidates.append(Detection("sentence-transformers"))
    elif "config.json" in names:
        architectures = declared_architectures(root / "config.json")
        task = pipeline_task(architectures)
        if task is None:
            unsupported = f" ({unsupported_head(architectures)})"
        else:
            candidates.append(Detection("transformers", task=task))
    candidates += [Detection("onnx", file=name) for name in names if name.endswith(".onnx")]
    candidates += [Detection("sklearn", file=name) for name in names if name.endswith(SKLEARN_SUFFIXES)]
    if not any(candidate.adapter == "transformers" for candidate in candidates):
        gguf = [
            Detection("transformers", file=name, task="text-generation")
            for name in names
            if name.endswith(".gguf")
        ]
        candidates += gguf
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        found = ", ".join(f"{c.file or c.task or 'the directory'} ({c.adapter})" for c in candidates)
        raise AdapterError(
            f"{root} holds several models: {found}; choose one with --adapter and its `file` option"
        )
    raise AdapterError(
        f"no adapter recognises the model in {root}{unsupported}; files seen: {_listing(names)}; "
        "name one with --adapter"
    )


def pipeline_task(architectures: tuple[str, ...]) -> str | None:
    """The transformers pipeline that runs a model of these architectures, or None."""
    for architecture in architectures:
        for head, task in _HEAD_TASKS:
            if architecture.endswith(head):
                return task
    return None


def unsupported_head(architectures: tuple[str, ...]) -> str:
    """Why no pipeline runs a model of these architectures, for error messages."""
    return f"config.json declares {', '.join(architectures) or 'no architectures'}, a head no pipeline runs"


def model_file(root: Path, name: str | None, suffixes: tuple[str, ...], adapter: str) -> Path:
    """The file an adapter loads: ``name`` if given, else the one file in ``root`` ending in a suffix."""
    if name is not None:
        path = (root / name).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise AdapterError(f"{adapter} option 'file': {name!r} is not a file inside {root}")
        return path
    found = sorted(path for path in root.iterdir() if path.is_file() and path.name.endswith(suffixes))
    if len(found) != 1:
        seen = _listing([path.name for path in found]) if found else "none"
        raise AdapterError(
            f"the {adapter} adapter needs exactly one {'/'.join(suffixes)} file in {root} (found {seen}); "
            "name it with the `file` option"
        )
    return found[0]


def declared_architectures(config: Path) -> tuple[str, ...]:
    """The ``architectures`` a Hugging Face config.json lists; :class:`AdapterError` if it is unreadable."""
    try:
        document = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AdapterError(f"{config} is not readable JSON: {error}") from None
    listed = document.get("architectures") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        return ()
    return tuple(item for item in listed if isinstance(item, str))


def _listing(names: list[str]) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:_LISTED_FILES])
    return shown if len(names) <= _LISTED_FILES else f"{shown} and {len(names) - _LISTED_FILES} more"
