"""A real Gradio app through the hub's proxy, driven by the official `gradio_client`.

The app is a private Space's `app.py` (tests/helpers/space_apps.py), run by the hub's local
runner as a Space's would be, told its public path; the client talks to the hub only: the
app's page and config, its queue (joined over HTTP, results streamed back as server-sent
events), a generator's partial outputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client as GradioClient

from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import ThreadedServer
from tests.helpers.space_apps import GRADIO_APP, running_space
from tests.helpers.spaces import space_hub


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "gradio") as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture(scope="module")
def space(hub: ThreadedServer, owner: HubUser) -> str:
    return running_space(hub, owner, {"app.py": GRADIO_APP}, private=True, name="gradio")


def test_gradio_client_calls_a_private_space_through_the_hub(
    hub: ThreadedServer, owner: HubUser, space: str
) -> None:
    url = f"{hub.url}/spaces/{space}/app/"
    page = httpx.get(url, headers={"authorization": f"Bearer {owner.token}"}, timeout=60)
    assert page.status_code == 200
    assert "gradio" in page.text.lower()
    # gradio_client sends `token` to *.hf.space only; to another host, as a header.
    client = GradioClient(
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
