"""Admit and evaluate jobs: the gate run in the background, followed to the end over HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from modelsteward.server._schemas import JobOut
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
        assert (
            result["ref"] == "team/tiny@1"
            and result["verdict"] == "approve"
            and result["new_version"] is True
        )
        assert {c["check"] for c in result["admission"]["checks"]} >= {"security", "integrity", "license"}
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
