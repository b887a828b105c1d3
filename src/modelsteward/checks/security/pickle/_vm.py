"""Simulate CPython's C unpickler over one pickle stream: stack, marks, memo, calls; execute nothing.

Values are stand-ins: a :class:`Ref` for every global the stream imports, :class:`Made` for what
a call returns, tuples and dicts only as far as judging calls needs. Each opcode that would
import, call, instantiate or mutate is judged against the policy as it happens, in stream order,
so whatever a payload does before the stream breaks is seen as the unpickler would have done it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from modelsteward.checks.security._context import Context
from modelsteward.checks.security.pickle._names import Name, hijacks_instance, is_dunder
from modelsteward.checks.security.pickle._policy import CALLABLE, Allowed, Policy, Use, Verdict
from modelsteward.core import Severity
from modelsteward.formats.pickle_ops import Op, PickleSyntaxError, Tokenizer, tokenize


class Ref:
    """A global the stream imported (GLOBAL, STACK_GLOBAL, INST)."""

    __slots__ = ("at", "evidence", "offset", "used", "verdict")

    def __init__(self, verdict: Verdict, at: str, evidence: str, offset: int) -> None:
        self.verdict = verdict
        self.at = at
        self.evidence = evidence
        self.offset = offset
        self.used = False
        """Called or instantiated (judged there), as opposed to only imported."""


class Made:
    """What a call or instantiation returned: by what, with which arguments, and its BUILD state."""

    __slots__ = ("args", "func", "how", "state")

    def __init__(self, how: str, func: Value, args: Value) -> None:
        self.how = how
        self.func = func
        self.args = args
        self.state: Value | None = None


class Text:
    """A str value (STACK_GLOBAL operands, dict keys)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value


class Tuple:
    """A tuple, kept whole: it is what calls receive as arguments."""

    __slots__ = ("items",)

    def __init__(self, items: list[Value]) -> None:
        self.items = items


class Dict:
    """A dict; only its str keys are kept (BUILD states are judged and read by key)."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[str, Value] = {}

    def dunder_keys(self) -> list[str]:
        """Keys such as ``__setstate__``: setting them on an instance is an attack."""
        return [key for key in self.entries if hijacks_instance(key)]


class Int:
    """An int small enough to matter (shapes, alignment, storage sizes, torch's magic number)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


class Other:
    """Any value whose content does not matter: numbers, bytes, lists, sets."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind


Value = Ref | Made | Text | Tuple | Dict | Int | Other
SCALAR = Other("scalar")
CONTAINER = Other("container")
BROKEN = Other("broken")
"""The result of an opcode that failed: judged no further, the failure is already reported."""
EXTERNAL = Other("external")
"""A persistent id, extension code or out-of-band buffer: supplied by the loader, not the stream."""


class _UnpicklerError(Exception):
    """The C unpickler raises here; the simulation records it and carries on tolerantly."""


class _BudgetExhaustedError(Exception):
    """An inner stream used up the file's opcode budget (and reported it): the outer one stops too."""


@dataclass(slots=True)
class Outcome:
    """How a stream ended."""

    end: int | None = None
    """Offset after STOP, or None if the stream did not reach a STOP."""
    value: Value | None = None
    """What the stream loads to: the value STOP popped."""
    ops: int = 0
    limited: bool = False


@dataclass(slots=True)
class Machine:
    """One pickle stream's simulation, reporting into ``ctx``."""

    data: memoryview
    start: int
    ctx: Context
    policy: Policy
    place: Callable[[int], str]
    """Turns an offset into a location (``offset 12`` or ``stream 2, offset 12``)."""
    payload: Callable[[Op], None]
    """Looks into a string or bytes argument for a nested file."""
    limit: int = 0
    """Most opcodes this stream may simulate (what is left of the file's budget)."""
    spent: int = 0
    """Opcodes simulated so far, this stream's and its inner joblib streams' together."""
    inner: bool = False
    """A joblib object-array stream inside another stream."""
    protocol: int = 0
    tokens: Tokenizer = field(init=False)
    stack: list[Value] = field(default_factory=list)
    marks: list[int] = field(default_factory=list)
    memo: dict[int, Value] = field(default_factory=dict)
    imported: list[Ref] = field(default_factory=list)
    getattrs: list[Ref] = field(default_factory=list)
    """Imports of ``getattr``, judged where they are called (see :meth:`attribute`)."""
    persistent: list[Tuple] = field(default_factory=list)
    """Persistent ids given as tuples (BINPERSID), in stream order: the loader resolves them."""
    result: Value | None = None
    frame_end: int = -1
    broken: bool = False
    straddled: bool = False

    def run(self) -> Outcome:
        """Simulate the stream from ``start``; return where it ended."""
        outcome = Outcome()
        limit = self.limit
        handlers = _HANDLERS
        # The hot loop: counted in a local, fields unpacked once (this runs for every opcode).
        count = 0
        self.tokens = tokens = tokenize(self.data, self.start)
        try:
            for op in tokens:
                count += 1
                # Kept in step with the local so that an inner joblib stream is charged from here.
                self.spent = count
                offset, name, _, end = op
                if count > limit:
                    outcome.limited = True
                    self._report("PICKLE-OPS-LIMIT", f"more than {limit} opcodes", offset)
                    self.ctx.incomplete(f"pickle opcode limit {limit} reached", at=self.place(offset))
                    break
                if offset < self.frame_end < end:
                    self.frame_mismatch(
                        op, f"{name} runs past the end of its frame at offset {self.frame_end}"
                    )
                try:
                    handlers[name](self, op)
                except _UnpicklerError as error:
                    self._broke(offset, str(error))
                except _BudgetExhaustedError:
                    outcome.limited = True
                    break
                count = self.spent
                if name == "STOP":
                    outcome.end = end
                    outcome.value = self.result
        except PickleSyntaxError as error:
            self._broke(error.offset, error.reason)
        outcome.ops = self.spent
        self._report_unused()
        return outcome

    # --- reporting -------------------------------------------------------------------------------

    def _report(
        self, rule: str, detail: str, offset: int, evidence: str = "", severity: Severity | None = None
    ) -> None:
        self.ctx.report(rule, detail, at=self.place(offset), evidence=evidence, severity=severity)

    def _broke(self, offset: int, reason: str) -> None:
        if self.broken:
            return
        self.broken = True
        self._report_structure("PICKLE-MALFORMED", reason, offset)
        self.ctx.incomplete(f"pickle stream unreadable: {reason}", at=self.place(offset))

    def frame_mismatch(self, op: Op, detail: str) -> None:
        """Report (once) a frame that the C and pure-Python unpicklers read differently."""
        if not self.straddled:
            self.straddled = True
            self._report_structure("PICKLE-FRAME-MISMATCH", detail, op.offset, evidence=op.name)

    def _report_structure(self, rule: str, detail: str, offset: int, evidence: str = "") -> None:
        """Report how the stream is built, unless it merely looks like a pickle.

        Bytes that merely look like a pickle (array data in a string) break, straddle frames and
        hold EXT opcodes by chance; no loader reads them as a pickle unless something the outer
        stream calls does, and that call is judged on its own. Imports and calls are still reported.
        """
        if not self.ctx.speculative:
            self._report(rule, detail, offset, evidence=evidence)

    def _report_unused(self) -> None:
        for ref in self.getattrs:
            if not ref.used:
                self._deny(ref)
        for ref in self.imported:
            if not ref.used:
                self.ctx.report(
                    "PICKLE-GLOBAL-UNLISTED",
                    f"{ref.verdict.name.dotted} is imported but not on the allowlist",
                    at=ref.at,
                    evidence=ref.evidence,
                )

    # --- stack -----------------------------------------------------------------------------------

    def push(self, value: Value) -> None:
        self.stack.append(value)

    def pop(self) -> Value:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise _UnpicklerError("unpickling stack underflow")
        return self.stack.pop()

    def top(self) -> Value:
        if len(self.stack) <= (self.marks[-1] if self.marks else 0):
            raise _UnpicklerError("unpickling stack underflow")
        return self.stack[-1]

    def pop_mark(self) -> list[Value]:
        if not self.marks:
            raise _UnpicklerError("could not find MARK")
        fence = self.marks.pop()
        items = self.stack[fence:]
        del self.stack[fence:]
        return items

    # --- globals ---------------------------------------------------------------------------------

    def import_global(self, module: str, name: str, op: Op, evidence: str) -> Ref:
        verdict = self.policy.judge(module, name, self.protocol)
        extra = (module, name) in self.ctx.options.allowed_globals or (
            (verdict.name.module, verdict.name.name) in self.ctx.options.allowed_globals
        )
        ref = Ref(verdict, self.place(op.offset), evidence, op.offset)
        dotted = verdict.name.dotted
        if verdict.name == _GETATTR:
            # Python pickles every bound method as getattr(owner, "name") (pandas' tz-aware columns,
            # lazy torch modules' hooks): judged where it is called, with the name it looks up.
            self.getattrs.append(ref)
        elif verdict.denied is not None:
            self._deny(ref)
        elif verdict.dunder:
            ref.used = True
            self._report(
                "PICKLE-GLOBAL-DUNDER", f"{dotted} walks through object internals", op.offset, evidence
            )
        elif extra:
            ref.verdict = Verdict(verdict.name, CALLABLE, None, False)
        elif verdict.allowed is None:
            self.imported.append(ref)
        return ref

    def _deny(self, ref: Ref) -> None:
        ref.used = True
        denied = ref.verdict.denied
        assert denied is not None  # noqa: S101 - only denied verdicts come here
        self._report(
            "PICKLE-GLOBAL-DENIED",
            f"{ref.verdict.name.dotted} ({denied.family})",
            ref.offset,
            ref.evidence,
            severity=denied.severity,
        )

    def attribute(self, func: Value, args: Value, op: Op) -> Value | None:
        """What ``func(*args)`` returns if ``func`` is getattr of a literal name; else None.

        ``getattr(global, "name")`` is the global ``global.name``, imported and judged as such;
        ``getattr(obj, "name")`` is an attribute of an object the stream made (a bound method),
        which is a value, and a computed one if it is called. Any other use of getattr is denied.
        """
        if not (isinstance(func, Ref) and func.verdict.name == _GETATTR):
            return None
        func.used = True
        owner, name = args.items if isinstance(args, Tuple) and len(args.items) == 2 else (BROKEN, BROKEN)
        if not isinstance(name, Text) or not isinstance(owner, Ref | Made):
            self._deny(func)
            return BROKEN
        if isinstance(owner, Made):
            if is_dunder(name.value):
                self._deny(func)
                return BROKEN
            return Made(f"attribute {name.value!r} of {owner.how}", func, args)
        owner.used = True
        target = owner.verdict.name
        if target.name:
            module, path = target.module, f"{target.name}.{name.value}"
        else:
            module, path = target.module, name.value
        return self.import_global(module, path, op, f"{op.name} getattr {target.dotted!r} {name.value!r}")

    # --- calls -----------------------------------------------------------------------------------

    def use(self, target: Value, use: Use, args: Value, op: Op, how: str) -> None:
        """Judge calling or instantiating ``target`` with ``args`` by opcode ``how``."""
        if isinstance(target, Ref) and target.verdict.name == _GETATTR:
            self._deny(target)  # getattr called as anything but getattr(owner, "name") by REDUCE
        elif isinstance(target, Ref):
            self._use_ref(target, use, args, op, how)
        elif target is not BROKEN:
            what = target.how if isinstance(target, Made) else "a value that is not a global"
            self._report(
                "PICKLE-CALL-COMPUTED",
                f"{how} calls {what}, an object computed while loading",
                op.offset,
                evidence=how,
            )

    def _use_ref(self, ref: Ref, use: Use, args: Value, op: Op, how: str) -> None:
        ref.used = True
        verdict = ref.verdict
        if verdict.denied is not None or verdict.dunder:
            return  # reported as critical where it was imported
        allowed = verdict.allowed
        if use is Use.CALL and allowed is not None and allowed.use is Use.ENUM and _enum_args(args):
            use = Use.ENUM
        if allowed is None or not allowed.permits(use):
            verb = "calls" if use is Use.CALL else "instantiates"
            listed = "" if allowed is None else f" (listed for {allowed.use.value} only)"
            self._report(
                "PICKLE-CALL-UNLISTED",
                f"{how} {verb} {verdict.name.dotted}, which is not on the allowlist{listed}",
                op.offset,
                evidence=f"{how} {verdict.name.dotted}",
            )
            return
        if use is not Use.INSTANTIATE and isinstance(args, Tuple):
            self._passed(allowed, args, op, verdict.name.dotted)
            # torch's rebuild functions setattr every key of a state dict argument, as BUILD does.
            self._dunder_state(args.items, op, f"{how} {verdict.name.dotted}")

    def _passed(self, allowed: Allowed, args: Tuple, op: Op, via: str) -> None:
        """Judge what an allowed callable itself calls or instantiates among its arguments."""
        for positions, use in ((allowed.calls_args, Use.CALL), (allowed.instantiates_args, Use.INSTANTIATE)):
            for index in positions:
                if index < len(args.items):
                    passed = args.items[index]
                    # An instance passed where a class is expected was judged when it was made.
                    if isinstance(passed, Ref) or (isinstance(passed, Made) and use is Use.CALL):
                        self.use(
                            passed, use, Tuple([]) if use is Use.CALL else CONTAINER, op, f"{via} argument"
                        )

    def build(self, target: Value, state: Value, op: Op) -> None:
        if isinstance(target, Ref):
            self._mutated(target, op, "BUILD")
        self._dunder_state(state.items if isinstance(state, Tuple) else [state], op, "BUILD")
        if isinstance(target, Made):
            target.state = state
            if _is_ref(target.func, _JOBLIB_WRAPPER) and isinstance(state, Dict):
                self._skip_joblib_array(state, op)

    def _dunder_state(self, values: list[Value], op: Op, how: str) -> None:
        for value in values:
            dunder = value.dunder_keys() if isinstance(value, Dict) else []
            if dunder:
                keys = ", ".join(dunder[:5])
                self._report("PICKLE-BUILD-DUNDER", f"{how} sets {keys}", op.offset, evidence=f"{how} {keys}")

    def _skip_joblib_array(self, state: Dict, op: Op) -> None:
        """Step over the array joblib writes right after its wrapper's BUILD, as joblib reads it."""
        item = _dtype_item(state.entries.get("dtype"))
        shape = state.entries.get("shape")
        dims = [dim.value for dim in shape.items if isinstance(dim, Int)] if isinstance(shape, Tuple) else []
        if (
            item is None
            or not isinstance(shape, Tuple)
            or len(dims) != len(shape.items)
            or min(dims, default=0) < 0
        ):
            raise _UnpicklerError("joblib array wrapper without a readable dtype and shape")
        pos = self.tokens.pos
        if item == 0:
            # Object arrays are a nested pickle stream, loaded by a fresh unpickler; joblib never
            # nests them further, so neither does the simulation (a hostile file could recurse).
            if self.inner:
                raise _UnpicklerError("joblib object array inside a joblib object array")
            left = self.limit - self.spent
            inner = Machine(self.data, pos, self.ctx, self.policy, self.place, self.payload, left, inner=True)
            outcome = inner.run()
            self.spent += outcome.ops
            if outcome.limited:
                raise _BudgetExhaustedError
            end = outcome.end
            if end is None:
                raise PickleSyntaxError(pos, "joblib object array stream did not end")
            self.tokens.pos = end
            return
        if "numpy_array_alignment_bytes" in state.entries and pos < len(self.data):
            pos += 1 + self.data[pos]
        count = 1
        for dim in dims:
            count *= dim
        pos += count * item
        if pos > len(self.data):
            raise PickleSyntaxError(op.offset, "joblib array data is truncated", truncated=True)
        self.tokens.pos = pos

    def mutate(self, target: Value, op: Op) -> None:
        if isinstance(target, Ref):
            self._mutated(target, op, op.name)

    def _mutated(self, ref: Ref, op: Op, how: str) -> None:
        ref.used = True
        dotted = ref.verdict.name.dotted
        self._report(
            "PICKLE-GLOBAL-MUTATED", f"{how} modifies {dotted} itself", op.offset, evidence=f"{how} {dotted}"
        )


_GETATTR = Name("builtins", "getattr")
_JOBLIB_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
_DTYPE_NAMES = ("numpy.dtype", "numpy.core.multiarray.dtype", "numpy._core.multiarray.dtype")
_DTYPE_CODE = re.compile(r"[<>|=]?([a-zA-Z])(\d+)")
# Bytes per unit of a dtype code's number, by kind: a U string counts UCS-4 characters, an O
# array is a nested pickle stream (0); every other kind numpy pickles counts bytes.
_DTYPE_SCALE = {kind: 1 for kind in "biufcmMSaV"} | {"U": 4, "O": 0}


def _is_ref(value: Value, dotted: str) -> bool:
    return isinstance(value, Ref) and value.verdict.name.dotted == dotted


def _dtype_item(dtype: Value | None) -> int | None:
    """Item size of a pickled numpy dtype (0 for object dtypes), from its ``('f8', ...)`` argument."""
    if not isinstance(dtype, Made) or not any(_is_ref(dtype.func, name) for name in _DTYPE_NAMES):
        return None
    args = dtype.args
    if not isinstance(args, Tuple) or not args.items or not isinstance(args.items[0], Text):
        return None
    code = _DTYPE_CODE.fullmatch(args.items[0].value)
    scale = None if code is None else _DTYPE_SCALE.get(code.group(1))
    if code is None or scale is None:
        return None
    state = dtype.state
    # Structured and void dtypes carry their real size in the state tuple (elsize, index 5).
    if code.group(1) == "V" and isinstance(state, Tuple) and len(state.items) > 5:
        elsize = state.items[5]
        if isinstance(elsize, Int):
            return elsize.value
    return scale * int(code.group(2))


def _enum_args(args: Value) -> bool:
    return (
        isinstance(args, Tuple)
        and len(args.items) <= 1
        and all(isinstance(item, Text | Int) or item is SCALAR for item in args.items)
    )


# --- opcode handlers ------------------------------------------------------------------------------

Handler = Callable[[Machine, Op], None]


def _push(value: Value) -> Handler:
    def handler(m: Machine, op: Op) -> None:
        m.stack.append(value)

    return handler


def _int(m: Machine, op: Op) -> None:
    m.push(Int(op.arg) if isinstance(op.arg, int) else SCALAR)


_SMALL = 32
"""Longest integer encoding decoded, in bytes or digits; longer ones only cost time to convert."""


def _long(m: Machine, op: Op) -> None:
    # LONG1/LONG4: a little-endian two's complement body after the opcode byte and its length.
    body = m.data[op.offset + (2 if op.name == "LONG1" else 5) : op.end]
    m.push(Int(int.from_bytes(body, "little", signed=True)) if len(body) <= _SMALL else SCALAR)


def _decimal(m: Machine, op: Op) -> None:
    # INT/LONG (protocols 0 and 1): digits ended by a newline, already checked by the tokenizer;
    # a LONG ends in "L", and "00"/"01" are the protocol 0 booleans (int() reads them as 0 and 1).
    line = m.data[op.offset + 1 : op.end - 1]
    digits = bytes(line).strip(b" \t\r").removesuffix(b"L") if len(line) <= _SMALL else b""
    m.push(Int(int(digits)) if digits else SCALAR)


def _int_arg(op: Op) -> int:
    if isinstance(op.arg, int):
        return op.arg
    raise _UnpicklerError(f"{op.name} without an integer argument")


def _pair_arg(op: Op) -> tuple[str, str]:
    if isinstance(op.arg, tuple):
        return op.arg
    raise _UnpicklerError(f"{op.name} without a module and name")


def _text(m: Machine, op: Op) -> None:
    if not isinstance(op.arg, str):
        raise _UnpicklerError(f"{op.name} without a text argument")
    m.payload(op)
    m.push(Text(op.arg))


def _bytes(m: Machine, op: Op) -> None:
    m.payload(op)
    m.push(SCALAR)


def _stop(m: Machine, op: Op) -> None:
    m.result = m.pop()


def _pop(m: Machine, op: Op) -> None:
    if len(m.stack) > (m.marks[-1] if m.marks else 0):
        m.stack.pop()
    elif m.marks:
        m.marks.pop()
    else:
        raise _UnpicklerError("unpickling stack underflow")


def _pop_mark(m: Machine, op: Op) -> None:
    m.pop_mark()


def _dup(m: Machine, op: Op) -> None:
    m.push(m.top())


def _mark(m: Machine, op: Op) -> None:
    m.marks.append(len(m.stack))


def _proto(m: Machine, op: Op) -> None:
    m.protocol = _int_arg(op)


def _frame(m: Machine, op: Op) -> None:
    length = _int_arg(op)
    # The C unpickler fails on a frame longer than the data; the pure-Python one (joblib, dill)
    # reads on past it. Reading on covers both.
    if length > len(m.data) - op.end:
        m.frame_mismatch(op, f"FRAME of {length} bytes is longer than the {len(m.data) - op.end} bytes left")
    elif op.offset < m.frame_end:
        m.frame_mismatch(op, f"FRAME starts inside the previous frame, which ends at offset {m.frame_end}")
    m.frame_end = op.end + length


def _tuple_n(count: int) -> Handler:
    def handler(m: Machine, op: Op) -> None:
        items = [m.pop() for _ in range(count)]
        items.reverse()
        m.push(Tuple(items))

    return handler


def _tuple(m: Machine, op: Op) -> None:
    m.push(Tuple(m.pop_mark()))


def _list(m: Machine, op: Op) -> None:
    m.pop_mark()
    m.push(CONTAINER)


def _dict(m: Machine, op: Op) -> None:
    items = m.pop_mark()
    if len(items) % 2:
        raise _UnpicklerError("odd number of items for DICT")
    result = Dict()
    _fill(result, items)
    m.push(result)


def _fill(target: Dict, items: list[Value]) -> None:
    for key, value in zip(items[0::2], items[1::2], strict=True):
        if isinstance(key, Text):
            target.entries[key.value] = value


def _append(m: Machine, op: Op) -> None:
    m.pop()
    m.mutate(m.top(), op)


def _appends(m: Machine, op: Op) -> None:
    m.pop_mark()
    m.mutate(m.top(), op)


def _setitem(m: Machine, op: Op) -> None:
    value = m.pop()
    key = m.pop()
    _set_items(m, [key, value], op)


def _setitems(m: Machine, op: Op) -> None:
    items = m.pop_mark()
    if len(items) % 2:
        raise _UnpicklerError("odd number of items for SETITEMS")
    _set_items(m, items, op)


def _set_items(m: Machine, items: list[Value], op: Op) -> None:
    target = m.top()
    m.mutate(target, op)
    if isinstance(target, Dict):
        _fill(target, items)


def _additems(m: Machine, op: Op) -> None:
    m.pop_mark()
    m.mutate(m.top(), op)


def _frozenset(m: Machine, op: Op) -> None:
    m.pop_mark()
    m.push(CONTAINER)


def _memo_get(m: Machine, op: Op) -> None:
    index = _int_arg(op)
    value = m.memo.get(index)
    if value is None:
        m.push(BROKEN)
        raise _UnpicklerError(f"memo value not found at index {index}")
    m.push(value)


def _memo_put(m: Machine, op: Op) -> None:
    index = _int_arg(op)
    if index < 0:
        raise _UnpicklerError("negative PUT argument")
    m.memo[index] = m.top()


def _memoize(m: Machine, op: Op) -> None:
    m.memo[len(m.memo)] = m.top()


def _global(m: Machine, op: Op) -> None:
    module, name = _pair_arg(op)
    m.push(m.import_global(module, name, op, f"{op.name} {module!r} {name!r}"))


def _stack_global(m: Machine, op: Op) -> None:
    name = m.pop()
    module = m.pop()
    if isinstance(module, Text) and isinstance(name, Text):
        evidence = f"STACK_GLOBAL {module.value!r} {name.value!r}"
        m.push(m.import_global(module.value, name.value, op, evidence))
    elif BROKEN in (module, name):
        m.push(BROKEN)
    elif isinstance(module, Ref | Made) or isinstance(name, Ref | Made) or EXTERNAL in (module, name):
        m._report(
            "PICKLE-GLOBAL-DYNAMIC",
            "STACK_GLOBAL imports a name computed while loading",
            op.offset,
            evidence="STACK_GLOBAL",
        )
        m.push(BROKEN)
    else:
        m.push(BROKEN)
        raise _UnpicklerError("STACK_GLOBAL requires str")


def _inst(m: Machine, op: Op) -> None:
    module, name = _pair_arg(op)
    args = m.pop_mark()
    ref = m.import_global(module, name, op, f"INST {module!r} {name!r}")
    # INST and OBJ call the class (with no arguments too, unless it is a plain type): a call.
    m.use(ref, Use.CALL, Tuple(args), op, "INST")
    m.push(Made(f"the result of INST at offset {op.offset}", ref, Tuple(args)))


def _obj(m: Machine, op: Op) -> None:
    items = m.pop_mark()
    if not items:
        raise _UnpicklerError("OBJ without a class")
    m.use(items[0], Use.CALL, Tuple(items[1:]), op, "OBJ")
    m.push(Made(f"the result of OBJ at offset {op.offset}", items[0], Tuple(items[1:])))


def _reduce(m: Machine, op: Op) -> None:
    args = m.pop()
    func = m.pop()
    found = m.attribute(func, args, op)
    if found is not None:
        m.push(found)
        return
    m.use(func, Use.CALL, args, op, "REDUCE")
    m.push(Made(f"the result of REDUCE at offset {op.offset}", func, args))


def _newobj(m: Machine, op: Op) -> None:
    if op.name == "NEWOBJ_EX":
        m.pop()
    args = m.pop()
    cls = m.pop()
    m.use(cls, Use.INSTANTIATE, args, op, op.name)
    m.push(Made(f"the result of {op.name} at offset {op.offset}", cls, args))


def _build(m: Machine, op: Op) -> None:
    state = m.pop()
    m.build(m.top(), state, op)


def _ext(m: Machine, op: Op) -> None:
    m._report_structure(
        "PICKLE-EXT",
        f"{op.name} {op.arg} names an object from the copyreg extension registry",
        op.offset,
        evidence=f"{op.name} {op.arg}",
    )
    m.push(EXTERNAL)


def _empty_tuple(m: Machine, op: Op) -> None:
    m.push(Tuple([]))


def _empty_dict(m: Machine, op: Op) -> None:
    m.push(Dict())


def _binpersid(m: Machine, op: Op) -> None:
    pid = m.pop()
    # torch's legacy persistent_load returns the class named in a ('module', cls, file, source) id.
    if isinstance(pid, Tuple) and len(pid.items) > 1 and _is_text(pid.items[0], "module"):
        m.push(pid.items[1])
        return
    if isinstance(pid, Tuple):
        m.persistent.append(pid)
    m.push(EXTERNAL)


def _is_text(value: Value, text: str) -> bool:
    return isinstance(value, Text) and value.value == text


def _readonly_buffer(m: Machine, op: Op) -> None:
    m.top()


_HANDLERS: dict[str, Handler] = {
    "MARK": _mark, "STOP": _stop, "POP": _pop, "POP_MARK": _pop_mark, "DUP": _dup,
    "FLOAT": _push(SCALAR), "INT": _decimal, "BININT": _int, "BININT1": _int,
    "LONG": _decimal, "BININT2": _int, "NONE": _push(SCALAR), "PERSID": _push(EXTERNAL),
    "BINPERSID": _binpersid, "REDUCE": _reduce, "STRING": _text, "BINSTRING": _text,
    "SHORT_BINSTRING": _text, "UNICODE": _text, "BINUNICODE": _text, "APPEND": _append, "BUILD": _build,
    "GLOBAL": _global, "DICT": _dict, "EMPTY_DICT": _empty_dict, "APPENDS": _appends,
    "GET": _memo_get, "BINGET": _memo_get, "INST": _inst, "LONG_BINGET": _memo_get, "LIST": _list,
    "EMPTY_LIST": _push(CONTAINER), "OBJ": _obj, "PUT": _memo_put, "BINPUT": _memo_put,
    "LONG_BINPUT": _memo_put, "SETITEM": _setitem, "TUPLE": _tuple, "EMPTY_TUPLE": _empty_tuple,
    "SETITEMS": _setitems, "BINFLOAT": _push(SCALAR), "BINBYTES": _bytes, "SHORT_BINBYTES": _bytes,
    "PROTO": _proto, "NEWOBJ": _newobj, "EXT1": _ext, "EXT2": _ext, "EXT4": _ext, "TUPLE1": _tuple_n(1),
    "TUPLE2": _tuple_n(2), "TUPLE3": _tuple_n(3), "NEWTRUE": _push(SCALAR), "NEWFALSE": _push(SCALAR),
    "LONG1": _long, "LONG4": _long, "SHORT_BINUNICODE": _text, "BINUNICODE8": _text,
    "BINBYTES8": _bytes, "EMPTY_SET": _push(CONTAINER), "ADDITEMS": _additems, "FROZENSET": _frozenset,
    "NEWOBJ_EX": _newobj, "STACK_GLOBAL": _stack_global, "MEMOIZE": _memoize, "FRAME": _frame,
    "BYTEARRAY8": _bytes, "NEXT_BUFFER": _push(EXTERNAL), "READONLY_BUFFER": _readonly_buffer,
}  # fmt: skip
