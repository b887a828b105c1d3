"""Hugging Face Hub repositories (``hf://org/name[@revision]``), downloaded at the resolved commit."""

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

from modelsteward.sources._listing import list_files
from modelsteward.sources._source import Fetched, SourceError

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

    def fetch(self, into: Path) -> Fetched:
        """Resolve the revision to a commit, then download exactly that commit into ``into``."""
        # False, not None: never fall back to a token stored in the user's home.
        token: str | bool = self.token or False
        with self._errors():
            info = HfApi(endpoint=self.endpoint, token=token).model_info(self.repo_id, revision=self.revision)
            if not info.sha:
                raise SourceError(
                    f"{self.uri}: the hub at {self.endpoint} did not say which commit it serves"
                )
            snapshot_download(
                self.repo_id,
                revision=info.sha,
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
                f"{self.uri}: the download of {info.sha} does not match the hub's file list "
                f"({', '.join(differences)}); fetch again"
            )
        return Fetched(root=into, files=files, revision=info.sha, source=f"{PREFIX}{self.repo_id}@{info.sha}")

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
