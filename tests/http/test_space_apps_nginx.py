"""Space apps behind the nginx of deploy/: TLS, Space hosts, websockets and event streams.

nginx runs deploy/nginx/hubstead.conf and hubstead-spaces.conf as shipped, with only their
site-specific lines replaced (tests/helpers/nginx.py), in front of a hub whose spaces domain
is the one those files name; the Space's app is run by the hub's local runner
(tests/helpers/space_apps.py).
"""

from __future__ import annotations

import dataclasses
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.sync.client import connect

from hubstead.server.domain.spaces import spelled_label
from tests.helpers.accounts import make_user, unique_name
from tests.helpers.live_server import ThreadedServer
from tests.helpers.nginx import Nginx, substitute
from tests.helpers.space_apps import control, running_space
from tests.helpers.spaces import space_hub

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
DOMAIN = "spaces.example.com"


@dataclasses.dataclass(frozen=True)
class Site:
    """nginx in front of the hub: its URL, and the TLS context that trusts its certificate."""

    url: str
    tls: ssl.SSLContext


@pytest.fixture(scope="module")
def hub(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ThreadedServer]:
    with space_hub(tmp_path_factory, database_url, "space-nginx", spaces_domain=DOMAIN) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, hub: ThreadedServer) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("nginx")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    hub_conf = (DEPLOY / "hubstead.conf").read_text(encoding="utf-8")
    spaces_conf = (DEPLOY / "hubstead-spaces.conf").read_text(encoding="utf-8")

    def configuration(port: int) -> str:
        listen = f"listen 127.0.0.1:{port} ssl;"
        return substitute(
            hub_conf,
            {
                "server 127.0.0.1:8080;": f"server 127.0.0.1:{hub.port};",
                "listen 80;": f"listen unix:{directory}/hub-http.sock;",
                "listen 443 ssl;": listen,
                "/etc/letsencrypt/live/hub.example.com/fullchain.pem": str(cert),
                "/etc/letsencrypt/live/hub.example.com/privkey.pem": str(key),
            },
        ) + substitute(
            spaces_conf,
            {
                "listen 80;": f"listen unix:{directory}/spaces-http.sock;",
                "listen 443 ssl;": listen,
                "/etc/letsencrypt/live/spaces.example.com/fullchain.pem": str(cert),
                "/etc/letsencrypt/live/spaces.example.com/privkey.pem": str(key),
            },
        )

    proxy = Nginx(directory, configuration, scheme="https").start()
    yield Site(proxy.url, ssl.create_default_context(cafile=str(cert)))
    proxy.stop()


def test_a_space_is_served_on_its_host_through_nginx_with_websockets_and_events(
    site: Site, hub: ThreadedServer
) -> None:
    owner = make_user(hub, "owner")
    space = running_space(hub, owner)
    port = urlsplit(site.url).port
    label = spelled_label(space)

    moved = httpx.get(f"{site.url}/spaces/{space}/app/page", verify=site.tls)
    assert moved.status_code == 307
    assert moved.headers["location"] == f"https://{label}.{DOMAIN}:{port}/page"

    host = {"host": f"{label}.{DOMAIN}:{port}"}
    with httpx.Client(base_url=site.url, verify=site.tls, headers=host, timeout=60) as http:
        echoed = http.get("/page?x=1").json()
        assert (echoed["path"], echoed["query"]) == ("/page", "x=1")
        assert dict(echoed["headers"])["x-forwarded-proto"] == "https"
        stream = unique_name("stream")
        with http.stream("GET", f"/events?stream={stream}") as events:
            lines = events.iter_lines()
            assert next(lines) == "data: first"
            # The app has not sent its second event: it waits for this test to say so.
            with control(hub, owner, space) as app:
                released = app.post("/control/release", params={"stream": stream})
            assert released.json() == {"sent_before": 1}
            assert [line for line in lines if line] == ["data: second"]

    with connect(
        f"wss://{label}.{DOMAIN}:{port}/ws",
        sock=socket.create_connection(("127.0.0.1", port)),
        ssl=site.tls,
        server_hostname="127.0.0.1",
    ) as ws:
        assert json.loads(ws.recv())["path"] == "/ws"
        ws.send("through nginx")
        assert ws.recv() == "through nginx"
