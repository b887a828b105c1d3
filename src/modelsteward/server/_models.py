"""Models and versions: the read path the benchmark measures, plus tags and archiving."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from modelsteward.server._auth import Archiver, Reader, Tagger
from modelsteward.server._schemas import (
    DiffOut,
    ErrorOut,
    EvaluationOut,
    Limit,
    ModelDetailOut,
    ModelPageOut,
    Offset,
    TagIn,
    VersionDetailOut,
    VersionNumber,
    VersionOut,
    VersionPageOut,
    diff_json,
    model_json,
    page_json,
    version_detail_json,
    version_json,
)
from modelsteward.server._state import state

router = APIRouter(tags=["models"], responses={404: {"model": ErrorOut}})


@router.get("/models", response_model=ModelPageOut)
async def list_models(
    request: Request,
    _user: Reader,
    q: Annotated[str, Query(max_length=200, description="Part of the name, any case.")] = "",
    verdict: Literal["approve", "review", "reject"] | None = None,
    tag: Annotated[str | None, Query(max_length=100, description="A tag some version has.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    """Models by name, filtered, one page at a time, with the total."""
    page = state(request).registry.models_page(q=q, verdict=verdict, tag=tag, limit=limit, offset=offset)
    return JSONResponse(page_json(page, model_json))


@router.get("/compare", response_model=DiffOut)
def compare(
    request: Request,
    _user: Reader,
    a: Annotated[str, Query(min_length=1, max_length=300, description="NAME, NAME@N or NAME@ALIAS.")],
    b: Annotated[str, Query(min_length=1, max_length=300, description="NAME, NAME@N or NAME@ALIAS.")],
) -> Response:
    """How version B differs from version A: files, verdicts and licences."""
    return JSONResponse(diff_json(state(request).registry.diff(a, b)))


@router.get("/refs/{ref:path}", response_model=VersionDetailOut)
def resolve_ref(request: Request, _user: Reader, ref: str) -> Response:
    """The version a reference names (``NAME``: its latest version not archived, ``NAME@N``,
    ``NAME@ALIAS``) in full: besides what ``GET /models/{name}/versions/{number}`` gives, its manifest
    (every file's size and SHA-256) and its admission record (decision, checks, findings)."""
    return JSONResponse(version_detail_json(state(request).registry.get(ref)))


@router.get("/models/{name:path}/versions/{number}/evaluations", response_model=list[EvaluationOut])
def list_evaluations(
    request: Request, _user: Reader, name: str, number: VersionNumber
) -> list[dict[str, Any]]:
    """The evaluations recorded for a version since its admission, oldest first."""
    return [
        {
            "ref": e.ref,
            "task": e.task,
            "dataset_digest": e.dataset_digest,
            "actor": e.actor,
            "at": e.at,
            "record": dict(e.record),
        }
        for e in state(request).registry.evaluations(f"{name}@{number}")
    ]


@router.post("/models/{name:path}/versions/{number}/tags", response_model=VersionOut)
def add_tag(request: Request, user: Tagger, name: str, number: VersionNumber, body: TagIn) -> Response:
    """Label a version (nothing changes if it has the tag)."""
    registry = state(request).registry
    registry.tag(f"{name}@{number}", body.tag, actor=user.name)
    return JSONResponse(version_json(registry.version_summary(name, number=number)))


@router.delete("/models/{name:path}/versions/{number}/tags/{tag:path}", status_code=204)
def remove_tag(request: Request, user: Tagger, name: str, number: VersionNumber, tag: str) -> Response:
    """Take a tag off a version."""
    state(request).registry.untag(f"{name}@{number}", tag, actor=user.name)
    return Response(status_code=204)


@router.post("/models/{name:path}/versions/{number}/archive", response_model=VersionOut)
def archive_version(request: Request, user: Archiver, name: str, number: VersionNumber) -> Response:
    """Archive one version: readable by number, never aliased or approved again."""
    registry = state(request).registry
    registry.archive(f"{name}@{number}", actor=user.name)
    return JSONResponse(version_json(registry.version_summary(name, number=number)))


@router.get("/models/{name:path}/versions/{number}", response_model=VersionOut)
async def get_version(request: Request, _user: Reader, name: str, number: VersionNumber) -> Response:
    """One version, with its tags, aliases and approvals (not its manifest or admission record)."""
    return JSONResponse(version_json(state(request).registry.version_summary(name, number=number)))


@router.get("/models/{name:path}/versions", response_model=VersionPageOut)
async def list_versions(
    request: Request, _user: Reader, name: str, limit: Limit = 50, offset: Offset = 0
) -> Response:
    """A model's versions, newest first, one page at a time."""
    page = state(request).registry.versions_page(name, limit=limit, offset=offset)
    return JSONResponse(page_json(page, version_json))


@router.post("/models/{name:path}/archive", response_model=ModelDetailOut)
def archive_model(request: Request, user: Archiver, name: str) -> Response:
    """Archive a model and all its versions: it takes no new version."""
    registry = state(request).registry
    registry.archive(name, actor=user.name)
    return JSONResponse(_model_detail(request, name))


def _model_detail(request: Request, name: str) -> dict[str, Any]:
    model, recent = state(request).registry.model_detail(name, recent=10)
    document = model_json(model)
    document["recent_versions"] = [version_json(v) for v in recent.items]
    return document


# Registered last: {name:path} would otherwise swallow every more specific path above.
def add_model_route(parent: APIRouter) -> None:
    """Add ``GET /models/{name}`` to ``parent`` (after every other model route)."""

    @parent.get(
        "/models/{name:path}",
        response_model=ModelDetailOut,
        tags=["models"],
        responses={404: {"model": ErrorOut}},
    )
    async def get_model(request: Request, _user: Reader, name: str) -> Response:
        """A model at a glance: versions, latest verdict, aliases, and its newest versions."""
        return JSONResponse(_model_detail(request, name))
