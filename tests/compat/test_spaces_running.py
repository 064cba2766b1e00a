"""Spaces that run, end to end: a static, a Gradio and a Streamlit Space (tiny apps written
here) build, run, answer through the hub, restart, sleep and wake, with logs, secrets and
variables, all through the official client.

The hub runs its jobs and its outbox thread, with the real local runner (environments from
the test wheelhouse); its clock is moved by hand, so a Space's idle time passes when the test
says so and the supervisor, called directly, puts it to sleep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client as GradioClient
from huggingface_hub import CommitOperationAdd, HfApi, SpaceStage
from huggingface_hub.errors import HfHubHTTPError
from websockets.sync.client import connect

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clock import ManualClock
from tests.helpers.live_server import ThreadedServer
from tests.helpers.spaces import space_hub
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.slow

GRADIO_APP = b"""import os

import gradio as gr


def greet(name):
    secret = "with" if os.environ.get("API_KEY") == "s3cr3t" else "without"
    return f"{os.environ.get('GREETING', 'Hello')} {name}, {secret} the secret"


print("the greeter starts", flush=True)
gr.Interface(greet, "text", "text", api_name="greet").launch()
"""

STREAMLIT_APP = b"""import os

import streamlit as st

st.title("Streamlit on hubstead")
st.write(f"{os.environ.get('GREETING', 'Hello')} from a Space")
"""

STATIC_PAGE = b"<!doctype html><title>Static</title><h1>A static Space</h1>\n"


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "spaces-running", run_jobs=True) as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def clocked_hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None, clock: ManualClock
) -> Iterator[ThreadedServer]:
    """A hub of its own for a test that moves its clock (its logs' times move with it)."""
    with space_hub(
        tmp_path_factory, database_url, "spaces-clocked", run_jobs=True, clock=clock
    ) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


def _space(owner: HubUser, sdk: str, files: dict[str, bytes], **create: object) -> str:
    space = f"{owner.name}/{unique_name(sdk)}"
    owner.api.create_repo(space, repo_type="space", space_sdk=sdk, **create)  # type: ignore[arg-type]
    readme = f"---\ntitle: {sdk} test\nsdk: {sdk}\n---\n".encode()
    owner.api.create_commit(
        space,
        repo_type="space",
        operations=[
            CommitOperationAdd(path, data) for path, data in {"README.md": readme, **files}.items()
        ],
        commit_message=f"A {sdk} app",
    )
    return space


def _running(api: HfApi, space: str) -> None:
    runtime = api.wait_for_space(space, timeout=300)
    assert runtime.stage == SpaceStage.RUNNING, runtime.raw


def _auth(user: HubUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def _app_url(hub: ThreadedServer, space: str) -> str:
    return f"{hub.url}/spaces/{space}/app/"


def _greeter(hub: ThreadedServer, owner: HubUser, space: str) -> GradioClient:
    # gradio_client sends `token` to *.hf.space only; to another host, as a header.
    return GradioClient(
        _app_url(hub, space), headers=_auth(owner), verbose=False, analytics_enabled=False
    )


def _run_log(owner: HubUser, space: str) -> str:
    return "".join(owner.api.fetch_space_logs(space, follow=False))


def _put_to_sleep(hub: ThreadedServer, owner: HubUser, clock: ManualClock, space: str) -> None:
    # The client warns that huggingface.co's free hardware sleeps after 48 h whatever is asked;
    # this hub's does as it is told.
    with pytest.warns(UserWarning, match="cpu-basic"):
        owner.api.set_space_sleep_time(space, 60)
    clock.advance(61)
    hub.services.space_builds.supervise()
    assert owner.api.get_space_runtime(space).stage == "SLEEPING"


def test_a_gradio_space_runs_answers_restarts_sleeps_and_wakes(
    clocked_hub: ThreadedServer, clock: ManualClock
) -> None:
    hub = clocked_hub
    owner = make_user(hub, "owner")
    space = _space(
        owner,
        "gradio",
        {"app.py": GRADIO_APP},
        space_variables=[{"key": "GREETING", "value": "Bonjour"}],
        space_secrets=[{"key": "API_KEY", "value": "s3cr3t"}],
    )
    _running(owner.api, space)

    greeter = _greeter(hub, owner, space)
    assert greeter.predict("Ada", api_name="/greet") == "Bonjour Ada, with the secret"
    assert owner.api.get_space_secrets(space).keys() == {"API_KEY"}
    build = "".join(owner.api.fetch_space_logs(space, build=True, follow=False))
    assert "Build done; starting the app" in build
    run = "".join(owner.api.fetch_space_logs(space, follow=False))
    assert "the greeter starts" in run
    assert "s3cr3t" not in build + run

    owner.api.add_space_variable(space, "GREETING", "Salut")
    owner.api.restart_space(space)
    _running(owner.api, space)
    greeter = _greeter(hub, owner, space)
    assert greeter.predict("Ada", api_name="/greet") == "Salut Ada, with the secret"

    _put_to_sleep(hub, owner, clock, space)
    asleep = httpx.get(_app_url(hub, space), headers=_auth(owner))
    assert asleep.status_code == 503
    assert asleep.headers["Retry-After"]
    _running(owner.api, space)  # the request woke it
    greeter = _greeter(hub, owner, space)
    assert greeter.predict("Grace", api_name="/greet") == "Salut Grace, with the secret"


def test_a_streamlit_space_runs_and_answers_over_http_and_its_websocket(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = _space(
        owner,
        "streamlit",
        {"app.py": STREAMLIT_APP},
        space_variables=[{"key": "GREETING", "value": "Hej"}],
    )
    _running(owner.api, space)

    health = httpx.get(_app_url(hub, space) + "_stcore/health", headers=_auth(owner))
    assert (health.status_code, health.text) == (200, "ok")
    page = httpx.get(_app_url(hub, space), headers=_auth(owner))
    assert page.status_code == 200
    assert "<title>Streamlit</title>" in page.text
    ws_url = _app_url(hub, space).replace("http://", "ws://") + "_stcore/stream"
    with connect(
        ws_url,
        additional_headers=_auth(owner),
        subprotocols=["streamlit"],  # type: ignore[list-item]
        open_timeout=30,
    ) as stream:
        assert stream.subprotocol == "streamlit"
    wait_until(
        lambda: "You can now view your Streamlit app" in _run_log(owner, space),
        "streamlit's greeting in the run log",
    )

    owner.api.restart_space(space)
    _running(owner.api, space)
    health = httpx.get(_app_url(hub, space) + "_stcore/health", headers=_auth(owner))
    assert health.text == "ok"


def test_a_static_space_is_served_by_the_hub_and_pauses(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = _space(owner, "static", {"index.html": STATIC_PAGE, "data.json": b'{"a": 1}'})
    _running(owner.api, space)

    page = httpx.get(_app_url(hub, space))
    assert page.status_code == 200
    assert page.content == STATIC_PAGE
    assert json.loads(httpx.get(_app_url(hub, space) + "data.json").content) == {"a": 1}

    owner.api.pause_space(space)
    assert owner.api.get_space_runtime(space).stage == "PAUSED"
    assert httpx.get(_app_url(hub, space)).status_code == 503
    owner.api.restart_space(space)
    _running(owner.api, space)
    assert httpx.get(_app_url(hub, space)).content == STATIC_PAGE


def test_a_private_space_app_is_reached_by_its_readers_only(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = _space(owner, "static", {"index.html": STATIC_PAGE}, private=True)
    _running(owner.api, space)
    stranger = make_user(hub, "stranger")

    assert httpx.get(_app_url(hub, space), headers=_auth(owner)).content == STATIC_PAGE
    assert httpx.get(_app_url(hub, space), headers=_auth(stranger)).status_code == 404
    with pytest.raises(HfHubHTTPError) as refused:
        stranger.api.get_space_runtime(space)
    assert refused.value.response.status_code == 404
