"""Git history endpoints on the wire: pagination, raw special refs, JSON shapes, error codes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.refs import create_ref


@dataclasses.dataclass(frozen=True)
class Repo:
    owner: HubUser
    id: str
    main: list[str]  # commit ids of main, newest first
    feature: str  # head of feature/x
    pr: str  # refs/pr/1
    convert: str  # refs/convert/parquet


@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> Iterator[Repo]:
    owner = make_user(live_server)
    repo_id = f"{owner.name}/{unique_name('wire')}"
    owner.api.create_repo(repo_id)
    for n in range(5):
        owner.api.upload_file(
            path_or_fileobj=f"main {n}".encode(),
            path_in_repo="a.txt",
            repo_id=repo_id,
            commit_message=f"main {n}",
        )
    owner.api.create_branch(repo_id, branch="feature/x")
    feature = owner.api.upload_file(
        path_or_fileobj=b"feature", path_in_repo="a.txt", repo_id=repo_id, revision="feature/x"
    ).oid
    owner.api.create_branch(repo_id, branch="pr-source")
    pr = owner.api.upload_file(
        path_or_fileobj=b"pull request",
        path_in_repo="dir/b.txt",
        repo_id=repo_id,
        revision="pr-source",
    ).oid
    create_ref(live_server, owner, repo_id, "refs/pr/1", pr)
    owner.api.delete_branch(repo_id, branch="pr-source")
    convert = create_ref(live_server, owner, repo_id, "refs/convert/parquet", "main")
    main = [c.commit_id for c in owner.api.list_repo_commits(repo_id)]
    yield Repo(owner, repo_id, main, str(feature), str(pr), convert)
    owner.api.delete_repo(repo_id)


@pytest.fixture
def http(live_server: LiveServer, seeded: Repo) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {seeded.owner.token}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        yield client


def follow(http: httpx.Client, url: str) -> tuple[list[dict[str, object]], list[str]]:
    """Every item of a Link-paginated listing, and the URLs of the pages after the first."""
    response = http.get(url)
    items: list[dict[str, object]] = []
    pages: list[str] = []
    while True:
        assert response.status_code == 200, response.text
        items.extend(response.json())
        next_url = response.links.get("next", {}).get("url")
        if next_url is None:
            return items, pages
        pages.append(next_url)
        response = http.get(next_url)


# --- commits ------------------------------------------------------------------------------------


def test_commits_are_paginated_with_absolute_link_urls(
    http: httpx.Client, live_server: LiveServer, seeded: Repo
) -> None:
    items, pages = follow(http, f"/api/models/{seeded.id}/commits/main?limit=2")
    assert [item["id"] for item in items] == seeded.main
    assert len(seeded.main) == 6
    assert len(pages) == 2
    assert all(page.startswith(live_server.url + "/") for page in pages)
    assert all("limit=2" in page for page in pages)


def test_a_page_as_large_as_the_history_has_no_next_link(http: httpx.Client, seeded: Repo) -> None:
    response = http.get(f"/api/models/{seeded.id}/commits/main?limit=6")
    assert len(response.json()) == 6
    assert "link" not in response.headers


def test_commit_pages_keep_an_encoded_branch_name(http: httpx.Client, seeded: Repo) -> None:
    branch = quote("feature/x", safe="")
    items, pages = follow(http, f"/api/models/{seeded.id}/commits/{branch}?limit=1")
    assert [item["id"] for item in items] == [seeded.feature, *seeded.main]
    assert all("/commits/feature%2Fx?" in page for page in pages)


def test_commit_items_have_the_fields_the_client_reads(http: httpx.Client, seeded: Repo) -> None:
    [latest] = http.get(f"/api/models/{seeded.id}/commits/main?limit=1").json()
    assert set(latest) == {"id", "title", "message", "date", "authors"}
    assert latest["id"] == seeded.main[0]
    assert latest["title"] == "main 4"
    assert latest["message"] == ""
    assert latest["authors"] == [{"user": seeded.owner.name}]
    assert str(latest["date"]).endswith("Z")


@pytest.mark.parametrize("query", ["expand[]=formatted", "expand=formatted"])
def test_formatted_expansion_in_both_spellings(
    http: httpx.Client, seeded: Repo, query: str
) -> None:
    items = http.get(f"/api/models/{seeded.id}/commits/main?limit=1&{query}").json()
    assert items[0]["formatted"] == {"title": "main 4", "message": ""}


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=abc", "cursor=%%%", "cursor=LTE"])
def test_bad_pagination_parameters_are_400(http: httpx.Client, seeded: Repo, query: str) -> None:
    response = http.get(f"/api/models/{seeded.id}/commits/main?{query}")
    assert response.status_code == 400
    assert response.headers["x-error-message"]


def test_unknown_revision_is_404_with_the_revision_error_code(
    http: httpx.Client, seeded: Repo
) -> None:
    response = http.get(f"/api/models/{seeded.id}/commits/nope")
    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"
    assert "nope" in response.json()["error"]


# --- raw special refs ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["refs/pr/1", "refs%2Fpr%2F1"])
def test_resolve_accepts_a_pull_request_ref_raw_or_encoded(
    http: httpx.Client, seeded: Repo, spelling: str
) -> None:
    response = http.get(f"/{seeded.id}/resolve/{spelling}/dir/b.txt")
    assert response.status_code == 200
    assert response.content == b"pull request"
    assert response.headers["x-repo-commit"] == seeded.pr
    head = http.head(f"/{seeded.id}/resolve/{spelling}/a.txt")
    assert head.status_code == 200
    assert head.headers["x-repo-commit"] == seeded.pr


@pytest.mark.parametrize("spelling", ["refs/pr/1", "refs%2Fpr%2F1"])
def test_tree_accepts_a_pull_request_ref_raw_or_encoded(
    http: httpx.Client, seeded: Repo, spelling: str
) -> None:
    root = http.get(f"/api/models/{seeded.id}/tree/{spelling}").json()
    assert {e["path"] for e in root} == {".gitattributes", "a.txt", "dir"}
    inside = http.get(f"/api/models/{seeded.id}/tree/{spelling}/dir").json()
    assert [e["path"] for e in inside] == ["dir/b.txt"]


def test_commits_and_revision_info_accept_a_raw_pull_request_ref(
    http: httpx.Client, seeded: Repo
) -> None:
    commits = http.get(f"/api/models/{seeded.id}/commits/refs/pr/1").json()
    assert commits[0]["id"] == seeded.pr
    info = http.get(f"/api/models/{seeded.id}/revision/refs/pr/1").json()
    assert info["sha"] == seeded.pr


def test_resolve_accepts_a_raw_convert_ref(http: httpx.Client, seeded: Repo) -> None:
    response = http.get(f"/{seeded.id}/resolve/refs/convert/parquet/a.txt")
    assert response.status_code == 200
    assert response.headers["x-repo-commit"] == seeded.convert


def test_an_unknown_raw_pull_request_ref_is_revision_not_found(
    http: httpx.Client, seeded: Repo
) -> None:
    response = http.get(f"/{seeded.id}/resolve/refs/pr/99/a.txt")
    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"


# --- refs ---------------------------------------------------------------------------------------


def test_refs_json_shape(http: httpx.Client, seeded: Repo) -> None:
    body = http.get(f"/api/models/{seeded.id}/refs").json()
    assert set(body) == {"branches", "tags", "converts"}
    assert sorted(body["branches"], key=lambda b: b["name"]) == [
        {"name": "feature/x", "ref": "refs/heads/feature/x", "targetCommit": seeded.feature},
        {"name": "main", "ref": "refs/heads/main", "targetCommit": seeded.main[0]},
    ]
    assert body["converts"] == [
        {"name": "parquet", "ref": "refs/convert/parquet", "targetCommit": seeded.convert}
    ]


@pytest.mark.parametrize("flag", ["1", "true", "True"])
def test_refs_with_pull_requests(http: httpx.Client, seeded: Repo, flag: str) -> None:
    body = http.get(f"/api/models/{seeded.id}/refs?include_prs={flag}").json()
    assert body["pullRequests"] == [
        {"name": "refs/pr/1", "ref": "refs/pr/1", "targetCommit": seeded.pr}
    ]


def test_annotated_tag_target_is_the_commit(http: httpx.Client, seeded: Repo) -> None:
    tag = unique_name("annotated")
    response = http.post(
        f"/api/models/{seeded.id}/tag/main", json={"tag": tag, "message": "with a message"}
    )
    assert response.status_code == 200
    tags = http.get(f"/api/models/{seeded.id}/refs").json()["tags"]
    assert {"name": tag, "ref": f"refs/tags/{tag}", "targetCommit": seeded.main[0]} in tags


# --- branch, tag and squash requests ------------------------------------------------------------


def test_create_branch_without_a_body_starts_at_main(http: httpx.Client, seeded: Repo) -> None:
    branch = unique_name("bare")
    assert http.post(f"/api/models/{seeded.id}/branch/{branch}").status_code == 200
    info = http.get(f"/api/models/{seeded.id}/revision/{branch}").json()
    assert info["sha"] == seeded.main[0]


def test_duplicate_branch_is_409_with_the_hub_message(http: httpx.Client, seeded: Repo) -> None:
    response = http.post(f"/api/models/{seeded.id}/branch/main", json={})
    assert response.status_code == 409
    assert response.json()["error"] == "Reference refs/heads/main already exists"


def test_deleting_main_is_403_with_the_hub_message(http: httpx.Client, seeded: Repo) -> None:
    response = http.delete(f"/api/models/{seeded.id}/branch/main")
    assert response.status_code == 403
    assert response.headers["x-error-message"] == "Cannot delete refs/heads/main"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("branch/{name}", {"startingPoint": 3}),
        ("branch/{name}", [1, 2]),
        ("tag/main", {}),
        ("tag/main", {"tag": ""}),
        ("tag/main", {"tag": 5}),
        ("tag/main", {"tag": "{name}", "message": ["x"]}),
        ("super-squash/main", {"message": 1}),
    ],
)
def test_malformed_bodies_are_400(
    http: httpx.Client, seeded: Repo, path: str, body: object
) -> None:
    name = unique_name("bad")
    payload = (
        body
        if not isinstance(body, dict)
        else {k: v.format(name=name) if isinstance(v, str) else v for k, v in body.items()}
    )
    response = http.post(f"/api/models/{seeded.id}/{path.format(name=name)}", json=payload)
    assert response.status_code == 400
    assert response.json()["error"]


def test_non_json_body_is_400(http: httpx.Client, seeded: Repo) -> None:
    response = http.post(
        f"/api/models/{seeded.id}/tag/main",
        content=b"tag=v1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_nested_tag_names_are_400(http: httpx.Client, seeded: Repo) -> None:
    tag = unique_name("nest")
    assert http.post(f"/api/models/{seeded.id}/tag/main", json={"tag": tag}).status_code == 200
    response = http.post(f"/api/models/{seeded.id}/tag/main", json={"tag": f"{tag}/inner"})
    assert response.status_code == 400
    assert tag in response.json()["error"]


def test_anonymous_writes_are_401(live_server: LiveServer, seeded: Repo) -> None:
    with httpx.Client(base_url=live_server.url) as anonymous:
        for response in (
            anonymous.post(f"/api/models/{seeded.id}/branch/{unique_name('anon')}", json={}),
            anonymous.delete(f"/api/models/{seeded.id}/branch/feature%2Fx"),
            anonymous.post(f"/api/models/{seeded.id}/tag/main", json={"tag": "anon"}),
            anonymous.delete(f"/api/models/{seeded.id}/tag/v1"),
            anonymous.post(f"/api/models/{seeded.id}/super-squash/main", json={}),
        ):
            assert response.status_code == 401
        assert anonymous.get(f"/api/models/{seeded.id}/refs").status_code == 200


def test_read_tokens_cannot_change_refs(live_server: LiveServer, seeded: Repo) -> None:
    token = live_server.services.auth.create_token(seeded.owner.name, Role.READ).secret
    with httpx.Client(
        base_url=live_server.url, headers={"authorization": f"Bearer {token}"}
    ) as reader:
        response = reader.post(f"/api/models/{seeded.id}/branch/{unique_name('r')}", json={})
        assert response.status_code == 403
        assert "read" in response.json()["error"]


def test_super_squash_answers_the_new_commit(
    live_server: LiveServer, http: httpx.Client, seeded: Repo
) -> None:
    branch = unique_name("squash")
    http.post(f"/api/models/{seeded.id}/branch/{branch}", json={})
    response = http.post(f"/api/models/{seeded.id}/super-squash/{branch}", json={"message": "m"})
    assert response.status_code == 200
    commits = http.get(f"/api/models/{seeded.id}/commits/{branch}").json()
    assert [(c["id"], c["title"]) for c in commits] == [(response.json()["commitId"], "m")]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("branch/" + "b" * 300, {}),
        ("branch/" + "/".join(["b" * 200] * 6), {}),
        ("tag/main", {"tag": "t" * 300}),
        ("tag/main", {"tag": "nul\u0000byte"}),
        ("branch/nul%00byte", {}),
    ],
)
def test_names_git_cannot_store_are_400(
    http: httpx.Client, seeded: Repo, path: str, body: dict[str, object]
) -> None:
    response = http.post(f"/api/models/{seeded.id}/{quote(path, safe='/%')}", json=body)
    assert response.status_code == 400


def test_a_tag_name_with_a_lone_surrogate_is_400(http: httpx.Client, seeded: Repo) -> None:
    # Valid JSON that no UTF-8 encoder accepts; httpx would refuse to encode it, so raw bytes.
    response = http.post(
        f"/api/models/{seeded.id}/tag/main",
        content=b'{"tag": "lone\\udcffsurrogate"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize("revision", ["r" * 5000, "%FF%FE", "a%00b", "refs%2Fheads%2F..%2Fmain"])
def test_unusable_revisions_are_revision_not_found(
    http: httpx.Client, seeded: Repo, revision: str
) -> None:
    for url in (
        f"/api/models/{seeded.id}/revision/{revision}",
        f"/api/models/{seeded.id}/commits/{revision}",
        f"/api/models/{seeded.id}/tree/{revision}",
        f"/{seeded.id}/resolve/{revision}/a.txt",
    ):
        response = http.get(url)
        assert response.status_code == 404, url
        assert response.headers["x-error-code"] == "RevisionNotFound"
