"""A repo's settings and its access-request queue, for whoever may change its settings.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET {repo}/settings` (the forms), `POST {repo}/settings/visibility` (`visibility`: public or
private), `POST {repo}/settings/gating` (`gated`: off, auto or manual),
`POST {repo}/settings/move` (`to`: the new `namespace/name`; then to the new URL) and
`POST {repo}/settings/delete` (`confirm` must be the repo id; then the front page);
`GET {repo}/settings/access-requests` (`?status=pending|accepted|rejected`),
`POST {repo}/settings/access-requests/handle` (`user`, `status`, `reason`) and
`POST {repo}/settings/access-requests/grant` (`user`).

Each goes through the service the API's endpoint calls (`http/repos.py` update_settings,
move_repo, delete_repo; `http/access_requests.py`), with its permissions: the settings need
write access to the repo (as `PUT /api/{T}/{repo}/settings`), the queue the repo's managers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.access_requests import AccessStatus
from hubstead.server.http.context import call, services
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.access import Action
from hubstead.server.services.repos import RepoSettingsChange
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in
from hubstead.server.web.urls import REPO, repo_of, repo_path, rev_url

_GATING: dict[str, str | bool] = {"off": False, "auto": "auto", "manual": "manual"}
_VISIBILITY = {"public": False, "private": True}
_MAX_REASON = 1000
# Form errors a user can fix on the page: shown on it, with the API's status.
_FIXABLE = (errors.InvalidRequestError, errors.ConflictError, errors.AuthorizationError)


async def _settings_page(
    request: Request,
    caller: Visitor,
    type: RepoType,
    repo_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    form: str | None = None,
) -> Response:
    hub = services(request)
    repo = await call(hub.repos.locate, caller.identity, type, repo_id, Action.WRITE, settings=True)
    chrome = await call(hub.browse.chrome, caller.identity, type, repo.repo_id)
    return await render(
        request,
        "repo_settings/settings.html",
        status,
        repo=repo,
        error=error,
        error_form=form,
        chrome=chrome,
        **_links(type, repo.repo_id),
    )


def _links(type: RepoType, repo_id: str) -> dict[str, Any]:
    return {
        "type": type,
        "repo_id": repo_id,
        "repo_path": repo_path(type, repo_id),
        "rev": rev_url(DEFAULT_BRANCH),
        "tab": "settings",
        "may_write": True,
    }


async def get_settings(request: Request) -> Response:
    """The settings forms, for those who may change the repo's settings."""
    type, repo_id = repo_of(request)
    return await _settings_page(request, await signed_in(request), type, repo_id)


async def _change(
    request: Request, caller: Visitor, form_name: str, settings: RepoSettingsChange
) -> Response:
    type, repo_id = repo_of(request)
    try:
        repo = await call(
            services(request).repos.update_settings, caller.identity, type, repo_id, settings
        )
    except errors.InvalidRequestError as exc:
        return await _settings_page(
            request, caller, type, repo_id, status=400, error=exc.message, form=form_name
        )
    return RedirectResponse(
        f"{repo_path(type, repo.repo_id)}/settings?saved={form_name}", status_code=303
    )


async def post_visibility(request: Request) -> Response:
    """Make the repo public or private."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    private = _VISIBILITY.get(form.get("visibility", ""))
    if private is None:
        raise errors.InvalidRequestError("Visibility is public or private")
    return await _change(request, caller, "visibility", RepoSettingsChange(private=private))


async def post_gating(request: Request) -> Response:
    """Turn gating off, or on with automatic or manual approval."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    gated = _GATING.get(form.get("gated", ""))
    if gated is None:
        raise errors.InvalidRequestError("Gating is off, auto or manual")
    return await _change(request, caller, "gating", RepoSettingsChange(gated=gated))


async def post_move(request: Request) -> Response:
    """Rename the repo or move it to another namespace; then its new page's settings."""
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    target = form.get("to", "").strip()
    try:
        if target.count("/") != 1:
            raise errors.InvalidRequestError("Give the new id as namespace/name")
        repo = await call(services(request).repos.move, caller.identity, type, repo_id, target)
    except _FIXABLE as exc:
        return await _settings_page(
            request,
            caller,
            type,
            repo_id,
            status=errors.status_of(exc),
            error=exc.message,
            form="move",
        )
    return RedirectResponse(f"{repo_path(type, repo.repo_id)}/settings?saved=move", status_code=303)


async def post_delete(request: Request) -> Response:
    """Delete the repo, once its id was typed to confirm; then the user's profile."""
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    if form.get("confirm", "").strip() != repo_id:
        message = f"Type {repo_id} to confirm that you want to delete it"
        return await _settings_page(
            request, caller, type, repo_id, status=400, error=message, form="delete"
        )
    await call(services(request).repos.delete, caller.identity, type, repo_id)
    return RedirectResponse("/?deleted=" + quote(repo_id, safe="/"), status_code=303)


def _status(value: str) -> AccessStatus:
    try:
        return AccessStatus(value)
    except ValueError:
        raise errors.InvalidRequestError(
            f"Invalid status {value[:40]!r}: pending, accepted or rejected"
        ) from None


async def _queue_page(
    request: Request,
    caller: Visitor,
    type: RepoType,
    repo_id: str,
    status: AccessStatus,
    *,
    code: int = 200,
    error: str | None = None,
) -> Response:
    found = await call(
        services(request).access_requests.list, caller.identity, type, repo_id, status
    )
    return await render(
        request,
        "repo_settings/access_requests.html",
        code,
        requests=found,
        status=status.value,
        statuses=[s.value for s in AccessStatus],
        error=error,
        **_links(type, repo_id),
    )


async def get_access_requests(request: Request) -> Response:
    """The repo's access requests in one status (pending first), for its managers."""
    type, repo_id = repo_of(request)
    caller = await signed_in(request)
    status = _status(request.query_params.get("status", AccessStatus.PENDING.value))
    return await _queue_page(request, caller, type, repo_id, status)


async def post_handle_request(request: Request) -> Response:
    """Accept or reject (with an optional reason) a user's request, or set it back to pending."""
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    status = _status(form.get("status", ""))
    reason = form.get("reason", "").strip()[:_MAX_REASON] or None
    back = _status(form.get("from", AccessStatus.PENDING.value))
    try:
        await call(
            services(request).access_requests.handle,
            caller.identity,
            type,
            repo_id,
            status,
            user=form.get("user", ""),
            rejection_reason=reason if status is AccessStatus.REJECTED else None,
        )
    except (errors.InvalidRequestError, errors.AccessRequestNotFoundError) as exc:
        return await _queue_page(
            request, caller, type, repo_id, back, code=errors.status_of(exc), error=exc.message
        )
    path = f"{repo_path(type, repo_id)}/settings/access-requests?status={back.value}"
    return RedirectResponse(path, status_code=303)


async def post_grant(request: Request) -> Response:
    """Give a user, named in the form, access to the repo's files."""
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    try:
        await call(
            services(request).access_requests.grant,
            caller.identity,
            type,
            repo_id,
            form.get("user", "").strip(),
        )
    except (errors.InvalidRequestError, errors.AccountNotFoundError) as exc:
        status = AccessStatus.PENDING
        return await _queue_page(
            request, caller, type, repo_id, status, code=errors.status_of(exc), error=exc.message
        )
    path = f"{repo_path(type, repo_id)}/settings/access-requests?status=accepted"
    return RedirectResponse(path, status_code=303)


def _repo_routes(prefix: str) -> list[Route]:
    repo = prefix + REPO + "/settings"
    return [
        Route(repo, get_settings, methods=["GET"]),
        Route(repo + "/visibility", post_visibility, methods=["POST"]),
        Route(repo + "/gating", post_gating, methods=["POST"]),
        Route(repo + "/move", post_move, methods=["POST"]),
        Route(repo + "/delete", post_delete, methods=["POST"]),
        Route(repo + "/access-requests", get_access_requests, methods=["GET"]),
        Route(repo + "/access-requests/handle", post_handle_request, methods=["POST"]),
        Route(repo + "/access-requests/grant", post_grant, methods=["POST"]),
    ]


routes = [route for prefix in URL_PREFIXES for route in _repo_routes(prefix)]
