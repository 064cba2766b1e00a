"""One path rule for every write path (issue 9, D5 and D14), and listings of deep trees.

A path git would refuse to check out (a name NTFS or HFS+ reads as `.git`, a name over 255
bytes), or one too long or too deep, is refused by the commit API and preupload, whatever the
operation names it; a tree stored before the rule, however deep, never breaks a listing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from hubstead.protocol import MAX_PATH_BYTES, MAX_PATH_COMPONENT_BYTES, MAX_PATH_DEPTH
from tests.helpers.accounts import HubUser
from tests.helpers.commits import add, branch_head, header, ndjson, post_commit
from tests.helpers.git import GitUser, repo_url
from tests.helpers.live_server import LiveServer
from tests.helpers.refs import commit_unchecked

REFUSED_PATHS = [
    ".GIT/config",
    "a/.Git/hooks/post-checkout",
    "git~1/config",
    "GIT~1/config",
    ".git./config",
    ".git ./config",
    ".git::$INDEX_ALLOCATION/config",
    ".git\u200c/config",
    "\ufeff.git/config",
    ".g\u200di\u206at/config",
    "n" * (MAX_PATH_COMPONENT_BYTES + 1),
    "\u00e9" * (MAX_PATH_COMPONENT_BYTES // 2 + 1),  # 2 bytes each in UTF-8
    "/".join(["d"] * MAX_PATH_DEPTH) + "/f",
    "/".join(["d"] * 2000) + "/f",
    "/".join(["n" * 200] * 6),
]
ACCEPTED_PATHS = [
    ".gitattributes",
    "a/.gitignore",
    "git~2/x",
    ".gitx/y",
    "n" * MAX_PATH_COMPONENT_BYTES,
    "/".join(["d"] * (MAX_PATH_DEPTH - 1)) + "/f",
]


def operation(kind: str, path: str) -> dict[str, object]:
    if kind == "file":
        return add(path, b"x")
    if kind == "lfsFile":
        oid = hashlib.sha256(b"x").hexdigest()
        return {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid}}
    return {"key": kind, "value": {"path": path}}


@pytest.mark.parametrize("kind", ["file", "lfsFile", "deletedFile", "deletedFolder"])
@pytest.mark.parametrize("path", REFUSED_PATHS, ids=lambda p: repr(p[:24]))
def test_the_commit_api_refuses_paths_a_clone_could_not_hold(
    http: httpx.Client, repo: str, path: str, kind: str
) -> None:
    before = branch_head(http, repo)

    response = post_commit(
        http, repo, ndjson(header(), add("ok.txt", b"ok"), operation(kind, path))
    )

    assert response.status_code == 400, response.text
    assert response.headers["x-error-message"].startswith("Invalid path")
    assert len(response.headers["x-error-message"]) < 400
    assert branch_head(http, repo) == before


@pytest.mark.parametrize("path", REFUSED_PATHS, ids=lambda p: repr(p[:24]))
def test_preupload_refuses_paths_a_clone_could_not_hold(
    http: httpx.Client, repo: str, path: str
) -> None:
    body = {"files": [{"path": path, "size": 1, "sample": "eA=="}]}

    response = http.post(f"/api/models/{repo}/preupload/main", json=body)

    assert response.status_code == 400, response.text
    assert response.headers["x-error-message"].startswith("Invalid path")


def test_paths_within_the_bounds_are_committed_and_cloned(
    live_server: LiveServer, user: HubUser, http: httpx.Client, repo: str, tmp_path: Path
) -> None:
    files = {path: path.encode() for path in ACCEPTED_PATHS}

    response = post_commit(http, repo, ndjson(header(), *(add(p, c) for p, c in files.items())))

    assert response.status_code == 200, response.text
    git = GitUser(tmp_path / "home")
    clone = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "c")
    for path, content in files.items():
        assert (clone / path).read_bytes() == content
    assert len(max(ACCEPTED_PATHS, key=len).encode()) <= MAX_PATH_BYTES


def test_a_tree_thousands_deep_stored_before_the_rule_never_breaks_a_listing(
    live_server: LiveServer, user: HubUser, http: httpx.Client, repo: str
) -> None:
    deep = "/".join(["d"] * 1200) + "/f.txt"  # deeper than Python's recursion limit
    commit_unchecked(live_server, user, repo, {deep: b"deep", "README.md": b"# deep\n"})

    info = http.get(f"/api/models/{repo}")
    listing = http.get("/api/models", params={"author": user.name, "full": "true"})
    tree = http.get(f"/api/models/{repo}/tree/main", params={"recursive": "true"})

    assert info.status_code == 200, info.text
    assert deep in [s["rfilename"] for s in info.json()["siblings"]]
    assert listing.status_code == 200, listing.text
    assert [m["id"] for m in listing.json()] == [repo]
    assert tree.status_code == 200, tree.text
    assert deep.startswith(tree.json()[-1]["path"])  # a page of the folders on the way
    assert http.get(f"/{repo}/resolve/main/{deep}").content == b"deep"


def test_a_card_or_config_nested_thousands_deep_never_breaks_repo_info(
    live_server: LiveServer, user: HubUser, http: httpx.Client, repo: str
) -> None:
    card = b"---\na: " + b"[" * 1200 + b"]" * 1200 + b"\n---\n# deep\n"
    config = b'{"model_type": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = post_commit(
        http, repo, ndjson(header(), add("README.md", card), add("config.json", config))
    )
    info = http.get(f"/api/models/{repo}")
    listing = http.get("/api/models", params={"author": user.name, "full": "true"})

    assert response.status_code == 200, response.text
    assert info.status_code == 200, info.text
    assert info.json()["sha"] == response.json()["commitOid"]
    assert listing.status_code == 200, listing.text


def _alias_bomb(levels: int) -> bytes:
    """YAML whose aliases expand to 10**levels strings (a "billion laughs" at levels=9)."""
    lines = ["a0: &a0 lol"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return ("---\n" + "\n".join(lines) + "\n---\n# laughs\n").encode()


def test_a_card_of_yaml_aliases_is_not_expanded_by_repo_info_or_listings(
    user: HubUser, http: httpx.Client, repo: str
) -> None:
    response = post_commit(http, repo, ndjson(header(), add("README.md", _alias_bomb(6))))
    info = http.get(f"/api/models/{repo}")
    listing = http.get("/api/models", params={"author": user.name, "full": "true"})

    assert response.status_code == 200, response.text
    assert info.status_code == 200, info.text
    assert "cardData" not in info.json() or not info.json()["cardData"]
    assert listing.status_code == 200, listing.text


def test_validate_yaml_refuses_a_card_of_yaml_aliases(http: httpx.Client) -> None:
    content = _alias_bomb(9).decode()
    response = http.post("/api/validate-yaml", json={"content": content, "repoType": "model"})

    assert response.status_code == 400
    assert "alias" in response.json()["errors"][0]["message"]
