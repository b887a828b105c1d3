"""Several processes at once, and a process killed in the middle of registering."""

from __future__ import annotations

import multiprocessing
import os
import signal

from modelsteward.registry import Registry, RegistryError
from tests.registry import _workers
from tests.registry._samples import register_sample

WORKERS = 4
TIMEOUT = 120


def test_concurrent_processes_lose_nothing_and_never_fork_the_chain(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(target=_workers.register_concurrently, args=(database_url, worker, start, results))
        for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT)
    # A worker that failed printed why on stderr, which pytest shows with the failure.
    assert [process.exitcode for process in processes] == [0] * WORKERS
    done = [results.get(timeout=TIMEOUT) for _ in processes]
    shared = [registration for worker in done for registration in worker[:1]]
    # The same content from every worker is one version, made by exactly one of them.
    assert {ref for ref, _ in shared} == {shared[0][0]}
    assert sum(new for _, new in shared) == 1
    with Registry.open(database_url) as registry:
        numbers = sorted(registry.get(f"shared@{n}").number for n in range(1, WORKERS + 2))
        assert numbers == list(range(1, WORKERS + 2))
        own = {worker[1][0] for worker in done}
        assert len(own) == WORKERS and all(new for worker in done for _, new in worker[1:])
        models = registry.list_models()
        assert [(m.name, m.versions) for m in models] == [("shared", WORKERS + 1)] + [
            (f"solo{w}", 1) for w in range(WORKERS)
        ]
        entries = registry.audit()
        assert len(entries) == 3 * WORKERS
        assert [e.action for e in entries].count("admit.repeat") == WORKERS - 1
        assert registry.verify_audit().ok


def test_a_process_killed_before_commit_leaves_no_trace(database_url: str) -> None:
    with Registry.open(database_url) as registry:
        register_sample(registry, "bert", b"committed")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_workers.register_and_hang_before_commit, args=(database_url, results))
    process.start()
    # The child saw its own version and audit entry written, inside its open transaction.
    assert results.get(timeout=TIMEOUT) == (2, 2)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(TIMEOUT)
    assert process.exitcode == -signal.SIGKILL
    with Registry.open(database_url) as registry:
        assert registry.list_models()[0].versions == 1
        try:
            registry.get("bert@2")
        except RegistryError as error:
            assert "bert has no version 2" in str(error)
        else:
            raise AssertionError("the killed registration is visible")
        assert registry.verify_audit().ok
        assert len(registry.audit()) == 1
        # The lock the killed process held is gone: the next registration goes through.
        again = register_sample(registry, "bert", b"never committed")
        assert (again.version.number, again.new) == (2, True)
        assert registry.verify_audit().ok
