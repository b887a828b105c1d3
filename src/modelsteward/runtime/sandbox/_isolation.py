"""The isolation mechanisms: which one works here, and the command line that wraps a worker in it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from modelsteward.runtime.sandbox._cgroup import PidsCgroup
from modelsteward.runtime.sandbox._config import Isolation, Limits
from modelsteward.runtime.sandbox._mounts import (
    SANDBOX_TMP,
    MountPlan,
    PrivateTmp,
    ReadOnly,
    Symlink,
    plan_mounts,
)

_PROBE_TIMEOUT = 10.0
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def detect_isolation() -> Isolation:
    """The strongest isolation that actually works on this machine, found by running ``true`` in it.

    Costs a few milliseconds per mechanism tried; callers that start many workers keep the result.
    """
    true = shutil.which("true") or "/bin/true"
    for isolation in (Isolation.BUBBLEWRAP, Isolation.UNSHARE):
        with tempfile.TemporaryDirectory(prefix="steward-probe-") as tmp:
            plan = plan_mounts(model_root=Path(tmp), python_path=(), private_tmp=Path(tmp), protected=())
            try:
                command = wrap(isolation, [true], plan=plan, env={}, limits=Limits())
                subprocess.run(command, check=True, capture_output=True, timeout=_PROBE_TIMEOUT)
            except (OSError, subprocess.SubprocessError):
                continue
        return isolation
    return Isolation.NONE


def wrap(
    isolation: Isolation,
    argv: Sequence[str],
    *,
    plan: MountPlan,
    env: Mapping[str, str],
    limits: Limits,
    cgroup: PidsCgroup | None = None,
) -> list[str]:
    """The command that runs ``argv`` isolated as ``isolation`` describes, under ``limits``.

    With a ``cgroup`` the command enters it first, so that its process limit binds every task.

    Raises OSError when a program it needs (prlimit, bwrap, unshare) is missing.
    """
    if isolation is Isolation.BUBBLEWRAP:
        inner = _bubblewrap(argv, plan, env)
    elif isolation is Isolation.UNSHARE:
        inner = _unshare(argv, plan)
    else:
        inner = list(argv)
    command = [_program("prlimit"), *_prlimit_options(limits), "--", *inner]
    return command if cgroup is None else cgroup.enter(command)


def _prlimit_options(limits: Limits) -> list[str]:
    return [
        f"--as={limits.memory_bytes}",
        # A hard limit just above the soft one: SIGXCPU first, which names the cause; SIGKILL if ignored.
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
        f"--nproc={limits.processes}",
        f"--nofile={limits.open_files}",
    ]


def _bubblewrap(argv: Sequence[str], plan: MountPlan, env: Mapping[str, str]) -> list[str]:
    command = [_program("bwrap"), "--unshare-all", "--unshare-user", "--disable-userns"]
    command += ["--die-with-parent", "--new-session", "--clearenv", "--proc", "/proc", "--dev", "/dev"]
    for mount in plan.mounts:
        match mount:
            case ReadOnly(path):
                command += ["--ro-bind", str(path), str(path)]
            case Symlink(target, path):
                command += ["--symlink", target, str(path)]
            case PrivateTmp(source):
                command += ["--bind", str(source), SANDBOX_TMP]
    for name, value in env.items():
        command += ["--setenv", name, value]
    return [*command, "--chdir", SANDBOX_TMP, "--", *argv]


def _unshare(argv: Sequence[str], plan: MountPlan) -> list[str]:
    """unshare(1) makes the namespaces; a short script builds the same read-only root bwrap would.

    The worker runs without capabilities, as a child of the script (pid 1 of its namespace), so
    that signals it sends itself are not ignored the way the kernel ignores them for a
    namespace's init, and the script's exit status reports them as ``128 + signal``, like bwrap's.
    The kernel refuses new user namespaces to a chrooted process, so it cannot regain any.
    """
    private = next(m.source for m in plan.mounts if isinstance(m, PrivateTmp))
    root = private / ".root"
    lines = [
        "set -eu",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        f"R={shlex.quote(str(root))}",
        'mkdir -p "$R"',
        'mount -t tmpfs -o mode=0755 root "$R"',
    ]
    for mount in plan.mounts:
        match mount:
            case ReadOnly(path):
                target = '"$R"' + shlex.quote(str(path))
                make = (
                    f"mkdir -p {target}"
                    if path.is_dir()
                    else f'mkdir -p "$(dirname {target})"; touch {target}'
                )
                lines += [
                    make,
                    f"mount --rbind {shlex.quote(str(path))} {target}",
                    f"mount -o remount,bind,ro {target}",
                ]
            case Symlink(target, path):
                lines.append(f'ln -s {shlex.quote(target)} "$R"{shlex.quote(str(path))}')
            case PrivateTmp(source):
                lines += [
                    f'mkdir -p "$R"{SANDBOX_TMP}',
                    f'mount --bind {shlex.quote(str(source))} "$R"{SANDBOX_TMP}',
                ]
    lines += [
        'mkdir -p "$R/proc" "$R/dev"',
        'mount -t proc proc "$R/proc"',
        'mount -t tmpfs -o mode=0755 dev "$R/dev"',
    ]
    # The host's /dev/shm is writable and shared: the worker gets the harmless devices and its own shm.
    for device in _DEVICES:
        lines += [f'touch "$R/dev/{device}"', f'mount --bind /dev/{device} "$R/dev/{device}"']
    lines += ['mkdir "$R/dev/shm"', 'mount -t tmpfs shm "$R/dev/shm"']
    # The script is root in its user namespace; the worker must not be: with capabilities left
    # it could remount its read-only mounts writable or leave the chroot.
    drop = "setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs"
    lines.append(f'chroot "$R" {drop} -- "$@"')
    namespaces = ["--user", "--map-root-user", "--net", "--pid", "--fork", "--mount", "--ipc", "--uts"]
    return [
        _program("unshare"),
        *namespaces,
        "--kill-child",
        "--",
        "/bin/sh",
        "-c",
        "\n".join(lines),
        "sh",
        *argv,
    ]


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"{name} is not installed")
    return path
