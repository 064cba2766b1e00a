"""`SpaceServing`: host labels and their lookup, passes and admissions, static Spaces' files."""

from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.spaces import spelled_label
from hubstead.server.services.downloads import RegularFile
from hubstead.server.services.registry import Services
from hubstead.server.services.spaces.serving import public_path
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer


@pytest.fixture
def hub(live_server: LiveServer) -> Services:
    return live_server.services


def test_a_space_id_is_spelled_as_the_hubs_subdomains() -> None:
    assert spelled_label("Team_A/My.Demo_2") == "team-a-my-demo-2"


def test_an_apps_public_path_is_empty_on_its_own_host() -> None:
    assert public_path("ns/app", None) == "/spaces/ns/app/app"
    assert public_path("ns/app", "spaces.example.com") == ""


def test_a_label_names_its_space_and_a_shared_spelling_falls_back_to_row_ids(
    hub: Services, live_server: LiveServer, user: HubUser
) -> None:
    alone = f"{user.name}/{unique_name('Solo_App')}"
    user.api.create_repo(alone, repo_type="space", space_sdk="static")
    repo = hub.space_serving.open(hub.auth.authenticate(user.token), alone)
    assert hub.space_serving.host_label(repo) == spelled_label(alone)
    assert hub.space_serving.by_host_label(spelled_label(alone)) == repo
    assert hub.space_serving.by_host_label(spelled_label(alone).upper()) == repo
    # Its row id is not a second host of it.
    assert hub.space_serving.by_host_label(str(repo.id)) is None

    # `{user}/twin-x` and `{user}-twin/x` are both spelled `{user}-twin-x`.
    twin = f"{user.name}-twin"
    hub.auth.create_user(twin, fullname="Twin", is_admin=False)
    twin_api = HfApi(endpoint=live_server.url, token=hub.auth.create_token(twin, Role.WRITE).secret)
    first, second = f"{user.name}/twin-x", f"{twin}/x"
    user.api.create_repo(first, repo_type="space", space_sdk="static")
    twin_api.create_repo(second, repo_type="space", space_sdk="static")
    assert spelled_label(first) == spelled_label(second)
    repos = [hub.space_serving.open(hub.auth.authenticate(None), r) for r in (first, second)]
    labels = [hub.space_serving.host_label(r) for r in repos]
    assert labels == [str(r.id) for r in repos]
    assert hub.space_serving.by_host_label(spelled_label(first)) is None
    assert [hub.space_serving.by_host_label(label) for label in labels] == repos


@pytest.mark.parametrize("label", ["", "-a", "a-", "a_b", "x" * 64, "a.b", "ünï"])
def test_a_label_no_space_can_have_finds_nothing(hub: Services, label: str) -> None:
    assert hub.space_serving.by_host_label(label) is None


def test_a_pass_admits_its_account_to_its_space_only(
    hub: Services, live_server: LiveServer, user: HubUser
) -> None:
    space = f"{user.name}/{unique_name('private')}"
    other = f"{user.name}/{unique_name('other')}"
    for repo_id in (space, other):
        user.api.create_repo(repo_id, repo_type="space", space_sdk="static", private=True)
    owner = hub.auth.authenticate(user.token)
    repo, other_repo = (hub.space_serving.open(owner, r) for r in (space, other))
    token = hub.space_serving.issue_pass(owner, repo)

    admission = hub.space_serving.admit(token, repo)
    admitted = hub.space_serving.admitted(admission, repo)
    assert admitted.account is not None and admitted.account.name == user.name
    hub.space_serving.check(admitted, repo)
    # Neither the pass nor the admission opens another Space.
    with pytest.raises(errors.AuthorizationError):
        hub.space_serving.admit(token, other_repo)
    assert hub.space_serving.admitted(admission, other_repo).anonymous
    # An admission is not a pass, and a forged one admits nobody.
    with pytest.raises(errors.AuthorizationError):
        hub.space_serving.admit(admission, repo)
    assert hub.space_serving.admitted(admission[:-2] + "xx", repo).anonymous
    assert hub.space_serving.admitted(None, repo).anonymous


def test_a_static_space_serves_its_app_file_and_folder_indexes(
    hub: Services, user: HubUser
) -> None:
    space = f"{user.name}/{unique_name('site')}"
    user.api.create_repo(space, repo_type="space", space_sdk="static")
    user.api.create_commit(
        space,
        repo_type="space",
        commit_message="site",
        operations=[
            CommitOperationAdd("README.md", b"---\nsdk: static\napp_file: web/main.html\n---\n"),
            CommitOperationAdd("web/main.html", b"main"),
            CommitOperationAdd("web/index.html", b"index"),
        ],
    )
    caller = hub.auth.authenticate(None)
    repo = hub.space_serving.open(caller, space)

    def served(path: str) -> bytes:
        found = hub.space_serving.static_file(caller, repo, path)
        assert isinstance(found, RegularFile)
        return found.data

    assert (served(""), served("web/"), served("web/main.html")) == (b"main", b"index", b"main")
    for hidden in (".gitattributes", "web/.git/x", ".GIT"):
        with pytest.raises(errors.EntryNotFoundError):
            hub.space_serving.static_file(caller, repo, hidden)
    with pytest.raises(errors.EntryNotFoundError):
        hub.space_serving.static_file(caller, repo, "missing.html")


def test_a_space_whose_readme_says_another_sdk_is_not_served_as_files(
    hub: Services, user: HubUser
) -> None:
    space = f"{user.name}/{unique_name('was-static')}"
    user.api.create_repo(space, repo_type="space", space_sdk="static")
    user.api.create_commit(
        space,
        repo_type="space",
        commit_message="now a streamlit app",
        operations=[
            CommitOperationAdd("README.md", b"---\nsdk: streamlit\n---\n"),
            CommitOperationAdd("app.py", b"import streamlit"),
        ],
    )
    caller = hub.auth.authenticate(None)
    repo = hub.space_serving.open(caller, space)
    with pytest.raises(errors.SpaceNotRunningError) as refused:
        hub.space_serving.static_file(caller, repo, "app.py")
    assert refused.value.stage == "STOPPED"
    user.api.upload_file(
        path_or_fileobj=b"---\nsdk: static\napp_file: gone.html\n---\n",
        path_in_repo="README.md",
        repo_id=space,
        repo_type="space",
    )
    with pytest.raises(errors.SpaceNotRunningError) as missing:
        hub.space_serving.static_file(caller, repo, "")
    assert missing.value.stage == "NO_APP_FILE"
