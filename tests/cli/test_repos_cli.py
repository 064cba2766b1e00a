"""`hubstead repo|ls|branch|tag` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from huggingface_hub import CommitOperationAdd

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_repo_create_prints_the_url_and_makes_a_private_repo(run: Run, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('cli')}"

    result = run("repo", "create", repo_id, "--private")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"/{repo_id}")
    assert user.api.repo_info(repo_id).private is True
    again = run("repo", "create", repo_id)
    assert again.exit_code == 4
    assert "409" in again.stderr
    assert run("repo", "create", repo_id, "--exist-ok").exit_code == 0
    user.api.delete_repo(repo_id)


def test_repo_create_json_for_a_dataset_in_the_callers_namespace(run: Run, user: HubUser) -> None:
    name = unique_name("data")

    result = run("repo", "create", name, "--repo-type", "dataset", "--json")

    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["repo_id"] == f"{user.name}/{name}"
    assert created["repo_type"] == "dataset"
    assert "/datasets/" in created["url"]
    user.api.delete_repo(created["repo_id"], repo_type="dataset")


def test_creating_without_a_token_or_with_a_bad_id_fails_with_distinct_codes(run: Run) -> None:
    anonymous = run("repo", "create", f"someone/{unique_name('x')}", token=None)
    malformed = run("repo", "create", "a/b/c")

    assert anonymous.exit_code == 3
    assert "401" in anonymous.stderr
    assert malformed.exit_code == 1
    assert "a/b/c" in malformed.stderr


def test_repo_info_human_and_json(run: Run, user: HubUser, repo: str) -> None:
    commit = user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo).oid

    human = run("repo", "info", repo)
    as_json = json.loads(run("repo", "info", repo, "--json").stdout)
    missing = run("repo", "info", f"{user.name}/{unique_name('missing')}")
    no_revision = run("repo", "info", repo, "--revision", "nope")

    assert human.exit_code == 0, human.output
    assert repo in human.stdout
    assert commit in human.stdout
    assert as_json["id"] == repo and as_json["sha"] == commit
    assert {s["rfilename"] for s in as_json["siblings"]} >= {"x.txt"}
    assert (missing.exit_code, no_revision.exit_code) == (2, 2)


def test_repo_list_shows_the_authors_repos(live_server: LiveServer) -> None:
    owner = make_user(live_server, "lister")
    repo_ids = sorted(f"{owner.name}/{unique_name('r')}" for _ in range(2))
    for repo_id in repo_ids:
        owner.api.create_repo(repo_id, private=True)
    env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": owner.token}

    table = CliRunner().invoke(cli, ["repo", "list", "--author", owner.name], env=env)
    listed = CliRunner().invoke(cli, ["repo", "list", "--author", owner.name, "--json"], env=env)
    limited = CliRunner().invoke(
        cli, ["repo", "list", "--author", owner.name, "--limit", "1"], env=env
    )

    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "PRIVATE", "MODIFIED"]
    assert sorted(line.split()[0] for line in lines[1:]) == repo_ids
    assert all(line.split()[1] == "yes" for line in lines[1:])
    assert sorted(item["id"] for item in json.loads(listed.stdout)) == repo_ids
    assert len(limited.stdout.splitlines()) == 2


def test_repo_delete_needs_yes_without_a_terminal(run: Run, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('doomed')}"
    user.api.create_repo(repo_id)

    refused = run("repo", "delete", repo_id)
    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert user.api.repo_exists(repo_id)

    deleted = run("repo", "delete", repo_id, "--yes")

    assert deleted.exit_code == 0, deleted.output
    assert not user.api.repo_exists(repo_id)
    assert run("repo", "delete", repo_id, "--yes").exit_code == 2
    assert run("repo", "delete", repo_id, "--yes", "--missing-ok").exit_code == 0


def test_ls_lists_files_and_folders(run: Run, user: HubUser, repo: str) -> None:
    user.api.create_commit(
        repo,
        [
            CommitOperationAdd("top.txt", b"hello"),
            CommitOperationAdd("sub/inner.txt", b"in"),
            CommitOperationAdd("sub/model.safetensors", b"\0" * 100),
        ],
        commit_message="files",
    )

    top = run("ls", repo)
    sub = run("ls", repo, "sub")
    everything = json.loads(run("ls", repo, "-R", "--json").stdout)
    missing = run("ls", repo, "nope")

    assert top.exit_code == 0, top.output
    assert "sub/" in top.stdout and "top.txt" in top.stdout and "inner.txt" not in top.stdout
    rows = {line.split()[-1]: line.split() for line in sub.stdout.splitlines()}
    assert rows["sub/inner.txt"][0] == "2"
    assert rows["sub/model.safetensors"][:2] == ["100", "lfs"]
    by_path = {entry["path"]: entry for entry in everything}
    assert by_path["sub"]["type"] == "directory"
    assert by_path["sub/model.safetensors"]["lfs"]["size"] == 100
    assert by_path["top.txt"]["size"] == 5
    assert missing.exit_code == 2


def test_branches_are_created_listed_and_deleted(run: Run, user: HubUser, repo: str) -> None:
    first = user.api.upload_file(path_or_fileobj=b"1", path_in_repo="a", repo_id=repo).oid
    user.api.upload_file(path_or_fileobj=b"2", path_in_repo="a", repo_id=repo)

    created = run("branch", "create", repo, "v1", "--revision", first)

    assert created.exit_code == 0, created.output
    branches = {b.name: b.target_commit for b in user.api.list_repo_refs(repo).branches}
    assert branches["v1"] == first
    listed = json.loads(run("branch", "list", repo, "--json").stdout)
    assert {"name": "v1", "commit": first} in listed
    table = run("branch", "list", repo).stdout
    assert "v1" in table and first in table
    assert run("branch", "create", repo, "v1").exit_code == 4
    assert run("branch", "create", repo, "v1", "--exist-ok").exit_code == 0
    assert run("branch", "create", repo, "v2", "--revision", "nope").exit_code == 2

    assert run("branch", "delete", repo, "v1").exit_code == 0

    assert [b.name for b in user.api.list_repo_refs(repo).branches] == ["main"]
    assert run("branch", "delete", repo, "v1").exit_code == 2


def test_tags_are_created_listed_and_deleted(
    run: Run, user: HubUser, other_user: HubUser, repo: str
) -> None:
    head = user.api.upload_file(path_or_fileobj=b"1", path_in_repo="a", repo_id=repo).oid

    created = run("tag", "create", repo, "v1.0", "-m", "first release")

    assert created.exit_code == 0, created.output
    assert {t.name: t.target_commit for t in user.api.list_repo_refs(repo).tags} == {"v1.0": head}
    assert json.loads(run("tag", "list", repo, "--json").stdout) == [
        {"name": "v1.0", "commit": head}
    ]
    assert run("tag", "create", repo, "v1.0").exit_code == 4
    assert run("tag", "delete", repo, "v1.0", token=other_user.token).exit_code == 3

    assert run("tag", "delete", repo, "v1.0").exit_code == 0

    assert user.api.list_repo_refs(repo).tags == []
    assert run("tag", "list", repo).stderr.strip() == "(none)"


def test_repo_duplicate_prints_the_copys_url_and_honours_visibility(
    run: Run, user: HubUser, repo: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id=repo)
    name = unique_name("copy")
    target = f"{user.name}/{name}"

    result = run("repo", "duplicate", repo, name, "--private")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(f"/{target}")
    assert user.api.repo_info(target).private is True
    assert user.api.repo_info(target).sha == user.api.repo_info(repo).sha
    again = run("repo", "duplicate", repo, target, "--json")
    assert again.exit_code == 4
    assert "409" in again.stderr
    existing = run("repo", "duplicate", repo, target, "--exist-ok", "--json")
    assert json.loads(existing.stdout)["repo_id"] == target
    missing = run("repo", "duplicate", f"{user.name}/{unique_name('none')}", name)
    assert missing.exit_code == 2
    user.api.delete_repo(target)
