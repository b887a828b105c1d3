"""``steward server`` as a command: uvicorn workers built from the environment; a bad registry refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests._ports import free_port
from tests.conftest import Steward
from tests.server.conftest import Workspace


def test_the_server_answers_with_two_workers(workspace: Workspace) -> None:
    port = free_port()
    env = {
        **os.environ,
        "STEWARD_HOME": str(workspace.settings.home),
        "STEWARD_DATABASE_URL": workspace.settings.database_url,
    }
    command = [
        sys.executable,
        "-m",
        "modelsteward",
        "server",
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-web",
        "--max-body-bytes",
        "4096",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/me", headers=workspace.headers("viewer")
                )
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 -- loopback
                    assert b'"role":"viewer"' in response.read()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "the server did not answer in 60 s"
                time.sleep(0.3)
        # The workers read the body limit the command was given.
        big = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/users",
            data=b"{}" + b" " * 4095,
            headers={**workspace.headers("admin"), "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(big, timeout=5)  # noqa: S310 -- loopback
        assert refused.value.code == 413 and b"at most 4096 are accepted" in refused.value.read()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_an_unusable_registry_is_refused_before_serving(
    steward: Steward, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_DATABASE_URL", "mysql://nowhere/db")
    result = steward("server", "--port", str(free_port()))
    assert result.exit_code == 2 and "SQLite or PostgreSQL" in result.stderr
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("version: 1\nname: p\nmax_severity:\n  security: severe\n")
    monkeypatch.delenv("STEWARD_DATABASE_URL")
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    assert steward("server", "--policy", str(bad_policy)).exit_code == 4
    too_small = steward("server", "--max-body-bytes", "0")
    assert too_small.exit_code == 4 and "--max-body-bytes must be at least 1" in too_small.stderr
