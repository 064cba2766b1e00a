"""The hub on the s3 blob backend, against moto's S3 API server, with the official client.

LFS files (through the LFS API, whole and in multipart parts) and Xet files go up and come
back byte for byte, their bytes live in the bucket and not in the data dir, and `hubstead
fsck` and `gc` check and collect them there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from huggingface_hub import hf_hub_download

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.lfs import SMALL_LFS_SETTINGS, MiB, sha256
from tests.helpers.live_server import LiveServer, start_server
from tests.helpers.s3 import MotoS3
from tests.helpers.storage import storage_args, upload_lfs


@pytest.fixture
def bucket(moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket, and the hub's settings naming it in the environment (for the CLI)."""
    name = moto_s3.new_bucket()
    for key, value in moto_s3.aws_environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HUBSTEAD_BLOB_BACKEND", "s3")
    monkeypatch.setenv("HUBSTEAD_S3_BUCKET", name)
    monkeypatch.setenv("HUBSTEAD_S3_PREFIX", "hub")
    monkeypatch.setenv("HUBSTEAD_S3_ENDPOINT_URL", moto_s3.endpoint_url)
    return name


@pytest.fixture
def s3_hub(tmp_path: Path, bucket: str, moto_s3: MotoS3) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path / "hub",
        blob_backend="s3",
        s3_bucket=bucket,
        s3_prefix="hub",
        s3_endpoint_url=moto_s3.endpoint_url,
        **SMALL_LFS_SETTINGS,
    )
    yield server
    server.stop()


@pytest.fixture
def owner(s3_hub: LiveServer) -> HubUser:
    return make_user(s3_hub)


def keys(moto_s3: MotoS3, bucket: str, area: str) -> list[str]:
    listed = moto_s3.client().list_objects_v2(Bucket=bucket, Prefix=f"hub/{area}/")
    return sorted(found["Key"].rsplit("/", 1)[-1] for found in listed.get("Contents", []))


def run(server: LiveServer, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, *storage_args(server)])


def download(server: LiveServer, owner: HubUser, repo: str, path: str, cache: Path) -> bytes:
    local = hf_hub_download(repo, path, endpoint=server.url, token=owner.token, cache_dir=cache)
    return Path(local).read_bytes()


def test_lfs_files_live_in_the_bucket_come_back_whole_and_are_checked_and_collected(
    s3_hub: LiveServer, owner: HubUser, moto_s3: MotoS3, bucket: str, tmp_path: Path
) -> None:
    kept, gone = f"{owner.name}/kept", f"{owner.name}/gone"
    for repo in (kept, gone):
        owner.api.create_repo(repo)
    small = os.urandom(300_000)
    large = os.urandom(5 * MiB + 321)  # past the 4 MiB threshold: 6 parts of 1 MiB
    upload_lfs(owner.api, kept, "small.bin", small)
    upload_lfs(owner.api, kept, "large.bin", large)
    garbage = upload_lfs(owner.api, gone, "g.bin", os.urandom(1000))

    assert download(s3_hub, owner, kept, "small.bin", tmp_path / "c1") == small
    assert download(s3_hub, owner, kept, "large.bin", tmp_path / "c2") == large
    assert keys(moto_s3, bucket, "blobs") == sorted([sha256(small), sha256(large), garbage])
    assert not (s3_hub.data_dir / "blobs").exists()
    ranged = httpx.get(
        f"{s3_hub.url}/{kept}/resolve/main/large.bin",
        headers={"authorization": f"Bearer {owner.token}", "range": "bytes=1048570-1048585"},
        follow_redirects=True,
    )
    assert ranged.status_code == 206
    assert ranged.content == large[1048570:1048586]

    fsck = run(s3_hub, "fsck")
    assert fsck.exit_code == 0, fsck.output
    assert fsck.stdout.splitlines()[-1] == (
        "Checked 3 objects (5.3 MiB) and 2 repos: no damage found."
    )
    owner.api.delete_repo(gone)
    gc = run(s3_hub, "gc", "--grace-hours", "0", "--json")
    assert gc.exit_code == 0, gc.output
    assert [o["sha256"] for o in json.loads(gc.stdout)["objects"]] == [garbage]
    assert keys(moto_s3, bucket, "blobs") == sorted([sha256(small), sha256(large)])
    assert download(s3_hub, owner, kept, "large.bin", tmp_path / "c3") == large

    moto_s3.client().put_object(
        Bucket=bucket,
        Key=f"hub/blobs/{sha256(small)[:2]}/{sha256(small)[2:4]}/{sha256(small)}",
        Body=b"broken",
    )
    damaged = run(s3_hub, "fsck")
    assert damaged.exit_code == 1
    assert f"CORRUPT   object {sha256(small)}" in damaged.stdout


@pytest.mark.usefixtures("xet")
def test_xet_files_live_in_the_bucket_come_back_whole_and_are_checked_and_collected(
    s3_hub: LiveServer,
    owner: HubUser,
    moto_s3: MotoS3,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept, gone = f"{owner.name}/kept", f"{owner.name}/gone"
    for repo in (kept, gone):
        owner.api.create_repo(repo)
    data = os.urandom(300_000)
    upload_lfs(owner.api, kept, "k.bin", data)
    before = set(keys(moto_s3, bucket, "xorbs"))
    upload_lfs(owner.api, gone, "g.bin", os.urandom(200_000))
    (xorb,) = set(keys(moto_s3, bucket, "xorbs")) - before

    assert download(s3_hub, owner, kept, "k.bin", tmp_path / "c1") == data
    assert before and keys(moto_s3, bucket, "blobs") == []
    assert not (s3_hub.data_dir / "xorbs").exists()

    fsck = run(s3_hub, "fsck")
    assert fsck.exit_code == 0, fsck.output
    assert "2 xorbs" in fsck.stdout.splitlines()[-1]
    owner.api.delete_repo(gone)
    monkeypatch.setenv("HUBSTEAD_XET_XORB_GRACE_SECONDS", "0")
    gc = run(s3_hub, "gc", "--grace-hours", "0", "--json")
    assert gc.exit_code == 0, gc.output
    assert [x["hash"] for x in json.loads(gc.stdout)["xet"]["xorbs"]] == [xorb]
    assert set(keys(moto_s3, bucket, "xorbs")) == before
    assert download(s3_hub, owner, kept, "k.bin", tmp_path / "c2") == data


def test_serve_stops_with_a_clear_message_when_the_bucket_does_not_answer(
    tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSTEAD_S3_BUCKET", "no-such-bucket")
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path), "--port", "0"])
    assert result.exit_code != 0
    assert "cannot reach the S3 bucket 'no-such-bucket'" in result.output
    assert "AWS credentials" in result.output


def test_attachments_live_in_the_bucket_and_are_streamed_with_their_headers(
    s3_hub: LiveServer, owner: HubUser, moto_s3: MotoS3, bucket: str, tmp_path: Path
) -> None:
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(300_000)
    image = tmp_path / "shot.png"
    image.write_bytes(content)

    url = owner.api.upload_attachment(image)

    assert keys(moto_s3, bucket, "attachments") == [sha256(content)]
    assert not any((s3_hub.data_dir / "attachments").rglob(sha256(content)))
    whole = httpx.get(url)
    part = httpx.get(url, headers={"range": "bytes=1-3"})
    assert whole.status_code == 200 and whole.content == content
    assert whole.headers["content-type"] == "image/png"
    assert whole.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert (part.status_code, part.content) == (206, b"PNG")
