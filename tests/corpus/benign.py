"""Benign samples: every kind of real checkpoint, written by the library that writes them.

Where the library is not installed (transformers, ultralytics), its classes are mimicked under
their real module names and the real pickler writes them, so the streams have the same shape as
the files those libraries publish. Builders ignore the canary: nothing here is a payload.
"""

from __future__ import annotations

import argparse
import enum
import io
import json
import os
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tests.corpus.files import foreign_modules, gguf_with_template, torch_bytes, via_file
from tests.corpus.registry import Output, Registry

BENIGN = Registry("benign")


def add(name: str, kind: str, build: Callable[[], Output]) -> None:
    """Register a builder that needs no canary."""
    BENIGN.add(name, kind, lambda _canary: build())


def sample(name: str, kind: str) -> Callable[[Callable[[], Output]], Callable[[], Output]]:
    """Decorator form of :func:`add`."""

    def register(build: Callable[[], Output]) -> Callable[[], Output]:
        add(name, kind, build)
        return build

    return register


# --- torch ---------------------------------------------------------------------------------------


def _mlp() -> Any:
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))


def _linear() -> Any:
    from torch import nn

    return nn.Linear(4, 2)


def _convnet() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 2)
    )


def _trained_state() -> dict[str, Any]:
    import torch

    model = _mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.ones(2, 8)).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}


_TORCH: dict[str, tuple[str, Callable[[], object], bool]] = {
    "torch_state_dict.pt": ("torch.save(model.state_dict())", lambda: _mlp().state_dict(), False),
    "torch_full_sequential.pt": ("torch.save(nn.Sequential)", _mlp, False),
    "torch_full_linear.pt": ("torch.save(nn.Linear)", _linear, False),
    "torch_full_convnet.pt": ("torch.save(conv net module)", _convnet, False),
    "torch_optimizer_state.pt": ("checkpoint with model, Adam state and epoch", _trained_state, False),
    "torch_legacy_state_dict.pt": ("legacy (non-zip) torch.save", lambda: _mlp().state_dict(), True),
    "torch_namespace_args.pt": (
        "checkpoint with argparse.Namespace args",
        lambda: {
            "state_dict": _mlp().state_dict(),
            "args": argparse.Namespace(lr=0.1, arch="mlp", epochs=90),
        },
        False,
    ),
}


def _torch_saved(make: Callable[[], object], legacy: bool) -> bytes:
    return torch_bytes(make(), legacy=legacy)


for _name, (_kind, _make, _legacy) in _TORCH.items():
    add(_name, _kind, partial(_torch_saved, _make, _legacy))


def _transformer_stack() -> Any:
    from torch import nn

    # Layers whose whole-module pickles hold functions as attributes and nested submodules.
    return nn.Sequential(
        nn.Embedding(10, 8), nn.LayerNorm(8), nn.TransformerEncoderLayer(8, 2, 16), nn.LSTM(8, 8),
        nn.MultiheadAttention(8, 2), nn.GELU(), nn.Dropout(),
    )  # fmt: skip


def _quantized() -> Any:
    import torch

    return torch.ao.quantization.quantize_dynamic(_mlp(), {torch.nn.Linear}, dtype=torch.qint8)  # type: ignore[no-untyped-call]


def _torchscript(trace: bool) -> bytes:
    import torch

    model = _mlp()
    compiled = torch.jit.trace(model, torch.ones(1, 8)) if trace else torch.jit.script(model)  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    torch.jit.save(compiled, buffer)
    return buffer.getvalue()


def _exported() -> bytes:
    import torch

    program = torch.export.export(_mlp(), (torch.ones(2, 8),))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


add(
    "torch_full_transformer.pt",
    "torch.save of a module with attention, LSTM and activations",
    partial(_torch_saved, _transformer_stack, False),
)
add(
    "torch_quantized_full.pt",
    "torch.save of a dynamically quantized module",
    partial(_torch_saved, _quantized, False),
)
add("torchscript_scripted.pt", "torch.jit.save of a scripted module", partial(_torchscript, False))
add("torchscript_traced.pt", "torch.jit.save of a traced module", partial(_torchscript, True))
add("torch_exported.pt2", "torch.export.save of an exported program", _exported)


@sample("model.safetensors", "safetensors.torch.save of a state dict")
def _safetensors() -> bytes:
    from safetensors.torch import save

    return bytes(save(_mlp().state_dict()))


# --- scikit-learn, joblib, skops -----------------------------------------------------------------


def _sklearn_models() -> dict[str, Any]:
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)), np.arange(40) % 2
    models = {
        "logistic_regression": LogisticRegression(),
        "random_forest": RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0),
        "pipeline_scaler": Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0),
    }
    return {name: model.fit(x, y) for name, model in models.items()}


def _joblib(obj: object, compress: object) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(obj, buffer, compress=compress)
    return buffer.getvalue()


def _sklearn_writers() -> dict[str, tuple[str, Callable[[object], bytes]]]:
    writers: dict[str, tuple[str, Callable[[object], bytes]]] = {
        "pkl": ("pickle.dumps", pickle.dumps),
        "joblib": ("joblib.dump", partial(_joblib, compress=0)),
        "z3.joblib": ("joblib.dump compress=3", partial(_joblib, compress=3)),
    }
    for method in ("zlib", "gzip", "bz2", "xz", "lzma"):
        writers[f"{method}.joblib"] = (
            f"joblib.dump compress={method}",
            partial(_joblib, compress=(method, 3)),
        )
    return writers


def _sklearn_written(model_name: str, write: Callable[[object], bytes]) -> bytes:
    return write(_sklearn_models()[model_name])


def _add_sklearn() -> None:
    for model_name in ("logistic_regression", "random_forest", "pipeline_scaler", "gradient_boosting"):
        for suffix, (how, write) in _sklearn_writers().items():
            # Every writer for one model, one writer (each compression) for the others.
            if model_name != "random_forest" and suffix not in ("pkl", "joblib", "z3.joblib"):
                continue
            add(
                f"sklearn_{model_name}.{suffix}",
                f"scikit-learn {model_name.replace('_', ' ')} via {how}",
                partial(_sklearn_written, model_name, write),
            )


_add_sklearn()


@sample("sklearn_logistic_regression.skops", "skops.io.dumps of a scikit-learn model")
def _skops() -> bytes:
    from skops.io import dumps

    return bytes(dumps(_sklearn_models()["logistic_regression"]))


# --- numpy, pandas -------------------------------------------------------------------------------


def _npy(array: Any) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npz(compressed: bool) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(buffer, weights=np.arange(12, dtype=np.float32).reshape(3, 4), labels=np.array(["a", "b"]))
    return buffer.getvalue()


def _object_array() -> object:
    import numpy as np

    array = np.empty(4, dtype=object)
    array[:] = ["cat", 3, {"id": 1, "tags": ["a", "b"]}, (1.5, None)]
    return array


def _float_array() -> object:
    import numpy as np

    return np.linspace(0, 1, 32, dtype=np.float32).reshape(4, 8)


sample("numpy_float.npy", "numpy.save of a float array")(lambda: _npy(_float_array()))
sample("numpy_object_plain.npy", "numpy object array of plain Python values")(lambda: _npy(_object_array()))
sample("numpy_arrays.npz", "numpy.savez")(lambda: _npz(False))
sample("numpy_arrays_compressed.npz", "numpy.savez_compressed")(lambda: _npz(True))


def _frame() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "x": [1.0, 2.5, 3.0],
            "n": [1, 2, 3],
            "label": ["a", "b", "c"],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "flag": [True, False, True],
        }
    )


def _pandas_values() -> dict[str, Any]:
    import pandas as pd

    return {
        "dataframe_mixed": _frame(),
        "series": pd.Series([0.1, 0.2], index=["a", "b"], name="score"),
        "categorical": pd.Series(pd.Categorical(["low", "high", "low"], categories=["low", "high"])),
    }


def _pandas_pickled(value: str) -> bytes:
    return pickle.dumps(_pandas_values()[value])


for _value in ("dataframe_mixed", "series", "categorical"):
    add(
        f"pandas_{_value}.pkl",
        f"pickle.dumps of a pandas {_value.replace('_', ' ')}",
        partial(_pandas_pickled, _value),
    )


@sample("pandas_to_pickle.pkl", "DataFrame.to_pickle")
def _to_pickle() -> bytes:
    buffer = io.BytesIO()
    _frame().to_pickle(buffer)
    return buffer.getvalue()


# --- ONNX, Keras, OpenCV -------------------------------------------------------------------------


@sample("onnx_external_data", "ONNX model with its weights in an external data file")
def _onnx_external() -> Mapping[str, bytes]:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["Y"])],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 64])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    def write(path: Path) -> None:
        onnx.save_model(model, path, save_as_external_data=True, location="model.onnx.data", size_threshold=0)

    with_data: dict[str, bytes] = {}

    def capture(path: Path) -> None:
        write(path)
        with_data["model.onnx.data"] = path.with_name("model.onnx.data").read_bytes()

    with_data["model.onnx"] = via_file(".onnx", capture)
    return with_data


def _keras_dense() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


sample("keras_dense.keras", "Keras 3 Dense model saved as .keras")(
    lambda: via_file(".keras", lambda path: _keras_dense().save(path))
)
sample("keras_dense.h5", "Keras Dense model saved as legacy HDF5")(
    lambda: via_file(".h5", lambda path: _keras_dense().save(path))
)


# opencv-python-headless 5 no longer ships cv2.data.haarcascades' XML files, so the cascade is
# written here in the exact layout of OpenCV's haarcascade_*.xml (new-style cascade storage),
# trimmed to one stage.
HAAR_CASCADE = """<?xml version="1.0"?>
<!--
    Stump-based 24x24 discrete(?) adaboost frontal face detector.
    Created by Rainer Lienhart.

////////////////////////////////////////////////////////////////////////////////////////

  IMPORTANT: READ BEFORE DOWNLOADING, COPYING, INSTALLING OR USING.

  By downloading, copying, installing or using the software you agree to this license.
  If you do not agree to this license, do not download, install,
  copy or use the software.
-->
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>24</height>
  <width>24</width>
  <stageParams>
    <maxWeakCount>2</maxWeakCount></stageParams>
  <featureParams>
    <maxCatCount>0</maxCatCount></featureParams>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-1.4562760591506958e+00</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 0 1.2963959574699402e-01</internalNodes>
          <leafValues>
            -7.7304208278656006e-01 6.8350148200988770e-01</leafValues></_>
        <_>
          <internalNodes>
            0 -1 1 -4.6326808631420135e-02</internalNodes>
          <leafValues>
            5.7352751493453979e-01 -4.9097689986228943e-01</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_>
      <rects>
        <_>
          0 8 20 12 -1.</_>
        <_>
          0 14 20 6 2.</_></rects></_>
    <_>
      <rects>
        <_>
          9 1 4 15 -1.</_>
        <_>
          9 6 4 5 3.</_></rects></_></features></cascade>
</opencv_storage>
"""

sample("haarcascade_frontalface.xml", "OpenCV Haar cascade XML in the layout opencv ships")(
    HAAR_CASCADE.encode
)


# --- chat templates ------------------------------------------------------------------------------

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
    " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% endif %}"
)
CHATML_NAMESPACE_TEMPLATE = (
    "{% set ns = namespace(system=false) %}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set ns.system = true %}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
MISTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)


_TEMPLATES = {"llama3": LLAMA3_TEMPLATE, "chatml": CHATML_NAMESPACE_TEMPLATE, "mistral": MISTRAL_TEMPLATE}

for _family, _template in (("llama3", LLAMA3_TEMPLATE), ("chatml", CHATML_TEMPLATE)):
    add(
        f"gguf_{_family}.gguf",
        f"GGUF with the {_family} chat template",
        partial(gguf_with_template, _template),
    )


def _tokenizer_config(template: str) -> bytes:
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "chat_template": template}
    return json.dumps(config, indent=2).encode()


for _family, _template in _TEMPLATES.items():
    add(
        f"tokenizer_config_{_family}.json",
        f"tokenizer_config.json with the {_family} chat template",
        partial(_tokenizer_config, _template),
    )


# --- libraries we mimic: transformers TrainingArguments, ultralytics YOLO ------------------------


class ExplicitEnum(str, enum.Enum):  # noqa: UP042 - the base transformers' enums use
    """transformers.utils.generic.ExplicitEnum; pickles name only the subclass."""


class IntervalStrategy(ExplicitEnum):
    NO = "no"
    STEPS = "steps"
    EPOCH = "epoch"


class SchedulerType(ExplicitEnum):
    LINEAR = "linear"
    COSINE = "cosine"


class HubStrategy(ExplicitEnum):
    END = "end"
    EVERY_SAVE = "every_save"


class OptimizerNames(ExplicitEnum):
    ADAMW_TORCH = "adamw_torch"


@dataclass
class AcceleratorConfig:
    split_batches: bool = False
    dispatch_batches: bool | None = None
    even_batches: bool = True
    use_seedable_sampler: bool = True


@dataclass
class TrainingArguments:
    output_dir: str = "./results"
    overwrite_output_dir: bool = False
    do_train: bool = True
    do_eval: bool = True
    eval_strategy: IntervalStrategy = IntervalStrategy.STEPS
    per_device_train_batch_size: int = 8
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    num_train_epochs: float = 3.0
    lr_scheduler_type: SchedulerType = SchedulerType.LINEAR
    warmup_ratio: float = 0.0
    logging_dir: str = "./results/runs/May01_10-00-00"
    logging_strategy: IntervalStrategy = IntervalStrategy.STEPS
    logging_steps: int = 500
    save_strategy: IntervalStrategy = IntervalStrategy.STEPS
    save_steps: int = 500
    seed: int = 42
    fp16: bool = False
    optim: OptimizerNames = OptimizerNames.ADAMW_TORCH
    hub_strategy: HubStrategy = HubStrategy.EVERY_SAVE
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    accelerator_config: AcceleratorConfig = field(default_factory=AcceleratorConfig)
    deepspeed: str | None = None


_TRANSFORMERS_CLASSES: dict[type, str] = {
    IntervalStrategy: "transformers.trainer_utils",
    SchedulerType: "transformers.trainer_utils",
    HubStrategy: "transformers.trainer_utils",
    OptimizerNames: "transformers.training_args",
    AcceleratorConfig: "transformers.trainer_pt_utils",
    TrainingArguments: "transformers.training_args",
}


@sample("training_args.bin", "transformers TrainingArguments saved by Trainer (torch.save)")
def _training_args() -> bytes:
    import torch

    for cls, module in _TRANSFORMERS_CLASSES.items():
        cls.__module__ = module
    args = TrainingArguments()
    # Trainer pickles the device cache the dataclass fills in on first use.
    vars(args).update({"_n_gpu": 0, "__cached__setup_devices": torch.device("cpu")})
    with foreign_modules(*_TRANSFORMERS_CLASSES):
        return torch_bytes(args)


def _yolo_classes() -> dict[str, type]:
    """Modules with ultralytics' names and layout (Conv, C2f, Detect in a DetectionModel)."""
    import torch
    from torch import nn

    class Conv(nn.Module):
        def __init__(self, c1: int, c2: int, k: int = 1) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c1, c2, k, padding=k // 2, bias=False)
            self.bn = nn.BatchNorm2d(c2)
            self.act = nn.SiLU()

    class Bottleneck(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), True

    class C2f(nn.Module):
        def __init__(self, c1: int, c2: int) -> None:
            super().__init__()
            self.c = c2 // 2
            self.cv1, self.cv2 = Conv(c1, 2 * self.c), Conv(3 * self.c, c2)
            self.m = nn.ModuleList([Bottleneck(self.c)])

    class DFL(nn.Module):
        def __init__(self, c1: int = 16) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
            self.c1 = c1

    class Detect(nn.Module):
        def __init__(self, nc: int, ch: int) -> None:
            super().__init__()
            self.nc, self.nl, self.reg_max = nc, 1, 16
            self.no = nc + self.reg_max * 4
            self.stride = torch.tensor([8.0])
            self.cv2 = nn.ModuleList([nn.Sequential(Conv(ch, 4, 3), Conv(4, 4, 3), nn.Conv2d(4, 64, 1))])
            self.cv3 = nn.ModuleList([nn.Sequential(Conv(ch, 4, 3), Conv(4, 4, 3), nn.Conv2d(4, nc, 1))])
            self.dfl = DFL(self.reg_max)

    class DetectionModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.yaml = {"nc": 2, "scales": {"n": [0.33, 0.25, 1024]}, "backbone": [], "head": []}
            self.model = nn.Sequential(Conv(3, 8, 3), C2f(8, 8), Detect(nc=2, ch=8))
            self.save: list[int] = []
            self.names, self.inplace = {0: "person", 1: "car"}, True
            self.stride = torch.tensor([8.0])

    modules = {
        Conv: "ultralytics.nn.modules.conv",
        Bottleneck: "ultralytics.nn.modules.block",
        C2f: "ultralytics.nn.modules.block",
        DFL: "ultralytics.nn.modules.block",
        Detect: "ultralytics.nn.modules.head",
        DetectionModel: "ultralytics.nn.tasks",
    }
    for cls, module in modules.items():
        cls.__module__, cls.__qualname__ = module, cls.__name__
    return {cls.__name__: cls for cls in modules}


@sample("yolov8n.pt", "ultralytics YOLOv8 checkpoint (DetectionModel in a dict, half precision)")
def _yolo() -> bytes:
    classes = _yolo_classes()
    checkpoint = {
        "epoch": -1,
        "best_fitness": None,
        "model": classes["DetectionModel"]().half(),
        "ema": None,
        "updates": None,
        "optimizer": None,
        "train_args": {
            "task": "detect",
            "mode": "train",
            "model": "yolov8n.yaml",
            "epochs": 100,
            "imgsz": 640,
        },
        "date": "2023-01-10T10:00:00.000000",
        "version": "8.0.0",
    }
    with foreign_modules(*classes.values()):
        return torch_bytes(checkpoint)
