"""Tree and paths-info over raw HTTP: pagination, encoded paths, bad input."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.helpers.commits import commit_files


def follow_pages(http: httpx.Client, url: str, params: dict[str, str]) -> list[list[str]]:
    pages = []
    response = http.get(url, params=params)
    while True:
        assert response.status_code == 200, response.text
        pages.append([entry["path"] for entry in response.json()])
        if "next" not in response.links:
            return pages
        next_url = response.links["next"]["url"]
        assert next_url.startswith("http://")
        response = http.get(next_url)


@pytest.mark.parametrize("expand", ["false", "true"])
def test_tree_pages_follow_the_link_header_until_every_entry_is_seen(
    http: httpx.Client, repo: str, expand: str
) -> None:
    files = {f"d{i % 3}/f{i:02}.txt": b"x" for i in range(20)}
    commit_files(http, repo, files)
    url = f"/api/models/{repo}/tree/main"

    pages = follow_pages(http, url, {"recursive": "true", "expand": expand, "limit": "7"})

    seen = [path for page in pages for path in page]
    assert [len(page) for page in pages] == [7, 7, 7, 3]
    assert sorted(seen) == sorted([".gitattributes", "d0", "d1", "d2", *files])
    assert len(seen) == len(set(seen))


def test_tree_without_limit_fits_one_page(http: httpx.Client, repo: str) -> None:
    commit_files(http, repo, {"a.txt": b"a"})

    response = http.get(f"/api/models/{repo}/tree/main")

    assert "link" not in response.headers
    assert len(response.json()) == 2


def test_tree_entries_have_the_hub_shape(http: httpx.Client, repo: str) -> None:
    commit_files(http, repo, {"folder/a.txt": b"abc"})

    entries = http.get(f"/api/models/{repo}/tree/main", params={"expand": "true"}).json()

    by_path = {entry["path"]: entry for entry in entries}
    assert set(by_path["folder"]) >= {"type", "path", "oid", "lastCommit"}
    assert by_path["folder"]["type"] == "directory"
    file_entry = http.get(f"/api/models/{repo}/tree/main/folder").json()[0]
    assert file_entry["type"] == "file"
    assert file_entry["size"] == 3
    assert set(file_entry) >= {"oid", "path"}
    assert "xetHash" not in file_entry
    assert by_path["folder"]["lastCommit"]["date"].endswith("Z")


def test_tree_paths_with_encoded_slashes_and_special_characters(
    http: httpx.Client, repo: str
) -> None:
    commit_files(http, repo, {"a b/c#d/é.txt": b"x"})

    response = http.get(f"/api/models/{repo}/tree/main/{quote('a b/c#d', safe='')}")

    assert response.status_code == 200
    assert [entry["path"] for entry in response.json()] == ["a b/c#d/é.txt"]


def test_tree_of_a_missing_folder_is_entry_not_found(http: httpx.Client, repo: str) -> None:
    response = http.get(f"/api/models/{repo}/tree/main/missing")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "EntryNotFound"


def test_tree_at_an_unknown_revision_is_revision_not_found(http: httpx.Client, repo: str) -> None:
    response = http.get(f"/api/models/{repo}/tree/nope")

    assert response.status_code == 404
    assert response.headers["x-error-code"] == "RevisionNotFound"


@pytest.mark.parametrize(
    "params", [{"cursor": "not-a-cursor"}, {"limit": "0"}, {"limit": "x"}, {"recursive": "maybe"}]
)
def test_tree_refuses_bad_query_parameters(
    http: httpx.Client, repo: str, params: dict[str, str]
) -> None:
    response = http.get(f"/api/models/{repo}/tree/main", params=params)

    assert response.status_code == 400


def test_paths_info_accepts_form_and_json_bodies(http: httpx.Client, repo: str) -> None:
    commit_files(http, repo, {"a.txt": b"a", "dir/b.txt": b"b"})
    url = f"/api/models/{repo}/paths-info/main"

    form = http.post(url, data={"paths": ["a.txt", "dir", "missing"], "expand": "false"})
    as_json = http.post(url, json={"paths": ["dir", "a.txt"], "expand": True})

    assert [entry["path"] for entry in form.json()] == ["a.txt", "dir"]
    assert [entry["path"] for entry in as_json.json()] == ["dir", "a.txt"]
    assert all("lastCommit" in entry for entry in as_json.json())


def test_paths_info_refuses_a_malformed_body(http: httpx.Client, repo: str) -> None:
    url = f"/api/models/{repo}/paths-info/main"
    json_type = {"content-type": "application/json"}

    assert http.post(url, json={"paths": [1, 2]}).status_code == 400
    lone_surrogate = b'{"paths": ["\\ud800"]}'
    assert http.post(url, content=lone_surrogate, headers=json_type).status_code == 400
    assert http.post(url, content=b"{", headers=json_type).status_code == 400


def test_tree_pages_of_a_folder_with_awkward_characters(http: httpx.Client, repo: str) -> None:
    folder = "a;b c,<d>é%"
    files = {f"{folder}/f{i}.txt": b"x" for i in range(5)}
    commit_files(http, repo, files)
    url = f"/api/models/{repo}/tree/main/{quote(folder, safe='')}"

    pages = follow_pages(http, url, {"limit": "2"})

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(path for page in pages for path in page) == sorted(files)
