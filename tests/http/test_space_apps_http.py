"""Space apps through the hub at `/spaces/{ns}/{name}/app/`: the proxy and static Spaces.

The apps behind the proxy are Spaces' apps that the hub's local runner runs (tests/helpers/
space_apps.py); the hub runs no jobs, so a Space is built when the test says so, and its clock
moves by hand. Streaming is proven by the order of events (the app waits for the test, told
through its own control endpoints), never by timing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from huggingface_hub import CommitOperationAdd
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hubstead.server.domain.spaces import SpaceStage
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clock import ManualClock
from tests.helpers.live_server import ThreadedServer
from tests.helpers.space_apps import (
    build,
    committed_space,
    control,
    running_space,
    space_record,
)
from tests.helpers.spaces import space_hub
from tests.helpers.waiting import wait_until

HTML = {"accept": "text/html,application/xhtml+xml"}
EXITING_APP = b"""print("about to fail with s3cr3t", flush=True)
print(1 / 0)
"""
"""An app that fails, its last lines telling what only its writers may read."""


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, clock: ManualClock
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "space-apps", clock=clock) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture(scope="module")
def space(hub: ThreadedServer, owner: HubUser) -> str:
    """A public Space running the upstream app, for the tests that only read it."""
    return running_space(hub, owner)


@pytest.fixture(scope="module")
def private_space(hub: ThreadedServer, owner: HubUser) -> str:
    """A private Space running the upstream app, for the tests that only read it."""
    return running_space(hub, owner, private=True)


def test_a_request_reaches_the_app_with_its_path_query_and_body(
    hub: ThreadedServer, owner: HubUser, space: str
) -> None:
    marker = unique_name("bare")
    with httpx.Client(base_url=hub.url) as http:
        bare = http.get(f"/spaces/{space}/app", params={"a": marker})
        answer = http.post(
            f"/spaces/{space}/app/some/dir%2Fname%20x?q=1&q=2", content=b"hello", timeout=30
        )
    assert bare.status_code == 308
    assert bare.headers["location"] == f"/spaces/{space}/app/?a={marker}"
    assert answer.status_code == 200, answer.text
    echoed = answer.json()
    assert (echoed["method"], echoed["path"], echoed["query"]) == (
        "POST",
        "/some/dir%2Fname%20x",
        "q=1&q=2",
    )
    assert echoed["size"] == 5
    # The redirect is answered without the app.
    with control(hub, owner, space) as app:
        assert not [seen for seen in app.get("/control/seen").json() if marker in seen]


def test_the_apps_redirects_to_itself_point_at_its_public_url(
    hub: ThreadedServer, space: str
) -> None:
    moved = httpx.get(f"{hub.url}/spaces/{space}/app/redirect")
    # The app's redirect to its own address points at its public URL.
    assert moved.status_code == 302
    assert moved.headers["location"] == f"/spaces/{space}/app/echo?moved=1"


def test_the_hubs_credentials_never_reach_the_app(
    hub: ThreadedServer, owner: HubUser, private_space: str
) -> None:
    cookies = "hubstead_session=abc; theirs=1; hubstead_csrf=def; hubstead_space=ghi; more=2"
    answer = httpx.get(
        f"{hub.url}/spaces/{private_space}/app/echo",
        headers={"authorization": f"Bearer {owner.token}", "cookie": cookies},
    )
    assert answer.status_code == 200, answer.text
    headers = dict(answer.json()["headers"])
    assert "authorization" not in headers
    assert headers["cookie"] == "theirs=1; more=2"
    assert headers["x-forwarded-prefix"] == f"/spaces/{private_space}/app"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{hub.port}"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-for"] == "127.0.0.1"


def test_the_app_cannot_set_the_hubs_cookies_or_other_hosts(
    hub: ThreadedServer, space: str
) -> None:
    answer = httpx.get(f"{hub.url}/spaces/{space}/app/cookies")
    set_cookies = answer.headers.get_list("set-cookie")
    assert [c.split("=")[0] for c in set_cookies] == ["app_cookie"]
    # A service worker of the app may not reach beyond its path on the hub's origin.
    assert "service-worker-allowed" not in answer.headers


def test_events_reach_the_client_while_the_app_is_still_sending(
    hub: ThreadedServer, owner: HubUser, space: str
) -> None:
    stream = unique_name("stream")
    url = f"{hub.url}/spaces/{space}/app/events?stream={stream}"
    with httpx.stream("GET", url, timeout=60) as events, control(hub, owner, space) as app:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == "data: first"
        # The app has not sent its second event: it waits for this test to say so.
        released = app.post("/control/release", params={"stream": stream})
        assert released.json() == {"sent_before": 1}
        assert [line for line in lines if line] == ["data: second"]


def test_an_upload_is_streamed_to_the_app_as_it_is_sent(
    hub: ThreadedServer, owner: HubUser, space: str
) -> None:
    upload = unique_name("upload")
    piece = b"p" * (1 << 20)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        digest.update(piece)
        yield piece
        # Until the app has the first MiB, the rest is not sent: a proxy that waited for the
        # whole body would never get it.
        with control(hub, owner, space) as app:
            arrived = app.get("/control/first-chunk", params={"upload": upload})
        assert arrived.json() == {"arrived": True}, "the app did not get the first chunk"
        for _ in range(15):
            digest.update(piece)
            yield piece

    answer = httpx.put(
        f"{hub.url}/spaces/{space}/app/upload?upload={upload}", content=body(), timeout=90
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["size"] == 16 << 20
    assert answer.json()["sha256"] == digest.hexdigest()


def test_a_large_answer_is_passed_on_whole(hub: ThreadedServer, space: str) -> None:
    size = 48 << 20
    received = 0
    url = f"{hub.url}/spaces/{space}/app/large?size={size}"
    with httpx.stream("GET", url, timeout=60) as answer:
        assert answer.headers["content-length"] == str(size)
        for chunk in answer.iter_raw():
            received += len(chunk)
    assert received == size


def test_websockets_are_joined_both_ways_with_their_close_codes(
    hub: ThreadedServer, owner: HubUser, private_space: str
) -> None:
    url = f"ws://127.0.0.1:{hub.port}/spaces/{private_space}/app/ws"
    headers = {"authorization": f"Bearer {owner.token}", "cookie": "hubstead_session=x; a=b"}
    with connect(url, subprotocols=["chat"], additional_headers=headers) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        hello = json.loads(ws.recv())
        seen = dict(hello["headers"])
        assert "authorization" not in seen
        assert seen["cookie"] == "a=b"
        assert seen["x-forwarded-prefix"] == f"/spaces/{private_space}/app"
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
    with control(hub, owner, private_space) as app:
        wait_until(
            lambda: 4002 in app.get("/control/closes").json(),
            "the app to see the client's close code",
        )


def test_an_app_that_does_not_answer_is_a_502(hub: ThreadedServer, owner: HubUser) -> None:
    space = running_space(hub, owner, name="down")
    with control(hub, owner, space) as app:
        assert app.post("/control/stop-listening").json() == {"listening": False}
    answer = httpx.get(f"{hub.url}/spaces/{space}/app/")
    assert answer.status_code == 502
    assert "not reachable" in answer.json()["error"]
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 502
    # The app is alive: the Space is still running, for the hub.
    assert owner.api.get_space_runtime(space).stage == SpaceStage.RUNNING.value


def _building(hub: ThreadedServer, owner: HubUser) -> str:
    return committed_space(owner, {"app.py": b"import gradio"}, name="idle")


def _paused(hub: ThreadedServer, owner: HubUser) -> str:
    space = running_space(hub, owner, name="idle")
    owner.api.pause_space(space)
    return space


def _failed(hub: ThreadedServer, owner: HubUser) -> str:
    space = committed_space(owner, {"app.py": EXITING_APP}, name="idle")
    assert build(hub, owner, space) == SpaceStage.RUNTIME_ERROR.value
    # Its writers read its last lines in its runtime; its visitors get its first line only.
    assert "ZeroDivisionError" in owner.api.get_space_runtime(space).raw["errorMessage"]
    return space


@pytest.mark.parametrize(
    ("make", "stage", "retry", "says"),
    [
        (_building, SpaceStage.BUILDING, "5", "is being built"),
        (_paused, SpaceStage.PAUSED, "60", "paused"),
        (_failed, SpaceStage.RUNTIME_ERROR, "60", "The app exited with status 1"),
    ],
)
def test_a_space_that_is_not_serving_says_why(
    hub: ThreadedServer,
    owner: HubUser,
    clock: ManualClock,
    make: Callable[[ThreadedServer, HubUser], str],
    stage: SpaceStage,
    retry: str,
    says: str,
) -> None:
    space = make(hub, owner)
    page = httpx.get(f"{hub.url}/spaces/{space}/app/", headers=HTML)
    api = httpx.get(f"{hub.url}/spaces/{space}/app/run/predict")
    assert (page.status_code, api.status_code) == (503, 503)
    assert page.headers["retry-after"] == api.headers["retry-after"] == retry
    assert page.headers["content-type"].startswith("text/html")
    assert stage.value in page.text and says in page.text
    assert api.json()["stage"] == stage.value
    assert says in api.json()["error"]
    assert "s3cr3t" not in page.text + api.text
    # The requests are recorded: it is what keeps a Space awake.
    state = hub.services.space_runtime.state_of(space_record(hub, owner, space))
    assert state.last_request_at == clock()
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/queue/join")
    assert refused.value.response.status_code == 503


def test_a_request_to_a_sleeping_space_wakes_it(
    hub: ThreadedServer, owner: HubUser, clock: ManualClock
) -> None:
    space = running_space(hub, owner, name="sleepy")
    with pytest.warns(UserWarning, match="cpu-basic"):
        owner.api.set_space_sleep_time(space, 60)
    clock.advance(61)
    hub.services.space_builds.supervise()
    assert owner.api.get_space_runtime(space).stage == SpaceStage.SLEEPING.value

    page = httpx.get(f"{hub.url}/spaces/{space}/app/", headers=HTML)
    # The request woke it: it is built again, and says so.
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "is being built" in page.text
    assert owner.api.get_space_runtime(space).stage == SpaceStage.BUILDING.value
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 503

    assert build(hub, owner, space) == SpaceStage.RUNNING.value
    assert httpx.get(f"{hub.url}/spaces/{space}/app/echo").json()["path"] == "/echo"


def test_a_private_space_is_not_found_by_others(hub: ThreadedServer, owner: HubUser) -> None:
    space = running_space(hub, owner, private=True)
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
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 404
    with pytest.raises(InvalidStatus):
        connect(
            f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws",
            additional_headers={"authorization": f"Bearer {stranger.token}"},
        )
    # Nothing reached the app, nor counted as a request to it.
    with control(hub, owner, space) as app:
        assert app.get("/control/seen").json() == []
    assert (
        hub.services.space_runtime.state_of(space_record(hub, owner, space)).last_request_at is None
    )


@pytest.fixture(scope="module")
def static_space(hub: ThreadedServer, owner: HubUser) -> str:
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
    assert build(hub, owner, space) == SpaceStage.RUNNING.value
    return space


def test_a_static_space_is_served_from_its_files(hub: ThreadedServer, static_space: str) -> None:
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
def test_a_static_space_serves_no_other_path(
    hub: ThreadedServer, static_space: str, path: str
) -> None:
    answer = httpx.get(f"{hub.url}/spaces/{static_space}/app/{path}")
    assert answer.status_code in (400, 404), answer.text
