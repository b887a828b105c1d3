"""ONNX models and TensorFlow graphs: recognised by structure, judged without loading them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, external_data_helper, helper, numpy_helper

from modelsteward.checks.security import FileReport, scan
from modelsteward.core import Severity
from tests.conftest import ScanBytes

PEERS = Path("/work/shared/peer-corpora/modelaudit/samples/tensorflow")


def _rules(report: FileReport, at_least: Severity = Severity.INFO) -> set[str]:
    return {f.rule for f in report.findings if f.severity >= at_least}


# ------------------------------------------------------------------------------------------ ONNX


def _onnx_model(nodes: list[onnx.NodeProto] | None = None, **kwargs: object) -> onnx.ModelProto:
    weight = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w")
    graph = helper.make_graph(
        nodes or [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        initializer=[weight],
    )
    return helper.make_model(graph, **kwargs)


def test_onnx_with_external_data_beside_it_is_clean(tmp_path: Path) -> None:
    onnx.save_model(
        _onnx_model(),
        tmp_path / "model.onnx",
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=0,
    )
    report = scan([tmp_path / "model.onnx"]).files[0]
    assert report.format == "protobuf"
    assert _rules(report) == {"ONNX-EXTERNAL-DATA"}
    assert report.worst == Severity.INFO and report.status == "scanned"


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "\\\\host\\share\\x", "a/../../b"]
)
def test_onnx_external_data_escaping_the_folder_is_high(scan_bytes: ScanBytes, location: str) -> None:
    model = _onnx_model()
    external_data_helper.set_external_data(model.graph.initializer[0], location=location)
    model.graph.initializer[0].data_location = TensorProto.EXTERNAL
    model.graph.initializer[0].ClearField("raw_data")
    report = scan_bytes(model.SerializeToString(), "model.onnx")
    (finding,) = (f for f in report.findings if f.rule == "ONNX-EXTERNAL-DATA-ESCAPE")
    assert finding.severity == Severity.HIGH and finding.evidence == location


def test_onnx_escape_inside_a_subgraph_is_found(scan_bytes: ScanBytes) -> None:
    leak = numpy_helper.from_array(np.zeros(1, dtype=np.float32), "leak")
    external_data_helper.set_external_data(leak, location="/root/.ssh/id_rsa")
    leak.data_location = TensorProto.EXTERNAL
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["c"], value=leak)],
        "then",
        [],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [1])],
    )
    node = helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)
    report = scan_bytes(_onnx_model([node]).SerializeToString(), "model.onnx")
    assert "ONNX-EXTERNAL-DATA-ESCAPE" in _rules(report, Severity.HIGH)


def test_onnx_custom_domain_is_high_and_ort_contrib_is_info(scan_bytes: ScanBytes) -> None:
    nodes = [
        helper.make_node("EvilOp", ["x"], ["t"], domain="com.example.native"),
        helper.make_node("FusedMatMul", ["t", "w"], ["y"], domain="com.microsoft"),
    ]
    report = scan_bytes(_onnx_model(nodes).SerializeToString(), "model.onnx")
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["ONNX-CUSTOM-DOMAIN"].severity == Severity.HIGH
    assert "EvilOp" in by_rule["ONNX-CUSTOM-DOMAIN"].message
    assert by_rule["ONNX-RUNTIME-EXTENSION-DOMAIN"].severity == Severity.INFO


def test_onnx_local_functions_are_not_custom_ops(scan_bytes: ScanBytes) -> None:
    function = helper.make_function(
        "pkg.local",
        "Twice",
        ["a"],
        ["b"],
        [helper.make_node("Add", ["a", "a"], ["b"])],
        [helper.make_opsetid("", 18)],
    )
    node = helper.make_node("Twice", ["x"], ["y"], domain="pkg.local")
    model = _onnx_model([node], functions=[function])
    report = scan_bytes(model.SerializeToString(), "model.onnx")
    assert _rules(report) == {"ONNX-FUNCTIONS"}


def test_onnx_training_info_is_noted(scan_bytes: ScanBytes) -> None:
    step = helper.make_graph([helper.make_node("Identity", ["w"], ["w2"])], "step", [], [])
    model = _onnx_model()
    model.training_info.append(helper.make_training_info(step, [], step, []))
    report = scan_bytes(model.SerializeToString(), "model.onnx")
    assert _rules(report) == {"ONNX-TRAINING-INFO"}


def test_truncated_onnx_is_incomplete(scan_bytes: ScanBytes) -> None:
    data = _onnx_model().SerializeToString()
    report = scan_bytes(data[:-7], "model.onnx")
    assert report.status == "incomplete"


# ------------------------------------------------------------------------------------ TensorFlow


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _msg(*fields: tuple[int, bytes | str | int]) -> bytes:
    """Encode a protobuf message from (field number, value): ints as varints, the rest as LEN."""
    out = bytearray()
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            raw = value.encode() if isinstance(value, str) else value
            out += _varint(number << 3 | 2) + _varint(len(raw)) + raw
    return bytes(out)


def _node(name: str, op: str, **attrs: bytes) -> bytes:
    """A NodeDef; attrs are encoded AttrValue messages."""
    return _msg((1, name), (2, op), *((5, _msg((1, key), (2, value))) for key, value in attrs.items()))


def _func_attr(function: str) -> bytes:
    return _msg((10, _msg((1, function))))


def _function(name: str, *nodes: bytes) -> bytes:
    return _msg((1, _msg((1, name))), *((3, n) for n in nodes))


def _saved_model(graph: bytes, saver: bytes = b"") -> bytes:
    meta_graph = _msg((2, graph), *([(3, saver)] if saver else []))
    return _msg((1, 1), (2, meta_graph))


def _tf2_saved_model(*serving_nodes: bytes) -> bytes:
    """A SavedModel shaped like TF2's: a traced save/restore pair reachable from its SaverDef."""
    save = _function(
        "__inference__traced_save_42",
        _node("StringJoin", "StringJoin"),
        _node("ShardedFilename", "ShardedFilename"),
        _node("SaveV2", "SaveV2"),
        _node("MergeV2Checkpoints", "MergeV2Checkpoints"),
    )
    restore = _function("__inference__traced_restore_43", _node("RestoreV2", "RestoreV2"))
    graph = _msg(
        (1, _node("saver_filename", "Placeholder")),
        (
            1,
            _node(
                "StatefulPartitionedCall_1",
                "StatefulPartitionedCall",
                f=_func_attr("__inference__traced_save_42"),
            ),
        ),
        (
            1,
            _node(
                "StatefulPartitionedCall_2",
                "StatefulPartitionedCall",
                f=_func_attr("__inference__traced_restore_43"),
            ),
        ),
        *((1, n) for n in serving_nodes),
        (2, _msg((1, save), (1, restore))),
    )
    saver = _msg(
        (1, "saver_filename:0"), (2, "StatefulPartitionedCall_1:0"), (3, "StatefulPartitionedCall_2")
    )
    return _saved_model(graph, saver)


def test_tf2_saved_model_saver_is_benign(scan_bytes: ScanBytes) -> None:
    data = _tf2_saved_model(_node("dense/MatMul", "MatMul"))
    report = scan_bytes(data, "saved_model.pb")
    assert report.format == "protobuf"
    assert report.findings == () and report.status == "scanned"


def test_tf1_saver_scope_is_benign(scan_bytes: ScanBytes) -> None:
    graph = _msg((1, _node("save/SaveV2", "SaveV2")), (1, _node("save/RestoreV2", "RestoreV2")))
    saver = _msg((1, "save/Const:0"), (2, "save/control_dependency:0"), (3, "save/restore_all"))
    report = scan_bytes(_saved_model(graph, saver), "saved_model.pb")
    assert report.findings == ()


def test_checkpoint_ops_outside_the_saver_are_medium(scan_bytes: ScanBytes) -> None:
    serving = _function("__inference_serve_7", _node("SaveV2", "SaveV2"))
    graph = _msg(
        (1, _node("call", "PartitionedCall", f=_func_attr("__inference_serve_7"))), (2, _msg((1, serving)))
    )
    report = scan_bytes(_saved_model(graph), "saved_model.pb")
    assert {(f.rule, f.severity) for f in report.findings} == {("SAVEDMODEL-CHECKPOINT-OP", Severity.MEDIUM)}


def test_python_op_in_a_library_function_is_critical(scan_bytes: ScanBytes) -> None:
    helper_fn = _function("__inference_helper_9", _node("py", "EagerPyFunc"))
    graph = _msg((1, _node("x", "Const")), (2, _msg((1, helper_fn))))
    (finding,) = scan_bytes(_saved_model(graph), "saved_model.pb").findings
    assert (finding.rule, finding.severity, finding.evidence) == (
        "SAVEDMODEL-PYTHON-OP",
        Severity.CRITICAL,
        "EagerPyFunc",
    )
    assert "__inference_helper_9" in finding.location


def test_python_op_beside_a_benign_saver_is_still_critical(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_tf2_saved_model(_node("cb", "PyFunc")), "saved_model.pb")
    assert _rules(report, Severity.MEDIUM) == {"SAVEDMODEL-PYTHON-OP"}


@pytest.mark.parametrize(
    ("node", "rule"),
    [
        (_node("w", "WriteFile"), "SAVEDMODEL-FILE-WRITE-OP"),
        (_node("p", "PrintV2", output_stream=_msg((2, "file:///tmp/x"))), "SAVEDMODEL-FILE-WRITE-OP"),
        (_node("r", "ReadFile"), "SAVEDMODEL-FILE-READ-OP"),
        (_node("m", "ImmutableConst"), "SAVEDMODEL-FILE-READ-OP"),
        (_node("d", "DebugIdentityV2"), "SAVEDMODEL-DEBUG-OP"),
    ],
)
def test_frozen_graph_file_ops_are_high(scan_bytes: ScanBytes, node: bytes, rule: str) -> None:
    graph = _msg((1, _node("x", "Placeholder")), (1, node), (4, _msg((1, 1994))))
    report = scan_bytes(graph, "frozen_graph.pb")
    assert rule in _rules(report, Severity.HIGH)


def test_print_to_stderr_is_clean(scan_bytes: ScanBytes) -> None:
    graph = _msg(
        (1, _node("x", "Placeholder")), (1, _node("p", "PrintV2", output_stream=_msg((2, "stderr"))))
    )
    assert scan_bytes(graph, "frozen_graph.pb").findings == ()


def test_peer_savedmodel_samples() -> None:
    malicious = scan([PEERS / "malicious_pyfunc" / "saved_model.pb"]).files[0]
    safe = scan([PEERS / "safe_savedmodel" / "saved_model.pb"]).files[0]
    assert malicious.worst is not None and malicious.worst >= Severity.HIGH
    assert safe.worst is None or safe.worst < Severity.MEDIUM


def test_sentencepiece_model_is_recognised_and_clean(scan_bytes: ScanBytes) -> None:
    piece = _msg((1, "<unk>")) + b"\x15" + np.float32(-1.5).tobytes() + _msg((3, 2))
    data = _msg((1, piece), (1, piece), (2, _msg((1, "spm.txt"))))
    report = scan_bytes(data, "tokenizer.model")
    assert report.findings == () and report.status == "scanned"


def test_unknown_protobuf_is_incomplete(scan_bytes: ScanBytes) -> None:
    report = scan_bytes(_msg((9, 1), (12, "something")) + b"\x00", "model.pb")
    assert report.status == "incomplete"
