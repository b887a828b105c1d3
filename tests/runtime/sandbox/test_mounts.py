"""What the worker's filesystem is built from: never a protected path, never one above it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelsteward.runtime.sandbox import Isolation, SandboxUnavailable, detect_isolation
from modelsteward.runtime.sandbox._mounts import PrivateTmp, ReadOnly, plan_mounts, protected_paths


def test_protected_paths_are_home_steward_home_and_cwd(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path / "home"), "STEWARD_HOME": str(tmp_path / "steward")}
    assert protected_paths(environ, tmp_path / "cwd") == (
        tmp_path / "home",
        tmp_path / "steward",
        tmp_path / "cwd",
    )
    assert protected_paths({"HOME": str(tmp_path)}, tmp_path / "cwd")[1] == tmp_path / "cwd" / ".steward"


def test_plan_skips_sys_path_entries_that_expose_protected_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "project"
    (cwd / ".steward").mkdir(parents=True)
    (cwd / "src").mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(cwd), str(cwd / "src"), str(tmp_path)])
    protected = (cwd / ".steward", cwd)
    plan = plan_mounts(
        model_root=tmp_path / "model", python_path=(), private_tmp=tmp_path / "t", protected=protected
    )
    mounted = [m.path for m in plan.mounts if isinstance(m, ReadOnly)]
    assert cwd / "src" in mounted
    assert tmp_path / "model" in mounted
    for path in mounted:
        assert all(path != p and path not in p.parents for p in protected), path
    tmp_index = next(i for i, m in enumerate(plan.mounts) if isinstance(m, PrivateTmp))
    under_tmp = [
        i for i, m in enumerate(plan.mounts) if isinstance(m, ReadOnly) and m.path.is_relative_to("/tmp")
    ]
    assert all(i > tmp_index for i in under_tmp)


@pytest.mark.parametrize("offender", ["model_root", "python_path"])
def test_plan_refuses_named_paths_that_expose_protected_paths(tmp_path: Path, offender: str) -> None:
    protected = (tmp_path / "home" / ".steward",)
    named = tmp_path / "home"
    with pytest.raises(SandboxUnavailable, match="would expose"):
        plan_mounts(
            model_root=named if offender == "model_root" else tmp_path / "model",
            python_path=(named,) if offender == "python_path" else (),
            private_tmp=tmp_path / "t",
            protected=protected,
        )


def test_bubblewrap_is_detected_where_installed() -> None:
    # scripts/test.sh installs bubblewrap; this machine must be able to use it.
    assert detect_isolation() is Isolation.BUBBLEWRAP
