"""Git repositories: cloned, checked out at the resolved commit, listed from the commit itself."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from modelsteward.sources._source import Fetched, SourceError

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
    folder: Path, commit: str, *, env: Mapping[str, str], paths: Sequence[str] = ()
) -> tuple[TreeEntry, ...]:
    """Every entry of ``commit`` under ``folder`` (or only ``paths``), recursively, relative to ``folder``."""
    done = run_git(["ls-tree", "-r", "-l", "-z", commit, "--", *paths], cwd=folder, env=env)
    if done.returncode != 0:
        raise SourceError(f"{folder}: cannot list commit {commit}: {said(done.stderr)}")
    entries = []
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, size = meta.decode().split()
        try:
            path = raw_path.decode()
        except UnicodeDecodeError:
            raise SourceError(
                f"{folder}: commit {commit} holds {raw_path!r}, which is not a valid UTF-8 name"
            ) from None
        entries.append(TreeEntry(mode, kind, oid, int(size) if size.isdigit() else None, path))
    return tuple(entries)
