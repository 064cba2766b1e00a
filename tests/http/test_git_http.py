"""git smart HTTP over raw HTTP: advertisements, content types, gzip bodies, auth challenges.

What the real git client does with these answers is in `tests/compat/test_git.py`; here are the
details git depends on, and the inputs git itself never sends.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services.access import Action
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.bombs import gzip_zeros
from tests.helpers.live_server import LiveServer

UPLOAD_REQUEST = "application/x-git-upload-pack-request"


def pkt_line(text: str) -> bytes:
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


def basic(token: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"git:{token}".encode()).decode()}


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as client:
        yield client


def test_info_refs_starts_with_the_smart_http_preamble(
    http: httpx.Client, user: HubUser, repo: str
) -> None:
    head = user.api.model_info(repo).sha

    response = http.get(f"/{repo}.git/info/refs", params={"service": "git-upload-pack"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    assert "no-cache" in response.headers["cache-control"]
    assert response.content.startswith(b"001e# service=git-upload-pack\n0000")
    assert f"{head} refs/heads/main".encode() in response.content


def test_protocol_v2_advertises_capabilities_without_the_preamble(
    http: httpx.Client, repo: str
) -> None:
    response = http.get(
        f"/{repo}/info/refs",
        params={"service": "git-upload-pack"},
        headers={"git-protocol": "version=2"},
    )

    assert response.status_code == 200
    assert response.content.startswith(pkt_line("version 2\n"))
    assert b"ls-refs" in response.content and b"fetch" in response.content


def test_protocol_v2_lists_refs(http: httpx.Client, user: HubUser, repo: str) -> None:
    head = user.api.model_info(repo).sha
    body = pkt_line("command=ls-refs\n") + b"0001" + pkt_line("symrefs\n") + b"0000"

    response = http.post(
        f"/{repo}.git/git-upload-pack",
        content=body,
        headers={"git-protocol": "version=2", "content-type": UPLOAD_REQUEST},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-git-upload-pack-result"
    assert f"{head} HEAD symref-target:refs/heads/main".encode() in response.content


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", None])
def test_upload_pack_answers_a_want_with_a_pack(
    http: httpx.Client, user: HubUser, repo: str, encoding: str | None
) -> None:
    head = user.api.model_info(repo).sha
    body = pkt_line(f"want {head}\n") + b"0000" + pkt_line("done\n")
    headers = {"content-type": UPLOAD_REQUEST}
    if encoding is not None:
        body = gzip.compress(body)
        headers["content-encoding"] = encoding

    response = http.post(f"/{repo}.git/git-upload-pack", content=body, headers=headers)

    assert response.status_code == 200
    assert response.content.startswith(pkt_line("NAK\n") + b"PACK")


def test_a_body_that_is_not_gzip_is_refused(http: httpx.Client, repo: str) -> None:
    response = http.post(
        f"/{repo}.git/git-upload-pack",
        content=b"not gzip at all",
        headers={"content-type": UPLOAD_REQUEST, "content-encoding": "gzip"},
    )

    assert response.status_code == 400
    assert response.text == "The request body is not valid gzip\n"


def test_an_anonymous_gzip_bomb_on_upload_pack_is_refused_413(
    http: httpx.Client, repo: str
) -> None:
    # 100 MiB of zeros in 100 KiB: more than the 16 MiB a fetch request may inflate to, far
    # less than the 2 GiB of a push (the limit fetches used to share).
    response = http.post(
        f"/{repo}.git/git-upload-pack",
        content=gzip_zeros(100),
        headers={"content-type": UPLOAD_REQUEST, "content-encoding": "gzip"},
    )

    assert response.status_code == 413
    assert response.headers["x-error-message"] == (
        f"Request body is larger than {16 * 1024 * 1024} bytes"
    )


def test_an_unknown_content_encoding_is_refused(http: httpx.Client, repo: str) -> None:
    response = http.post(
        f"/{repo}.git/git-upload-pack", content=b"0000", headers={"content-encoding": "br"}
    )

    assert response.status_code == 400
    assert "Content-Encoding" in response.text


@pytest.mark.parametrize("service", [None, "git-upload-archive", "upload-pack"])
def test_only_the_two_smart_services_are_served(
    http: httpx.Client, repo: str, service: str | None
) -> None:
    params = {"service": service} if service else {}

    response = http.get(f"/{repo}.git/info/refs", params=params)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "smart HTTP" in response.text


def test_anonymous_callers_of_a_private_repo_get_a_basic_challenge(
    http: httpx.Client, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory(private=True)

    response = http.get(f"/{repo}.git/info/refs", params={"service": "git-upload-pack"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="hubstead"'
    assert response.headers["x-error-code"] == "RepoNotFound"


def test_a_private_repo_is_not_found_for_other_users(
    http: httpx.Client, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory(private=True)

    response = http.get(
        f"/{repo}.git/info/refs",
        params={"service": "git-upload-pack"},
        headers=basic(other_user.token),
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Repository not found")
    assert "www-authenticate" not in response.headers


def test_an_unknown_token_gets_a_basic_challenge(http: httpx.Client, repo: str) -> None:
    response = http.get(
        f"/{repo}.git/info/refs",
        params={"service": "git-upload-pack"},
        headers=basic("hf_not_a_token_of_this_hub"),
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="hubstead"'


def test_push_advertisement_needs_a_write_token(
    live_server: LiveServer, http: httpx.Client, user: HubUser, repo: str
) -> None:
    url = f"/{repo}.git/info/refs"
    params = {"service": "git-receive-pack"}
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret

    anonymous = http.get(url, params=params)
    read = http.get(url, params=params, headers=basic(read_token))
    write = http.get(url, params=params, headers=basic(user.token))

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="hubstead"'
    assert read.status_code == 403
    assert "read role" in read.text
    assert write.status_code == 200
    assert write.headers["content-type"] == "application/x-git-receive-pack-advertisement"
    assert write.content.startswith(b"001f# service=git-receive-pack\n0000")
    assert b"report-status" in write.content


def test_a_push_body_from_a_reader_is_refused_before_it_is_read(
    live_server: LiveServer, http: httpx.Client, repo: str
) -> None:
    reader = make_user(live_server, role=Role.READ)

    response = http.post(
        f"/{repo}.git/git-receive-pack", content=b"0000", headers=basic(reader.token)
    )

    assert response.status_code == 403


def test_a_moved_repo_redirects_git_to_its_new_url(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    old = repo_factory()
    new = f"{user.name}/{unique_name('moved')}"
    user.api.move_repo(old, new)
    try:
        response = http.get(f"/{old}.git/info/refs", params={"service": "git-upload-pack"})
    finally:
        user.api.delete_repo(new)

    assert response.status_code == 307
    assert response.headers["location"] == f"/{new}.git/info/refs?service=git-upload-pack"


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_prefixed_repos_are_served_under_their_prefix_only(
    http: httpx.Client, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo = repo_factory(repo_type)
    params = {"service": "git-upload-pack"}

    prefixed = http.get(f"/{repo_type}s/{repo}/info/refs", params=params)
    as_model = http.get(f"/{repo}/info/refs", params=params)

    assert prefixed.status_code == 200
    assert as_model.status_code == 401  # a model repo of that name does not exist


def test_a_push_still_being_received_does_not_hold_up_commits_to_the_repo(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    # A push whose pack is still arriving (through a pipe this test holds open), driven
    # through the hub's own git service, since the HTTP route spools a whole body first.
    head = user.api.model_info(repo).sha
    identity = live_server.services.auth.authenticate(user.token)
    read, write = os.pipe()
    command = pkt_line(f"{head} {'1' * 40} refs/heads/main\0report-status\n") + b"0000"
    os.write(write, command + b"PACK\x00\x00\x00\x02\x00\x00\x00\x01")
    with os.fdopen(read, "rb") as request, ThreadPoolExecutor(2) as pool:
        git = live_server.services.git
        push = pool.submit(git.receive_pack, identity, RepoType.MODEL, repo, request, None)
        commit = pool.submit(
            user.api.upload_file, path_or_fileobj=b"hi", path_in_repo="during.txt", repo_id=repo
        )
        try:
            # The push waits for the rest of its pack: the commit lands meanwhile.
            commit.result(timeout=20)
        finally:
            os.close(write)
        output = push.result(timeout=60)

    assert b"unpack " in output and b"unpack ok" not in output  # the cut pack is refused
    assert "during.txt" in user.api.list_repo_files(repo)


def test_repos_never_share_a_publish_lock(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    # Locks used to be 64 slots picked by repo id: a push to repo 1 stalled commits to 65.
    identity = live_server.services.auth.authenticate(user.token)
    record = live_server.services.repos.locate(identity, RepoType.MODEL, repo, Action.READ)
    neighbour = dataclasses.replace(record, id=record.id + 64)
    heads = live_server.services.heads

    taken: list[str] = []

    def take(name: str, target: RepoRecord) -> None:
        with heads.publish_lock(target):
            taken.append(name)

    with heads.publish_lock(record):
        same = threading.Thread(target=take, args=("same", record), daemon=True)
        other = threading.Thread(target=take, args=("neighbour", neighbour), daemon=True)
        same.start()
        other.start()
        other.join(10)
        same.join(0.5)
        assert taken == ["neighbour"]  # the same repo's writer waits; the neighbour does not
    same.join(10)
    assert taken == ["neighbour", "same"]
