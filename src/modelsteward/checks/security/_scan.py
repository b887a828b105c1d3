"""Scan files and directories: open each file once, route it by content, collect a report."""

from __future__ import annotations

import contextlib
import mmap
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from modelsteward.checks.security._context import Context, ScanOptions, Sink
from modelsteward.checks.security._dispatch import scan_bytes, scan_nested
from modelsteward.core import Finding, Severity
from modelsteward.core.rules import Catalogue, load_catalogue
from modelsteward.formats import Format

# Below this size a plain read is cheaper than a mapping.
_MMAP_FROM = 1 << 20


@dataclass(frozen=True, slots=True)
class FileReport:
    """What the scanner learnt about one file."""

    path: str
    """The file, relative to the directory it was found under, or as given."""
    format: str
    """Formats the content was read as, joined by ``+`` (``pickle+zip`` for a polyglot)."""
    findings: tuple[Finding, ...]
    incomplete: tuple[str, ...]
    """Why parts of the file could not be scanned; empty when it was scanned fully."""

    @property
    def status(self) -> str:
        """``scanned`` or ``incomplete``: a file not fully scanned is never reported clean."""
        return "incomplete" if self.incomplete else "scanned"

    @property
    def worst(self) -> Severity | None:
        """The highest severity among the findings, if any."""
        return max((f.severity for f in self.findings), default=None)


@dataclass(frozen=True, slots=True)
class ScanReport:
    """Every file scanned, in the order found."""

    files: tuple[FileReport, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        """All findings of all files."""
        return tuple(f for report in self.files for f in report.findings)

    def summary(self) -> dict[str, int]:
        """Counts of files by status and of findings by severity."""
        counts = {"files": len(self.files), "scanned": 0, "incomplete": 0}
        for report in self.files:
            counts[report.status] += 1
        for severity in Severity:
            counts[severity.label] = sum(1 for f in self.findings if f.severity is severity)
        return counts

    def exit_code(self, fail_on: Severity) -> int:
        """1 if any finding is at or above ``fail_on``, else 2 if any file is incomplete, else 0."""
        if any(f.severity >= fail_on for f in self.findings):
            return 1
        return 2 if any(r.incomplete for r in self.files) else 0


def _files(paths: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    for root in paths:
        if root.is_dir():
            for folder, dirs, names in os.walk(root):
                dirs.sort()
                for name in sorted(names):
                    full = Path(folder, name)
                    yield full, full.relative_to(root).as_posix()
        else:
            yield root, str(root)


def scan_file(path: Path, display: str, options: ScanOptions, catalogue: Catalogue) -> FileReport:
    """Scan one file; any failure to read it is reported, never raised."""
    sink = Sink()
    ctx = Context(
        path=display,
        name=path.name,
        options=options,
        catalogue=catalogue,
        sink=sink,
        scan_nested=scan_nested,
    )
    formats: tuple[Format, ...] = ()
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < _MMAP_FROM:
                formats = scan_bytes(memoryview(handle.read()), ctx)
            else:
                mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                try:
                    formats = scan_bytes(memoryview(mapping), ctx)
                finally:
                    _close(mapping)
    except OSError as error:
        ctx.incomplete(f"cannot read: {error.strerror or error}")
    return FileReport(
        path=display,
        format="+".join(f.value for f in formats) or "unreadable",
        findings=tuple(sink.findings),
        incomplete=tuple(sink.incomplete),
    )


def _close(mapping: mmap.mmap) -> None:
    # A view into it may still be referenced; then it is unmapped when that view goes.
    with contextlib.suppress(BufferError):
        mapping.close()


# Below this many files per worker, forking costs more than it saves.
_FILES_PER_WORKER = 32
# Work is handed out in this many chunks per worker, so one slow file does not idle the others.
_CHUNKS_PER_WORKER = 4

_Job = tuple[Path, str]


def scan(
    paths: Iterable[Path],
    options: ScanOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> ScanReport:
    """Scan every file under ``paths`` (files or directories, recursively).

    ``jobs`` above 1 scans in that many forked worker processes when there are enough files to
    repay the fork; reports come back in the same order either way. ``progress`` is called with
    each file's display path as its report is ready.
    """
    options = options or ScanOptions()
    files = list(_files(paths))
    workers = min(jobs, len(files) // _FILES_PER_WORKER)
    if workers > 1 and hasattr(os, "fork"):
        reports = _scan_parallel(files, options, workers, progress)
    else:
        reports = [_report(job, options, progress) for job in files]
    return ScanReport(files=tuple(reports))


def _report(job: _Job, options: ScanOptions, progress: Callable[[str], None] | None) -> FileReport:
    if progress is not None:
        progress(job[1])
    return scan_file(*job, options, load_catalogue())


def _scan_chunk(chunk: list[_Job], options: ScanOptions) -> list[FileReport]:
    return [scan_file(*job, options, load_catalogue()) for job in chunk]


def _scan_parallel(
    files: list[_Job], options: ScanOptions, workers: int, progress: Callable[[str], None] | None
) -> list[FileReport]:
    # Imported here: a scan of a few files never pays for them.
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    # fork: the workers start with everything already imported, which is what makes them cheap.
    size = max(1, len(files) // (workers * _CHUNKS_PER_WORKER))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context("fork")
    reports: list[FileReport] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for batch in pool.map(_scan_chunk, chunks, [options] * len(chunks)):
            for report in batch:
                if progress is not None:
                    progress(report.path)
                reports.append(report)
    return reports
