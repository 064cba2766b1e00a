"""A Space app to proxy to, served by uvicorn on loopback, and a runtime that says where it is.

`upstream_app` is what the hub's proxy is tested against: it echoes requests (with what it
received of their headers and bodies), streams server-sent events paced by the test (not by
sleeps), echoes websocket messages and closes with the code it is asked for, and sets cookies.
`serve_asgi` runs it (or any ASGI app) in a thread on a free port.

`PinnedRuntime` stands in for the Space runtime service (`SpaceRuntimeService`, built on
another branch) behind the `RuntimeStates` Protocol the proxy routes use: the test pins each
Space's state (its stage and its app's address) and reads back how many requests reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket, WebSocketDisconnect

from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import AppAddress, SpaceSdk, SpaceStage, SpaceState


@dataclasses.dataclass
class Signals:
    """Events the upstream and the test wait on each other with (threads: both sides)."""

    first_chunk: threading.Event = dataclasses.field(default_factory=threading.Event)
    release_events: threading.Event = dataclasses.field(default_factory=threading.Event)
    events_finished: threading.Event = dataclasses.field(default_factory=threading.Event)
    # The close codes of the websockets the client side closed, as the app received them.
    client_closes: list[int] = dataclasses.field(default_factory=list)


def upstream_app(signals: Signals) -> Starlette:
    """The app a Space would run (see the module docstring)."""

    async def echo(request: Request) -> Response:
        path = request.scope["raw_path"].decode()
        if path.endswith("/redirect"):
            # A redirect to another page of the app, as an app that knows its address writes.
            root = path.removesuffix("/redirect")
            return RedirectResponse(f"http://{request.url.netloc}{root}/echo?moved=1", 302)
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            if chunk:
                signals.first_chunk.set()
            digest.update(chunk)
            size += len(chunk)
        return JSONResponse(
            {
                "method": request.method,
                "path": path,
                "query": request.url.query,
                "headers": [[k, v] for k, v in request.headers.items()],
                "size": size,
                "sha256": digest.hexdigest(),
            }
        )

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            # The second event waits for the test, which has the first one by then.
            await asyncio.to_thread(signals.release_events.wait, 60)
            yield b"data: second\n\n"
            signals.events_finished.set()

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def cookies(request: Request) -> Response:
        response = Response("cookies", headers={"service-worker-allowed": "/"})
        response.set_cookie("hubstead_session", "from-the-app")
        response.set_cookie("app_cookie", "kept")
        response.set_cookie("shared", "tossed", domain="spaces.test")
        return response

    async def large(request: Request) -> Response:
        size = int(request.query_params["size"])

        async def chunks() -> AsyncIterator[bytes]:
            sent = 0
            while sent < size:
                piece = min(1 << 20, size - sent)
                yield b"x" * piece
                sent += piece

        return StreamingResponse(chunks(), headers={"content-length": str(size)})

    async def websocket_echo(websocket: WebSocket) -> None:
        protocols = websocket.scope.get("subprotocols", [])
        await websocket.accept(subprotocol=protocols[0] if protocols else None)
        await websocket.send_json(
            {"headers": [[k, v] for k, v in websocket.headers.items()], "path": websocket.url.path}
        )
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    signals.client_closes.append(message.get("code", 1000))
                    return
                if message.get("text", "").startswith("close:"):
                    await websocket.close(code=int(message["text"][6:]), reason="asked to")
                    return
                if message.get("bytes") is not None:
                    await websocket.send_bytes(message["bytes"])
                else:
                    await websocket.send_text(message["text"])
        except WebSocketDisconnect as exc:
            signals.client_closes.append(exc.code)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(
        routes=[
            Route("/events", events),
            Route("/cookies", cookies),
            Route("/large", large),
            Route("/{path:path}", echo, methods=methods),
            WebSocketRoute("/ws", websocket_echo),
        ]
    )


@contextlib.contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[int]:
    """Serve `app` with uvicorn in a thread on a free loopback port; the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the upstream app did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PinnedRuntime:
    """Space states set by the test, by repo id (see the module docstring)."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[SpaceStage, SpaceSdk, AppAddress | None, str | None]] = {}
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()

    def pin(
        self,
        repo_id: str,
        stage: SpaceStage,
        sdk: SpaceSdk = SpaceSdk.GRADIO,
        address: AppAddress | None = None,
        error: str | None = None,
    ) -> None:
        """Say what the Space `repo_id` is doing from now on."""
        with self._lock:
            self._states[repo_id] = (stage, sdk, address, error)

    def state(self, repo: RepoRecord) -> SpaceState:
        with self._lock:
            stage, sdk, address, error = self._states.get(
                repo.repo_id, (SpaceStage.STOPPED, SpaceSdk.GRADIO, None, None)
            )
        return SpaceState(
            repo_id=repo.id,
            stage=stage,
            sdk=sdk,
            requested_hardware="cpu-basic",
            sleep_seconds=None,
            commit=None,
            address=address,
            owner=None,
            error=error,
            volumes=(),
            updated_at=dt.datetime.now(dt.UTC),
            last_request_at=None,
        )

    def record_request(self, repo: RepoRecord) -> SpaceState:
        with self._lock:
            self.requests[repo.repo_id] = self.requests.get(repo.repo_id, 0) + 1
        return self.state(repo)
