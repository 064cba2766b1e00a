"""Space runtime endpoints: the app's state, its owners' controls, its logs, what the hub offers.

Serves: `GET /api/spaces/{repo}/runtime`; `POST /api/spaces/{repo}/hardware` (`{flavor,
sleepTimeSeconds?}`), `/sleeptime` (`{seconds}`), `/pause`, `/restart` (`?factory=true`),
`/dev-mode` (`{enabled}`), each answering the runtime; `PUT|DELETE /api/spaces/{repo}/volumes`;
`GET /api/spaces/{repo}/logs/{build|run}` (server-sent events `data: {"data", "timestamp"}`:
the log so far, then each new line until the client goes; `?follow=false` ends after the log
so far);
`GET /api/spaces/hardware` and `GET /api/spaces/templates`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.spaces import LogKind, LogLine, SpaceState, SpaceVolume
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    call,
    flag,
    identity,
    param,
    read_json_object,
    repo_id,
    services,
)

_SPACE = "/api/spaces/{namespace}/{name}"
FOLLOW_POLL_SECONDS = 0.5
"""How often a follower looks for new lines."""
KEEPALIVE_SECONDS = 15.0
KEEPALIVE = b": keep-alive\n\n"
"""A comment line of an event stream, sent after `KEEPALIVE_SECONDS` of silence."""
EVENT_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
"""The headers of an event stream: never cached, never buffered by a proxy."""


def _runtime(state: SpaceState) -> Response:
    return JSONResponse(payloads.space_runtime(state))


async def get_runtime(request: Request) -> Response:
    """The Space's runtime, for whoever may see the Space."""
    caller = await identity(request)
    return _runtime(await call(services(request).space_runtime.runtime, caller, repo_id(request)))


async def request_hardware(request: Request) -> Response:
    """Ask for a hardware flavor (`cpu-basic` is the one there is)."""
    body = await read_json_object(request)
    flavor = body.get("flavor")
    if not isinstance(flavor, str):
        raise errors.InvalidRequestError("'flavor' must be a hardware name, e.g. cpu-basic")
    sleep = _optional_int(body, "sleepTimeSeconds")
    caller = await identity(request)
    runtime = services(request).space_runtime
    state = await call(runtime.request_hardware, caller, repo_id(request), flavor, sleep)
    return _runtime(state)


async def set_sleep_time(request: Request) -> Response:
    """Stop the app after that many idle seconds (-1: never)."""
    body = await read_json_object(request)
    seconds = _optional_int(body, "seconds")
    if seconds is None:
        raise errors.InvalidRequestError("'seconds' must be an integer (-1: never sleep)")
    caller = await identity(request)
    runtime = services(request).space_runtime
    return _runtime(await call(runtime.set_sleep_time, caller, repo_id(request), seconds))


async def pause(request: Request) -> Response:
    """Stop the app until a restart."""
    caller = await identity(request)
    return _runtime(await call(services(request).space_runtime.pause, caller, repo_id(request)))


async def restart(request: Request) -> Response:
    """Build and start the app again (`?factory=true`: without caches)."""
    factory = flag(request, "factory")
    caller = await identity(request)
    runtime = services(request).space_runtime
    return _runtime(await call(runtime.restart, caller, repo_id(request), factory=factory))


async def dev_mode(request: Request) -> Response:
    """Dev mode: enabling it is refused (after the access check) with a clear 400."""
    body = await read_json_object(request, allow_empty=True)
    caller = await identity(request)
    runtime = services(request).space_runtime
    enabled = bool(body.get("enabled", True))
    return _runtime(await call(runtime.set_dev_mode, caller, repo_id(request), enabled))


async def set_volumes(request: Request) -> Response:
    """Replace the repos to mount into the app."""
    body = await read_json_object(request)
    volumes = space_volumes(body.get("volumes"))
    caller = await identity(request)
    runtime = services(request).space_runtime
    await call(runtime.set_volumes, caller, repo_id(request), volumes)
    return JSONResponse({})


async def delete_volumes(request: Request) -> Response:
    """Unmount every volume."""
    caller = await identity(request)
    await call(services(request).space_runtime.delete_volumes, caller, repo_id(request))
    return JSONResponse({})


async def logs(request: Request) -> Response:
    """The build or run log as server-sent events; with `follow`, new lines as they come."""
    try:
        kind = LogKind(param(request, "kind"))
    except ValueError:
        raise errors.InvalidRequestError("A Space's logs are 'build' or 'run'") from None
    # The Hub always follows: `huggingface_hub` sends no parameter, and without `follow` ends
    # its read after 5 s of silence. `follow=false` (hubstead's client) ends after the history.
    follow = flag(request, "follow", default=True)
    caller = await identity(request)
    target = repo_id(request)
    runtime = services(request).space_runtime
    # The first call checks access before the response starts: a refusal is a plain error.
    lines = await call(runtime.logs, caller, target, kind)

    async def read(after: int) -> list[LogLine]:
        return await call(runtime.logs, caller, target, kind, after)

    async def events() -> AsyncIterator[bytes]:
        waited = 0.0
        async for batch in followed(request, read, lines):
            for line in batch:
                yield _event(line)
            if batch:
                waited = 0.0
            elif not follow:
                return
            else:
                waited += FOLLOW_POLL_SECONDS
                if waited >= KEEPALIVE_SECONDS:
                    yield KEEPALIVE
                    waited = 0.0

    return StreamingResponse(events(), media_type="text/event-stream", headers=EVENT_HEADERS)


async def followed(
    request: Request,
    read: Callable[[int], Awaitable[list[LogLine]]],
    lines: list[LogLine],
    after: int = -1,
) -> AsyncIterator[list[LogLine]]:
    """`lines` (numbered above `after`), then each batch of later lines `read(last)` gives.

    After a batch with lines the next is read at once (a long log comes a page at a time);
    after an empty one, which is yielded too (the caller may keep its stream alive), once
    `FOLLOW_POLL_SECONDS` passed. Ends when the client goes, or when `read` is refused
    (access withdrawn, the Space deleted).
    """
    last = after
    while True:
        yield lines
        if lines:
            last = lines[-1].seq
        else:
            if await request.is_disconnected():
                return
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
        try:
            lines = await read(last)
        except errors.HubError:
            return


def _event(line: LogLine) -> bytes:
    data = json.dumps({"data": line.text + "\n", "timestamp": payloads.date(line.at)})
    return f"data: {data}\n\n".encode()


async def hardware(request: Request) -> Response:
    """The hardware flavors this hub offers: its own machine, as `cpu-basic`."""
    return JSONResponse(
        [
            {
                "name": h.name,
                "prettyName": h.pretty_name,
                "cpu": f"{h.cpu_count} vCPU",
                "ram": "unknown" if h.ram_bytes is None else f"{h.ram_bytes / 1e9:.0f} GB",
                "accelerator": None,
                "unitCostMicroUSD": 0,
                "unitCostUSD": 0.0,
                "unitLabel": "hour",
            }
            for h in services(request).space_runtime.hardware()
        ]
    )


async def templates(request: Request) -> Response:
    """The templates a new Space may start from (`create_repo(space_template=...)`)."""
    return JSONResponse(
        {
            "templates": [
                {"name": t.name, "repoId": t.repo_id, "sdk": t.sdk.value, "preferredPrivate": False}
                for t in services(request).space_runtime.templates()
            ]
        }
    )


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.InvalidRequestError(f"{name!r} must be an integer")
    return value


def space_volumes(raw: object) -> list[SpaceVolume]:
    """The `volumes` of a request body (`set_space_volumes`, `create_repo`)."""
    if not isinstance(raw, list):
        raise errors.InvalidRequestError("'volumes' must be a list of volumes")
    return [_volume(item) for item in raw]


def _volume(item: object) -> SpaceVolume:
    if not isinstance(item, dict):
        raise errors.InvalidRequestError("Each volume must be an object")
    fields = {}
    for key in ("type", "source", "mountPath", "revision", "path"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise errors.InvalidRequestError(f"A volume's {key!r} must be a string")
        fields[key] = value
    if not fields["source"] or not fields["mountPath"]:
        raise errors.InvalidRequestError("A volume needs a 'source' and a 'mountPath'")
    if item.get("readOnly") is False:
        raise errors.InvalidRequestError("Repos are mounted read-only: 'readOnly' cannot be false")
    return SpaceVolume(
        kind=fields["type"] or "model",
        source=fields["source"],
        mount_path=fields["mountPath"],
        revision=fields["revision"] or "main",
        path=fields["path"],
    )


routes = [
    Route("/api/spaces/hardware", hardware, methods=["GET"]),
    Route("/api/spaces/templates", templates, methods=["GET"]),
    Route(_SPACE + "/runtime", get_runtime, methods=["GET"]),
    Route(_SPACE + "/hardware", request_hardware, methods=["POST"]),
    Route(_SPACE + "/sleeptime", set_sleep_time, methods=["POST"]),
    Route(_SPACE + "/pause", pause, methods=["POST"]),
    Route(_SPACE + "/restart", restart, methods=["POST"]),
    Route(_SPACE + "/dev-mode", dev_mode, methods=["POST"]),
    Route(_SPACE + "/volumes", set_volumes, methods=["PUT"]),
    Route(_SPACE + "/volumes", delete_volumes, methods=["DELETE"]),
    Route(_SPACE + "/logs/{kind}", logs, methods=["GET"]),
]
