"""Upload-mode negotiation (preupload) and card validation over raw HTTP."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.helpers.commits import add, git_blob_sha1, header, ndjson, post_commit

MiB = 1024 * 1024


def preupload(
    http: httpx.Client, repo: str, files: list[dict[str, Any]], **extra: Any
) -> dict[str, dict[str, Any]]:
    response = http.post(f"/api/models/{repo}/preupload/main", json={"files": files, **extra})
    assert response.status_code == 200, response.text
    return {entry["path"]: entry for entry in response.json()["files"]}


def announced(path: str, content: bytes, size: int | None = None) -> dict[str, Any]:
    sample = base64.b64encode(content[:512]).decode()
    return {"path": path, "sample": sample, "size": len(content) if size is None else size}


# --- preupload ----------------------------------------------------------------------------------


def test_preupload_follows_gitattributes_size_and_binary_content(
    http: httpx.Client, repo: str
) -> None:
    plans = preupload(
        http,
        repo,
        [
            announced("model.safetensors", b"text that is not binary"),
            announced("nested/weights.bin", b"plain"),
            announced("notes.txt", b"hello"),
            announced("data.raw", b"abc\0def"),
            announced("big.txt", b"text", size=10 * MiB),
            announced("almost-big.txt", b"text", size=10 * MiB - 1),
            announced("empty.safetensors", b""),
            announced("empty.raw", b"", size=0),
        ],
    )

    modes = {path: plan["uploadMode"] for path, plan in plans.items()}
    assert modes == {
        "model.safetensors": "lfs",
        "nested/weights.bin": "lfs",
        "notes.txt": "regular",
        "data.raw": "lfs",
        "big.txt": "lfs",
        "almost-big.txt": "regular",
        "empty.safetensors": "regular",
        "empty.raw": "regular",
    }
    assert all(plan["shouldIgnore"] is False for plan in plans.values())
    assert all(plan["oid"] is None for plan in plans.values())


def test_preupload_follows_gitattributes_committed_to_the_revision(
    http: httpx.Client, repo: str
) -> None:
    attributes = b"*.custom filter=lfs diff=lfs merge=lfs -text\n"
    assert post_commit(http, repo, ndjson(header(), add(".gitattributes", attributes))).is_success

    plans = preupload(http, repo, [announced("x.custom", b"t"), announced("x.bin", b"t")])

    assert plans["x.custom"]["uploadMode"] == "lfs"
    assert plans["x.bin"]["uploadMode"] == "regular"


def test_preupload_returns_the_git_oid_of_existing_regular_files(
    http: httpx.Client, repo: str
) -> None:
    assert post_commit(http, repo, ndjson(header(), add("dir/a.txt", b"content"))).is_success

    plans = preupload(http, repo, [announced("dir/a.txt", b"other"), announced("b.txt", b"x")])

    assert plans["dir/a.txt"]["oid"] == git_blob_sha1(b"content")
    assert plans["b.txt"]["oid"] is None


def test_preupload_should_ignore_from_the_body_or_the_repo_gitignore(
    http: httpx.Client, repo: str
) -> None:
    files = [announced("run.log", b"x"), announced("cache/a.txt", b"x"), announced("ok.txt", b"")]

    from_body = preupload(http, repo, files, gitIgnore="*.log\ncache/\n")
    assert {p: plan["shouldIgnore"] for p, plan in from_body.items()} == {
        "run.log": True,
        "cache/a.txt": True,
        "ok.txt": False,
    }

    assert post_commit(http, repo, ndjson(header(), add(".gitignore", b"*.log\n"))).is_success
    from_repo = preupload(http, repo, files)
    assert {p: plan["shouldIgnore"] for p, plan in from_repo.items()} == {
        "run.log": True,
        "cache/a.txt": False,
        "ok.txt": False,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"files": "nope"},
        {"files": [{"size": 1}]},
        {"files": [{"path": "a.txt", "size": -1}]},
        {"files": [{"path": "a.txt", "size": 1, "sample": "***"}]},
        {"files": [{"path": "../a.txt", "size": 1, "sample": ""}]},
        {"files": [], "gitIgnore": 3},
    ],
)
def test_preupload_refuses_malformed_bodies(
    http: httpx.Client, repo: str, body: dict[str, Any]
) -> None:
    response = http.post(f"/api/models/{repo}/preupload/main", json=body)

    assert response.status_code == 400
    assert response.json()["error"]


def test_preupload_on_an_unknown_revision_is_revision_not_found(
    http: httpx.Client, repo: str
) -> None:
    response = http.post(f"/api/models/{repo}/preupload/nope", json={"files": []})

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"


# --- validate-yaml ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["# No front matter\n", "---\n---\nempty\n", "---\nlicense: mit\ntags: [a, b]\n---\nbody\n"],
)
def test_validate_yaml_accepts_valid_cards(http: httpx.Client, content: str) -> None:
    response = http.post("/api/validate-yaml", json={"content": content, "repoType": "model"})

    assert response.status_code == 200
    assert response.json() == {"errors": [], "warnings": []}


@pytest.mark.parametrize(
    "body",
    [
        {"content": "---\nlicense: [mit\n---\n", "repoType": "model"},
        {"content": "---\n- a list\n---\n", "repoType": "dataset"},
        {"content": 3, "repoType": "model"},
        {"content": "", "repoType": "kernel-of-corn"},
    ],
)
def test_validate_yaml_answers_invalid_cards_with_json_errors(
    http: httpx.Client, body: dict[str, Any]
) -> None:
    response = http.post("/api/validate-yaml", json=body)

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


def test_validate_yaml_answers_a_malformed_body_with_json(http: httpx.Client) -> None:
    response = http.post(
        "/api/validate-yaml", content=b"{", headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]


def test_preupload_refuses_paths_that_are_not_valid_unicode(http: httpx.Client, repo: str) -> None:
    body = b'{"files": [{"path": "\\ud800.txt", "size": 1, "sample": ""}]}'

    response = http.post(
        f"/api/models/{repo}/preupload/main",
        content=body,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert "surrogate" in response.json()["error"]
