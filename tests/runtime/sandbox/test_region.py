"""The shared request region: the parent's writes reach the worker's mapping; nothing else can write it."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from modelsteward.runtime.sandbox._region import RequestRegion, map_read_only

_SIZE = 1 << 20


@pytest.fixture
def region() -> Iterator[RequestRegion]:
    created = RequestRegion.create(_SIZE)
    assert created is not None
    yield created
    created.close()


def _worker_fd(region: RequestRegion) -> int:
    assert region.worker_fd is not None
    return region.worker_fd


def test_the_worker_mapping_sees_what_the_parent_writes(region: RequestRegion) -> None:
    worker_view = map_read_only(_worker_fd(region))
    region.view[:5] = b"first"
    assert bytes(worker_view[:5]) == b"first"
    region.view[:6] = b"second"
    assert bytes(worker_view[:6]) == b"second"
    assert worker_view.readonly
    assert worker_view.nbytes == _SIZE


def test_a_descriptor_reopened_for_writing_can_neither_write_nor_resize(region: RequestRegion) -> None:
    region.view[:6] = b"intact"
    reopened = os.open(f"/proc/self/fd/{_worker_fd(region)}", os.O_RDWR)
    attempts: list[Callable[[], object]] = [
        lambda: os.write(reopened, b"evil"),
        lambda: os.pwrite(reopened, b"evil", 0),
        lambda: os.ftruncate(reopened, 0),  # would leave the parent's mapping to fault with SIGBUS
        lambda: os.ftruncate(reopened, 2 * _SIZE),
        lambda: mmap.mmap(reopened, _SIZE, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE),
    ]
    try:
        for attempt in attempts:
            with pytest.raises(PermissionError):
                attempt()
    finally:
        os.close(reopened)
    assert bytes(region.view[:6]) == b"intact"
    assert os.fstat(_worker_fd(region)).st_size == _SIZE


def test_the_read_only_mapping_cannot_be_made_writable(region: RequestRegion) -> None:
    mapped = np.frombuffer(map_read_only(_worker_fd(region)), np.uint8)
    libc = ctypes.CDLL(None, use_errno=True)
    protect_read_write = mmap.PROT_READ | mmap.PROT_WRITE
    assert libc.mprotect(ctypes.c_void_p(mapped.ctypes.data), mmap.PAGESIZE, protect_read_write) == -1
    assert ctypes.get_errno() == errno.EACCES


def test_releasing_closes_only_the_workers_descriptor(region: RequestRegion) -> None:
    fd = _worker_fd(region)
    region.release_worker_fd()
    assert region.worker_fd is None
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)
    region.view[:2] = b"ok"
    assert bytes(region.view[:2]) == b"ok"


def test_no_region_is_made_for_size_zero() -> None:
    assert RequestRegion.create(0) is None
