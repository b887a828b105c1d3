"""Git repositories: cloned, checked out at the resolved commit, listed from the commit itself; or
watched with ``git ls-remote`` and a fetch of one commit's tree without its file contents."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from modelsteward.formats.model_card import CardError, parse_card
from modelsteward.sources._source import (
    FULL_COMMIT,
    Commit,
    Fetched,
    SourceError,
    Upstream,
    card_declarations,
    since_commit,
    upstream_commit,
    vanished,
)

_REMOTE_SCHEMES = frozenset({"http", "https", "ssh", "git"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# git's own rule for `[user@]host:path`: a colon with no slash before it.
_SCP_LIKE = re.compile(r"[^/:]+:(?!//)")
# Variables a caller's environment (a git hook, say) may set that would point git at another repository.
_REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)
_CARD = "README.md"
_PEELED = "^{}"
# Commits as `git log -z` prints them: id, author, date and subject on a line each, then the body.
_LOG_FORMAT = "--format=%H%n%an%n%cI%n%s%n%b"
_WHOLE_HISTORY = 0x7FFFFFFF
"""The depth git itself asks for to unshallow: every commit, and the repository is not shallow."""


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One line of ``git ls-tree``."""

    mode: str
    kind: str
    """``blob``, ``tree`` or ``commit`` (a submodule)."""
    oid: str
    size: int | None
    """Bytes of a blob; None for anything else."""
    path: str


@dataclass(frozen=True, slots=True)
class GitSource:
    """A git repository, local or remote, at a branch, tag or commit (default: its HEAD)."""

    uri: str
    """The source as given, less any password in the URL."""
    url: str = field(repr=False)
    """What ``git clone`` is given."""
    shown: str
    """The repository as the pinned source names it: any password in the URL dropped."""
    revision: str | None
    env: Mapping[str, str] = field(repr=False)

    @property
    def watchable(self) -> bool:
        """Always: its remote is the upstream."""
        return True

    def fetch(self, into: Path) -> Fetched:
        """Clone into ``into``, check out the resolved commit and list the files that commit holds."""
        cloned = run_git(["clone", "--quiet", "--no-checkout", "--", self.url, str(into)], env=self.env)
        if cloned.returncode != 0:
            raise SourceError(f"{self.uri}: cannot clone: {self._summary(cloned.stderr)}")
        commit = self._resolve(into)
        # Symbolic links are checked out as files holding the link text, so none can point out of the copy.
        checkout = ["-c", "core.symlinks=false", "-c", "advice.detachedHead=false"]
        checked = run_git([*checkout, "checkout", "--quiet", "--detach", commit], cwd=into, env=self.env)
        if checked.returncode != 0:
            raise SourceError(f"{self.uri}: cannot check out {commit}: {self._summary(checked.stderr)}")
        # Files of the commit, not of the folder: nothing untracked or ignored, no submodules.
        files = tuple(sorted(e.path for e in ls_tree(into, commit, env=self.env) if e.kind == "blob"))
        return Fetched(root=into, files=files, revision=commit, source=f"{self.shown}@{commit}")

    def upstream(self, *, since: str | None = None) -> Upstream:
        """The tracked ref's commit (``git ls-remote``), then that commit's tree and card, fetched into a
        temporary repository without the contents of any other file.

        ``pinned`` holds for a full commit id that is not also the name of a branch or tag.
        """
        since = since_commit(self.uri, since)
        revision, pinned = self._tracked(self._remote_refs())
        after = since if since != revision else None
        with tempfile.TemporaryDirectory(prefix="steward-upstream-") as scratch:
            repository = self._fetch_commit(Path(scratch), revision, history=after is not None)
            entries = ls_tree(repository, revision, env=self.env, sizes=False)
            files = {e.path: e.oid for e in entries if e.kind == "blob"}
            metadata = self._card(repository, revision, files.get(_CARD))
            commits, diverged = self._since(repository, revision, after) if after else ((), False)
        where = f"{self.uri}: {_CARD} at {revision}"
        licenses, license_link, new_version = card_declarations(metadata, where)
        return Upstream(
            source=self.uri,
            revision=revision,
            pinned=pinned,
            licenses=licenses,
            license_link=license_link,
            gated=None,
            new_version=new_version,
            files=files,
            commits=commits,
            diverged=diverged,
        )

    def _remote_refs(self) -> dict[str, str]:
        """Every ref the repository advertises -> its commit (a tag's, peeled), and ``HEAD``."""
        listed = run_git(["ls-remote", "--", self.url], env=self.env)
        if listed.returncode != 0:
            raise SourceError(f"{self.uri}: cannot list the refs: {self._summary(listed.stderr)}")
        refs: dict[str, str] = {}
        # An annotated tag's `^{}` line, which names its commit, follows the tag's own line.
        for line in listed.stdout.decode(errors="replace").splitlines():
            oid, _, name = line.partition("\t")
            refs[name.removesuffix(_PEELED)] = oid
        return refs

    def _tracked(self, refs: Mapping[str, str]) -> tuple[str, bool]:
        """The commit the tracked ref points to, found as git finds a name (a tag before a branch), and
        whether the source names a commit itself."""
        if self.revision is None:
            if "HEAD" not in refs:
                raise SourceError(f"{self.uri}: the repository has no commits, so nothing to watch")
            return refs["HEAD"], False
        for name in (self.revision, f"refs/tags/{self.revision}", f"refs/heads/{self.revision}"):
            if name.startswith("refs/") and name in refs:
                return refs[name], False
        if FULL_COMMIT.fullmatch(self.revision):
            return self.revision.lower(), True
        branches = [n.removeprefix("refs/heads/") for n in refs if n.startswith("refs/heads/")]
        tags = [n.removeprefix("refs/tags/") for n in refs if n.startswith("refs/tags/")]
        raise vanished(self.uri, self.revision, branches, tags)

    def _fetch_commit(self, scratch: Path, revision: str, *, history: bool) -> Path:
        """A bare repository holding ``revision``'s commit and tree (and its history, for ``history``).

        File contents are left out (``--filter=blob:none``) where the server allows it and read one by
        one later, only when asked for; a server that ignores the filter sends that commit's files. A
        server that cannot fetch shallow (dumb HTTP) gets a plain fetch into a fresh repository.
        """
        # Always a depth, the whole history's for `history`: over dumb HTTP a depth fails at once, while a
        # filter alone makes git fetch missing objects from that server lazily, over and over, forever.
        depth = str(_WHOLE_HISTORY if history else 1)
        attempts = (("--depth", depth, "--filter=blob:none"), ())
        for number, options in enumerate(attempts):
            repository = scratch / str(number)
            for step in (
                ["init", "--quiet", "--bare", "--template=", "--", str(repository)],
                ["-C", str(repository), "remote", "add", "origin", "--", self.url],
                ["-C", str(repository), "fetch", "--quiet", "--no-tags", *options, "origin", revision],
            ):
                done = run_git(step, env=self.env)
                if done.returncode != 0:
                    break
            else:
                return repository
        raise SourceError(f"{self.uri}: cannot fetch commit {revision}: {self._summary(done.stderr)}")

    def _card(self, repository: Path, revision: str, oid: str | None) -> Mapping[str, Any]:
        """The metadata of the card at the top of ``revision``: empty without a card."""
        if oid is None:
            return {}
        read = run_git(["cat-file", "blob", oid], cwd=repository, env=self.env)
        if read.returncode != 0:
            raise SourceError(f"{self.uri}: cannot read {_CARD} at {revision}: {self._summary(read.stderr)}")
        try:
            return parse_card(read.stdout.decode(errors="replace")).metadata
        except CardError as error:
            raise SourceError(f"{self.uri}: the card at {revision} cannot be read: {error}") from None

    def _since(self, repository: Path, revision: str, since: str) -> tuple[tuple[Commit, ...], bool]:
        """The commits of ``revision`` that ``since`` lacks, newest first; or none and True when ``since``
        is not in the history of ``revision``."""
        # Listing the history first: naming an unknown commit would fetch it lazily from the server.
        ancestry = self._git_out(repository, ["rev-list", revision])
        if since not in ancestry.split():
            return (), True
        log = self._git_out(repository, ["log", "-z", _LOG_FORMAT, revision, "--not", since])
        return tuple(_commit(record) for record in log.split("\0") if record), False

    def _git_out(self, repository: Path, args: Sequence[str]) -> str:
        done = run_git(args, cwd=repository, env=self.env)
        if done.returncode != 0:
            raise SourceError(f"{self.uri}: cannot read the history: {self._summary(done.stderr)}")
        return done.stdout.decode(errors="replace")

    def _resolve(self, repository: Path) -> str:
        # A tag, the default branch or a commit resolves as given; after a clone, other branches
        # exist only as remote-tracking branches.
        names = ["HEAD"] if self.revision is None else [self.revision, f"refs/remotes/origin/{self.revision}"]
        for name in names:
            commit = rev_parse(repository, f"{name}^{{commit}}", env=self.env)
            if commit is not None:
                return commit
        if self.revision is None:
            raise SourceError(f"{self.uri}: the repository has no commits to fetch")
        raise SourceError(
            f"{self.uri}: the repository has no branch, tag or commit {self.revision!r}; "
            "give one that exists after '@', or none for the default branch"
        )

    def _summary(self, stderr: bytes) -> str:
        return said(stderr).replace(self.url, self.shown)


def _commit(record: str) -> Commit:
    oid, author, date, title, message = record.split("\n", 4)
    return upstream_commit(oid, title, message.strip(), (author,), datetime.fromisoformat(date))


def parse(uri: str, env: Mapping[str, str]) -> GitSource | None:
    """A :class:`GitSource` when ``uri`` names a git repository, else None.

    Git repositories are URLs (``file``, ``http``, ``https``, ``ssh``, ``git``), ``[user@]host:path``,
    bare repositories, and paths to repositories followed by ``@revision``; a path to a work tree with
    no revision is a local folder, not a git source. A revision follows the last ``@`` of the path.
    """
    scheme = _SCHEME.match(uri)
    if scheme is not None:
        name = scheme.group(1).lower()
        if name == "file":
            return _file_url(uri, env)
        if name in _REMOTE_SCHEMES:
            return _remote(uri, uri.find("/", scheme.end()), env)
        return None
    if _SCP_LIKE.match(uri) and not Path(uri).exists():
        return _remote(uri, uri.index(":"), env)
    return _local_path(uri, env)


def _remote(uri: str, path_start: int, env: Mapping[str, str]) -> GitSource:
    at = uri.rfind("@")
    url, revision = (uri[:at], uri[at + 1 :]) if 0 <= path_start < at else (uri, None)
    shown = _without_password(url)
    if revision == "":
        raise SourceError(f"{shown}@: nothing after '@'; give a branch, tag or commit, or drop the '@'")
    uri = shown if revision is None else f"{shown}@{revision}"
    return GitSource(uri=uri, url=url, shown=shown, revision=revision, env=env)


def _file_url(uri: str, env: Mapping[str, str]) -> GitSource:
    if Path(unquote(urlsplit(uri).path)).exists():
        return GitSource(uri=uri, url=uri, shown=uri, revision=None, env=env)
    return _remote(uri, len("file://"), env)


def _local_path(uri: str, env: Mapping[str, str]) -> GitSource | None:
    path = Path(uri)
    if path.exists():
        # A work tree is a local folder (pinned to HEAD when clean); only a bare repository is cloned.
        return _from_path(uri, path, None, env) if _is_bare(path) else None
    base, at, revision = uri.rpartition("@")
    if not at or not base or not Path(base).exists():
        return None
    if not revision:
        raise SourceError(f"{uri}: nothing after '@'; give a branch, tag or commit, or drop the '@'")
    if not (_is_bare(Path(base)) or (Path(base) / ".git").exists()):
        raise SourceError(
            f"{uri}: {base} is not a git repository, so {revision!r} cannot be checked out; "
            f"admit {base} without '@{revision}'"
        )
    return _from_path(uri, Path(base), revision, env)


def _from_path(uri: str, path: Path, revision: str | None, env: Mapping[str, str]) -> GitSource:
    # Cloned through file:// so git copies objects over its transport, not by reading the folder raw.
    real = path.resolve()
    return GitSource(uri=uri, url=real.as_uri(), shown=str(real), revision=revision, env=env)


def _is_bare(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}@{host}").geturl()


def run_git(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run git with no terminal to prompt on and none of the variables that would point it elsewhere."""
    environment = {k: v for k, v in env.items() if k not in _REPOSITORY_VARIABLES}
    # Paths are names, never pathspec magic; LFS objects are not downloaded (a pointer is a file too).
    environment |= {"GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_LITERAL_PATHSPECS": "1"}
    environment.setdefault("GIT_ALLOW_PROTOCOL", "file:git:http:https:ssh")
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise SourceError("git is not installed or not on PATH; install git to read git sources") from None


def said(stderr: bytes) -> str:
    """What git said on stderr, in one line: its first few messages, without hints."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    messages = [
        line.removeprefix("fatal: ").removeprefix("error: ")
        for line in lines
        if line and not line.startswith("hint:")
    ]
    return "; ".join(messages[:5]) or "git gave no reason"


def rev_parse(repository: Path, revision: str, *, env: Mapping[str, str]) -> str | None:
    """The object ``revision`` names in ``repository``, or None when it names nothing."""
    done = run_git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", revision], cwd=repository, env=env
    )
    return done.stdout.decode().strip() if done.returncode == 0 else None


def ls_tree(
    folder: Path, commit: str, *, env: Mapping[str, str], paths: Sequence[str] = (), sizes: bool = True
) -> tuple[TreeEntry, ...]:
    """Every entry of ``commit`` under ``folder`` (or only ``paths``), recursively, relative to ``folder``.

    Without ``sizes`` no blob is read: in a repository fetched without file contents, asking for sizes
    would download every file.
    """
    size_option = ["-l"] if sizes else []
    done = run_git(["ls-tree", "-r", *size_option, "-z", commit, "--", *paths], cwd=folder, env=env)
    if done.returncode != 0:
        raise SourceError(f"{folder}: cannot list commit {commit}: {said(done.stderr)}")
    entries = []
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, *size = meta.decode().split()
        try:
            path = raw_path.decode()
        except UnicodeDecodeError:
            raise SourceError(
                f"{folder}: commit {commit} holds {raw_path!r}, which is not a valid UTF-8 name"
            ) from None
        length = int(size[0]) if size and size[0].isdigit() else None
        entries.append(TreeEntry(mode, kind, oid, length, path))
    return tuple(entries)
