"""Discussion attachments through the official client: `HfApi.upload_attachment`.

Each accepted kind goes up and its URL serves the same bytes with the type it was sent as,
as inert media; what is not an image, video or audio file, or lies about being one, or is too
large, or comes without a write token, is refused; an LFS object is never served as one.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, RepoFile
from huggingface_hub.errors import HfHubHTTPError

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer

MiB = 1024 * 1024

# The first bytes of a file of each kind the client sends (its `_ATTACHMENT_CONTENT_TYPES`).
KINDS = {
    ".png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    ".jpg": (b"\xff\xd8\xff\xe0", "image/jpeg"),
    ".jpeg": (b"\xff\xd8\xff\xdb", "image/jpeg"),
    ".gif": (b"GIF89a", "image/gif"),
    ".webp": (b"RIFF\x00\x10\x00\x00WEBPVP8 ", "image/webp"),
    ".mp4": (b"\x00\x00\x00\x20ftypisom", "video/mp4"),
    ".mov": (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
    ".webm": (b"\x1a\x45\xdf\xa3", "video/webm"),
    ".mp3": (b"ID3\x04\x00", "audio/mpeg"),
    ".wav": (b"RIFF\x00\x10\x00\x00WAVEfmt ", "audio/wav"),
}


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("suffix", list(KINDS))
def test_each_kind_uploads_and_its_url_serves_the_same_bytes_as_inert_media(
    live_server: LiveServer, hf_api: HfApi, tmp_path: Path, suffix: str
) -> None:
    magic, content_type = KINDS[suffix]
    content = magic + os.urandom(50_000)

    url = hf_api.upload_attachment(write(tmp_path, "file" + suffix, content))

    sha256 = hashlib.sha256(content).hexdigest()
    assert url.startswith(f"{live_server.url}/attachments/{sha256}.")
    served = httpx.get(url)
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-type"] == content_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert "immutable" in served.headers["cache-control"]


def test_the_same_file_uploaded_twice_has_one_url(hf_api: HfApi, tmp_path: Path) -> None:
    path = write(tmp_path, "a.gif", b"GIF87a" + os.urandom(1000))

    assert hf_api.upload_attachment(path) == hf_api.upload_attachment(path)


def test_a_page_sent_as_an_image_is_refused(hf_api: HfApi, tmp_path: Path) -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"

    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.upload_attachment(write(tmp_path, "evil.png", page))

    assert caught.value.response.status_code == 415
    assert "image/png" in caught.value.response.headers["X-Error-Message"]


def test_a_type_the_client_does_not_send_is_refused_before_any_request(
    hf_api: HfApi, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="supported formats"):
        hf_api.upload_attachment(write(tmp_path, "page.svg", b"<svg/>"))


def test_an_image_over_10_mib_is_refused(hf_api: HfApi, tmp_path: Path) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(10 * MiB)

    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.upload_attachment(write(tmp_path, "big.png", content))

    assert caught.value.response.status_code == 413


def test_anonymous_callers_cannot_upload(anonymous: HfApi, tmp_path: Path) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        anonymous.upload_attachment(write(tmp_path, "a.png", b"\x89PNG\r\n\x1a\n"), token=False)

    assert caught.value.response.status_code == 401


def test_a_read_token_cannot_upload(live_server: LiveServer, tmp_path: Path) -> None:
    reader = make_user(live_server, role=Role.READ)

    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.upload_attachment(write(tmp_path, "a.png", b"\x89PNG\r\n\x1a\n"))

    assert caught.value.response.status_code == 403


def test_an_lfs_object_is_not_served_as_an_attachment(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    # A PNG in a repo, stored as an LFS object: only the attachment table makes bytes servable.
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(200_000)
    user.api.upload_file(path_or_fileobj=content, path_in_repo="weights.bin", repo_id=repo)
    (info,) = user.api.get_paths_info(repo, ["weights.bin"])
    sha256 = hashlib.sha256(content).hexdigest()
    assert isinstance(info, RepoFile) and info.lfs is not None and info.lfs.sha256 == sha256

    served = httpx.get(f"{live_server.url}/attachments/{sha256}.png")

    assert served.status_code == 404
    assert served.content != content
