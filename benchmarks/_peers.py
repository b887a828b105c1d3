"""Shared by the benchmarks: install peer scanners, run a scanner on a path, read its verdicts.

Every scanner (the peers and steward) is run the same way: as a subprocess of its own command
line, with a timeout, its report read back and turned into one :class:`Outcome` per file. How
each tool's output maps to an outcome is documented on its judge function and in README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO_ROOT / "benchmarks" / ".venvs"

# Opt-outs every tool documents (or that the libraries they pull in honour); none of them
# changes what a scan finds. The benchmarks reach no network beyond the PyPI installs.
QUIET_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",  # modelaudit (telemetry.py)
    "NO_ANALYTICS": "1",  # modelaudit
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",  # huggingface_hub, imported by modelaudit
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "COLUMNS": "200",
    "PYTHONWARNINGS": "ignore",
}

# Characters that may follow a file's path in a tool's message when the message is about
# that file (or a member inside it): a path followed by a letter names a different file.
_PATH_END = re.compile(r"$|[\s:()\[\],/!]")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one tool said about one file."""

    flagged: bool = False
    """Reported at the tool's own detection level (counted as a detection on a malicious file)."""
    alarmed: bool = False
    """Reported at the level counted as a false positive on a benign file."""
    error: str = ""
    """Why the tool did not give a full verdict (crash, timeout, parse error); empty if it did."""


@dataclass(frozen=True, slots=True)
class Invocation:
    """One finished (or timed-out) run of a tool's command."""

    returncode: int | None
    """None when the command was killed at its timeout."""
    output: str
    """stdout and stderr together."""
    report: str
    """The report file the tool wrote, or stdout for tools that print their report."""
    seconds: float


@dataclass(frozen=True, slots=True)
class Targets:
    """The labelled files a run covers, keyed by the name the benchmark reports them under."""

    root: Path
    """What the tool was pointed at: one file, or a directory holding all of ``files``."""
    files: Mapping[str, Path]

    def owner(self, text: str) -> str | None:
        """The key of the file ``text`` (a path, maybe with a member or position after it) is about."""
        if len(self.files) == 1:
            return next(iter(self.files))
        best: tuple[int, str] | None = None
        for key, path in self.files.items():
            names = [str(path)]
            if self.root.is_dir():
                names.append(path.relative_to(self.root).as_posix())
            for name in names:
                matches = text.startswith(name) and _PATH_END.match(text, len(name)) is not None
                if matches and (best is None or len(name) > best[0]):
                    best = (len(name), key)
        return None if best is None else best[1]


Judge = Callable[[Invocation, Targets], dict[str, Outcome]]


@dataclass(frozen=True, slots=True)
class Tool:
    """A scanner the benchmarks can install and run."""

    name: str
    requirements: tuple[str, ...]
    """What pip installs into the tool's own venv; empty for steward, which runs from the repo venv."""
    command: Callable[[Path, Path, Path], list[str]]
    """(directory of the tool's executables, target, report file) -> argv."""
    judge: Judge
    batch: bool = True
    """Whether the tool scans a directory in one run; if not, batch mode runs it per file."""
    note: str = ""
    """Why the requirements hold more than the tool itself."""


@dataclass(slots=True)
class Tally:
    """Outcomes collected while a tool goes through a corpus."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    seconds: float = 0.0


def run_command(argv: list[str], *, timeout: float, report: Path | None = None) -> Invocation:
    """Run ``argv`` in a scratch directory with telemetry off; never raises on failure or timeout."""
    env = {**os.environ, **QUIET_ENV}
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch:
        start = time.perf_counter()
        try:
            done = subprocess.run(
                argv,
                cwd=scratch,  # modelscan reads settings and fickling writes results in the cwd
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            seconds = time.perf_counter() - start
            return Invocation(None, _text(expired.stdout) + _text(expired.stderr), "", seconds)
        except OSError as error:
            return Invocation(127, f"cannot run {argv[0]}: {error}", "", time.perf_counter() - start)
        seconds = time.perf_counter() - start
    stdout = _text(done.stdout)
    body = _read(report) if report is not None else stdout
    return Invocation(done.returncode, stdout + _text(done.stderr), body, seconds)


def invoke(tool: Tool, bindir: Path, target: Path, *, timeout: float) -> Invocation:
    """Run ``tool`` on ``target`` once, reading back the report file if its command writes one."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        report = Path(folder, "report.json")
        argv = tool.command(bindir, target, report)
        return run_command(argv, timeout=timeout, report=report if str(report) in argv else None)


def scan(tool: Tool, bindir: Path, targets: Targets, *, timeout: float) -> tuple[dict[str, Outcome], float]:
    """Run ``tool`` once on ``targets.root`` and judge every file of ``targets``."""
    invocation = invoke(tool, bindir, targets.root, timeout=timeout)
    if invocation.returncode is None:
        verdicts = _all(targets, Outcome(error=f"timed out after {timeout:g} s"))
    else:
        verdicts = tool.judge(invocation, targets)
    return verdicts, invocation.seconds


def install(tool: Tool, cache: Path) -> Path:
    """Create (or reuse) ``cache/<tool>`` with the tool installed; return its bin directory.

    Raises RuntimeError with pip's last lines when the install fails.
    """
    if not tool.requirements:
        return Path(sys.executable).parent
    home = cache.resolve() / tool.name  # absolute: the tools run in a scratch working directory
    marker = home / "installed.txt"
    wanted = "\n".join(tool.requirements) + "\n"
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return home / "bin"
    if home.exists():
        shutil.rmtree(home)
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, *tool.requirements], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
        raise RuntimeError(f"pip install {' '.join(tool.requirements)} failed:\n{tail}")
    marker.write_text(wanted, encoding="utf-8")
    return home / "bin"


def version(tool: Tool, bindir: Path) -> str:
    """The installed version of the tool's distribution, or '' if unknown."""
    dist = "modelsteward" if not tool.requirements else tool.name
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    try:
        done = subprocess.run(
            [str(bindir / "python"), "-c", code], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    return done.stdout.strip()


# --- judges: one per tool ------------------------------------------------------------------


def _picklescan(invocation: Invocation, targets: Targets) -> dict[str, Outcome]:
    """picklescan prints ``<file>: dangerous import 'mod name' FOUND`` for each global it denies
    (it exits 1 then); ``suspicious`` globals do not count, as picklescan itself does not count them
    as infected. ``ERROR: parsing pickle in <file>``, ``could not parse <file> as pickle`` and
    ``Invalid file <member> in zip archive <file>`` are errors it reports; a run without its
    ``SCAN SUMMARY`` crashed.
    """
    if "SCAN SUMMARY" not in invocation.output:
        return _all(targets, Outcome(error=_crash(invocation)))
    flagged: set[str] = set()
    errors: dict[str, str] = {}
    for line in invocation.output.splitlines():
        if found := re.match(r"(.*?): dangerous import '.*' FOUND", line):
            _mark(flagged, targets, found.group(1))
        elif failed := re.search(
            r"ERROR: parsing pickle in (.*?): |could not parse (.*?) as pickle|in zip archive (.*?): ", line
        ):
            owner = targets.owner(next(g for g in failed.groups() if g is not None))
            if owner is not None:
                errors.setdefault(owner, line.strip())
    if invocation.returncode == 2 and len(targets.files) == 1 and not errors:
        errors[next(iter(targets.files))] = "exit status 2 (scan error)"
    return _combine(targets, flagged, flagged, errors)


def _modelscan(invocation: Invocation, targets: Targets) -> dict[str, Outcome]:
    """modelscan's JSON report lists ``issues`` (any severity: it exits 1 on any) and ``errors``,
    each with a ``source`` relative to the scanned path (``archive:member`` inside archives). Exit
    status 3 means no file it supports, which it reports as a pass.
    """
    document = read_json(invocation.report)
    if not isinstance(document, dict):
        return _all(targets, Outcome(error=_crash(invocation)))
    flagged = {o for i in document.get("issues", []) if (o := _source_owner(i, targets)) is not None}
    errors: dict[str, str] = {}
    for problem in document.get("errors", []):
        owner = _source_owner(problem, targets)
        if owner is not None:
            errors.setdefault(owner, str(problem.get("description", problem))[:200])
    return _combine(targets, flagged, flagged, errors)


def _source_owner(record: Any, targets: Targets) -> str | None:
    source = str(record.get("source", "")) if isinstance(record, dict) else ""
    if targets.root.is_file():
        return targets.owner(source) if source else None
    return targets.owner(str(targets.root / source))


def _fickling(invocation: Invocation, targets: Targets) -> dict[str, Outcome]:
    """``fickling --check-safety`` exits 1 when any pickle in the file is above LIKELY_SAFE, 0 when
    none is, 2 when it cannot parse the file. A Python traceback (which also exits 1) is a crash.
    fickling's CLI reads raw (stacked) pickles only, not archives.
    """
    if "Traceback (most recent call last)" in invocation.output or invocation.returncode not in (0, 1):
        return _all(targets, Outcome(error=_crash(invocation)))
    unsafe = invocation.returncode == 1
    return _all(targets, Outcome(flagged=unsafe, alarmed=unsafe))


# modelaudit's own "security finding" severities: any of these makes it exit 1.
_MODELAUDIT_FLAG = frozenset({"warning", "critical"})


def _modelaudit(invocation: Invocation, targets: Targets) -> dict[str, Outcome]:
    """modelaudit's JSON report: a file is flagged by an issue, or a failed check, of severity
    ``warning`` or ``critical`` (exactly what makes it exit 1; ``info``/``debug`` do not); it is
    an error when its ``file_metadata`` says ``operational_error`` or ``analysis_incomplete``
    (modelaudit's "inconclusive" outcome, exit 2).
    """
    document = read_json(invocation.report)
    if not isinstance(document, dict):
        return _all(targets, Outcome(error=_crash(invocation)))
    flagged: set[str] = set()
    records = [
        *document.get("issues", []),
        *(c for c in document.get("checks", []) if c.get("status") == "failed"),
    ]
    for record in records:
        if str(record.get("severity", "")).lower() in _MODELAUDIT_FLAG:
            details = record.get("details") or {}
            where = details.get("pickle_source") or record.get("location") or details.get("path") or ""
            _mark(flagged, targets, str(where))
    errors: dict[str, str] = {}
    for path, metadata in (document.get("file_metadata") or {}).items():
        owner = targets.owner(str(path))
        if owner is None or not isinstance(metadata, dict):
            continue
        if metadata.get("operational_error") or metadata.get("analysis_incomplete"):
            reasons = metadata.get("scan_outcome_reasons") or metadata.get("failure_reason") or "incomplete"
            errors.setdefault(owner, f"inconclusive: {reasons}")
    if document.get("has_errors") and len(targets.files) == 1 and not errors:
        errors[next(iter(targets.files))] = "has_errors"
    return _combine(targets, flagged, flagged, errors)


# steward's severity ranks, lowest first, as its JSON writes them.
_SEVERITIES = ("info", "low", "medium", "high", "critical")


def _steward(invocation: Invocation, targets: Targets) -> dict[str, Outcome]:
    """``steward scan --format json``: detected when a finding is high or critical (the project's
    acceptance bar), a false positive when a finding is medium or above (its default ``--fail-on``,
    so stricter than its detection bar); an error when the file's status is ``incomplete``.
    """
    document = read_json(invocation.report)
    if not isinstance(document, dict) or invocation.returncode not in (0, 1, 2):
        return _all(targets, Outcome(error=_crash(invocation)))
    flagged: set[str] = set()
    alarmed: set[str] = set()
    errors: dict[str, str] = {}
    for entry in document.get("files", []):
        path = Path(str(entry.get("path", "")))
        owner = targets.owner(str(path if targets.root.is_file() else targets.root / path))
        if owner is None:
            continue
        ranks = [_rank(str(f.get("severity", ""))) for f in entry.get("findings", [])]
        if any(r >= _rank("high") for r in ranks):
            flagged.add(owner)
        if any(r >= _rank("medium") for r in ranks):
            alarmed.add(owner)
        if entry.get("status") != "scanned":
            errors[owner] = "incomplete: " + "; ".join(map(str, entry.get("incomplete", [])))[:200]
    return _combine(targets, flagged, alarmed, errors)


def _rank(severity: str) -> int:
    return _SEVERITIES.index(severity) if severity in _SEVERITIES else -1


# --- the tools ----------------------------------------------------------------------------

PICKLESCAN = Tool(
    name="picklescan",
    requirements=("picklescan[7z]==1.0.5", "numpy"),
    command=lambda b, target, _report: [str(b / "picklescan"), "-p", str(target)],
    judge=_picklescan,
    note="[7z] and numpy: picklescan needs them to open 7z archives and .npy/.npz files",
)
MODELSCAN = Tool(
    name="modelscan",
    requirements=("modelscan[h5py]==0.8.8", "numpy<2.3"),
    command=lambda b, target, report: [
        *(str(b / "modelscan"), "scan", "-p", str(target)),
        *("-r", "json", "-o", str(report)),
    ],
    judge=_modelscan,
    note="numpy<2.3: modelscan 0.8.8 calls np.lib.format._check_version, gone in numpy 2.3",
)
FICKLING = Tool(
    name="fickling",
    requirements=("fickling==0.1.12", "typing_extensions"),
    command=lambda b, target, report: [
        *(str(b / "fickling"), "--check-safety", "--json-output", str(report), str(target))
    ],
    judge=_fickling,
    batch=False,
    note="typing_extensions: fickling 0.1.12 imports it without declaring it",
)
MODELAUDIT = Tool(
    name="modelaudit",
    requirements=("modelaudit==0.2.54", "h5py", "safetensors", "py7zr", "onnx", "jinja2", "gguf"),
    command=lambda b, target, report: [
        *(str(b / "modelaudit"), "scan", "--no-cache", "--quiet"),
        *("-f", "json", "-o", str(report), str(target)),
    ],
    judge=_modelaudit,
    note="the light optional parsers its scanners list (jinja2, gguf, h5py, ...), not torch or tensorflow",
)
STEWARD = Tool(
    name="steward",
    requirements=(),
    command=lambda b, target, _report: [
        str(b / "steward"),
        "scan",
        "--format",
        "json",
        "--quiet",
        str(target),
    ],
    judge=_steward,
)
PEERS = (PICKLESCAN, MODELSCAN, FICKLING, MODELAUDIT)


# --- helpers ------------------------------------------------------------------------------


def _all(targets: Targets, outcome: Outcome) -> dict[str, Outcome]:
    return dict.fromkeys(targets.files, outcome)


def _combine(
    targets: Targets, flagged: set[str], alarmed: set[str], errors: Mapping[str, str]
) -> dict[str, Outcome]:
    return {
        key: Outcome(flagged=key in flagged, alarmed=key in alarmed, error=errors.get(key, ""))
        for key in targets.files
    }


def _mark(into: set[str], targets: Targets, where: str) -> None:
    owner = targets.owner(where)
    if owner is not None:
        into.add(owner)


def _crash(invocation: Invocation) -> str:
    last = [line for line in invocation.output.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return f"exit status {invocation.returncode}: {last[0][:200]}"


def read_json(text: str) -> Any:
    """``text`` parsed as JSON, or None if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def pick(names: Iterable[str]) -> tuple[Tool, ...]:
    """The tools named (peers and ``steward``), in the order given; ValueError on an unknown name."""
    known = {t.name: t for t in (*PEERS, STEWARD)}
    names = list(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown tool {', '.join(unknown)}; choose from {', '.join(known)}")
    return tuple(known[n] for n in names)
