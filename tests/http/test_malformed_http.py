"""Malformed input gets a 4xx with the HF error headers, never a 500 (issue 9, D13 and D15).

Numbers in any script but ASCII, numbers with thousands of digits, JSON nested a hundred
thousand deep, and ranges of an empty file.
"""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.commits import add, header, ndjson, post_commit
from tests.helpers.lfs import batch, sha256
from tests.helpers.profiles import hub_serves_downloads

HUGE = "9" * 5000
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def seeded(http: httpx.Client, repo: str) -> str:
    body = ndjson(header(), add("data.txt", b"0123456789"), add("empty.txt", b""))
    assert post_commit(http, repo, body).status_code == 200
    return repo


def assert_refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["x-error-message"]


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1\u00b2", "-1", "0", "1e3", " 5"])
def test_a_limit_that_is_not_ascii_digits_is_refused(
    http: httpx.Client, seeded: str, value: str
) -> None:
    assert_refused(http.get("/api/models", params={"limit": value}), 400)
    assert_refused(http.get(f"/api/models/{seeded}/tree/main", params={"limit": value}), 400)


def test_a_limit_of_thousands_of_digits_means_the_most_allowed(
    http: httpx.Client, seeded: str
) -> None:
    response = http.get(f"/api/models/{seeded}/tree/main", params={"limit": HUGE})

    assert response.status_code == 200
    assert {e["path"] for e in response.json()} == {".gitattributes", "data.txt", "empty.txt"}


@pytest.mark.parametrize(
    ("range_header", "status", "content_range"),
    [
        (f"bytes={HUGE}-", 416, "bytes */10"),
        (f"bytes=0{HUGE}-", 416, "bytes */10"),
        (f"bytes=2-{HUGE}", 206, "bytes 2-9/10"),
        (f"bytes=-{HUGE}", 206, "bytes 0-9/10"),
        (f"bytes={'0' * 5000}5-", 206, "bytes 5-9/10"),
        ("bytes=\u00b2-", 200, None),  # not ASCII digits: the whole file
    ],
    ids=["huge-start", "zero-huge-start", "huge-end", "huge-suffix", "zeros-start", "superscript"],
)
def test_ranges_with_thousands_of_digits_are_answered(
    http: httpx.Client,
    seeded: str,
    range_header: str,
    status: int,
    content_range: str | None,
) -> None:
    # Headers travel as Latin-1 (how the superscript two reaches the server).
    headers = [(b"range", range_header.encode("latin-1"))]
    response = http.get(f"/{seeded}/resolve/main/data.txt", headers=headers)

    assert response.status_code == status, response.text
    assert response.headers.get("content-range") == content_range


@pytest.mark.parametrize("range_header", ["bytes=-5", "bytes=-1", "bytes=0-", "bytes=0-0"])
def test_any_range_of_an_empty_file_is_unsatisfiable(
    http: httpx.Client, seeded: str, range_header: str
) -> None:
    response = http.get(f"/{seeded}/resolve/main/empty.txt", headers={"range": range_header})

    assert_refused(response, 416)
    assert response.headers["content-range"] == "bytes */0"


@hub_serves_downloads
def test_any_range_of_an_empty_lfs_file_is_unsatisfiable(http: httpx.Client, repo: str) -> None:
    empty = {"oid": sha256(b""), "size": 0}
    answer = batch(http, repo, "upload", [empty])
    assert answer.status_code == 200, answer.text
    actions = answer.json()["objects"][0].get("actions", {})
    if "upload" in actions:
        upload = actions["upload"]
        http.put(upload["href"], content=b"", headers=upload.get("header")).raise_for_status()
    if "verify" in actions:
        http.post(actions["verify"]["href"], json=empty).raise_for_status()
    line = {"key": "lfsFile", "value": {"path": "empty.bin", "algo": "sha256", **empty}}
    assert post_commit(http, repo, ndjson(header(), line)).status_code == 200

    response = http.get(
        f"/{repo}/resolve/main/empty.bin", headers={"range": "bytes=-5"}, follow_redirects=True
    )

    assert_refused(response, 416)
    assert response.headers["content-range"] == "bytes */0"


def test_json_nested_a_hundred_thousand_deep_is_refused(http: httpx.Client, seeded: str) -> None:
    body = b'{"paths": ' + DEEP_JSON + b"}"

    response = http.post(
        f"/api/models/{seeded}/paths-info/main",
        content=body,
        headers={"content-type": "application/json"},
    )

    assert_refused(response, 400)
    assert "nested more than" in response.json()["error"]


def test_a_commit_line_nested_a_hundred_thousand_deep_is_refused(
    http: httpx.Client, seeded: str
) -> None:
    response = post_commit(http, seeded, ndjson(header()) + DEEP_JSON + b"\n")

    assert_refused(response, 400)
    assert "not JSON" in response.json()["error"]


def test_an_lfs_batch_nested_a_hundred_thousand_deep_is_refused(
    http: httpx.Client, seeded: str
) -> None:
    response = http.post(
        f"/{seeded}.git/info/lfs/objects/batch",
        content=b'{"operation": "download", "objects": ' + DEEP_JSON + b"}",
        headers={"content-type": "application/vnd.git-lfs+json"},
    )

    assert response.status_code in (400, 422), response.text
