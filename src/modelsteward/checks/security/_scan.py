"""Scan files and directories: open each file once, route it by content, collect a report."""

from __future__ import annotations

import contextlib
import mmap
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
        counts.update((severity.label, 0) for severity in Severity)
        for report in self.files:
            counts[report.status] += 1
            for finding in report.findings:
                counts[finding.severity.label] += 1
        return counts

    def fails(self, threshold: Severity) -> bool:
        """Whether any finding is at or above ``threshold``."""
        return any(f.severity >= threshold for f in self.findings)

    @property
    def complete(self) -> bool:
        """Whether every file was scanned fully."""
        return not any(report.incomplete for report in self.files)


class _Job(NamedTuple):
    """One file to scan, or a path that could not even be listed."""

    path: Path
    display: str
    error: str = ""


def _files(paths: Sequence[Path]) -> Iterator[_Job]:
    for root in paths:
        # With several roots, paths keep their root so that two config.json never look like one.
        prefix = root if len(paths) > 1 else None
        if root.is_dir():
            yield from _walk(root, prefix)
        else:
            yield _Job(root, str(root))


def _walk(root: Path, prefix: Path | None) -> Iterator[_Job]:
    def display(path: Path) -> str:
        relative = path.relative_to(root)
        return (prefix / relative if prefix is not None else relative).as_posix()

    def unlisted() -> Iterator[_Job]:
        while errors:
            error = errors.pop(0)
            where = Path(error.filename) if error.filename else root
            shown = display(where) if where != root else str(root)
            yield _Job(where, shown, f"cannot list: {error.strerror}")

    errors: list[OSError] = []
    seen: set[tuple[int, int]] = set()
    # Symbolic links to folders are followed, as a loader given the folder would; each folder is
    # visited once, so a link loop ends.
    for folder, dirs, names in os.walk(root, followlinks=True, onerror=errors.append):
        yield from unlisted()
        info = Path(folder).stat()
        if (info.st_dev, info.st_ino) in seen:
            dirs.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        for name in sorted(names):
            yield _Job(Path(folder, name), display(Path(folder, name)))
    yield from unlisted()


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
        if not stat.S_ISREG(path.stat().st_mode):
            # A FIFO would block the read forever and a device never ends; no loader reads them.
            ctx.incomplete("not a regular file")
            return _report(display, formats, sink)
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
    return _report(display, formats, sink)


def _report(display: str, formats: tuple[Format, ...], sink: Sink) -> FileReport:
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
    files = list(_files(list(paths)))
    workers = min(jobs, len(files) // _FILES_PER_WORKER)
    if workers > 1 and hasattr(os, "fork"):
        reports = _scan_parallel(files, options, workers, progress)
    else:
        reports = [_scan_job(job, options, progress) for job in files]
    return ScanReport(files=tuple(reports))


def _scan_job(job: _Job, options: ScanOptions, progress: Callable[[str], None] | None = None) -> FileReport:
    if progress is not None:
        progress(job.display)
    if job.error:
        return FileReport(path=job.display, format="unreadable", findings=(), incomplete=(job.error,))
    return scan_file(job.path, job.display, options, load_catalogue())


def _scan_chunk(chunk: list[_Job], options: ScanOptions) -> list[FileReport]:
    return [_scan_job(job, options) for job in chunk]


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
