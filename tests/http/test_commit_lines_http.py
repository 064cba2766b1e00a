"""Each NDJSON commit line is bounded as it streams in (issue 9, D9).

A line is at most what the largest inline file takes in base64, plus room for its path; an
inline file over the limit is refused before its base64 is decoded. Both answer 413 and leave
the branch alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.accounts import HubUser, make_user
from tests.helpers.commits import add, branch_head, header, ndjson, post_commit
from tests.helpers.live_server import LiveServer, start_server

MAX_INLINE = 1000


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("hub"), max_regular_file_bytes=MAX_INLINE)
    yield server
    server.stop()


@pytest.fixture
def owner(small_hub: LiveServer) -> HubUser:
    return make_user(small_hub)


@pytest.fixture
def http(small_hub: LiveServer, owner: HubUser) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=small_hub.url, headers={"authorization": f"Bearer {owner.token}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def repo(owner: HubUser) -> str:
    repo_id = f"{owner.name}/lines"
    owner.api.create_repo(repo_id)
    return repo_id


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body streamed without a Content-Length, as a client sending a generator does."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [True, False], ids=["chunked", "content-length"])
def test_a_line_longer_than_any_inline_file_needs_is_refused_with_413(
    http: httpx.Client, repo: str, streamed: bool
) -> None:
    before = branch_head(http, repo)
    # Any key: the line is refused for its length before anything parses it.
    line = json.dumps({"key": "file", "value": {"path": "x", "pad": "a" * 1_000_000}}).encode()
    body = ndjson(header()) + line + b"\n"

    response = http.post(
        f"/api/models/{repo}/commit/main",
        content=chunks(body) if streamed else body,
        headers={"content-type": "application/x-ndjson"},
    )

    assert response.status_code == 413, response.text
    assert "Line 2 of the commit is longer than" in response.headers["x-error-message"]
    assert branch_head(http, repo) == before


def test_an_inline_file_over_the_limit_is_refused_with_413(http: httpx.Client, repo: str) -> None:
    before = branch_head(http, repo)

    response = post_commit(http, repo, ndjson(header(), add("big.txt", b"x" * (MAX_INLINE + 1))))

    assert response.status_code == 413, response.text
    assert "allowed inline: upload it through LFS" in response.headers["x-error-message"]
    assert branch_head(http, repo) == before


def test_an_inline_file_at_the_limit_is_committed(http: httpx.Client, repo: str) -> None:
    content = bytes(range(256)) * (MAX_INLINE // 256) + b"x" * (MAX_INLINE % 256)
    assert len(content) == MAX_INLINE
    encoded = base64.b64encode(content).decode()
    line = {"key": "file", "value": {"path": "d/" * 60 + "f", "content": encoded}}

    response = post_commit(http, repo, ndjson(header(), line))

    assert response.status_code == 200, response.text
    assert http.get(f"/{repo}/resolve/main/{'d/' * 60}f").content == content


def test_blank_lines_keep_their_numbers(http: httpx.Client, repo: str, tmp_path: Path) -> None:
    body = ndjson(header()) + b"\n\n" + b'{"key": "nope", "value": {"path": "a"}}\n'

    response = post_commit(http, repo, body)

    assert response.status_code == 400
    assert "Line 4" in response.json()["error"]
