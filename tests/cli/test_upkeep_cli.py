"""`hubstead fsck` and `hubstead gc` on the data dir of a running hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from huggingface_hub import hf_hub_download

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, make_user
from tests.helpers.live_server import LiveServer
from tests.helpers.storage import blob_path, lfs_bytes, storage_args, upload_lfs
from tests.helpers.xet import stored_xorbs


@pytest.fixture
def owner(fresh_server: LiveServer) -> HubUser:
    return make_user(fresh_server)


def run(server: LiveServer, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, *storage_args(server)])


def test_fsck_of_a_healthy_hub_exits_0_with_a_summary_and_progress_on_stderr(
    fresh_server: LiveServer, owner: HubUser
) -> None:
    repo = f"{owner.name}/healthy"
    owner.api.create_repo(repo)
    upload_lfs(owner.api, repo, "w.bin", lfs_bytes("ok", 1000))

    result = run(fresh_server, "fsck")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines() == [
        "Checked 1 objects (1002 bytes) and 1 repos: no damage found."
    ]
    assert "objects: 1/1 (1002 bytes read)" in result.stderr
    assert "repos: 1/1" in result.stderr


def test_fsck_exits_1_and_names_the_corrupt_object_and_the_dangling_pointer(
    fresh_server: LiveServer, owner: HubUser
) -> None:
    repo = f"{owner.name}/damaged"
    owner.api.create_repo(repo)
    corrupt = upload_lfs(owner.api, repo, "corrupt.bin", lfs_bytes("c"))
    lost = upload_lfs(owner.api, repo, "lost/file.bin", lfs_bytes("l"))
    blob_path(fresh_server, corrupt).write_bytes(b"\0" * 257)
    blob_path(fresh_server, lost).unlink()

    human = run(fresh_server, "fsck")
    as_json = run(fresh_server, "fsck", "--json")

    assert human.exit_code == 1
    lines = human.stdout.splitlines()
    assert any(line.startswith(f"CORRUPT   object {corrupt}") for line in lines)
    assert any(
        line.startswith(f"DANGLING  model {repo}: 'lost/file.bin' at the tip of refs/heads/main")
        and line.endswith(f"object {lost} (257 bytes) is missing")
        for line in lines
    )
    assert any(line.startswith(f"INDEX     model {repo}: linked object {lost}") for line in lines)
    assert lines[-1].endswith(
        "1 corrupt objects, 1 dangling pointers, 1 index rows without their object, "
        "0 unreadable repos."
    )
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["damaged"] is True
    assert [c["sha256"] for c in report["corrupt"]] == [corrupt]
    assert [(d["path"], d["stored_size"]) for d in report["dangling"]] == [("lost/file.bin", None)]


def test_gc_run_by_the_installed_command_collects_a_deleted_repo_while_the_hub_serves(
    fresh_server: LiveServer, owner: HubUser, tmp_path: Path
) -> None:
    gone, kept = f"{owner.name}/gone", f"{owner.name}/kept"
    for repo in (gone, kept):
        owner.api.create_repo(repo)
    garbage = upload_lfs(owner.api, gone, "g.bin", lfs_bytes("garbage"))
    data = lfs_bytes("kept")
    upload_lfs(owner.api, kept, "k.bin", data)
    owner.api.delete_repo(gone)
    command = [sys.executable, "-m", "hubstead.cli", "gc", *storage_args(fresh_server)]

    dry = subprocess.run(
        [*command, "--dry-run", "--grace-hours", "0"], capture_output=True, text=True, timeout=120
    )
    assert dry.returncode == 0, dry.stderr
    assert f"Would remove object {garbage} (263 bytes, 0.0 h old)" in dry.stdout
    assert blob_path(fresh_server, garbage).exists()

    default_grace = run(fresh_server, "gc")
    assert default_grace.exit_code == 0, default_grace.output
    assert "Removed 0 objects" in default_grace.stdout
    assert "1 unreferenced ones younger than 24 h" in default_grace.stdout

    done = subprocess.run(
        [*command, "--grace-hours", "0", "--json"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [o["sha256"] for o in report["objects"]] == [garbage]
    assert (report["freed_bytes"], report["dry_run"], report["referenced"]) == (263, False, 1)
    assert not blob_path(fresh_server, garbage).exists()
    local = hf_hub_download(
        kept, "k.bin", endpoint=fresh_server.url, token=owner.token, cache_dir=tmp_path
    )
    assert Path(local).read_bytes() == data


def test_fsck_and_gc_report_xorbs_and_xet_files(
    fresh_server: LiveServer, owner: HubUser, monkeypatch: pytest.MonkeyPatch, xet: None
) -> None:
    kept, gone = f"{owner.name}/kept", f"{owner.name}/gone"
    for repo in (kept, gone):
        owner.api.create_repo(repo)
    upload_lfs(owner.api, kept, "k.bin", os.urandom(100_000))
    before = set(stored_xorbs(fresh_server))
    garbage = upload_lfs(owner.api, gone, "g.bin", os.urandom(100_000))
    (xorb,) = set(stored_xorbs(fresh_server)) - before
    owner.api.delete_repo(gone)

    fsck = run(fresh_server, "fsck")
    monkeypatch.setenv("HUBSTEAD_XET_XORB_GRACE_SECONDS", "0")
    dry = run(fresh_server, "gc", "--dry-run", "--grace-hours", "0")

    assert fsck.exit_code == 0, fsck.output
    assert fsck.stdout.splitlines()[-1].startswith("Checked 0 objects (0 bytes), 2 xorbs (")
    assert fsck.stdout.splitlines()[-1].endswith(
        "holding 2 Xet files, and 1 repos: no damage found."
    )
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert any("Would remove Xet file" in line and garbage in line for line in lines)
    assert any(line.startswith(f"Would remove xorb {xorb.name} (") for line in lines)
    assert lines[-1].endswith(
        "Would remove 1 Xet files no repo links and 1 xorbs; kept 1 xorbs in use and 0 unused "
        "ones younger than 0 h."
    )
    assert xorb.exists()
    size = xorb.stat().st_size
    gc = run(fresh_server, "gc", "--grace-hours", "0", "--json")
    assert gc.exit_code == 0, gc.output
    report = json.loads(gc.stdout)
    assert [x["hash"] for x in report["xet"]["xorbs"]] == [xorb.name]
    assert report["freed_bytes"] == size
    assert not xorb.exists()
    xorb_file = next(iter(before))
    xorb_file.write_bytes(xorb_file.read_bytes()[:-1])
    damaged = run(fresh_server, "fsck")
    assert damaged.exit_code == 1
    assert f"XORB      xorb {xorb_file.name} (" in damaged.stdout
    assert "1 missing or corrupt xorbs, 0 Xet files naming what no xorb holds" in damaged.stdout


def test_gc_refuses_a_negative_grace_period(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["gc", "--grace-hours", "-1", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "--grace-hours must be 0 or more" in result.output


def test_fsck_and_gc_are_listed_in_the_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0
    assert "fsck" in result.output and "gc" in result.output
