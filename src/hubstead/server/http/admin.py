"""The admin API: jobs, for site administrators only (anonymous callers get 401, others 403).

Serves: `GET /api/admin/jobs` (newest first, Link-paginated; `state` (repeatable), `kind` and
`limit` filter it), `GET /api/admin/jobs/{job_id}` and `POST /api/admin/jobs/{job_id}/cancel`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.jobs import JobState
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    param,
    query_list,
    services,
)
from hubstead.server.services.access import check_site_admin

_PAGE_SIZE = 100


async def list_jobs(request: Request) -> Response:
    """One page of jobs, with a `Link` to the next."""
    check_site_admin(await identity(request), "list jobs")
    limit = int_param(request, "limit", _PAGE_SIZE, maximum=_PAGE_SIZE)
    offset = decode_cursor(request)
    states = [_state(value) for value in query_list(request, "state")]
    kind = request.query_params.get("kind") or None
    page = await call(
        services(request).jobs.list, states=states, kind=kind, offset=offset, limit=limit
    )
    headers = next_link(request, offset + limit) if page.more else {}
    return JSONResponse([payloads.job(j) for j in page.items], headers=headers)


async def get_job(request: Request) -> Response:
    """One job, with its progress and log tail."""
    check_site_admin(await identity(request), "see jobs")
    job = await call(services(request).jobs.get, _job_id(request))
    return JSONResponse(payloads.job(job))


async def cancel_job(request: Request) -> Response:
    """Cancel a queued job, or ask a running one to stop; the job after the change."""
    check_site_admin(await identity(request), "cancel jobs", write=True)
    job = await call(services(request).jobs.cancel, _job_id(request))
    return JSONResponse(payloads.job(job))


def _job_id(request: Request) -> int:
    value = param(request, "job_id")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise errors.NotFoundError(f"Job {value} not found")
    return int(value)


def _state(value: str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        names = ", ".join(s.value for s in JobState)
        raise errors.InvalidRequestError(f"Unknown job state {value!r}: one of {names}") from None


routes = [
    Route("/api/admin/jobs", list_jobs, methods=["GET"]),
    Route("/api/admin/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/api/admin/jobs/{job_id}/cancel", cancel_job, methods=["POST"]),
]
