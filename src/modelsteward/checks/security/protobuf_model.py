"""ONNX models and TensorFlow graphs, recognised by the structure of their protobuf.

A protobuf carries no type name, so the schema is inferred from which fields appear with which
wire types. Where two schemas fit (a SavedModel without its version field reads as a GraphDef
holding only a function library), the message is judged as each, because a loader could read
either. Tensor payloads are never read: walkers descend only into the fields they judge.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from modelsteward.checks.security._context import Context
from modelsteward.data.tables import load
from modelsteward.formats.protobuf import Field, ProtobufError, WireType, descend, iter_fields, text

_V, _L, _F32 = WireType.VARINT, WireType.LEN, WireType.FIXED32

# Field number -> wire type of the top-level messages the scanner recognises.
_ONNX_MODEL = {1: _V, 2: _L, 3: _L, 4: _L, 5: _V, 6: _L, 7: _L, 8: _L, 14: _L, 20: _L, 25: _L, 26: _L}
_SAVED_MODEL = {1: _V, 2: _L}
_GRAPH_DEF = {1: _L, 2: _L, 3: _V, 4: _L, 5: _L}
_SENTENCEPIECE = {1: _L, 2: _L, 3: _L, 4: _L, 5: _L}

# An external-data location that is anything but a plain relative path inside the model folder.
_URL_OR_DRIVE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SHOWN = 3


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: str
    detail: str
    at: str
    evidence: str = ""


@dataclass(slots=True)
class _Verdict:
    """What one reading of the message found, and where that reading broke, if it did."""

    hits: list[_Hit] = field(default_factory=list)
    error: str = ""


def scan(data: memoryview, ctx: Context) -> None:
    """Judge a protobuf file as every model schema its structure fits."""
    try:
        shape = {(f.number, f.wire_type) for f in iter_fields(data)}
    except ProtobufError as error:
        ctx.incomplete(f"not a well-formed protobuf message: {error}")
        return
    readings = _readings(data, shape)
    if not readings:
        if not _is_sentencepiece(data, shape):
            ctx.incomplete("protobuf message of no schema the scanner knows (ONNX, SavedModel, GraphDef)")
        return
    verdicts = []
    for rule, judge in readings:
        verdict = _Verdict()
        try:
            judge(data, verdict)
        except ProtobufError as error:
            verdict.error = str(error)
        verdicts.append((rule, verdict))
    seen: set[_Hit] = set()
    for _, verdict in verdicts:
        for hit in verdict.hits:
            if hit not in seen:
                seen.add(hit)
                ctx.report(hit.rule, hit.detail, at=hit.at, evidence=hit.evidence)
    # A reading that breaks is the wrong reading when another one holds; malformed only if all break.
    if all(verdict.error for _, verdict in verdicts):
        for rule, verdict in verdicts:
            ctx.report(rule, verdict.error)
            ctx.incomplete(f"{rule}: {verdict.error}")


Judge = Callable[[memoryview, _Verdict], None]


def _fits(shape: set[tuple[int, WireType]], schema: dict[int, WireType], *, strict: bool) -> bool:
    known = all(schema.get(number, wire) == wire for number, wire in shape)
    return known and (not strict or all(number in schema for number, _ in shape))


def _readings(data: memoryview, shape: set[tuple[int, WireType]]) -> list[tuple[str, Judge]]:
    readings: list[tuple[str, Judge]] = []
    # ONNX may grow fields; unknown ones are skipped by every protobuf parser, so only clashes count.
    if (7, _L) in shape and _fits(shape, _ONNX_MODEL, strict=False):
        readings.append(("ONNX-MALFORMED", _judge_onnx))
    if (2, _L) in shape and _fits(shape, _SAVED_MODEL, strict=True):
        readings.append(("SAVEDMODEL-MALFORMED", _judge_saved_model))
    if (
        shape & {(1, _L), (2, _L)}
        and _fits(shape, _GRAPH_DEF, strict=True)
        and not _is_sentencepiece(data, shape)
    ):
        readings.append(("SAVEDMODEL-MALFORMED", _judge_graph_def))
    return readings


def _is_sentencepiece(data: memoryview, shape: set[tuple[int, WireType]]) -> bool:
    """A SentencePiece tokenizer model: pieces (field 1) carry a float score (field 2, fixed32)."""
    if (1, _L) not in shape or not _fits(shape, _SENTENCEPIECE, strict=True):
        return False
    try:
        piece = next(f for f in iter_fields(data) if f.number == 1)
        return any(f.number == 2 and f.wire_type == _F32 for f in iter_fields(piece.payload))
    except ProtobufError:
        return False


def _fields(data: memoryview, number: int) -> Iterable[Field]:
    return (f for f in iter_fields(data) if f.number == number)


def _string(data: memoryview, number: int) -> str:
    """The last value of string field ``number`` (protobuf's rule for repeated scalars), or ''."""
    value = ""
    for f in _fields(data, number):
        value = text(f)
    return value


def _listing(names: Iterable[str]) -> str:
    ordered = sorted(set(names))
    shown = ", ".join(ordered[:_SHOWN])
    return shown + (f" and {len(ordered) - _SHOWN} more" if len(ordered) > _SHOWN else "")


# ---------------------------------------------------------------------------------------- ONNX


@dataclass(slots=True)
class _Onnx:
    """State of one walk over an ONNX ModelProto."""

    functions: frozenset[tuple[str, str]]
    ops_by_domain: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)
    """External-data location -> names of the tensors stored there."""

    def graph(self, data: memoryview, depth: int) -> None:
        depth = descend(depth)
        for f in iter_fields(data):
            if f.number == 1 and f.wire_type == _L:
                self.node(f.payload, depth)
            elif f.number == 5 and f.wire_type == _L:
                self.tensor(f.payload, depth)
            elif f.number == 15 and f.wire_type == _L:
                self.sparse_tensor(f.payload, depth)

    def node(self, data: memoryview, depth: int) -> None:
        depth = descend(depth)
        domain, op_type = _string(data, 7), _string(data, 4)
        if (domain, op_type) not in self.functions:
            self.ops_by_domain.setdefault(domain, set()).add(op_type)
        for f in _fields(data, 5):
            self.attribute(f.payload, depth)

    def attribute(self, data: memoryview, depth: int) -> None:
        depth = descend(depth)
        for f in iter_fields(data):
            if f.wire_type != _L:
                continue
            if f.number in (5, 10):  # t, tensors
                self.tensor(f.payload, depth)
            elif f.number in (6, 11):  # g, graphs
                self.graph(f.payload, depth)
            elif f.number in (22, 23):  # sparse_tensor, sparse_tensors
                self.sparse_tensor(f.payload, depth)

    def sparse_tensor(self, data: memoryview, depth: int) -> None:
        depth = descend(depth)
        for f in iter_fields(data):
            if f.number in (1, 2) and f.wire_type == _L:  # values, indices
                self.tensor(f.payload, depth)

    def tensor(self, data: memoryview, depth: int) -> None:
        descend(depth)
        name = ""
        for f in iter_fields(data):  # raw_data (9) is skipped as a slice, never read
            if f.number == 8 and f.wire_type == _L:
                name = text(f)
            elif f.number == 13 and f.wire_type == _L and _string(f.payload, 1) == "location":
                self.external.setdefault(_string(f.payload, 2), set()).add(name)


def _escape_reason(location: str) -> str:
    """Why ``location`` reaches outside the model's folder, or '' if it stays inside."""
    path = location.replace("\\", "/")
    if not path:
        return "empty location"
    if any(ord(c) < 32 for c in path):
        return "control characters in the path"
    if path.startswith("/"):
        return "absolute path or network share"
    if path.startswith("~"):
        return "home-directory path"
    if _URL_OR_DRIVE.match(path) or ":" in path:
        return "drive letter, URL or alternate data stream"
    if ".." in path.split("/"):
        return "climbs out of the model folder with '..'"
    return ""


def _judge_onnx(data: memoryview, verdict: _Verdict) -> None:
    functions: dict[tuple[str, str], memoryview] = {}
    for f in _fields(data, 25):
        functions[(_string(f.payload, 10), _string(f.payload, 1))] = f.payload
    walk = _Onnx(functions=frozenset(functions))
    training = 0
    try:
        for f in iter_fields(data):
            if f.number == 7:
                walk.graph(f.payload, 0)
            elif f.number == 20:
                training += 1
                for part in iter_fields(f.payload):
                    if part.number in (1, 2) and part.wire_type == _L:  # initialization, algorithm
                        walk.graph(part.payload, 1)
        for body in functions.values():
            for f in _fields(body, 7):
                walk.node(f.payload, 1)
    finally:  # what was seen before a malformation is still reported
        verdict.hits.extend(_onnx_hits(walk, sorted(functions), training))


def _onnx_hits(walk: _Onnx, functions: list[tuple[str, str]], training: int) -> list[_Hit]:
    hits = []
    tables = load("onnx")
    for domain, ops in sorted(walk.ops_by_domain.items()):
        if domain in tables["standard"]:
            continue
        rule = (
            "ONNX-RUNTIME-EXTENSION-DOMAIN"
            if domain in tables["runtime_extensions"]
            else "ONNX-CUSTOM-DOMAIN"
        )
        hits.append(_Hit(rule, f"domain {domain!r}: {_listing(ops)}", at=f"domain {domain}", evidence=domain))
    for location, tensors in sorted(walk.external.items()):
        reason = _escape_reason(location)
        if reason:
            detail = f"{location!r} ({reason}) for {_listing(tensors)}"
            hits.append(
                _Hit("ONNX-EXTERNAL-DATA-ESCAPE", detail, at=f"tensor {min(tensors)}", evidence=location)
            )
    if walk.external:
        hits.append(_Hit("ONNX-EXTERNAL-DATA", f"files {_listing(walk.external)}", at="initializers"))
    if functions:
        names = (f"{domain}.{name}" if domain else name for domain, name in functions)
        hits.append(_Hit("ONNX-FUNCTIONS", f"{len(functions)}: {_listing(names)}", at="functions"))
    if training:
        hits.append(_Hit("ONNX-TRAINING-INFO", f"{training} training step(s)", at="training_info"))
    return hits


# ---------------------------------------------------------------------------------- TensorFlow


@dataclass(frozen=True, slots=True)
class _TfNode:
    name: str
    op: str
    where: str
    """``graph`` or the function holding the node."""
    calls: frozenset[str]
    """Functions named by the node's func-typed attributes."""
    output_stream: str


@dataclass(frozen=True, slots=True)
class _Saver:
    """What a SaverDef names: the nodes that save and restore, and their name scope (TF1)."""

    nodes: frozenset[str] = frozenset()
    scope: str = ""


def _attr_calls(value: memoryview, depth: int) -> Iterable[str]:
    """Function names in an AttrValue: ``func`` (10) or ``list.func`` (1 -> 9), NameAttrList.name."""
    descend(depth)
    for f in iter_fields(value):
        if f.number == 10 and f.wire_type == _L:
            yield _string(f.payload, 1)
        elif f.number == 1 and f.wire_type == _L:
            yield from (_string(item.payload, 1) for item in _fields(f.payload, 9))


def _tf_node(data: memoryview, where: str, depth: int) -> _TfNode:
    depth = descend(depth)
    calls: set[str] = set()
    output_stream = ""
    for entry in _fields(data, 5):  # attr: map<string, AttrValue>
        key = _string(entry.payload, 1)
        for value in _fields(entry.payload, 2):
            calls.update(_attr_calls(value.payload, depth))
            if key == "output_stream":
                output_stream = _string(value.payload, 2)
    return _TfNode(_string(data, 1), _string(data, 2), where, frozenset(calls), output_stream)


def _graph_nodes(graph: memoryview, depth: int, nodes: list[_TfNode]) -> None:
    """Add the nodes of a GraphDef and of every function in its library (FunctionDef.node_def)."""
    depth = descend(depth)
    for f in iter_fields(graph):
        if f.number == 1 and f.wire_type == _L:
            nodes.append(_tf_node(f.payload, "graph", depth))
        elif f.number == 2 and f.wire_type == _L:
            for function in _fields(f.payload, 1):
                name = "".join(_string(sig.payload, 1) for sig in _fields(function.payload, 1))
                nodes.extend(_tf_node(n.payload, name, depth) for n in _fields(function.payload, 3))


def _saver(meta_graph: memoryview) -> _Saver:
    names: set[str] = set()
    for saver_def in _fields(meta_graph, 3):
        names.update(_string(saver_def.payload, n).lstrip("^").split(":")[0] for n in (2, 3))
    names.discard("")
    scopes = {name.rsplit("/", 1)[0] + "/" for name in names if "/" in name}
    return _Saver(nodes=frozenset(names), scope=min(scopes) if len(scopes) == 1 else "")


def _saver_functions(nodes: list[_TfNode], saver: _Saver) -> frozenset[str]:
    """Functions reachable from the saver's nodes: TF2's traced save and restore functions."""
    calls_of: dict[str, set[str]] = {}
    for node in nodes:
        calls = calls_of.setdefault(node.where, set())
        calls.update(node.calls)
    reached: set[str] = set()
    pending = [c for n in nodes if n.where == "graph" and n.name in saver.nodes for c in n.calls]
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(calls_of.get(name, ()))
    return frozenset(reached)


def _tf_hits(nodes: list[_TfNode], saver: _Saver, prefix: str) -> list[_Hit]:
    ops = load("tensorflow")
    in_saver = _saver_functions(nodes, saver)
    found: dict[tuple[str, str], list[str]] = {}
    for node in nodes:
        rule = _tf_rule(node, ops)
        if rule == "SAVEDMODEL-CHECKPOINT-OP" and (
            node.where in in_saver
            or (node.where == "graph" and saver.scope and node.name.startswith(saver.scope))
        ):
            continue
        if rule:
            found.setdefault((rule, node.op), []).append(f"{node.where}/{node.name}")
    return [
        _Hit(
            rule,
            f"{op} in {len(places)} node(s): {_listing(places)}",
            at=f"{prefix}{min(places)}",
            evidence=op,
        )
        for (rule, op), places in sorted(found.items())
    ]


def _tf_rule(node: _TfNode, ops: dict[str, frozenset[str]]) -> str:
    if node.op in ops["python"]:
        return "SAVEDMODEL-PYTHON-OP"
    if node.op in ops["file_write"] or (node.op == "PrintV2" and node.output_stream.startswith("file://")):
        return "SAVEDMODEL-FILE-WRITE-OP"
    if node.op in ops["file_read"]:
        return "SAVEDMODEL-FILE-READ-OP"
    if node.op in ops["debug"]:
        return "SAVEDMODEL-DEBUG-OP"
    if node.op in ops["checkpoint"]:
        return "SAVEDMODEL-CHECKPOINT-OP"
    return ""


def _judge_saved_model(data: memoryview, verdict: _Verdict) -> None:
    for index, meta_graph in enumerate(_fields(data, 2)):
        nodes: list[_TfNode] = []
        saver = _Saver()
        try:
            saver = _saver(meta_graph.payload)
            for graph in _fields(meta_graph.payload, 2):
                _graph_nodes(graph.payload, 1, nodes)
        finally:  # what was seen before a malformation is still reported
            verdict.hits.extend(_tf_hits(nodes, saver, f"meta_graph[{index}] > "))


def _judge_graph_def(data: memoryview, verdict: _Verdict) -> None:
    nodes: list[_TfNode] = []
    try:
        _graph_nodes(data, 0, nodes)
    finally:
        verdict.hits.extend(_tf_hits(nodes, _Saver(), ""))
