"""The web UI's routes: server-rendered pages over the registry, htmx for the parts that update in place.

Every page works without JavaScript: forms post and redirect, filters are GET forms, and every chart is
drawn from a table that stays on the page. htmx only swaps the result list while typing a search and the
approval cards after a decision.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from modelsteward.monitoring import (
    DriftSettings,
    EventStore,
    MonitorError,
    Reference,
    reference_table,
    timeline,
)
from modelsteward.policy import Policy
from modelsteward.registry import ModelSummary, Registry, RegistryError, Role, User, VersionInfo
from modelsteward.server._auth import PERMISSIONS, Permission
from modelsteward.server._web import _views
from modelsteward.server._web._session import (
    ANONYMOUS_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    CsrfGuard,
    SignInLimiter,
)
from modelsteward.settings import Settings
from modelsteward.store import ArtifactStore

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

AdmitRunner = Callable[[str, str, User], str]
"""Starts an admission of (source, name) for a user and returns where to follow it (a job's page or the
version's): the server's job queue when it has one."""

PAGE_SIZE = 50
"""Models listed on one page."""
_VERDICTS = ("approve", "review", "reject")
# Content-Security-Policy: scripts and styles only from this server, no inline code, no framing.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(slots=True)
class WebContext:
    """What the routes share: the workspace, the registry, the policy and the session guard."""

    settings: Settings
    registry: Registry
    policy: Policy | None
    admit: AdmitRunner | None
    secure_cookies: bool
    guard: CsrfGuard = field(default_factory=CsrfGuard.fresh)
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), auto_reload=False
        )
        self.env.filters["when"] = _when
        self.env.filters["num"] = _number
        self.env.filters["q"] = lambda value: quote(str(value), safe="/@")
        self.env.globals["verdicts"] = _VERDICTS


def web_routes(
    settings: Settings,
    registry: Registry,
    *,
    policy: Policy | None = None,
    admit: AdmitRunner | None = None,
    secure_cookies: bool = False,
) -> APIRouter:
    """The web UI as a router to mount at ``/``: pages, sign-in and out, forms, and ``/static``.

    ``registry`` is the server's open registry; ``policy`` gives the approvals an alias requires
    (``promotion:`` in its file); ``admit`` starts an admission for the admit form (default: run the gate
    in a worker thread and wait for it); ``secure_cookies`` marks the session cookie Secure (set it when
    the server is reached over HTTPS).
    """
    ctx = WebContext(settings, registry, policy, admit, secure_cookies)
    router = APIRouter(include_in_schema=False)

    @router.get("/static/{path:path}")
    def static(path: str) -> Response:
        target = (STATIC / path).resolve()
        if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/")
    def home() -> Response:
        return RedirectResponse("/models", status_code=303)

    @router.get("/signin")
    def signin_form(request: Request, next: str = "/models") -> Response:
        return _page(ctx, request, None, "signin.html.j2", {"next": _local(next), "error": ""})

    @router.post("/signin")
    async def signin(request: Request) -> Response:
        form = await _form(ctx, request)
        if isinstance(form, Response):
            return form
        client = request.client.host if request.client else "?"
        target = _local(form.get("next", "/models"))
        if ctx.limiter.blocked(client):
            context = {"next": target, "error": "Too many failed sign-ins: wait a minute and try again."}
            return _page(ctx, request, None, "signin.html.j2", context, status=429)
        token = form.get("token", "").strip()
        user = ctx.registry.authenticate(token) if token else None
        if user is None:
            ctx.limiter.failed(client)
            context = {
                "next": target,
                "error": "That token is not valid: it may be mistyped, expired or revoked.",
            }
            return _page(ctx, request, None, "signin.html.j2", context, status=401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="strict", secure=ctx.secure_cookies, path="/"
        )
        return response

    @router.post("/signout")
    async def signout(request: Request) -> Response:
        form = await _form(ctx, request)
        if isinstance(form, Response):
            return form
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/models")
    def models(request: Request, q: str = "", verdict: str = "", alias: str = "", page: int = 1) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        summaries = ctx.registry.list_models()
        shown = [
            m
            for m in summaries
            if (not q or q.lower() in m.name.lower())
            and (not verdict or (m.verdict is not None and m.verdict.value == verdict))
            and (not alias or alias in m.aliases)
        ]
        aliases = sorted({a for m in summaries for a in m.aliases})
        pages = max(1, -(-len(shown) // PAGE_SIZE))
        page = min(max(page, 1), pages)
        query = {"q": q, "verdict": verdict, "alias": alias}
        context = {
            "models": shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            "matched": len(shown),
            "page": page,
            "pages": pages,
            "previous": f"/models?{urlencode({**query, 'page': page - 1})}" if page > 1 else "",
            "next": f"/models?{urlencode({**query, 'page': page + 1})}" if page < pages else "",
            "total": len(summaries),
            "q": q,
            "verdict": verdict,
            "alias": alias,
            "aliases": aliases,
        }
        # A search typed into the box swaps only the results (htmx); a plain GET renders the whole page.
        template = (
            "_model_rows.html.j2" if request.headers.get("hx-target") == "results" else "models.html.j2"
        )
        return _page(ctx, request, user, template, context)

    @router.get("/models/{name:path}/versions/{number:int}/documents/{kind}")
    def document(request: Request, name: str, number: int, kind: str) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        info = _version(ctx, name, number)
        if info is None or kind not in info.documents:
            return _not_found(ctx, request, user, f"{name}@{number} has no document {kind!r}")
        store = ArtifactStore(ctx.settings.store)
        filename, media, _ = _views.DOCUMENT_FILES.get(kind, (kind, "application/octet-stream", kind))
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{name}-{number}-{filename}")
        headers = {
            "Content-Disposition": f'attachment; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
            # A report is HTML from a model's files: should a browser open it here, it runs nothing.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        }
        return Response(store.read(info.documents[kind]), media_type=media, headers=headers)

    @router.get("/models/{name:path}/versions/{number:int}")
    def version(request: Request, name: str, number: int, error: str = "", notice: str = "") -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        info = _version(ctx, name, number)
        if info is None:
            return _not_found(ctx, request, user, f"no version {name}@{number}")
        evaluations = ctx.registry.evaluations(info.ref)
        view = _views.version_view(info, evaluations)
        domains = _domains(ctx, user, info)
        context = {
            "v": info,
            "view": view,
            "states": _views.domain_states(info.approvals, domains),
            "audit": _views.audit_of(ctx.registry.audit(), name, number),
            "vulnerabilities": ctx.registry.vulnerabilities(info.ref),
            "siblings": _siblings(ctx, name),
            "error": error,
            "notice": notice,
            "can_promote": _may(user, Permission.PROMOTE),
            "can_review": user.role is Role.REVIEWER,
            "own": info.submitted_by == user.name,
            "required": _required(ctx, "production"),
        }
        return _page(ctx, request, user, "version.html.j2", context)

    @router.post("/models/{name:path}/aliases")
    async def promote(request: Request, name: str) -> Response:
        posted = await _signed_in_form(ctx, request)
        if isinstance(posted, Response):
            return posted
        user, form = posted
        number = int(form.get("version", "0") or 0)
        alias = form.get("alias", "production").strip()
        back = f"/models/{quote(name)}/versions/{number}"
        if not _may(user, Permission.PROMOTE):
            return _forbidden(ctx, request, user, "only an owner or an admin may move an alias")
        try:
            ctx.registry.set_alias(
                name, alias, number, actor=user.name, required_approvals=_required(ctx, alias)
            )
        except RegistryError as err:
            return RedirectResponse(f"{back}?{urlencode({'error': str(err)})}", status_code=303)
        return RedirectResponse(
            f"{back}?{urlencode({'notice': f'{alias} now points at {name}@{number}'})}", status_code=303
        )

    @router.get("/models/{name:path}")
    def model(request: Request, name: str) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        summary = next((m for m in ctx.registry.list_models() if m.name == name), None)
        if summary is None:
            return _not_found(ctx, request, user, f"no model {name}")
        versions = _siblings(ctx, name)
        context = {
            "m": summary,
            "versions": versions,
            "audit": _views.audit_of(ctx.registry.audit(), name)[:30],
        }
        return _page(ctx, request, user, "model.html.j2", context)

    @router.get("/compare")
    def compare(request: Request, a: str = "", b: str = "") -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        context: dict[str, Any] = {"a": a, "b": b, "diff": None, "error": "", "sides": ()}
        if a and b:
            try:
                context["diff"] = ctx.registry.diff(a, b)
                infos = (ctx.registry.get(a), ctx.registry.get(b))
            except RegistryError as err:
                context["error"] = str(err)
            else:
                views = [_views.version_view(i, ctx.registry.evaluations(i.ref)) for i in infos]
                context["sides"] = tuple(zip(infos, views, strict=True))
                context["metric_rows"] = _metric_rows(views[0], views[1])
                context["check_rows"] = _check_rows(views[0], views[1])
        context["refs"] = [
            f"{m.name}@{n}" for m in ctx.registry.list_models() for n in range(m.versions, 0, -1)
        ]
        return _page(ctx, request, user, "compare.html.j2", context)

    @router.get("/approvals")
    def approvals(request: Request, error: str = "", notice: str = "") -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        context = {"pending": _pending(ctx, user), "error": error, "notice": notice}
        template = "_approval_cards.html.j2" if request.headers.get("hx-request") else "approvals.html.j2"
        return _page(ctx, request, user, template, context)

    @router.post("/approvals")
    async def decide(request: Request) -> Response:
        posted = await _signed_in_form(ctx, request)
        if isinstance(posted, Response):
            return posted
        user, form = posted
        ref, domain, decision = form.get("ref", ""), form.get("domain", ""), form.get("decision", "")
        comment = form.get("comment", "").strip()
        if user.role is not Role.REVIEWER or domain not in user.domains:
            return _forbidden(
                ctx, request, user, f"only a reviewer in the {domain or '?'} domain may decide here"
            )
        error, notice = "", ""
        try:
            if decision == "approve":
                ctx.registry.approve(ref, role=domain, actor=user.name, comment=comment)
            elif decision == "reject":
                ctx.registry.reject(ref, role=domain, actor=user.name, comment=comment)
            else:
                error = f"unknown decision {decision!r}"
        except RegistryError as err:
            error = str(err)
        if not error:
            notice = f"{'Approved' if decision == 'approve' else 'Rejected'} {ref} for {domain}"
        if request.headers.get("hx-request"):
            context = {"pending": _pending(ctx, user), "error": error, "notice": notice}
            return _page(ctx, request, user, "_approval_cards.html.j2", context)
        query = urlencode({"error": error} if error else {"notice": notice})
        return RedirectResponse(f"/approvals?{query}", status_code=303)

    @router.get("/admit")
    def admit_form(request: Request) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        return _page(
            ctx,
            request,
            user,
            "admit.html.j2",
            {
                "error": "",
                "source": "",
                "name": "",
                "allowed": _may(user, Permission.SUBMIT),
                "jobs": _recent_jobs(request, user),
            },
        )

    @router.post("/admit")
    async def admit_post(request: Request) -> Response:
        posted = await _signed_in_form(ctx, request)
        if isinstance(posted, Response):
            return posted
        user, form = posted
        if not _may(user, Permission.SUBMIT):
            return _forbidden(ctx, request, user, "only a submitter or an admin may admit a model")
        source, name = form.get("source", "").strip(), form.get("name", "").strip()
        try:
            target = await run_in_threadpool(_start_admission, ctx, source, name, user)
        except Exception as err:  # noqa: BLE001 -- any failure of the gate is told on the form, not as a 500
            context = {
                "error": str(err) or type(err).__name__,
                "source": source,
                "name": name,
                "allowed": True,
                "jobs": _recent_jobs(request, user),
            }
            return _page(ctx, request, user, "admit.html.j2", context, status=422)
        # The server's runner answers with the job's API address; people follow it on the job's page.
        job = re.fullmatch(r"/api/v\d+/jobs/(job_[0-9a-f]+)", target)
        return RedirectResponse(f"/jobs/{job.group(1)}" if job else target, status_code=303)

    @router.get("/jobs/{job_id}")
    def job_page(request: Request, job_id: str) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        job = _job(request, job_id)
        if job is None:
            return _not_found(ctx, request, user, f"no job {job_id}")
        result = job.get("result") or {}
        registered = result.get("registered", {}) if isinstance(result, Mapping) else {}
        ref = str(registered.get("ref", ""))
        if job.get("status") == "succeeded" and "@" in ref:
            name, number = ref.rsplit("@", 1)
            verdict = registered.get("verdict", "")
            notice = urlencode({"notice": f"Admitted as {ref}: {verdict}"})
            return RedirectResponse(f"/models/{quote(name)}/versions/{number}?{notice}", status_code=303)
        return _page(ctx, request, user, "job.html.j2", {"job": job})

    @router.get("/monitoring")
    def monitoring(
        request: Request,
        model: str = "",
        version: int = 0,
        hours: int = 24,
        window: int = 60,
        baseline: int = 0,
    ) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        store = EventStore(ctx.settings.events)
        served = store.versions()
        context: dict[str, Any] = {
            "served": served,
            "model": model,
            "version": version,
            "hours": hours,
            "window": window,
            "baseline": baseline,
            "result": None,
            "charts": (),
            "alerts": [],
            "note": "",
            "error": "",
        }
        if not model and served:
            model, version = served[-1]
            context.update(model=model, version=version)
        if model and version:
            try:
                _monitor(ctx, store, context, model, version, hours, window, baseline)
            except (ValueError, MonitorError) as err:
                context["error"] = str(err)
        context["alerts"] = [
            a
            for a in ctx.registry.alerts()
            if not model or (a.labels.get("model") == model and a.labels.get("version") == str(version))
        ]
        return _page(ctx, request, user, "monitoring.html.j2", context)

    @router.get("/upstream")
    def upstream(request: Request) -> Response:
        user = _user(ctx, request)
        if user is None:
            return _signin_redirect(request)
        rows = []
        for summary in ctx.registry.list_models():
            record = ctx.registry.upstream_record(summary.name)
            latest = _version(ctx, summary.name, summary.latest) if summary.latest else None
            rows.append(
                {
                    "m": summary,
                    "record": record,
                    "latest": latest,
                    "vulns": ctx.registry.vulnerabilities(latest.ref) if latest else [],
                }
            )
        context = {"rows": rows, "advisories": ctx.registry.advisory_count()}
        return _page(ctx, request, user, "upstream.html.j2", context)

    return router


# Helpers


def _page(
    ctx: WebContext,
    request: Request,
    user: User | None,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    binding, fresh = _binding(request)
    body = ctx.env.get_template(template).render(
        {
            **context,
            "user": user,
            "csrf": ctx.guard.token(binding),
            "path": request.url.path,
            "can_admit": user is not None and _may(user, Permission.SUBMIT),
        }
    )
    response = HTMLResponse(body, status_code=status)
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        response.set_cookie(
            ANONYMOUS_COOKIE, binding, httponly=True, samesite="strict", secure=ctx.secure_cookies, path="/"
        )
    return response


def _binding(request: Request) -> tuple[str, bool]:
    """The cookie value the CSRF token is bound to, and whether it is new (to be set)."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return session, False
    visitor = request.cookies.get(ANONYMOUS_COOKIE)
    if visitor:
        return visitor, False
    return secrets.token_urlsafe(24), True


async def _form(ctx: WebContext, request: Request) -> dict[str, str] | Response:
    """The posted form, or a 403 response when its CSRF token is missing or wrong."""
    data = await request.form()
    form = {key: value for key, value in data.items() if isinstance(value, str)}
    binding = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANONYMOUS_COOKIE) or ""
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not ctx.guard.valid(binding, given):
        body = ctx.env.get_template("error.html.j2").render(
            {
                "user": None,
                "csrf": "",
                "title": "Form refused",
                "message": "This form was refused: it carried no valid security token."
                " Reload the page and try again.",
            }
        )
        return HTMLResponse(body, status_code=403, headers={"Content-Security-Policy": _CSP})
    return form


async def _signed_in_form(ctx: WebContext, request: Request) -> tuple[User, dict[str, str]] | Response:
    """The signed-in user and their posted form; else the 403 for a bad CSRF token, or the sign-in page."""
    user = _user(ctx, request)
    form = await _form(ctx, request)
    if isinstance(form, Response):
        return form
    if user is None:
        return _signin_redirect(request)
    return user, form


def _user(ctx: WebContext, request: Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    return ctx.registry.authenticate(token) if token else None


def _signin_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/signin?{urlencode({'next': target})}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):  # a token that stopped working: forget it
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _local(target: str) -> str:
    """``target`` if it is a path on this server, else the models page: no open redirect after sign-in."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/models"


def _not_found(ctx: WebContext, request: Request, user: User, message: str) -> Response:
    return _page(ctx, request, user, "error.html.j2", {"title": "Not found", "message": message}, status=404)


def _forbidden(ctx: WebContext, request: Request, user: User, message: str) -> Response:
    return _page(
        ctx, request, user, "error.html.j2", {"title": "Not allowed", "message": message}, status=403
    )


def _version(ctx: WebContext, name: str, number: int) -> VersionInfo | None:
    try:
        return ctx.registry.get(f"{name}@{number}")
    except RegistryError:
        return None


def _siblings(ctx: WebContext, name: str, summary: ModelSummary | None = None) -> list[VersionInfo]:
    """Every version of model ``name``, newest first (``summary``: its summary, if already read)."""
    if summary is None:
        summary = next((m for m in ctx.registry.list_models() if m.name == name), None)
    if summary is None:
        return []
    found = (_version(ctx, name, n) for n in range(summary.versions, 0, -1))
    return [v for v in found if v is not None]


def _required(ctx: WebContext, alias: str) -> tuple[str, ...]:
    return () if ctx.policy is None else ctx.policy.required_approvals(alias)


def _domains(ctx: WebContext, user: User, info: VersionInfo) -> tuple[str, ...]:
    """The review domains a version page lists: the policy's for production, the reviewer's, and any
    domain someone has already decided in."""
    found = dict.fromkeys((*_required(ctx, "production"), *user.domains, *(a.role for a in info.approvals)))
    return tuple(found)


def _pending(ctx: WebContext, user: User) -> list[dict[str, Any]]:
    """The versions waiting for this reviewer: live, not rejected by the gate, and with no decision yet
    in one of the reviewer's domains; their own submissions are listed but cannot be decided."""
    if user.role is not Role.REVIEWER:
        return []
    cards = []
    for summary in ctx.registry.list_models():
        if summary.archived:
            continue
        for info in _siblings(ctx, summary.name, summary):
            if info.archived or info.verdict.value == "reject":
                continue
            states = _views.domain_states(info.approvals, user.domains)
            open_domains = [s.domain for s in states if s.decision is None]
            if open_domains:
                cards.append(
                    {
                        "v": info,
                        "domains": open_domains,
                        "view": _views.version_view(info),
                        "own": info.submitted_by == user.name,
                    }
                )
    return cards


def _jobs(request: Request) -> Any:
    """The job queue of the server this router is mounted in (``app.state.steward.jobs``), or None when
    the router is mounted without one."""
    return getattr(getattr(request.app.state, "steward", None), "jobs", None)


def _recent_jobs(request: Request, user: User) -> list[Mapping[str, Any]]:
    """The user's latest admissions, newest first."""
    jobs = _jobs(request)
    if jobs is None:
        return []
    recent: list[Mapping[str, Any]] = jobs.recent(50)
    return [j for j in recent if j.get("submitted_by") == user.name and j.get("kind") == "admit"][:10]


def _job(request: Request, job_id: str) -> Mapping[str, Any] | None:
    """The record of job ``job_id`` of the server this router is mounted in, or None."""
    jobs = _jobs(request)
    if jobs is None or not re.fullmatch(r"job_[0-9a-f]{16}", job_id):
        return None
    try:
        found: Mapping[str, Any] = jobs.get(job_id)
    except Exception:  # noqa: BLE001 -- the job store's "not found" is its own error type
        return None
    return found


def _start_admission(ctx: WebContext, source: str, name: str, user: User) -> str:
    if not source or not name:
        raise ValueError("give both a source and a name")
    if ctx.admit is not None:
        return ctx.admit(source, name, user)
    from modelsteward.gate import admit  # noqa: PLC0415 -- the gate is heavy; only an admission needs it
    from modelsteward.policy import default_policy  # noqa: PLC0415

    outcome = admit(
        source, name=name, policy=ctx.policy or default_policy(), settings=ctx.settings, actor=user.name
    )
    info = outcome.registered
    return f"/models/{quote(info.name)}/versions/{info.number}?" + urlencode(
        {"notice": f"Admitted as {info.ref}: {info.verdict.value}"}
    )


def _monitor(
    ctx: WebContext,
    store: EventStore,
    context: dict[str, Any],
    model: str,
    version: int,
    hours: int,
    window: int,
    baseline: int,
) -> None:
    """Fill ``context`` with the timeline of ``model@version`` over the last ``hours``; drift against
    the evaluation data it was approved on, or with ``baseline`` minutes, against its own first events
    of the range (for a version admitted without evaluation data)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = now - timedelta(hours=max(1, min(hours, 24 * 90)))
    reference = (
        Reference(start=start, end=start + timedelta(minutes=baseline)) if baseline > 0 else Reference()
    )
    try:
        table = reference_table(reference, model=model, version=version, store=store, registry=ctx.registry)
        context["note"] = f"Drift is measured against {reference.describe(model, version)}."
    except MonitorError as err:
        table = None
        context["note"] = f"Drift is not measured: {err}"
    events = store.read(model, version=version, start=start, end=now)
    result = timeline(
        events,
        table,
        model=model,
        version=version,
        window=timedelta(minutes=max(1, window)),
        start=start,
        end=now,
        settings=DriftSettings(),
    )
    context["result"] = result
    context["charts"] = _views.monitoring_series(result)


def _metric_rows(a: _views.VersionView, b: _views.VersionView) -> list[tuple[str, Any, Any]]:
    first = {m.name: m for m in a.metrics}
    second = {m.name: m for m in b.metrics}
    return [(name, first.get(name), second.get(name)) for name in dict.fromkeys([*first, *second])]


def _check_rows(a: _views.VersionView, b: _views.VersionView) -> list[tuple[str, Any, Any]]:
    first = {c.name: c for c in a.checks}
    second = {c.name: c for c in b.checks}
    return [(name, first.get(name), second.get(name)) for name in dict.fromkeys([*first, *second])]


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _may(user: User, permission: Permission) -> bool:
    """Whether ``user`` holds ``permission``: the pages follow the API's one table."""
    return permission in PERMISSIONS[user.role]
