"""Entry points of the processes the concurrency tests start (spawned: they import this module)."""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from sqlalchemy import Connection, Engine, event

from modelsteward.registry import Registry
from tests.registry._samples import register_sample

# Seconds a worker waits for the others at a barrier; then the barrier breaks and every worker fails.
BARRIER_TIMEOUT = 60


def register_concurrently(url: str, worker: int, start: Barrier, results: Queue[Any]) -> None:
    """Open the registry and register shared and own content, all workers at once."""
    start.wait(BARRIER_TIMEOUT)
    with Registry.open(url) as registry:
        start.wait(BARRIER_TIMEOUT)
        done = [
            register_sample(registry, "shared", b"same for everyone", actor=f"worker{worker}"),
            register_sample(registry, "shared", f"own {worker}".encode(), actor=f"worker{worker}"),
            register_sample(registry, f"solo{worker}", b"same for everyone", actor=f"worker{worker}"),
        ]
    results.put([(r.version.ref, r.new) for r in done])


def register_and_hang_before_commit(url: str, results: Queue[Any]) -> None:
    """Register a version, and stop for good at the commit, with every row written but uncommitted."""
    registry = Registry.open(url)

    def hang(connection: Connection) -> None:
        written = connection.exec_driver_sql("SELECT count(*) FROM versions").scalar()
        entries = connection.exec_driver_sql("SELECT count(*) FROM audit_log").scalar()
        results.put((written, entries))
        time.sleep(600)  # until the test kills this process

    event.listen(Engine, "commit", hang)
    register_sample(registry, "bert", b"never committed")
