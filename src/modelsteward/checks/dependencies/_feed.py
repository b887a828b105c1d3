"""Reading an OSV export: a folder of records, a zip of them, or an http(s) or file URL to such a zip.

OSV publishes each ecosystem as a zip of one ``<ID>.json`` per advisory (``PyPI/all.zip``); the
PyPA advisory database is a folder of YAML records. Files are picked by extension (``.json``,
``.yaml``, ``.yml``) outside hidden folders; a document that is not an object with an ``id`` (a
workflow file, a JSON schema) is not a record and is passed over. A record that cannot be decoded
stops the read with a :class:`FeedError` naming it: a half-read export would look complete.

An address may carry a secret (``?token=…``, ``user:password@``), so messages and the names of
records never show more of it than :func:`shown_location` does.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import yaml

from modelsteward._text import printable
from modelsteward._urls import shown_url

MAX_DOWNLOAD_BYTES = 2 * 1024**3
"""The largest export downloaded; OSV's all-ecosystem zip is well under it."""
MAX_RECORD_BYTES = 32 * 1024**2
"""The largest record read; real ones are kilobytes."""
_BOMB_RATIO = 200  # uncompressed/compressed; JSON compresses about 10:1, a zip bomb 1000:1
_BOMB_FLOOR = 1024**2  # records under this size are read whatever their ratio
_TIMEOUT_S = 60
_CHUNK = 1024**2
_KINDS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_EXAMPLE = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
_REASON_CHARS = 200  # of what a server says, shown in a message

Record = tuple[str, Mapping[str, Any]]


class FeedError(Exception):
    """An export that cannot be read; the message names the file, member or address and what to check."""


class _OsvLoader(yaml.SafeLoader):
    """Safe YAML that keeps times as the strings OSV defines them as (``modified: 2024-04-10T22:20:57Z``)."""


_OsvLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_feed(
    location: str, *, env: Mapping[str, str] | None = None, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> Iterator[Record]:
    """Yield ``(where, record)`` for every OSV record at ``location``.

    ``location`` is a folder (read recursively), a zip file, or an ``http(s)://`` or ``file://`` URL
    of either. A download goes to a temporary file, at most ``max_bytes``, through the proxy that
    ``env`` names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``; None reads the process environment).
    ``where`` names the record's file, or its member and archive (``GHSA-….json in all.zip``).
    """
    shown = shown_location(location)
    scheme = _scheme(location)
    if scheme in {"http", "https"}:
        _check_url(location, shown)
        yield from _read_download(location, shown, os.environ if env is None else env, max_bytes)
    elif scheme == "file":
        yield from _read_path(_file_path(location, shown), shown)
    elif scheme:
        raise FeedError(
            f"{shown}: cannot read {scheme}:// addresses; give a folder, a zip, or an http(s) or file URL"
        )
    else:
        yield from _read_path(Path(location), location)


def shown_location(location: str) -> str:
    """``location`` as messages and logs may show it: a URL without its user name, password, query
    and fragment (any of which may be a secret); a path as given."""
    return shown_url(location, path=True) if _scheme(location) else location


def _scheme(location: str) -> str:
    """The URL scheme of ``location``, lower case; empty for a path."""
    scheme, colon, _ = location.partition(":")
    # One letter is a Windows drive, not a scheme; a path may hold a colon further on.
    if not colon or len(scheme) < 2 or not scheme.isascii() or not scheme[0].isalpha():
        return ""
    return scheme.lower() if all(c.isalnum() or c in "+-." for c in scheme) else ""


def _check_url(url: str, shown: str) -> None:
    """Refuse an http(s) URL that urllib would fail on with an error quoting it, secrets and all."""
    if not (url.isascii() and url.isprintable()) or " " in url:
        raise FeedError(
            f"{shown}: the address holds spaces, control characters or characters outside ASCII; "
            "percent-encode them"
        )
    parts = _split(url, shown)
    if parts.username is not None or parts.password is not None:
        raise FeedError(
            f"{shown}: a user name or password in the address is not sent; put a token in the query "
            "instead, or download the export and give its path"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise FeedError(f"{shown}: the port is not a number from 0 to 65535") from None
    if not parts.hostname:
        raise FeedError(f"{shown}: the address names no host; give one such as {_EXAMPLE}")


def _split(url: str, shown: str) -> urllib.parse.SplitResult:
    try:
        return urllib.parse.urlsplit(url)
    except ValueError:  # its message may quote the host, password and all
        raise FeedError(
            f"{shown}: not a valid URL; check its host (an IPv6 address is written in [ ])"
        ) from None


def _file_path(url: str, shown: str) -> Path:
    parts = _split(url, shown)
    host = parts.netloc.rpartition("@")[2]
    if host not in {"", "localhost"}:
        raise FeedError(f"{shown}: a file URL names a local path (file:///…), not host {host!r}")
    return Path(urllib.request.url2pathname(parts.path))


def _read_path(path: Path, shown: str) -> Iterator[Record]:
    if path.is_dir():
        yield from _read_folder(path)
    elif path.is_file():
        if not zipfile.is_zipfile(path):
            raise FeedError(
                f"{shown} is not a zip file; give an OSV export (a zip such as {_EXAMPLE}) or a folder"
            )
        yield from _read_zip(path, shown)
    else:
        raise FeedError(
            f"{shown}: no such file or folder; give a folder of OSV records, a zip of them, or a URL"
        )


def _read_folder(root: Path) -> Iterator[Record]:
    for folder, subfolders, files in os.walk(root, onerror=_unreadable):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            kind = _KINDS.get(path.suffix.lower())
            if kind is None or name.startswith("."):
                continue
            where = str(path)
            try:
                size = path.stat().st_size
                data = b"" if size > MAX_RECORD_BYTES else path.read_bytes()
            except OSError as error:
                _unreadable(error)
            if size > MAX_RECORD_BYTES:
                raise FeedError(f"{where}: {size} bytes is too large for an OSV record")
            record = _decode(data, kind, where)
            if record is not None:
                yield where, record


def _unreadable(error: OSError) -> NoReturn:
    """Stop at a file or folder that cannot be read: skipping it would pass its records over unseen."""
    raise FeedError(f"{error.filename}: cannot be read ({error.strerror}); check its permissions") from None


def _read_zip(path: Path, shown: str) -> Iterator[Record]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise FeedError(f"{shown}: cannot open the zip ({error}); is the export complete?") from None
    with archive:
        for member in archive.infolist():
            parts = PurePosixPath(member.filename).parts
            kind = _KINDS.get(PurePosixPath(member.filename).suffix.lower())
            if member.is_dir() or kind is None or any(part.startswith(".") for part in parts):
                continue
            where = f"{member.filename} in {shown}"
            _check_size(member, where)
            try:
                # zipfile stops at the declared size and checks the CRC, so a member cannot outgrow the check.
                data = archive.read(member)
            except (
                zipfile.BadZipFile,
                OSError,
                EOFError,
                RuntimeError,
                NotImplementedError,
                zlib.error,
            ) as error:
                raise FeedError(f"{where}: cannot be read from the zip ({error})") from None
            record = _decode(data, kind, where)
            if record is not None:
                yield where, record


def _check_size(member: zipfile.ZipInfo, where: str) -> None:
    """Refuse a member that would unpack to something no record is: a zip bomb or a mislabelled file."""
    if member.file_size > MAX_RECORD_BYTES:
        raise FeedError(
            f"{where}: unpacks to {member.file_size} bytes, more than the {MAX_RECORD_BYTES} an OSV record "
            "could be; refusing it as a possible zip bomb"
        )
    if member.file_size > _BOMB_FLOOR and member.file_size > _BOMB_RATIO * max(member.compress_size, 1):
        raise FeedError(
            f"{where}: unpacks {member.compress_size} bytes to {member.file_size}, a ratio no record has; "
            "refusing it as a possible zip bomb"
        )


def _decode(data: bytes, kind: str, where: str) -> Mapping[str, Any] | None:
    """The record in ``data``, or None when it holds a document that is not a record."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FeedError(f"{where}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        value = json.loads(text) if kind == "json" else _load_yaml(text)
    except json.JSONDecodeError as error:
        raise FeedError(f"{where}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        position = "" if mark is None else f":{mark.line + 1}:{mark.column + 1}"
        problem = getattr(error, "problem", None) or error
        raise FeedError(f"{where}{position}: not valid YAML: {problem}") from None
    return value if isinstance(value, Mapping) and "id" in value else None


def _load_yaml(text: str) -> Any:
    loader = _OsvLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _read_download(url: str, shown: str, env: Mapping[str, str], max_bytes: int) -> Iterator[Record]:
    with tempfile.TemporaryDirectory(prefix="steward-feed-") as folder:
        path = Path(folder, "export.zip")
        _download(url, shown, path, env, max_bytes)
        if not zipfile.is_zipfile(path):
            raise FeedError(f"{shown} did not return a zip file; an OSV export is a zip such as {_EXAMPLE}")
        yield from _read_zip(path, shown)


def _download(url: str, shown: str, path: Path, env: Mapping[str, str], max_bytes: int) -> None:
    too_large = f"{shown}: the export is larger than the {max_bytes}-byte limit; is this the right address?"
    request = urllib.request.Request(url, headers={"User-Agent": "modelsteward"})  # noqa: S310 (scheme checked)
    try:
        with _opener(url, env).open(request, timeout=_TIMEOUT_S) as response, path.open("wb") as out:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(too_large)
            written = 0
            while chunk := response.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise FeedError(too_large)
                out.write(chunk)
    except urllib.error.HTTPError as error:
        raise FeedError(
            f"{shown}: the server answered HTTP {error.code} {printable(str(error.reason), _REASON_CHARS)}; "
            "check the address and that the export is published there"
        ) from None
    except urllib.error.URLError as error:
        raise FeedError(
            f"{shown}: cannot connect ({error.reason}); check the address, the network and the proxy "
            "(HTTPS_PROXY, NO_PROXY)"
        ) from None
    except (OSError, http.client.HTTPException) as error:
        raise FeedError(
            f"{shown}: the download failed ({error}); try again, or download the zip and give its path"
        ) from None


def _opener(url: str, env: Mapping[str, str]) -> urllib.request.OpenerDirector:
    """An opener with the proxies ``env`` names and nothing from the process environment."""
    proxies = {
        scheme: value
        for scheme in ("http", "https")
        if (value := env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY"))
    }
    if _bypasses_proxy(
        urllib.parse.urlsplit(url).hostname or "", env.get("no_proxy") or env.get("NO_PROXY") or ""
    ):
        proxies = {}
    return urllib.request.build_opener(urllib.request.ProxyHandler(proxies))


def _bypasses_proxy(host: str, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (hosts and domains, comma-separated; ``*`` for all) lets ``host`` go direct."""
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        domain = entry.lstrip(".")
        if entry == "*" or (domain and (host.lower() == domain or host.lower().endswith(f".{domain}"))):
            return True
    return False
