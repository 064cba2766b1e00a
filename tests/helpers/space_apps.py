"""Space apps to test the hub's proxy against, and Spaces that run them for real.

`UPSTREAM_APP` is the `app.py` of a gradio Space that is a plain Starlette app (the gradio
environment has starlette and uvicorn), served by uvicorn on `GRADIO_SERVER_PORT`. It echoes
requests (with what it received of their headers and bodies), streams server-sent events,
echoes websocket messages and closes with the code it is asked for, sets cookies and sends
large answers. Its `/control/...` endpoints, called on the app's own address (`app_url`),
are how a test and the app wait on each other across processes:

- `POST /control/release?stream=ID`: the event stream `GET /events?stream=ID` sends its
  second event; answers how many it had sent before.
- `GET /control/first-chunk?upload=ID`: answers once the first chunk of the body of a request
  with `?upload=ID` arrived (`{"arrived": false}` after a minute without).
- `GET /control/closes`: the close codes of the websockets the client side closed.
- `GET /control/seen`: the paths (with their queries) of the requests it echoed.
- `POST /control/stop-listening`: closes its listening socket; the app stays alive.
- `POST /control/say?line=TEXT`: prints the line (a new line of the Space's run log).

`GET /control/file?path=P` answers what the app sees at `P` (an absolute path of its view):
a folder's entries, or a file's text and sha256, or the error it met; `POST` writes the
request's body there instead. Tests call it through the hub, as visitors would.

`UPSTREAM_FILES` are the files of such a Space: with `websockets`, which uvicorn needs for
websockets and the gradio environment lacks. `GRADIO_APP` is a real Gradio app: a greeter
and a counting generator.
"""

from __future__ import annotations

import httpx
from huggingface_hub import CommitOperationAdd, SpaceStage

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import ThreadedServer

UPSTREAM_APP = b"""import asyncio, hashlib, os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

releases, sent, first_chunks, closes, seen = {}, {}, {}, [], []


def event(table, key):
    return table.setdefault(key, asyncio.Event())


async def echo(request):
    path = request.scope["raw_path"].decode()
    if path.endswith("/redirect"):
        # A redirect to another page of the app, as an app that knows its address writes.
        root = path.removesuffix("/redirect")
        return RedirectResponse(f"http://{request.url.netloc}{root}/echo?moved=1", 302)
    seen.append(f"{path}?{request.url.query}")
    upload = request.query_params.get("upload")
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        if chunk and upload:
            event(first_chunks, upload).set()
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


async def events(request):
    stream_id = request.query_params["stream"]

    async def stream():
        sent[stream_id] = 1
        yield b"data: first\\n\\n"
        # The second event waits for the test, which has the first one by then.
        await event(releases, stream_id).wait()
        sent[stream_id] = 2
        yield b"data: second\\n\\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


async def release(request):
    stream_id = request.query_params["stream"]
    before = sent.get(stream_id, 0)
    event(releases, stream_id).set()
    return JSONResponse({"sent_before": before})


async def first_chunk(request):
    arrived = event(first_chunks, request.query_params["upload"])
    try:
        await asyncio.wait_for(arrived.wait(), 60)
    except asyncio.TimeoutError:
        return JSONResponse({"arrived": False})
    return JSONResponse({"arrived": True})


async def closes_seen(request):
    return JSONResponse(closes)


async def requests_seen(request):
    return JSONResponse(seen)


async def file_at(request):
    path = request.query_params["path"]
    try:
        if request.method == "POST":
            with open(path, "wb") as out:
                out.write(await request.body())
            return JSONResponse({"written": True})
        if os.path.isdir(path):
            return JSONResponse({"entries": sorted(os.listdir(path))})
        with open(path, "rb") as source:
            data = source.read()
    except OSError as exc:
        return JSONResponse({"error": exc.strerror})
    text = data.decode("utf-8", "replace")
    return JSONResponse({"text": text, "sha256": hashlib.sha256(data).hexdigest()})


async def stop_listening(request):
    for listener in server.servers:
        listener.close()
    return JSONResponse({"listening": False})


async def say(request):
    print(request.query_params["line"], flush=True)
    return JSONResponse({"said": True})


async def cookies(request):
    response = Response("cookies", headers={"service-worker-allowed": "/"})
    response.set_cookie("hubstead_session", "from-the-app")
    response.set_cookie("app_cookie", "kept")
    response.set_cookie("shared", "tossed", domain="spaces.test")
    return response


async def large(request):
    size = int(request.query_params["size"])

    async def chunks():
        done = 0
        while done < size:
            piece = min(1 << 20, size - done)
            yield b"x" * piece
            done += piece

    return StreamingResponse(chunks(), headers={"content-length": str(size)})


async def websocket_echo(websocket):
    protocols = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=protocols[0] if protocols else None)
    await websocket.send_json(
        {"headers": [[k, v] for k, v in websocket.headers.items()], "path": websocket.url.path}
    )
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                closes.append(message.get("code", 1000))
                return
            if (message.get("text") or "").startswith("close:"):
                await websocket.close(code=int(message["text"][6:]), reason="asked to")
                return
            if message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"])
            else:
                await websocket.send_text(message["text"])
    except WebSocketDisconnect as exc:
        closes.append(exc.code)


methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
app = Starlette(
    routes=[
        Route("/control/release", release, methods=["POST"]),
        Route("/control/first-chunk", first_chunk),
        Route("/control/closes", closes_seen),
        Route("/control/seen", requests_seen),
        Route("/control/stop-listening", stop_listening, methods=["POST"]),
        Route("/control/say", say, methods=["POST"]),
        Route("/control/file", file_at, methods=["GET", "POST"]),
        Route("/events", events),
        Route("/cookies", cookies),
        Route("/large", large),
        Route("/{path:path}", echo, methods=methods),
        WebSocketRoute("/ws", websocket_echo),
    ]
)
port = int(os.environ["GRADIO_SERVER_PORT"])
server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
print("upstream app starting", flush=True)
server.run()
"""

UPSTREAM_FILES = {"app.py": UPSTREAM_APP, "requirements.txt": b"websockets\n"}

GRADIO_APP = b"""import gradio as gr


def greet(name):
    return f"Hello {name}!"


def count(upto):
    for i in range(1, int(upto) + 1):
        yield str(i)


with gr.Blocks() as demo:
    name, greeting = gr.Textbox(elem_id="name"), gr.Textbox(elem_id="greeting")
    gr.Button("Greet", elem_id="greet").click(greet, name, greeting, api_name="greet")
    upto, counted = gr.Number(), gr.Textbox()
    gr.Button("Count").click(count, upto, counted, api_name="count")

demo.launch()
"""


def space_record(hub: ThreadedServer, owner: HubUser, space: str) -> RepoRecord:
    """The Space's repo row, as its owner sees it."""
    caller = hub.services.auth.authenticate(owner.token)
    return hub.services.repos.locate(caller, RepoType.SPACE, space, Action.READ)


def committed_space(
    owner: HubUser,
    files: dict[str, bytes],
    *,
    private: bool = False,
    name: str = "app",
    space: str | None = None,
) -> str:
    """A new gradio Space of `owner` with `files` (its `app.py` among them), not built yet.

    Its id is `space`, or a new one of `owner`'s starting with `name`.
    """
    space = space or f"{owner.name}/{unique_name(name)}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio", private=private)
    owner.api.create_commit(
        space,
        repo_type="space",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="the app",
    )
    return space


def build(hub: ThreadedServer, owner: HubUser, space: str) -> str:
    """Build the Space and start its app, as its build job would; its stage then."""
    hub.services.space_builds.build(space_record(hub, owner, space).id, note=lambda _: None)
    return owner.api.get_space_runtime(space).stage


def running_space(
    hub: ThreadedServer,
    owner: HubUser,
    files: dict[str, bytes] = UPSTREAM_FILES,
    *,
    private: bool = False,
    name: str = "app",
    space: str | None = None,
) -> str:
    """A new gradio Space of `owner` running the app of `files` (see `committed_space`)."""
    space = committed_space(owner, files, private=private, name=name, space=space)
    stage = build(hub, owner, space)
    assert stage == SpaceStage.RUNNING, owner.api.get_space_runtime(space).raw
    return space


def app_url(hub: ThreadedServer, owner: HubUser, space: str) -> str:
    """The URL of the Space's running app itself (on loopback, past the hub)."""
    address = hub.services.space_runtime.state_of(space_record(hub, owner, space)).address
    assert address is not None, f"{space} has no running app"
    return f"http://{address.host}:{address.port}{address.root_path}"


def control(hub: ThreadedServer, owner: HubUser, space: str) -> httpx.Client:
    """A client of the app's own address, for its `/control/...` endpoints."""
    return httpx.Client(base_url=app_url(hub, owner, space), timeout=90)
