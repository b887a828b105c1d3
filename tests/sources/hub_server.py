"""A local Hugging Face Hub for tests: the real ``huggingface_hub`` client talks to it over HTTP.

Each repository is a real git repository on disk: revisions resolve with ``git rev-parse``, listings
come from ``git ls-tree`` and file bytes from ``git cat-file``. Use it from any test folder::

    from tests.sources.hub_server import hub_server

    with hub_server({"org/name": repo_path}, token="secret") as hub:
        env = {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": "secret"}
        fetched = open_source("hf://org/name@main", env=env).fetch(tmp_path / "into")
        assert all(r.authorization == "Bearer secret" for r in hub.requests)

It serves what the client's downloads use: model info (``/api/models/{repo}`` and
``/api/models/{repo}/revision/{rev}``), the tree listing (``/api/models/{repo}/tree/{rev}``) and
files (``HEAD`` and ``GET /{repo}/resolve/{rev}/{path}`` with ``X-Repo-Commit``, ``ETag`` and
``Content-Length``); and what watching uses: ``cardData`` in model info (the YAML front matter of
``README.md`` at that commit), ``?blobs=true`` for each file's ``size`` and ``blobId``, with an
``lfs`` block (``size``, ``sha256`` of the content, ``pointerSize``) for the kinds of file the
hub's default ``.gitattributes`` stores with LFS (``*.bin``, ``*.safetensors``, ...), the refs
(``/api/models/{repo}/refs``: branches, tags, pull requests) and the commits of a revision
(``/api/models/{repo}/commits/{rev}``, newest first, one page). Errors carry the hub's
``X-Error-Code`` header (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``, ``GatedRepo``) so
the client raises its own exception types. With a ``token``, every repository is gated as on the
hub: metadata is public, files answer 401 without ``Authorization: Bearer <token>``, and any other
token is refused everywhere. What model info says of gating is ``manual`` with a token and not gated
without, unless a test sets ``hub.gated[repo_id]`` (``"auto"``, ``"manual"``) while the hub runs.
Requests are recorded in ``requests``; those matching no route are answered 404 and also listed in
``unexpected``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from huggingface_hub.repocard import REGEX_YAML_BLOCK

# What the hub's default .gitattributes stores with Git LFS, among the kinds these tests use.
_LFS_SUFFIXES = (".bin", ".safetensors", ".onnx", ".gguf", ".pt", ".pth", ".h5", ".npy")
_LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"


@dataclass(frozen=True, slots=True)
class Request:
    """One request the hub received."""

    method: str
    path: str
    """The path and query as sent, still percent-encoded."""
    authorization: str | None


@dataclass(slots=True)
class Hub:
    """A running hub: point ``HF_ENDPOINT`` at ``endpoint``."""

    endpoint: str
    requests: list[Request] = field(default_factory=list)
    unexpected: list[Request] = field(default_factory=list)
    gated: dict[str, str] = field(default_factory=dict)
    """Repository id -> ``auto`` or ``manual``: what model info says of gating, whatever ``token`` is."""


@dataclass(frozen=True, slots=True)
class _Response:
    status: HTTPStatus
    headers: Mapping[str, str]
    body: bytes = b""


class _HubError(Exception):
    def __init__(self, status: HTTPStatus, code: str | None, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@contextmanager
def hub_server(repos: Mapping[str, Path], token: str | None = None) -> Iterator[Hub]:
    """Serve ``repos`` (repository id -> git repository) on 127.0.0.1 while the block runs."""
    hub = Hub(endpoint="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet: tests read ``hub.requests`` instead."""

        def _answer(self, *, head: bool) -> None:
            request = Request(self.command, self.path, self.headers.get("Authorization"))
            with lock:
                hub.requests.append(request)
            try:
                response = _route(repos, token, hub.gated, request)
            except _HubError as error:
                body = json.dumps({"error": error.message}).encode()
                headers = {"Content-Type": "application/json", "X-Error-Message": error.message}
                if error.code is not None:
                    headers["X-Error-Code"] = error.code
                if error.status == HTTPStatus.NOT_FOUND and error.code is None:
                    with lock:
                        hub.unexpected.append(request)
                response = _Response(error.status, headers, body)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _route(
    repos: Mapping[str, Path], token: str | None, gated: Mapping[str, str], request: Request
) -> _Response:
    url = urlsplit(request.path)
    parts = [unquote(p) for p in url.path.split("/")[1:]]
    query = parse_qs(url.query)
    if token is not None and request.authorization not in (None, f"Bearer {token}"):
        raise _HubError(HTTPStatus.UNAUTHORIZED, None, "Invalid credentials in Authorization header")
    match parts:
        case ["api", "models", org, name] | ["api", "models", org, name, "revision", _]:
            repo_id = f"{org}/{name}"
            gating = gated.get(repo_id, "manual" if token is not None else False)
            revision = parts[5] if len(parts) == 6 else "HEAD"
            blobs = _flag(query, "blobs")
            return _info(_repo(repos, org, name), repo_id, revision, gated=gating, blobs=blobs)
        case ["api", "models", org, name, "tree", revision, *inside]:
            recursive = _flag(query, "recursive")
            return _tree(_repo(repos, org, name), revision, "/".join(inside), recursive=recursive)
        case ["api", "models", org, name, "refs"]:
            return _refs(_repo(repos, org, name), pulls=_flag(query, "include_prs"))
        case ["api", "models", org, name, "commits", revision]:
            return _commits(_repo(repos, org, name), revision)
        case [org, name, "resolve", revision, *inside] if request.method in {"GET", "HEAD"}:
            repo = _repo(repos, org, name)
            if token is not None and request.authorization is None:
                raise _HubError(
                    HTTPStatus.UNAUTHORIZED,
                    "GatedRepo",
                    f"Access to model {org}/{name} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in.",
                )
            return _file(repo, revision, "/".join(inside))
    raise _HubError(HTTPStatus.NOT_FOUND, None, f"no such route: {request.method} {url.path}")


def _repo(repos: Mapping[str, Path], org: str, name: str) -> Path:
    repo = repos.get(f"{org}/{name}")
    if repo is None:
        raise _HubError(HTTPStatus.NOT_FOUND, "RepoNotFound", "Repository not found")
    return repo


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return query.get(name, ["false"])[0].lower() in {"true", "1"}


def _info(repo: Path, repo_id: str, revision: str, *, gated: str | bool, blobs: bool) -> _Response:
    commit = _commit(repo, revision)
    when = int(_git(repo, "show", "-s", "--format=%ct", commit).decode())
    stamp = _stamp(when)
    files = [e for e in _ls_tree(repo, commit, "", recursive=True) if e["type"] == "file"]
    info: dict[str, object] = {
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.partition("/")[0],
        "sha": commit,
        "lastModified": stamp,
        "createdAt": stamp,
        "private": False,
        "gated": gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": [_sibling(repo, e) if blobs else {"rfilename": e["path"]} for e in files],
    }
    card = _card_data(repo, commit, files)
    if card is not None:
        info["cardData"] = card
    return _json(info)


def _sibling(repo: Path, entry: Mapping[str, object]) -> dict[str, object]:
    """A file as model info lists it with ``blobs=true``: size, blob id and, for LFS files, the digest."""
    path, oid, size = str(entry["path"]), str(entry["oid"]), entry["size"]
    sibling: dict[str, object] = {"rfilename": path, "size": size, "blobId": oid}
    if path.endswith(_LFS_SUFFIXES):
        sha256 = hashlib.sha256(_git(repo, "cat-file", "blob", oid)).hexdigest()
        pointer = _LFS_POINTER.format(sha256=sha256, size=size)
        sibling["lfs"] = {"size": size, "sha256": sha256, "pointerSize": len(pointer)}
    return sibling


def _card_data(repo: Path, commit: str, files: list[dict[str, object]]) -> object:
    """The YAML front matter of the commit's README.md, parsed as the hub does; None without one."""
    card = next((e for e in files if e["path"] == "README.md"), None)
    if card is None:
        return None
    text = _git(repo, "cat-file", "blob", str(card["oid"])).decode("utf-8").removeprefix("\ufeff")
    match = REGEX_YAML_BLOCK.search(text)
    return yaml.safe_load(match.group(2)) if match else None


def _refs(repo: Path, *, pulls: bool) -> _Response:
    """Branches, tags (with the commit each points to) and, when asked, pull requests (``refs/pr/N``)."""
    listed = _git(repo, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)")
    refs: dict[str, list[dict[str, str]]] = {"branches": [], "converts": [], "tags": []}
    if pulls:
        refs["pullRequests"] = []
    kinds = {"refs/heads/": "branches", "refs/tags/": "tags", "refs/pr/": "pullRequests"}
    for line in listed.decode().splitlines():
        ref, oid, peeled = line.split("\0")
        for prefix, kind in kinds.items():
            if ref.startswith(prefix) and kind in refs:
                name = ref if kind == "pullRequests" else ref.removeprefix(prefix)
                refs[kind].append({"name": name, "ref": ref, "targetCommit": peeled or oid})
    return _json(refs)


def _commits(repo: Path, revision: str) -> _Response:
    """The commits of ``revision``, newest first, as the hub lists them."""
    log = _git(repo, "log", "-z", "--format=%H%n%an%n%ct%n%s%n%b", _commit(repo, revision)).decode()
    commits = []
    for record in filter(None, log.split("\0")):
        oid, author, when, title, message = record.split("\n", 4)
        commits.append(
            {
                "id": oid,
                "authors": [{"user": author}],
                "date": _stamp(int(when)),
                "title": title,
                "message": message.strip(),
            }
        )
    return _json(commits)


def _stamp(when: int) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _tree(repo: Path, revision: str, inside: str, *, recursive: bool) -> _Response:
    return _json(_ls_tree(repo, _commit(repo, revision), inside, recursive=recursive))


def _file(repo: Path, revision: str, path: str) -> _Response:
    commit = _commit(repo, revision)
    entry = next((e for e in _ls_tree(repo, commit, path, recursive=False) if e["path"] == path), None)
    if entry is None or entry["type"] != "file":
        raise _HubError(HTTPStatus.NOT_FOUND, "EntryNotFound", f"{path} does not exist on {revision!r}")
    headers = {
        "Content-Type": "application/octet-stream",
        "ETag": f'"{entry["oid"]}"',
        "X-Repo-Commit": commit,
    }
    return _Response(HTTPStatus.OK, headers, _git(repo, "cat-file", "blob", str(entry["oid"])))


def _commit(repo: Path, revision: str) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise _HubError(HTTPStatus.NOT_FOUND, "RevisionNotFound", f"Invalid rev id: {revision}")
    return done.stdout.decode().strip()


def _ls_tree(repo: Path, commit: str, inside: str, *, recursive: bool) -> list[dict[str, object]]:
    """Entries as the hub's tree API lists them: files with ``oid`` and ``size``, directories."""
    options = ["-r", "-t"] if recursive else []
    # `inside/` lists a folder's entries; a file path lists just that file.
    spec = [] if not inside else [inside.rstrip("/") + "/" if recursive else inside]
    entries = []
    for record in _git(repo, "ls-tree", "-l", "-z", *options, commit, "--", *spec).split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        _, kind, oid, size = meta.decode().split()
        if kind == "blob":
            entries.append({"type": "file", "oid": oid, "size": int(size), "path": path.decode()})
        elif kind == "tree":
            entries.append({"type": "directory", "oid": oid, "size": 0, "path": path.decode()})
    return entries


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True).stdout


def _json(value: object) -> _Response:
    return _Response(HTTPStatus.OK, {"Content-Type": "application/json"}, json.dumps(value).encode())
