"""Identity through the official client: whoami, tokens, names, and what org roles allow."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer

BAD_TOKEN = "hf_" + "x" * 34


def test_whoami_reports_the_user_and_their_orgs(live_server: LiveServer, user: HubUser) -> None:
    org = make_org(live_server, {user.name: Role.WRITE})

    me = user.api.whoami()

    assert me["name"] == user.name
    assert me["type"] == "user"
    assert me["fullname"] == f"Test {user.name}"
    assert me["avatarUrl"].startswith(live_server.url)
    assert [(o["name"], o["fullname"]) for o in me["orgs"]] == [(org, f"Org {org}")]
    assert me["auth"]["accessToken"]["role"] == "write"


def test_whoami_avatar_url_serves_an_image(user: HubUser) -> None:
    response = httpx.get(user.api.whoami()["avatarUrl"])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_whoami_reports_a_read_token_as_read(live_server: LiveServer) -> None:
    reader = make_user(live_server, role=Role.READ)

    assert reader.api.whoami()["auth"]["accessToken"]["role"] == "read"


def test_whoami_with_an_invalid_token_is_an_auth_error(live_server: LiveServer) -> None:
    api = HfApi(endpoint=live_server.url, token=BAD_TOKEN)

    with pytest.raises(HfHubHTTPError) as caught:
        api.whoami()

    response = caught.value.response
    assert response.status_code == 401
    assert response.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_an_invalid_token_is_refused_on_repo_endpoints_too(
    live_server: LiveServer, repo: str
) -> None:
    api = HfApi(endpoint=live_server.url, token=BAD_TOKEN)

    with pytest.raises(HfHubHTTPError) as caught:
        api.model_info(repo)

    # Not "repo not found": the user must learn that their token is wrong.
    assert not isinstance(caught.value, RepositoryNotFoundError)
    assert caught.value.response.status_code == 401
    assert (
        caught.value.response.headers["X-Error-Message"]
        == "Invalid credentials in Authorization header"
    )


def test_tokens_are_stored_hashed(live_server: LiveServer, user: HubUser) -> None:
    stored = live_server.services.auth.list_tokens(user.name)

    assert [t.token_hash for t in stored] == [hashlib.sha256(user.token.encode()).hexdigest()]


def test_new_tokens_look_like_hub_tokens(user: HubUser) -> None:
    assert user.token.startswith("hf_")
    assert len(user.token) > 30


def test_a_revoked_token_no_longer_authenticates(live_server: LiveServer) -> None:
    someone = make_user(live_server)
    [record] = live_server.services.auth.list_tokens(someone.name)
    live_server.services.auth.revoke_token(someone.name, record.name)

    with pytest.raises(HfHubHTTPError) as caught:
        someone.api.whoami()

    assert caught.value.response.status_code == 401


def test_hub_style_names_are_valid_for_users_and_repos(fresh_server: LiveServer) -> None:
    fresh_server.services.auth.create_user("__dummy_user__", is_admin=False)
    token = fresh_server.services.auth.create_token("__dummy_user__", Role.WRITE).secret
    api = HfApi(endpoint=fresh_server.url, token=token)

    url = api.create_repo("__dummy_user__/Qwen2.5-0.5B-Instruct")

    assert url.repo_id == "__dummy_user__/Qwen2.5-0.5B-Instruct"
    assert api.whoami()["name"] == "__dummy_user__"
    assert api.model_info("__dummy_user__/Qwen2.5-0.5B-Instruct").id == url.repo_id


@pytest.mark.parametrize(
    "name", ["bad--name", "-leading", "trailing.", "dots..", "x.git", "a b", "datasets", "API"]
)
def test_invalid_user_names_are_refused(live_server: LiveServer, name: str) -> None:
    with pytest.raises(errors.InvalidRequestError, match="Invalid name"):
        live_server.services.auth.create_user(name, is_admin=False)


def test_a_read_token_cannot_create_upload_or_delete(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    token = live_server.services.auth.create_token(user.name, Role.READ, name="ro").secret
    reader = HfApi(endpoint=live_server.url, token=token)

    for attempt in (
        lambda: reader.create_repo(f"{user.name}/{unique_name('ro')}"),
        lambda: reader.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo),
        lambda: reader.delete_repo(repo),
    ):
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
        assert "read" in caught.value.response.headers["X-Error-Message"]
    # The read token still reads.
    assert reader.list_repo_files(repo) == [".gitattributes"]


def test_another_user_cannot_write_to_my_repo(
    user: HubUser, other_user: HubUser, repo: str
) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo)

    assert caught.value.response.status_code == 403
    assert user.api.list_repo_files(repo) == [".gitattributes"]


def test_nobody_creates_repos_in_another_users_namespace(
    user: HubUser, other_user: HubUser
) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.create_repo(f"{user.name}/{unique_name('intruder')}")

    assert caught.value.response.status_code == 403


def test_a_non_member_cannot_create_repos_in_an_org(
    live_server: LiveServer, user: HubUser, other_user: HubUser
) -> None:
    org = make_org(live_server, {user.name: Role.ADMIN})

    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.create_repo(f"{org}/{unique_name('repo')}")

    assert caught.value.response.status_code == 403


@pytest.mark.parametrize("role", [Role.WRITE, Role.ADMIN])
def test_org_writers_create_and_write_org_repos(live_server: LiveServer, role: Role) -> None:
    member = make_user(live_server)
    org = make_org(live_server, {member.name: role})
    repo_id = f"{org}/{unique_name('repo')}"

    member.api.create_repo(repo_id, private=True)
    member.api.upload_file(path_or_fileobj=b"hi", path_in_repo="a.txt", repo_id=repo_id)

    assert member.api.list_repo_files(repo_id) == [".gitattributes", "a.txt"]
    member.api.delete_repo(repo_id)
    assert not member.api.repo_exists(repo_id)


def test_org_readers_see_private_org_repos_but_cannot_write(live_server: LiveServer) -> None:
    writer, reader, outsider = (make_user(live_server) for _ in range(3))
    org = make_org(live_server, {writer.name: Role.WRITE, reader.name: Role.READ})
    repo_id = f"{org}/{unique_name('repo')}"
    writer.api.create_repo(repo_id, private=True)

    assert reader.api.model_info(repo_id).private is True
    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.create_repo(f"{org}/{unique_name('repo')}")
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.delete_repo(repo_id)
    assert caught.value.response.status_code == 403
    with pytest.raises(RepositoryNotFoundError):
        outsider.api.model_info(repo_id)


def test_a_non_member_cannot_write_to_a_public_org_repo(
    live_server: LiveServer, other_user: HubUser
) -> None:
    member = make_user(live_server)
    org = make_org(live_server, {member.name: Role.WRITE})
    repo_id = f"{org}/{unique_name('repo')}"
    member.api.create_repo(repo_id)

    with pytest.raises(HfHubHTTPError) as caught:
        other_user.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)

    assert caught.value.response.status_code == 403
    assert other_user.api.model_info(repo_id).id == repo_id


def test_auth_check_follows_the_callers_rights(
    live_server: LiveServer, anonymous: HfApi, other_user: HubUser
) -> None:
    writer, reader = make_user(live_server), make_user(live_server)
    org = make_org(live_server, {writer.name: Role.WRITE, reader.name: Role.READ})
    repo_id = f"{org}/{unique_name('repo')}"
    writer.api.create_repo(repo_id, private=True)

    writer.api.auth_check(repo_id, write=True)
    reader.api.auth_check(repo_id)
    with pytest.raises(HfHubHTTPError) as caught:
        reader.api.auth_check(repo_id, write=True)
    assert caught.value.response.status_code == 403
    for outsider in (other_user.api, anonymous):
        with pytest.raises(RepositoryNotFoundError):
            outsider.auth_check(repo_id)
