"""Deleting a user or an org: repos go with it or block it, and a reused name inherits nothing.

The attack: an account with private repos is deleted, someone creates an account with the same
name, and reads or deletes what the old account had.
"""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import Role
from hubstead.server.services.mirrors import MirrorConfig
from tests.cli.test_admin import admin
from tests.helpers.accounts import make_user, unique_name
from tests.helpers.live_server import LiveServer


def new_user(server: LiveServer, name: str) -> HfApi:
    created = admin(server, "create-user", name)
    assert created.exit_code == 0, created.output
    return HfApi(endpoint=server.url, token=created.stdout.strip())


def assert_not_found(call: object) -> None:
    assert callable(call)
    with pytest.raises(RepositoryNotFoundError):
        call()


def test_deleting_a_user_who_owns_repos_is_refused_with_their_list(
    live_server: LiveServer,
) -> None:
    name = unique_name("owner")
    api = new_user(live_server, name)
    api.create_repo(f"{name}/secret", private=True)
    api.create_repo(f"{name}/data", repo_type="dataset")

    refused = admin(live_server, "delete-user", name, "--yes")

    assert refused.exit_code == 4, refused.output
    assert f"model {name}/secret" in refused.output
    assert f"dataset {name}/data" in refused.output
    assert "--delete-repos" in refused.output
    assert api.whoami()["name"] == name
    assert api.repo_info(f"{name}/secret").private


def test_a_reused_user_name_inherits_no_repo_token_membership_or_redirect(
    live_server: LiveServer,
) -> None:
    name = unique_name("victim")
    old = new_user(live_server, name)
    old_token = old.token
    owner = make_user(live_server, "orgadmin")
    org = unique_name("org")
    live_server.services.auth.create_org(org, members={owner.name: Role.ADMIN, name: Role.WRITE})
    owner.api.create_repo(f"{org}/internal", private=True)
    old.create_repo(f"{name}/secret", private=True)
    old.upload_file(path_or_fileobj=b"weights", path_in_repo="w.txt", repo_id=f"{name}/secret")
    old.create_repo(f"{name}/moved")
    old.move_repo(f"{name}/moved", f"{org}/moved")  # leaves a redirect behind

    deleted = admin(live_server, "delete-user", name, "--yes", "--delete-repos")
    assert deleted.exit_code == 0, deleted.output
    assert f"Deleted the model {name}/secret" in deleted.output
    attacker = new_user(live_server, name)

    assert_not_found(lambda: attacker.repo_info(f"{name}/secret"))
    assert_not_found(lambda: attacker.hf_hub_download(f"{name}/secret", "w.txt"))
    assert_not_found(lambda: attacker.delete_repo(f"{name}/secret"))
    assert_not_found(lambda: attacker.repo_info(f"{org}/internal"))
    assert_not_found(lambda: attacker.repo_info(f"{name}/moved"))
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=live_server.url, token=old_token).whoami()
    assert caught.value.response.status_code == 401
    assert [o["name"] for o in attacker.whoami()["orgs"]] == []
    # The name's new owner starts afresh, and the repo that moved away is intact.
    attacker.create_repo(f"{name}/secret", private=True)
    assert [f.path for f in attacker.list_repo_tree(f"{name}/secret")] == [".gitattributes"]
    assert owner.api.repo_info(f"{org}/moved").id == f"{org}/moved"


def test_a_reused_org_name_inherits_no_repo_or_member(live_server: LiveServer) -> None:
    member = make_user(live_server, "member")
    org = unique_name("org")
    live_server.services.auth.create_org(org, members={member.name: Role.WRITE})
    member.api.create_repo(f"{org}/weights", private=True)
    refused = admin(live_server, "delete-org", org, "--yes")
    assert refused.exit_code == 4, refused.output

    deleted = admin(live_server, "delete-org", org, "--yes", "--delete-repos")
    assert deleted.exit_code == 0, deleted.output
    taker = make_user(live_server, "taker")
    live_server.services.auth.create_org(org, members={taker.name: Role.ADMIN})

    assert_not_found(lambda: taker.api.repo_info(f"{org}/weights"))
    assert_not_found(lambda: member.api.repo_info(f"{org}/weights"))
    with pytest.raises(HfHubHTTPError) as caught:
        member.api.create_repo(f"{org}/mine")
    assert caught.value.response.status_code == 403


def test_a_name_whose_namespace_holds_repos_cannot_be_taken(live_server: LiveServer) -> None:
    name = unique_name("upstream")
    # A registered mirror lives in a namespace that has no local account.
    config = MirrorConfig(upstream="http://127.0.0.1:9")
    live_server.services.mirrors.add(RepoType.MODEL, f"{name}/mirrored", config)

    refused = admin(live_server, "create-user", name)

    assert refused.exit_code == 4, refused.output
    assert f"model {name}/mirrored" in refused.output
    live_server.services.mirrors.remove(RepoType.MODEL, f"{name}/mirrored", delete_repo=True)
    assert admin(live_server, "create-user", name).exit_code == 0
