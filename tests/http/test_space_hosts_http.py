"""Space apps on hosts of their own (`spaces_domain`): `{ns}-{name}.spaces.test` → the app.

The hub is reached on 127.0.0.1 with the Space host in the `Host` header, as a wildcard DNS
record would send it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from huggingface_hub import HfApi
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from hubstead.server.domain.accounts import Role
from hubstead.server.domain.spaces import spelled_label
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import ThreadedServer
from tests.helpers.space_apps import build, committed_space, running_space
from tests.helpers.spaces import space_hub

DOMAIN = "spaces.test"


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "space-hosts", spaces_domain=DOMAIN) as server:
        yield server


@pytest.fixture(scope="module")
def owner(hub: ThreadedServer) -> HubUser:
    return make_user(hub, "owner")


def on_host(
    hub: ThreadedServer, label: str, path: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET `path` from the Space host `label` (the hub, by its loopback address)."""
    host = {"host": f"{label}.{DOMAIN}:{hub.port}"}
    return httpx.get(f"{hub.url}{path}", headers={**host, **(headers or {})})


def test_the_path_url_sends_the_browser_to_the_spaces_host(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = running_space(hub, owner, name="My_App")
    moved = httpx.get(f"{hub.url}/spaces/{space}/app/run/x?q=1")
    label = spelled_label(space)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"http://{label}.{DOMAIN}:{hub.port}/run/x?q=1"
    assert label == space.lower().replace("/", "-").replace("_", "-")
    # The app is never served on the hub's origin, websockets included.
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{hub.port}/spaces/{space}/app/ws")
    assert refused.value.response.status_code == 404


def test_a_space_host_serves_its_app_and_nothing_of_the_hub(
    hub: ThreadedServer, owner: HubUser
) -> None:
    space = running_space(hub, owner, name="app")
    label = spelled_label(space)
    answer = on_host(hub, label, "/api/whoami-v2?x=1", headers={"authorization": "Bearer hf_x"})
    assert answer.status_code == 401  # an unknown token: refused by the hub, never forwarded
    answer = on_host(hub, label, "/api/whoami-v2?x=1")
    assert answer.status_code == 200
    echoed = answer.json()
    assert (echoed["path"], echoed["query"]) == ("/api/whoami-v2", "x=1")
    assert dict(echoed["headers"])["x-forwarded-prefix"] == ""
    assert on_host(hub, "nobody-here", "/").status_code == 404
    assert on_host(hub, f"a.{label}", "/").status_code == 404
    bare = httpx.get(f"{hub.url}/api/whoami-v2", headers={"host": DOMAIN})
    assert bare.status_code == 404


def test_websockets_reach_the_app_on_its_host(hub: ThreadedServer, owner: HubUser) -> None:
    space = running_space(hub, owner, name="ws")
    uri = f"ws://{spelled_label(space)}.{DOMAIN}:{hub.port}/ws"
    with connect(uri, sock=socket.create_connection(("127.0.0.1", hub.port))) as ws:
        assert json.loads(ws.recv())["path"] == "/ws"
        ws.send("over the host")
        assert ws.recv() == "over the host"


def test_a_private_space_admits_its_viewers_by_a_pass(hub: ThreadedServer, owner: HubUser) -> None:
    space = running_space(hub, owner, name="secret", private=True)
    label = spelled_label(space)
    stranger = make_user(hub, "stranger")
    assert on_host(hub, label, "/").status_code == 401
    assert on_host(hub, label, "/", headers={"accept": "text/html"}).status_code == 404
    auth = {"authorization": f"Bearer {stranger.token}"}
    assert httpx.get(f"{hub.url}/spaces/{space}/app/", headers=auth).status_code == 404

    moved = httpx.get(
        f"{hub.url}/spaces/{space}/app/page?a=1",
        headers={"authorization": f"Bearer {owner.token}"},
    )
    assert moved.status_code == 307
    target = urlsplit(moved.headers["location"])
    assert target.netloc == f"{label}.{DOMAIN}:{hub.port}"
    token = parse_qs(target.query)["__hubstead_pass"][0]
    admitted = on_host(hub, label, f"{target.path}?{target.query}")
    assert admitted.status_code == 303
    assert admitted.headers["location"] == "/page?a=1"
    cookie = admitted.cookies["hubstead_space"]
    assert "httponly" in admitted.headers["set-cookie"].lower()
    page = on_host(hub, label, "/page", headers={"cookie": f"hubstead_space={cookie}; mine=1"})
    assert page.status_code == 200
    assert dict(page.json()["headers"])["cookie"] == "mine=1"

    # Going on without the pass never leaves the Space's host (a pass serves more than once).
    elsewhere = on_host(hub, label, f"//elsewhere.example/x?__hubstead_pass={token}")
    assert elsewhere.headers["location"] == "/elsewhere.example/x"

    # A pass is for one Space, and cannot be made up.
    other = running_space(hub, owner, name="other")
    assert on_host(hub, spelled_label(other), f"/?__hubstead_pass={token}").status_code == 403
    forged = on_host(hub, label, "/?__hubstead_pass=e30.AAAA")
    assert forged.status_code == 403
    # A Space host's cookie is not a pass to another private Space.
    hidden = running_space(hub, owner, name="hidden", private=True)
    theirs = {"cookie": f"hubstead_space={cookie}"}
    assert on_host(hub, spelled_label(hidden), "/", headers=theirs).status_code == 401


def test_spaces_whose_ids_spell_the_same_host_get_their_row_ids(hub: ThreadedServer) -> None:
    first = make_user(hub, "amb")
    # `{first}/x-y` and `{first}-x/y` are both spelled `{first}-x-y`.
    hub.services.auth.create_user(f"{first.name}-x", fullname="Second", is_admin=False)
    token = hub.services.auth.create_token(f"{first.name}-x", Role.WRITE).secret
    second = HubUser(f"{first.name}-x", token, HfApi(endpoint=hub.url, token=token))
    a = running_space(hub, first, space=f"{first.name}/x-y")
    b = running_space(hub, second, space=f"{second.name}/y")
    assert spelled_label(a) == spelled_label(b)
    assert on_host(hub, spelled_label(a), "/").status_code == 404
    labels = []
    for space in (a, b):
        location = httpx.get(f"{hub.url}/spaces/{space}/app/").headers["location"]
        labels.append(str(urlsplit(location).hostname).split(".")[0])
    assert all(label.isdigit() for label in labels) and labels[0] != labels[1]
    for label in labels:
        assert on_host(hub, label, "/").status_code == 200


def test_a_renamed_space_leaves_its_old_host_to_the_space_that_takes_its_old_id(
    hub: ThreadedServer, owner: HubUser
) -> None:
    def static_space(space: str, page: bytes) -> str:
        committed_space(
            owner, {"README.md": b"---\nsdk: static\n---\n", "index.html": page}, space=space
        )
        assert build(hub, owner, space) == "RUNNING"
        return spelled_label(space)

    old, new = f"{owner.name}/old-home", f"{owner.name}/new-home"
    old_host = static_space(old, b"the first Space")

    owner.api.move_repo(old, new, repo_type="space")

    gone = on_host(hub, old_host, "/")
    assert (gone.status_code, gone.headers["x-error-message"]) == (
        404,
        "There is no Space at this address",
    )
    assert on_host(hub, spelled_label(new), "/").text == "the first Space"
    assert static_space(old, b"the second Space") == old_host
    assert on_host(hub, old_host, "/").text == "the second Space"
    assert on_host(hub, spelled_label(new), "/").text == "the first Space"

    owner.api.delete_repo(old, repo_type="space")

    assert on_host(hub, old_host, "/").status_code == 404
    assert on_host(hub, spelled_label(new), "/").text == "the first Space"
