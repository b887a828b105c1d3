"""Hugging Face transformers pipelines: text classification, token classification, text generation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelsteward.checks.performance.adapters._base import (
    AdapterError,
    Batch,
    Entity,
    ModelDescription,
    Operation,
    Prediction,
)
from modelsteward.checks.performance.adapters._detect import (
    declared_architectures,
    pipeline_task,
    unsupported_head,
)
from modelsteward.checks.performance.adapters._hub import stay_offline
from modelsteward.checks.performance.adapters._options import Options

TASK_OPERATIONS = {
    "text-classification": Operation.CLASSIFY,
    "token-classification": Operation.TAG,
    "text-generation": Operation.GENERATE,
}
"""The pipeline tasks the adapter runs, and the operation each one serves."""

# The AutoModel class that loads each task's head.
_MODEL_CLASSES = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "text-generation": "AutoModelForCausalLM",
}
# Generation settings a batch may override (its ``options``), over those given at load.
_GENERATION = frozenset({"max_new_tokens", "system_prompt", "temperature"})


class TransformersAdapter:
    """Runs one pipeline over a model directory, or over a GGUF file in it, on the CPU."""

    name: ClassVar[str] = "transformers"
    _OPTIONS: ClassVar[frozenset[str]] = frozenset(
        {"task", "file", "trust_remote_code", "batch_size", "threads"} | _GENERATION
    )

    def __init__(self) -> None:
        self._pipeline: Any = None
        self._task = ""
        self._options = Options(self.name, {})
        self._chat = False

    def load(self, root: Path, options: Mapping[str, Any]) -> ModelDescription:
        """Load the model and its tokenizer into a pipeline.

        Options: ``task`` (default: from config.json's architectures); ``file`` (a GGUF file to load
        instead of the directory's weights); ``trust_remote_code`` (default false); ``batch_size``
        (default 8); ``threads``; for generation ``max_new_tokens`` (default 64), ``system_prompt`` and
        ``temperature`` (default 0: greedy).
        """
        stay_offline()
        import torch  # noqa: PLC0415 - heavy; only for transformers models
        import transformers  # noqa: PLC0415

        read = Options.read(self.name, options, self._OPTIONS)
        self._generation_settings(read)  # fail on bad generation options now, not at the first batch
        gguf = read.text("file")
        task = read.text("task") or _task_of(root, gguf)
        if task not in TASK_OPERATIONS:
            raise AdapterError(
                f"transformers option 'task' must be one of {', '.join(TASK_OPERATIONS)} (got {task!r})"
            )
        if "threads" in read.values:
            torch.set_num_threads(read.integer("threads", 1))
        common: dict[str, Any] = {
            "trust_remote_code": read.boolean("trust_remote_code", False),
            "local_files_only": True,
        }
        if gguf is not None:
            common["gguf_file"] = gguf
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(root, **common)
            model = getattr(transformers, _MODEL_CLASSES[task]).from_pretrained(root, **common)
        except (OSError, ValueError, KeyError) as error:
            raise AdapterError(f"transformers cannot load {gguf or root}: {error}") from None
        model.eval()
        if task == "text-generation":
            # Batched generation pads on the left, so every prompt ends where its continuation begins.
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
        self._chat = bool(getattr(tokenizer, "chat_template", None))
        make_pipeline: Callable[..., Any] = transformers.pipeline  # its overloads want a literal task
        self._pipeline = make_pipeline(task, model=model, tokenizer=tokenizer, device="cpu")
        self._task, self._options = task, read
        classes = _classes(model.config) if task == "text-classification" else ()
        return ModelDescription(
            adapter=self.name,
            framework=f"transformers {transformers.__version__}, torch {torch.__version__}",
            operations=(TASK_OPERATIONS[task],),
            classes=classes,
            parameters=int(model.num_parameters()),
            details={
                "task": task,
                "architecture": type(model).__name__,
                "model_type": str(model.config.model_type),
                "gguf_file": gguf,
                "chat_template": self._chat,
                "labels": list(_classes(model.config)) if task == "token-classification" else [],
            },
        )

    def predict(self, batch: Batch) -> Prediction:
        """Run the pipeline over the batch's texts."""
        if self._pipeline is None:
            raise AdapterError("no model is loaded")
        operation = TASK_OPERATIONS[self._task]
        if batch.operation is not operation:
            raise AdapterError(f"this {self._task} model can {operation}, not {batch.operation}")
        if batch.texts is None:
            raise AdapterError("the transformers adapter takes texts, not numeric features")
        texts = list(batch.texts)
        size = self._options.integer("batch_size", 8)
        if operation is Operation.CLASSIFY:
            return self._classify(texts, size)
        if operation is Operation.TAG:
            rows = self._pipeline(texts, aggregation_strategy="simple", batch_size=size)
            return Prediction(entities=tuple(_entities(row) for row in rows))
        return self._generate(texts, size, batch.options)

    def _classify(self, texts: list[str], size: int) -> Prediction:
        classes = _classes(self._pipeline.model.config)
        column = {label: index for index, label in enumerate(classes)}
        rows = self._pipeline(texts, top_k=None, batch_size=size, truncation=True)
        scores = np.zeros((len(texts), len(classes)), dtype=np.float64)
        for index, row in enumerate(rows):
            for item in row:
                scores[index, column[item["label"]]] = item["score"]
        labels = tuple(classes[index] for index in scores.argmax(axis=1))
        return Prediction(labels=labels, scores=scores, classes=classes)

    def _generate(self, texts: list[str], size: int, overrides: Mapping[str, Any]) -> Prediction:
        unknown = sorted(set(overrides) - _GENERATION)
        if unknown:
            raise AdapterError(
                f"a generation batch takes options {', '.join(sorted(_GENERATION))}, not {unknown}"
            )
        settings = self._generation_settings(Options(self.name, {**self._options.values, **overrides}))
        system = settings.pop("system_prompt")
        prompts: list[Any] = texts
        if self._chat:
            preamble = [{"role": "system", "content": system}] if system else []
            prompts = [[*preamble, {"role": "user", "content": text}] for text in texts]
        elif system:
            prompts = [f"{system}\n\n{text}" for text in texts]
        rows = self._pipeline(prompts, return_full_text=False, batch_size=size, **settings)
        return Prediction(texts=tuple(str(row[0]["generated_text"]) for row in rows))

    @staticmethod
    def _generation_settings(read: Options) -> dict[str, Any]:
        temperature = read.number("temperature", 0.0)
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature} if temperature else {"do_sample": False}
        )
        return {
            "max_new_tokens": read.integer("max_new_tokens", 64),
            "system_prompt": read.text("system_prompt"),
            **sampling,
        }


def _task_of(root: Path, gguf: str | None) -> str:
    """The task config.json's architectures call for; a GGUF file holds a causal language model."""
    if gguf is not None:
        return "text-generation"
    architectures = declared_architectures(root / "config.json")
    task = pipeline_task(architectures)
    if task is None:
        raise AdapterError(f"{unsupported_head(architectures)}; give the `task` option")
    return task


def _classes(config: Any) -> tuple[str, ...]:
    """The model's labels in the order of its output columns."""
    return tuple(str(config.id2label[index]) for index in sorted(config.id2label))


def _entities(row: list[dict[str, Any]]) -> tuple[Entity, ...]:
    found = []
    for item in row:
        if item.get("start") is None or item.get("end") is None:
            raise AdapterError(
                "the tokenizer gives no character offsets; a fast tokenizer is needed to tag entities"
            )
        found.append(Entity(str(item["entity_group"]), int(item["start"]), int(item["end"])))
    return tuple(found)
