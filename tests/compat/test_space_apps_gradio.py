"""A real Gradio app through the hub's proxy, driven by the official `gradio_client`.

The app runs as a Space's would (its public path given as its root path), on a loopback port the
test pins the Space to; the client talks to the hub only: the app's page and config, its queue
(joined over HTTP, results streamed back as server-sent events), a generator's partial outputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hubstead.server.domain.spaces import AppAddress, SpaceStage
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import ThreadedServer, start_server
from tests.helpers.space_apps import PinnedRuntime, serve_asgi

gr = pytest.importorskip("gradio")
fastapi = pytest.importorskip("fastapi")
gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def runtime() -> PinnedRuntime:
    return PinnedRuntime()


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, runtime: PinnedRuntime
) -> Iterator[ThreadedServer]:
    server = start_server(tmp_path_factory.mktemp("gradio"), database_url, space_runtime=runtime)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


def greet(name: str) -> str:
    return f"Hello {name}!"


def count(upto: int) -> Iterator[str]:
    for i in range(1, int(upto) + 1):
        yield str(i)


@pytest.fixture(scope="module")
def space(hub: ThreadedServer, owner: HubUser, runtime: PinnedRuntime) -> Iterator[str]:
    space = f"{owner.name}/{unique_name('gradio')}"
    owner.api.create_repo(space, repo_type="space", space_sdk="gradio", private=True)
    with gr.Blocks() as demo:
        name, greeting = gr.Textbox(), gr.Textbox()
        gr.Button("Greet").click(greet, name, greeting, api_name="greet")
        upto, counted = gr.Number(), gr.Textbox()
        gr.Button("Count").click(count, upto, counted, api_name="count")
    app = gr.mount_gradio_app(fastapi.FastAPI(), demo, path="/", root_path=f"/spaces/{space}/app")
    with serve_asgi(app) as port:
        runtime.pin(space, SpaceStage.RUNNING, address=AppAddress("127.0.0.1", port))
        yield space


def test_gradio_client_calls_a_private_space_through_the_hub(
    hub: ThreadedServer, owner: HubUser, space: str
) -> None:
    url = f"{hub.url}/spaces/{space}/app/"
    page = httpx.get(url, headers={"authorization": f"Bearer {owner.token}"})
    assert page.status_code == 200
    assert "gradio" in page.text.lower()
    # gradio_client sends `token` to *.hf.space only; to another host, as a header.
    client = gradio_client.Client(
        url,
        headers={"authorization": f"Bearer {owner.token}"},
        verbose=False,
        analytics_enabled=False,
    )
    assert client.predict("hub", api_name="/greet") == "Hello hub!"
    job = client.submit(3, api_name="/count")
    assert job.result(timeout=60) == "3"
    assert job.outputs() == ["1", "2", "3"]


def test_the_gradio_app_of_a_private_space_is_closed_to_others(
    hub: ThreadedServer, space: str
) -> None:
    stranger = make_user(hub, "stranger")
    answer = httpx.get(
        f"{hub.url}/spaces/{space}/app/gradio_api/info",
        headers={"authorization": f"Bearer {stranger.token}"},
    )
    assert answer.status_code == 404
