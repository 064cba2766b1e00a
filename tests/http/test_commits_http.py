"""NDJSON commits over raw HTTP: bad input leaves the branch alone, limits, races."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubstead.protocol import format_lfs_pointer
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.commits import add, branch_head, header, ndjson, post_commit
from tests.helpers.live_server import LiveServer, start_server


def header_then(raw: bytes) -> bytes:
    return ndjson(header()) + raw


# --- commits that must be refused ---------------------------------------------------------------


def test_an_lfs_file_whose_object_is_not_stored_is_refused(http: httpx.Client, repo: str) -> None:
    before = branch_head(http, repo)
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    line = {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": missing}}

    response = post_commit(http, repo, ndjson(header(), {**line, "size": 14}))

    assert response.status_code == 400
    assert "has not been uploaded" in response.json()["error"]
    assert branch_head(http, repo) == before


def test_a_regular_file_holding_a_pointer_to_a_missing_object_is_refused(
    http: httpx.Client, repo: str
) -> None:
    before = branch_head(http, repo)
    pointer = format_lfs_pointer(hashlib.sha256(b"absent").hexdigest(), 6)

    response = post_commit(http, repo, ndjson(header(), add("w.txt", pointer)))

    assert response.status_code == 400
    assert "has not been uploaded" in response.json()["error"]
    assert branch_head(http, repo) == before


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "a/../../b.txt",
        "/etc/x",
        ".git/config",
        "a/.git/hooks/x",
        "",
        "/",
        "a//b",
        "./a",
        "a\\b",
        "dir/",
    ],
)
def test_invalid_paths_are_refused_and_nothing_changes(
    http: httpx.Client, repo: str, path: str
) -> None:
    before = branch_head(http, repo)

    response = post_commit(http, repo, ndjson(header(), add("ok.txt", b"x"), add(path, b"x")))

    assert response.status_code == 400
    assert response.headers["x-error-message"]
    assert branch_head(http, repo) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "object"),
        (ndjson(add("a.txt", b"x")), "header"),
        (ndjson(header(summary="")), "summary"),
        (ndjson(header(summary="  ")), "summary"),
        (ndjson({"key": "header", "value": {"description": "no summary"}}), "summary"),
        (ndjson(header(parentCommit="zzz")), "parentCommit"),
        (ndjson(header(), {"key": "rename", "value": {"path": "a"}}), "unknown operation"),
        (ndjson(header(), {"key": "file", "value": {"path": "a", "content": "!!"}}), "base64"),
        (
            ndjson(
                header(), {"key": "file", "value": {"path": "a", "content": "", "encoding": "hex"}}
            ),
            "base64",
        ),
        (ndjson(header(), {"key": "file", "value": {"content": ""}}), "path"),
        (ndjson(header(), {"key": "lfsFile", "value": {"path": "a", "oid": "12"}}), "oid"),
        (header_then(b"\xff\xfe{garbage\n"), "not JSON"),
        (
            header_then(b'{"key": "file", "value": {"path": "\\ud800.txt", "content": ""}}\n'),
            "JSON",
        ),
        (b'{"key": "header", "value": {"summary": "\\udfff"}}\n', "JSON"),
    ],
)
def test_malformed_commit_bodies_are_refused_and_nothing_changes(
    http: httpx.Client, repo: str, body: bytes, message: str
) -> None:
    before = branch_head(http, repo)

    response = post_commit(http, repo, body)

    assert response.status_code == 400, response.text
    assert message in response.json()["error"]
    assert branch_head(http, repo) == before


def test_deleting_a_missing_file_is_entry_not_found(http: httpx.Client, repo: str) -> None:
    before = branch_head(http, repo)
    body = ndjson(header(), add("a.txt", b"a"), {"key": "deletedFile", "value": {"path": "nope"}})

    response = post_commit(http, repo, body)

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "EntryNotFound"
    assert "A file with this name doesn't exist" in response.json()["error"]
    assert branch_head(http, repo) == before


def test_deleting_a_missing_folder_is_entry_not_found(http: httpx.Client, repo: str) -> None:
    response = post_commit(
        http, repo, ndjson(header(), {"key": "deletedFolder", "value": {"path": "nope/"}})
    )

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "EntryNotFound"


def test_deleted_folder_paths_with_or_without_a_slash_delete_the_folder(
    http: httpx.Client, repo: str
) -> None:
    seed = ndjson(header(), add("a/x.txt", b"1"), add("b/y.txt", b"2"), add("keep.txt", b"3"))
    assert post_commit(http, repo, seed).is_success

    body = ndjson(
        header(),
        {"key": "deletedFolder", "value": {"path": "a/"}},
        {"key": "deletedFolder", "value": {"path": "b"}},
    )
    assert post_commit(http, repo, body).is_success

    tree = http.get(f"/api/models/{repo}/tree/main").json()
    assert sorted(entry["path"] for entry in tree) == [".gitattributes", "keep.txt"]


@pytest.mark.parametrize(
    "second",
    [add("folder", b"a file where a folder is"), add("folder/file.txt/inside", b"under a file")],
)
def test_a_file_and_a_folder_cannot_share_a_path(
    http: httpx.Client, repo: str, second: dict[str, Any]
) -> None:
    assert post_commit(http, repo, ndjson(header(), add("folder/file.txt", b"x"))).is_success
    before = branch_head(http, repo)

    response = post_commit(http, repo, ndjson(header(), second))

    assert response.status_code == 400
    assert branch_head(http, repo) == before


def test_a_commit_to_an_unknown_branch_is_revision_not_found(http: httpx.Client, repo: str) -> None:
    response = post_commit(http, repo, ndjson(header(), add("a.txt", b"a")), revision="nope")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"


def test_a_commit_to_an_unknown_repo_is_repo_not_found(http: httpx.Client, user: HubUser) -> None:
    response = post_commit(http, f"{user.name}/{unique_name('absent')}", ndjson(header()))

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RepoNotFound"


def test_a_commit_by_a_user_without_write_access_is_refused(
    live_server: LiveServer, repo: str, http: httpx.Client
) -> None:
    outsider = make_user(live_server, "outsider")
    before = branch_head(http, repo)

    response = httpx.post(
        f"{live_server.url}/api/models/{repo}/commit/main",
        content=ndjson(header(), add("a.txt", b"a")),
        headers={"authorization": f"Bearer {outsider.token}"},
    )

    assert response.status_code == 403
    assert branch_head(http, repo) == before


def test_a_body_over_the_limit_is_refused_with_413(tmp_path: Path) -> None:
    server = start_server(tmp_path / "hub", max_commit_bytes=1000)
    try:
        owner = make_user(server)
        repo = f"{owner.name}/small"
        owner.api.create_repo(repo)
        with httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {owner.token}"}
        ) as http:
            before = branch_head(http, repo)
            small = post_commit(http, repo, ndjson(header(), add("small.txt", b"s")))
            large = post_commit(http, repo, ndjson(header(), add("large.txt", b"x" * 2000)))
            streamed = http.post(
                f"/api/models/{repo}/commit/main",
                content=iter([ndjson(header()), ndjson(add("chunked.txt", b"y" * 2000))]),
            )

            assert small.status_code == 200
            assert large.status_code == 413
            assert "larger than 1000 bytes" in large.json()["error"]
            assert streamed.status_code == 413
            assert branch_head(http, repo) == small.json()["commitOid"] != before
    finally:
        server.stop()


def test_a_commit_that_cannot_land_is_refused_before_its_body_is_read(tmp_path: Path) -> None:
    server = start_server(tmp_path / "hub", max_commit_bytes=1000)
    try:
        owner, outsider = make_user(server), make_user(server, "outsider")
        repo = f"{owner.name}/target"
        owner.api.create_repo(repo)
        body = ndjson(header(), add("large.txt", b"x" * 2000))

        def post(token: str, revision: str) -> httpx.Response:
            return httpx.post(
                f"{server.url}/api/models/{repo}/commit/{revision}",
                content=body,
                headers={"authorization": f"Bearer {token}"},
            )

        assert post(outsider.token, "main").status_code == 403
        assert post(owner.token, "nope").headers["x-error-code"] == "RevisionNotFound"
        assert post(owner.token, "main").status_code == 413
    finally:
        server.stop()


# --- commits that must work ---------------------------------------------------------------------


def test_the_commit_response_names_the_commit(http: httpx.Client, repo: str) -> None:
    response = post_commit(http, repo, ndjson(header(), add("a.txt", b"a")))

    assert response.status_code == 200
    body = response.json()
    assert body["commitOid"] == branch_head(http, repo)
    assert body["commitUrl"] == f"{http.base_url}/{repo}/commit/{body['commitOid']}"


def test_operations_apply_in_order(http: httpx.Client, repo: str) -> None:
    body = ndjson(
        header(),
        add("dir/a.txt", b"first"),
        {"key": "deletedFolder", "value": {"path": "dir/"}},
        add("dir/b.txt", b"second"),
        add("c.txt", b"1"),
        add("c.txt", b"2"),
    )

    assert post_commit(http, repo, body).status_code == 200

    assert http.get(f"/{repo}/resolve/main/c.txt").content == b"2"
    tree = http.get(f"/api/models/{repo}/tree/main/dir").json()
    assert [entry["path"] for entry in tree] == ["dir/b.txt"]


def test_a_file_line_matching_an_lfs_pattern_is_stored_as_a_regular_file(
    http: httpx.Client, repo: str
) -> None:
    assert post_commit(http, repo, ndjson(header(), add("small.bin", b"\0\1\2"))).is_success

    (entry,) = http.post(f"/api/models/{repo}/paths-info/main", data={"paths": "small.bin"}).json()
    assert "lfs" not in entry
    assert http.get(f"/{repo}/resolve/main/small.bin").content == b"\0\1\2"


def test_a_stale_parent_loses_with_412_and_never_overwrites(http: httpx.Client, repo: str) -> None:
    parent = branch_head(http, repo)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def commit(index: int) -> None:
        body = ndjson(header(parentCommit=parent), add(f"f{index}.txt", b"x"))
        barrier.wait()
        results.append(post_commit(http, repo, body).status_code)

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [200, 412, 412, 412]
    tree = http.get(f"/api/models/{repo}/tree/main").json()
    assert len([e for e in tree if e["path"].startswith("f")]) == 1
    commits = http.get(f"/api/models/{repo}/commits/main").json()
    assert commits[1]["id"] == parent


def test_concurrent_commits_without_parent_all_land(http: httpx.Client, repo: str) -> None:
    failures: list[str] = []
    barrier = threading.Barrier(2)

    def commit(worker: int) -> None:
        barrier.wait()
        for index in range(8):
            response = post_commit(http, repo, ndjson(header(), add(f"w{worker}/{index}", b"x")))
            if response.status_code != 200:
                failures.append(response.text)

    threads = [threading.Thread(target=commit, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    tree = http.get(f"/api/models/{repo}/tree/main", params={"recursive": "true"}).json()
    files = {entry["path"] for entry in tree if entry["type"] == "file"}
    assert {f"w{w}/{i}" for w in range(2) for i in range(8)} <= files
    commits = http.get(f"/api/models/{repo}/commits/main").json()
    assert len(commits) == 17


@pytest.mark.parametrize("form", [str.upper, lambda sha: sha[:5], lambda sha: sha])
def test_the_current_parent_is_accepted_in_any_form_clients_send(
    http: httpx.Client, repo: str, form: Any
) -> None:
    parent = branch_head(http, repo)

    response = post_commit(http, repo, ndjson(header(parentCommit=form(parent)), add("a", b"a")))

    assert response.status_code == 200, response.text
    commits = http.get(f"/api/models/{repo}/commits/main").json()
    assert [c["id"] for c in commits[:2]] == [response.json()["commitOid"], parent]
