"""The parent's side of a worker: spawn it isolated, exchange frames under deadlines, kill it.

The worker is treated as hostile: every read and write has a deadline, replies are bounded in
size and validated by the codec, and whatever goes wrong ends as a WorkerError, never as a hang
or a crash of the parent. Request arrays go through a sealed shared region the worker can only
read (see ``_region``); replies always come through the pipe.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from modelsteward.runtime.sandbox._cgroup import PidsCgroup, create_pids_cgroup
from modelsteward.runtime.sandbox._config import Isolation, SandboxConfig
from modelsteward.runtime.sandbox._errors import ProtocolError, Reason, SandboxUnavailable, WorkerError
from modelsteward.runtime.sandbox._isolation import detect_isolation, wrap
from modelsteward.runtime.sandbox._message import Message
from modelsteward.runtime.sandbox._mounts import SANDBOX_TMP, plan_mounts, protected_paths
from modelsteward.runtime.sandbox._region import RequestRegion
from modelsteward.runtime.sandbox._wire import WRITEV_MAX, encode, read_frame, unwritten

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
"""Passed through from the parent so that the worker does not oversubscribe the machine."""
_STDERR_TAIL_BYTES = 16 * 1024
_PIPE_BYTES = 1 << 20
"""Larger pipes mean fewer system calls per array-sized frame."""
_EXIT_GRACE = 5.0
"""Seconds to wait for the exit status of a worker whose output has ended."""


def start_worker(entrypoint: str, *, model_root: Path, config: SandboxConfig) -> Worker:
    """Start a worker that serves the handler ``entrypoint`` (``module:function``) returns.

    The function runs inside the sandbox with ``model_root`` mounted read-only; it takes no
    arguments and returns a ``Callable[[Message], Message]``; the request arrays it is given may be
    read-only views of shared memory, valid until the next request. Returns once the handler is loaded.
    Raises SandboxUnavailable when no isolation may be used and WorkerError when loading fails.
    """
    isolation = config.isolation or detect_isolation()
    if isolation is Isolation.NONE and not config.allow_unsandboxed:
        if config.isolation is Isolation.NONE:
            raise SandboxUnavailable(
                "running the model without a sandbox (isolation none) needs allow_unsandboxed"
                " (the CLI's --no-sandbox)"
            )
        raise SandboxUnavailable(
            "no sandbox is available to run the model in: install bubblewrap "
            "(Debian and Ubuntu: apt install bubblewrap) or pass --no-sandbox to run it unsandboxed"
        )
    private_tmp = Path(tempfile.mkdtemp(prefix="steward-worker-"))
    cgroup = create_pids_cgroup(config.limits.processes)
    region = RequestRegion.create(config.shared_memory_bytes)
    try:
        plan = plan_mounts(
            model_root=model_root,
            python_path=config.python_path,
            private_tmp=private_tmp,
            protected=protected_paths(os.environ, Path.cwd()),
        )
        home = str(private_tmp) if isolation is Isolation.NONE else SANDBOX_TMP
        env = _environment(home, config)
        options = [arg for path in config.python_path for arg in ("--path", str(path.resolve()))]
        inherited = () if region is None or region.worker_fd is None else (region.worker_fd,)
        options += [arg for fd in inherited for arg in ("--shared", str(fd))]
        argv = [sys.executable, "-I", "-m", "modelsteward.runtime.sandbox._main", *options, entrypoint]
        try:
            command = wrap(isolation, argv, plan=plan, env=env, limits=config.limits, cgroup=cgroup)
        except FileNotFoundError as exc:
            raise SandboxUnavailable(f"cannot use {isolation} isolation: {exc}") from exc
        spawned = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=private_tmp,
            start_new_session=True,
            pass_fds=inherited,
        )
    except BaseException:
        shutil.rmtree(private_tmp, ignore_errors=True)
        if cgroup is not None:
            cgroup.remove()
        if region is not None:
            region.close()
        raise
    if region is not None:
        region.release_worker_fd()
    worker = Worker(
        process, isolation=isolation, private_tmp=private_tmp, cgroup=cgroup, region=region, config=config
    )
    try:
        worker._await_ready(spawned)
    except BaseException:
        worker.close()
        raise
    return worker


class Worker:
    """A running sandboxed worker; use as a context manager, or call :meth:`close`.

    One call at a time: a worker is not meant to be shared between threads.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        *,
        isolation: Isolation,
        private_tmp: Path,
        cgroup: PidsCgroup | None,
        region: RequestRegion | None,
        config: SandboxConfig,
    ) -> None:
        self.isolation = isolation
        """The mechanism the worker actually runs under."""
        self.started_in = 0.0
        """Seconds from spawning the worker to its ready message, model loading included."""
        self._process = process
        self._private_tmp = private_tmp
        self._cgroup = cgroup
        self._region = region
        self._config = config
        self._stdin = _nonblocking(process.stdin)
        self._stdout = _nonblocking(process.stdout)
        # One poller per direction, made once: a call then costs no allocation or registration.
        self._writable = _poller(self._stdin, select.POLLOUT)
        self._readable = _poller(self._stdout, select.POLLIN)
        self._stderr = _Tail(process.stderr)
        self._peak_rss: int | None = None
        self._stopped: WorkerError | None = None

    def call(self, message: Message, timeout: float | None = None) -> Message:
        """Send ``message`` to the handler and return its reply.

        Raises WorkerError: ``error`` or ``out-of-memory`` when the handler raised (the worker
        lives on); ``crashed``, ``timeout`` or ``protocol`` when the worker had to be stopped.
        Raises ValueError, before sending anything, for a message the wire cannot carry.
        """
        if self._stopped is not None:
            raise WorkerError(self._stopped.reason, f"the worker has stopped: {self._stopped}")
        seconds = self._config.call_timeout if timeout is None else timeout
        frame = encode(message, shared=None if self._region is None else self._region.view)
        return self._exchange(frame, "reply", time.monotonic() + seconds, seconds)

    def peak_memory(self) -> int | None:
        """The worker's peak resident memory in bytes, as it last reported it (None before a reply)."""
        return self._peak_rss

    def close(self) -> None:
        """Kill the worker and everything it started, and remove its private directory; idempotent."""
        if self._process.returncode is None:
            self._kill()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.join()
        shutil.rmtree(self._private_tmp, ignore_errors=True)
        if self._cgroup is not None:
            self._cgroup.remove()
        if self._region is not None:
            self._region.close()
        if self._stopped is None:
            self._stopped = WorkerError("crashed", "the worker was closed")

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _await_ready(self, spawned: float) -> None:
        seconds = self._config.start_timeout
        self._exchange([], "ready", spawned + seconds, seconds)
        self.started_in = time.monotonic() - spawned

    def _exchange(self, frame: list[Any], expected: str, deadline: float, seconds: float) -> Message:
        """Send ``frame`` (possibly none), then read the ``expected`` kind of frame or an error reply."""
        try:
            self._write([memoryview(chunk).cast("B") for chunk in frame], deadline)
            reply, meta = read_frame(
                lambda view: self._read_into(view, deadline), self._config.max_message_bytes
            )
        except TimeoutError:
            raise self._stop(
                WorkerError("timeout", f"the worker did not answer within {seconds:g} s")
            ) from None
        except ProtocolError as exc:
            raise self._stop(WorkerError("protocol", f"the worker sent a malformed reply: {exc}")) from None
        except (EOFError, BrokenPipeError):
            raise self._stop(self._exit_error()) from None
        if isinstance(meta.get("peak_rss"), int):
            self._peak_rss = meta["peak_rss"]
        kind = meta.get("kind")
        if kind == "error":
            raise self._handler_error(reply)
        if kind != expected:
            error = WorkerError("protocol", f"the worker sent {str(kind)[:100]!r} where {expected!r} was due")
            raise self._stop(error)
        return reply

    def _write(self, views: list[memoryview], deadline: float) -> None:
        # Try first, wait only when the pipe is full: most frames go in one writev, with no poll.
        while views:
            _check(deadline)
            try:
                views = unwritten(views, os.writev(self._stdin, views[:WRITEV_MAX]))
            except BlockingIOError:
                _wait(self._writable, deadline)

    def _read_into(self, view: memoryview, deadline: float) -> None:
        while view.nbytes:
            _check(deadline)
            try:
                count = os.readv(self._stdout, [view])
            except BlockingIOError:
                _wait(self._readable, deadline)
                continue
            if count == 0:
                raise EOFError
            view = view[count:]

    def _handler_error(self, reply: Message) -> WorkerError:
        kind, text = str(reply.header.get("type", "")), str(reply.header.get("error", ""))
        reason: Reason = "out-of-memory" if kind == "MemoryError" else "error"
        return WorkerError(reason, f"the model raised {kind[:200]}: {text[:2000]}")

    def _exit_error(self) -> WorkerError:
        try:
            status = self._process.wait(_EXIT_GRACE)
        except subprocess.TimeoutExpired:
            return WorkerError("protocol", "the worker closed its output but did not exit")
        # bwrap and the unshare script report a signal as 128 + its number, as shells do.
        shell_style = status > 128 and self.isolation is not Isolation.NONE
        number = -status if status < 0 else status - 128 if shell_style else 0
        if number:
            name = signal.Signals(number).name if number in signal.valid_signals() else f"signal {number}"
            if number == signal.SIGXCPU:
                return WorkerError("timeout", f"the worker used up its CPU time limit ({name})")
            return WorkerError("crashed", f"the worker was killed by {name}")
        return WorkerError("crashed", f"the worker exited with status {status}")

    def _stop(self, error: WorkerError) -> WorkerError:
        self._kill()
        self._stderr.join()
        self._stopped = WorkerError(error.reason, f"{error}{self._tail()}")
        return self._stopped

    def _kill(self) -> None:
        """Kill the process group, then wait for the namespace's init to exit.

        The kernel lets a pid namespace's init finish exiting only once every other task in the
        namespace is gone, so its exit, not the wrapper's, proves that no daemon survived.
        """
        inits = _children(self._process.pid) if self.isolation is not Isolation.NONE else []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        deadline = time.monotonic() + _EXIT_GRACE
        for pid in inits:
            while not _exited(pid) and time.monotonic() < deadline:
                time.sleep(0.001)

    def _tail(self) -> str:
        tail = self._stderr.text().strip()
        return f"\nworker stderr (last lines):\n{tail}" if tail else ""


class _Tail:
    """Drains a worker's stderr on a thread, keeping only its last bytes."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        with stream:
            while chunk := os.read(stream.fileno(), 65536):
                with self._lock:
                    self._buffer += chunk
                    del self._buffer[:-_STDERR_TAIL_BYTES]

    def join(self) -> None:
        self._thread.join(_EXIT_GRACE)

    def text(self) -> str:
        with self._lock:
            return self._buffer.decode(errors="replace")


def _environment(home: str, config: SandboxConfig) -> dict[str, str]:
    """The worker's whole environment: nothing of the parent's but thread counts (no tokens, no HOME)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "USER": "steward",
        "LOGNAME": "steward",
        "LANG": "C.UTF-8",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    env |= {name: os.environ[name] for name in _THREAD_VARIABLES if name in os.environ}
    return env | dict(config.env)


def _nonblocking(stream: IO[bytes] | None) -> int:
    assert stream is not None  # noqa: S101 - Popen was given PIPE
    fd = stream.fileno()
    os.set_blocking(fd, False)
    # Where the system's limit on pipe sizes is lower, the default size only costs speed.
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    return fd


def _poller(fd: int, event: int) -> select.poll:
    poller = select.poll()
    poller.register(fd, event)
    return poller


def _check(deadline: float) -> None:
    # A worker that keeps its pipe busy is never waited for, so the deadline is checked here too.
    if time.monotonic() > deadline:
        raise TimeoutError


def _wait(poller: select.poll, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0 or not poller.poll(remaining * 1000):
        raise TimeoutError


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _exited(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in {"Z", "X"}
