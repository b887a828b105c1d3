"""What every format scanner is handed: where it is, what it may spend, and where findings go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from modelsteward.core import Finding, Severity
from modelsteward.core.rules import Catalogue

GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep a hostile file from exhausting the scanner."""

    max_depth: int = 12
    """Deepest nesting of containers (archive in archive, pickle in bytes) that is opened."""
    max_expanded_bytes: int = 4 * GiB
    """Total bytes that decompression may produce for one top-level file."""
    max_ratio: int = 1000
    """Largest decompressed/compressed ratio accepted for one member before it is called a bomb."""
    ratio_floor: int = 16 << 20
    """Output below this many bytes is never called a bomb: real zero-filled tensors compress well."""
    max_members: int = 200_000
    """Most archive members opened in one top-level file."""
    max_pickle_ops: int = 50_000_000
    """Most pickle opcodes simulated in one top-level file, all its streams together."""


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Configuration of a scan, passed in by the caller."""

    limits: Limits = Limits()
    allowed_globals: frozenset[tuple[str, str]] = frozenset()
    """Extra (module, qualified name) pairs a policy allows a pickle to call."""


@dataclass(slots=True)
class Sink:
    """Everything learnt about one top-level file; the only mutable state of a scan."""

    findings: list[Finding] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    expanded_bytes: int = 0
    members: int = 0


Nested = Callable[[memoryview, "Context"], None]


@dataclass(frozen=True, slots=True)
class Context:
    """A scanner's view of where it is inside one top-level file."""

    path: str
    """The top-level file as reported (relative to the scanned root, or as given)."""
    name: str
    """Base name of the file or archive member being scanned: a hint, never a route."""
    options: ScanOptions
    catalogue: Catalogue
    sink: Sink
    scan_nested: Nested
    """Routes nested bytes to the scanner of their format; set by the dispatcher."""
    where: tuple[str, ...] = ()
    """Locations of the enclosing levels (archive member, opcode offset, ...)."""
    depth: int = 0
    speculative: bool = False
    """Scanning bytes that merely look like a file (a string inside a pickle): what cannot be read
    there is data no loader reads as a file, so it makes nothing incomplete; findings still count."""

    def _location(self, at: str) -> str:
        return " > ".join((*self.where, at) if at else self.where)

    def report(
        self,
        rule: str,
        detail: str = "",
        *,
        at: str = "",
        evidence: str = "",
        severity: Severity | None = None,
    ) -> None:
        """Record a finding of ``rule``; its message is the rule's title, then ``detail``."""
        entry = self.catalogue[rule]
        message = f"{entry.title}: {detail}" if detail else entry.title
        self.sink.findings.append(
            Finding(
                rule=rule,
                severity=entry.severity if severity is None else severity,
                message=message,
                path=self.path,
                location=self._location(at),
                evidence=_shorten(evidence),
            )
        )

    def incomplete(self, reason: str, *, at: str = "") -> None:
        """Record that part of the file could not be scanned, and why."""
        if self.speculative:
            return
        location = self._location(at)
        self.sink.incomplete.append(f"{location}: {reason}" if location else reason)

    def charge(self, nbytes: int, *, at: str = "") -> bool:
        """Spend ``nbytes`` of the decompression budget; False (and reported) once it is spent."""
        self.sink.expanded_bytes += nbytes
        if self.sink.expanded_bytes <= self.options.limits.max_expanded_bytes:
            return True
        self.report("ARCHIVE-BOMB", "decompression budget for this file exhausted", at=at)
        self.incomplete("decompression budget exhausted", at=at)
        return False

    def nested(
        self, data: memoryview, *, at: str, name: str | None = None, speculative: bool = False
    ) -> None:
        """Scan ``data`` found at ``at`` (a member, a string in a pickle) as a file of its own format.

        ``speculative``: the bytes only look like a file; see :attr:`speculative`.
        """
        if self.depth + 1 > self.options.limits.max_depth:
            self.report("NESTING-TOO-DEEP", f"more than {self.options.limits.max_depth} levels", at=at)
            self.incomplete("nesting too deep", at=at)
            return
        child = Context(
            path=self.path,
            name=self.name if name is None else name,
            options=self.options,
            catalogue=self.catalogue,
            sink=self.sink,
            scan_nested=self.scan_nested,
            where=(*self.where, at),
            depth=self.depth + 1,
            speculative=self.speculative or speculative,
        )
        self.scan_nested(data, child)


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
