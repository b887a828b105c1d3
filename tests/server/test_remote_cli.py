"""The command line on a team server (``--server URL``, ``STEWARD_TOKEN``): the same commands print the
same as on the local registry, changes are the token's user's, and refusals are clear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from modelsteward.cli._actor import actor as local_actor_of
from modelsteward.client import ApiSession, RemoteRegistry
from modelsteward.registry import Registry, RegistryError
from tests._live import served
from tests._ports import free_port
from tests.conftest import Steward
from tests.evaluation.data import ADULT_FEATURES, adult
from tests.gate.test_admit import model_folder
from tests.server.conftest import MODEL, Workspace, make_client


@pytest.fixture
def server(workspace: Workspace) -> Iterator[str]:
    """The API on the workspace, served live; yields its URL."""
    # No cache of authentications: a revoked token is refused at once.
    with served(make_client(workspace, auth_cache_seconds=0).app) as url:  # type: ignore[arg-type]
        yield url


@pytest.fixture
def local(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The environment of a local command on the workspace."""
    monkeypatch.setenv("STEWARD_HOME", str(workspace.settings.home))
    monkeypatch.setenv("STEWARD_DATABASE_URL", workspace.settings.database_url)
    monkeypatch.delenv("STEWARD_SERVER", raising=False)
    return workspace


READS = [
    ("registry", "list"),
    ("registry", "list", "--json"),
    ("registry", "show", f"{MODEL}@production"),
    ("registry", "show", MODEL, "--json"),
    ("registry", "diff", f"{MODEL}@1", f"{MODEL}@2"),
    ("registry", "diff", f"{MODEL}@production", MODEL, "--json"),
    ("registry", "evaluations", f"{MODEL}@1", "--json"),
    ("audit", "list"),
    ("audit", "list", "--json"),
    ("audit", "verify"),
    ("audit", "verify", "--json"),
    ("users", "list", "--json"),
    ("tokens", "list", "viewer", "--json"),
]


def test_reads_print_the_same_as_on_the_local_registry(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in READS:
        here = steward(*args)
        monkeypatch.setenv("STEWARD_TOKEN", local.tokens["admin"])
        there = steward("--server", server, *args)
        monkeypatch.delenv("STEWARD_TOKEN")
        assert (there.exit_code, there.stdout) == (here.exit_code, here.stdout), args
        assert here.exit_code == 0 and here.stdout.strip(), args


def test_changes_are_made_as_the_token_user_under_the_servers_rules(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_SERVER", server)

    def as_user(role: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("STEWARD_TOKEN", local.tokens[role])
        result = steward(*args)
        return result.exit_code, result.stdout, result.stderr

    assert as_user("submitter", "registry", "tag", f"{MODEL}@production", "gpu") == (
        0,
        f"{MODEL}@production tagged gpu\n",
        "",
    )
    code, _, error = as_user("submitter", "registry", "approve", f"{MODEL}@2", "--role", "security")
    assert code == 1 and "submitter has the submitter role, which lacks the review permission" in error
    assert as_user("reviewer", "registry", "approve", f"{MODEL}@2", "--role", "security")[0] == 0
    code, _, error = as_user("reviewer", "registry", "reject", f"{MODEL}@2", "--role", "ethics")
    assert code == 1 and "reviews in security, legal, not ethics" in error
    assert (
        as_user("owner", "registry", "alias", "set", MODEL, "staging", "2")[1]
        == f"{MODEL}@staging -> {MODEL}@2\n"
    )
    assert as_user("owner", "registry", "rollback", MODEL, "staging")[0] == 1  # no earlier move to go back to
    code, _, error = as_user("owner", "registry", "archive", f"{MODEL}@production")
    assert code == 1 and "production" in error, error
    assert as_user("owner", "registry", "alias", "remove", MODEL, "staging")[0] == 0
    assert as_user("owner", "registry", "archive", f"{MODEL}@2") == (0, f"{MODEL}@2 archived\n", "")
    code, _, error = as_user("owner", "registry", "tag", f"{MODEL}@1", "bad tag!")
    assert code == 4 and "tag" in error
    with Registry.open(local.settings.database_url) as registry:
        actions = [(e.actor, e.action, e.subject) for e in registry.audit()[-5:]]
        second = registry.get(f"{MODEL}@2")
        assert "gpu" in registry.get(f"{MODEL}@1").tags
    assert second.archived and [(a.role, a.actor) for a in second.approvals] == [("security", "reviewer")]
    assert [actor for actor, _, _ in actions] == ["submitter", "reviewer", "owner", "owner", "owner"]
    assert actions[0] == ("submitter", "tag", f"{MODEL}@1") and actions[-1][2] == f"{MODEL}@2"


def test_users_and_tokens_through_the_server(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["admin"])
    added = steward("--server", server, "users", "add", "rita", "--role", "reviewer", "--domain", "legal")
    assert added.exit_code == 0, added.stderr
    issued = steward("--server", server, "tokens", "create", "rita", "--expires-in", "7")
    assert issued.exit_code == 0 and issued.stdout.startswith("stw_")
    with RemoteRegistry(ApiSession(server, issued.stdout.strip())) as as_rita:
        assert as_rita.get(f"{MODEL}@2").number == 2
    (listed,) = json.loads(steward("--server", server, "tokens", "list", "rita", "--json").stdout)
    assert listed["last_used"] is not None
    lifetime = datetime.fromisoformat(listed["expires"]) - datetime.fromisoformat(listed["created"])
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    assert steward("--server", server, "tokens", "revoke", listed["id"]).exit_code == 0
    with (
        RemoteRegistry(ApiSession(server, issued.stdout.strip())) as as_rita,
        pytest.raises(RegistryError, match="STEWARD_TOKEN"),
    ):
        as_rita.list_models()


def test_refusals_name_the_problem(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEWARD_TOKEN", raising=False)
    no_token = steward("--server", server, "registry", "list")
    assert no_token.exit_code == 4 and "set STEWARD_TOKEN" in no_token.stderr
    monkeypatch.setenv("STEWARD_TOKEN", "stw_nothing_wrong")
    bad = steward("--server", server, "registry", "list")
    assert bad.exit_code == 1 and "STEWARD_TOKEN" in bad.stderr
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["owner"])
    acted = steward("--server", server, "registry", "tag", f"{MODEL}@1", "x", "--actor", "someone")
    assert acted.exit_code == 4 and "--actor" in acted.stderr
    missing = steward("--server", server, "registry", "show", "acme/none@3")
    assert missing.exit_code == 1 and "no model named acme/none" in missing.stderr
    gone = steward("--server", f"http://127.0.0.1:{free_port()}", "registry", "list")
    assert gone.exit_code == 1 and "cannot reach the server" in gone.stderr
    local_only = steward("--server", server, "scan", str(local.settings.home))
    assert local_only.exit_code == 4 and "works on this machine" in local_only.stderr
    assert steward("--server", "ftp://x", "registry", "list").exit_code == 4


def test_admit_on_a_server_runs_a_job_and_prints_what_a_local_admit_prints(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = model_folder(tmp_path / "model")
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["submitter"])
    there = steward("--server", server, "admit", str(folder), "--name", "team/tiny", "--json")
    assert there.exit_code == 0, there.stderr
    text_there = steward("--server", server, "admit", str(folder), "--name", "team/tiny")
    # The same admission on this machine, into a registry of its own.
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("STEWARD_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    here = steward("admit", str(folder), "--name", "team/tiny", "--json")
    text_here = steward("admit", str(folder), "--name", "team/tiny")
    remote, local_document = json.loads(there.stdout), json.loads(here.stdout)
    assert remote.keys() == local_document.keys()
    for key in ("name", "version", "source", "manifest", "decision", "checks", "new_version", "registered"):
        assert remote[key] == local_document[key], key
    assert remote["registered"] == {"ref": "team/tiny@1", "verdict": "approve", "derived_from": None}
    # The second admission of the same content says so alike; only where the documents lie differs.
    assert text_there.exit_code == text_here.exit_code == 0
    documents = tuple(f"{kind}: " for kind in remote["documents"])
    assert [line for line in text_there.stdout.splitlines() if not line.startswith(documents)] == [
        line for line in text_here.stdout.splitlines() if not line.startswith(documents)
    ]
    assert "(already registered)" in text_there.stdout
    with Registry.open(local.settings.database_url) as registry:
        assert registry.get("team/tiny@1").submitted_by == "submitter"


def test_verify_on_a_server_checks_its_stored_copy_as_a_local_verify_does(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["submitter"])
    admitted = steward("--server", server, "admit", str(model_folder(tmp_path / "m")), "--name", "team/tiny")
    assert admitted.exit_code == 0, admitted.stderr
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["viewer"])
    for args in (("verify", "team/tiny@1"), ("verify", "team/tiny@1", "--json")):
        there = steward("--server", server, *args)
        here = steward(*args)  # the same workspace, so the same store and signing key
        assert (there.exit_code, there.stdout) == (here.exit_code, here.stdout) == (0, here.stdout), (
            there.stderr
        )
    assert "team/tiny@1: " in here.stdout or json.loads(here.stdout)["ok"] is True
    with_path = steward("--server", server, "verify", "team/tiny@1", str(tmp_path))
    assert with_path.exit_code == 2 and "PATH with a server" in with_path.stderr
    missing = steward("--server", server, "verify", "team/tiny@7")
    assert missing.exit_code == 2 and "has no version 7" in missing.stderr and "(job job_" in missing.stderr


def test_a_failed_admit_job_is_an_error_naming_the_job(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["submitter"])
    failed = steward("--server", server, "admit", str(tmp_path / "nowhere"), "--name", "team/none")
    assert failed.exit_code == 2 and "nowhere" in failed.stderr and "(job job_" in failed.stderr
    with_data = steward("--server", server, "admit", str(tmp_path), "--name", "x/y", "--data", "d.csv")
    assert with_data.exit_code == 4 and "--data with a server" in with_data.stderr
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["viewer"])
    refused = steward("--server", server, "admit", str(tmp_path), "--name", "x/y")
    assert refused.exit_code == 2 and "lacks the submit permission" in refused.stderr


def _adult_model(folder: Path, strength: float) -> Path:
    """A logistic regression on Adult census rows, exported to ONNX in ``folder``."""
    train = adult(1000, seed=1)
    features = train[list(ADULT_FEATURES)].to_numpy().astype(np.float64)
    fitted = LogisticRegression(C=strength, max_iter=500).fit(features, train["income"])
    folder.mkdir()
    exported = to_onnx(fitted, features[:1], options={"zipmap": False})
    (folder / "model.onnx").write_bytes(exported.SerializeToString())
    return folder


def test_evaluate_and_compare_on_a_server_run_jobs_on_its_data_and_measure_alike(
    steward: Steward, local: Workspace, server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "adult.csv"
    adult(300, seed=2).to_csv(data, index=False)
    monkeypatch.setenv("STEWARD_TOKEN", local.tokens["submitter"])
    for name, strength in (("team/adult", 1.0), ("team/adult-weak", 0.0001)):
        folder = _adult_model(tmp_path / name.replace("/", "-"), strength)
        # Registered for review (a folder without a licence): enough to evaluate it.
        assert steward("--server", server, "admit", str(folder), "--name", name).exit_code == 3
    options = [str(x) for x in ("--data", data, "--task", "classification", "--columns", "label=income")]
    options += ["--sensitive", "sex,race", "--resamples", "100", "--seed", "3", "--json"]
    there = steward("--server", server, "evaluate", "team/adult@1", *options)
    assert there.exit_code == 0, there.stderr
    here = steward("evaluate", "team/adult@1", *options)  # the same registry, run here
    assert here.exit_code == 0, here.stderr
    remote, measured_here = json.loads(there.stdout), json.loads(here.stdout)
    # The same rows, seed and model: the same figures; only timings differ.
    assert remote.keys() == measured_here.keys()
    assert remote["metrics"] == measured_here["metrics"] and remote["recorded"] == "team/adult@1"
    with Registry.open(local.settings.database_url) as registry:
        assert [e.actor for e in registry.evaluations("team/adult@1")] == ["submitter", local_actor_of(None)]
    refused = steward("--server", server, "evaluate", "team/adult@1", *options, "--memory", "2G")
    assert refused.exit_code == 4 and "--memory with a server" in refused.stderr
    pair = ("team/adult@1", "team/adult-weak@1")
    ranked_there = json.loads(steward("--server", server, "compare", *pair, *options).stdout)
    ranked_here = json.loads(steward("compare", *pair, *options).stdout)
    assert ranked_there.keys() == ranked_here.keys()
    assert ranked_there["standings"] == ranked_here["standings"] and ranked_there["best"] == "team/adult@1"
    once = steward("--server", server, "compare", "team/adult@1", "team/adult@1", *options)
    assert once.exit_code == 2 and "given more than once" in once.stderr
