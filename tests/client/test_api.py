"""hubstead's `HfApi` against the live hub: repos, info, listings, files, errors and retries.

What our client does is checked with the official client, and the other way round.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, hf_api
from huggingface_hub import errors as hf_errors

from hubstead import errors
from hubstead.client import models
from hubstead.client._http import HubSession, backoff
from hubstead.client.api import HfApi
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer

README = b"""---
library_name: transformers
pipeline_tag: text-classification
tags: [sentiment]
---
# A model
"""


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def seed(user: HubUser, repo_id: str, files: dict[str, bytes], message: str = "seed") -> str:
    """Commit `files` with the official client; return the commit id."""
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    info = user.api.create_commit(repo_id, operations, commit_message=message)
    return str(info.oid)


# --- create, delete, move, settings -------------------------------------------------------------


def test_created_private_repo_is_seen_by_its_owner_through_the_official_client(
    client: HfApi, user: HubUser, anonymous: object
) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"

    url = client.create_repo(repo_id, private=True)

    assert isinstance(url, models.RepoUrl)
    assert url == f"{client.endpoint}/{repo_id}"
    assert (url.repo_id, url.repo_type, url.namespace) == (repo_id, "model", user.name)
    assert user.api.repo_info(repo_id).private is True
    with pytest.raises(hf_errors.RepositoryNotFoundError):
        anonymous.repo_info(repo_id)  # type: ignore[attr-defined]
    client.delete_repo(repo_id)


def test_a_bare_repo_name_is_created_in_the_callers_namespace(client: HfApi, user: HubUser) -> None:
    name = unique_name("bare")

    url = client.create_repo(name, repo_type="dataset")

    assert url.repo_id == f"{user.name}/{name}"
    assert url == f"{client.endpoint}/datasets/{user.name}/{name}"
    assert user.api.dataset_info(url.repo_id).id == url.repo_id
    client.delete_repo(url.repo_id, repo_type="dataset")


def test_creating_an_existing_repo_is_a_409_unless_exist_ok(client: HfApi, repo: str) -> None:
    with pytest.raises(errors.HfHubHTTPError) as caught:
        client.create_repo(repo)

    assert caught.value.status_code == 409
    assert client.create_repo(repo, exist_ok=True).repo_id == repo


def test_exist_ok_returns_the_url_of_a_repo_the_token_may_only_read(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    read_token = live_server.services.auth.create_token(user.name, Role.READ).secret
    reader = HfApi(endpoint=live_server.url, token=read_token, trust_env=False)

    with pytest.raises(errors.HfHubHTTPError) as caught:
        reader.create_repo(unique_name("new"))

    assert caught.value.status_code == 403
    assert reader.create_repo(repo, exist_ok=True) == f"{live_server.url}/{repo}"
    reader.close()


def test_creating_without_a_token_is_refused_with_401(live_server: LiveServer) -> None:
    with (
        HfApi(endpoint=live_server.url, token=False, trust_env=False) as api,
        pytest.raises(errors.HfHubHTTPError) as caught,
    ):
        api.create_repo(f"someone/{unique_name('repo')}")

    assert caught.value.status_code == 401
    assert "log in" in str(caught.value)


def test_a_space_needs_an_sdk_the_hub_knows(client: HfApi, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('space')}"

    with pytest.raises(errors.HFValidationError):
        client.create_repo(repo_id, repo_type="space")
    with pytest.raises(errors.BadRequestError) as caught:
        client.create_repo(repo_id, repo_type="space", space_sdk="no-such-sdk")
    url = client.create_repo(repo_id, repo_type="space", space_sdk="gradio")

    assert caught.value.status_code == 400
    assert "no-such-sdk" in (caught.value.server_message or "")
    assert url.repo_type == "space"
    assert client.space_info(repo_id).sdk == "gradio"
    client.delete_repo(repo_id, repo_type="space")


def test_deleting_a_missing_repo_raises_unless_missing_ok(client: HfApi, user: HubUser) -> None:
    repo_id = f"{user.name}/{unique_name('repo')}"
    client.create_repo(repo_id)

    client.delete_repo(repo_id)

    assert not user.api.repo_exists(repo_id)
    with pytest.raises(errors.RepositoryNotFoundError):
        client.delete_repo(repo_id)
    client.delete_repo(repo_id, missing_ok=True)


def test_moved_repo_keeps_its_files_under_the_new_name(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo_id = repo_factory()
    seed(user, repo_id, {"a.txt": b"a"})
    new_id = f"{user.name}/{unique_name('moved')}"

    client.move_repo(repo_id, new_id)

    assert "a.txt" in user.api.list_repo_files(new_id)
    assert client.repo_info(new_id).id == new_id
    with pytest.raises(errors.HFValidationError):
        client.move_repo(new_id, "no-namespace")
    client.delete_repo(new_id)


def test_settings_make_a_repo_private_and_gated(
    client: HfApi, user: HubUser, other_user: HubUser, repo: str
) -> None:
    client.update_repo_settings(repo, gated="auto")

    assert user.api.model_info(repo).gated == "auto"
    other = HfApi(endpoint=client.endpoint, token=other_user.token, trust_env=False)
    assert other.repo_exists(repo)
    with pytest.raises(errors.GatedRepoError):
        other.auth_check(repo)

    client.update_repo_settings(repo, private=True, gated=False)

    assert not other.repo_exists(repo)
    assert user.api.model_info(repo).private is True
    with pytest.raises(errors.HFValidationError):
        client.update_repo_settings(repo)
    other.close()


# --- info and existence -------------------------------------------------------------------------


def test_model_info_reads_card_metadata_and_files(client: HfApi, user: HubUser, repo: str) -> None:
    commit = seed(user, repo, {"README.md": README, "weights/config.json": b"{}"})

    info = client.model_info(repo, files_metadata=True)

    assert isinstance(info, models.ModelInfo)
    assert (info.id, info.sha, info.author) == (repo, commit, user.name)
    assert (info.library_name, info.pipeline_tag) == ("transformers", "text-classification")
    assert "sentiment" in info.tags
    assert info.card_data is not None and info.card_data["library_name"] == "transformers"
    siblings = {s.rfilename: (s.size, s.blob_id) for s in info.siblings or ()}
    official = user.api.model_info(repo, files_metadata=True).siblings or []
    assert siblings == {s.rfilename: (s.size, s.blob_id) for s in official}
    assert siblings["weights/config.json"][0] == 2
    assert info.last_modified is not None and info.created_at is not None


def test_repo_info_at_a_revision_and_the_errors_for_what_is_missing(
    client: HfApi, user: HubUser, repo: str
) -> None:
    first = seed(user, repo, {"a.txt": b"1"})
    seed(user, repo, {"a.txt": b"2"})

    assert client.repo_info(repo, revision=first).sha == first
    with pytest.raises(errors.RevisionNotFoundError) as revision_error:
        client.repo_info(repo, revision="no-such-branch")
    with pytest.raises(errors.RepositoryNotFoundError) as repo_error:
        client.repo_info(f"{user.name}/{unique_name('missing')}")
    with pytest.raises(errors.RepositoryNotFoundError):
        client.dataset_info(repo)

    assert revision_error.value.status_code == 404
    assert revision_error.value.request_id
    assert repo_error.value.status_code == 404
    assert "Check the repo id" in str(repo_error.value)


def test_exists_checks_answer_false_instead_of_raising(
    client: HfApi, user: HubUser, repo: str
) -> None:
    seed(user, repo, {"dir/a.txt": b"a", "model.safetensors": b"\0" * 64})
    missing_repo = f"{user.name}/{unique_name('missing')}"

    assert client.repo_exists(repo)
    assert not client.repo_exists(missing_repo)
    assert client.revision_exists(repo, "main")
    assert not client.revision_exists(repo, "nope")
    assert not client.revision_exists(missing_repo, "main")
    assert client.file_exists(repo, "dir/a.txt")
    assert client.file_exists(repo, "model.safetensors")
    assert not client.file_exists(repo, "dir/b.txt")
    assert not client.file_exists(repo, "dir/a.txt", revision="nope")
    assert not client.file_exists(missing_repo, "dir/a.txt")


def test_file_exists_raises_for_a_gated_repo_it_may_not_read(
    client: HfApi, user: HubUser, other_user: HubUser, repo: str
) -> None:
    seed(user, repo, {"a.txt": b"a"})
    client.update_repo_settings(repo, gated="manual")

    with HfApi(endpoint=client.endpoint, token=other_user.token, trust_env=False) as other:
        with pytest.raises(errors.GatedRepoError):
            other.file_exists(repo, "a.txt")
        assert other.repo_exists(repo)
    assert client.file_exists(repo, "a.txt")


def test_auth_check_tells_read_from_write_access(
    client: HfApi, other_user: HubUser, repo: str
) -> None:
    client.auth_check(repo, write=True)

    with HfApi(endpoint=client.endpoint, token=other_user.token, trust_env=False) as other:
        other.auth_check(repo)
        with pytest.raises(errors.HfHubHTTPError) as caught:
            other.auth_check(repo, write=True)

    assert caught.value.status_code == 403
    assert "lacks the permission" in str(caught.value)


# --- listings -------------------------------------------------------------------------------------


def test_list_models_filters_by_author_search_and_limit(live_server: LiveServer) -> None:
    owner = make_user(live_server, "lister")
    names = [unique_name("alpha"), unique_name("alpha"), unique_name("beta")]
    for name in names:
        owner.api.create_repo(f"{owner.name}/{name}")
    owner.api.create_repo(f"{owner.name}/{unique_name('data')}", repo_type="dataset")

    with HfApi(endpoint=live_server.url, token=owner.token, trust_env=False) as api:
        mine = list(api.list_models(author=owner.name))
        alphas = list(api.list_models(author=owner.name, search="alpha"))
        limited = list(api.list_models(author=owner.name, limit=2, sort="created_at"))
        datasets = list(api.list_datasets(author=owner.name))
        by_id = list(api.list_models(author=owner.name, sort="id"))

    assert all(isinstance(m, models.ModelInfo) for m in mine)
    assert {m.id for m in mine} == {f"{owner.name}/{n}" for n in names}
    assert {m.id for m in alphas} == {f"{owner.name}/{n}" for n in names[:2]}
    assert [m.id for m in limited] == [f"{owner.name}/{n}" for n in reversed(names)][:2]
    assert [type(d) for d in datasets] == [models.DatasetInfo]
    assert [m.id for m in by_id] == sorted((m.id for m in mine), reverse=True)


def test_list_spaces_with_full_info_and_expand_or_full_but_not_both(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    space = repo_factory("space")

    full = list(client.list_spaces(author=user.name, full=True))
    expanded = list(client.list_spaces(author=user.name, expand=["sdk"]))

    assert [s.id for s in full] == [space]
    assert full[0].siblings is not None
    assert expanded[0].sdk == "gradio"
    with pytest.raises(errors.HFValidationError):
        list(client.list_spaces(full=True, expand=["sdk"]))


def test_listing_follows_link_headers_across_pages(live_server: LiveServer) -> None:
    owner = make_user(live_server, "pager")
    for _ in range(3):
        owner.api.create_repo(f"{owner.name}/{unique_name('repo')}")
    session = HubSession(live_server.url, owner.token)

    items = list(session.paginate("api/models", {"author": owner.name, "limit": 1}))

    assert len({item["id"] for item in items}) == 3
    session.close()


# --- files --------------------------------------------------------------------------------------


def test_tree_listing_pages_through_many_entries_with_last_commits(
    client: HfApi, user: HubUser, repo: str
) -> None:
    files = {f"data/{i:03d}.txt": str(i).encode() for i in range(60)}
    commit = seed(user, repo, {**files, "top.txt": b"t"})

    expanded = list(client.list_repo_tree(repo, "data", expand=True))
    top = list(client.list_repo_tree(repo))

    assert [e.path for e in expanded] == sorted(files)
    assert all(isinstance(e, models.RepoFile) and e.last_commit for e in expanded)
    assert expanded[0].last_commit is not None and expanded[0].last_commit.oid == commit
    assert {(type(e), e.path) for e in top} >= {
        (models.RepoFolder, "data"),
        (models.RepoFile, "top.txt"),
    }
    assert set(client.list_repo_files(repo)) == set(user.api.list_repo_files(repo))
    with pytest.raises(errors.RemoteEntryNotFoundError):
        list(client.list_repo_tree(repo, "no-such-dir"))


def test_paths_info_leaves_out_missing_paths(client: HfApi, user: HubUser, repo: str) -> None:
    seed(user, repo, {"dir/a.txt": b"abc", "model.safetensors": b"\1" * 32})

    found = client.get_paths_info(repo, ["dir", "dir/a.txt", "model.safetensors", "nope"])

    by_path = {e.path: e for e in found}
    assert set(by_path) == {"dir", "dir/a.txt", "model.safetensors"}
    assert isinstance(by_path["dir"], models.RepoFolder)
    lfs_file = by_path["model.safetensors"]
    assert isinstance(lfs_file, models.RepoFile) and lfs_file.size == 32
    official = user.api.get_paths_info(repo, ["model.safetensors"])[0]
    assert isinstance(official, hf_api.RepoFile)
    assert lfs_file.blob_id == official.blob_id
    assert (lfs_file.lfs is None) == (official.lfs is None)


# --- validation, retries ------------------------------------------------------------------------


def test_an_invalid_repo_id_fails_before_any_request() -> None:
    with HfApi(endpoint=closed_port_url(), token=False, trust_env=False) as api:
        for bad in ("a/b/c", "a--b/c", "", "a/.hidden"):
            with pytest.raises(errors.HFValidationError):
                api.repo_info(bad)
        with pytest.raises(errors.HFValidationError):
            api.repo_info("a/b", repo_type="notebook")


def test_backoff_waits_grow_exponentially_up_to_the_cap() -> None:
    for attempt in range(12):
        waits = [backoff(attempt) for _ in range(50)]
        assert all(0 <= w <= min(8.0, 2.0**attempt) for w in waits)
    assert max(backoff(10) for _ in range(200)) > 4.0  # jitter spreads over the whole range


def test_refused_connections_are_retried_then_raised() -> None:
    waits: list[float] = []
    session = HubSession(closed_port_url(), None, max_retries=2, sleep=waits.append)

    with pytest.raises(httpx.ConnectError):
        session.request("GET", session.url("api/models"))

    assert len(waits) == 2
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 2.0
    session.close()


def test_each_retry_is_announced_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    session = HubSession(closed_port_url(), None, max_retries=2, sleep=lambda _: None)

    with caplog.at_level("WARNING", logger="hubstead.client"), pytest.raises(httpx.ConnectError):
        session.request("GET", session.url("api/models"))

    announced = [r.getMessage() for r in caplog.records if r.name == "hubstead.client"]
    assert len(announced) == 2
    assert all("api/models failed (ConnectError" in m for m in announced)
    assert announced[1].endswith("(2/2)")
    session.close()


def test_a_request_without_a_token_says_so_when_refused(live_server: LiveServer) -> None:
    with (
        HfApi(endpoint=live_server.url, token=False, trust_env=False) as api,
        pytest.raises(errors.HfHubHTTPError) as refused,
    ):
        api.create_repo(unique_name("anonymous"))

    assert refused.value.status_code == 401
    assert "No token was sent" in str(refused.value)


def test_client_without_retries_fails_fast_on_a_dead_hub() -> None:
    started = time.monotonic()
    with (
        HfApi(endpoint=closed_port_url(), token=False, trust_env=False, max_retries=0) as api,
        pytest.raises(httpx.ConnectError),
    ):
        api.repo_info("someone/something")
    assert time.monotonic() - started < 5


def test_duplicate_repo_copies_history_into_the_callers_namespace_by_default(
    client: HfApi, user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    source = repo_factory()
    seed(user, source, {"a.txt": b"a"})
    named = f"{user.name}/{unique_name('copy')}"
    with HfApi(endpoint=client.endpoint, token=other_user.token, trust_env=False) as other:
        try:
            url = client.duplicate_repo(source, named.split("/")[1], private=True)
            default = other.duplicate_repo(source)
            assert (url.repo_id, url.files_copy_pending) == (named, False)
            assert isinstance(url, models.DuplicatedRepoUrl)
            assert default.repo_id == f"{other_user.name}/{source.split('/')[1]}"
            assert client.repo_info(named).private is True
            assert other.repo_info(default.repo_id).sha == client.repo_info(source).sha
            with pytest.raises(errors.HfHubHTTPError) as caught:
                client.duplicate_repo(source, named)
            assert caught.value.status_code == 409
            assert client.duplicate_repo(source, named, exist_ok=True).repo_id == named
            with pytest.raises(errors.HFValidationError):
                client.duplicate_repo(source, named, private=True, visibility="public")
        finally:
            client.delete_repo(named, missing_ok=True)
            other.delete_repo(f"{other_user.name}/{source.split('/')[1]}", missing_ok=True)


def test_tag_vocabularies_group_the_tags_of_visible_repos(
    client: HfApi, user: HubUser, repo_factory: Callable[..., str]
) -> None:
    tag = unique_name("tag")
    seed(user, repo_factory(private=True), {"README.md": f"---\ntags: [{tag}]\n---\n".encode()})

    assert {"id": tag, "label": tag, "type": "other"} in client.get_model_tags()["other"]
    assert tag not in str(client.get_dataset_tags())


def test_model_info_has_the_safetensors_summary_when_the_hub_sends_it(
    client: HfApi, user: HubUser, repo: str
) -> None:
    header = b'{"w": {"dtype": "F16", "shape": [3, 5], "data_offsets": [0, 30]}}'
    weights = len(header).to_bytes(8, "little") + header + bytes(30)
    seed(user, repo, {"model.safetensors": weights})

    info = client.model_info(repo)

    assert info.safetensors == models.SafeTensorsInfo({"F16": 15}, 15)
    assert client.model_info(repo, expand=["sha"]).safetensors is None
