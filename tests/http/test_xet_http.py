"""The Xet HTTP contract: token routes, CAS authentication, reconstructions, xorb range URLs,
dedup answers and the 404s the client's fallbacks key on, over raw HTTP against a live hub.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubstead.protocol import HEADER_XET_ACCESS_TOKEN, HEADER_XET_CAS_URL, HEADER_XET_EXPIRATION
from hubstead.server.domain.accounts import Role
from hubstead.xet.hashing import hash_to_hex
from hubstead.xet.shard import parse_shard
from hubstead.xet.xorb import iter_chunks
from tests.helpers.accounts import HubUser, make_org, make_user
from tests.helpers.clock import ManualClock
from tests.helpers.commits import header, ndjson, post_commit
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.mirrors import add_mirror
from tests.helpers.profiles import hub_serves_downloads
from tests.helpers.xet_cas import build_upload, cas_client, cas_for, cas_token, upload


def _client(server: LiveServer, user: HubUser | None) -> httpx.Client:
    headers = {} if user is None else {"authorization": f"Bearer {user.token}"}
    return httpx.Client(base_url=server.url, headers=headers)


def _random_data(size: int = 300_000) -> bytes:
    return os.urandom(size)


# --- token routes -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["read", "write"])
def test_token_route_answers_the_token_in_the_body_and_in_headers(
    http: httpx.Client, repo: str, scope: str
) -> None:
    response = http.get(f"/api/models/{repo}/xet-{scope}-token/main")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"accessToken", "exp", "casUrl"}
    assert response.headers[HEADER_XET_ACCESS_TOKEN] == body["accessToken"]
    assert response.headers[HEADER_XET_CAS_URL] == body["casUrl"]
    assert int(response.headers[HEADER_XET_EXPIRATION]) == body["exp"]
    assert time.time() < body["exp"] < time.time() + 24 * 3600
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("tail", ["None", "main", "refs%2Fpr%2F1?create_pr=1", "main?create_pr=1"])
def test_token_route_accepts_every_revision_form_the_client_sends(
    http: httpx.Client, repo: str, tail: str
) -> None:
    response = http.get(f"/api/models/{repo}/xet-write-token/{tail}")

    assert response.status_code == 200, response.text
    assert response.json()["accessToken"]


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_token_routes_serve_datasets_and_spaces(
    http: httpx.Client, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo = repo_factory(repo_type, **({"space_sdk": "static"} if repo_type == "space" else {}))

    url, token = cas_token(http, repo, "write", repo_type=repo_type)

    file = build_upload(_random_data())
    with cas_client(url, token) as cas:
        upload(cas, file)


def test_read_token_of_a_public_repo_is_given_to_anonymous_callers(
    live_server: LiveServer, repo: str
) -> None:
    with _client(live_server, None) as anonymous:
        read = anonymous.get(f"/api/models/{repo}/xet-read-token/main")
        write = anonymous.get(f"/api/models/{repo}/xet-write-token/main")

    assert read.status_code == 200
    assert write.status_code == 401


def test_private_repo_token_routes_answer_outsiders_like_a_missing_repo(
    live_server: LiveServer, repo_factory: Callable[..., str], other_user: HubUser
) -> None:
    private = repo_factory(private=True)
    missing = f"{private}-missing"

    with _client(live_server, other_user) as outsider, _client(live_server, None) as anonymous:
        for client in (outsider, anonymous):
            for scope in ("read", "write"):
                seen = client.get(f"/api/models/{private}/xet-{scope}-token/main")
                absent = client.get(f"/api/models/{missing}/xet-{scope}-token/main")
                assert seen.status_code == absent.status_code
                assert seen.status_code in (401, 404)
                assert seen.json()["error"].replace(private, "X") == absent.json()["error"].replace(
                    missing, "X"
                )


def test_gated_repo_read_token_needs_membership(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    user.api.update_repo_settings(repo, gated="auto")

    with _client(live_server, other_user) as outsider, _client(live_server, user) as owner:
        refused = outsider.get(f"/api/models/{repo}/xet-read-token/main")
        granted = owner.get(f"/api/models/{repo}/xet-read-token/main")

    assert refused.status_code == 403
    assert "restricted" in refused.json()["error"]
    assert granted.status_code == 200


def test_write_token_needs_a_write_role_token_and_write_access(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    owner_read_token = live_server.services.auth.create_token(user.name, Role.READ).secret
    stranger = make_user(live_server, "stranger").token
    url = f"{live_server.url}/api/models/{repo}/xet-write-token/main"

    refused = {
        "read-role": httpx.get(url, headers={"authorization": f"Bearer {owner_read_token}"}),
        "stranger": httpx.get(url, headers={"authorization": f"Bearer {stranger}"}),
    }
    read = httpx.get(
        url.replace("xet-write-token", "xet-read-token"),
        headers={"authorization": f"Bearer {owner_read_token}"},
    )

    assert {who: r.status_code for who, r in refused.items()} == {
        "read-role": 403,
        "stranger": 403,
    }
    assert "read role only" in refused["read-role"].json()["error"]
    assert "don't have the rights" in refused["stranger"].json()["error"]
    assert read.status_code == 200


def test_org_members_get_tokens_by_their_role(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN, other_user.name: Role.READ})
    repo = f"{org}/weights"
    user.api.create_repo(repo, private=True)

    with _client(live_server, other_user) as member:
        assert member.get(f"/api/models/{repo}/xet-read-token/main").status_code == 200
        assert member.get(f"/api/models/{repo}/xet-write-token/main").status_code == 403


def test_mirror_repo_refuses_a_write_token(live_server: LiveServer) -> None:
    admin = make_user(live_server, "admin", admin=True)
    repo = f"{admin.name}/mirrored"
    add_mirror(live_server, repo, "http://127.0.0.1:9")

    with _client(live_server, admin) as client:
        write = client.get(f"/api/models/{repo}/xet-write-token/main")
        read = client.get(f"/api/models/{repo}/xet-read-token/main")

    assert write.status_code == 403
    assert f"{repo} is a mirror of" in write.json()["error"]
    assert read.status_code == 200


# --- CAS authentication -------------------------------------------------------------------------


def test_cas_requests_without_a_bearer_are_401(http: httpx.Client, repo: str) -> None:
    file = build_upload(_random_data())
    url, _ = cas_token(http, repo)

    with cas_client(url, None) as cas:
        answers = [
            cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb),
            cas.post("/v1/shards", content=file.shard()),
            cas.get(f"/v1/chunks/default-merkledb/{file.xorb_hash}"),
            cas.get(f"/v1/reconstructions/{file.file_hash}"),
            cas.get(f"/v2/reconstructions/{file.file_hash}"),
        ]

    assert [a.status_code for a in answers] == [401] * 5
    assert all("access token" in a.json()["error"] for a in answers)


def test_a_read_token_may_not_upload(http: httpx.Client, repo: str) -> None:
    file = build_upload(_random_data())

    with cas_for(http, repo, "read") as cas:
        xorb = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
        shard = cas.post("/v1/shards", content=file.shard())

    assert xorb.status_code == shard.status_code == 403
    assert "may only read" in xorb.json()["error"]


def test_forged_cas_tokens_are_401(http: httpx.Client, repo: str) -> None:
    _, token = cas_token(http, repo, "read")
    payload, _, mac = token.partition(".")
    url, write = cas_token(http, repo, "write")
    forged = [
        "garbage",
        f"{payload}.{mac[:-2]}AA",
        f"{write.partition('.')[0]}.{mac}",  # a write subject under a read token's signature
        http.headers["authorization"].removeprefix("Bearer "),  # a Hub token is no CAS token
    ]

    for token in forged:
        with cas_client(url, token) as cas:
            response = cas.get(f"/v1/reconstructions/{'0' * 64}")
        assert response.status_code == 401, (token, response.text)
        assert "Invalid Xet access token" in response.json()["error"]


def test_expired_cas_tokens_and_range_urls_are_refused(tmp_path: Path, clock: ManualClock) -> None:
    server = start_server(tmp_path, clock=clock)
    try:
        owner = make_user(server, "owner")
        repo = f"{owner.name}/weights"
        owner.api.create_repo(repo)
        file = build_upload(_random_data())
        with _client(server, owner) as http:
            with cas_for(http, repo) as cas:
                upload(cas, file)
            url, exact = _one_range(http, repo, file)
            cas_url, token = cas_token(http, repo, "read")

            clock.advance(server.settings.xet_url_ttl_seconds + 1)
            expired_url = httpx.get(url, headers={"range": exact})
            clock.advance(server.settings.xet_token_ttl_seconds + 1)
            with cas_client(cas_url, token) as cas:
                expired_token = cas.get(f"/v1/reconstructions/{file.file_hash}")
            with cas_for(http, repo, "read") as cas:
                fresh = cas.get(f"/v1/reconstructions/{file.file_hash}")
    finally:
        server.stop()

    assert expired_url.status_code == 403
    assert "expired" in expired_url.json()["error"]
    assert expired_token.status_code == 401
    assert "expired" in expired_token.json()["error"]
    assert fresh.status_code == 200


def test_tokens_of_a_deleted_repo_are_refused(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory()
    url, token = cas_token(http, repo, "write")
    file = build_upload(_random_data())

    user.api.delete_repo(repo)
    with cas_client(url, token) as cas:
        xorb = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
        read = cas.get(f"/v1/reconstructions/{file.file_hash}")

    assert xorb.status_code == read.status_code == 403
    assert "repo is gone" in xorb.json()["error"]


# --- uploads ------------------------------------------------------------------------------------


def test_xorb_upload_answers_whether_it_was_inserted(http: httpx.Client, repo: str) -> None:
    file = build_upload(_random_data())

    with cas_for(http, repo) as cas:
        first = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
        again = cas.post(f"/v1/xorbs/default/{file.xorb_hash}", content=file.xorb)
        shard = cas.post("/v1/shards", content=file.shard())

    assert first.json() == {"was_inserted": True}
    assert again.json() == {"was_inserted": False}
    assert shard.json() == {"result": 1}


def test_uploaded_file_can_be_committed_and_read_back(http: httpx.Client, repo: str) -> None:
    file = build_upload(_random_data())
    with cas_for(http, repo) as cas:
        upload(cas, file)

    committed = _commit_lfs(http, repo, "weights.bin", file.sha256, len(file.data))

    assert committed.status_code == 200, committed.text
    assert http.get(f"/{repo}/resolve/main/weights.bin").content == file.data


def _commit_lfs(http: httpx.Client, repo: str, path: str, sha256: str, size: int) -> httpx.Response:
    line = {
        "key": "lfsFile",
        "value": {"path": path, "algo": "sha256", "oid": sha256, "size": size},
    }
    return post_commit(http, repo, ndjson(header(), line))


# --- reconstructions and xorb range URLs --------------------------------------------------------


@pytest.fixture
def committed(http: httpx.Client, repo: str) -> tuple[str, Any]:
    """A repo with a file uploaded through the CAS and committed."""
    file = build_upload(_random_data())
    with cas_for(http, repo) as cas:
        upload(cas, file)
    assert _commit_lfs(http, repo, "weights.bin", file.sha256, len(file.data)).status_code == 200
    return repo, file


def _fetches(body: dict[str, Any]) -> dict[str, list[tuple[int, int, str, int, int]]]:
    """Per xorb: (chunk start, chunk end, url, byte start, byte end) of each v1 or v2 entry."""
    found: dict[str, list[tuple[int, int, str, int, int]]] = {}
    if "fetch_info" in body:
        for xorb, entries in body["fetch_info"].items():
            found[xorb] = [
                (e["range"]["start"], e["range"]["end"], e["url"], *e["url_range"].values())
                for e in entries
            ]
    else:
        for xorb, entries in body["xorbs"].items():
            found[xorb] = [
                (r["chunks"]["start"], r["chunks"]["end"], e["url"], *r["bytes"].values())
                for e in entries
                for r in e["ranges"]
            ]
    return found


def _reassemble(body: dict[str, Any], length: int) -> bytes:
    """What hf_xet makes of a reconstruction: each term's chunks from its signed xorb range."""
    fetches = _fetches(body)
    out = b""
    for term in body["terms"]:
        start, end = term["range"]["start"], term["range"]["end"]
        (first, _, url, byte_start, byte_end) = next(
            f for f in fetches[term["hash"]] if f[0] <= start and end <= f[1]
        )
        response = httpx.get(url, headers={"range": f"bytes={byte_start}-{byte_end}"})
        assert response.status_code == 206, response.text
        pieces = list(iter_chunks(response.content))[start - first : end - first]
        assert sum(map(len, pieces)) == term["unpacked_length"]
        out += b"".join(pieces)
    skip = body["offset_into_first_range"]
    return out[skip : skip + length]


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("window", [(0, 0), (70_000, 200_000), (299_999, 299_999), (0, None)])
def test_reconstruction_windows_rebuild_the_file_bytes(
    http: httpx.Client, committed: tuple[str, Any], version: str, window: tuple[int, int | None]
) -> None:
    repo, file = committed
    start, end = window
    last = len(file.data) - 1 if end is None else end
    headers = {} if end is None and start == 0 else {"range": f"bytes={start}-{last}"}

    with cas_for(http, repo, "read") as cas:
        response = cas.get(f"/{version}/reconstructions/{file.file_hash}", headers=headers)

    assert response.status_code == 200, response.text
    assert _reassemble(response.json(), last - start + 1) == file.data[start : last + 1]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_reconstruction_from_the_end_of_the_file_is_416(
    http: httpx.Client, committed: tuple[str, Any], version: str
) -> None:
    repo, file = committed

    with cas_for(http, repo, "read") as cas:
        at_end = cas.get(
            f"/{version}/reconstructions/{file.file_hash}",
            headers={"range": f"bytes={len(file.data)}-{len(file.data) + 10}"},
        )

    assert at_end.status_code == 416
    assert "past the end" in at_end.json()["error"]


@pytest.mark.parametrize(
    "value", ["bytes=5", "bytes=10-5", "items=0-1", "bytes=0-1,3-4", "bytes=-5"]
)
def test_reconstruction_refuses_a_malformed_range(
    http: httpx.Client, committed: tuple[str, Any], value: str
) -> None:
    repo, file = committed

    with cas_for(http, repo, "read") as cas:
        response = cas.get(f"/v1/reconstructions/{file.file_hash}", headers={"range": value})

    assert response.status_code == 400
    assert "Range" in response.json()["error"]


def test_reconstruction_of_a_file_of_another_repo_is_404(
    http: httpx.Client, committed: tuple[str, Any], repo_factory: Callable[..., str]
) -> None:
    _, file = committed
    elsewhere = repo_factory()

    with cas_for(http, elsewhere, "read") as cas:
        other = cas.get(f"/v1/reconstructions/{file.file_hash}")
        missing = cas.get(f"/v1/reconstructions/{'0' * 64}")
        malformed = cas.get("/v1/reconstructions/not-a-hash")

    assert other.status_code == missing.status_code == 404
    assert other.json()["error"].replace(file.file_hash, "X") == missing.json()["error"].replace(
        "0" * 64, "X"
    )
    assert malformed.status_code == 400


def _one_range(http: httpx.Client, repo: str, file: Any) -> tuple[str, str]:
    """(url, Range header) of the first xorb range of the whole file's reconstruction."""
    with cas_for(http, repo, "read") as cas:
        body = cas.get(f"/v1/reconstructions/{file.file_hash}").json()
    (_, _, url, start, end) = _fetches(body)[file.xorb_hash][0]
    return url, f"bytes={start}-{end}"


@hub_serves_downloads
def test_xorb_range_urls_need_no_header_but_their_exact_range(
    http: httpx.Client, committed: tuple[str, Any]
) -> None:
    repo, file = committed
    url, exact = _one_range(http, repo, file)
    start, end = map(int, exact.removeprefix("bytes=").split("-"))

    good = httpx.get(url, headers={"range": exact})
    shifted = httpx.get(url, headers={"range": f"bytes={start}-{end - 1}"})
    missing = httpx.get(url)
    tampered = httpx.get(
        url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"), headers={"range": exact}
    )

    assert good.status_code == 206
    assert good.headers["content-range"] == f"bytes {start}-{end}/{len(file.xorb)}"
    assert good.content == file.xorb[start : end + 1]
    assert shifted.status_code == missing.status_code == tampered.status_code == 403
    assert all(r.json()["error"] for r in (shifted, missing, tampered))


@hub_serves_downloads
def test_tokens_and_range_urls_stop_working_when_the_reader_leaves_the_org(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN, other_user.name: Role.READ})
    repo = f"{org}/weights"
    user.api.create_repo(repo, private=True)
    file = build_upload(_random_data())
    with _client(live_server, user) as owner, _client(live_server, other_user) as member:
        with cas_for(owner, repo) as cas:
            upload(cas, file)
        url, exact = _one_range(member, repo, file)
        read_url, read_token = cas_token(member, repo, "read")
        assert httpx.get(url, headers={"range": exact}).status_code == 206

        live_server.services.auth.remove_member(org, other_user.name)

        assert httpx.get(url, headers={"range": exact}).status_code == 403
        with cas_client(read_url, read_token) as cas:
            refused = cas.get(f"/v1/reconstructions/{file.file_hash}")
        assert refused.status_code == 403
        assert "no longer valid" in refused.json()["error"]


@hub_serves_downloads
def test_tokens_and_range_urls_stop_working_when_the_repo_turns_private(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    file = build_upload(_random_data())
    with _client(live_server, user) as owner, _client(live_server, None) as anonymous:
        with cas_for(owner, repo) as cas:
            upload(cas, file)
        url, exact = _one_range(anonymous, repo, file)
        cas_url, token = cas_token(anonymous, repo, "read")

        user.api.update_repo_settings(repo, private=True)

        assert httpx.get(url, headers={"range": exact}).status_code == 403
        with cas_client(cas_url, token) as cas:
            assert cas.get(f"/v1/reconstructions/{file.file_hash}").status_code == 403


@hub_serves_downloads
def test_xorb_range_urls_stop_working_when_the_repo_drops_the_file(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    file = build_upload(_random_data())
    with _client(live_server, user) as owner:
        with cas_for(owner, repo) as cas:
            upload(cas, file)
        url, exact = _one_range(owner, repo, file)

        deleted = owner.post(
            f"/api/models/{repo}/lfs-files/batch",
            json={"deletions": {"sha": [file.sha256], "rewriteHistory": False}},
        )
        assert deleted.status_code == 200, deleted.text

        assert httpx.get(url, headers={"range": exact}).status_code == 403


# --- dedup --------------------------------------------------------------------------------------


def test_dedup_answers_a_complete_shard_for_a_file_first_chunk(
    http: httpx.Client, repo: str
) -> None:
    file = build_upload(_random_data())
    with cas_for(http, repo) as cas:
        upload(cas, file)
        answer = cas.get(f"/v1/chunks/default-merkledb/{file.first_chunk_hash}")

    assert answer.status_code == 200, answer.text
    shard = parse_shard(answer.content)
    assert shard.footer is not None and shard.footer.lookup_tables
    assert [hash_to_hex(x.cas_hash) for x in shard.xorbs] == [file.xorb_hash]
    # Each chunk as clients describe it: where it starts among the unpacked bytes, its length.
    (xorb,) = shard.xorbs
    sizes = [len(chunk) for chunk in iter_chunks(file.xorb)]
    assert [c.chunk_hash for c in xorb.chunks] == list(file.chunk_hashes)
    assert [c.unpacked_bytes for c in xorb.chunks] == sizes
    assert [c.byte_range_start for c in xorb.chunks] == [sum(sizes[:i]) for i in range(len(sizes))]
    assert xorb.num_bytes_in_cas == len(file.data)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/chunks/default-merkledb/" + "z" * 64, 400),
        ("/v1/chunks/default-merkledb/abc", 400),
        ("/v1/chunks/elsewhere/" + "0" * 64, 404),
        ("/v1/chunks/default/" + "0" * 64, 404),
    ],
)
def test_dedup_refuses_malformed_hashes_and_unknown_prefixes(
    http: httpx.Client, repo: str, path: str, status: int
) -> None:
    with cas_for(http, repo, "read") as cas:
        response = cas.get(path)

    assert response.status_code == status
    assert response.json()["error"]


# --- unknown routes and telemetry ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/xorb-grants/default/" + "0" * 64),
        ("POST", "/v2/shards"),
        ("GET", "/v1/nothing"),
        ("PUT", "/v1/xorbs/default/" + "0" * 64),
        ("GET", "/v1/shards"),
        ("DELETE", "/v1/reconstructions/" + "0" * 64),
    ],
)
def test_unknown_cas_routes_are_404_with_a_json_error(
    http: httpx.Client, repo: str, method: str, path: str
) -> None:
    url, token = cas_token(http, repo)
    for bearer in (token, None):
        with cas_client(url, bearer) as cas:
            response = cas.request(method, path, content=b"{}")
        assert response.status_code == 404, (method, path, response.status_code)
        assert "does not serve" in response.json()["error"]


def test_telemetry_is_accepted_and_bounded(http: httpx.Client, repo: str) -> None:
    with cas_for(http, repo) as cas:
        accepted = cas.post("/v1/telemetry", json={"bytes": 1})
        too_big = cas.post("/v1/telemetry", content=b"x" * (1024 * 1024 + 1))
    # hf_xet also reports to the hub's endpoint itself, without a CAS token.
    at_the_hub = http.post("/v1/telemetry", json={"event": "xet_upload_summary"})

    assert accepted.status_code == 200
    assert at_the_hub.status_code == 200
    assert too_big.status_code == 413
    assert http.get(f"/api/models/{repo}").status_code == 200


def test_clients_that_offer_xet_in_a_batch_are_kept_on_plain_lfs(
    http: httpx.Client, repo: str
) -> None:
    # huggingface_hub 0.36 to 1.19 offered "xet" among the batch transfers and took the hub's
    # choice: the hub keeps them on LFS, which every version of the client speaks.
    data = b"weights" * 1000
    response = http.post(
        f"/{repo}.git/info/lfs/objects/batch",
        json={
            "operation": "upload",
            "transfers": ["basic", "multipart", "xet"],
            "objects": [{"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}],
            "hash_algo": "sha256",
        },
        headers={"Accept": "application/vnd.git-lfs+json"},
    )

    assert response.status_code == 200
    assert response.json()["transfer"] == "basic"
    assert "upload" in response.json()["objects"][0]["actions"]
