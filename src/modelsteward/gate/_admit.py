"""``admit``: source -> snapshot -> checks -> assessment -> decision -> registry version + documents."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from modelsteward.checks import CheckContext, dependencies, documentation, integrity, license, security
from modelsteward.core import (
    Admission,
    Assessment,
    CheckResult,
    CheckStatus,
    Component,
    Snapshot,
    Verdict,
    Vulnerability,
)
from modelsteward.core.progress import Progress
from modelsteward.core.rules import load_catalogue
from modelsteward.evaluation import Dataset, DatasetError
from modelsteward.gate._evaluate import EvaluationRequest, evaluation_results
from modelsteward.policy import Policy, evaluate
from modelsteward.registry import (
    Description,
    Registration,
    Registry,
    RegistryError,
    VersionInfo,
    valid_model_name,
)
from modelsteward.reports import cyclonedx, html, model_card, sarif
from modelsteward.reports.admission_json import admission_to_json
from modelsteward.runtime.sandbox import SandboxUnavailable
from modelsteward.settings import Settings
from modelsteward.sources import Fetched, SourceError, open_source
from modelsteward.store import ArtifactStore, StoreError

# The checks of the gate, in the order they run and are reported.
_CHECKS: tuple[tuple[str, Callable[[Snapshot, CheckContext], CheckResult]], ...] = (
    ("security", security.run),
    ("integrity", integrity.run),
    ("license", license.run),
    ("documentation", documentation.run),
    ("dependencies", dependencies.run),
)

# Document kind -> the file name it is written under for people to open.
_DOCUMENT_FILES = {
    "report": "report.html",
    "model-card": "README.md",
    "ml-bom": "ml-bom.cdx.json",
    "sarif": "security.sarif",
    "manifest": "manifest.json",
    "signature": "model.sig",
}


class AdmitError(Exception):
    """The gate could not reach a decision (bad source, unreadable files); nothing was registered."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one admission produced."""

    admission: Admission
    """The assessment and decision, with the registry version number set."""
    new: bool
    """False when the same content was already registered under the name: the version is reused."""
    registered: VersionInfo
    """The version as the registry holds it; for a reused one, its verdict and lineage are those of its
    first admission, which may differ from this admission's (another policy, another parent)."""
    documents: Mapping[str, Path]
    """Document kind (``report``, ``model-card``, ``ml-bom``, ``sarif``, ``manifest``, ``signature``)
    -> the file it was written to."""


def admit(
    source: str,
    *,
    name: str,
    policy: Policy,
    settings: Settings,
    actor: str,
    derived_from: str | None = None,
    evaluation: EvaluationRequest | None = None,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Fetch ``source`` at a pinned revision, check it, decide by ``policy`` and register it as ``name``.

    With ``evaluation``, the model is also evaluated on the enterprise's data (in the sandbox) and
    the performance and fairness results join the assessment. ``env`` carries the variables a remote
    source honours (``HF_ENDPOINT``, ``HF_TOKEN``); default the process environment. Raises
    :class:`AdmitError` when no decision can be reached.
    """
    say = progress or (lambda _message: None)
    try:
        valid_model_name(name)
        # Read before any fetching: data that does not fit the task stops the admission at once.
        dataset = None if evaluation is None else evaluation.dataset()
    except (RegistryError, DatasetError) as error:
        raise AdmitError(str(error)) from None
    with Registry.open(settings.database_url) as registry:
        if derived_from is not None:
            try:
                registry.get(derived_from)  # before any work: a parent the registry would refuse
            except RegistryError as error:
                raise AdmitError(str(error)) from None
        return _admit(
            source,
            name=name,
            policy=policy,
            settings=settings,
            registry=registry,
            actor=actor,
            derived_from=derived_from,
            evaluation=None if evaluation is None or dataset is None else (evaluation, dataset),
            env=os.environ if env is None else env,
            say=say,
        )


def _admit(
    source: str,
    *,
    name: str,
    policy: Policy,
    settings: Settings,
    registry: Registry,
    actor: str,
    derived_from: str | None,
    evaluation: tuple[EvaluationRequest, Dataset] | None,
    env: Mapping[str, str],
    say: Progress,
) -> Outcome:
    store = ArtifactStore(settings.store)
    snapshot, upstream = _snapshot(source, store, settings, env=env, say=say)
    context = CheckContext(
        allowed_globals=frozenset(policy.security.allowed_globals),
        jobs=settings.jobs,
        trusted_keys=settings.trusted_keys,
        environment=dependencies.environment_components(),
        advisories=_advisories(registry),
    )
    results = []
    for check, run in _CHECKS:
        say(f"checking {check}")
        results.append(run(snapshot, context))
    if evaluation is not None and evaluate(Assessment(tuple(results)), policy).verdict is Verdict.REJECT:
        # Rejected on its files already: nothing the data could show would change that, so it never runs.
        results.append(
            CheckResult(
                check="performance",
                status=CheckStatus.SKIPPED,
                summary="not evaluated: the model is rejected on its files",
            )
        )
    elif evaluation is not None:
        say("evaluating on the enterprise's data")
        try:
            results += evaluation_results(snapshot, *evaluation, say)
        except (DatasetError, SandboxUnavailable) as error:
            raise AdmitError(str(error)) from None
    assessment = Assessment(tuple(results))
    admission = Admission(
        name=name,
        snapshot=snapshot,
        assessment=assessment,
        decision=evaluate(assessment, policy),
        policy=f"{policy.name} {policy.digest}",
        created=datetime.now(UTC),
        derived_from=derived_from,
    )

    def describe(number: int) -> Description:
        # Called once the version's number is known, so that every document names it.
        say("writing documents")
        numbered = replace(admission, version=number)
        return Description(
            record=admission_to_json(numbered), documents=_documents(numbered, store, settings)
        )

    say("registering")
    found = assessment.get("dependencies")
    registration = registry.register(
        name=name,
        manifest=snapshot.manifest,
        source=snapshot.source,
        revision=snapshot.revision,
        verdict=admission.decision.verdict,
        describe=describe,
        derived_from=derived_from,
        upstream=upstream,
        components=() if found is None else [Component.from_json(c) for c in found.data["components"]],
        vulnerabilities=()
        if found is None
        else [Vulnerability.from_json(v) for v in found.data["vulnerabilities"]],
        actor=actor,
    )
    return _outcome(admission, registration, store, settings)


def _advisories(registry: Registry) -> dependencies.AdvisoryIndex | None:
    """The advisory database as an index, or None when none has been synced."""
    records = registry.advisory_records()
    return dependencies.AdvisoryIndex(records) if records else None


def _snapshot(
    source: str, store: ArtifactStore, settings: Settings, *, env: Mapping[str, str], say: Progress
) -> tuple[Snapshot, str | None]:
    """The pinned, stored snapshot, and the source the watch follows (None when it has no upstream)."""
    try:
        origin = open_source(source, env=env)
        settings.home.mkdir(parents=True, exist_ok=True)
        # Fetched files land beside the store so that copying them in stays on one file system.
        with tempfile.TemporaryDirectory(prefix="fetch-", dir=settings.home) as tmp:
            say(f"fetching {source}")
            fetched = origin.fetch(Path(tmp))
            if not fetched.files:
                raise AdmitError(f"{source}: no files to admit")
            say(f"copying and hashing {len(fetched.files)} files")
            manifest = store.ingest(fetched.root, fetched.files, jobs=settings.jobs)
    except (SourceError, StoreError) as error:
        raise AdmitError(str(error)) from None
    except OSError as error:
        raise AdmitError(f"cannot read {source}: {error}") from None
    snapshot = Snapshot(
        root=store.materialize(manifest), manifest=manifest, source=fetched.source, revision=fetched.revision
    )
    return snapshot, _tracked(origin.uri, fetched) if origin.watchable else None


def _tracked(uri: str, fetched: Fetched) -> str:
    """The source the watch follows: as given (a local repository by its absolute path), or pinned in
    full when it names a commit by a prefix.

    A commit never moves; followed by its short id, the watch could not tell it from a branch gone.
    """
    base, at, revision = uri.rpartition("@")
    names_commit = at and len(revision) >= 7 and (fetched.revision or "").startswith(revision.lower())
    if names_commit:
        return fetched.source
    # A repository given by a relative path is followed from wherever the watch runs.
    path = Path(base if at else uri)
    return f"{path.resolve()}{at}{revision}" if path.exists() else uri


def _documents(admission: Admission, store: ArtifactStore, settings: Settings) -> dict[str, str]:
    """Render every document, keep each in the artifact store, and return kind -> digest."""
    snapshot = admission.snapshot
    integrity.ensure_key_pair(settings.signing_key)
    security_result = admission.assessment.get("security")
    upstream = _upstream_card(snapshot)
    rendered = {
        "manifest": json.dumps(snapshot.manifest.to_json(), indent=1).encode(),
        "signature": integrity.sign(
            snapshot.manifest, model_name=admission.name, private_key=settings.signing_key
        ),
        "report": html.render_html(admission).encode(),
        "model-card": model_card.render_model_card(admission, upstream).encode(),
        "ml-bom": cyclonedx.render_mlbom(admission, upstream).encode(),
    }
    if security_result is not None:
        rendered["sarif"] = sarif.render_check(security_result, snapshot.manifest, load_catalogue()).encode()
    return {kind: store.put_bytes(data) for kind, data in rendered.items()}


def _upstream_card(snapshot: Snapshot) -> str | None:
    entry = next((f for f in snapshot.manifest.files if f.path.lower() == "readme.md"), None)
    if entry is None:
        return None
    return (snapshot.root / entry.path).read_text(encoding="utf-8", errors="replace")


def _outcome(
    admission: Admission, registration: Registration, store: ArtifactStore, settings: Settings
) -> Outcome:
    """Copy the registered version's documents where people can open them."""
    version = registration.version
    # ``@`` is in no model name: ``org/bert@1`` never collides with another model's folder.
    folder = settings.reports / f"{admission.name}@{version.number}"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for kind, digest in version.documents.items():
        target = folder / _DOCUMENT_FILES.get(kind, kind)
        shutil.copyfile(store.path(digest), target)
        files[kind] = target
    return Outcome(
        admission=replace(admission, version=version.number),
        new=registration.new,
        registered=version,
        documents=files,
    )
