"""The sandboxed worker against a handler that behaves like a malicious model.

The handler module is written into the test's directory and reached through ``python_path``.
The same attacks run under bubblewrap and under unshare, with the same expectations: both give
the worker a fresh read-only root, no network and their own pid namespace.
"""

from __future__ import annotations

import os
import socket
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelsteward.runtime.sandbox import (
    Isolation,
    Limits,
    Message,
    SandboxConfig,
    SandboxUnavailable,
    Worker,
    WorkerError,
    start_worker,
)
from modelsteward.runtime.sandbox._cgroup import create_pids_cgroup

_HANDLERS = """
import ctypes, fcntl, mmap, os, signal, socket, subprocess, sys, time
import numpy as np
from modelsteward.runtime.sandbox import Message

def _protocol_fd():
    # What a hostile model would do: find the write end of the reply pipe among its descriptors.
    for fd in range(3, 32):
        try:
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                return fd
        except OSError:
            pass
    raise RuntimeError("no reply pipe")

def _attack():
    report = {}
    canary = os.environ["CANARY"]
    try:
        os.makedirs(os.path.dirname(canary), exist_ok=True)
        with open(canary, "w") as f:
            f.write("escaped")
    except OSError as exc:
        report["write"] = str(exc)
    try:
        open(os.path.join(os.environ["MODEL_ROOT"], "tampered"), "w").close()
        report["model_writable"] = True
    except OSError:
        report["model_writable"] = False
    # A model with root in its namespace could remount its mounts writable, unless its
    # capabilities are gone.
    subprocess.run(["mount", "-o", "remount,bind,rw", os.environ["MODEL_ROOT"]], capture_output=True)
    try:
        open(os.path.join(os.environ["MODEL_ROOT"], "tampered"), "w").close()
        report["remounted_writable"] = True
    except OSError:
        report["remounted_writable"] = False
    nested = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True)
    report["nested_namespace"] = nested.returncode == 0
    sock = socket.socket()
    sock.settimeout(2)
    try:
        sock.connect(("127.0.0.1", int(os.environ["PORT"])))
        report["connected"] = True
    except OSError:
        report["connected"] = False
    report["read"] = []
    for path in os.environ["SECRETS"].split(":"):
        try:
            report["read"].append(open(path).read())
        except OSError:
            pass
    return report

def _scribble(x):
    # What a hostile model would do to its request region: make its view writable, or map it anew.
    report = {}
    try:
        x.setflags(write=True)
        report["setflags"] = True
    except ValueError:
        report["setflags"] = False
    libc = ctypes.CDLL(None, use_errno=True)
    page = x.ctypes.data & ~(mmap.PAGESIZE - 1)
    report["mprotect"] = libc.mprotect(ctypes.c_void_p(page), mmap.PAGESIZE, 3) == 0
    report["write"] = False
    with open("/proc/self/maps") as maps:
        ranges = [line.split()[0] for line in maps if "steward-requests" in line]
    for memory in ranges:
        try:
            fd = os.open(f"/proc/self/map_files/{memory}", os.O_RDWR)
            os.pwrite(fd, b"evil", 0)
            report["write"] = True
        except OSError:
            pass
    return report

def attack_at_load():
    report = _attack()
    return lambda message: Message(header=report)

def load():
    def handle(message):
        op = message.header.get("op")
        if op == "echo":
            print("prints go to stderr, not into the protocol")
            return Message(header={"op": op}, arrays={k: v * 2 for k, v in message.arrays.items()})
        if op == "inspect":
            # A read-only request array came through the shared region; the pipe's are writable.
            writeable = {name: bool(array.flags.writeable) for name, array in message.arrays.items()}
            return Message(header={"writeable": writeable}, arrays=dict(message.arrays))
        if op == "scribble":
            return Message(header=_scribble(message.arrays["x"]), arrays={"x": message.arrays["x"]})
        if op == "env":
            return Message(header=dict(os.environ))
        if op == "raise":
            raise ValueError("bad input row 7")
        if op == "allocate":
            return Message(header={}, arrays={"x": np.ones(1 << 31)})
        if op == "segfault":
            print("about to crash", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)
        if op == "spin":
            while True:
                pass
        if op == "sleep":
            time.sleep(3600)
        if op == "fork":
            children, forks = [], 0
            for _ in range(100):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                children.append(pid)
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            return Message(header={"forks": len(children)})
        if op == "daemon":
            marker = message.header["marker"]
            daemon = subprocess.Popen(
                [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)", marker],
                start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            )
            daemon.stdout.readline()  # running, its command line in place
            return Message(header={})
        fd = _protocol_fd()
        if op == "garbage":
            os.write(fd, b"NOT A FRAME AT ALL" * 100)
        if op == "huge":
            os.write(fd, b"MSW1" + (100).to_bytes(4, "little") + (1 << 50).to_bytes(8, "little"))
        if op == "object-array":
            header = b'{"header":{},"arrays":[["x","|O",[1]]],"meta":{"kind":"reply"}}'
            os.write(fd, b"MSW1" + len(header).to_bytes(4, "little") + (8).to_bytes(8, "little") + header)
            os.write(fd, bytes(8))
        if op == "shared-reply":
            header = b'{"header":{},"arrays":[["x","<f8",[1]]],"meta":{"kind":"reply"},"body":"shared"}'
            os.write(fd, b"MSW1" + len(header).to_bytes(4, "little") + (8).to_bytes(8, "little") + header)
        if op == "wrong-kind":
            header = b'{"header":{},"arrays":[],"meta":{"kind":"ready"}}'
            os.write(fd, b"MSW1" + len(header).to_bytes(4, "little") + bytes(8) + header)
        if op == "truncate":
            os.write(fd, b"MSW1" + (1000).to_bytes(4, "little") + (0).to_bytes(8, "little") + b"{")
            os._exit(0)
        time.sleep(3600)
    return handle
"""

SANDBOXED = [Isolation.BUBBLEWRAP, Isolation.UNSHARE]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Handlers, a model root, and a parent environment holding secrets the worker must not see."""
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "evil_model.py").write_text(textwrap.dedent(_HANDLERS))
    (tmp_path / "model").mkdir()
    for name, secret in (("home", ".netrc"), ("steward", "registry.db")):
        (tmp_path / name).mkdir()
        (tmp_path / name / secret).write_text(f"secret in {name}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "steward"))
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    return tmp_path


def _config(workspace: Path, isolation: Isolation | None, **changes: Any) -> SandboxConfig:
    config = SandboxConfig(
        isolation=isolation, python_path=(workspace / "handlers",), start_timeout=20.0, call_timeout=20.0
    )
    return replace(config, **changes)


@pytest.fixture(params=SANDBOXED, ids=str)
def worker(request: pytest.FixtureRequest, workspace: Path) -> Iterator[Worker]:
    config = _config(workspace, request.param, limits=Limits(memory_bytes=1 << 30, processes=32))
    with start_worker("evil_model:load", model_root=workspace / "model", config=config) as running:
        yield running


@pytest.mark.parametrize("isolation", SANDBOXED, ids=str)
def test_malicious_model_at_load_cannot_escape(workspace: Path, isolation: Isolation) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    secrets = [workspace / "home" / ".netrc", workspace / "steward" / "registry.db"]
    env = {
        "CANARY": str(workspace / "outside" / "canary"),
        "MODEL_ROOT": str(workspace / "model"),
        "PORT": str(listener.getsockname()[1]),
        "SECRETS": ":".join(map(str, secrets)),
    }
    config = _config(workspace, isolation, env=env)
    with (
        listener,
        start_worker("evil_model:attack_at_load", model_root=workspace / "model", config=config) as w,
    ):
        report = w.call(Message({})).header
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert not (workspace / "outside" / "canary").exists()
    assert report["model_writable"] is False
    assert report["remounted_writable"] is False
    assert report["nested_namespace"] is False
    assert report["connected"] is False
    assert report["read"] == []
    assert not (workspace / "model" / "tampered").exists()


def test_calls_round_trip_and_record_start(worker: Worker) -> None:
    reply = worker.call(Message({"op": "echo"}, {"x": np.arange(4.0)}))
    assert reply.header == {"op": "echo"}
    np.testing.assert_array_equal(reply.arrays["x"], [0.0, 2.0, 4.0, 6.0])
    assert worker.started_in > 0
    assert (worker.peak_memory() or 0) > 0


@pytest.mark.parametrize("rows", [1, 4096])
def test_request_arrays_cross_the_shared_region_intact(worker: Worker, rows: int) -> None:
    features = np.random.default_rng(rows).random((rows, 20))
    arrays = {
        "features": features,
        "columns": features[:, ::3],
        "ids": np.arange(rows, dtype=">i4")[::-1],
        "mask": features[:, 0] > 0.5,
    }
    reply = worker.call(Message({"op": "inspect"}, arrays))
    assert reply.header == {"writeable": dict.fromkeys(arrays, False)}
    for name, array in arrays.items():
        assert reply.arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(reply.arrays[name], array)


def test_requests_beyond_the_shared_region_go_through_the_pipe(workspace: Path) -> None:
    config = _config(workspace, Isolation.BUBBLEWRAP, shared_memory_bytes=64 << 10)
    big = np.random.default_rng(0).random((4096, 20))
    with start_worker("evil_model:load", model_root=workspace / "model", config=config) as w:
        for features, in_region in ((big, False), (big[:100], True), (-big, False)):
            reply = w.call(Message({"op": "inspect"}, {"x": features}))
            assert reply.header == {"writeable": {"x": not in_region}}
            np.testing.assert_array_equal(reply.arrays["x"], features)


def test_a_worker_cannot_write_its_shared_inputs_nor_change_a_reply(worker: Worker) -> None:
    first = np.arange(4096 * 20.0).reshape(4096, 20)
    reply = worker.call(Message({"op": "scribble"}, {"x": first}))
    assert reply.header == {"setflags": False, "mprotect": False, "write": False}
    # The next request overwrites the region the worker echoed its reply from: the reply stays.
    worker.call(Message({"op": "inspect"}, {"x": -first}))
    np.testing.assert_array_equal(reply.arrays["x"], first)


def test_worker_environment_is_minimal(workspace: Path) -> None:
    config = _config(workspace, Isolation.BUBBLEWRAP, env={"STEWARD_EXTRA": "1"})
    with start_worker("evil_model:load", model_root=workspace / "model", config=config) as w:
        env = w.call(Message({"op": "env"})).header
    assert "HF_TOKEN" not in env
    assert "STEWARD_HOME" not in env
    assert env["HOME"] == "/tmp"
    assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["STEWARD_EXTRA"] == "1"


def test_handler_exception_is_an_error_and_the_worker_lives_on(worker: Worker) -> None:
    with pytest.raises(WorkerError, match="ValueError: bad input row 7") as caught:
        worker.call(Message({"op": "raise"}))
    assert caught.value.reason == "error"
    assert worker.call(Message({"op": "echo"})).header == {"op": "echo"}


def test_allocating_beyond_the_limit_is_out_of_memory(worker: Worker) -> None:
    with pytest.raises(WorkerError) as caught:
        worker.call(Message({"op": "allocate"}))
    assert caught.value.reason == "out-of-memory"


def test_segfault_is_a_crash_naming_the_signal_and_stderr(worker: Worker) -> None:
    with pytest.raises(WorkerError, match=r"SIGSEGV(.|\n)*about to crash") as caught:
        worker.call(Message({"op": "segfault"}))
    assert caught.value.reason == "crashed"
    with pytest.raises(WorkerError, match="has stopped"):
        worker.call(Message({"op": "echo"}))


def test_no_reply_in_time_is_a_timeout(worker: Worker) -> None:
    with pytest.raises(WorkerError) as caught:
        worker.call(Message({"op": "sleep"}), timeout=0.5)
    assert caught.value.reason == "timeout"


@pytest.mark.parametrize("isolation", SANDBOXED, ids=str)
def test_spending_the_cpu_limit_is_a_timeout(workspace: Path, isolation: Isolation) -> None:
    config = _config(workspace, isolation, limits=Limits(cpu_seconds=1))
    with (
        start_worker("evil_model:load", model_root=workspace / "model", config=config) as w,
        pytest.raises(WorkerError, match="CPU time limit") as caught,
    ):
        w.call(Message({"op": "spin"}))
    assert caught.value.reason == "timeout"


@pytest.mark.parametrize("op", ["garbage", "huge", "object-array", "shared-reply", "wrong-kind"])
def test_malformed_replies_are_protocol_errors(worker: Worker, op: str) -> None:
    with pytest.raises(WorkerError) as caught:
        worker.call(Message({"op": op}))
    assert caught.value.reason == "protocol"


def test_output_closed_mid_frame_is_a_crash_not_a_hang(worker: Worker) -> None:
    with pytest.raises(WorkerError, match="exited with status 0") as caught:
        worker.call(Message({"op": "truncate"}))
    assert caught.value.reason == "crashed"


def test_background_process_dies_with_the_worker(worker: Worker) -> None:
    marker = f"steward-daemon-{uuid.uuid4()}"
    worker.call(Message({"op": "daemon", "marker": marker}))
    assert _running(marker)
    worker.close()
    assert not _running(marker)


def test_process_limit_stops_a_fork_bomb(worker: Worker) -> None:
    forks = worker.call(Message({"op": "fork"})).header["forks"]
    probe = create_pids_cgroup(1)
    if probe is not None:
        probe.remove()
    if os.geteuid() == 0 and probe is None:
        # The kernel exempts uid 0 from RLIMIT_NPROC and no pids cgroup can be made here: the
        # bounded loop shows the gap rather than hiding it.
        assert forks == 100
    else:
        assert forks < 32


def test_no_isolation_is_refused_unless_allowed(workspace: Path) -> None:
    config = _config(workspace, Isolation.NONE)
    with pytest.raises(SandboxUnavailable, match=r"without a sandbox.*needs allow_unsandboxed") as refused:
        start_worker("evil_model:load", model_root=workspace / "model", config=config)
    assert "install bubblewrap" not in str(refused.value)
    allowed = _config(workspace, Isolation.NONE, allow_unsandboxed=True)
    with start_worker("evil_model:load", model_root=workspace / "model", config=allowed) as w:
        assert w.isolation is Isolation.NONE
        assert w.call(Message({"op": "echo"})).header == {"op": "echo"}


def test_no_sandbox_found_says_to_install_bubblewrap(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With nothing on the PATH neither bwrap nor unshare can run: detection finds no isolation.
    monkeypatch.setenv("PATH", str(workspace / "model"))
    config = _config(workspace, None)
    with pytest.raises(
        SandboxUnavailable, match=r"no sandbox is available.*install bubblewrap.*--no-sandbox"
    ):
        start_worker("evil_model:load", model_root=workspace / "model", config=config)


def test_mounting_a_protected_path_is_refused(workspace: Path) -> None:
    config = _config(workspace, Isolation.BUBBLEWRAP)
    with pytest.raises(SandboxUnavailable, match="would expose"):
        start_worker("evil_model:load", model_root=workspace, config=config)


def test_unloadable_entrypoint_is_an_error(workspace: Path) -> None:
    config = _config(workspace, Isolation.BUBBLEWRAP)
    with pytest.raises(WorkerError, match="ModuleNotFoundError") as caught:
        start_worker("no_such_model:load", model_root=workspace / "model", config=config)
    assert caught.value.reason == "error"


def _running(marker: str) -> bool:
    for entry in Path("/proc").iterdir():
        try:
            if marker.encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False
