"""Repo listings through the official client: list_models, list_datasets, list_spaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer


def _add_card(api: HfApi, repo_id: str, card: str, repo_type: str = "model") -> None:
    api.create_commit(
        repo_id,
        [CommitOperationAdd("README.md", card.encode())],
        commit_message="card",
        repo_type=repo_type,
    )


def test_list_models_by_author_newest_first(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    first, second, third = repo_factory(), repo_factory(), repo_factory()

    found = [m.id for m in user.api.list_models(author=user.name)]

    assert found == [third, second, first]


def test_listings_are_per_repo_type(user: HubUser, repo_factory: Callable[..., str]) -> None:
    model, dataset, space = repo_factory(), repo_factory("dataset"), repo_factory("space")

    assert [m.id for m in user.api.list_models(author=user.name)] == [model]
    assert [d.id for d in user.api.list_datasets(author=user.name)] == [dataset]
    assert [s.id for s in user.api.list_spaces(author=user.name)] == [space]


def test_search_matches_part_of_the_repo_id(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_factory()
    wanted = repo_factory()
    fragment = wanted.split("/")[1][-8:]

    assert [m.id for m in user.api.list_models(search=fragment)] == [wanted]
    assert [m.id for m in user.api.list_models(search=fragment.upper())] == [wanted]


def test_filter_matches_card_tags(user: HubUser, repo_factory: Callable[..., str]) -> None:
    tagged, other = repo_factory(), repo_factory()
    tag = unique_name("tag")
    _add_card(user.api, tagged, f"---\ntags: [{tag}]\nlicense: mit\n---\n")
    _add_card(user.api, other, "---\nlicense: mit\n---\n")

    assert [m.id for m in user.api.list_models(filter=tag)] == [tagged]
    assert [m.id for m in user.api.list_models(filter=[tag, "license:mit"])] == [tagged]
    found = {m.id for m in user.api.list_models(author=user.name, filter="license:mit")}
    assert found == {tagged, other}


def test_dataset_filters_use_the_card(user: HubUser, repo_factory: Callable[..., str]) -> None:
    repo_id = repo_factory("dataset")
    _add_card(
        user.api, repo_id, "---\nlanguage: [xx]\ntask_categories: [translation]\n---\n", "dataset"
    )

    found = user.api.list_datasets(author=user.name, language="xx", task_categories="translation")

    assert [d.id for d in found] == [repo_id]


def test_sort_by_last_modified(user: HubUser, repo_factory: Callable[..., str]) -> None:
    older, newer = repo_factory(), repo_factory()
    _add_card(user.api, older, "# touched\n")

    found = [m.id for m in user.api.list_models(author=user.name, sort="last_modified")]
    by_creation = [m.id for m in user.api.list_models(author=user.name, sort="created_at")]

    assert found == [older, newer]
    assert by_creation == [newer, older]


def test_limit_caps_the_results(user: HubUser, repo_factory: Callable[..., str]) -> None:
    created = [repo_factory() for _ in range(3)]

    found = [m.id for m in user.api.list_models(author=user.name, limit=2)]

    assert found == created[::-1][:2]


def test_full_listing_has_siblings_and_sha(user: HubUser, repo_factory: Callable[..., str]) -> None:
    repo_id = repo_factory()
    _add_card(user.api, repo_id, "---\nlicense: mit\n---\n")

    [light] = user.api.list_models(author=user.name)
    [full] = user.api.list_models(author=user.name, full=True)

    assert light.siblings is None
    assert full.sha == user.api.model_info(repo_id).sha
    assert sorted(s.rfilename for s in full.siblings or []) == [".gitattributes", "README.md"]
    assert full.card_data is not None and full.card_data["license"] == "mit"


def test_expand_in_listings_returns_only_those_keys(
    user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_id = repo_factory("dataset")

    [item] = user.api.list_datasets(author=user.name, expand=["sha", "private"])

    assert item.id == repo_id
    assert item.sha == user.api.dataset_info(repo_id).sha
    assert item.private is False
    assert item.tags is None and item.siblings is None


def test_listings_show_private_repos_only_to_those_who_see_them(
    live_server: LiveServer, anonymous: HfApi, other_user: HubUser
) -> None:
    writer, reader = make_user(live_server), make_user(live_server)
    org = make_org(live_server, {writer.name: Role.WRITE, reader.name: Role.READ})
    public, private = f"{org}/{unique_name('pub')}", f"{org}/{unique_name('priv')}"
    writer.api.create_repo(public)
    writer.api.create_repo(private, private=True)

    for api in (writer.api, reader.api):
        assert {m.id for m in api.list_models(author=org)} == {public, private}
    for api in (other_user.api, anonymous):
        assert [m.id for m in api.list_models(author=org)] == [public]


@pytest.mark.parametrize("gated", [True, False])
def test_listings_filter_on_gating(
    user: HubUser, repo_factory: Callable[..., str], gated: bool
) -> None:
    open_repo, gated_repo = repo_factory(), repo_factory()
    user.api.update_repo_settings(gated_repo, gated="auto")

    found = [m.id for m in user.api.list_models(author=user.name, gated=gated)]

    assert found == [gated_repo if gated else open_repo]


def test_listings_filter_on_pipeline_tag(user: HubUser, repo_factory: Callable[..., str]) -> None:
    tagged, _ = repo_factory(), repo_factory()
    _add_card(user.api, tagged, "---\npipeline_tag: fill-mask\n---\n")

    found = list(user.api.list_models(author=user.name, pipeline_tag="fill-mask"))

    assert [(m.id, m.pipeline_tag) for m in found] == [(tagged, "fill-mask")]
