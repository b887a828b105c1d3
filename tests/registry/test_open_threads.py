"""Registries opened from many threads at once (the team server's jobs do): Alembic's module-level
context must not be shared between two migrations in flight."""

from __future__ import annotations

import threading
from pathlib import Path

from modelsteward.registry import Registry


def test_threads_open_registries_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def open_some(index: int) -> None:
        try:
            for _ in range(3):
                Registry.open(f"sqlite:///{tmp_path / f'r{index}.db'}").close()
        except BaseException as error:  # noqa: BLE001 -- every failure is reported by the test
            errors.append(error)

    threads = [threading.Thread(target=open_some, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
