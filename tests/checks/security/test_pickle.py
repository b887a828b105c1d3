"""The pickle scanner: what CPython's unpickler would do, seen without unpickling.

Payloads are built opcode by opcode; the dangerous ones would create the ``canary`` file if they
ever ran, and every test that scans one checks that it did not.
"""

from __future__ import annotations

import argparse
import base64
import collections
import io
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from modelsteward.checks.security import FileReport, Limits, ScanOptions
from modelsteward.core import Severity
from modelsteward.formats.pickle_ops import tokenize

ScanBytes = Callable[..., FileReport]


def _u(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _sg(module: str, name: str) -> bytes:
    """STACK_GLOBAL of module.name from two SHORT_BINUNICODE strings."""
    return _u(module) + _u(name) + b"\x93"


def _open_canary(canary: Path, importer: bytes) -> bytes:
    """A protocol 4 stream calling ``<importer>(str(canary), "w")``: it would create the canary."""
    return b"\x80\x04" + importer + _u(str(canary)) + _u("w") + b"\x86R."


def _rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


def _find(report: FileReport, rule: str) -> list[str]:
    return [f"{f.location} | {f.evidence} | {f.message}" for f in report.findings if f.rule == rule]


@pytest.fixture
def scan_pickle(scan_bytes: ScanBytes, canary: Path) -> ScanBytes:
    """scan_bytes, checking afterwards that the canary never fired."""

    def run(data: bytes, name: str = "model.pkl", options: ScanOptions | None = None) -> FileReport:
        report = scan_bytes(data, name, options)
        assert not canary.exists()
        return report

    return run


def test_denied_global_is_critical_with_offset_and_evidence(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00echo\x85R.")
    assert report.worst == Severity.CRITICAL
    [hit] = _find(report, "PICKLE-GLOBAL-DENIED")
    assert hit.startswith("offset 2 | GLOBAL 'posix' 'system'")
    assert "os.system" in hit


def test_canary_payload_through_builtins_open(scan_pickle: ScanBytes, canary: Path) -> None:
    report = scan_pickle(_open_canary(canary, _sg("builtins", "open")))
    assert "PICKLE-GLOBAL-DENIED" in _rules(report)
    assert report.worst == Severity.CRITICAL


def test_stack_global_fed_through_the_memo(scan_pickle: ScanBytes, canary: Path) -> None:
    # The strings are memoised, popped, and fetched back: only a memo simulation sees the pair.
    importer = _u("io") + b"\x94" + b"0" + _u("open") + b"\x94" + b"0" + b"h\x00h\x01\x93"
    report = scan_pickle(_open_canary(canary, importer))
    assert any("'io' 'open'" in hit for hit in _find(report, "PICKLE-GLOBAL-DENIED"))


def test_stack_global_fed_by_protocol_0_strings(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"S'os'\nS'system'\n\x93S'true'\n\x85R.")
    assert report.worst == Severity.CRITICAL


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("__builtin__", "eval"),
        ("nt", "system"),
        ("_operator", "attrgetter"),
        ("cPickle", "loads"),
        ("copy_reg", "_reconstructor.__globals__"),
        ("random", "_os.system"),
        ("torch.serialization", "os.system"),
        ("torch", "jit.load"),
        ("os.path", "os.system"),
    ],
)
def test_aliases_and_attribute_paths_reach_denied_objects(
    scan_pickle: ScanBytes, module: str, name: str
) -> None:
    report = scan_pickle(b"\x80\x04" + _sg(module, name) + _u("x") + b"\x85R.")
    assert report.worst == Severity.CRITICAL


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("torch._utils", "_rebuild_tensor_v2.__globals__"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("torch.nn.modules.linear", "Linear.__init__.__builtins__"),
    ],
)
def test_allowlisted_object_followed_by_attributes_is_not_allowed(
    scan_pickle: ScanBytes, module: str, name: str
) -> None:
    report = scan_pickle(b"\x80\x04" + _sg(module, name) + b".")
    assert _find(report, "PICKLE-GLOBAL-DUNDER")
    assert report.worst == Severity.CRITICAL


def test_unlisted_global_called_is_high_and_imported_only_is_medium(scan_pickle: ScanBytes) -> None:
    called = scan_pickle(b"\x80\x04" + _sg("mypackage.models", "Net") + b")R.")
    assert _rules(called) == {"PICKLE-CALL-UNLISTED"}
    assert called.worst == Severity.HIGH
    assert "mypackage.models.Net" in called.findings[0].message
    imported = scan_pickle(b"\x80\x04" + _sg("mypackage.models", "Net") + b".")
    assert _rules(imported) == {"PICKLE-GLOBAL-UNLISTED"}
    assert imported.worst == Severity.MEDIUM


def test_policy_allowed_globals_allow_a_call(scan_pickle: ScanBytes) -> None:
    options = ScanOptions(allowed_globals=frozenset({("mypackage.models", "Net")}))
    report = scan_pickle(b"\x80\x04" + _sg("mypackage.models", "Net") + b")R.", options=options)
    assert report.findings == ()


def test_instantiate_only_class_called_with_arguments(scan_pickle: ScanBytes) -> None:
    newobj = scan_pickle(b"\x80\x04" + _sg("torch.nn.modules.linear", "Linear") + b")\x81}b.")
    assert newobj.findings == ()
    called = scan_pickle(b"\x80\x04" + _sg("torch.nn.modules.linear", "Linear") + b"K\x02K\x03\x86R.")
    assert any("instantiate only" in hit for hit in _find(called, "PICKLE-CALL-UNLISTED"))


def test_copyreg_reconstructor_judges_the_class_it_instantiates(scan_pickle: ScanBytes) -> None:
    head = b"ccopy_reg\n_reconstructor\n("
    tail = b"c__builtin__\nobject\nNtR."
    assert scan_pickle(head + b"cargparse\nNamespace\n" + tail).findings == ()
    report = scan_pickle(head + b"cmypackage\nGadget\n" + tail)
    assert any("mypackage.Gadget" in hit for hit in _find(report, "PICKLE-CALL-UNLISTED"))


def test_enum_class_may_be_called_with_one_value(scan_pickle: ScanBytes) -> None:
    enum_class = _sg("transformers.trainer_utils", "IntervalStrategy")
    assert scan_pickle(b"\x80\x04" + enum_class + _u("steps") + b"\x85R.").findings == ()
    report = scan_pickle(b"\x80\x04" + enum_class + _u("a") + _u("b") + b"\x86R.")
    assert _rules(report) == {"PICKLE-CALL-UNLISTED"}


def test_calling_a_computed_object_is_high(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x04" + _sg("collections", "OrderedDict") + b")R)R.")
    assert _rules(report) == {"PICKLE-CALL-COMPUTED"}


def test_build_setting_setstate_is_flagged(scan_pickle: ScanBytes) -> None:
    obj = _sg("argparse", "Namespace") + b")\x81"
    state = b"}" + _u("__setstate__") + _sg("mypackage", "hook") + b"sb"
    report = scan_pickle(b"\x80\x04" + obj + state + b"}b.")
    assert _find(report, "PICKLE-BUILD-DUNDER")
    assert report.worst is not None and report.worst >= Severity.HIGH


def test_state_argument_of_a_torch_rebuild_setting_dunders_is_flagged(scan_pickle: ScanBytes) -> None:
    state = b"}" + _u("__reduce_ex__") + _sg("mypackage", "hook") + b"s"
    rebuild = _sg("torch._utils", "_rebuild_parameter_with_state") + b"(NK\x00N" + state + b"tR."
    assert _find(scan_pickle(b"\x80\x04" + rebuild), "PICKLE-BUILD-DUNDER")


def test_build_on_a_module_is_critical(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x04" + _sg("torch", "_utils") + b"}" + _u("x") + _u("y") + b"sb.")
    assert any("torch._utils" in hit for hit in _find(report, "PICKLE-GLOBAL-MUTATED"))


def test_extension_codes_are_high(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x02\x82\x01)R.")
    assert "PICKLE-EXT" in _rules(report)
    assert report.worst == Severity.HIGH


def test_persistent_ids_are_allowed_and_their_contents_scanned(scan_pickle: ScanBytes) -> None:
    storage = b"(" + _u("storage") + _sg("torch", "FloatStorage") + _u("0") + _u("cpu") + b"K\x04tQ"
    assert scan_pickle(b"\x80\x04" + storage + b".").findings == ()
    hidden = b"(" + _u("storage") + _sg("os", "system") + b"tQ."
    assert scan_pickle(b"\x80\x04" + hidden).worst == Severity.CRITICAL


def test_get_of_unset_memo_is_malformed_and_incomplete(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x04h\x07h\x08\x93)R.")
    assert _rules(report) == {"PICKLE-MALFORMED"}
    assert report.worst == Severity.MEDIUM
    assert report.status == "incomplete"


def test_findings_before_a_break_still_count(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x04" + _sg("os", "system") + _u("x") + b"\x85R0h\x05.")
    assert report.worst == Severity.CRITICAL
    assert report.status == "incomplete"


def test_truncated_benign_stream_is_medium_and_incomplete(scan_pickle: ScanBytes) -> None:
    data = pickle.dumps({"weights": list(range(50))}, protocol=2)
    report = scan_pickle(data[: len(data) // 2])
    assert _rules(report) == {"PICKLE-MALFORMED"}
    assert report.worst == Severity.MEDIUM
    assert report.status == "incomplete"


def _frame(body: bytes, declared: int | None = None) -> bytes:
    return b"\x95" + (len(body) if declared is None else declared).to_bytes(8, "little") + body


def test_opcode_straddling_a_frame_end_is_flagged(scan_pickle: ScanBytes) -> None:
    # The frame ends inside the SHORT_BINUNICODE 'system': the C unpickler reads on, Python does not.
    call = _sg("os", "system") + _u("x") + b"\x85R."
    straddle = b"\x80\x04" + _frame(call[:6]) + call[6:]
    report = scan_pickle(straddle)
    assert _find(report, "PICKLE-FRAME-MISMATCH")
    assert report.worst == Severity.CRITICAL


def test_frame_longer_than_the_data_is_read_on(scan_pickle: ScanBytes) -> None:
    call = _sg("nt", "system") + _u("x") + b"\x85R."
    report = scan_pickle(b"\x80\x04" + _frame(call, declared=len(call) + 50))
    assert _find(report, "PICKLE-FRAME-MISMATCH")
    assert any("os.system" in hit for hit in _find(report, "PICKLE-GLOBAL-DENIED"))


def test_real_protocol_4_frames_are_not_flagged(scan_pickle: ScanBytes) -> None:
    data = pickle.dumps([f"value {i} " * 5 for i in range(20000)], protocol=4)
    assert sum(op.name == "FRAME" for op in tokenize(memoryview(data))) >= 2
    assert scan_pickle(data).findings == ()


def test_stacked_pickles_are_all_scanned(scan_pickle: ScanBytes) -> None:
    data = pickle.dumps(119547037146038801333356, protocol=2) + b"\x80\x04" + _sg("os", "system") + b")R."
    report = scan_pickle(data)
    [hit] = _find(report, "PICKLE-GLOBAL-DENIED")
    assert hit.startswith("stream 2, offset")


@pytest.mark.parametrize("tail", [b"\n\n\t\t", b"\x00" * 64, bytes(range(256)), b"trailing text\n"])
def test_garbage_after_stop_is_ignored(scan_pickle: ScanBytes, tail: bytes) -> None:
    benign = scan_pickle(pickle.dumps({"a": 1}, protocol=2) + tail)
    assert benign.findings == ()
    assert benign.status == "scanned"
    payload = scan_pickle(b"\x80\x04" + _sg("os", "system") + b")R." + tail)
    assert payload.worst == Severity.CRITICAL
    assert payload.status == "scanned"


@pytest.mark.parametrize("encoding", ["raw", "base64", "hex"])
def test_nested_pickle_in_a_value_is_scanned(scan_pickle: ScanBytes, encoding: str) -> None:
    inner = b"\x80\x04" + _sg("os", "system") + _u("echo") + b"\x85R."
    if encoding == "raw":
        value = pickle.dumps({"blob": inner}, protocol=4)
    elif encoding == "base64":
        value = pickle.dumps({"blob": base64.b64encode(inner).decode()}, protocol=4)
    else:
        value = pickle.dumps({"blob": inner.hex()}, protocol=4)
    report = scan_pickle(value)
    [hit] = _find(report, "PICKLE-GLOBAL-DENIED")
    if encoding != "raw":
        assert f"({encoding})" in hit


def test_ordinary_long_strings_are_not_payloads(scan_pickle: ScanBytes) -> None:
    values = {"vocab": ["abcdefghijklmnopqrstuvwxyzABCD" * 3, "0123456789abcdef" * 4, "hello world " * 20]}
    report = scan_pickle(pickle.dumps(values, protocol=4))
    assert report.findings == ()
    assert report.status == "scanned"


def test_opcode_limit_stops_and_reports(scan_pickle: ScanBytes) -> None:
    options = ScanOptions(limits=Limits(max_pickle_ops=100))
    report = scan_pickle(pickle.dumps(list(range(5000)), protocol=0), options=options)
    assert _rules(report) == {"PICKLE-OPS-LIMIT"}
    assert report.status == "incomplete"


def test_opcode_limit_covers_stacked_streams(scan_pickle: ScanBytes) -> None:
    options = ScanOptions(limits=Limits(max_pickle_ops=1000))
    report = scan_pickle(b"N." * 5000, options=options)
    assert _rules(report) == {"PICKLE-OPS-LIMIT"}


def test_huge_memo_indexes_do_not_allocate(scan_pickle: ScanBytes) -> None:
    report = scan_pickle(b"\x80\x02Nr\xff\xff\xff\xff0j\xff\xff\xff\xff.")
    assert report.findings == ()


# --- real pickles written by the frameworks -----------------------------------------------------


def _real_objects() -> dict[str, object]:
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.arange(60, dtype=float).reshape(20, 3)
    labels = np.arange(20) % 2
    return {
        "forest": RandomForestClassifier(n_estimators=2, random_state=0).fit(features, labels),
        "pipeline": Pipeline([("s", StandardScaler()), ("m", LogisticRegression())]).fit(features, labels),
        "frame": pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": pd.Categorical(["u", "v"])}),
        "arrays": {"f": np.ones((2, 2)), "o": np.array(["a", None], dtype=object), "s": np.float32(1)},
        "random": {"rng": np.random.default_rng(0), "legacy": np.random.RandomState(0)},
        "namespace": argparse.Namespace(lr=0.1, path=Path("/tmp/x")),
        "containers": {
            "od": collections.OrderedDict(a=1),
            "dd": collections.defaultdict(list),
            "fs": frozenset(),
        },
    }


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_real_framework_pickles_have_no_finding(scan_pickle: ScanBytes, protocol: int) -> None:
    for name, obj in _real_objects().items():
        report = scan_pickle(pickle.dumps(obj, protocol=protocol))
        assert report.findings == (), name
        assert report.status == "scanned", name


def test_real_joblib_files_have_no_finding(scan_pickle: ScanBytes, tmp_path: Path) -> None:
    import joblib

    for name, obj in _real_objects().items():
        joblib.dump(obj, tmp_path / "model.joblib")
        report = scan_pickle((tmp_path / "model.joblib").read_bytes(), name="model.joblib")
        assert report.findings == (), name
        assert report.status == "scanned", name


def _torch_objects() -> dict[str, object]:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.LSTM(4, 2))
    optimizer = torch.optim.AdamW(model.parameters())
    return {
        "state_dict": model.state_dict(),
        "module": model,
        "checkpoint": {
            "optimizer": optimizer.state_dict(),
            "dtype": torch.float16,
            "device": torch.device("cpu"),
            "size": torch.Size([2, 3]),
            "parameter": torch.nn.Parameter(torch.ones(2)),
            "sparse": torch.eye(3).to_sparse(),
        },
    }


@pytest.mark.parametrize("zipped", [True, False])
def test_real_torch_checkpoints_have_no_finding(scan_pickle: ScanBytes, zipped: bool) -> None:
    import torch

    for name, obj in _torch_objects().items():
        buffer = io.BytesIO()
        torch.save(obj, buffer, _use_new_zipfile_serialization=zipped)
        report = scan_pickle(buffer.getvalue(), name="model.pt")
        assert report.findings == (), name
        assert report.status == "scanned", name


def test_legacy_torch_format_storage_bytes_are_not_scanned_as_pickle(scan_pickle: ScanBytes) -> None:
    import torch

    buffer = io.BytesIO()
    # Storage bytes that themselves look like opcodes: MARK, then a GLOBAL of os.system.
    payload = torch.frombuffer(bytearray(b"(cos\nsystem\n" + b"\x00" * 4), dtype=torch.uint8)
    torch.save({"w": payload.clone()}, buffer, _use_new_zipfile_serialization=False)
    report = scan_pickle(buffer.getvalue(), name="model.pt")
    assert report.findings == ()
    assert report.status == "scanned"


# --- legacy torch.save: raw storage records after the five pickle streams ------------------------


def _legacy_torch_file(protocol: int = 2) -> bytes:
    import torch

    state = {
        "f32": torch.ones(3),
        "f16": torch.ones(2, dtype=torch.float16),
        "i64": torch.arange(4),
        "bool": torch.tensor([True, False, True]),
        "bf16": torch.ones(5, dtype=torch.bfloat16),
    }
    state["f32_view"] = state["f32"][1:]  # shares the first storage: one record for both
    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=False, pickle_protocol=protocol)
    return buffer.getvalue()


_MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
_HEAD = _MAGIC + pickle.dumps(1001, protocol=2) + pickle.dumps({"protocol_version": 1001}, protocol=2)


def _storage_pid(module: str, name: str, key: str, numel: bytes) -> bytes:
    """BINPERSID of ('storage', module.name, key, 'cpu', numel, None); numel is an int opcode."""
    return b"(" + _u("storage") + _sg(module, name) + _u(key) + _u("cpu") + numel + b"NtQ"


def _crafted_legacy(pid: bytes, keys: list[str], records: bytes) -> bytes:
    data = b"\x80\x04}" + _u("w") + pid + b"s."
    return _HEAD + data + pickle.dumps(keys, protocol=2) + records


def _record(count: int, size: int) -> bytes:
    return count.to_bytes(8, "little", signed=True) + b"\x00" * (count * size)


@pytest.mark.parametrize("protocol", [1, 2, 5])
def test_real_legacy_torch_files_of_several_dtypes_are_clean(scan_pickle: ScanBytes, protocol: int) -> None:
    report = scan_pickle(_legacy_torch_file(protocol), name="model.pt")
    assert report.findings == ()
    assert report.status == "scanned"


@pytest.mark.parametrize("protocol", [1, 2, 5])
def test_legacy_torch_file_missing_its_last_byte_is_incomplete(scan_pickle: ScanBytes, protocol: int) -> None:
    report = scan_pickle(_legacy_torch_file(protocol)[:-1], name="model.pt")
    [hit] = _find(report, "PICKLE-TORCH-STORAGE-MISMATCH")
    assert "bytes" in hit and "left" in hit
    assert report.worst == Severity.LOW
    assert report.status == "incomplete"


def test_legacy_torch_file_cut_inside_its_key_list_is_incomplete(scan_pickle: ScanBytes) -> None:
    # The records follow the key list in an order that varies between runs, but not their total.
    records = 5 * 8 + 3 * 4 + 2 * 2 + 4 * 8 + 3 * 1 + 5 * 2
    data = _legacy_torch_file()
    assert data[-records - 1 : -records] == b"."
    report = scan_pickle(data[: -records - 1], name="model.pt")
    [hit] = _find(report, "PICKLE-MALFORMED")
    assert hit.startswith("stream 5, offset")
    assert report.status == "incomplete"


def test_legacy_torch_file_with_bytes_appended_is_high(scan_pickle: ScanBytes) -> None:
    data = _legacy_torch_file()
    report = scan_pickle(data + b"\x00" * 16, name="model.pt")
    [hit] = _find(report, "PICKLE-TORCH-TRAILING-DATA")
    assert hit.startswith(f"offset {len(data)} |")
    assert "16 bytes" in hit
    assert report.worst == Severity.HIGH
    assert report.status == "incomplete"


def test_pickle_appended_after_legacy_storages_is_scanned(scan_pickle: ScanBytes, canary: Path) -> None:
    data = _legacy_torch_file()
    report = scan_pickle(data + _open_canary(canary, _sg("builtins", "open")), name="model.pt")
    assert _find(report, "PICKLE-TORCH-TRAILING-DATA")
    [hit] = _find(report, "PICKLE-GLOBAL-DENIED")
    assert hit.startswith(f"offset {len(data)} > offset ")
    assert "builtins.open" in hit
    assert report.worst == Severity.CRITICAL
    assert report.status == "incomplete"


def test_crafted_legacy_file_with_matching_records_is_clean(scan_pickle: ScanBytes) -> None:
    # The element count written as LONG1 (as pickle writes counts above 2**31) is read too.
    for numel in (b"K\x03", b"\x8a\x01\x03"):
        data = _crafted_legacy(_storage_pid("torch", "DoubleStorage", "k", numel), ["k"], _record(3, 8))
        report = scan_pickle(data, name="model.pt")
        assert report.findings == ()
        assert report.status == "scanned"


@pytest.mark.parametrize(
    ("pid", "keys", "records", "problem"),
    [
        (_storage_pid("torch", "FloatStorage", "k", b"K\x03"), ["k"], _record(4, 4), "holds 4 elements"),
        (_storage_pid("torch", "FloatStorage", "k", b"K\x03"), ["other"], _record(3, 4), "no persistent id"),
        (_storage_pid("torch", "FloatStorage", "k", b"K\x03"), [], b"", "have no record"),
        (_storage_pid("torch", "Tensor", "k", b"K\x03"), ["k"], _record(3, 4), "unknown storage type"),
        (_storage_pid("torch", "FloatStorage", "k", b"N"), ["k"], _record(3, 4), "no integer"),
        (_storage_pid("torch", "FloatStorage", "k", b"K\x03"), ["k"], _record(3, 4)[:5], "record header"),
    ],
    ids=["count", "key", "unrecorded", "type", "numel", "header"],
)
def test_legacy_records_disagreeing_with_the_pickles_are_reported(
    scan_pickle: ScanBytes, pid: bytes, keys: list[str], records: bytes, problem: str
) -> None:
    report = scan_pickle(_crafted_legacy(pid, keys, records), name="model.pt")
    [hit] = _find(report, "PICKLE-TORCH-STORAGE-MISMATCH")
    assert problem in hit
    assert report.status == "incomplete"


@pytest.mark.parametrize(
    "keys",
    [
        pickle.dumps({"k": 1}, protocol=2),
        pickle.dumps([["k"]], protocol=2),
        b"\x80\x02]q\x00X\x01\x00\x00\x00kq\x01.",
    ],
    ids=["dict", "nested-list", "text-left-on-the-stack"],
)
def test_legacy_key_list_that_is_not_a_list_of_str_fails_closed(scan_pickle: ScanBytes, keys: bytes) -> None:
    data = _HEAD + pickle.dumps({"w": 1}, protocol=2) + keys
    report = scan_pickle(data, name="model.pt")
    assert any("not a list of strings" in hit for hit in _find(report, "PICKLE-TORCH-STORAGE-MISMATCH"))
    assert report.status == "incomplete"


def test_legacy_key_list_in_protocol_0_is_read(scan_pickle: ScanBytes) -> None:
    pid = _storage_pid("torch", "ByteStorage", "k", b"K\x02")
    data = _crafted_legacy(pid, [], b"").removesuffix(pickle.dumps([], protocol=2))
    report = scan_pickle(data + pickle.dumps(["k"], protocol=0) + _record(2, 1), name="model.pt")
    assert report.findings == ()
    assert report.status == "scanned"


@pytest.mark.parametrize("streams", [1, 3, 4])
def test_legacy_file_with_missing_streams_is_incomplete(scan_pickle: ScanBytes, streams: int) -> None:
    parts = [
        _MAGIC,
        pickle.dumps(1001, protocol=2),
        pickle.dumps({}, protocol=2),
        pickle.dumps({}, protocol=2),
    ]
    report = scan_pickle(b"".join(parts[:streams]) + b"\xff\xfe", name="model.pt")
    [hit] = _find(report, "PICKLE-TORCH-STORAGE-MISMATCH")
    assert f"has {streams} of the 5 pickle streams" in hit
    assert report.status == "incomplete"


def test_only_the_magic_number_makes_a_file_legacy_torch(scan_pickle: ScanBytes) -> None:
    other = pickle.dumps(0x1950A86A20F9469CFC6D, protocol=2) + pickle.dumps(1001, protocol=2)
    report = scan_pickle(other, name="model.pt")
    assert report.findings == ()
    assert report.status == "scanned"


def _dotted(parts: int, prefix: str = "m") -> str:
    return ".".join(f"{prefix}{i}" for i in range(parts))


@pytest.mark.parametrize("importer", ["GLOBAL", "STACK_GLOBAL"])
def test_very_long_module_path_is_judged_on_its_first_parts(scan_pickle: ScanBytes, importer: str) -> None:
    # Re-reading every sub-path of a 2,000-part module would take hours: the path is cut first.
    module = _dotted(2000)
    if importer == "GLOBAL":
        stream = b"\x80\x02c" + module.encode() + b"\nsystem\n."
    else:
        stream = (
            b"\x80\x04\x8d" + len(module).to_bytes(8, "little") + module.encode() + _u("system") + b"\x93."
        )
    [finding] = scan_pickle(stream).findings
    assert finding.rule == "PICKLE-GLOBAL-UNLISTED"
    assert finding.message.endswith(f": {_dotted(24)} is imported but not on the allowlist")


def test_very_long_path_under_a_denied_module_is_denied(scan_pickle: ScanBytes) -> None:
    module = "os." + _dotted(2000)
    report = scan_pickle(b"\x80\x02c" + module.encode() + b"\nsystem\n.")
    assert _rules(report) == {"PICKLE-GLOBAL-DENIED"}
    assert report.worst == Severity.CRITICAL


def test_real_joblib_string_arrays_are_read_to_their_end(scan_pickle: ScanBytes, tmp_path: Path) -> None:
    import joblib
    import numpy as np
    from sklearn.preprocessing import LabelEncoder

    objects = {
        "unicode": LabelEncoder().fit(["cat", "dog", "mouse"]),
        "bytes": np.array([b"ab", b"cde", b"fghij"]),
        "object": np.array(["cat", 1, None], dtype=object),
        "mixed": [np.array(["x", "yy"]), np.arange(3), np.array([b"z"])],
    }
    for name, obj in objects.items():
        for compress in (0, 3):
            joblib.dump(obj, tmp_path / "model.joblib", compress=compress)
            report = scan_pickle((tmp_path / "model.joblib").read_bytes(), name="model.joblib")
            assert report.findings == (), (name, compress)
            assert report.status == "scanned", (name, compress)


def test_joblib_object_arrays_are_charged_to_the_file_opcode_budget(
    scan_pickle: ScanBytes, tmp_path: Path
) -> None:
    import joblib
    import numpy as np

    # Each object array's stream is about 300 opcodes, under the limit; together they are over it.
    arrays = [np.array(list(range(300)), dtype=object) for _ in range(3)]
    joblib.dump(arrays, tmp_path / "model.joblib")
    data = (tmp_path / "model.joblib").read_bytes()
    assert scan_pickle(data, name="model.joblib").findings == ()
    report = scan_pickle(data, name="model.joblib", options=ScanOptions(limits=Limits(max_pickle_ops=500)))
    assert _rules(report) == {"PICKLE-OPS-LIMIT"}
    assert report.status == "incomplete"


@pytest.mark.parametrize("spacing", ["leading newline", "spaced pairs"])
def test_hex_payload_with_whitespace_is_decoded(scan_pickle: ScanBytes, canary: Path, spacing: str) -> None:
    inner = _open_canary(canary, _sg("builtins", "open")).hex()
    if spacing == "leading newline":
        value = "\n" + inner
    else:
        value = " ".join(inner[i : i + 2] for i in range(0, len(inner), 2))
    assert bytes.fromhex(value) == _open_canary(canary, _sg("builtins", "open"))
    report = scan_pickle(pickle.dumps({"blob": value}, protocol=4))
    [hit] = _find(report, "PICKLE-GLOBAL-DENIED")
    assert "(hex)" in hit
    assert report.worst == Severity.CRITICAL


def test_odd_length_hex_is_not_decoded(scan_pickle: ScanBytes) -> None:
    inner = (b"\x80\x04" + _sg("os", "system") + _u("echo") + b"\x85R.").hex()
    report = scan_pickle(pickle.dumps({"blob": inner + "a"}, protocol=4))
    assert report.findings == ()


def test_value_signatures_skip_text_and_protobuf_readings() -> None:
    from modelsteward.formats.sniff import Format, detect, signatures

    protobuf_shaped = memoryview(b"\x0a\x10" + b"abcdefghijklmnop" + b"\x12\x04" + b"wxyz" + b"\x18\x01" * 40)
    text = memoryview(b"an ordinary sentence that is long enough")
    assert detect(protobuf_shaped) == (Format.PROTOBUF,)
    assert detect(text) == (Format.TEXT,)
    assert signatures(protobuf_shaped) == ()
    assert signatures(text) == ()
    zipped = io.BytesIO()
    with __import__("zipfile").ZipFile(zipped, "w") as archive:
        archive.writestr("a", "b")
    pickled = pickle.dumps({"a": 1}, protocol=4) + zipped.getvalue()
    assert signatures(memoryview(pickled)) == detect(memoryview(pickled)) == (Format.PICKLE, Format.ZIP)
