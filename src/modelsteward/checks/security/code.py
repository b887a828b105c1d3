"""Static analysis of Python shipped with a model (``trust_remote_code`` modules, scripts).

Nothing is imported or run. Calls are resolved through the file's imports (``import subprocess as
sp``, ``from os import system``, ``__import__('os')``, ``getattr(os, 'system')``) and judged by
what they reach and when they run: code at module or class level, or in ``__init__``, runs as soon
as ``from_pretrained`` loads the model, so the same call weighs more there than in a helper.
Bandit adds its deserialisation and download checks.
"""

from __future__ import annotations

import ast
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from modelsteward.checks.security._context import Context
from modelsteward.core import Severity

# Modelling files are up to a few hundred kilobytes; beyond this the file is not analysed.
MAX_SOURCE_CHARS = 4 << 20

_EXEC = frozenset({"exec", "eval", "compile", "execfile", "runpy.run_path", "runpy.run_module"})
_BUILTINS = "builtins."
_SHELL_EXACT = frozenset(
    {
        "os.system", "os.popen", "os.posix_spawn", "os.posix_spawnp", "os.startfile", "pty.spawn",
        "commands.getoutput", "commands.getstatusoutput", "platform.popen",
        "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    }
)  # fmt: skip
# ``pip.main`` installs packages, which runs their ``setup.py``.
_SHELL_PREFIXES = ("subprocess.", "os.exec", "os.spawn", "pip.main", "pip._internal.")
# Modules that are ``os`` under another name: ``posix.system`` is ``os.system``.
_OS_ALIASES = ("posix.", "nt.")
# Names that reach the module namespace or builtins by subscript: ``__builtins__['exec']``,
# ``sys.modules['os']``, ``globals()['__builtins__']``.
_NAMESPACE_PREFIXES = ("__builtins__.", "sys.modules.", "<globals>.", "<globals>.__builtins__.")
_NETWORK_PREFIXES = (
    "socket.", "urllib.request.", "urllib.urlopen", "urllib2.", "requests.", "http.client.", "ftplib.",
    "smtplib.", "telnetlib.", "httpx.", "aiohttp.", "urllib3.", "paramiko.",
    # Fetches a repository's hubconf.py and imports it.
    "torch.hub.load",
)  # fmt: skip
# Calls that turn opaque data into code text: exec of their result is a hidden payload.
_DECODERS = frozenset(
    {
        "base64.b64decode", "base64.b32decode", "base64.b16decode", "base64.b85decode",
        "base64.a85decode", "base64.decodebytes", "base64.urlsafe_b64decode", "zlib.decompress",
        "bz2.decompress", "lzma.decompress", "gzip.decompress", "codecs.decode", "marshal.loads",
        "binascii.unhexlify", "binascii.a2b_base64", "binascii.a2b_hex", "bytes.fromhex", "chr",
    }
)  # fmt: skip
_DECODER_METHODS = frozenset({"decode", "fromhex", "b64decode", "decompress", "unhexlify"})
# Unpickling data the file itself carries (a constant or a decoded blob) runs a hidden payload.
_UNPICKLERS = frozenset(
    {"pickle.loads", "_pickle.loads", "cPickle.loads", "dill.loads", "cloudpickle.loads", "joblib.load"}
)
_IMPORTERS = frozenset({"__import__", "importlib.import_module", "importlib.__import__"})
_WRITERS = frozenset(
    {
        "open", "io.open", "os.open", "os.rename", "os.replace", "os.symlink", "os.link", "os.chmod",
        "os.remove", "os.unlink", "os.makedirs", "os.mkdir", "shutil.copy", "shutil.copy2",
        "shutil.copyfile", "shutil.move", "shutil.rmtree",
    }
)  # fmt: skip
_WRITER_METHODS = frozenset({"write_text", "write_bytes", "touch", "mkdir", "symlink_to", "chmod", "unlink"})
# Places outside a working directory whose change persists or grants access.
_SENSITIVE_PATH = re.compile(
    r"^~|^/(etc|root|usr|bin|sbin|boot|lib|var|home|proc|sys)(/|$)|\.ssh\b|authorized_keys|\.bashrc|"
    r"\.bash_profile|\.zshrc|\.profile|\.netrc|\.aws\b|\.kube\b|\.docker\b|\.gitconfig|crontab|"
    r"sitecustomize|usercustomize|\.pth$"
)
# Functions whose body runs while a model is being loaded, like module-level code.
_LOAD_TIME_FUNCTIONS = frozenset(
    {"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__"}
)

# Bandit tests for what our own rules do not cover, with the rule each maps to.
_BANDIT_RULES = {
    "B301": "CODE-UNSAFE-DESERIALIZATION",
    "B302": "CODE-UNSAFE-DESERIALIZATION",
    "B506": "CODE-UNSAFE-DESERIALIZATION",
    "B614": "CODE-UNSAFE-DESERIALIZATION",
    "B615": "CODE-UNPINNED-DOWNLOAD",
}


def check_python(source: str, ctx: Context, *, at: str) -> None:
    """Report what the Python ``source`` found at ``at`` would do if imported; never runs it."""
    if len(source) > MAX_SOURCE_CHARS:
        ctx.report("CODE-PARSE-ERROR", f"{len(source)} characters, more than the scanner analyses", at=at)
        ctx.incomplete("Python source too large to analyse", at=at)
        return
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        ctx.report("CODE-PARSE-ERROR", f"{type(error).__name__}: {error}", at=at)
        ctx.incomplete("Python source does not parse", at=at)
        return
    _Analysis(ctx, at).run(tree)
    _run_bandit(source, ctx, at=at)


def looks_like_python(source: str) -> bool:
    """Whether ``source`` parses as Python and does something: an import, def, class or call."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(
        isinstance(stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call))
        for stmt in tree.body
    )


@dataclass
class _Analysis:
    """One pass over one module: its import aliases, then every call with the time it runs."""

    ctx: Context
    at: str
    aliases: dict[str, str] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)
    assigned: dict[str, list[str]] = field(default_factory=dict)
    """Strings in what each variable is assigned, so ``open(keys, 'a')`` sees where ``keys`` points."""
    constants: dict[str, str | None] = field(default_factory=dict)
    """Names bound to one string the scanner can compute (``m = 'o' + 's'``); None once rebound."""
    seen: set[tuple[str, str, int]] = field(default_factory=set)

    def run(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._learn_import(node)
            elif isinstance(node, ast.Assign | ast.NamedExpr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._learn_assignment(target.id, node.value)
        for node, load_time in _calls(tree):
            self._judge(node.func, node, node.args, load_time)
            # A dangerous callable handed over to be called later (``atexit.register(os.system)``,
            # ``Thread(target=exec)``, ``map(eval, ...)``) or applied as a decorator.
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(argument, ast.Name | ast.Attribute | ast.Subscript):
                    self._judge(argument, node, [], load_time, only_dangerous=True)
        for decorator, load_time in _decorators(tree):
            self._judge(decorator, decorator, [], load_time, only_dangerous=True)

    def _learn_assignment(self, name: str, value: ast.expr) -> None:
        self.assigned.setdefault(name, []).extend(_strings(value))
        if name in self.constants:
            self.constants[name] = None
        else:
            self.constants[name] = self.fold(value)
        # ``run = os.system`` or ``e = exec``: the name is the callable from then on.
        if isinstance(value, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
            target = self.qualified(value)
            if _is_dangerous(_normalised(target)) or (
                isinstance(value, ast.Call) and _strip_builtins(self.qualified(value.func)) in _IMPORTERS
            ):
                self.aliases[name] = target

    def fold(self, node: ast.expr) -> str | None:
        """The string ``node`` evaluates to when built from constants only (``'ex' + 'ec'``)."""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.fold(node.left), self.fold(node.right)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = [
                self.fold(v.value if isinstance(v, ast.FormattedValue) and not v.format_spec else v)
                for v in node.values
            ]
            return None if None in parts else "".join(p for p in parts if p is not None)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.List | ast.Tuple)
        ):
            separator = self.fold(node.func.value)
            items = [self.fold(item) for item in node.args[0].elts]
            if separator is None or None in items:
                return None
            return separator.join(item for item in items if item is not None)
        return None

    def _learn_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                # ``import os.path`` binds ``os``; ``import a.b as c`` binds ``c`` to ``a.b``.
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self.aliases[head] = head
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                self.star_modules.append(module)
            else:
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name

    def qualified(self, node: ast.expr) -> str:
        """The dotted name ``node`` refers to, through imports; ``""`` when unknown."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            for module in self.star_modules:
                if _is_dangerous(f"{module}.{node.id}"):
                    return f"{module}.{node.id}"
            return node.id
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else ""
        if isinstance(node, ast.NamedExpr):
            return self.qualified(node.value)
        if isinstance(node, ast.Subscript):
            base, key = self.qualified(node.value), self.fold(node.slice)
            return f"{base}.{key}" if base and key else ""
        if isinstance(node, ast.Call):
            return self._called_module(node)
        return ""

    def _called_module(self, node: ast.Call) -> str:
        # ``__import__('os')`` is ``os``; ``getattr(os, 'system')`` is ``os.system``;
        # ``vars(builtins)`` is ``builtins``; ``globals()`` is the module namespace.
        name = _strip_builtins(self.qualified(node.func))
        first = self.fold(node.args[0]) if node.args else None
        if name in _IMPORTERS and first is not None:
            return first
        if name == "getattr" and len(node.args) >= 2:
            attr = self.fold(node.args[1])
            base = self.qualified(node.args[0])
            if attr is not None and base:
                return f"{base}.{attr}"
        if name == "vars" and len(node.args) == 1:
            return self.qualified(node.args[0])
        if name in {"globals", "locals", "vars"} and not node.args:
            return "<globals>"
        if name == "operator.methodcaller" and first is not None:
            # ``methodcaller('system', cmd)(os)``: the method is called on whatever comes.
            return f"os.{first}"
        return ""

    def _report(self, rule: str, node: ast.AST, name: str, *, severity: Severity | None = None) -> None:
        line = getattr(node, "lineno", 0)
        if (rule, name, line) in self.seen:
            return
        self.seen.add((rule, name, line))
        where = f"{self.at} line {line}" if self.at else f"line {line}"
        self.ctx.report(rule, f"`{name}`", at=where, evidence=name, severity=severity)

    def _judge(
        self,
        func: ast.expr,
        node: ast.AST,
        args: list[ast.expr],
        load_time: bool,
        *,
        only_dangerous: bool = False,
    ) -> None:
        name = _normalised(self.qualified(func))
        if only_dangerous and not _is_dangerous(name):
            return
        if name in _EXEC or (name in _UNPICKLERS and any(self._is_embedded(arg) for arg in args)):
            if any(self._is_embedded(arg) for arg in args):
                self._report("CODE-EXEC-OBFUSCATED", node, name)
            else:
                self._report("CODE-EXEC", node, name, severity=Severity.HIGH if load_time else None)
        elif name in _SHELL_EXACT or name.startswith(_SHELL_PREFIXES):
            self._report("CODE-SHELL", node, name, severity=Severity.CRITICAL if load_time else None)
        elif name.startswith(_NETWORK_PREFIXES):
            self._report("CODE-NETWORK", node, name, severity=Severity.HIGH if load_time else None)
        elif name in _IMPORTERS and not (args and self.fold(args[0]) is not None):
            self._report("CODE-DYNAMIC-IMPORT", node, name)
        elif isinstance(node, ast.Call) and self._writes_sensitive_path(node, name):
            self._report("CODE-SENSITIVE-WRITE", node, name, severity=Severity.HIGH if load_time else None)

    def _is_embedded(self, node: ast.expr) -> bool:
        """Whether ``node`` is data the file carries: bytes, or a decoded blob."""
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            return True
        return any(self._is_decoder(inner) for inner in _subcalls(node))

    def _is_decoder(self, node: ast.Call) -> bool:
        name = _strip_builtins(self.qualified(node.func))
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        return name in _DECODERS or method in _DECODER_METHODS

    def _writes_sensitive_path(self, node: ast.Call, name: str) -> bool:
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name in {"open", "io.open"} and not _opens_for_writing(node):
            return False
        if name not in _WRITERS and method not in _WRITER_METHODS:
            return False
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
        texts = [*_strings(node), *(text for name in names for text in self.assigned.get(name, []))]
        # ``Path.home() / '.ssh'`` and ``expanduser('~/.ssh')`` name the home directory.
        return any(_SENSITIVE_PATH.search(text) for text in texts if text != "/dev/null")


def _calls(tree: ast.Module) -> Iterator[tuple[ast.Call, bool]]:
    """Every call with whether it runs at import or load time; iterative, so deep code cannot overflow."""
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    while stack:
        node, load_time = stack.pop()
        if isinstance(node, ast.Call):
            yield node, load_time
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # Decorators and defaults run where the function is defined; the body runs when called.
            outer = [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults]
            stack.extend((child, load_time) for child in outer if child is not None)
            runs_on_load = load_time and node.name in _LOAD_TIME_FUNCTIONS
            stack.extend((child, runs_on_load) for child in node.body)
        elif isinstance(node, ast.Lambda):
            stack.append((node.body, False))
        elif isinstance(node, ast.If) and _is_main_guard(node.test):
            # ``if __name__ == "__main__":`` runs when the file is a script, not when it is imported.
            stack.extend((child, False) for child in node.body)
            stack.extend((child, load_time) for child in node.orelse)
        else:
            stack.extend((child, load_time) for child in ast.iter_child_nodes(node))


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(_constant_str(c) == "__main__" for c in test.comparators)
    )


def _decorators(tree: ast.Module) -> Iterator[tuple[ast.expr, bool]]:
    """Decorators that are bare references (``@os.system``): each is called on what it decorates."""
    for node, load_time in _definitions(tree):
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                yield decorator, load_time


def _definitions(
    tree: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, bool]]:
    # A definition nested in a function body is decorated when that function runs.
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    while stack:
        node, load_time = stack.pop()
        inner = load_time
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node, load_time
            inner = load_time and (isinstance(node, ast.ClassDef) or node.name in _LOAD_TIME_FUNCTIONS)
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def _subcalls(node: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Call))


def _strings(node: ast.AST) -> Iterator[str]:
    return (n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _constant_str(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _strip_builtins(name: str) -> str:
    return name.removeprefix(_BUILTINS)


def _normalised(name: str) -> str:
    """``name`` as the callable it reaches: namespace lookups and ``os`` aliases removed."""
    previous = ""
    while previous != name:
        previous = name
        for prefix in _NAMESPACE_PREFIXES:
            name = name.removeprefix(prefix)
    if name.startswith(_OS_ALIASES):
        name = "os." + name.split(".", 1)[1]
    return _strip_builtins(name)


def _is_dangerous(name: str) -> bool:
    return name in _SHELL_EXACT or name.startswith(_SHELL_PREFIXES) or name in _EXEC


def _opens_for_writing(node: ast.Call) -> bool:
    mode = (
        node.args[1]
        if len(node.args) > 1
        else next((k.value for k in node.keywords if k.arg == "mode"), None)
    )
    text = _constant_str(mode) if mode is not None else "r"
    # A mode the scanner cannot read is assumed to write.
    return text is None or any(flag in text for flag in "wax+")


@cache
def _bandit() -> tuple[Any, Any, Any, Any]:
    """Bandit's visitor, meta-AST and metrics modules and our test set, imported once, on first use."""
    # Its plugin loader warns about its own deprecated arguments, which is no news to our users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bandit.core import config, meta_ast, metrics, node_visitor, test_set  # noqa: PLC0415 - slow

        tests = test_set.BanditTestSet(config.BanditConfig(), profile={"include": sorted(_BANDIT_RULES)})
    return node_visitor, meta_ast, metrics, tests


def _run_bandit(source: str, ctx: Context, *, at: str) -> None:
    node_visitor, meta_ast, metrics, tests = _bandit()
    data = source.encode("utf-8", "surrogatepass")
    # "./" keeps bandit from looking for packages around a file that is not on disk.
    visitor = node_visitor.BanditNodeVisitor(
        "./shipped_code.py", io.BytesIO(data), meta_ast.BanditMetaAst(), tests, False, {}, metrics.Metrics()
    )
    try:
        visitor.process(data)
    except Exception as error:  # noqa: BLE001 - a bandit failure leaves the file part-scanned, not the scan
        ctx.incomplete(f"bandit failed: {type(error).__name__}", at=at)
        return
    for issue in sorted(visitor.tester.results, key=lambda i: (i.lineno, i.test_id)):
        rule = _BANDIT_RULES.get(issue.test_id)
        if rule is not None:
            where = f"{at} line {issue.lineno}" if at else f"line {issue.lineno}"
            ctx.report(rule, f"{issue.test_id}: {issue.text}", at=where, evidence=issue.test_id)
