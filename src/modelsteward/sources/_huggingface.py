"""Hugging Face Hub repositories (``hf://org/name[@revision]``): downloaded at the resolved commit, or
watched through the Hub's metadata (model info, refs, commits) without downloading a file."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import GitCommitInfo, ModelInfo

from modelsteward.sources._listing import list_files
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

PREFIX = "hf://"
_REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
_CLIENT_FOLDER = ".cache/huggingface"
"""Where the client keeps its download metadata inside ``local_dir``; the cache goes there too."""


@dataclass(frozen=True, slots=True)
class HuggingFaceSource:
    """A model repository on a Hugging Face Hub endpoint."""

    uri: str
    repo_id: str
    revision: str | None
    """Branch, tag or commit as given; None for the default branch."""
    endpoint: str
    token: str | None = field(repr=False)

    @property
    def watchable(self) -> bool:
        """Always: the repository on the hub is the upstream."""
        return True

    def fetch(self, into: Path) -> Fetched:
        """Resolve the revision to a commit, then download exactly that commit into ``into``."""
        # False, not None: never fall back to a token stored in the user's home.
        token: str | bool = self.token or False
        with self._errors():
            info, revision = self._model_info(HfApi(endpoint=self.endpoint, token=token), self.revision)
            snapshot_download(
                self.repo_id,
                revision=revision,
                local_dir=into,
                cache_dir=into / _CLIENT_FOLDER / "hub",
                endpoint=self.endpoint,
                token=token,
            )
        files = list_files(into, skip=frozenset({_CLIENT_FOLDER}))
        listed = {s.rfilename for s in info.siblings or ()}
        if info.siblings is not None and listed != set(files):
            differences = [f"missing {p}" for p in sorted(listed - set(files))]
            differences += [f"unexpected {p}" for p in sorted(set(files) - listed)]
            raise SourceError(
                f"{self.uri}: the download of {revision} does not match the hub's file list "
                f"({', '.join(differences)}); fetch again"
            )
        return Fetched(root=into, files=files, revision=revision, source=f"{PREFIX}{self.repo_id}@{revision}")

    def upstream(self, *, since: str | None = None) -> Upstream:
        """The tracked ref's commit, card metadata, gating and file ids from the Hub's API; no file is read.

        ``pinned`` holds for a full commit id that is not also the name of a branch or tag.
        """
        since = since_commit(self.uri, since)
        api = HfApi(endpoint=self.endpoint, token=self.token or False)
        with self._errors():
            tracked, pinned = self._tracked(api)
            info, revision = self._model_info(api, tracked, files_metadata=True)
            # Newest first, back to the first commit: the Hub has no "since".
            listed = since is not None and since != revision
            history = api.list_repo_commits(self.repo_id, revision=revision) if listed else []
        where = f"{self.uri}: the card metadata at {revision}"
        licenses, license_link, new_version = card_declarations(info.card_data or {}, where)
        ids = [c.commit_id for c in history]
        return Upstream(
            source=self.uri,
            revision=revision,
            pinned=pinned,
            licenses=licenses,
            license_link=license_link,
            gated=info.gated or None,
            new_version=new_version,
            files=self._file_ids(info, revision),
            commits=tuple(_commit(c) for c in history[: ids.index(since)]) if since in ids else (),
            diverged=bool(history) and since not in ids,
        )

    def _model_info(
        self, api: HfApi, revision: str | None, *, files_metadata: bool = False
    ) -> tuple[ModelInfo, str]:
        """Model info at ``revision`` and the commit the hub says it serves."""
        info = api.model_info(self.repo_id, revision=revision, files_metadata=files_metadata)
        if not info.sha:
            raise SourceError(f"{self.uri}: the hub at {self.endpoint} did not say which commit it serves")
        return info, info.sha

    def _tracked(self, api: HfApi) -> tuple[str | None, bool]:
        """The commit the tracked branch or tag points to (None: the default branch's), and whether the
        source names a commit itself."""
        if self.revision is None:
            return None, False
        refs = api.list_repo_refs(self.repo_id, include_pull_requests=self.revision.startswith("refs/pr/"))
        for ref in (*refs.branches, *refs.tags, *(refs.pull_requests or ())):
            if self.revision in (ref.name, ref.ref):
                return ref.target_commit, False
        if FULL_COMMIT.fullmatch(self.revision):
            return self.revision.lower(), True
        raise vanished(self.uri, self.revision, [b.name for b in refs.branches], [t.name for t in refs.tags])

    def _file_ids(self, info: ModelInfo, revision: str) -> dict[str, str]:
        files = {}
        for sibling in info.siblings or ():
            content = sibling.lfs.sha256 if sibling.lfs is not None else sibling.blob_id
            if not content:
                raise SourceError(
                    f"{self.uri}: the hub at {self.endpoint} gave no blob id for {sibling.rfilename} at "
                    f"{revision}; it must answer model info with files metadata (`?blobs=true`)"
                )
            files[sibling.rfilename] = content
        return dict(sorted(files.items()))

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the client's exceptions into messages that say what to do."""
        where = f"the hub at {self.endpoint}"
        try:
            yield
        except GatedRepoError:
            raise SourceError(
                f"{self.uri}: {self.repo_id} is gated; set HF_TOKEN to a token of an account granted access"
            ) from None
        except RepositoryNotFoundError:
            raise SourceError(
                f"{self.uri}: {where} has no repository {self.repo_id}, or it is private "
                "(then set HF_TOKEN to a token with access)"
            ) from None
        except RevisionNotFoundError:
            raise SourceError(
                f"{self.uri}: {self.repo_id} has no branch, tag or commit {self.revision!r}; "
                "give one that exists after '@', or none for the default branch"
            ) from None
        except OfflineModeIsEnabled:
            raise SourceError(f"{self.uri}: HF_HUB_OFFLINE is set; unset it to download") from None
        except HfHubHTTPError as error:
            status = error.response.status_code
            if status == 401:
                raise SourceError(f"{self.uri}: {where} refused the token in HF_TOKEN") from None
            raise SourceError(
                f"{self.uri}: {where} answered HTTP {status}: {error.server_message or 'no reason given'}"
            ) from None
        except (httpx2.HTTPError, LocalEntryNotFoundError) as error:
            raise SourceError(
                f"{self.uri}: cannot reach {where} ({error}); check HF_ENDPOINT and the network"
            ) from None
        except HFValidationError as error:
            raise SourceError(f"{self.uri}: {error}") from None


def _commit(info: GitCommitInfo) -> Commit:
    return upstream_commit(info.commit_id, info.title, info.message, info.authors, info.created_at)


def parse(uri: str, env: Mapping[str, str]) -> HuggingFaceSource | None:
    """A :class:`HuggingFaceSource` for ``hf://org/name[@revision]``, else None.

    The endpoint is ``HF_ENDPOINT`` (or the client's default) and the token ``HF_TOKEN``, both read
    from ``env`` here rather than from the process environment when the client was imported.
    """
    if not uri.startswith(PREFIX):
        return None
    repo_id, at, revision = uri[len(PREFIX) :].rpartition("@")
    if not at:
        repo_id, revision = revision, ""
    if not _REPO_ID.fullmatch(repo_id):
        raise SourceError(f"{uri}: expected hf://org/name or hf://org/name@revision (got {repo_id!r})")
    if at and not revision:
        raise SourceError(f"{uri}: nothing after '@'; give a branch, tag or commit, or drop the '@'")
    endpoint = (env.get("HF_ENDPOINT") or constants._HF_DEFAULT_ENDPOINT).rstrip("/")
    if urlsplit(endpoint).scheme not in {"http", "https"} or not urlsplit(endpoint).netloc:
        raise SourceError(
            f"{uri}: HF_ENDPOINT must be an http(s) URL such as http://127.0.0.1:8080 (got {endpoint!r})"
        )
    return HuggingFaceSource(
        uri=uri,
        repo_id=repo_id,
        revision=revision or None,
        endpoint=endpoint,
        token=env.get("HF_TOKEN") or None,
    )
