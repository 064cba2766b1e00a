"""A Space's logs for people: its build and run logs, followed live in the browser.

Serves: `GET /spaces/{ns}/{name}/logs/{build|run}` (the page: the Space's stage and error and
the log's lines so far, escaped as all text is) and `GET /spaces/{ns}/{name}/logs/{kind}/events`
(server-sent events for `space_logs.js`: `line` events, each `{"text", "timestamp"}` with the
line's number as its id, after `?after=` or the `Last-Event-ID` of a reconnecting stream; and a
`stage` event, `{"stage", "error"}`, first and whenever the Space's stage or error changes).

Access is the logs API's (`SpaceRuntimeService.logs`): the Space's writers only, checked again
at every poll of the stream; a Space the visitor may not see is a 404, a public one they may not
write to a 403, and a visitor not signed in is sent to sign in. The stream is read with the
session cookie, so it answers only the hub's own pages (`csrf.check_same_origin`); a refusal
before it starts is the API's JSON error (an `EventSource` stops on it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType, parse_decimal
from hubstead.server import errors
from hubstead.server.domain.spaces import LogKind, LogLine, SpaceState
from hubstead.server.http import errors as api_errors
from hubstead.server.http import payloads
from hubstead.server.http.context import call, param, services
from hubstead.server.http.spaces import (
    EVENT_HEADERS,
    FOLLOW_POLL_SECONDS,
    KEEPALIVE,
    KEEPALIVE_SECONDS,
    followed,
)
from hubstead.server.web import csrf
from hubstead.server.web.pages.repos import repo_links
from hubstead.server.web.render import render
from hubstead.server.web.session import visitor
from hubstead.server.web.urls import REPO, repo_of, space_log_path


def _kind(request: Request) -> LogKind:
    try:
        return LogKind(param(request, "kind"))
    except ValueError:
        raise errors.NotFoundError("A Space's logs are 'build' and 'run'") from None


def _after(request: Request) -> int:
    """The number of the last line the page has (-1: none).

    A reconnecting stream's `Last-Event-ID` says it, else `?after=`.

    Raises:
        InvalidRequestError: not a line number.
    """
    given = request.headers.get("last-event-id") or request.query_params.get("after")
    if not given:
        return -1
    after = parse_decimal(given)
    if after is None:
        raise errors.InvalidRequestError("'after' must be the number of a line of the log")
    return after


async def get_log(request: Request) -> Response:
    """One of the Space's logs, as it is now; its script follows new lines and the stage."""
    kind = _kind(request)
    _, repo_id = repo_of(request)
    caller = await visitor(request)
    hub = services(request)
    runtime = hub.space_runtime
    # The log first: it checks write access, the rule of this page.
    lines = await call(
        runtime.logs, caller.identity, repo_id, kind, limit=hub.settings.space_log_lines
    )
    state = await call(runtime.runtime, caller.identity, repo_id)
    chrome = await call(hub.browse.chrome, caller.identity, RepoType.SPACE, repo_id)
    here = space_log_path(repo_id, kind)
    events = f"{here}/events" + (f"?after={lines[-1].seq}" if lines else "")
    return await render(
        request,
        "spaces/logs.html",
        kind=kind.value,
        lines=lines,
        state=state,
        chrome=chrome,
        tab="logs",
        logs={k.value: space_log_path(repo_id, k) for k in LogKind},
        events=events,
        **repo_links(request, RepoType.SPACE, repo_id, DEFAULT_BRANCH),
    )


async def get_events(request: Request) -> Response:
    """The log's new lines and the Space's stage, as server-sent events, for the log's page."""
    try:
        csrf.check_same_origin(request)
        kind = _kind(request)
        after = _after(request)
        _, repo_id = repo_of(request)
        caller = (await visitor(request)).identity
        runtime = services(request).space_runtime
        # The first read checks access before the response starts: a refusal is an error.
        lines = await call(runtime.logs, caller, repo_id, kind, after)
    except errors.HubError as exc:
        return await api_errors.handle_hub_error(request, exc)

    async def read(last: int) -> list[LogLine]:
        return await call(runtime.logs, caller, repo_id, kind, last)

    async def events() -> AsyncIterator[bytes]:
        shown: tuple[str, str | None] | None = None
        waited = 0.0
        async for batch in followed(request, read, lines, after):
            try:
                state = await call(runtime.runtime, caller, repo_id)
            except errors.HubError:  # the Space deleted, or its access withdrawn
                return
            if (state.stage.value, state.error) != shown:
                shown = (state.stage.value, state.error)
                yield _stage_event(state)
            for line in batch:
                yield _line_event(line)
            waited = 0.0 if batch else waited + FOLLOW_POLL_SECONDS
            if waited >= KEEPALIVE_SECONDS:
                yield KEEPALIVE
                waited = 0.0

    return StreamingResponse(events(), media_type="text/event-stream", headers=EVENT_HEADERS)


def _line_event(line: LogLine) -> bytes:
    data = json.dumps({"text": line.text, "timestamp": payloads.date(line.at)})
    return f"event: line\nid: {line.seq}\ndata: {data}\n\n".encode()


def _stage_event(state: SpaceState) -> bytes:
    data = json.dumps({"stage": state.stage.value, "error": state.error})
    return f"event: stage\ndata: {data}\n\n".encode()


_LOG = "/spaces" + REPO + "/logs/{kind}"

routes = [
    Route(_LOG, get_log, methods=["GET"]),
    Route(_LOG + "/events", get_events, methods=["GET"]),
]
