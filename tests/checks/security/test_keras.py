"""Keras: HDF5 model configs and serialised configs, judged without loading a model."""

from __future__ import annotations

import base64
import io
import json
import marshal
import zipfile
from pathlib import Path

import pytest

from modelsteward.checks.security import FileReport, ScanOptions, scan
from modelsteward.checks.security._context import Context, Sink
from modelsteward.checks.security.keras import check_config
from modelsteward.core import Severity
from modelsteward.core.rules import load_catalogue
from tests.conftest import ScanBytes

PEERS = Path("/work/shared/peer-corpora/modelaudit/samples/keras")


@pytest.fixture
def keras_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Dense model saved as .keras and .h5, and a model with a Lambda layer saved as .h5."""
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    import keras

    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")])
    dense.save(tmp_path / "dense.keras")
    dense.save(tmp_path / "dense.h5")
    dense.save_weights(tmp_path / "dense.weights.h5")
    with_lambda = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2)])
    with_lambda.save(tmp_path / "lambda.h5")
    return tmp_path


def _check(config: object) -> list[tuple[str, Severity]]:
    sink = Sink()
    ctx = Context(
        path="config.json",
        name="config.json",
        options=ScanOptions(),
        catalogue=load_catalogue(),
        sink=sink,
        scan_nested=lambda data, ctx: None,
    )
    check_config(config, ctx, at="config.json")
    return sorted((f.rule, f.severity) for f in sink.findings)


def _medium_plus(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings if f.severity >= Severity.MEDIUM}


def test_real_dense_models_are_clean(keras_models: Path) -> None:
    for name in ("dense.h5", "dense.weights.h5"):
        report = scan([keras_models / name]).files[0]
        assert report.format == "hdf5" and report.findings == () and report.status == "scanned"
    with zipfile.ZipFile(keras_models / "dense.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert _check(config) == []


def test_real_lambda_model_is_critical(keras_models: Path) -> None:
    report = scan([keras_models / "lambda.h5"]).files[0]
    assert _medium_plus(report) == {"KERAS-LAMBDA-CODE"}
    assert report.worst == Severity.CRITICAL


def test_peer_samples() -> None:
    malicious = scan([PEERS / "malicious_lambda.h5"]).files[0]
    safe = scan([PEERS / "safe_model.h5"]).files[0]
    assert malicious.worst == Severity.CRITICAL
    assert safe.findings == ()


def test_marshalled_lambda_is_critical_and_never_runs(canary: Path) -> None:
    code = compile(f"lambda x: __import__('pathlib').Path({str(canary)!r}).touch()", "<lambda>", "eval")
    blob = base64.b64encode(marshal.dumps(code.co_consts[0])).decode()
    keras2 = {"class_name": "Lambda", "config": {"function": [blob, None, None], "function_type": "lambda"}}
    keras3 = {"class_name": "__lambda__", "config": {"code": blob, "defaults": None, "closure": None}}
    assert _check({"class_name": "Sequential", "config": {"layers": [keras2]}}) == [
        ("KERAS-LAMBDA-CODE", Severity.CRITICAL)
    ]
    assert _check({"class_name": "Dense", "config": {"activation": keras3}}) == [
        ("KERAS-LAMBDA-CODE", Severity.CRITICAL)
    ]
    assert not canary.exists()


def test_lambda_by_name_is_high() -> None:
    layer = {"class_name": "Lambda", "config": {"function": "my_pkg.double", "function_type": "raw"}}
    assert _check(layer) == [("KERAS-LAMBDA", Severity.HIGH)]


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (
            {"module": "builtins", "class_name": "function", "config": "exec"},
            ("KERAS-MODULE-DANGEROUS", Severity.CRITICAL),
        ),
        (
            {"module": "os", "class_name": "system", "config": {}},
            ("KERAS-MODULE-DANGEROUS", Severity.CRITICAL),
        ),
        ({"module": "subprocess.run", "class_name": "x"}, ("KERAS-MODULE-DANGEROUS", Severity.CRITICAL)),
        ({"module": "some_package.layers", "class_name": "Fancy"}, ("KERAS-MODULE-EXTERNAL", Severity.HIGH)),
        ({"module": "kerasx", "class_name": "Dense"}, ("KERAS-MODULE-EXTERNAL", Severity.HIGH)),
        (
            {"module": None, "class_name": "Mine", "registered_name": "Custom>Mine"},
            ("KERAS-CUSTOM-OBJECT", Severity.MEDIUM),
        ),
        ({"class_name": "Custom>Mine", "config": {}}, ("KERAS-CUSTOM-OBJECT", Severity.MEDIUM)),
    ],
)
def test_references_outside_keras(reference: dict[str, object], expected: tuple[str, Severity]) -> None:
    assert _check({"class_name": "Functional", "config": {"layers": [reference]}}) == [expected]


@pytest.mark.parametrize(
    "reference",
    [
        {"module": "keras.layers", "class_name": "Dense", "registered_name": None},
        {
            "module": "keras_hub.src.models.bert.bert_backbone",
            "class_name": "BertBackbone",
            "registered_name": "keras_hub>BertBackbone",
        },
        {"module": "tf_keras.layers", "class_name": "Dense"},
        {"class_name": "TFOpLambda", "config": {"function": "math.add"}},
    ],
)
def test_keras_references_are_clean(reference: dict[str, object]) -> None:
    assert _check({"class_name": "Functional", "config": {"layers": [reference]}}) == []


def test_dangerous_tf_op_lambda_is_critical() -> None:
    layer = {"class_name": "TFOpLambda", "config": {"function": "io.write_file"}}
    assert _check([layer, layer]) == [("KERAS-TFOPLAMBDA-DANGEROUS", Severity.CRITICAL)]


def test_bad_model_config_attribute_is_malformed(tmp_path: Path, scan_bytes: ScanBytes) -> None:
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.attrs["model_config"] = "{not json"
    report = scan_bytes(buffer.getvalue(), "model.h5")
    assert _medium_plus(report) == {"KERAS-MALFORMED"} and report.status == "incomplete"


def test_unopenable_hdf5_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 200, "model.h5")
    assert "KERAS-MALFORMED" in _medium_plus(report) and report.status == "incomplete"
