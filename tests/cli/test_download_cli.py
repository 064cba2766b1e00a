"""`hubstead download` against the live hub; files put in place with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from huggingface_hub import CommitOperationAdd

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.helpers.static_hub import StaticHub

Run = Callable[..., Result]
FILES = {"config.json": b"{}", "model.bin": b"\0weights", "docs/a.md": b"# a", "docs/b.md": b"# b"}


@pytest.fixture
def run(live_server: LiveServer, user: HubUser, tmp_path: Path) -> Run:
    """Run a command on the live hub as `user`, with a cache of the test's own."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {
            "HF_ENDPOINT": live_server.url,
            "HF_TOKEN": token,
            "HF_HUB_CACHE": str(tmp_path / "cache"),
        }
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


@pytest.fixture
def seeded(user: HubUser, repo: str) -> str:
    operations = [CommitOperationAdd(path, content) for path, content in FILES.items()]
    return str(user.api.create_commit(repo, operations, commit_message="seed").oid)


def test_download_of_one_file_prints_its_path_in_the_cache(
    run: Run, repo: str, seeded: str, tmp_path: Path
) -> None:
    result = run("download", repo, "docs/a.md")

    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    folder = tmp_path / "cache" / f"models--{repo.replace('/', '--')}"
    assert path == folder / "snapshots" / seeded / "docs" / "a.md"
    assert path.read_bytes() == b"# a"


def test_download_of_a_repo_with_include_and_exclude_to_a_local_dir(
    run: Run, repo: str, seeded: str, tmp_path: Path
) -> None:
    target = tmp_path / "out"

    result = run(
        "download", repo, "--include", "*.md", "--include", "*.json",
        "--exclude", "docs/b.md", "--local-dir", str(target),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == target
    found = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert [f for f in found if not f.startswith(".cache/")] == ["config.json", "docs/a.md"]


def test_download_of_several_files_and_json_output(
    run: Run, repo: str, seeded: str, tmp_path: Path
) -> None:
    result = run("download", repo, "config.json", "model.bin", "--revision", seeded, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    folder = Path(report["path"])
    assert (report["repo_id"], report["revision"], folder.name) == (repo, seeded, seeded)
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.bin"]


def test_download_exit_codes_tell_not_found_from_auth_and_usage(
    run: Run, repo_factory: Callable[..., str], user: HubUser
) -> None:
    private = repo_factory(private=True)
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=private)

    missing_file = run("download", private, "nope.txt")
    missing_repo = run("download", f"{user.name}/no-such-repo", "x.txt")
    hidden = run("download", private, "x.txt", token="hf_not_a_valid_token")
    usage = run("download", private, "x.txt", "--include", "*.txt")

    assert missing_file.exit_code == 2, missing_file.output
    assert "nope.txt" in missing_file.output
    assert missing_repo.exit_code == 2
    assert hidden.exit_code in (2, 3)
    assert usage.exit_code == 1


def test_download_from_a_failing_hub_exits_5(tmp_path: Path) -> None:
    hub = StaticHub({}, fail={"HEAD": 100})
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": str(tmp_path), "HF_TOKEN": None}
    try:
        result = CliRunner().invoke(cli, ["download", "a/b", "c.txt"], env=env)
    finally:
        hub.close()

    assert result.exit_code == 5, result.output
    assert "503" in result.output
    assert len(hub.requests) == 1 + 1 + 5  # a quick look, then the retried one
