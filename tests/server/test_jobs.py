"""Admit and evaluate jobs: the gate run in the background, followed to the end over HTTP."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from modelsteward.server._runner import runner
from modelsteward.server._schemas import JobOut
from tests._ports import free_port
from tests.gate.test_admit import model_folder
from tests.server.conftest import Workspace, make_client


def _follow(
    client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 120.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_an_admit_job_registers_the_model_as_its_submitter(workspace: Workspace, tmp_path: Path) -> None:
    folder = model_folder(tmp_path / "model")
    submitter = workspace.headers("submitter")
    with make_client(workspace) as client:
        started = client.post(
            "/api/v1/jobs/admit", json={"source": str(folder), "name": "team/tiny"}, headers=submitter
        )
        assert started.status_code == 202, started.text
        JobOut.model_validate(started.json())
        assert started.json()["status"] in ("queued", "running")
        job = _follow(client, started.json()["id"], submitter)
        JobOut.model_validate(job)
        assert job["status"] == "succeeded", job["error"]
        assert job["updates"] > 0 and job["progress"]
        result = job["result"]
        # What steward admit --json prints.
        assert result["registered"] == {"ref": "team/tiny@1", "verdict": "approve", "derived_from": None}
        assert result["decision"]["verdict"] == "approve" and result["new_version"] is True
        assert {c["check"] for c in result["checks"]} >= {"security", "integrity", "license"}
        version = client.get("/api/v1/models/team/tiny/versions/1", headers=submitter).json()
        assert version["submitted_by"] == "submitter"
        listed = client.get("/api/v1/jobs", headers=workspace.headers("viewer")).json()
        assert [j["id"] for j in listed] == [job["id"]]


def test_a_failed_admission_is_a_failed_job_with_its_reason(workspace: Workspace, tmp_path: Path) -> None:
    submitter = workspace.headers("submitter")
    with make_client(workspace) as client:
        missing = str(tmp_path / "nowhere")
        started = client.post(
            "/api/v1/jobs/admit", json={"source": missing, "name": "x"}, headers=submitter
        ).json()
        job = _follow(client, started["id"], submitter)
    assert job["status"] == "failed" and "nowhere" in job["error"] and job["result"] is None


def test_an_evaluate_job_reads_its_options_as_the_cli_does(workspace: Workspace, tmp_path: Path) -> None:
    submitter = workspace.headers("submitter")
    body = {
        "model": "acme/cancer@1",
        "data": str(tmp_path / "none.csv"),
        "task": "classification",
        "columns": "bad",
    }
    with make_client(workspace) as client:
        started = client.post("/api/v1/jobs/evaluate", json=body, headers=submitter).json()
        job = _follow(client, started["id"], submitter)
    # The CLI's own option code refuses the column spec before any model runs.
    assert job["status"] == "failed" and job["error"]


def test_a_job_is_readable_from_another_worker(workspace: Workspace, tmp_path: Path) -> None:
    submitter = workspace.headers("submitter")
    with make_client(workspace) as first:
        started = first.post(
            "/api/v1/jobs/admit", json={"source": str(tmp_path / "nowhere"), "name": "x"}, headers=submitter
        ).json()
        _follow(first, started["id"], submitter)
    with make_client(workspace) as second:  # another process of the same server: the same workspace
        assert second.get(f"/api/v1/jobs/{started['id']}", headers=submitter).json()["status"] == "failed"
        assert second.get("/api/v1/jobs/../../etc/passwd", headers=submitter).status_code == 404


def _dead_runner() -> dict[str, Any]:
    """The runner record of a real process that has since exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = runner(process.pid)  # taken while it runs, as a server records itself
    finally:
        process.kill()
        process.wait()
    assert record["pid"] == process.pid
    return record


def _write_job(folder: Path, status: str, runner_record: dict[str, Any]) -> str:
    """A job's file as a server process writes it, naming ``runner_record`` as its process."""
    job_id = f"job_{secrets.token_hex(8)}"
    folder.mkdir(parents=True, exist_ok=True)
    job = {
        "id": job_id,
        "kind": "admit",
        "status": status,
        "progress": "security: model.safetensors" if status == "running" else "",
        "updates": 3 if status == "running" else 0,
        "submitted_by": "submitter",
        "created": "2026-01-01T00:00:00+00:00",
        "started": "2026-01-01T00:00:01+00:00" if status == "running" else None,
        "finished": None,
        "params": {"source": "/models/tiny", "name": "team/tiny"},
        "result": None,
        "error": None,
        "runner": runner_record,
    }
    (folder / f"{job_id}.json").write_text(json.dumps(job), encoding="utf-8")
    return job_id


def _on_disk(folder: Path, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder / f"{job_id}.json").read_text(encoding="utf-8"))
    return found


def test_a_job_whose_process_stopped_is_failed_when_read(workspace: Workspace) -> None:
    viewer = workspace.headers("viewer")
    folder = workspace.settings.home / "jobs"
    with make_client(workspace) as client:  # started before the jobs are written: reading settles them
        dead = _dead_runner()
        running = _write_job(folder, "running", dead)
        queued = _write_job(folder, "queued", dead)
        live = _write_job(folder, "running", runner())  # this test's own process: alive
        reused = _write_job(folder, "running", {**runner(), "start": runner()["start"] - 1})
        elsewhere = _write_job(folder, "running", {**dead, "host": "another-machine"})
        ended = _write_job(folder, "succeeded", dead)

        job = client.get(f"/api/v1/jobs/{running}", headers=viewer).json()
        JobOut.model_validate(job)
        assert job["status"] == "failed" and job["finished"] and job["result"] is None
        assert job["error"] == (
            f"the server process running this job stopped (pid {dead['pid']}) before it finished"
        )
        assert job["progress"] == "security: model.safetensors"  # how far it got
        assert _on_disk(folder, running)["status"] == "failed"  # recorded, not only reported

        listed = {j["id"]: j for j in client.get("/api/v1/jobs", headers=viewer).json()}
        assert listed[queued]["status"] == "failed"
        assert listed[queued]["error"] == (
            f"the server process that queued this job stopped (pid {dead['pid']}) before it started it"
        )
        # The pid is taken by a live process, but not the one that started the job.
        assert listed[reused]["status"] == "failed" and f"(pid {os.getpid()})" in listed[reused]["error"]
        # A live process's job runs on; one of another machine's processes cannot be judged from here.
        assert listed[live]["status"] == "running" and listed[live]["error"] is None
        assert listed[elsewhere]["status"] == "running"
        # A job that ended stays as it ended, whatever became of its process.
        assert listed[ended]["status"] == "succeeded" and listed[ended]["error"] is None
    assert [_on_disk(folder, i)["status"] for i in (queued, reused, live, elsewhere, ended)] == [
        "failed",
        "failed",
        "running",
        "running",
        "succeeded",
    ]


def test_the_server_fails_the_jobs_of_stopped_processes_when_it_starts(workspace: Workspace) -> None:
    folder = workspace.settings.home / "jobs"
    dead = _write_job(folder, "running", _dead_runner())
    live = _write_job(folder, "running", runner())
    with make_client(workspace):  # started; no request is made
        assert _on_disk(folder, dead)["status"] == "failed"
        assert "before it finished" in _on_disk(folder, dead)["error"]
        assert _on_disk(folder, live)["status"] == "running"


def test_a_submitted_job_names_its_process(workspace: Workspace, tmp_path: Path) -> None:
    submitter = workspace.headers("submitter")
    with make_client(workspace) as client:
        started = client.post(
            "/api/v1/jobs/admit", json={"source": str(tmp_path / "nowhere"), "name": "x"}, headers=submitter
        ).json()
        job = _follow(client, started["id"], submitter)
    recorded = _on_disk(workspace.settings.home / "jobs", job["id"])["runner"]
    assert recorded == runner() and recorded["pid"] == os.getpid()  # the jobs ran on this process's threads
    assert job["status"] == "failed" and "nowhere" in job["error"]


def test_a_job_of_a_killed_server_is_reported_failed_by_the_next(workspace: Workspace) -> None:
    submitter = workspace.headers("submitter")
    env = {
        **os.environ,
        "STEWARD_HOME": str(workspace.settings.home),
        "STEWARD_DATABASE_URL": workspace.settings.database_url,
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/v1"
    command = [sys.executable, "-m", "modelsteward", "server", "--port", str(port), "--no-web"]
    # A git server that never answers: the job's git waits on it until the server is killed.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        source = f"http://127.0.0.1:{silent.getsockname()[1]}/model.git"
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            job_id = _submit_when_up(server, f"{base}/jobs/admit", {"source": source, "name": "x"}, submitter)
            deadline = time.monotonic() + 30
            while _get(f"{base}/jobs/{job_id}", submitter)["status"] != "running":
                assert time.monotonic() < deadline, "the job did not start in 30 s"
                time.sleep(0.1)
            time.sleep(0.5)
            assert _get(f"{base}/jobs/{job_id}", submitter)["status"] == "running"
        finally:
            server.kill()
            server.wait()
    with make_client(workspace) as client:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=submitter).json()
    assert job["status"] == "failed"
    assert (
        job["error"] == f"the server process running this job stopped (pid {server.pid}) before it finished"
    )


def _submit_when_up(
    server: subprocess.Popen[bytes], url: str, body: dict[str, Any], headers: dict[str, str]
) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.post(url, json=body, headers=headers, timeout=5)
        except httpx.TransportError:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not answer in 60 s"
            time.sleep(0.3)
            continue
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["id"]
        return job_id


def _get(url: str, headers: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(url, headers=headers, timeout=5).json()
    return found
