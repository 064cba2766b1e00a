"""`duplicate_repo` through the official client: a copy with the same history and large files.

The copy keeps every commit id of the source's branches and tags; its LFS and Xet objects are
linked to it, never stored twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.profiles import reads_local_blobs
from tests.helpers.storage import blob_path, lfs_bytes, upload_lfs

Copies = Callable[..., str]


@pytest.fixture
def copies(user: HubUser, other_user: HubUser) -> Iterator[Copies]:
    """Unique target ids in `user`'s namespace; whatever exists at teardown is deleted."""
    made: list[tuple[HfApi, str, str]] = []

    def target(repo_type: str = "model", owner: HubUser = user) -> str:
        repo_id = f"{owner.name}/{unique_name('copy')}"
        made.append((owner.api, repo_id, repo_type))
        return repo_id

    yield target
    for api, repo_id, repo_type in made:
        api.delete_repo(repo_id, repo_type=repo_type, missing_ok=True)


def _history(api: HfApi, repo_id: str, revision: str | None = None) -> list[str]:
    return [c.commit_id for c in api.list_repo_commits(repo_id, revision=revision)]


@reads_local_blobs
def test_a_copy_has_the_same_branches_tags_history_and_files(
    live_server: LiveServer, user: HubUser, repo: str, copies: Copies
) -> None:
    weights = lfs_bytes("weights", 5000)
    sha = upload_lfs(user.api, repo, "model.bin", weights)
    user.api.upload_file(path_or_fileobj=b"# Demo\n", path_in_repo="README.md", repo_id=repo)
    user.api.create_branch(repo, branch="dev")
    user.api.upload_file(
        path_or_fileobj=b"dev", path_in_repo="dev.txt", repo_id=repo, revision="dev"
    )
    user.api.create_tag(repo, tag="v1", tag_message="first release")
    target = copies()

    url = user.api.duplicate_repo(repo, target)

    assert url.repo_id == target
    assert url.endpoint == live_server.url
    assert url.files_copy_pending is False
    assert _history(user.api, target) == _history(user.api, repo)
    assert _history(user.api, target, revision="dev") == _history(user.api, repo, revision="dev")
    source_refs, copy_refs = user.api.list_repo_refs(repo), user.api.list_repo_refs(target)
    assert {(b.name, b.target_commit) for b in copy_refs.branches} == {
        (b.name, b.target_commit) for b in source_refs.branches
    }
    assert [(t.name, t.target_commit) for t in copy_refs.tags] == [
        (t.name, t.target_commit) for t in source_refs.tags
    ]
    info = user.api.model_info(target)
    assert info.sha == user.api.model_info(repo).sha
    assert info.private is False
    with open(
        hf_hub_download(target, "model.bin", endpoint=live_server.url, token=user.token), "rb"
    ) as f:
        assert f.read() == weights
    assert [f.file_oid for f in user.api.list_lfs_files(target)] == [sha]
    assert blob_path(live_server, sha).read_bytes() == weights


def test_a_copy_stands_alone_once_its_source_is_deleted(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    source = repo_factory()
    weights = lfs_bytes("kept", 3000)
    upload_lfs(user.api, source, "kept.bin", weights)
    target = copies()
    user.api.duplicate_repo(source, target)

    user.api.delete_repo(source)

    path = hf_hub_download(target, "kept.bin", endpoint=live_server.url, token=user.token)
    with open(path, "rb") as f:
        assert f.read() == weights
    assert [c.title for c in user.api.list_repo_commits(target)][-1] == "initial commit"


def test_a_dataset_and_a_space_keep_their_type_and_the_space_its_sdk(
    user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    dataset, space = repo_factory("dataset"), repo_factory("space", space_sdk="static")
    dataset_copy, space_copy = copies("dataset"), copies("space")

    user.api.duplicate_repo(dataset, dataset_copy, repo_type="dataset")
    user.api.duplicate_repo(space, space_copy, repo_type="space")

    assert user.api.dataset_info(dataset_copy).sha == user.api.dataset_info(dataset).sha
    assert user.api.space_info(space_copy).sdk == "static"


def test_without_a_target_the_copy_lands_in_the_callers_namespace_under_the_same_name(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    name = repo.split("/")[1]
    target = f"{other_user.name}/{name}"

    try:
        url = other_user.api.duplicate_repo(repo)
        assert url.repo_id == target
        assert other_user.api.model_info(target).sha == user.api.model_info(repo).sha
    finally:
        other_user.api.delete_repo(target, missing_ok=True)


def test_private_is_honoured_and_defaults_to_the_sources_visibility(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    public, secret = repo_factory(), repo_factory(private=True)
    made_private, kept_private, made_public = copies(), copies(), copies()

    user.api.duplicate_repo(public, made_private, private=True)
    user.api.duplicate_repo(secret, kept_private)
    user.api.duplicate_repo(secret, made_public, private=False)

    assert user.api.model_info(made_private).private is True
    assert user.api.model_info(kept_private).private is True
    assert other_user.api.model_info(made_public).private is False
    for hidden in (made_private, kept_private):
        with pytest.raises(RepositoryNotFoundError):
            other_user.api.model_info(hidden)


def test_a_private_source_the_caller_cannot_read_is_not_found(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    secret = repo_factory(private=True)
    target = copies(owner=other_user)

    with pytest.raises(RepositoryNotFoundError) as caught:
        other_user.api.duplicate_repo(secret, target)

    assert caught.value.response.status_code == 404
    missing = f"{user.name}/{unique_name('missing')}"
    with pytest.raises(RepositoryNotFoundError) as absent:
        other_user.api.duplicate_repo(missing, target)
    assert absent.value.response.headers["X-Error-Message"].replace(
        missing, "X"
    ) == caught.value.response.headers["X-Error-Message"].replace(secret, "X")
    assert not other_user.api.repo_exists(target)


def test_an_existing_target_is_a_conflict_unless_exist_ok(
    live_server: LiveServer, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    source, existing = repo_factory(), repo_factory()
    user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=source)

    with pytest.raises(HfHubHTTPError) as caught:
        user.api.duplicate_repo(source, existing)

    assert caught.value.response.status_code == 409
    assert caught.value.response.json()["url"] == f"{live_server.url}/{existing}"
    assert user.api.duplicate_repo(source, existing, exist_ok=True).repo_id == existing
    assert user.api.model_info(existing).sha != user.api.model_info(source).sha


def test_a_copy_into_a_namespace_the_caller_cannot_write_is_forbidden(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    target = f"{user.name}/{unique_name('intrusion')}"

    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.duplicate_repo(repo, target)

    assert caught.value.response.status_code == 403
    assert not user.api.repo_exists(target)


def test_a_space_copy_takes_its_own_secrets_variables_and_sleep_time(
    user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    space = repo_factory("space")
    user.api.add_space_variable(space, "MODE", "fast")
    user.api.add_space_secret(space, "TOKEN", "the-source-secret")
    target = copies("space")

    user.api.duplicate_repo(
        space,
        target,
        repo_type="space",
        space_secrets=[{"key": "MY_TOKEN", "value": "mine"}],
        space_variables=[{"key": "EXTRA", "value": "1"}],
        space_sleep_time=3600,
    )

    assert list(user.api.get_space_secrets(target)) == ["MY_TOKEN"]
    assert sorted(user.api.get_space_variables(target)) == ["EXTRA", "MODE"]
    assert user.api.get_space_runtime(target).sleep_time == 3600


def test_bad_space_options_are_refused_before_the_copy_is_made(
    user: HubUser, repo_factory: Callable[..., str], copies: Copies
) -> None:
    space = repo_factory("space")
    target = copies("space")

    with pytest.raises(HfHubHTTPError) as caught:
        user.api.duplicate_repo(
            space, target, repo_type="space", space_secrets=[{"key": "PATH", "value": "/x"}]
        )

    assert caught.value.response.status_code == 400
    assert "reserved" in caught.value.response.headers["X-Error-Message"]
    assert not user.api.repo_exists(target, repo_type="space")


@pytest.mark.usefixtures("xet")
def test_xet_files_are_linked_to_the_copy_and_download_through_xet(
    live_server: LiveServer, user: HubUser, repo: str, copies: Copies
) -> None:
    payload = os.urandom(300_000)
    user.api.upload_file(path_or_fileobj=payload, path_in_repo="big.bin", repo_id=repo)
    target = copies()

    user.api.duplicate_repo(repo, target)

    (entry,) = user.api.get_paths_info(target, ["big.bin"])
    assert entry.xet_hash is not None  # type: ignore[union-attr]
    path = hf_hub_download(target, "big.bin", endpoint=live_server.url, token=user.token)
    with open(path, "rb") as f:
        assert f.read() == payload
