"""`hubstead upload` against the live hub, checked with the official client."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "logs").mkdir(parents=True)
    (root / "config.json").write_text('{"layers": 2}')
    (root / "model.safetensors").write_bytes(b"\0" + os.urandom(5000))
    (root / "scratch.tmp").write_text("tmp")
    (root / "logs" / "train.log").write_text("loss 0.1")
    return root


def test_upload_of_a_file_creates_the_repo_and_prints_the_commit_url(
    run: Run, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/{unique_name('cli-up')}"
    local = tmp_path / "notes.md"
    local.write_text("# Notes\n")

    result = run("upload", repo, str(local))

    assert result.exit_code == 0, result.output
    head = user.api.list_repo_commits(repo)[0].commit_id
    assert result.stdout.strip().endswith(f"/{repo}/commit/{head}")
    assert "notes.md" in user.api.list_repo_files(repo)


def test_upload_of_a_folder_filters_places_and_deletes_and_reports_json(
    run: Run, user: HubUser, repo: str, folder: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"old", path_in_repo="weights/old.txt", repo_id=repo)

    result = run(
        "upload",
        repo,
        str(folder),
        "weights",
        "--exclude",
        "*.tmp",
        "--exclude",
        "logs/",
        "--delete",
        "*.txt",
        "--commit-message",
        "Add weights",
        "--json",
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    latest = user.api.list_repo_commits(repo)[0]
    assert report["commit"]["oid"] == latest.commit_id
    assert latest.title == "Add weights"
    assert sorted(user.api.list_repo_files(repo)) == [
        ".gitattributes",
        "weights/config.json",
        "weights/model.safetensors",
    ]


def test_upload_to_a_new_branch_of_a_new_private_dataset(
    run: Run, user: HubUser, tmp_path: Path
) -> None:
    repo = f"{user.name}/{unique_name('cli-data')}"
    local = tmp_path / "train.csv"
    local.write_text("a,b\n1,2\n")

    result = run(
        "upload", repo, str(local), "data/train.csv", "--repo-type", "dataset",
        "--revision", "dev", "--private",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert user.api.repo_info(repo, repo_type="dataset").private is True
    dev = user.api.list_repo_files(repo, repo_type="dataset", revision="dev")
    main = user.api.list_repo_files(repo, repo_type="dataset")
    assert "data/train.csv" in dev
    assert "data/train.csv" not in main


def test_large_upload_commits_once_and_reports_nothing_left_on_a_second_run(
    run: Run, user: HubUser, folder: Path
) -> None:
    repo = f"{user.name}/{unique_name('cli-large')}"

    first = run("upload", repo, str(folder), "--large", "--exclude", "*.tmp", "--json")
    second = run("upload", repo, str(folder), "--large", "--exclude", "*.tmp", "--json")

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["commit"]["message"] == (
        "Add files using upload-large-folder tool"
    )
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["commit"] is None
    files = user.api.list_repo_files(repo)
    assert "logs/train.log" in files and "scratch.tmp" not in files


def test_upload_errors_have_distinct_exit_codes(
    run: Run, user: HubUser, other_user: HubUser, tmp_path: Path
) -> None:
    local = tmp_path / "a.txt"
    local.write_text("a")

    misused = run("upload", f"{user.name}/{unique_name('x')}", str(local), "--include", "*.txt")
    missing_path = run("upload", f"{user.name}/{unique_name('x')}", str(tmp_path / "nope"))
    anonymous = run("upload", f"{user.name}/{unique_name('x')}", str(local), token=None)
    foreign = run("upload", f"{other_user.name}/{unique_name('x')}", str(local))

    assert misused.exit_code == 1
    assert "apply to folders" in misused.stderr
    assert missing_path.exit_code == 1
    assert anonymous.exit_code == 3
    assert foreign.exit_code == 3
    assert "403" in foreign.stderr
