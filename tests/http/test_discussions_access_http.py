"""Who may do what with discussions: each rule of `services/discussions.py`, over raw HTTP.

The cast: the repo's owner (a writer), a writer of the owning org, a signed-in outsider with a
write token, the outsider's read token, and anonymous callers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror


@dataclasses.dataclass
class Cast:
    """Clients acting as each party, on one repo of an org."""

    repo: str
    owner: httpx.Client
    writer: httpx.Client
    outsider: httpx.Client
    reader: httpx.Client
    anonymous: httpx.Client

    @property
    def url(self) -> str:
        return f"/api/models/{self.repo}/discussions"


def client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers)


@pytest.fixture
def cast(live_server: LiveServer, user: HubUser, other_user: HubUser) -> Iterator[Cast]:
    writer = make_user(live_server, "writer")
    org = make_org(live_server, {user.name: Role.ADMIN, writer.name: Role.WRITE})
    repo = f"{org}/{unique_name('repo')}"
    user.api.create_repo(repo)
    reader_token = live_server.services.auth.create_token(other_user.name, Role.READ).secret
    clients = [
        client(live_server, user.token),
        client(live_server, writer.token),
        client(live_server, other_user.token),
        client(live_server, reader_token),
        client(live_server),
    ]
    yield Cast(repo, *clients)
    for c in clients:
        c.close()
    user.api.delete_repo(repo)


def open_thread(http: httpx.Client, url: str, pull_request: bool = False) -> int:
    response = http.post(url, json={"title": "A thread", "pullRequest": pull_request})
    assert response.status_code == 201, response.text
    num: int = response.json()["num"]
    return num


def first_comment(http: httpx.Client, url: str, num: int) -> str:
    response = http.get(f"{url}/{num}")
    assert response.status_code == 200, response.text
    comment_id: str = response.json()["events"][0]["id"]
    return comment_id


def mutations(url: str, num: int, pr: int, comment: str) -> list[tuple[str, dict[str, Any]]]:
    """Every change the API offers, each with a valid body."""
    return [
        (url, {"title": "A new thread"}),
        (f"{url}/{num}/comment", {"comment": "hello"}),
        (f"{url}/{num}/title", {"title": "Renamed"}),
        (f"{url}/{num}/status", {"status": "closed"}),
        (f"{url}/{pr}/merge", {}),
        (f"{url}/{num}/comment/{comment}/edit", {"content": "edited"}),
        (f"{url}/{num}/comment/{comment}/hide", {}),
    ]


def assert_unchanged(cast: Cast, num: int) -> None:
    thread = cast.owner.get(f"{cast.url}/{num}").json()
    assert (thread["title"], thread["status"]) == ("A thread", "open")
    [comment] = thread["events"]
    assert comment["data"]["edited"] is False
    assert comment["data"]["hidden"] is False
    assert cast.owner.get(cast.url).json()["count"] == 2


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert message in response.headers["x-error-message"]


def test_anonymous_callers_are_401_on_every_change(cast: Cast) -> None:
    num = open_thread(cast.owner, cast.url)
    pr = open_thread(cast.owner, cast.url, pull_request=True)
    comment = first_comment(cast.owner, cast.url, num)

    for url, body in mutations(cast.url, num, pr, comment):
        response = cast.anonymous.post(url, json=body)
        assert_refused(response, 401, "You must be authenticated")
    assert_unchanged(cast, num)


def test_read_tokens_are_403_on_every_change(cast: Cast) -> None:
    num = open_thread(cast.owner, cast.url)
    pr = open_thread(cast.owner, cast.url, pull_request=True)
    comment = first_comment(cast.owner, cast.url, num)

    for url, body in mutations(cast.url, num, pr, comment):
        response = cast.reader.post(url, json=body)
        assert response.status_code == 403, (url, response.text)
        assert "read role only" in response.headers["x-error-message"]
    assert_unchanged(cast, num)


def test_anyone_may_read_the_threads_of_a_public_repo(cast: Cast) -> None:
    num = open_thread(cast.owner, cast.url)

    for reader in (cast.anonymous, cast.reader, cast.outsider):
        assert reader.get(cast.url).json()["count"] == 1
        assert reader.get(f"{cast.url}/{num}").status_code == 200


def test_a_signed_in_outsider_opens_comments_renames_closes_and_reopens_their_own_thread(
    cast: Cast,
) -> None:
    num = open_thread(cast.outsider, cast.url)
    pr = open_thread(cast.outsider, cast.url, pull_request=True)
    url = f"{cast.url}/{num}"

    assert cast.outsider.post(f"{url}/comment", json={"comment": "more"}).status_code == 200
    assert cast.outsider.post(f"{url}/title", json={"title": "Mine"}).status_code == 200
    assert cast.outsider.post(f"{url}/status", json={"status": "closed"}).status_code == 200
    assert cast.outsider.post(f"{url}/status", json={"status": "open"}).status_code == 200
    assert cast.outsider.post(f"{cast.url}/{pr}/status", json={"status": "open"}).status_code == 200
    thread = cast.owner.get(url).json()
    assert (thread["title"], thread["status"]) == ("Mine", "open")
    assert cast.owner.get(f"{cast.url}/{pr}").json()["status"] == "open"


def test_only_the_author_of_a_comment_edits_it(cast: Cast) -> None:
    num = open_thread(cast.outsider, cast.url)
    comment = first_comment(cast.owner, cast.url, num)
    edit = f"{cast.url}/{num}/comment/{comment}/edit"

    for other in (cast.owner, cast.writer):
        response = other.post(edit, json={"content": "not yours"})
        assert_refused(response, 403, "Only the author of a comment may edit it")
    response = cast.outsider.post(edit, json={"content": "mine, edited"})

    assert response.status_code == 200, response.text
    latest = cast.owner.get(f"{cast.url}/{num}").json()["events"][0]["data"]["latest"]
    assert latest["raw"] == "mine, edited"


def test_only_writers_hide_comments(cast: Cast) -> None:
    num = open_thread(cast.outsider, cast.url)
    comment = first_comment(cast.owner, cast.url, num)
    hide = f"{cast.url}/{num}/comment/{comment}/hide"

    refused = cast.outsider.post(hide)  # even their own
    hidden = cast.writer.post(hide)

    assert_refused(refused, 403, "you don't have the rights to write")
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["updatedComment"]["data"]["hidden"] is True


def test_others_threads_are_renamed_and_closed_by_writers_only(cast: Cast) -> None:
    theirs = open_thread(cast.owner, cast.url)
    mine = open_thread(cast.outsider, cast.url)
    url = f"{cast.url}/{theirs}"

    renamed = cast.outsider.post(f"{url}/title", json={"title": "Hijacked"})
    closed = cast.outsider.post(f"{url}/status", json={"status": "closed"})

    assert_refused(renamed, 403, f"Only the author of #{theirs} or a writer")
    assert_refused(closed, 403, f"Only the author of #{theirs} or a writer")
    assert cast.owner.get(url).json()["status"] == "open"
    other = f"{cast.url}/{mine}"
    assert cast.writer.post(f"{other}/title", json={"title": "Tidied"}).status_code == 200
    assert cast.writer.post(f"{other}/status", json={"status": "closed"}).status_code == 200
    assert cast.writer.post(f"{other}/status", json={"status": "open"}).status_code == 200
    assert cast.owner.get(other).json()["title"] == "Tidied"


def test_only_writers_merge_even_their_own_pull_request(cast: Cast) -> None:
    pr = open_thread(cast.outsider, cast.url, pull_request=True)
    assert cast.outsider.post(f"{cast.url}/{pr}/status", json={"status": "open"}).status_code == 200

    refused = cast.outsider.post(f"{cast.url}/{pr}/merge", json={})
    merged = cast.writer.post(f"{cast.url}/{pr}/merge", json={})

    assert_refused(refused, 403, "you don't have the rights to write")
    assert merged.status_code == 200, merged.text
    assert cast.owner.get(f"{cast.url}/{pr}").json()["status"] == "merged"


# --- repos outsiders may not see or read --------------------------------------------------------


def every_route(url: str, num: int, pr: int, comment: str) -> list[tuple[str, str, Any]]:
    return [
        ("GET", url, None),
        ("GET", f"{url}/{num}", None),
        ("GET", f"{url}/{pr}?diff=1", None),
        *(("POST", path, body) for path, body in mutations(url, num, pr, comment)),
    ]


@pytest.mark.parametrize("repo_type", ["model", "dataset", "space"])
def test_a_private_repos_threads_are_invisible_to_outsiders_on_every_route(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo_type: str
) -> None:
    repo = f"{user.name}/{unique_name('private')}"
    sdk = {"space_sdk": "gradio"} if repo_type == "space" else {}
    user.api.create_repo(repo, repo_type=repo_type, private=True, **sdk)  # type: ignore[arg-type]
    missing = f"{user.name}/{unique_name('missing')}"
    prefix = f"/api/{repo_type}s"
    with client(live_server, user.token) as owner:
        url = f"{prefix}/{repo}/discussions"
        num = open_thread(owner, url)
        pr = open_thread(owner, url, pull_request=True)
        comment = first_comment(owner, url, num)
        callers = [
            (client(live_server, other_user.token), 404),
            (client(live_server), 401),
        ]
        for caller, status in callers:
            with caller:
                for method, path, body in every_route(url, num, pr, comment):
                    response = caller.request(method, path, json=body)
                    assert response.status_code == status, (method, path, response.text)
                    assert response.headers["x-error-code"] == "RepoNotFound", path
                    # Exactly what a repo that does not exist answers.
                    absent = caller.request(method, path.replace(repo, missing), json=body)
                    assert absent.status_code == status
                    assert absent.headers["x-error-code"] == "RepoNotFound"
                    assert response.json()["error"].replace(repo, missing) == absent.json()["error"]
        thread = owner.get(f"{url}/{num}").json()
        assert (thread["title"], thread["status"], len(thread["events"])) == (
            "A thread",
            "open",
            1,
        )
    user.api.delete_repo(repo, repo_type=repo_type)


def test_a_gated_repos_threads_are_closed_to_outsiders(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    url = f"/api/models/{repo}/discussions"
    with client(live_server, user.token) as owner, client(live_server, other_user.token) as other:
        num = open_thread(owner, url)
        pr = open_thread(owner, url, pull_request=True)
        comment = first_comment(owner, url, num)
        user.api.update_repo_settings(repo, gated="auto")

        for method, path, body in every_route(url, num, pr, comment):
            response = other.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert response.headers["x-error-code"] == "GatedRepo", path
            assert "restricted" in response.headers["x-error-message"]
        assert owner.get(url).json()["count"] == 2
        assert len(owner.get(f"{url}/{num}").json()["events"]) == 1


def test_disabled_discussions_refuse_new_threads_but_keep_old_ones_readable(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    url = f"/api/models/{repo}/discussions"
    with client(live_server, user.token) as owner, client(live_server, other_user.token) as other:
        num = open_thread(owner, url)
        # huggingface_hub 2.4.0's update_repo_settings has no such argument: the Hub's own body.
        disabled = owner.put(f"/api/models/{repo}/settings", json={"discussionsDisabled": True})
        assert disabled.status_code == 200, disabled.text

        for caller in (owner, other):
            for pull_request in (False, True):
                response = caller.post(url, json={"title": "New", "pullRequest": pull_request})
                assert_refused(response, 403, f"Discussions are disabled for {repo}")
        assert other.get(url).json()["count"] == 1
        assert other.get(f"{url}/{num}").json()["title"] == "A thread"


def test_a_mirrored_repo_takes_no_discussions(live_server: LiveServer, user: HubUser) -> None:
    repo = f"{user.name}/{unique_name('mirrored')}"
    # A registered mirror is private to its namespace until its first sync.
    add_mirror(live_server, repo, "https://upstream.example.test")
    url = f"/api/models/{repo}/discussions"
    with client(live_server, user.token) as owner:
        response = owner.post(url, json={"title": "A question"})

        assert_refused(response, 403, f"{repo} is a mirror of https://upstream.example.test")
        assert owner.get(url).json() == {"discussions": [], "count": 0, "start": 0}
