"""Judge a Jinja chat template by what its syntax tree reaches, without ever rendering it.

Hugging Face renders chat templates in an ``ImmutableSandboxedEnvironment``; other runtimes
(llama-cpp-python before CVE-2024-34359 was fixed) used a plain environment, where
``self.__init__.__globals__`` reaches ``os``. So the template is parsed with Jinja's own parser
and its tree is judged by the Python internals, gadget globals and names it touches. String
expressions are constant-folded first, so ``'__cla' ~ 'ss__'``, ``'__ssalc__'|reverse`` or
``chr(95)`` build the names they spell.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension, loopcontrols
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from modelsteward.checks.security._context import Context
from modelsteward.core import Severity

# Real chat templates are a few kilobytes (the largest tool-calling ones ~30 KB); Jinja parses
# about 0.5 MB a second.
MAX_TEMPLATE_CHARS = 256 << 10
# Folded strings longer than this are not followed: names are short, and ``'a' * 10**9`` is a bomb.
_MAX_FOLDED = 4096
_MAX_FOLD_DEPTH = 32
_UNKNOWN = object()

# Jinja's defaults that HF keeps (range, dict, namespace are used by real templates) are fine;
# these reach Python objects with ``__globals__`` (lipsum, cycler, joiner, self) or are the
# Flask globals SSTI payloads are written against.
_GADGET_GLOBALS = frozenset(
    {"lipsum", "cycler", "joiner", "self", "config", "request", "url_for", "get_flashed_messages"}
)
# Names no template environment provides; a template that reaches for them wants the OS.
_DANGEROUS_NAMES = frozenset(
    {
        "os", "sys", "subprocess", "builtins", "importlib", "eval", "exec", "execfile", "compile",
        "open", "getattr", "setattr", "delattr", "globals", "locals", "breakpoint", "popen",
    }
)  # fmt: skip
# Attribute names on the path from a Python object to the OS or to frames.
_DANGEROUS_ATTRIBUTES = frozenset(
    {
        "os", "sys", "subprocess", "builtins", "popen", "environ", "import_module", "check_output",
        "check_call", "getoutput", "getstatusoutput", "eval", "exec", "execfile", "f_globals",
        "f_locals", "f_builtins", "f_back", "gi_frame", "gi_code", "cr_frame", "cr_code", "ag_frame",
        "tb_frame", "co_code", "func_globals", "func_code",
    }
)  # fmt: skip
# Dangerous only when called: ``ns.system`` is a plausible namespace field, ``x.system('id')`` is not.
_DANGEROUS_METHODS = frozenset({"system", "spawn", "execv", "execve", "execl", "execlp", "execvp"})
# Generic method names that are dangerous only on a process module: ``subprocess.run(...)``.
_PROCESS_METHODS = frozenset({"call", "run", "Popen"})
_PROCESS_MODULES = frozenset({"subprocess", "os", "pty"})
# Filters that read the attribute their argument names (``map(attribute=n)``, ``selectattr(n)``):
# the positional index of that argument, and its keyword.
_ATTRIBUTE_FILTERS: dict[str, tuple[int | None, str]] = {
    "selectattr": (0, "attribute"),
    "rejectattr": (0, "attribute"),
    "groupby": (0, "attribute"),
    "sort": (2, "attribute"),
    "unique": (1, "attribute"),
    "min": (1, "attribute"),
    "max": (1, "attribute"),
    "sum": (0, "attribute"),
    "map": (None, "attribute"),
}
# Filters that build strings: a subscript key built with them and not computable is built to hide.
_STRING_FILTERS = frozenset(
    {"join", "reverse", "format", "replace", "lower", "upper", "title", "capitalize", "string",
     "trim", "center", "list", "first", "last", "sum", "map", "indent", "truncate", "wordwrap"}
)  # fmt: skip
_TEMPLATE_FILE_ACCESS = (nodes.Import, nodes.FromImport, nodes.Include, nodes.Extends)

_DUNDER = re.compile(r"__[A-Za-z]\w*__")
_PRIVATE = re.compile(r"_\w+")
# A dunder used as code inside a string: ``{0.__class__}`` for str.format, ``__import__('os')``
# for eval. ``__init__.py`` in prose is not code.
_DUNDER_IN_TEXT = re.compile(r"[.\[\]'\"]\s*__[A-Za-z]\w*__|__[A-Za-z]\w*__\s*(?:[(\[]|\.(?!py\b))")
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")
_PERCENT_FIELD = re.compile(r"%(.)")


class _GenerationTag(Extension):
    """HF's ``{% generation %}`` block (AssistantTracker): parsed so real templates using it parse."""

    tags = {"generation"}  # noqa: RUF012 - Jinja's Extension declares it a plain class attribute

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


@cache
def _environment() -> ImmutableSandboxedEnvironment:
    # The environment HF's apply_chat_template builds; used to parse only, never to render.
    return ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, loopcontrols]
    )


def check_template(source: str, ctx: Context, *, at: str, claimed: bool = True) -> None:
    """Report what the Jinja template ``source`` found at ``at`` reaches, without rendering it.

    ``claimed`` says the content is declared a template (a ``chat_template`` key, a ``.jinja``
    file): one that does not parse is then reported and the file marked incomplete. An unclaimed
    string that merely contains ``{{`` and does not parse is left alone.
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        ctx.report("TEMPLATE-TOO-LARGE", f"{len(source)} characters", at=at)
        ctx.incomplete(f"template larger than {MAX_TEMPLATE_CHARS} characters not parsed", at=at)
        _judge_text(source, ctx, at=at)
        return
    try:
        tree = _environment().parse(source)
    except (TemplateSyntaxError, RecursionError, MemoryError) as error:
        if claimed:
            ctx.report("TEMPLATE-PARSE-ERROR", _describe(error), at=at)
            ctx.incomplete("template does not parse", at=at)
            _judge_text(source, ctx, at=at)
        return
    _Judge(ctx, at).run(tree)


def _describe(error: BaseException) -> str:
    if isinstance(error, TemplateSyntaxError):
        return f"line {error.lineno}: {error.message}"
    return f"structure too deep or large ({type(error).__name__})"


def _judge_text(source: str, ctx: Context, *, at: str) -> None:
    """What can be said of a template too large or too broken to parse: dunders used as code."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(m.lastindex or 1), 16)), source)
    found = _DUNDER_IN_TEXT.search(text)
    if found:
        ctx.report(
            "TEMPLATE-DUNDER-ACCESS", "in text the parser could not read", at=at, evidence=found.group()
        )


def _preorder(root: nodes.Node) -> Iterator[nodes.Node]:
    # Iterative: a hostile template can nest deeper than Python's recursion limit.
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(node.iter_child_nodes())))


@dataclass
class _Judge:
    """One walk over one template's tree, with the string variables it has seen assigned."""

    ctx: Context
    at: str
    variables: dict[str, object] = field(default_factory=dict)
    stored: set[str] = field(default_factory=set)
    seen: set[tuple[str, str]] = field(default_factory=set)
    built: set[str] = field(default_factory=set)
    """Variables holding a string the template built in a way the folder could not follow."""

    def run(self, tree: nodes.Template) -> None:
        self.stored = {n.name for n in _preorder(tree) if isinstance(n, nodes.Name) and n.ctx != "load"}
        # Depth first in document order; an assignment takes effect once its value has been
        # visited, so ``{% set a = a ~ 'ss__' %}`` folds with the old ``a``.
        stack: list[tuple[nodes.Node, bool]] = [(tree, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self._remember(node)
                continue
            self._visit(node)
            if isinstance(node, nodes.Assign | nodes.AssignBlock):
                stack.append((node, True))
            stack.extend((child, False) for child in reversed(list(node.iter_child_nodes())))

    def _report(self, rule: str, node: nodes.Node, evidence: str, severity: Severity | None = None) -> None:
        # One finding per rule and name: a template that repeats a payload is not more dangerous.
        if (rule, evidence) in self.seen:
            return
        self.seen.add((rule, evidence))
        where = f"{self.at} line {node.lineno}" if self.at else f"line {node.lineno}"
        self.ctx.report(rule, f"`{evidence}`", at=where, evidence=evidence, severity=severity)

    def _visit(self, node: nodes.Node) -> None:
        if isinstance(node, _TEMPLATE_FILE_ACCESS):
            self._report("TEMPLATE-FILE-ACCESS", node, type(node).__name__.lower())
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            self._name(node)
        elif isinstance(node, nodes.Getattr):
            self._attribute(node, node.attr)
        elif isinstance(node, nodes.Keyword):
            self._string(node, node.key)
        elif isinstance(node, nodes.Getitem):
            key = self._fold(node.arg)
            if isinstance(key, str):
                self._attribute(node, key)
            elif key is _UNKNOWN and self._is_built(node.arg):
                # Jinja falls back from ``x[key]`` to ``getattr(x, key)``.
                self._report("TEMPLATE-DYNAMIC-ATTRIBUTE", node, "[<computed>]")
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            self._attr_filter(node)
        elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_FILTERS:
            self._attribute_argument(node)
        elif isinstance(node, nodes.Call):
            self._call(node)
        elif isinstance(node, nodes.TemplateData):
            self._string(node, node.data)
        if isinstance(node, nodes.Expr) and not isinstance(node, nodes.Name | nodes.Getattr):
            value = self._fold(node)
            if isinstance(value, str):
                self._string(node, value)

    def _name(self, node: nodes.Name) -> None:
        name = node.name
        if name.startswith("_"):
            self._report("TEMPLATE-DUNDER-ACCESS", node, name)
        elif name in self.stored:
            return
        elif name in _GADGET_GLOBALS:
            self._report("TEMPLATE-GADGET-GLOBAL", node, name)
        elif name in _DANGEROUS_NAMES:
            self._report("TEMPLATE-DANGEROUS-NAME", node, name)

    def _attribute(self, node: nodes.Node, name: str) -> None:
        if _DUNDER.fullmatch(name):
            self._report("TEMPLATE-DUNDER-ACCESS", node, name)
        elif _PRIVATE.fullmatch(name) and not isinstance(node, nodes.Getitem):
            # ``x['_id']`` may be a dict key; ``x._module`` is an object's private attribute.
            self._report("TEMPLATE-PRIVATE-ATTRIBUTE", node, name)
        elif name in _DANGEROUS_ATTRIBUTES:
            self._report("TEMPLATE-DANGEROUS-NAME", node, name)

    def _attr_filter(self, node: nodes.Filter) -> None:
        name = self._fold(node.args[0]) if node.args else _UNKNOWN
        if isinstance(name, str):
            self._attribute(node, name)
        else:
            self._report("TEMPLATE-DYNAMIC-ATTRIBUTE", node, "attr(<computed>)")

    def _attribute_argument(self, node: nodes.Filter) -> None:
        position, keyword = _ATTRIBUTE_FILTERS[node.name]
        args = node.args
        if node.name == "map":
            # ``map('attr', name)`` applies the attr filter; ``map('upper')`` any other filter.
            position = 1 if args and self._fold(args[0]) == "attr" else None
        named = [k.value for k in node.kwargs if k.key == keyword]
        if position is not None and len(args) > position:
            named.append(args[position])
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            self._report("TEMPLATE-DYNAMIC-ATTRIBUTE", node, f"{node.name}(<computed>)")
        for argument in named:
            value = self._fold(argument)
            if isinstance(value, str):
                # Jinja's attribute getter follows dotted paths: ``'__class__.__base__'``.
                for part in value.split("."):
                    self._attribute(node, part)
            elif value is _UNKNOWN:
                self._report("TEMPLATE-DYNAMIC-ATTRIBUTE", node, f"{node.name}(<computed>)")

    def _is_built(self, key: nodes.Node) -> bool:
        """Whether ``key`` is a string the template assembles rather than data it was given."""
        for node in _preorder(key):
            if isinstance(node, nodes.Concat | nodes.FilterBlock):
                return True
            if isinstance(node, nodes.Filter) and node.name in _STRING_FILTERS:
                return True
            if isinstance(node, nodes.Call) and getattr(node.node, "name", None) == "caller":
                return True
            if isinstance(node, nodes.BinExpr) and any(
                isinstance(side, nodes.Const) and isinstance(side.value, str)
                for side in (node.left, node.right)
            ):
                return True
            if _variable_name(node) in self.built:
                return True
        return False

    def _call(self, node: nodes.Call) -> None:
        func = node.node
        if isinstance(func, nodes.Name) and func.name not in self.stored and func.name in _DANGEROUS_NAMES:
            self._report("TEMPLATE-DANGEROUS-NAME", node, f"{func.name}()", Severity.CRITICAL)
        elif isinstance(func, nodes.Getattr) and (
            func.attr in _DANGEROUS_METHODS
            or func.attr in _DANGEROUS_ATTRIBUTES
            or (func.attr in _PROCESS_METHODS and _names_process_module(func.node))
        ):
            self._report("TEMPLATE-DANGEROUS-NAME", node, f".{func.attr}()", Severity.CRITICAL)

    def _string(self, node: nodes.Node, value: str) -> None:
        if _DUNDER.fullmatch(value.strip()):
            self._report("TEMPLATE-DUNDER-ACCESS", node, value.strip())
        else:
            found = _DUNDER_IN_TEXT.search(value)
            if found:
                self._report("TEMPLATE-DUNDER-STRING", node, found.group())

    def _remember(self, node: nodes.Node) -> None:
        if isinstance(node, nodes.AssignBlock):
            value = self._fold_body(node.body)
        elif isinstance(node, nodes.Assign):
            value = self._fold(node.node)
        else:
            return
        target = node.target
        name = f"{target.name}.{target.attr}" if isinstance(target, nodes.NSRef) else _variable_name(target)
        if (
            name is not None
            and value is _UNKNOWN
            and (isinstance(node, nodes.AssignBlock) or self._is_built(node.node))
        ):
            self.built.add(name)
        elif name is not None:
            self.built.discard(name)
        if isinstance(target, nodes.NSRef):
            self.variables[f"{target.name}.{target.attr}"] = value
        elif isinstance(target, nodes.Name):
            self.variables[target.name] = value
            # ``namespace(a='__cla')`` seeds fields that ``ns.a`` later reads.
            call = node.node if isinstance(node, nodes.Assign) else None
            if isinstance(call, nodes.Call) and getattr(call.node, "name", None) == "namespace":
                for keyword in call.kwargs:
                    self.variables[f"{target.name}.{keyword.key}"] = self._fold(keyword.value)

    def _fold_body(self, body: list[nodes.Node]) -> object:
        parts = [self._fold(child) for child in body]
        return _concat(parts)

    def _fold(self, node: nodes.Node, depth: int = 0) -> object:
        """The string, int or tuple ``node`` evaluates to, or ``_UNKNOWN``; bounded in size and depth."""
        if depth > _MAX_FOLD_DEPTH:
            return _UNKNOWN
        value = self._fold_node(node, depth + 1)
        if isinstance(value, str) and len(value) > _MAX_FOLDED:
            return _UNKNOWN
        if isinstance(value, tuple) and len(value) > _MAX_FOLDED:
            return _UNKNOWN
        return value

    def _fold_node(self, node: nodes.Node, depth: int) -> object:
        if isinstance(node, nodes.Const):
            return node.value if type(node.value) in (str, int) else _UNKNOWN
        if isinstance(node, nodes.TemplateData):
            return node.data
        if isinstance(node, nodes.Output):
            return _concat([self._fold(child, depth) for child in node.nodes])
        if isinstance(node, nodes.FilterBlock):
            body = _concat([self._fold(child, depth) for child in node.body])
            return self._apply_filter(node.filter, body, depth)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            return self.variables.get(node.name, _UNKNOWN)
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            return self.variables.get(f"{node.node.name}.{node.attr}", _UNKNOWN)
        if isinstance(node, nodes.List | nodes.Tuple):
            items = tuple(self._fold(item, depth) for item in node.items)
            return _UNKNOWN if _UNKNOWN in items else items
        if isinstance(node, nodes.Concat):
            return _concat([self._fold(child, depth) for child in node.nodes])
        if isinstance(node, nodes.BinExpr):
            return _binary(node.operator, self._fold(node.left, depth), self._fold(node.right, depth))
        if isinstance(node, nodes.Getitem):
            return _index(self._fold(node.node, depth), node.arg, lambda n: self._fold(n, depth))
        if isinstance(node, nodes.Filter) and node.node is not None:
            args = [self._fold(arg, depth) for arg in node.args]
            return _method(node.name, self._fold(node.node, depth), args, filter_=True)
        if isinstance(node, nodes.Call):
            args = [self._fold(arg, depth) for arg in node.args]
            if isinstance(node.node, nodes.Name) and node.node.name == "chr":
                return _chr(args)
            if isinstance(node.node, nodes.Getattr):
                return _method(node.node.attr, self._fold(node.node.node, depth), args, filter_=False)
        return _UNKNOWN

    def _apply_filter(self, node: nodes.Filter, value: object, depth: int) -> object:
        # ``{% filter a|b %}``: the chain is nested with the innermost filter's node left empty.
        if node.node is not None and isinstance(node.node, nodes.Filter):
            value = self._apply_filter(node.node, value, depth)
        args = [self._fold(arg, depth) for arg in node.args]
        return _method(node.name, value, args, filter_=True)


def _variable_name(node: nodes.Node) -> str | None:
    # ``v`` or ``ns.v``: how the fold tables key a variable.
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}.{node.attr}"
    return None


def _names_process_module(receiver: nodes.Node) -> bool:
    # ``subprocess.call`` or ``x.modules['subprocess'].run``: the receiver spells the module.
    for node in _preorder(receiver):
        name = getattr(node, "attr", None) or getattr(node, "name", None) or getattr(node, "value", None)
        if name in _PROCESS_MODULES:
            return True
    return False


def _concat(parts: list[object]) -> object:
    if any(part is _UNKNOWN for part in parts):
        return _UNKNOWN
    return "".join(str(part) for part in parts)


def _binary(operator: str, left: object, right: object) -> object:
    if left is _UNKNOWN or right is _UNKNOWN:
        return _UNKNOWN
    if operator == "+" and type(left) is type(right) and isinstance(left, str | int | tuple):
        return left + right  # type: ignore[operator]
    if operator == "*" and isinstance(left, str | tuple) and isinstance(right, int):
        return left * right if len(left) * right <= _MAX_FOLDED else _UNKNOWN
    if operator == "*" and isinstance(left, int) and isinstance(right, int) and abs(right) < _MAX_FOLDED:
        return left * right
    if operator == "%" and isinstance(left, str):
        return _percent(left, right if isinstance(right, tuple) else (right,))
    return _UNKNOWN


def _index(value: object, arg: nodes.Node, fold: Callable[[nodes.Node], object]) -> object:
    if not isinstance(value, str | tuple):
        return _UNKNOWN
    if isinstance(arg, nodes.Slice):
        bounds = [None if part is None else fold(part) for part in (arg.start, arg.stop, arg.step)]
        ints = [b for b in bounds if isinstance(b, int)]
        if len(ints) == sum(b is not None for b in bounds) and bounds[2] != 0:
            start, stop, step = (b if isinstance(b, int) else None for b in bounds)
            return value[start:stop:step]
        return _UNKNOWN
    index = fold(arg)
    if isinstance(index, int) and -len(value) <= index < len(value):
        return value[index]
    return _UNKNOWN


def _chr(args: list[object]) -> object:
    if len(args) == 1 and isinstance(args[0], int) and 0 <= args[0] < 0x110000:
        return chr(args[0])
    return _UNKNOWN


_CASE_METHODS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "capitalize": str.capitalize,
    "swapcase": str.swapcase,
    "string": str,
}
_STRIP_METHODS: dict[str, Callable[[str, str | None], str]] = {
    "strip": str.strip,
    "trim": str.strip,
    "lstrip": str.lstrip,
    "rstrip": str.rstrip,
}


def _method(name: str, receiver: object, args: list[object], *, filter_: bool) -> object:
    """Apply the string method or Jinja filter ``name`` when every input is known."""
    if receiver is _UNKNOWN or _UNKNOWN in args:
        return _UNKNOWN
    if name == "join":
        # ``sep.join(items)`` as a method; ``items|join(sep)`` as a filter.
        items, sep = (receiver, args[0] if args else "") if filter_ else (args[0] if args else (), receiver)
        if isinstance(sep, str) and isinstance(items, tuple | str):
            return sep.join(str(item) for item in items)
        return _UNKNOWN
    if filter_ and name in ("reverse", "first", "last") and isinstance(receiver, str | tuple) and receiver:
        return {"reverse": receiver[::-1], "first": receiver[0], "last": receiver[-1]}[name]
    if not isinstance(receiver, str):
        return _UNKNOWN
    if name in _CASE_METHODS and not args:
        return _CASE_METHODS[name](receiver)
    if name in _STRIP_METHODS and len(args) <= 1 and all(isinstance(a, str) for a in args):
        return _STRIP_METHODS[name](receiver, *args)  # type: ignore[arg-type]
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        if args[0] and receiver.count(args[0]) * len(args[1]) > _MAX_FOLDED:
            return _UNKNOWN
        return receiver.replace(args[0], args[1])
    if name == "format":
        return _percent(receiver, tuple(args)) if filter_ else _braces(receiver, tuple(args))
    return _UNKNOWN


def _percent(template: str, args: tuple[object, ...]) -> object:
    """``template % args`` for plain ``%s %c %d %%`` fields only: widths could be bombs."""
    out: list[str] = []
    position = 0
    values = iter(args)
    for match in _PERCENT_FIELD.finditer(template):
        kind = match.group(1)
        text = "%" if kind == "%" else _percent_field(kind, next(values, _UNKNOWN))
        if text is None:
            return _UNKNOWN
        out += [template[position : match.start()], text]
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _percent_field(kind: str, value: object) -> str | None:
    if kind == "s" and isinstance(value, str | int):
        return str(value)
    if kind == "d" and isinstance(value, int):
        return str(value)
    if kind == "c" and isinstance(value, str) and len(value) == 1:
        return value
    if kind == "c" and isinstance(value, int):
        char = _chr([value])
        return char if isinstance(char, str) else None
    return None


def _braces(template: str, args: tuple[object, ...]) -> object:
    """``template.format(*args)`` for plain ``{}`` / ``{0}`` fields only (no attributes, no specs)."""
    out: list[str] = []
    automatic = 0
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return _UNKNOWN
    for literal, field_name, spec, conversion in parsed:
        out.append(literal)
        if field_name is None:
            continue
        if spec or conversion or not (field_name == "" or field_name.isdigit()):
            return _UNKNOWN
        index = automatic if field_name == "" else int(field_name)
        automatic += 1
        if index >= len(args) or not isinstance(args[index], str | int):
            return _UNKNOWN
        out.append(str(args[index]))
    return "".join(out)
