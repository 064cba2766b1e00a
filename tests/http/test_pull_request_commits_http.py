"""Commits, LFS batches and Xet tokens for pull requests, over raw HTTP.

The wire details the official client depends on (`pullRequestUrl`, the error codes), and the
permission rules each route applies: `create_pr` (or an LFS batch without a ref) needs the right
to take part in the repo's discussions; `refs/pr/N` its author or a writer; a branch, writers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.commits import add, branch_head, header, ndjson
from tests.helpers.lfs import batch, sha256
from tests.helpers.live_server import LiveServer
from tests.helpers.refs import create_ref

OBJECT = {"oid": sha256(b"weights"), "size": len(b"weights")}


@pytest.fixture
def as_user(live_server: LiveServer) -> Iterator[Callable[[HubUser], httpx.Client]]:
    """Clients acting as other users, closed after the test."""
    with contextlib.ExitStack() as stack:

        def client(user: HubUser) -> httpx.Client:
            headers = {"authorization": f"Bearer {user.token}"}
            return stack.enter_context(httpx.Client(base_url=live_server.url, headers=headers))

        yield client


def commit(
    http: httpx.Client,
    repo: str,
    revision: str = "main",
    *,
    create_pr: bool = False,
    prefix: str = "models",
) -> httpx.Response:
    params = {"create_pr": "1"} if create_pr else {}
    return http.post(
        f"/api/{prefix}/{repo}/commit/{revision}",
        params=params,
        content=ndjson(header("Propose"), add("a.txt", b"a")),
    )


def refused(response: httpx.Response, status: int, code: str | None, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers.get("x-error-code") == code
    assert text in response.json()["error"]


def lfs_batch(http: httpx.Client, repo: str, ref: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"operation": "upload", "transfers": ["basic"], "objects": [OBJECT]}
    if ref is not None:
        body["ref"] = ref
    return http.post(f"/{repo}.git/info/lfs/objects/batch", json=body)


# --- commits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repo_type", "prefix", "url_prefix"),
    [("model", "models", ""), ("dataset", "datasets", "/datasets"), ("space", "spaces", "/spaces")],
)
def test_a_create_pr_commit_answers_the_pull_request_url(
    live_server: LiveServer,
    http: httpx.Client,
    repo_factory: Callable[..., str],
    repo_type: str,
    prefix: str,
    url_prefix: str,
) -> None:
    repo = repo_factory(repo_type)

    response = commit(http, repo, create_pr=True, prefix=prefix)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pullRequestUrl"] == f"{live_server.url}{url_prefix}/{repo}/discussions/1"
    assert body["commitUrl"] == f"{live_server.url}{url_prefix}/{repo}/commit/{body['commitOid']}"


@pytest.mark.parametrize("spelling", ["refs/pr/1", "refs%2Fpr%2F1"])
def test_a_commit_to_a_pull_request_ref_in_either_spelling_appends_to_it(
    http: httpx.Client, repo: str, spelling: str
) -> None:
    main = branch_head(http, repo)
    assert commit(http, repo, create_pr=True).status_code == 200

    response = commit(http, repo, spelling)

    assert response.status_code == 200, response.text
    assert response.json()["pullRequestUrl"].endswith(f"/{repo}/discussions/1")
    assert branch_head(http, repo, "refs%2Fpr%2F1") == response.json()["commitOid"]
    assert branch_head(http, repo) == main


def test_a_branch_commit_answers_no_pull_request_url(http: httpx.Client, repo: str) -> None:
    response = commit(http, repo)

    assert response.status_code == 200
    assert "pullRequestUrl" not in response.json()


def test_create_pr_needs_a_branch_to_target(http: httpx.Client, repo: str) -> None:
    assert commit(http, repo, create_pr=True).status_code == 200

    on_pr = commit(http, repo, "refs%2Fpr%2F1", create_pr=True)
    on_missing = commit(http, repo, "nope", create_pr=True)

    refused(on_pr, 404, "RevisionNotFound", "is not a branch")
    refused(on_missing, 404, "RevisionNotFound", "is not a branch")


def test_a_commit_to_a_pull_request_that_does_not_exist_is_a_missing_revision(
    http: httpx.Client, repo: str
) -> None:
    response = commit(http, repo, "refs%2Fpr%2F99")

    refused(response, 404, "RevisionNotFound", "refs/pr/99 is not a pull request")


def test_an_unknown_parent_commit_for_a_pull_request_is_a_missing_revision(
    http: httpx.Client, repo: str
) -> None:
    body = ndjson(header("Propose", parentCommit="0" * 40), add("a.txt", b"a"))

    response = http.post(f"/api/models/{repo}/commit/main", params={"create_pr": "1"}, content=body)

    refused(response, 404, "RevisionNotFound", "0" * 40)


def test_outsiders_open_pull_requests_but_write_nowhere_else(
    live_server: LiveServer,
    http: httpx.Client,
    other_user: HubUser,
    repo: str,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    main = branch_head(http, repo)
    other = as_user(other_user)
    third = as_user(make_user(live_server, "third"))
    preupload = {"files": [{"path": "a.txt", "size": 1, "sample": "YQ=="}]}

    assert other.post(f"/api/models/{repo}/preupload/main", json=preupload).status_code == 403
    opened = other.post(
        f"/api/models/{repo}/preupload/main", params={"create_pr": "1"}, json=preupload
    )
    assert opened.status_code == 200, opened.text
    assert commit(other, repo, create_pr=True).status_code == 200
    assert commit(other, repo, "refs%2Fpr%2F1").status_code == 200

    refused(commit(other, repo), 403, None, "rights to write")
    refused(commit(third, repo, "refs%2Fpr%2F1"), 403, None, "Only the author of pull request #1")
    refused(
        third.post(f"/api/models/{repo}/preupload/refs%2Fpr%2F1", json=preupload),
        403,
        None,
        "Only the author",
    )
    assert branch_head(http, repo) == main


def test_conversion_refs_stay_for_writers_only(
    live_server: LiveServer,
    http: httpx.Client,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    create_ref(live_server, user, repo, "refs/convert/parquet", "main")

    by_writer = commit(http, repo, "refs%2Fconvert%2Fparquet")
    by_other = commit(as_user(other_user), repo, "refs%2Fconvert%2Fparquet")

    assert by_writer.status_code == 200, by_writer.text
    assert "pullRequestUrl" not in by_writer.json()
    refused(by_other, 403, None, "rights to write")


# --- LFS batch ----------------------------------------------------------------------------------


def test_an_lfs_upload_for_a_pull_request_needs_only_a_part_in_the_discussions(
    live_server: LiveServer,
    http: httpx.Client,
    other_user: HubUser,
    repo: str,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    other = as_user(other_user)
    third = as_user(make_user(live_server, "third"))
    assert commit(other, repo, create_pr=True).status_code == 200

    without_ref = lfs_batch(other, repo)
    for_pr = lfs_batch(other, repo, {"name": "refs/pr/1"})

    for response in (without_ref, for_pr):
        assert response.status_code == 200, response.text
        assert "upload" in response.json()["objects"][0]["actions"]
    refused(lfs_batch(other, repo, {"name": "refs/heads/main"}), 403, None, "rights to write")
    refused(lfs_batch(other, repo, {"name": "main"}), 403, None, "rights to write")
    refused(lfs_batch(third, repo, {"name": "refs/pr/1"}), 403, None, "Only the author")
    refused(lfs_batch(other, repo, {"name": "refs/pr/99"}), 404, "RevisionNotFound", "refs/pr/99")
    refused(lfs_batch(other, repo, {"ref": 1}), 400, None, "'ref' must be an object")
    assert lfs_batch(http, repo, {"name": "refs/heads/main"}).status_code == 200


def test_an_lfs_upload_without_a_ref_is_refused_to_a_read_token_and_in_private_repos(
    live_server: LiveServer,
    repo_factory: Callable[..., str],
    other_user: HubUser,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    private = repo_factory(private=True)
    public = repo_factory()
    reader = as_user(make_user(live_server, "reader", role=Role.READ))

    refused(lfs_batch(as_user(other_user), private), 404, "RepoNotFound", "Repository not found")
    refused(lfs_batch(reader, public), 403, None, "read role")
    assert batch(reader, public, "download", [OBJECT]).status_code == 200


# --- Xet tokens ---------------------------------------------------------------------------------


def test_xet_write_tokens_for_pull_requests_follow_the_same_rules(
    live_server: LiveServer,
    http: httpx.Client,
    other_user: HubUser,
    repo: str,
    as_user: Callable[[HubUser], httpx.Client],
) -> None:
    other = as_user(other_user)
    third = as_user(make_user(live_server, "third"))
    url = f"/api/models/{repo}/xet-write-token"
    assert commit(other, repo, create_pr=True).status_code == 200

    assert other.get(f"{url}/None", params={"create_pr": "1"}).status_code == 200
    assert other.get(f"{url}/refs%2Fpr%2F1").status_code == 200
    assert http.get(f"{url}/refs%2Fpr%2F1").status_code == 200
    refused(other.get(f"{url}/main"), 403, None, "rights to write")
    refused(other.get(f"{url}/None"), 403, None, "rights to write")
    refused(third.get(f"{url}/refs%2Fpr%2F1"), 403, None, "Only the author")
    refused(other.get(f"{url}/refs%2Fpr%2F99"), 404, "RevisionNotFound", "refs/pr/99")
