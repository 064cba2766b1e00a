"""Site administration pages, for site admins only (to everyone else they do not exist: 404).

Serves: `GET /-/admin` (counts and storage), `GET|POST /-/admin/users` (the users, searched and
paginated; create one with a password), `GET|POST /-/admin/orgs` (the organizations; create one
with its first admin), `GET /-/admin/mirrors` and `POST /-/admin/mirrors/sync` (sync one now, then
its job's page), `GET /-/admin/jobs` (`?state=&p=`), `GET /-/admin/jobs/{id}` (one job; `admin.js`
keeps its progress and log current from `GET /-/admin/jobs/{id}/progress`, the admin API's JSON
for the job) and `POST /-/admin/jobs/{id}/cancel`. The admin check is `AdminService.check`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.jobs import JobState
from hubstead.server.http import payloads
from hubstead.server.http.context import call, param, services
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, visitor
from hubstead.server.web.urls import page_index

TOP_REPOS = 10
ACCOUNTS_PAGE = 50
JOBS_PAGE = 50
_MAX_QUERY = 200
_FORM_ERRORS = (errors.InvalidRequestError, errors.ConflictError, errors.AccountNotFoundError)


def _search(request: Request) -> str:
    return request.query_params.get("search", "").strip()[:_MAX_QUERY]


async def get_overview(request: Request) -> Response:
    """Counts, storage and the largest repos."""
    caller = await visitor(request)
    overview = await call(services(request).admin.overview, caller.identity, TOP_REPOS)
    return await render(request, "admin/overview.html", overview=overview, section="overview")


async def _accounts_page(
    request: Request,
    caller: Visitor,
    section: Literal["users", "orgs"],
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """A page of the users or of the organizations (`section`), with the form creating one."""
    search = _search(request)
    page_number = page_index(request)
    admin = services(request).admin
    listing = admin.users if section == "users" else admin.orgs
    found = await call(listing, caller.identity, search, page_number * ACCOUNTS_PAGE, ACCOUNTS_PAGE)
    return await render(
        request,
        f"admin/{section}.html",
        status,
        search=search,
        page_number=page_number + 1,
        error=error,
        created=request.query_params.get("created"),
        form=form or {},
        section=section,
        **{section: found},
    )


async def get_users(request: Request) -> Response:
    """The users, and the form that creates one."""
    return await _accounts_page(request, await visitor(request), "users")


async def post_user(request: Request) -> Response:
    """Create a user who can sign in with the password given."""
    caller, form = await csrf.read_form(request)
    name = form.get("name", "").strip()
    try:
        await call(
            services(request).admin.create_user,
            caller.identity,
            name,
            form.get("email", ""),
            form.get("password", ""),
            is_admin=form.get("is_admin") == "on",
            fullname=form.get("fullname", ""),
        )
    except _FORM_ERRORS as exc:
        kept = {key: form.get(key, "") for key in ("name", "fullname", "email")}
        status = errors.status_of(exc)
        return await _accounts_page(request, caller, "users", status, exc.message, kept)
    return RedirectResponse("/-/admin/users?" + urlencode({"created": name}), status_code=303)


async def get_orgs(request: Request) -> Response:
    """The organizations, and the form that creates one."""
    return await _accounts_page(request, await visitor(request), "orgs")


async def post_org(request: Request) -> Response:
    """Create an organization with its first admin."""
    caller, form = await csrf.read_form(request)
    name = form.get("name", "").strip()
    try:
        await call(
            services(request).admin.create_org,
            caller.identity,
            name,
            form.get("admin", ""),
            fullname=form.get("fullname", ""),
        )
    except _FORM_ERRORS as exc:
        kept = {key: form.get(key, "") for key in ("name", "fullname", "admin")}
        status = 400 if isinstance(exc, errors.AccountNotFoundError) else errors.status_of(exc)
        return await _accounts_page(request, caller, "orgs", status, exc.message, kept)
    return RedirectResponse("/-/admin/orgs?" + urlencode({"created": name}), status_code=303)


async def get_mirrors(request: Request) -> Response:
    """Every mirror: upstream, last sync, state, next sync, and a button to sync now."""
    caller = await visitor(request)
    rows = await call(services(request).admin.mirrors, caller.identity)
    return await render(request, "admin/mirrors.html", rows=rows, section="mirrors")


async def post_sync(request: Request) -> Response:
    """Queue a sync of a mirror, then show its job."""
    caller, form = await csrf.read_form(request)
    try:
        type = RepoType(form.get("type", ""))
    except ValueError:
        raise errors.InvalidRequestError("Unknown repo type") from None
    job = await call(services(request).admin.sync, caller.identity, type, form.get("repo_id", ""))
    return RedirectResponse(f"/-/admin/jobs/{job.id}", status_code=303)


async def get_jobs(request: Request) -> Response:
    """Jobs, newest first, of one state or all."""
    caller = await visitor(request)
    value = request.query_params.get("state", "")
    try:
        state = JobState(value) if value else None
    except ValueError:
        raise errors.InvalidRequestError(f"Unknown job state {value[:40]!r}") from None
    page_number = page_index(request)
    jobs = await call(
        services(request).admin.jobs,
        caller.identity,
        state,
        page_number * JOBS_PAGE,
        JOBS_PAGE,
    )
    return await render(
        request,
        "admin/jobs.html",
        jobs=jobs,
        state=value,
        states=[s.value for s in JobState],
        page_number=page_number + 1,
        section="jobs",
    )


def _job_id(request: Request) -> int:
    value = param(request, "job_id")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise errors.NotFoundError("There is nothing at this address.")
    return int(value)


async def get_job(request: Request) -> Response:
    """One job: state, progress, log tail, and a cancel button while it may be cancelled."""
    caller = await visitor(request)
    job = await call(services(request).admin.job, caller.identity, _job_id(request))
    return await render(request, "admin/job.html", job=job, section="jobs")


async def get_job_progress(request: Request) -> Response:
    """One job as the admin API's JSON, for `admin.js` to show its progress live."""
    caller = await visitor(request)
    job = await call(services(request).admin.job, caller.identity, _job_id(request))
    return JSONResponse(payloads.job(job), headers={"Cache-Control": "no-store"})


async def post_cancel(request: Request) -> Response:
    """Cancel a job (or ask it to stop), then back to its page."""
    caller, _ = await csrf.read_form(request)
    job = await call(services(request).admin.cancel, caller.identity, _job_id(request))
    return RedirectResponse(f"/-/admin/jobs/{job.id}", status_code=303)


routes = [
    Route("/-/admin", get_overview, methods=["GET"]),
    Route("/-/admin/users", get_users, methods=["GET"]),
    Route("/-/admin/users", post_user, methods=["POST"]),
    Route("/-/admin/orgs", get_orgs, methods=["GET"]),
    Route("/-/admin/orgs", post_org, methods=["POST"]),
    Route("/-/admin/mirrors", get_mirrors, methods=["GET"]),
    Route("/-/admin/mirrors/sync", post_sync, methods=["POST"]),
    Route("/-/admin/jobs", get_jobs, methods=["GET"]),
    Route("/-/admin/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/-/admin/jobs/{job_id}/progress", get_job_progress, methods=["GET"]),
    Route("/-/admin/jobs/{job_id}/cancel", post_cancel, methods=["POST"]),
]
