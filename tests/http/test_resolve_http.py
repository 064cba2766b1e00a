"""The resolve endpoint over raw HTTP: headers, HEAD, ranges, errors, revisions, names."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from tests.helpers.accounts import HubUser
from tests.helpers.commits import commit_files, git_blob_sha1
from tests.helpers.live_server import LiveServer

CONTENT = b"0123456789abcdefghij"


@pytest.fixture
def seeded(http: httpx.Client, repo: str) -> tuple[str, str]:
    return repo, commit_files(http, repo, {"data.txt": CONTENT, "dir/empty.txt": b""})


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_resolve_sends_the_hub_headers(
    http: httpx.Client, seeded: tuple[str, str], method: str
) -> None:
    repo, oid = seeded

    response = http.request(
        method, f"/{repo}/resolve/main/data.txt", headers={"accept-encoding": "identity"}
    )

    assert response.status_code == 200
    assert response.headers["etag"] == f'"{git_blob_sha1(CONTENT)}"'
    assert response.headers["x-repo-commit"] == oid
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["accept-ranges"] == "bytes"
    assert "x-xet-hash" not in response.headers
    assert response.content == (CONTENT if method == "GET" else b"")


def test_an_empty_file_has_content_length_zero(http: httpx.Client, seeded: tuple[str, str]) -> None:
    repo, _ = seeded

    response = http.get(f"/{repo}/resolve/main/dir/empty.txt")

    assert response.status_code == 200
    assert response.headers["content-length"] == "0"
    assert response.headers["etag"] == f'"{git_blob_sha1(b"")}"'


@pytest.mark.parametrize(
    ("range_header", "expected", "content_range"),
    [
        ("bytes=0-4", CONTENT[0:5], "bytes 0-4/20"),
        ("bytes=5-", CONTENT[5:], "bytes 5-19/20"),
        ("bytes=-3", CONTENT[-3:], "bytes 17-19/20"),
        ("bytes=15-100", CONTENT[15:], "bytes 15-19/20"),
        ("bytes=-100", CONTENT, "bytes 0-19/20"),
        ("bytes=19-19", CONTENT[19:], "bytes 19-19/20"),
    ],
)
def test_a_range_gets_206_with_content_range(
    http: httpx.Client,
    seeded: tuple[str, str],
    range_header: str,
    expected: bytes,
    content_range: str,
) -> None:
    repo, oid = seeded

    response = http.get(f"/{repo}/resolve/main/data.txt", headers={"range": range_header})

    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))
    assert response.headers["x-repo-commit"] == oid


@pytest.mark.parametrize("range_header", ["bytes=20-", "bytes=100-200", "bytes=5-2", "bytes=-0"])
def test_an_unsatisfiable_range_gets_416(
    http: httpx.Client, seeded: tuple[str, str], range_header: str
) -> None:
    repo, _ = seeded

    response = http.get(f"/{repo}/resolve/main/data.txt", headers={"range": range_header})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */20"


@pytest.mark.parametrize("range_header", ["items=0-4", "bytes=a-b", "bytes=0-1,4-5"])
def test_a_range_the_server_does_not_understand_gets_the_whole_file(
    http: httpx.Client, seeded: tuple[str, str], range_header: str
) -> None:
    repo, _ = seeded

    response = http.get(f"/{repo}/resolve/main/data.txt", headers={"range": range_header})

    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_missing_file_is_entry_not_found_with_the_commit(
    http: httpx.Client, seeded: tuple[str, str], method: str
) -> None:
    repo, oid = seeded

    response = http.request(method, f"/{repo}/resolve/main/missing.txt")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "EntryNotFound"
    assert response.headers["x-repo-commit"] == oid
    assert response.headers["x-error-message"]


def test_a_folder_is_entry_not_found(http: httpx.Client, seeded: tuple[str, str]) -> None:
    repo, _ = seeded

    response = http.head(f"/{repo}/resolve/main/dir")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "EntryNotFound"


@pytest.mark.parametrize("revision", ["nope", "0" * 40, "refs%2Fheads%2Fnope"])
def test_an_unknown_revision_is_revision_not_found(
    http: httpx.Client, seeded: tuple[str, str], revision: str
) -> None:
    repo, _ = seeded

    response = http.head(f"/{repo}/resolve/{revision}/data.txt")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"


@pytest.mark.parametrize(
    "path", ["..%2F..%2Fetc%2Fpasswd", "a%2F..%2F..%2Fx", ".git/config", "%2Fetc%2Fpasswd"]
)
def test_traversal_paths_are_not_found_or_refused(
    http: httpx.Client, seeded: tuple[str, str], path: str
) -> None:
    repo, _ = seeded

    response = http.get(f"/{repo}/resolve/main/{path}")

    assert response.status_code in (400, 404)
    assert b"root:" not in response.content


def test_revisions_by_branch_tag_full_and_short_commit_and_encoded_ref(
    http: httpx.Client, user: HubUser, seeded: tuple[str, str]
) -> None:
    repo, first = seeded
    user.api.create_tag(repo, tag="v1")
    user.api.create_branch(repo, branch="feature/x")
    dev = commit_files(http, repo, {"data.txt": b"feature"}, branch=quote("feature/x", safe=""))
    latest = commit_files(http, repo, {"data.txt": b"latest"})

    def fetch(revision: str) -> httpx.Response:
        response = http.get(f"/{repo}/resolve/{revision}/data.txt")
        assert response.status_code == 200, (revision, response.text)
        return response

    assert fetch("main").headers["x-repo-commit"] == latest
    assert fetch("v1").content == CONTENT
    assert fetch(first).content == CONTENT
    assert fetch(first[:7]).headers["x-repo-commit"] == first
    assert fetch(quote("feature/x", safe="")).headers["x-repo-commit"] == dev
    assert fetch("refs%2Fheads%2Fmain").headers["x-repo-commit"] == latest


@pytest.mark.parametrize(
    "name", ["with space.txt", "hash#tag.txt", "unicodé/ファイル.txt", "a+b.txt", "100%.txt"]
)
def test_awkward_names_resolve_when_percent_encoded(
    http: httpx.Client, repo: str, name: str
) -> None:
    commit_files(http, repo, {name: name.encode()})

    response = http.get(f"/{repo}/resolve/main/{quote(name)}")

    assert response.status_code == 200
    assert response.content == name.encode()


def test_datasets_and_spaces_resolve_under_their_prefix(
    http: httpx.Client, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    for repo_type in ("dataset", "space"):
        repo = repo_factory(repo_type)
        user.api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, repo_type=repo_type
        )

        assert http.get(f"/{repo_type}s/{repo}/resolve/main/x.txt").content == b"x"
        assert http.get(f"/{repo}/resolve/main/x.txt").headers["x-error-code"] == "RepoNotFound"


def test_a_private_repo_is_not_found_for_others(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory(private=True)

    anonymous = httpx.head(f"{live_server.url}/{repo}/resolve/main/.gitattributes")
    owner = httpx.head(
        f"{live_server.url}/{repo}/resolve/main/.gitattributes",
        headers={"authorization": f"Bearer {user.token}"},
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["x-error-code"] == "RepoNotFound"
    assert owner.status_code == 200
