"""Sources: where a model comes from, fetched at a pinned revision.

``open_source`` reads a source string and picks its kind; ``Source.fetch`` resolves the revision
to a commit and makes the files readable under ``Fetched.root``; ``Source.upstream`` says what the
tracked branch or tag holds now, without downloading model files. Each kind lives in one module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from modelsteward.sources import _git, _huggingface, _local
from modelsteward.sources._source import Commit, Fetched, Source, SourceError, Upstream

_SYNTAX = "a local path, hf://org/name[@revision] or a git URL[@revision]"
# Tried in order; each returns None for a string that is not its kind.
_KINDS: tuple[Callable[[str, Mapping[str, str]], Source | None], ...] = (
    _huggingface.parse,
    _git.parse,
    _local.parse,
)


def open_source(uri: str, *, env: Mapping[str, str] | None = None) -> Source:
    """The source ``uri`` names: a local path, ``hf://org/name[@revision]`` or a git URL ``[@revision]``.

    ``env`` holds ``HF_ENDPOINT``, ``HF_TOKEN`` and git's environment (default: the process environment).
    Raises :class:`SourceError` for a string that names no source.
    """
    env = os.environ if env is None else env
    if not uri:
        raise SourceError(f"no source given; give {_SYNTAX}")
    for parse in _KINDS:
        source = parse(uri, env)
        if source is not None:
            return source
    scheme, separator, _ = uri.partition("://")
    if separator:
        raise SourceError(f"{uri}: unsupported scheme {scheme!r}; give {_SYNTAX}")
    raise SourceError(f"{uri}: no such file or folder; give {_SYNTAX}")


__all__ = ["Commit", "Fetched", "Source", "SourceError", "Upstream", "open_source"]
