"""Repos through the official client: lifecycle, settings, moves, info, cards and visibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, KernelInfo, RepoFile, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer

BERT_CONFIG = json.dumps(
    {"architectures": ["BertForMaskedLM"], "model_type": "bert", "transformers_version": "4.40.0"}
).encode()
CARD = b"""---
license: mit
language: [en, fr]
tags: [demo]
library_name: keras
pipeline_tag: text-classification
---
# A model
"""


def _commit(api: HfApi, repo_id: str, files: dict[str, bytes], repo_type: str = "model") -> str:
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    info = api.create_commit(repo_id, operations, commit_message="add", repo_type=repo_type)
    return info.oid


# --- lifecycle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("repo_type", ["model", "dataset", "space"])
def test_a_new_repo_starts_with_an_initial_commit_holding_gitattributes(
    hf_api: HfApi, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo_id = repo_factory(repo_type)

    assert hf_api.list_repo_files(repo_id, repo_type=repo_type) == [".gitattributes"]
    [commit] = hf_api.list_repo_commits(repo_id, repo_type=repo_type)
    assert commit.title == "initial commit"
    info = hf_api.repo_info(repo_id, repo_type=repo_type)
    assert not isinstance(info, KernelInfo)
    assert info.sha == commit.commit_id
    assert [s.rfilename for s in info.siblings or []] == [".gitattributes"]
    assert [b.name for b in hf_api.list_repo_refs(repo_id, repo_type=repo_type).branches] == [
        "main"
    ]


@pytest.mark.parametrize("repo_type", ["model", "dataset", "space"])
def test_create_repo_returns_the_url_the_client_parses(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, repo_type: str
) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"

    sdk = "gradio" if repo_type == "space" else None
    url = hf_api.create_repo(repo_id, repo_type=repo_type, space_sdk=sdk)

    assert url.repo_id == repo_id
    assert url.repo_type == repo_type
    assert url.endpoint == live_server.url
    hf_api.delete_repo(repo_id, repo_type=repo_type)


def test_creating_an_existing_repo_conflicts_unless_exist_ok(hf_api: HfApi, repo: str) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.create_repo(repo)
    assert caught.value.response.status_code == 409

    url = hf_api.create_repo(repo, exist_ok=True)

    assert url.repo_id == repo


def test_a_space_sdk_is_reported(hf_api: HfApi, repo_factory: Callable[..., str]) -> None:
    repo_id = repo_factory("space", space_sdk="docker")

    assert hf_api.space_info(repo_id).sdk == "docker"


def test_deleted_repos_are_gone_and_missing_ok_tolerates_them(hf_api: HfApi, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"
    hf_api.create_repo(repo_id, repo_type="dataset")

    hf_api.delete_repo(repo_id, repo_type="dataset")

    assert not hf_api.repo_exists(repo_id, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        hf_api.delete_repo(repo_id, repo_type="dataset")
    hf_api.delete_repo(repo_id, repo_type="dataset", missing_ok=True)


def test_a_deleted_name_can_be_created_again_empty(hf_api: HfApi, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"
    hf_api.create_repo(repo_id)
    _commit(hf_api, repo_id, {"a.txt": b"a"})
    hf_api.delete_repo(repo_id)

    hf_api.create_repo(repo_id)

    assert hf_api.list_repo_files(repo_id) == [".gitattributes"]
    hf_api.delete_repo(repo_id)


def test_repo_types_are_separate_namespaces(hf_api: HfApi, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"
    hf_api.create_repo(repo_id, repo_type="dataset")

    assert not hf_api.repo_exists(repo_id)
    hf_api.create_repo(repo_id)
    assert hf_api.repo_exists(repo_id) and hf_api.repo_exists(repo_id, repo_type="dataset")
    hf_api.delete_repo(repo_id)
    hf_api.delete_repo(repo_id, repo_type="dataset")


# --- settings -------------------------------------------------------------------------------------


def test_update_repo_settings_changes_visibility_and_gating(
    hf_api: HfApi, anonymous: HfApi, repo: str
) -> None:
    hf_api.update_repo_settings(repo, private=True)
    assert hf_api.model_info(repo).private is True
    assert not anonymous.repo_exists(repo)

    hf_api.update_repo_settings(repo, private=False, gated="manual")
    info = hf_api.model_info(repo)
    assert (info.private, info.gated) == (False, "manual")

    hf_api.update_repo_settings(repo, gated="auto")
    assert hf_api.model_info(repo).gated == "auto"
    hf_api.update_repo_settings(repo, gated=False)
    assert hf_api.model_info(repo).gated is False


def test_only_writers_change_settings(other_user: HubUser, repo: str) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.update_repo_settings(repo, private=True)

    assert caught.value.response.status_code == 403


# --- moves ----------------------------------------------------------------------------------------


def test_a_moved_repo_answers_at_its_old_name(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, tmp_path: Path
) -> None:
    old = f"{user.name}/{unique_name('old')}"
    new = f"{user.name}/{unique_name('new')}"
    hf_api.create_repo(old)
    _commit(hf_api, old, {"notes.txt": b"moved bytes"})

    hf_api.move_repo(old, new)

    assert hf_api.model_info(new).id == new
    assert hf_api.model_info(old).id == new
    path = hf_hub_download(
        old, "notes.txt", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"moved bytes"
    hf_api.delete_repo(new)


def test_a_moved_private_repo_resolves_for_its_owner_only(
    live_server: LiveServer, hf_api: HfApi, user: HubUser, other_user: HubUser, tmp_path: Path
) -> None:
    old = f"{user.name}/{unique_name('old')}"
    new = f"{user.name}/{unique_name('new')}"
    hf_api.create_repo(old, private=True)
    _commit(hf_api, old, {"secret.txt": b"secret"})
    hf_api.move_repo(old, new)

    assert hf_api.model_info(old).id == new
    path = hf_hub_download(
        old, "secret.txt", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"secret"
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.model_info(old)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(
            old,
            "secret.txt",
            endpoint=live_server.url,
            token=other_user.token,
            cache_dir=tmp_path / "other",
        )
    hf_api.delete_repo(new)


def test_a_repo_moves_into_an_org_the_user_writes_to(
    live_server: LiveServer, hf_api: HfApi, user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.WRITE})
    old = f"{user.name}/{unique_name('repo')}"
    new = f"{org}/{unique_name('repo')}"
    hf_api.create_repo(old, repo_type="dataset")

    hf_api.move_repo(old, new, repo_type="dataset")

    assert hf_api.dataset_info(new).author == org
    hf_api.delete_repo(new, repo_type="dataset")


def test_a_move_onto_an_existing_repo_conflicts(
    hf_api: HfApi, repo_factory: Callable[..., str]
) -> None:
    first, second = repo_factory(), repo_factory()

    with pytest.raises(HfHubHTTPError) as caught:
        hf_api.move_repo(first, second)

    assert caught.value.response.status_code == 409


def test_writes_to_the_old_name_land_in_the_moved_repo(hf_api: HfApi, user: HubUser) -> None:
    old = f"{user.name}/{unique_name('old')}"
    new = f"{user.name}/{unique_name('new')}"
    hf_api.create_repo(old)
    hf_api.move_repo(old, new)

    hf_api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=old)
    hf_api.update_repo_settings(old, private=True)

    info = hf_api.model_info(new)
    assert sorted(s.rfilename for s in info.siblings or []) == [".gitattributes", "x.txt"]
    assert info.private is True
    hf_api.delete_repo(new)


def test_every_earlier_name_of_a_twice_moved_repo_resolves(hf_api: HfApi, user: HubUser) -> None:
    first, second, third = (f"{user.name}/{unique_name(n)}" for n in ("a", "b", "c"))
    hf_api.create_repo(first)
    hf_api.move_repo(first, second)
    hf_api.move_repo(second, third)

    assert [hf_api.model_info(name).id for name in (first, second, third)] == [third] * 3
    hf_api.move_repo(third, first)
    assert [hf_api.model_info(name).id for name in (first, second, third)] == [first] * 3
    hf_api.delete_repo(first)
    assert not any(hf_api.repo_exists(name) for name in (first, second, third))


def test_a_new_repo_at_an_old_name_replaces_the_redirect(hf_api: HfApi, user: HubUser) -> None:
    old = f"{user.name}/{unique_name('old')}"
    new = f"{user.name}/{unique_name('new')}"
    hf_api.create_repo(old)
    hf_api.move_repo(old, new)

    hf_api.create_repo(old)

    assert hf_api.model_info(old).id == old
    hf_api.delete_repo(old)
    hf_api.delete_repo(new)


# --- info -----------------------------------------------------------------------------------------


def test_model_info_reports_the_revision_and_its_files(hf_api: HfApi, repo: str) -> None:
    first = hf_api.model_info(repo)
    sha = _commit(hf_api, repo, {"README.md": CARD, "weights/a.txt": b"12345"})

    info = hf_api.model_info(repo)

    assert info.sha == sha != first.sha
    assert sorted(s.rfilename for s in info.siblings or []) == [
        ".gitattributes",
        "README.md",
        "weights/a.txt",
    ]
    assert info.last_modified is not None and info.created_at is not None
    assert info.last_modified >= first.last_modified  # type: ignore[operator]
    assert info.private is False and info.gated is False
    assert info.card_data is not None and info.card_data["license"] == "mit"
    assert info.library_name == "keras"
    assert info.pipeline_tag == "text-classification"
    # Model cards give bare language codes, as on the Hub (`en`, not `language:en`).
    assert {"keras", "demo", "text-classification", "license:mit", "en", "fr"} <= set(
        info.tags or []
    )
    old = hf_api.model_info(repo, revision=first.sha)
    assert old.sha == first.sha
    assert [s.rfilename for s in old.siblings or []] == [".gitattributes"]


def test_files_metadata_gives_sizes_and_blob_ids(hf_api: HfApi, repo: str) -> None:
    _commit(hf_api, repo, {"a.txt": b"12345"})

    info = hf_api.model_info(repo, files_metadata=True)

    sizes = {s.rfilename: (s.size, s.blob_id) for s in info.siblings or []}
    [entry] = hf_api.get_paths_info(repo, ["a.txt"])
    assert isinstance(entry, RepoFile)
    assert sizes["a.txt"] == (5, entry.blob_id)


def test_expand_returns_only_the_requested_keys(hf_api: HfApi, repo: str) -> None:
    info = hf_api.model_info(repo, expand=["sha", "private"])

    assert info.sha is not None and info.private is False
    assert info.siblings is None
    assert info.tags is None
    assert info.last_modified is None


def test_info_at_an_unknown_revision_is_a_revision_error(hf_api: HfApi, repo: str) -> None:
    with pytest.raises(RevisionNotFoundError):
        hf_api.model_info(repo, revision="no-such-branch")
    assert hf_api.revision_exists(repo, "main")
    assert not hf_api.revision_exists(repo, "no-such-branch")


def test_a_dataset_card_fills_card_data(hf_api: HfApi, repo_factory: Callable[..., str]) -> None:
    repo_id = repo_factory("dataset")
    card = b"---\nlicense: apache-2.0\ntask_categories: [translation]\n---\n# Data\n"
    _commit(hf_api, repo_id, {"README.md": card}, repo_type="dataset")

    info = hf_api.dataset_info(repo_id)

    assert info.card_data is not None and info.card_data["license"] == "apache-2.0"
    assert "task_categories:translation" in (info.tags or [])


def test_a_transformers_config_gives_library_and_task(hf_api: HfApi, repo: str) -> None:
    _commit(hf_api, repo, {"config.json": BERT_CONFIG})

    info = hf_api.model_info(repo)

    assert info.library_name == "transformers"
    assert info.pipeline_tag == "fill-mask"
    assert {"transformers", "bert", "fill-mask"} <= set(info.tags or [])


def test_the_card_wins_over_the_config(hf_api: HfApi, repo: str) -> None:
    card = b"---\nlibrary_name: sentence-transformers\npipeline_tag: sentence-similarity\n---\n"
    _commit(hf_api, repo, {"config.json": BERT_CONFIG, "README.md": card})

    info = hf_api.model_info(repo)

    assert info.library_name == "sentence-transformers"
    assert info.pipeline_tag == "sentence-similarity"


def test_card_values_that_are_not_labels_are_left_out_of_tags(
    hf_api: HfApi, user: HubUser, repo: str
) -> None:
    long_tag, long_library = "t" * 300, "l" * 100
    card = (
        f'---\ntags: [ok-tag, {long_tag}, "nul\\0tag"]\nlicense: "\\0"\n'
        f"library_name: {long_library}\n---\n"
    )
    _commit(hf_api, repo, {"README.md": card.encode()})

    info = hf_api.model_info(repo)

    assert info.tags == ["ok-tag"]
    assert info.library_name is None
    assert info.card_data is not None and info.card_data["tags"][1] == long_tag
    listed = [m.tags for m in hf_api.list_models(author=user.name, filter="ok-tag")]
    assert listed == [["ok-tag"]]


# --- visibility and errors ------------------------------------------------------------------------


def test_a_missing_repo_is_repository_not_found(hf_api: HfApi, anonymous: HfApi) -> None:
    for api in (hf_api, anonymous):
        with pytest.raises(RepositoryNotFoundError):
            api.model_info(f"nobody/{unique_name('missing')}")
        with pytest.raises(RepositoryNotFoundError):
            api.dataset_info(f"nobody/{unique_name('missing')}")


def test_an_id_without_namespace_names_no_repo(hf_api: HfApi, anonymous: HfApi) -> None:
    for api in (hf_api, anonymous):
        assert not api.repo_exists("gpt2")
        with pytest.raises(RepositoryNotFoundError):
            api.model_info("gpt2")


def test_a_private_repo_is_invisible_to_other_users(
    live_server: LiveServer,
    hf_api: HfApi,
    other_user: HubUser,
    anonymous: HfApi,
    repo_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    repo_id = repo_factory(private=True)
    _commit(hf_api, repo_id, {"a.txt": b"a"})

    assert hf_api.model_info(repo_id).private is True
    for api, token in ((other_user.api, other_user.token), (anonymous, None)):
        with pytest.raises(RepositoryNotFoundError):
            api.model_info(repo_id)
        assert not api.repo_exists(repo_id)
        assert not api.file_exists(repo_id, "a.txt")
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(
                repo_id, "a.txt", endpoint=live_server.url, token=token, cache_dir=tmp_path
            )
    assert hf_api.file_exists(repo_id, "a.txt")


def test_a_gated_repo_shows_its_info_but_not_its_files(
    live_server: LiveServer,
    hf_api: HfApi,
    user: HubUser,
    other_user: HubUser,
    anonymous: HfApi,
    repo: str,
    tmp_path: Path,
) -> None:
    _commit(hf_api, repo, {"a.txt": b"gated bytes"})
    hf_api.update_repo_settings(repo, gated="auto")

    for api, token, status in ((other_user.api, other_user.token, 403), (anonymous, None, 401)):
        assert api.model_info(repo).gated == "auto"
        assert api.repo_exists(repo)
        with pytest.raises(GatedRepoError) as caught:
            hf_hub_download(
                repo, "a.txt", endpoint=live_server.url, token=token, cache_dir=tmp_path
            )
        assert caught.value.response.status_code == status
        assert "restricted and you are not in the authorized list" in str(caught.value)
        with pytest.raises(GatedRepoError):
            api.auth_check(repo)
    path = hf_hub_download(
        repo, "a.txt", endpoint=live_server.url, token=user.token, cache_dir=tmp_path
    )
    assert Path(path).read_bytes() == b"gated bytes"
    hf_api.auth_check(repo)


def test_org_members_download_from_gated_org_repos(
    live_server: LiveServer, other_user: HubUser, tmp_path: Path
) -> None:
    writer, reader = make_user(live_server), make_user(live_server)
    org = make_org(live_server, {writer.name: Role.WRITE, reader.name: Role.READ})
    repo_id = f"{org}/{unique_name('repo')}"
    writer.api.create_repo(repo_id)
    _commit(writer.api, repo_id, {"a.txt": b"org bytes"})
    writer.api.update_repo_settings(repo_id, gated="manual")

    path = hf_hub_download(
        repo_id, "a.txt", endpoint=live_server.url, token=reader.token, cache_dir=tmp_path
    )

    assert Path(path).read_bytes() == b"org bytes"
    reader.api.auth_check(repo_id)
    with pytest.raises(GatedRepoError):
        other_user.api.auth_check(repo_id)
