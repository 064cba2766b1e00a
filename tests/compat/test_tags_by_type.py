"""`get_model_tags` and `get_dataset_tags` through the official client: the vocabulary of the
tags this hub's public repos use, grouped by type as the Hub groups its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from huggingface_hub import HfApi

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


def _card(user: HubUser, repo_id: str, front_matter: str, repo_type: str = "model") -> None:
    readme = f"---\n{front_matter}---\n# Card\n".encode()
    user.api.upload_file(
        path_or_fileobj=readme, path_in_repo="README.md", repo_id=repo_id, repo_type=repo_type
    )


def _item(tags: dict[str, Any], id: str) -> dict[str, Any] | None:
    return next((t for found in tags.values() for t in found if t["id"] == id), None)


def test_model_tags_are_grouped_by_type_from_the_public_repos_cards(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    word, hidden, library = unique_name("word"), unique_name("hidden"), unique_name("lib")
    model = repo_factory()
    _card(
        user,
        model,
        f"license: mit\nlanguage: [en, fr]\ndatasets: [{word}-data]\nlibrary_name: {library}\n"
        f"pipeline_tag: text-classification\ntags: [{word}, 'arxiv:2401.00001']\n",
    )
    _card(user, repo_factory(private=True), f"tags: [{hidden}]\nlicense: {hidden}\n")

    tags = hf_api.get_model_tags()

    assert _item(tags, "license:mit") == {"id": "license:mit", "label": "mit", "type": "license"}
    assert _item(tags, "en") == {"id": "en", "label": "en", "type": "language"}
    assert _item(tags, "fr") in tags["language"]
    assert _item(tags, f"dataset:{word}-data") == {
        "id": f"dataset:{word}-data",
        "label": f"{word}-data",
        "type": "dataset",
    }
    assert _item(tags, library) == {"id": library, "label": library, "type": "library"}
    assert _item(tags, "text-classification") == {
        "id": "text-classification",
        "label": "Text Classification",
        "type": "pipeline_tag",
    }
    assert _item(tags, "arxiv:2401.00001") in tags["arxiv"]
    assert _item(tags, word) in tags["other"]
    assert _item(tags, hidden) is None
    assert _item(tags, f"license:{hidden}") is None
    for kind, found in tags.items():
        assert all(t["type"] == kind for t in found)
        assert [t["id"] for t in found] == sorted(t["id"] for t in found)
    # The vocabulary's ids are what a listing filters on.
    assert [m.id for m in hf_api.list_models(filter=f"dataset:{word}-data")] == [model]


def test_dataset_tags_keep_their_card_keys_as_types(
    hf_api: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    dataset = repo_factory("dataset")
    _card(
        user,
        dataset,
        "license: apache-2.0\nlanguage: [de]\ntask_categories: [translation]\n"
        "size_categories: [n<1K]\n",
        repo_type="dataset",
    )

    tags = hf_api.get_dataset_tags()

    assert _item(tags, "language:de") == {"id": "language:de", "label": "de", "type": "language"}
    assert _item(tags, "task_categories:translation") in tags["task_categories"]
    assert _item(tags, "size_categories:n<1K") in tags["size_categories"]
    assert _item(tags, "license:apache-2.0") in tags["license"]
    assert _item(hf_api.get_model_tags(), "language:de") is None


def test_an_authenticated_caller_also_sees_the_tags_of_its_private_repos(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    hidden = unique_name("mine")
    _card(user, repo_factory(private=True), f"tags: [{hidden}]\n")

    def tags(token: str) -> dict[str, Any]:
        response = httpx.get(
            f"{live_server.url}/api/models-tags-by-type",
            headers={"authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        found: dict[str, Any] = response.json()
        return found

    assert _item(tags(user.token), hidden) == {"id": hidden, "label": hidden, "type": "other"}
    assert _item(tags(other_user.token), hidden) is None
