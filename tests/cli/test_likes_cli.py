"""`hubstead like` and `hubstead unlike` against the live hub, checked with the official client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from hubstead.cli.main import cli
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer

Run = Callable[..., Result]


@pytest.fixture
def run(live_server: LiveServer, user: HubUser) -> Run:
    """Run a command on the live hub as `user` (through HF_TOKEN, as a script would)."""

    def invoke(*args: str, token: str | None = user.token) -> Result:
        env = {"HF_ENDPOINT": live_server.url, "HF_TOKEN": token}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_like_and_unlike_a_dataset(
    run: Run, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    dataset = repo_factory("dataset")

    liked = run("like", dataset, "--repo-type", "dataset")
    assert liked.exit_code == 0, liked.output
    assert f"Liked dataset {dataset}." in liked.stderr
    assert user.api.list_liked_repos().datasets == [dataset]

    unliked = run("unlike", dataset, "--repo-type", "dataset")
    assert unliked.exit_code == 0, unliked.output
    assert user.api.list_liked_repos().total == 0


def test_repo_info_shows_the_likes(run: Run, repo: str) -> None:
    run("like", repo)

    result = run("repo", "info", repo)

    assert result.exit_code == 0, result.output
    assert "likes          1" in result.stdout


def test_liking_a_missing_repo_exits_2_and_says_so(run: Run, user: HubUser) -> None:
    result = run("like", f"{user.name}/not-there")

    assert result.exit_code == 2
    assert "not found" in result.stderr.lower()


def test_liking_without_a_token_exits_3(run: Run, repo: str) -> None:
    result = run("like", repo, token=None)

    assert result.exit_code == 3, result.output
