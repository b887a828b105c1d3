"""The worker: load a handler from ENTRYPOINT, then answer one frame with one frame until stdin ends.

Run as ``python -I -m modelsteward.runtime.sandbox._main [--path DIR]... [--shared FD]
MODULE:FUNCTION`` inside the sandbox. Only numpy, the codec and the entrypoint's own imports are
loaded. The protocol owns the original stdout; file descriptor 1 is pointed at stderr so that
prints, Python's or a native library's, cannot corrupt a frame. ``FD`` is the parent's shared
request region: mapped read-only, then closed, so request arrays that arrive in it are read-only
views, which change when the next request arrives.
"""

from __future__ import annotations

import importlib
import os
import resource
import sys
from collections.abc import Callable
from typing import Any

from modelsteward.runtime.sandbox._message import Message
from modelsteward.runtime.sandbox._region import map_read_only
from modelsteward.runtime.sandbox._wire import WRITEV_MAX, encode, read_frame, unwritten

Handler = Callable[[Message], Message]

_MAX_REQUEST_BYTES = 1 << 40
"""The parent is trusted; this bound only keeps a corrupt length from being taken literally."""


def main(argv: list[str]) -> int:
    """Serve requests on stdin until it closes; exit 1 if the handler cannot be loaded."""
    paths, shared_fd, entrypoint = _parse(argv)
    shared = None
    if shared_fd is not None:
        shared = map_read_only(shared_fd)
        os.close(shared_fd)
    requests = os.dup(0)
    replies = os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path[:0] = paths
    try:
        handler = _load(entrypoint)
    except BaseException as exc:  # noqa: BLE001 - whatever the model raises is reported, not shown
        _send(replies, _failure(exc), kind="error")
        return 1
    _send(replies, Message(header={}), kind="ready")
    read_into = _reader(requests)
    while True:
        try:
            request, _ = read_frame(read_into, _MAX_REQUEST_BYTES, shared)
        except EOFError:
            return 0
        try:
            reply = handler(request)
            if not isinstance(reply, Message):
                raise TypeError(f"the handler returned {type(reply).__name__}, not a Message")
            frame = encode(reply, _meta("reply"))
        except Exception as exc:  # noqa: BLE001 - a failing call is an error reply; the worker lives on
            frame = encode(_failure(exc), _meta("error"))
        _write(replies, frame)


def _parse(argv: list[str]) -> tuple[list[str], int | None, str]:
    paths: list[str] = []
    shared_fd: int | None = None
    while len(argv) >= 2 and argv[0] in ("--path", "--shared"):
        if argv[0] == "--path":
            paths.append(argv[1])
        else:
            shared_fd = int(argv[1])
        argv = argv[2:]
    if len(argv) != 1 or ":" not in argv[0]:
        raise SystemExit("usage: _main [--path DIR]... [--shared FD] MODULE:FUNCTION")
    return paths, shared_fd, argv[0]


def _load(entrypoint: str) -> Handler:
    module_name, _, function_name = entrypoint.partition(":")
    factory = getattr(importlib.import_module(module_name), function_name)
    handler: Handler = factory()
    if not callable(handler):
        raise TypeError(f"{entrypoint} returned {type(handler).__name__}, not a callable handler")
    return handler


def _reader(fd: int) -> Callable[[memoryview], None]:
    def read_into(view: memoryview) -> None:
        while view.nbytes:
            count = os.readv(fd, [view])
            if not count:
                raise EOFError
            view = view[count:]

    return read_into


def _failure(exc: BaseException) -> Message:
    return Message(header={"error": str(exc)[:4000], "type": type(exc).__name__})


def _meta(kind: str) -> dict[str, Any]:
    # ru_maxrss is in KiB on Linux.
    return {"kind": kind, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def _send(fd: int, message: Message, *, kind: str) -> None:
    _write(fd, encode(message, _meta(kind)))


def _write(fd: int, frame: list[bytes | memoryview]) -> None:
    # One writev for the whole frame: the parent wakes once, to a complete reply.
    views = [memoryview(chunk).cast("B") for chunk in frame]
    while views:
        views = unwritten(views, os.writev(fd, views[:WRITEV_MAX]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
