"""`hubstead cache scan|delete` on a cache filled by both clients from the live hub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import huggingface_hub as hf
import pytest
from click.testing import CliRunner, Result
from huggingface_hub import CommitOperationAdd

from hubstead.cli.main import cli
from hubstead.client.api import HfApi
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def commit(user: HubUser, repo: str, files: dict[str, bytes]) -> str:
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    return str(user.api.create_commit(repo, operations, commit_message="c").oid)


@pytest.fixture
def cache(live_server: LiveServer, user: HubUser, repo: str, tmp_path: Path) -> Path:
    """A cache with two revisions of `repo`: one by hubstead, the next by huggingface_hub."""
    root = tmp_path / "cache"
    commit(user, repo, {"shared.bin": b"\0" * 3000, "a.txt": b"first"})
    with HfApi(endpoint=live_server.url, token=user.token, trust_env=False) as api:
        api.snapshot_download(repo, cache_dir=root)
    commit(user, repo, {"a.txt": b"second!"})
    hf.snapshot_download(repo, endpoint=live_server.url, token=user.token, cache_dir=root)
    return root


def scan(cache: Path) -> Any:
    result = run("cache", "scan", "--cache-dir", str(cache), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_scan_lists_repos_revisions_refs_and_sizes(cache: Path, repo: str) -> None:
    report = scan(cache)

    (entry,) = report["repos"]
    assert (entry["repo_id"], entry["repo_type"]) == (repo, "model")
    assert len(entry["revisions"]) == 2
    assert list(entry["refs"]) == ["main"]
    blobs = list((cache / f"models--{repo.replace('/', '--')}" / "blobs").iterdir())
    assert entry["size_on_disk"] == sum(p.stat().st_size for p in blobs)
    assert report["size_on_disk"] == entry["size_on_disk"]


def test_scan_prints_a_table_for_humans(cache: Path, repo: str) -> None:
    result = run("cache", "scan", "--cache-dir", str(cache))

    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:3] == ["REPO_ID", "TYPE", "SIZE"]
    assert row.split()[:2] == [repo, "model"]
    assert "1 repo(s)" in result.stderr


def test_delete_of_an_old_revision_keeps_the_blobs_the_other_still_uses(
    cache: Path, repo: str
) -> None:
    entry = scan(cache)["repos"][0]
    new = entry["refs"]["main"]
    (old,) = [r["commit_hash"] for r in entry["revisions"] if r["commit_hash"] != new]

    result = run("cache", "delete", repo, "--revision", old, "--cache-dir", str(cache), "--yes")

    assert result.exit_code == 0, result.output
    assert [r["commit_hash"] for r in scan(cache)["repos"][0]["revisions"]] == [new]
    # The official client still finds every file of the remaining revision offline.
    folder = Path(hf.snapshot_download(repo, cache_dir=cache, local_files_only=True))
    assert (folder / "shared.bin").read_bytes() == b"\0" * 3000
    assert (folder / "a.txt").read_bytes() == b"second!"
    (cached,) = hf.scan_cache_dir(cache).repos
    (revision,) = cached.revisions
    assert revision.commit_hash == new
    assert sorted(f.file_name for f in revision.files) == [".gitattributes", "a.txt", "shared.bin"]


def test_delete_of_a_whole_repo_needs_confirmation(cache: Path, repo: str) -> None:
    refused = run("cache", "delete", repo, "--cache-dir", str(cache))
    assert refused.exit_code == 1
    assert scan(cache)["repos"]

    result = run("cache", "delete", repo, "--cache-dir", str(cache), "-y", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["freed"] > 3000
    assert scan(cache)["repos"] == []
    assert not (cache / ".locks" / f"models--{repo.replace('/', '--')}").exists()


def test_delete_of_what_is_not_cached_exits_2(cache: Path, repo: str, tmp_path: Path) -> None:
    unknown_repo = run("cache", "delete", "a/b", "--cache-dir", str(cache), "--yes")
    unknown_revision = run(
        "cache", "delete", repo, "--revision", "nope", "--cache-dir", str(cache), "--yes"
    )
    no_cache = run("cache", "scan", "--cache-dir", str(tmp_path / "none"))

    assert (unknown_repo.exit_code, unknown_revision.exit_code, no_cache.exit_code) == (2, 2, 2)
    assert "not cached" in unknown_revision.output
