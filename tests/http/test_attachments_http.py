"""Attachments over raw HTTP: `POST /uploads` refusals the official client cannot send (other
types, chunked bodies past the cap, empty bodies), and how `GET|HEAD /attachments/...` serves."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.live_server import LiveServer

MiB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n"


def upload(http: httpx.Client, content: bytes, content_type: str = "image/png") -> httpx.Response:
    return http.post("/uploads", content=content, headers={"content-type": content_type})


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/html", b"<html><script>alert(1)</script></html>"),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'),
        ("application/octet-stream", PNG + b"x"),
        ("", PNG + b"x"),
    ],
)
def test_types_other_than_the_clients_are_refused_with_415(
    http: httpx.Client, content_type: str, content: bytes
) -> None:
    refused = upload(http, content, content_type)

    assert refused.status_code == 415
    assert "image/png" in refused.json()["error"]  # names what is accepted


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("image/png", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("image/gif", PNG + b"x"),
        ("video/mp4", b"\x1a\x45\xdf\xa3webm"),
        ("audio/wav", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
    ],
)
def test_bytes_that_are_not_the_declared_type_are_refused_with_415(
    http: httpx.Client, content_type: str, content: bytes
) -> None:
    assert upload(http, content, content_type).status_code == 415


def test_an_empty_body_is_refused_with_400(http: httpx.Client) -> None:
    assert upload(http, b"").status_code == 400


def test_a_chunked_body_is_cut_off_at_the_cap_with_413(http: httpx.Client) -> None:
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield PNG
        for _ in range(20):
            sent += MiB
            yield bytes(MiB)

    refused = http.post("/uploads", content=body(), headers={"content-type": "image/png"})

    assert refused.status_code == 413
    assert "10 MiB" in refused.json()["error"]


def test_a_video_may_be_larger_than_an_image(http: httpx.Client) -> None:
    content = b"\x00\x00\x00\x20ftypisom" + bytes(12 * MiB)

    assert upload(http, content, "video/mp4").status_code == 200
    assert upload(http, content[:8] + b"\x00" * (51 * MiB), "video/mp4").status_code == 413


def test_an_attachment_is_served_inert_with_ranges_and_head(
    live_server: LiveServer, http: httpx.Client
) -> None:
    content = PNG + os.urandom(100_000)
    url = upload(http, content).text
    sha256 = hashlib.sha256(content).hexdigest()
    assert url == f"{live_server.url}/attachments/{sha256}.png"

    whole = httpx.get(url)
    part = httpx.get(url, headers={"range": "bytes=8-15"})
    head = httpx.head(url)

    assert whole.content == content
    assert whole.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["etag"] == f'"{sha256}"'
    assert (part.status_code, part.content) == (206, content[8:16])
    assert part.headers["content-range"] == f"bytes 8-15/{len(content)}"
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(content))
    assert head.headers["content-type"] == "image/png"


def test_unknown_or_misnamed_attachments_are_404(
    live_server: LiveServer, http: httpx.Client
) -> None:
    url = upload(http, b"GIF89a" + os.urandom(100), "image/gif").text

    assert httpx.get(url.replace(".gif", ".png")).status_code == 404
    assert httpx.get(url.replace(".gif", "")).status_code == 404
    assert httpx.get(f"{live_server.url}/attachments/{'0' * 64}.gif").status_code == 404
    assert httpx.get(f"{live_server.url}/attachments/..%2F..%2Fetc%2Fpasswd").status_code == 404
