"""`hubstead collections ...` against the live hub, checked with the official client."""

from __future__ import annotations

import json
from collections.abc import Callable

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
        return CliRunner().invoke(cli, ["collections", *args], env=env)

    return invoke


def test_create_prints_the_slug_and_info_shows_the_items(
    run: Run, user: HubUser, repo: str
) -> None:
    title = unique_name("Picks")
    created = run("create", title, "--description", "Mine", "--private")
    assert created.exit_code == 0, created.output
    slug = created.stdout.strip()
    assert slug.startswith(f"{user.name}/picks-")
    assert "Created http" in created.stderr

    added = run("add", slug, repo, "--note", "Read me")
    assert added.exit_code == 0, added.output
    shown = run("info", slug)

    assert shown.exit_code == 0, shown.output
    assert f"title        {title}" in shown.stdout
    assert repo in shown.stdout and "Read me" in shown.stdout
    collection = user.api.get_collection(slug)
    assert (collection.private, collection.description) == (True, "Mine")
    assert [(i.item_id, i.note) for i in collection.items] == [(repo, "Read me")]


def test_list_by_owner_as_json(run: Run, user: HubUser) -> None:
    slug = user.api.create_collection(unique_name("Listed")).slug

    result = run("list", "--owner", user.name, "--json")

    assert result.exit_code == 0, result.output
    assert [c["slug"] for c in json.loads(result.stdout)] == [slug]


def test_remove_takes_a_repo_id_or_an_item_object_id(
    run: Run, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    first, second = repo_factory(), repo_factory()
    slug = user.api.create_collection(unique_name("Remove")).slug
    user.api.add_collection_item(slug, first, "model")
    items = user.api.add_collection_item(slug, second, "model").items

    by_id = run("remove", slug, first)
    by_object_id = run("remove", slug, items[1].item_object_id)
    again = run("remove", slug, first)

    assert (by_id.exit_code, by_object_id.exit_code) == (0, 0), by_id.output
    assert user.api.get_collection(slug).items == []
    assert again.exit_code == 2
    assert "holds no item" in again.stderr
    assert run("remove", slug, first, "--missing-ok").exit_code == 0


def test_delete_asks_for_yes_without_a_terminal(run: Run, user: HubUser) -> None:
    slug = user.api.create_collection(unique_name("Doomed")).slug

    refused = run("delete", slug)
    deleted = run("delete", slug, "--yes")

    assert refused.exit_code == 1
    assert deleted.exit_code == 0, deleted.output
    assert run("info", slug).exit_code == 2
    assert run("delete", slug, "--yes", "--missing-ok").exit_code == 0


def test_a_too_long_description_exits_1_with_the_limit(run: Run) -> None:
    result = run("create", unique_name("Long"), "--description", "x" * 151)

    assert result.exit_code == 1
    assert "at most 150 characters" in result.stderr


def test_adding_to_someone_elses_collection_exits_3(
    run: Run, other_user: HubUser, repo: str
) -> None:
    slug = other_user.api.create_collection(unique_name("Theirs")).slug

    result = run("add", slug, repo)

    assert result.exit_code == 3, result.output
