"""Space apps through the hub at `/spaces/{ns}/{name}/app/`: the proxy and static Spaces.

The app behind the proxy is a real ASGI app on a loopback port (tests/helpers/space_apps.py);
where it runs is pinned by the test in a stand-in for the runtime service. Streaming is
proven by the order of events (the app waits for the test), never by timing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest
from huggingface_hub import CommitOperationAdd
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hubstead.server.domain.spaces import AppAddress, SpaceSdk, SpaceStage
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer, ThreadedServer, start_server
from tests.helpers.space_apps import PinnedRuntime, Signals, free_port, serve_asgi, upstream_app
from tests.helpers.waiting import wait_until

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def signals() -> Signals:
    return Signals()


@pytest.fixture(scope="module")
def app_port(signals: Signals) -> Iterator[int]:
    with serve_asgi(upstream_app(signals)) as port:
        yield port


@pytest.fixture(scope="module")
def runtime() -> PinnedRuntime:
    return PinnedRuntime()


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, runtime: PinnedRuntime
) -> Iterator[ThreadedServer]:
    server = start_server(
        tmp_path_factory.mktemp("space-apps"), database_url, space_runtime=runtime
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub, "owner")


def running_space(
    owner: HubUser, runtime: PinnedRuntime, port: int, *, private: bool = False, root: str = ""
) -> str:
    space = f"{owner.name}/{unique_name('app')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio", private=private)
    runtime.pin(space, SpaceStage.RUNNING, address=AppAddress("127.0.0.1", port, root))
    return space


def test_a_request_reaches_the_app_with_its_path_query_and_body(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port)
    with httpx.Client(base_url=hub.url) as http:
        bare = http.get(f"/spaces/{space}/app", params={"a": "1"})
        answer = http.post(
            f"/spaces/{space}/app/some/dir%2Fname%20x?q=1&q=2", content=b"hello", timeout=30
        )
    assert bare.status_code == 308
    assert bare.headers["location"] == f"/spaces/{space}/app/?a=1"
    assert answer.status_code == 200, answer.text
    echoed = answer.json()
    assert (echoed["method"], echoed["path"], echoed["query"]) == (
        "POST",
        "/some/dir%2Fname%20x",
        "q=1&q=2",
    )
    assert echoed["size"] == 5
    assert runtime.requests[space] == 2 - 1  # the redirect is answered without the app


def test_the_apps_root_path_prefixes_what_it_is_sent(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port, root="/under/here")
    answer = httpx.get(f"{hub.url}/spaces/{space}/app/?x=1")
    assert answer.json()["path"] == "/under/here/"
    moved = httpx.get(f"{hub.url}/spaces/{space}/app/redirect")
    # The app's redirect to itself points at its public URL.
    assert moved.status_code == 302
    assert moved.headers["location"] == f"/spaces/{space}/app/echo?moved=1"


def test_the_hubs_credentials_never_reach_the_app(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port, private=True)
    cookies = "hubstead_session=abc; theirs=1; hubstead_csrf=def; hubstead_space=ghi; more=2"
    answer = httpx.get(
        f"{hub.url}/spaces/{space}/app/echo",
        headers={"authorization": f"Bearer {owner.token}", "cookie": cookies},
    )
    assert answer.status_code == 200, answer.text
    headers = dict(answer.json()["headers"])
    assert "authorization" not in headers
    assert headers["cookie"] == "theirs=1; more=2"
    assert headers["x-forwarded-prefix"] == f"/spaces/{space}/app"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{hub.port}"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "127.0.0.1"


def test_the_app_cannot_set_the_hubs_cookies_or_other_hosts(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port)
    answer = httpx.get(f"{hub.url}/spaces/{space}/app/cookies")
    set_cookies = answer.headers.get_list("set-cookie")
    assert [c.split("=")[0] for c in set_cookies] == ["app_cookie"]
    # A service worker of the app may not reach beyond its path on the hub's origin.
    assert "service-worker-allowed" not in answer.headers


def test_events_reach_the_client_while_the_app_is_still_sending(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int, signals: Signals
) -> None:
    space = running_space(owner, runtime, app_port)
    with httpx.stream("GET", f"{hub.url}/spaces/{space}/app/events", timeout=60) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == "data: first"
        # The app has not sent its second event: it waits for this test to say so.
        assert not signals.events_finished.is_set()
        signals.release_events.set()
        assert [line for line in lines if line] == ["data: second"]


def test_an_upload_is_streamed_to_the_app_as_it_is_sent(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int, signals: Signals
) -> None:
    space = running_space(owner, runtime, app_port)
    piece = b"p" * (1 << 20)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        digest.update(piece)
        yield piece
        # Until the app has the first MiB, the rest is not sent: a proxy that waited for the
        # whole body would never get it.
        assert signals.first_chunk.wait(60), "the app did not get the first chunk"
        for _ in range(15):
            digest.update(piece)
            yield piece

    answer = httpx.put(f"{hub.url}/spaces/{space}/app/upload", content=body(), timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["size"] == 16 << 20
    assert answer.json()["sha256"] == digest.hexdigest()


def test_a_large_answer_is_passed_on_whole(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port)
    size = 48 << 20
    received = 0
    with httpx.stream("GET", f"{hub.url}/spaces/{space}/app/large?size={size}") as answer:
        assert answer.headers["content-length"] == str(size)
        for chunk in answer.iter_raw():
            received += len(chunk)
    assert received == size


def test_websockets_are_joined_both_ways_with_their_close_codes(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int, signals: Signals
) -> None:
    space = running_space(owner, runtime, app_port, private=True)
    url = f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws"
    headers = {"authorization": f"Bearer {owner.token}", "cookie": "hubstead_session=x; a=b"}
    with connect(url, subprotocols=["chat"], additional_headers=headers) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        hello = json.loads(ws.recv())
        seen = dict(hello["headers"])
        assert "authorization" not in seen
        assert seen["cookie"] == "a=b"
        assert seen["x-forwarded-prefix"] == f"/spaces/{space}/app"
        ws.send("text message")
        assert ws.recv() == "text message"
        ws.send(b"\x00\x01binary")
        assert ws.recv() == b"\x00\x01binary"
        ws.send("close:4001")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "asked to")

    with connect(url, additional_headers=headers) as ws:
        ws.recv()
        ws.close(code=4002)
    wait_until(lambda: 4002 in signals.client_closes, "the app to see the client's close code")


def test_an_app_that_does_not_answer_is_a_502(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime
) -> None:
    space = f"{owner.name}/{unique_name('down')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio")
    runtime.pin(space, SpaceStage.RUNNING, address=AppAddress("127.0.0.1", free_port()))
    answer = httpx.get(f"{hub.url}/spaces/{space}/app/")
    assert answer.status_code == 502
    assert "not reachable" in answer.json()["error"]
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 502


@pytest.mark.parametrize(
    ("stage", "error", "retry", "says"),
    [
        (SpaceStage.BUILDING, None, "5", "is being built"),
        (SpaceStage.SLEEPING, None, "5", "waking up"),
        (SpaceStage.PAUSED, None, "60", "paused"),
        (SpaceStage.RUNTIME_ERROR, "exit code 1: ZeroDivisionError", "60", "ZeroDivisionError"),
    ],
)
def test_a_space_that_is_not_serving_says_why(
    hub: LiveServer,
    owner: HubUser,
    runtime: PinnedRuntime,
    stage: SpaceStage,
    error: str | None,
    retry: str,
    says: str,
) -> None:
    space = f"{owner.name}/{unique_name('idle')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio")
    runtime.pin(space, stage, error=error)
    page = httpx.get(f"{hub.url}/spaces/{space}/app/", headers=HTML)
    api = httpx.get(f"{hub.url}/spaces/{space}/app/run/predict")
    assert (page.status_code, api.status_code) == (503, 503)
    assert page.headers["retry-after"] == api.headers["retry-after"] == retry
    assert page.headers["content-type"].startswith("text/html")
    assert stage.value in page.text and says in page.text
    assert api.json()["stage"] == stage.value
    assert says in api.json()["error"]
    # Each request is recorded: it is what wakes a sleeping Space.
    assert runtime.requests[space] == 2
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/queue/join")
    assert refused.value.response.status_code == 503


def test_a_private_space_is_not_found_by_others(
    hub: LiveServer, owner: HubUser, runtime: PinnedRuntime, app_port: int
) -> None:
    space = running_space(owner, runtime, app_port, private=True)
    stranger = make_user(hub, "stranger")
    url = f"{hub.url}/spaces/{space}/app/echo"
    anonymous = httpx.get(url)
    other = httpx.get(url, headers={"authorization": f"Bearer {stranger.token}"})
    browser = httpx.get(url, headers=HTML)
    # Exactly as its repo: the API asks an anonymous caller for a token, a page says 404.
    assert anonymous.status_code == 401
    assert anonymous.headers["x-error-code"] == "RepoNotFound"
    assert other.status_code == 404
    assert other.headers["x-error-code"] == "RepoNotFound"
    assert browser.status_code == 404
    assert runtime.requests.get(space, 0) == 0
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 404
    with pytest.raises(InvalidStatus):
        connect(
            f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws",
            additional_headers={"authorization": f"Bearer {stranger.token}"},
        )


@pytest.fixture(scope="module")
def static_space(hub: LiveServer, owner: HubUser, runtime: PinnedRuntime) -> str:
    space = f"{owner.name}/{unique_name('site')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="static")
    owner.api.create_commit(
        space,
        repo_type="space",
        commit_message="a site",
        operations=[
            CommitOperationAdd("README.md", b"---\nsdk: static\napp_file: home.html\n---\n"),
            CommitOperationAdd("home.html", b"<!doctype html><title>Home</title><p>hello"),
            CommitOperationAdd("style.css", b"p { color: red }"),
            CommitOperationAdd("docs/index.html", b"<p>docs"),
            CommitOperationAdd("model.bin", bytes(range(256)) * 4096),
        ],
    )
    runtime.pin(space, SpaceStage.RUNNING, sdk=SpaceSdk.STATIC)
    return space


def test_a_static_space_is_served_from_its_files(hub: LiveServer, static_space: str) -> None:
    base = f"{hub.url}/spaces/{static_space}/app"
    with httpx.Client() as http:
        home = http.get(base + "/")
        again = http.get(base + "/", headers={"if-none-match": home.headers["etag"]})
        style = http.get(base + "/style.css")
        docs = http.get(base + "/docs/")
        large = http.get(base + "/model.bin")
    assert home.status_code == 200
    assert home.text.endswith("<p>hello")
    assert home.headers["content-type"] == "text/html; charset=utf-8"
    assert again.status_code == 304
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert docs.text == "<p>docs"
    # An LFS file: its bytes, from the blob store, with its sha256 as ETag.
    assert large.content == bytes(range(256)) * 4096
    assert large.headers["etag"] == f'"{hashlib.sha256(large.content).hexdigest()}"'
    # On the hub's origin, its scripts run sandboxed, away from the hub's cookies.
    assert home.headers["content-security-policy"].startswith("sandbox allow-scripts")


@pytest.mark.parametrize("path", ["missing.html", ".gitattributes", "docs/../.git/config", ".git"])
def test_a_static_space_serves_no_other_path(hub: LiveServer, static_space: str, path: str) -> None:
    answer = httpx.get(f"{hub.url}/spaces/{static_space}/app/{path}")
    assert answer.status_code in (400, 404), answer.text


def test_without_a_runtime_a_static_space_is_still_served(
    live_server: LiveServer, user: HubUser
) -> None:
    site = f"{user.name}/{unique_name('site')}"
    gradio = f"{user.name}/{unique_name('demo')}"
    user.api.create_repo(site, repo_type="space", space_sdk="static")
    user.api.upload_file(
        path_or_fileobj=b"<p>no runtime needed",
        path_in_repo="index.html",
        repo_id=site,
        repo_type="space",
    )
    user.api.create_repo(gradio, repo_type="space", space_sdk="gradio")
    user.api.upload_file(
        path_or_fileobj=b"import gradio",
        path_in_repo="app.py",
        repo_id=gradio,
        repo_type="space",
    )
    served = httpx.get(f"{live_server.url}/spaces/{site}/app/")
    idle = httpx.get(f"{live_server.url}/spaces/{gradio}/app/")
    assert (served.status_code, served.text) == (200, "<p>no runtime needed")
    assert idle.status_code == 503
    assert idle.json()["error"] == f"The gradio app of {gradio} is not running"
