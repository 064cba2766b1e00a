"""The git-lfs file locking API over raw HTTP: locks, listings, verify, unlock, and every refusal.

A team shares an org repo: `admin` (org admin), `alice` and `bob` (writers) and `reader` (read
role). Bodies are sent as git-lfs sends them (`application/vnd.git-lfs+json`, with a `ref`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hubstead.protocol import RepoType, path_problem
from hubstead.server.domain.accounts import Role
from hubstead.server.services.files import shown_path
from hubstead.server.services.locks import MAX_PAGE
from hubstead.server.services.mirroring.mirrors import MirrorConfig
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.live_server import LiveServer

LFS_JSON = "application/vnd.git-lfs+json"
HEADERS = {"accept": LFS_JSON, "content-type": LFS_JSON}
REF = {"name": "refs/heads/main"}


@dataclasses.dataclass(frozen=True)
class Team:
    org: str
    admin: HubUser
    alice: HubUser
    bob: HubUser
    reader: HubUser


@pytest.fixture(scope="module")
def team(live_server: LiveServer) -> Team:
    admin, alice, bob, reader = (
        make_user(live_server, name) for name in ("admin", "alice", "bob", "reader")
    )
    roles = {admin.name: Role.ADMIN, alice.name: Role.WRITE, bob.name: Role.WRITE}
    org = make_org(live_server, {**roles, reader.name: Role.READ})
    return Team(org, admin, alice, bob, reader)


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[Callable[[HubUser | None], httpx.Client]]:
    """Raw HTTP clients acting as a user (or anonymous), closed after the test."""
    with contextlib.ExitStack() as stack:

        def open_client(user: HubUser | None) -> httpx.Client:
            headers = {**HEADERS}
            if user is not None:
                headers["authorization"] = f"Bearer {user.token}"
            return stack.enter_context(httpx.Client(base_url=live_server.url, headers=headers))

        yield open_client


@pytest.fixture
def alice(team: Team, client: Callable[[HubUser | None], httpx.Client]) -> httpx.Client:
    return client(team.alice)


@pytest.fixture
def bob(team: Team, client: Callable[[HubUser | None], httpx.Client]) -> httpx.Client:
    return client(team.bob)


def new_repo(team: Team, repo_type: str = "model", *, private: bool = False) -> str:
    repo_id = f"{team.org}/{unique_name('locks')}"
    extra: dict[str, Any] = {"space_sdk": "gradio"} if repo_type == "space" else {}
    team.admin.api.create_repo(repo_id, repo_type=repo_type, private=private, **extra)
    return repo_id


@pytest.fixture
def repo(team: Team) -> Iterator[str]:
    repo_id = new_repo(team)
    yield repo_id
    team.admin.api.delete_repo(repo_id, missing_ok=True)


def url(repo: str, tail: str = "", prefix: str = "") -> str:
    return f"/{prefix}{repo}.git/info/lfs/locks{tail}"


def lock(http: httpx.Client, repo: str, path: str, prefix: str = "") -> httpx.Response:
    return http.post(url(repo, prefix=prefix), json={"path": path, "ref": REF})


def locked(http: httpx.Client, repo: str, path: str) -> dict[str, Any]:
    response = lock(http, repo, path)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()["lock"]
    return body


def listed(http: httpx.Client, repo: str, **params: str) -> list[dict[str, Any]]:
    response = http.get(url(repo), params=params)
    assert response.status_code == 200, response.text
    locks: list[dict[str, Any]] = response.json()["locks"]
    return locks


def unlock(
    http: httpx.Client, repo: str, lock_id: str, prefix: str = "", **body: Any
) -> httpx.Response:
    return http.post(url(repo, f"/{lock_id}/unlock", prefix), json={"ref": REF, **body})


def verify(http: httpx.Client, repo: str, **body: Any) -> httpx.Response:
    return http.post(url(repo, "/verify"), json={"ref": REF, **body})


def paths(locks: list[dict[str, Any]]) -> list[str]:
    return [entry["path"] for entry in locks]


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    """An error as git-lfs prints it (`message`), with the hub's headers and `error` key."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == LFS_JSON
    body = response.json()
    assert message in body["message"], body
    assert body["error"] == body["message"] == response.headers["x-error-message"]
    assert body["request_id"] == response.headers["x-request-id"]


# --- locking ----------------------------------------------------------------------------------


def test_a_lock_answers_201_with_the_lock_as_git_lfs_reads_it(
    alice: httpx.Client, team: Team, repo: str
) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)

    response = lock(alice, repo, "weights/model.safetensors")

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == LFS_JSON
    body = response.json()["lock"]
    assert set(body) == {"id", "path", "locked_at", "owner"}
    assert isinstance(body["id"], str) and body["id"]
    assert (body["path"], body["owner"]) == ("weights/model.safetensors", {"name": team.alice.name})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["locked_at"])
    locked_at = dt.datetime.fromisoformat(body["locked_at"])
    assert before <= locked_at <= dt.datetime.now(dt.UTC)
    assert listed(alice, repo) == [body]


def test_a_path_locked_already_answers_409_with_the_lock_that_holds_it(
    alice: httpx.Client, bob: httpx.Client, team: Team, repo: str
) -> None:
    held = locked(alice, repo, "model.bin")

    for caller in (bob, alice):
        response = lock(caller, repo, "model.bin")

        assert_refused(response, 409, f"'model.bin' is already locked by {team.alice.name}")
        assert response.json()["lock"] == held
    assert listed(bob, repo) == [held]


def test_locks_of_one_path_in_two_repos_are_separate(
    alice: httpx.Client, bob: httpx.Client, team: Team, repo: str
) -> None:
    other = new_repo(team)
    locked(alice, repo, "model.bin")

    theirs = locked(bob, other, "model.bin")

    assert listed(bob, other) == [theirs]
    assert paths(listed(bob, repo)) == ["model.bin"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b"", "The request body must be a JSON object"),
        (b'["model.bin"]', "The request body must be a JSON object"),
        (b"{}", "A lock needs a 'path'"),
        (b'{"path": 7}', "A lock needs a 'path'"),
        (b'{"path": null}', "A lock needs a 'path'"),
        (b'{"path": "a.bin", "ref": "main"}', "'ref' must be an object with a string 'name'"),
        (b'{"path": "a.bin", "ref": {"name": 1}}', "'ref' must be an object with a string 'name'"),
    ],
)
def test_a_malformed_lock_request_is_refused_with_400(
    alice: httpx.Client, repo: str, content: bytes, message: str
) -> None:
    response = alice.post(url(repo), content=content)

    assert_refused(response, 400, message)
    assert listed(alice, repo) == []


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "a/../b.bin", "./a.bin", "a//b.bin", ".git/config", "a\\b.bin",
     "GIT~1/hooks", ".git\u200c/x", "a/" * 64 + "b", "x" * 256, "d\0.bin"],
)  # fmt: skip
def test_a_path_no_repo_could_hold_is_refused_with_the_path_rule(
    alice: httpx.Client, repo: str, path: str
) -> None:
    problem = path_problem(path)
    assert problem is not None

    response = lock(alice, repo, path)

    assert_refused(response, 400, f"Cannot lock {shown_path(path)!r}")
    assert problem in response.json()["message"]
    assert listed(alice, repo) == []


def test_any_valid_path_can_be_locked_even_one_not_in_the_repo(
    alice: httpx.Client, repo: str
) -> None:
    names = ["not/there/yet.bin", "ünïcode ñame.safetensors", "a b;c,d<e>.bin", "README.md"]

    for name in names:
        locked(alice, repo, name)

    assert sorted(paths(listed(alice, repo))) == sorted(names)


# --- listing ----------------------------------------------------------------------------------


def test_locks_are_listed_by_path_and_found_by_path_or_id(
    alice: httpx.Client, bob: httpx.Client, repo: str
) -> None:
    a = locked(alice, repo, "b.bin")
    b = locked(bob, repo, "a.bin")

    assert listed(bob, repo) == [b, a]
    assert listed(bob, repo, path="b.bin") == [a]
    assert listed(bob, repo, id=b["id"]) == [b]
    assert listed(bob, repo, id=a["id"], path="b.bin") == [a]
    assert listed(bob, repo, id=a["id"], path="a.bin") == []
    assert listed(bob, repo, path="c.bin") == []
    assert listed(bob, repo, id="999999999") == []
    assert listed(bob, repo, id="not-an-id") == []
    assert listed(bob, repo, path="../x\0") == []
    assert listed(bob, repo, refspec="refs/heads/main") == [b, a]


def test_listing_pages_follow_next_cursor_to_the_end(alice: httpx.Client, repo: str) -> None:
    names = [f"dir/file-{n}.bin" for n in range(7)]
    for name in names:
        locked(alice, repo, name)

    seen: list[str] = []
    pages = 0
    params = {"limit": "3"}
    while True:
        response = alice.get(url(repo), params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += paths(body["locks"])
        pages += 1
        assert len(body["locks"]) <= 3
        if "next_cursor" not in body:
            break
        params = {"limit": "3", "cursor": body["next_cursor"]}

    assert (seen, pages) == (names, 3)


def test_a_lock_released_between_pages_is_not_missed_nor_repeated(
    alice: httpx.Client, repo: str
) -> None:
    for name in ["a.bin", "b.bin", "c.bin", "d.bin"]:
        locked(alice, repo, name)
    first = alice.get(url(repo), params={"limit": "2"}).json()
    (gone,) = listed(alice, repo, path="a.bin")
    assert unlock(alice, repo, gone["id"]).status_code == 200

    second = alice.get(url(repo), params={"limit": "2", "cursor": first["next_cursor"]}).json()

    assert paths(first["locks"]) + paths(second["locks"]) == ["a.bin", "b.bin", "c.bin", "d.bin"]
    assert "next_cursor" not in second


def test_a_limit_above_the_maximum_gives_the_maximum(alice: httpx.Client, repo: str) -> None:
    locked(alice, repo, "a.bin")

    response = alice.get(url(repo), params={"limit": str(MAX_PAGE * 10)})

    assert response.status_code == 200
    assert paths(response.json()["locks"]) == ["a.bin"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "'limit' must be a positive integer"),
        ({"limit": "-1"}, "'limit' must be a positive integer"),
        ({"limit": "many"}, "'limit' must be a positive integer"),
        ({"cursor": "not base64!"}, "Invalid cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()}, "Invalid cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"../a\0").decode()}, "Invalid cursor"),
    ],
)
def test_a_bad_limit_or_cursor_is_refused_with_400(
    alice: httpx.Client, repo: str, params: dict[str, str], message: str
) -> None:
    assert_refused(alice.get(url(repo), params=params), 400, message)


# --- verify -----------------------------------------------------------------------------------


def test_verify_splits_the_locks_into_the_callers_and_everyone_elses(
    alice: httpx.Client, bob: httpx.Client, repo: str
) -> None:
    mine = locked(alice, repo, "mine.bin")
    theirs = locked(bob, repo, "theirs.bin")

    response = verify(alice, repo)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == LFS_JSON
    assert response.json() == {"ours": [mine], "theirs": [theirs]}
    assert verify(bob, repo).json() == {"ours": [theirs], "theirs": [mine]}
    assert alice.post(url(repo, "/verify"), content=b"").json() == response.json()


def test_verify_pages_follow_next_cursor(alice: httpx.Client, bob: httpx.Client, repo: str) -> None:
    for n in range(5):
        locked(alice if n % 2 else bob, repo, f"{n}.bin")

    ours: list[str] = []
    theirs: list[str] = []
    body: dict[str, Any] = {"limit": 2}
    while True:
        page = verify(alice, repo, **body).json()
        ours += paths(page["ours"])
        theirs += paths(page["theirs"])
        if "next_cursor" not in page:
            break
        body = {"limit": 2, "cursor": page["next_cursor"]}

    assert (ours, theirs) == (["1.bin", "3.bin"], ["0.bin", "2.bin", "4.bin"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"limit": 0}, "'limit' must be a positive integer"),
        ({"limit": "10"}, "'limit' must be a positive integer"),
        ({"limit": True}, "'limit' must be a positive integer"),
        ({"cursor": 5}, "Invalid cursor"),
        ({"cursor": "%%%"}, "Invalid cursor"),
        ({"ref": ["refs/heads/main"]}, "'ref' must be an object"),
    ],
)
def test_a_bad_verify_request_is_refused_with_400(
    alice: httpx.Client, repo: str, body: dict[str, Any], message: str
) -> None:
    response = alice.post(url(repo, "/verify"), json=body)

    assert_refused(response, 400, message)


# --- unlocking --------------------------------------------------------------------------------


def test_the_owner_unlocks_a_lock_and_gets_it_back(alice: httpx.Client, repo: str) -> None:
    held = locked(alice, repo, "model.bin")

    response = unlock(alice, repo, held["id"])

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == LFS_JSON
    assert response.json() == {"lock": held}
    assert listed(alice, repo) == []
    assert_refused(unlock(alice, repo, held["id"]), 404, f"has no lock with id '{held['id']}'")


def test_unlocking_someone_elses_lock_needs_force(
    alice: httpx.Client, bob: httpx.Client, team: Team, repo: str
) -> None:
    held = locked(alice, repo, "model.bin")

    response = unlock(bob, repo, held["id"])

    assert_refused(response, 403, f"Cannot unlock 'model.bin', locked by {team.alice.name}")
    assert "git lfs unlock --force" in response.json()["message"]
    assert listed(bob, repo) == [held]


def test_a_writer_cannot_force_someone_elses_lock_open(
    alice: httpx.Client, bob: httpx.Client, team: Team, repo: str
) -> None:
    held = locked(alice, repo, "model.bin")

    response = unlock(bob, repo, held["id"], force=True)

    assert_refused(response, 403, f"only admins of the namespace '{team.org}' may")
    assert listed(bob, repo) == [held]


def test_an_admin_of_the_namespace_forces_a_lock_open(
    alice: httpx.Client,
    team: Team,
    repo: str,
    client: Callable[[HubUser | None], httpx.Client],
) -> None:
    held = locked(alice, repo, "model.bin")
    admin = client(team.admin)

    assert unlock(admin, repo, held["id"]).status_code == 403
    response = unlock(admin, repo, held["id"], force=True)

    assert response.status_code == 200, response.text
    assert response.json() == {"lock": held}
    assert listed(alice, repo) == []


def test_force_on_ones_own_lock_is_allowed(alice: httpx.Client, repo: str) -> None:
    held = locked(alice, repo, "model.bin")

    assert unlock(alice, repo, held["id"], force=True).json() == {"lock": held}


@pytest.mark.parametrize("lock_id", ["999999999", "abc", "-1", "1e3", "99999999999999999999999"])
def test_unlocking_an_unknown_id_answers_404(alice: httpx.Client, repo: str, lock_id: str) -> None:
    assert_refused(unlock(alice, repo, lock_id), 404, f"{repo} has no lock with id {lock_id!r}")


def test_an_id_of_another_repos_lock_is_unknown_here(
    alice: httpx.Client, team: Team, repo: str
) -> None:
    elsewhere = locked(alice, new_repo(team), "model.bin")

    assert_refused(unlock(alice, repo, elsewhere["id"]), 404, "has no lock with id")
    assert listed(alice, repo, id=elsewhere["id"]) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"force": "yes"}', "'force' must be true or false"),
        (b'{"force": 1}', "'force' must be true or false"),
        (b'{"ref": 3}', "'ref' must be an object"),
        (b"[]", "The request body must be a JSON object"),
        (b"{", "The request body is not valid JSON"),
    ],
)
def test_a_malformed_unlock_request_is_refused_with_400(
    alice: httpx.Client, repo: str, content: bytes, message: str
) -> None:
    held = locked(alice, repo, "model.bin")

    assert_refused(alice.post(url(repo, f"/{held['id']}/unlock"), content=content), 400, message)
    assert listed(alice, repo) == [held]


# --- who may do what --------------------------------------------------------------------------


def test_a_read_role_may_list_locks_but_not_lock_verify_or_unlock(
    alice: httpx.Client,
    team: Team,
    repo: str,
    client: Callable[[HubUser | None], httpx.Client],
    live_server: LiveServer,
) -> None:
    held = locked(alice, repo, "model.bin")
    read_token = live_server.services.auth.create_token(team.alice.name, Role.READ).secret
    as_read_token = client(None)
    as_read_token.headers["authorization"] = f"Bearer {read_token}"

    for reader in (client(team.reader), as_read_token):
        assert listed(reader, repo) == [held]
        assert lock(reader, repo, "other.bin").status_code == 403
        assert verify(reader, repo).status_code == 403
        assert unlock(reader, repo, held["id"]).status_code == 403
    assert_refused(lock(as_read_token, repo, "other.bin"), 403, "has the read role only")
    assert listed(alice, repo) == [held]


def test_a_private_repo_is_missing_for_strangers_and_asks_anonymous_callers_to_log_in(
    alice: httpx.Client,
    team: Team,
    client: Callable[[HubUser | None], httpx.Client],
    live_server: LiveServer,
) -> None:
    private = new_repo(team, private=True)
    held = locked(alice, private, "model.bin")
    missing = f"{team.org}/{unique_name('missing')}"
    stranger = client(make_user(live_server, "stranger"))

    for target in (private, missing):
        attempts = [
            stranger.get(url(target)),
            lock(stranger, target, "x.bin"),
            verify(stranger, target),
            unlock(stranger, target, held["id"], force=True),
        ]
        for response in attempts:
            assert_refused(response, 404, f"Repository not found: model {target}")
            assert response.headers["x-error-code"] == "RepoNotFound"
        assert_refused(client(None).get(url(target)), 401, f"Repository not found: model {target}")
    assert listed(alice, private) == [held]


def test_anyone_may_list_the_locks_of_a_public_repo(
    alice: httpx.Client, repo: str, client: Callable[[HubUser | None], httpx.Client]
) -> None:
    held = locked(alice, repo, "model.bin")

    assert listed(client(None), repo) == [held]
    assert lock(client(None), repo, "x.bin").status_code == 401


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_datasets_and_spaces_have_locks_under_their_prefix(
    alice: httpx.Client, team: Team, repo_type: str
) -> None:
    repo = new_repo(team, repo_type)
    prefix = f"{repo_type}s/"

    response = lock(alice, repo, "data.parquet", prefix=prefix)

    assert response.status_code == 201, response.text
    held = response.json()["lock"]
    assert alice.get(url(repo, prefix=prefix)).json() == {"locks": [held]}
    assert_refused(alice.get(url(repo)), 404, f"Repository not found: model {repo}")
    assert unlock(alice, repo, held["id"], prefix).json() == {"lock": held}


def test_a_mirror_takes_no_locks(live_server: LiveServer, team: Team, alice: httpx.Client) -> None:
    mirror = f"{team.org}/{unique_name('mirror')}"
    live_server.services.mirrors.add(RepoType.MODEL, mirror, MirrorConfig("http://127.0.0.1:9"))

    response = lock(alice, mirror, "model.bin")

    assert_refused(response, 403, f"{mirror} is a mirror of http://127.0.0.1:9")
    assert listed(alice, mirror) == []


def test_a_deleted_repo_takes_its_locks_along(alice: httpx.Client, team: Team) -> None:
    repo = new_repo(team)
    locked(alice, repo, "model.bin")

    team.admin.api.delete_repo(repo)
    team.admin.api.create_repo(repo)

    assert listed(alice, repo) == []
    assert lock(alice, repo, "model.bin").status_code == 201
