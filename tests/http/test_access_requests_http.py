"""Access requests over raw HTTP: the Hub's shapes, pages, every refusal, and the grants that
an earlier acceptance gave (signed LFS URLs, Xet tokens and range URLs) ending with it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.commits import header, ndjson, post_commit
from tests.helpers.lfs import batch
from tests.helpers.live_server import LiveServer
from tests.helpers.xet_cas import build_upload, cas_client, cas_for, cas_token, upload

FORM = {"content-type": "application/x-www-form-urlencoded"}


def client(server: LiveServer, user: HubUser | None) -> httpx.Client:
    headers = {} if user is None else {"authorization": f"Bearer {user.token}"}
    return httpx.Client(base_url=server.url, headers=headers)


@pytest.fixture
def owner(live_server: LiveServer, user: HubUser) -> Iterator[httpx.Client]:
    with client(live_server, user) as http:
        yield http


@pytest.fixture
def asker(live_server: LiveServer, other_user: HubUser) -> Iterator[httpx.Client]:
    with client(live_server, other_user) as http:
        yield http


@pytest.fixture
def gated(user: HubUser, repo: str) -> str:
    user.api.update_repo_settings(repo, gated="manual")
    return repo


def requests_path(repo: str, what: str, type: str = "model") -> str:
    return f"/api/{type}s/{repo}/user-access-request/{what}"


def assert_error(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert message in response.headers["X-Error-Message"]
    assert response.json() == {"error": response.headers["X-Error-Message"]}


# --- shapes and pages ---------------------------------------------------------------------------


def test_a_request_answers_and_lists_in_the_hubs_shape(
    live_server: LiveServer,
    owner: httpx.Client,
    asker: httpx.Client,
    other_user: HubUser,
    gated: str,
) -> None:
    asked = asker.post(f"/{gated}/ask-access", content="name=Ann+Lee&terms=on&empty=", headers=FORM)

    assert asked.status_code == 200, asked.text
    listed = owner.get(requests_path(gated, "pending"))
    assert listed.status_code == 200
    assert listed.json() == [asked.json()]
    body = asked.json()
    assert re.fullmatch(r"[0-9a-f]{24}", body.pop("requestId"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body.pop("timestamp"))
    assert body == {
        "user": {"user": other_user.name, "fullname": f"Test {other_user.name}"},
        "status": "pending",
        "fields": {"name": "Ann Lee", "terms": "on", "empty": ""},
    }
    handled = owner.post(
        requests_path(gated, "handle"),
        json={"user": other_user.name, "status": "rejected", "rejectionReason": "No"},
    )
    assert handled.status_code == 200
    assert (handled.json()["status"], handled.json()["rejectionReason"]) == ("rejected", "No")


def test_spaces_and_datasets_take_requests_under_their_prefix(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Any,
    owner: httpx.Client,
    asker: httpx.Client,
) -> None:
    for type in ("space", "dataset"):
        repo = repo_factory(type)
        user.api.update_repo_settings(repo, gated="auto", repo_type=type)

        asked = asker.post(f"/{type}s/{repo}/ask-access")

        assert asked.json()["status"] == "accepted"
        assert len(owner.get(requests_path(repo, "accepted", type)).json()) == 1
        # The same id under the model route names no repo.
        assert asker.post(f"/{repo}/ask-access").status_code == 404


def test_listings_page_with_absolute_next_links(
    live_server: LiveServer, user: HubUser, owner: httpx.Client, gated: str
) -> None:
    names = []
    for _ in range(3):
        someone = make_user(live_server)
        names.append(someone.name)
        with client(live_server, someone) as http:
            assert http.post(f"/{gated}/ask-access").status_code == 200

    first = owner.get(requests_path(gated, "pending"), params={"limit": 2})
    second = owner.get(first.links["next"]["url"])

    assert [r["user"]["user"] for r in first.json() + second.json()] == names
    assert first.links["next"]["url"].startswith(live_server.url)
    assert "next" not in second.links


# --- asking: refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ('{"name": "x"}', {"content-type": "application/json"}, 400, "must be sent as"),
        ("a=1&a=2", FORM, 400, "more than once"),
        ("&".join(f"f{i}=x" for i in range(51)), FORM, 400, "at most 50 fields"),
        ("a=" + "x" * 4001, FORM, 400, "longer than 4000 characters"),
        ("a=%00", FORM, 400, "NUL"),
        ("a=%FF", FORM, 400, "not valid UTF-8"),
        ("a=" + "x" * 300_000, FORM, 413, "larger than"),
    ],
    ids=["json", "repeated", "too-many", "too-long", "nul", "not-utf8", "too-large"],
)
def test_a_bad_form_is_refused_and_records_nothing(
    owner: httpx.Client,
    asker: httpx.Client,
    gated: str,
    body: str,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    assert_error(asker.post(f"/{gated}/ask-access", content=body, headers=headers), status, message)
    assert owner.get(requests_path(gated, "pending")).json() == []


def test_asking_needs_a_signed_in_user_with_a_write_token(
    live_server: LiveServer, user: HubUser, gated: str
) -> None:
    reader = make_user(live_server, role=Role.READ)
    with client(live_server, None) as anonymous, client(live_server, reader) as read_only:
        assert_error(anonymous.post(f"/{gated}/ask-access"), 401, "must be authenticated")
        assert_error(read_only.post(f"/{gated}/ask-access"), 403, "read role only")


def test_asking_for_an_ungated_repo_is_400(asker: httpx.Client, repo: str) -> None:
    assert_error(asker.post(f"/{repo}/ask-access"), 400, "is not gated")


def test_a_private_repo_answers_outsiders_as_a_missing_one(
    live_server: LiveServer, user: HubUser, asker: httpx.Client, other_user: HubUser, gated: str
) -> None:
    user.api.update_repo_settings(gated, private=True)
    missing = f"{user.name}/{unique_name('missing')}"

    for repo in (gated, missing):
        answers = [
            asker.post(f"/{repo}/ask-access"),
            asker.get(requests_path(repo, "pending")),
            asker.post(requests_path(repo, "grant"), json={"user": other_user.name}),
            asker.post(
                requests_path(repo, "handle"), json={"user": other_user.name, "status": "accepted"}
            ),
        ]
        for answer in answers:
            assert answer.status_code == 404
            assert answer.headers["X-Error-Code"] == "RepoNotFound"
            assert answer.json()["error"] == f"Repository not found: model {repo}"


# --- managing: refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"user": "x"}, 400, "'status' must be a string"),
        ({"user": "x", "status": "open"}, 400, "Invalid status 'open'"),
        ({"status": "accepted"}, 400, "exactly one of user, requestId"),
        ({"user": "x", "requestId": "0" * 24, "status": "accepted"}, 400, "exactly one"),
        ({"user": 3, "status": "accepted"}, 400, "'user' must be a string"),
        ({"requestId": "0" * 24, "status": "accepted"}, 404, "has no access request with id"),
        ({"requestId": "../1", "status": "accepted"}, 404, "has no access request with id"),
        ({"user": "nobody-at-all", "status": "accepted"}, 404, "No user named"),
        (
            {"user": "x", "status": "accepted", "rejectionReason": "why"},
            400,
            "only with a rejection",
        ),
        (
            {"user": "x", "status": "rejected", "rejectionReason": "w" * 201},
            400,
            "at most 200 characters",
        ),
    ],
)
def test_a_bad_decision_is_refused(
    owner: httpx.Client, gated: str, body: dict[str, Any], status: int, message: str
) -> None:
    assert_error(owner.post(requests_path(gated, "handle"), json=body), status, message)


def test_unknown_listing_status_is_400(owner: httpx.Client, gated: str) -> None:
    assert_error(owner.get(requests_path(gated, "waiting")), 400, "pending, accepted or rejected")


def test_managing_needs_a_write_token_and_a_write_role(
    live_server: LiveServer, user: HubUser, other_user: HubUser, gated: str
) -> None:
    read_token = HubUser(
        user.name, live_server.services.auth.create_token(user.name, Role.READ).secret, user.api
    )
    with (
        client(live_server, None) as anonymous,
        client(live_server, read_token) as read_only,
        client(live_server, other_user) as outsider,
    ):
        grant = requests_path(gated, "grant")
        assert_error(anonymous.post(grant, json={"user": other_user.name}), 401, "authenticated")
        assert_error(read_only.post(grant, json={"user": other_user.name}), 403, "read role only")
        assert_error(outsider.get(requests_path(gated, "accepted")), 403, "manage access requests")


def test_grant_answers_json_and_refuses_a_second_grant(
    owner: httpx.Client, other_user: HubUser, gated: str
) -> None:
    first = owner.post(requests_path(gated, "grant"), json={"user": other_user.name})
    second = owner.post(requests_path(gated, "grant"), json={"user": other_user.name})

    assert first.status_code == 200
    assert first.json()["status"] == "accepted" and "email" not in first.json()["user"]
    assert_error(second, 400, "already has access")


# --- earlier grants end with the access ---------------------------------------------------------


def test_signed_urls_and_xet_tokens_stop_working_when_access_ends(
    owner: httpx.Client, asker: httpx.Client, other_user: HubUser, gated: str
) -> None:
    file = build_upload(os.urandom(200_000))
    with cas_for(owner, gated) as cas:
        upload(cas, file)
    value = {"path": "w.bin", "algo": "sha256", "oid": file.sha256, "size": len(file.data)}
    line = {"key": "lfsFile", "value": value}
    assert post_commit(owner, gated, ndjson(header(), line)).status_code == 200
    assert asker.get(f"/{gated}/resolve/main/w.bin").status_code == 403
    asker.post(f"/{gated}/ask-access")
    owner.post(requests_path(gated, "handle"), json={"user": other_user.name, "status": "accepted"})

    objects = [{"oid": file.sha256, "size": len(file.data)}]
    lfs_url = batch(asker, gated, "download", objects).json()["objects"][0]["actions"]["download"][
        "href"
    ]
    cas_url, token = cas_token(asker, gated, "read")
    assert httpx.get(lfs_url).content == file.data

    owner.post(requests_path(gated, "handle"), json={"user": other_user.name, "status": "rejected"})

    assert httpx.get(lfs_url).status_code == 403
    with cas_client(cas_url, token) as cas:
        refused = cas.get(f"/v1/reconstructions/{file.file_hash}")
    assert refused.status_code == 403
    assert "no longer valid" in refused.json()["error"]
