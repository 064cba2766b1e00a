"""Space apps as the hub serves them, at a path of the hub or at a host of their own.

A driver beside the pages (it reads the browser's session as they do). Serves:

- `GET /spaces/{ns}/{name}/app` → `/spaces/{ns}/{name}/app/` (308);
- every method and websockets on `/spaces/{ns}/{name}/app/{rest}`;
- with `spaces_domain` set, every request and websocket to a Space host
  (`{label}.{spaces_domain}`, see `services/spaces/serving.py`), answered by `SpaceHosts`,
  an ASGI middleware in front of the routes: a Space host serves its app and nothing of the
  hub. The path URLs then redirect to the Space's host, so apps never run on the hub's
  origin; a signed-in viewer of a private Space gets a pass in that URL, which the Space
  host trades for a cookie of its own (`SPACE_COOKIE`).

Access is the Space repo's: a private Space is a 404 to whoever may not read it. A Space's
runtime says what answers: a static Space's files are served by the hub itself (`/` being
its app file), a running app's requests are forwarded to it (`http/app_proxy.py`, which keeps
the hub's credentials from it), and a Space whose app is not serving (building, sleeping,
failed) is a 503 with `Retry-After`: a small page saying why for browsers, JSON for the rest.

On the hub's own origin (no `spaces_domain`), a static Space's files carry a CSP `sandbox`
(their scripts run in an opaque origin, away from the hub's cookies and pages); a proxied
app's cannot (Gradio and Streamlit need their own origin's storage and requests), so an
app's scripts there act with the visitor's session: docs/security.md says when to set
`spaces_domain`.
"""

from __future__ import annotations

import dataclasses
import mimetypes
from urllib.parse import unquote, urlencode, urlsplit

from starlette.datastructures import URL
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import (
    AppAddress,
    LogKind,
    SpaceSdk,
    SpaceStage,
    SpaceState,
)
from hubstead.server.http import errors as api_errors
from hubstead.server.http.app_proxy import AppProxy
from hubstead.server.http.blobs import file_response
from hubstead.server.http.context import bearer_token, call, param, services
from hubstead.server.http.ranges import streamed
from hubstead.server.services.auth import Identity
from hubstead.server.services.downloads import Download, LfsRedirect, RegularFile
from hubstead.server.services.registry import Services
from hubstead.server.services.spaces.serving import public_path
from hubstead.server.web.errors import error_page, wants_html
from hubstead.server.web.render import renderer
from hubstead.server.web.session import SEED_COOKIE, SESSION_COOKIE, visitor
from hubstead.server.web.urls import space_log_path

SPACE_COOKIE = "hubstead_space"
"""A Space host's own cookie: whom the hub admitted to its (private) app."""
CREDENTIAL_COOKIES = (SESSION_COOKIE, SEED_COOKIE, SPACE_COOKIE)
"""The hub's cookies, which no app may read or set."""
PASS_PARAMETER = "__hubstead_pass"  # noqa: S105 (a query parameter's name)
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"
"""The CSP of a static Space's files on the hub's origin: an opaque origin of their own."""
# The segments of `/spaces/{ns}/{name}/app` in a raw path: what follows is the app's path.
_PREFIX_SEGMENTS = 5
_POLICY_VIOLATION = 1008
_TRY_AGAIN_LATER = 1013
# A page of the app's own host or frame: nothing of the hub's, nothing to load.
_BARE_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
_REVALIDATE = "no-cache"
_WAITS = {
    SpaceStage.BUILDING: ("is being built", 5),
    SpaceStage.APP_STARTING: ("is starting", 5),
    SpaceStage.PAUSED: ("is paused by its owners", 60),
    SpaceStage.STOPPED: ("is stopped", 60),
}


def app_path(repo_id: str) -> str:
    """The path of a Space's app on the hub's origin (no trailing `/`)."""
    return public_path(repo_id, None)


def app_proxy(connection: HTTPConnection) -> AppProxy:
    """The proxy of the app serving this request."""
    proxy: AppProxy = connection.app.state.app_proxy
    return proxy


@dataclasses.dataclass(frozen=True)
class AppView:
    """What a Space's page shows of its app: where it is, its stage and error, its logs' pages.

    `origin` is the app's own origin when it has one (a Space host), for the page's CSP.
    """

    url: str
    origin: str | None
    stage: str
    error: str | None
    logs: dict[str, str]


async def app_view(request: Request, repo: RepoRecord, identity: Identity) -> AppView:
    """The Space's app as its page embeds it, for a viewer who may read the Space."""
    hub = services(request)
    url, origin = app_path(repo.repo_id) + "/", None
    if hub.settings.spaces_domain is not None:
        url = await _host_url(request, hub, repo, identity, "")
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
    # As the runtime API shows it to this viewer: readers get no more than the error's first line.
    state = await call(hub.space_runtime.shown_to, identity, repo)
    logs = {kind.value: space_log_path(repo.repo_id, kind) for kind in LogKind}
    return AppView(url, origin, state.stage.value, state.error, logs)


# --- the hub's paths ----------------------------------------------------------------------------


async def app_root(request: Request) -> Response:
    """`/spaces/{ns}/{name}/app`: its app is at the folder (relative links resolve there)."""
    query = f"?{request.url.query}" if request.url.query else ""
    repo_id = f"{param(request, 'namespace')}/{param(request, 'name')}"
    return RedirectResponse(app_path(repo_id) + "/" + query, status_code=308)


async def app_request(request: Request) -> Response:
    """Any request for a Space's app at its path on the hub."""
    hub = services(request)
    rest = _raw_rest(request, _PREFIX_SEGMENTS)
    try:
        caller = await visitor(request)
        repo_id = f"{param(request, 'namespace')}/{param(request, 'name')}"
        repo = await call(hub.space_serving.open, caller.identity, repo_id)
        if hub.settings.spaces_domain is not None:
            location = await _host_url(request, hub, repo, caller.identity, rest)
            return RedirectResponse(location, status_code=307)
        return await _answer(request, repo, caller.identity, rest, app_path(repo.repo_id))
    except errors.HubError as exc:
        if isinstance(exc, errors.SpaceNotRunningError) or not wants_html(request):
            return await _error(request, exc)
        return await error_page(request, exc)


async def app_websocket(websocket: WebSocket) -> None:
    """A websocket to a Space's app at its path on the hub."""
    hub = services(websocket)
    try:
        if hub.settings.spaces_domain is not None:
            raise errors.NotFoundError("This Space's app is served at its own host")
        caller = await visitor(websocket)
        repo_id = f"{param(websocket, 'namespace')}/{param(websocket, 'name')}"
        repo = await call(hub.space_serving.open, caller.identity, repo_id)
        address = await _running_app(hub, repo)
        rest = _raw_rest(websocket, _PREFIX_SEGMENTS)
        await app_proxy(websocket).websocket(websocket, address, rest, app_path(repo.repo_id))
    except errors.HubError as exc:
        await _refuse(websocket, exc)


# --- Space hosts ----------------------------------------------------------------------------------


class SpaceHosts:
    """Answers every request to a Space host (`{label}.{spaces_domain}`) with that Space's app.

    Other hosts go on to the hub's routes; a Space host never reaches them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hub: Services = scope["app"].state.services
        label = _space_label(scope, hub.settings.spaces_domain)
        if label is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            response = await _host_request(Request(scope, receive), hub, label)
            await response(scope, receive, send)
        else:
            await _host_websocket(WebSocket(scope, receive, send), hub, label)


async def _host_request(request: Request, hub: Services, label: str) -> Response:
    try:
        repo = await call(hub.space_serving.by_host_label, label)
        if repo is None:
            raise errors.NotFoundError("There is no Space at this address")
        token = request.query_params.get(PASS_PARAMETER)
        if token is not None:
            return await _admit(request, hub, repo, token)
        identity = await _host_identity(request, hub, repo)
        await call(hub.space_serving.check, identity, repo)
        return await _answer(request, repo, identity, _raw_rest(request, 1), "")
    except errors.HubError as exc:
        return await _error(request, exc)


async def _host_websocket(websocket: WebSocket, hub: Services, label: str) -> None:
    try:
        repo = await call(hub.space_serving.by_host_label, label)
        if repo is None:
            raise errors.NotFoundError("There is no Space at this address")
        identity = await _host_identity(websocket, hub, repo)
        await call(hub.space_serving.check, identity, repo)
        address = await _running_app(hub, repo)
        await app_proxy(websocket).websocket(websocket, address, _raw_rest(websocket, 1), "")
    except errors.HubError as exc:
        await _refuse(websocket, exc)


async def _host_identity(connection: HTTPConnection, hub: Services, repo: RepoRecord) -> Identity:
    """Who is at a Space host: a token's holder (API clients), else whom its cookie admits."""
    token = bearer_token(connection)
    if token is not None:
        return await call(hub.auth.authenticate, token)
    return await call(hub.space_serving.admitted, connection.cookies.get(SPACE_COOKIE), repo)


async def _admit(request: Request, hub: Services, repo: RepoRecord, token: str) -> Response:
    """Trade a pass for the Space host's cookie, and go on to the same URL without it."""
    admission = await call(hub.space_serving.admit, token, repo)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != PASS_PARAMETER]
    # One leading `/`: `//elsewhere/` would send the browser to another host.
    location = "/" + request.url.path.lstrip("/") + (f"?{urlencode(kept)}" if kept else "")
    response = RedirectResponse(location, status_code=303)
    response.set_cookie(
        SPACE_COOKIE,
        admission,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_scheme(request, hub) == "https",
    )
    return response


async def _host_url(
    request: Request, hub: Services, repo: RepoRecord, identity: Identity, rest: str
) -> str:
    """The URL of `rest` on the Space's host; with a pass for a viewer who needs one."""
    domain = hub.settings.spaces_domain
    assert domain is not None
    label = await call(hub.space_serving.host_label, repo)
    public = URL(hub.settings.public_url or str(request.base_url))
    port = f":{public.port}" if public.port else ""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != PASS_PARAMETER]
    if identity.account is not None and (repo.private or repo.gated):
        query.append((PASS_PARAMETER, await call(hub.space_serving.issue_pass, identity, repo)))
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{_scheme(request, hub)}://{label}.{domain}{port}/{rest}{suffix}"


def _scheme(request: Request, hub: Services) -> str:
    return URL(hub.settings.public_url or str(request.base_url)).scheme


def _space_label(scope: Scope, domain: str | None) -> str | None:
    """The Space label of the request's host when it is a Space host, else None.

    The spaces domain itself, and hosts more than one level under it, are Space hosts of no
    Space ("").
    """
    if domain is None:
        return None
    host = ""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1").lower()
            break
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    host = host.rstrip(".")
    if host == domain:
        return ""
    if not host.endswith("." + domain):
        return None
    label = host[: -len(domain) - 1]
    return "" if "." in label else label


# --- answering ------------------------------------------------------------------------------------


async def _answer(
    request: Request, repo: RepoRecord, identity: Identity, rest: str, prefix: str
) -> Response:
    """The answer to `rest` (raw, as the client sent it) of the Space's app."""
    hub = services(request)
    state = await _serving_state(hub, repo)
    if state.sdk is SpaceSdk.STATIC:
        response = await _static(request, repo, identity, unquote(rest))
        if prefix:
            response.headers["Content-Security-Policy"] = SANDBOX
        return response
    return await app_proxy(request).http(request, _address(repo, state), rest, prefix)


async def _running_app(hub: Services, repo: RepoRecord) -> AppAddress:
    """Where the Space's app answers websockets (a static Space has none)."""
    state = await _serving_state(hub, repo)
    if state.sdk is SpaceSdk.STATIC:
        raise errors.NotFoundError("A static Space has no websockets")
    return _address(repo, state)


async def _serving_state(hub: Services, repo: RepoRecord) -> SpaceState:
    """The Space's state, which must be serving, its request recorded.

    Raises:
        SpaceNotRunningError: the app is not serving now (a sleeping one is woken).
    """
    state = await call(hub.space_runtime.record_request, repo)
    if not state.stage.serving:
        raise _not_running(repo, state)
    return state


def _address(repo: RepoRecord, state: SpaceState) -> AppAddress:
    if state.address is None:
        raise errors.SpaceNotRunningError(
            f"The app of {repo.repo_id} is starting", stage=state.stage.value, retry_after=5
        )
    return state.address


def _not_running(repo: RepoRecord, state: SpaceState) -> errors.SpaceNotRunningError:
    waiting = _WAITS.get(state.stage)
    if waiting is not None:
        what, retry = waiting
        message = f"The app of {repo.repo_id} {what}"
    else:
        what = state.stage.value.replace("_", " ").lower()
        # Its first line only: what follows (the app's last lines) may print its secrets, for
        # its writers' eyes (as `SpaceRuntimeService.shown_to`).
        summary = (state.error or "").partition("\n")[0] or "see its logs"
        message = f"The app of {repo.repo_id} has a {what}: {summary}"
        retry = 60
    return errors.SpaceNotRunningError(message, stage=state.stage.value, retry_after=retry)


async def _static(request: Request, repo: RepoRecord, identity: Identity, path: str) -> Response:
    """A static Space's file at `path` (its app file for "")."""
    hub = services(request)
    download = await call(hub.space_serving.static_file, identity, repo, path)
    etag = f'"{download.blob_id if isinstance(download, RegularFile) else download.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": _REVALIDATE,
        "X-Content-Type-Options": "nosniff",
        "Content-Type": _media_type(download),
    }
    if etag in (tag.strip() for tag in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": _REVALIDATE})
    if isinstance(download, RegularFile):
        body = b"" if request.method == "HEAD" else download.data
        headers["Content-Length"] = str(len(download.data))
        return Response(body, headers=headers)
    if isinstance(download, LfsRedirect):
        blob = await call(hub.lfs.blob, download.sha256, download.token)
        if blob.url is not None:
            return RedirectResponse(blob.url, status_code=302)
        if blob.path is not None:
            return file_response(request, blob.path, blob.size, headers)
        assert blob.read is not None, "an object is a file, a URL or a reader"
        return await streamed(request, blob.size, blob.read, headers)
    return await streamed(request, download.size, download.read, headers)


def _media_type(download: Download) -> str:
    guessed, _ = mimetypes.guess_type(download.path, strict=False)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "image/svg+xml"):
        return f"{guessed}; charset=utf-8"
    return guessed


async def _error(request: Request, exc: errors.HubError) -> Response:
    """An error of a Space URL: a small page for browsers, the API's answer for the rest."""
    if not wants_html(request) or request.method == "HEAD":
        return await api_errors.handle_hub_error(request, exc)
    status = 404 if isinstance(exc, errors.NotFoundError) else errors.status_of(exc)
    html = renderer(request).html(
        "spaces/app_error.html",
        status=status,
        message=exc.message,
        stage=exc.stage if isinstance(exc, errors.SpaceNotRunningError) else None,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = _BARE_PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    if isinstance(exc, errors.SpaceNotRunningError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _refuse(websocket: WebSocket, exc: errors.HubError) -> None:
    """Refuse a websocket before accepting it: with the error's status when the server can."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        status = 404 if isinstance(exc, errors.NotFoundError) else errors.status_of(exc)
        response = JSONResponse({"error": exc.message}, status_code=status)
        if isinstance(exc, errors.SpaceNotRunningError):
            response.headers["Retry-After"] = str(exc.retry_after)
        await websocket.send_denial_response(response)
        return
    code = _TRY_AGAIN_LATER if isinstance(exc, errors.SpaceNotRunningError) else _POLICY_VIOLATION
    await websocket.close(code=code, reason=exc.message[:120])


def _raw_rest(connection: HTTPConnection, segments: int) -> str:
    """The request's raw path after its first `segments` segments (as the client encoded it)."""
    raw: bytes = connection.scope.get("raw_path") or connection.scope["path"].encode()
    return "/".join(raw.split(b"?", 1)[0].decode("latin-1").split("/")[segments:])


_APP = "/spaces/{namespace}/{name}/app"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
routes: list[BaseRoute] = [
    Route(_APP, app_root, methods=["GET", "HEAD"]),
    Route(_APP + "/{rest:path}", app_request, methods=_METHODS),
    WebSocketRoute(_APP + "/{rest:path}", app_websocket),
]
