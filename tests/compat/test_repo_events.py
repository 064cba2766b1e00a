"""Repo events in the hub-event outbox, for changes made as users make them.

Each test makes its changes with the official client, git or the operator's services, then
reads the outbox (`Services.hub_events`) as webhooks will, and checks each event's kind, names,
actor and exact payload. A refused change records nothing.
"""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import WebhookPayload
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError

from hubstead.server.domain.accounts import AccountKind
from hubstead.server.domain.hub_events import HubEventKind
from tests.helpers import webhook_receiver
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.git import GitUser, repo_url
from tests.helpers.hub_events import events_of, last_event_id, refs_payload, repo_key
from tests.helpers.live_server import LiveServer
from tests.helpers.webhook_receiver import receiving

CREATE = HubEventKind.REPO_CREATE
DELETE = HubEventKind.REPO_DELETE
MOVE = HubEventKind.REPO_MOVE
CONFIG = HubEventKind.REPO_CONFIG
CONTENT = HubEventKind.REPO_CONTENT
MAIN = "refs/heads/main"


@pytest.fixture
def git(tmp_path: Path) -> GitUser:
    return GitUser(tmp_path / "home")


def account_id(server: LiveServer, user: HubUser) -> int:
    return server.services.auth.get_account(user.name, AccountKind.USER).id


def remote_refs(git: GitUser, url: str) -> dict[str, str]:
    """What `git ls-remote` says each ref points at directly (a tag object for annotated tags)."""
    lines = git.run("ls-remote", url).stdout.splitlines()
    return dict(reversed(line.split("\t")) for line in lines)  # type: ignore[misc]


def test_creating_configuring_moving_and_deleting_a_repo_record_their_events(
    live_server: LiveServer, user: HubUser
) -> None:
    start = last_event_id(live_server)
    repo = f"{user.name}/{unique_name('events')}"
    user.api.create_repo(repo, private=True)
    key = repo_key(live_server, user.token, repo)
    head = user.api.repo_info(repo).sha
    user.api.update_repo_settings(repo, gated="auto")
    user.api.update_repo_settings(repo, gated="auto", private=True)  # nothing changes
    user.api.update_repo_settings(repo, gated=False, private=False)
    response = httpx.put(
        f"{live_server.url}/api/models/{repo}/settings",
        json={"discussionsDisabled": True},
        headers={"Authorization": f"Bearer {user.token}"},
    )
    response.raise_for_status()
    moved = f"{user.name}/{unique_name('moved')}"
    user.api.move_repo(repo, moved)
    user.api.delete_repo(moved)

    events = events_of(live_server, key, start)

    assert [(e.kind, e.repo_name, e.payload) for e in events] == [
        (CREATE, repo, {"private": True}),
        (CONFIG, repo, {"private": True, "updatedConfig": {"gated": "auto"}}),
        (CONFIG, repo, {"private": False, "updatedConfig": {"private": False, "gated": False}}),
        (CONFIG, repo, {"private": False, "updatedConfig": {"discussionsDisabled": True}}),
        (MOVE, repo, {"private": False, "movedTo": moved}),
        (DELETE, moved, {"private": False, "headSha": head}),
    ]
    actor = (account_id(live_server, user), user.name)
    assert {(e.repo_type, e.actor_id, e.actor_name, e.discussion_num) for e in events} == {
        ("model", *actor, None)
    }


def test_commits_record_the_ref_they_moved_and_a_refused_commit_nothing(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    key = repo_key(live_server, user.token, repo)
    base = user.api.repo_info(repo).sha
    start = last_event_id(live_server)

    first = user.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo).oid
    with pytest.raises(HfHubHTTPError) as stale:
        user.api.upload_file(
            path_or_fileobj=b"2", path_in_repo="two.txt", repo_id=repo, parent_commit=base
        )
    user.api.create_branch(repo, branch="dev")
    on_dev = user.api.upload_file(
        path_or_fileobj=b"3", path_in_repo="three.txt", repo_id=repo, revision="dev"
    ).oid

    assert stale.value.response.status_code == 412
    events = events_of(live_server, key, start)
    assert [(e.kind, e.repo_name, e.payload) for e in events] == [
        (CONTENT, repo, refs_payload(first, (MAIN, base, first))),
        (CONTENT, repo, refs_payload(first, ("refs/heads/dev", None, first))),
        (CONTENT, repo, refs_payload(first, ("refs/heads/dev", first, on_dev))),
    ]
    assert {e.actor_id for e in events} == {account_id(live_server, user)}


def test_a_commit_that_opens_a_pull_request_records_its_ref(
    live_server: LiveServer, user: HubUser, other_user: HubUser, repo: str
) -> None:
    key = repo_key(live_server, user.token, repo)
    base = user.api.repo_info(repo).sha
    start = last_event_id(live_server)

    info = other_user.api.upload_file(
        path_or_fileobj=b"pr", path_in_repo="pr.txt", repo_id=repo, create_pr=True
    )

    events = events_of(live_server, key, start)
    assert [e.kind for e in events] == [
        HubEventKind.DISCUSSION_CREATE,
        CONTENT,
        HubEventKind.DISCUSSION_UPDATE,  # the commit, in the pull request's timeline
    ]
    assert events[1].payload == refs_payload(base, ("refs/pr/1", None, info.oid))
    assert events[1].actor_id == account_id(live_server, other_user)


def test_branches_tags_and_super_squash_record_their_refs_and_refusals_nothing(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser
) -> None:
    key = repo_key(live_server, user.token, repo)
    base = user.api.repo_info(repo).sha
    api = user.api
    start = last_event_id(live_server)

    api.create_branch(repo, branch="dev")
    with pytest.raises(HfHubHTTPError) as exists:
        api.create_branch(repo, branch="dev")
    api.create_branch(repo, branch="dev", exist_ok=True)
    api.create_tag(repo, tag="v1")
    api.create_tag(repo, tag="v2", tag_message="release 2")
    tag_object = remote_refs(git, repo_url(live_server.url, repo))["refs/tags/v2"]
    with pytest.raises(RevisionNotFoundError):
        api.delete_branch(repo, branch="missing")
    with pytest.raises(HfHubHTTPError) as main:
        api.delete_branch(repo, branch="main")
    api.delete_tag(repo, tag="v2")
    api.delete_branch(repo, branch="dev")
    api.super_squash_history(repo, commit_message="squashed")
    squashed = api.repo_info(repo).sha

    assert (exists.value.response.status_code, main.value.response.status_code) == (409, 403)
    assert tag_object != base
    events = events_of(live_server, key, start)
    assert [(e.kind, e.payload) for e in events] == [
        (CONTENT, refs_payload(base, ("refs/heads/dev", None, base))),
        (CONTENT, refs_payload(base, ("refs/tags/v1", None, base))),
        (CONTENT, refs_payload(base, ("refs/tags/v2", None, tag_object))),
        (CONTENT, refs_payload(base, ("refs/tags/v2", tag_object, None))),
        (CONTENT, refs_payload(base, ("refs/heads/dev", base, None))),
        (CONTENT, refs_payload(squashed, (MAIN, base, squashed))),
    ]
    assert {e.actor_id for e in events} == {account_id(live_server, user)}


def test_a_git_push_records_one_event_with_every_ref_it_moved(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    key = repo_key(live_server, user.token, repo)
    url = repo_url(live_server.url, repo, token=user.token)
    checkout = git.clone(url, tmp_path / "checkout")
    base = git.head(checkout)
    user.api.create_branch(repo, branch="old")
    start = last_event_id(live_server)

    first = git.commit_file(checkout, "a.txt", b"a\n", "add a")
    git.run("tag", "-a", "v1", "-m", "release 1", cwd=checkout)
    git.run(
        "push", "-q", "origin", "main", "main:refs/heads/dev", "v1", ":refs/heads/old", cwd=checkout
    )
    refused = git.fails("push", "origin", ":refs/heads/main", cwd=checkout)
    tag_object = git.head(checkout, "refs/tags/v1")

    assert "refusing to delete refs/heads/main" in refused
    events = events_of(live_server, key, start)
    assert [(e.kind, e.actor_id, e.payload) for e in events] == [
        (
            CONTENT,
            account_id(live_server, user),
            refs_payload(
                first,
                ("refs/heads/dev", None, first),
                (MAIN, base, first),
                ("refs/heads/old", base, None),
                ("refs/tags/v1", None, tag_object),
            ),
        )
    ]


def test_a_git_push_to_a_pull_request_records_its_ref(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    key = repo_key(live_server, user.token, repo)
    checkout = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "c")
    base = git.head(checkout)
    pr = user.api.create_pull_request(repo, title="By git")
    start = last_event_id(live_server)

    pushed = git.commit_file(checkout, "b.txt", b"b\n", "add b")
    git.run("push", "-q", "origin", f"HEAD:refs/pr/{pr.num}", cwd=checkout)

    events = events_of(live_server, key, start)
    assert [e.kind for e in events] == [HubEventKind.DISCUSSION_UPDATE, CONTENT]
    assert events[1].payload == refs_payload(base, (f"refs/pr/{pr.num}", base, pushed))


def test_a_merge_records_the_target_branch_it_moved(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    key = repo_key(live_server, user.token, repo)
    base = user.api.repo_info(repo).sha
    opened = user.api.upload_file(
        path_or_fileobj=b"pr", path_in_repo="pr.txt", repo_id=repo, create_pr=True
    )
    on_main = user.api.upload_file(path_or_fileobj=b"m", path_in_repo="m.txt", repo_id=repo).oid
    start = last_event_id(live_server)

    user.api.merge_pull_request(repo, 1)

    merged = user.api.repo_info(repo).sha
    assert merged not in (base, opened.oid, on_main)  # a merge commit
    events = events_of(live_server, key, start)
    assert [(e.kind, e.payload.get("updatedRefs")) for e in events] == [
        (CONTENT, refs_payload(merged, (MAIN, on_main, merged))["updatedRefs"]),
        (HubEventKind.DISCUSSION_UPDATE, None),
    ]
    assert events[0].payload["headSha"] == merged


def test_a_duplicate_is_created_with_its_refs_in_one_event(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    user.api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo)
    start = last_event_id(live_server)

    copy = f"{user.name}/{unique_name('copy')}"
    user.api.duplicate_repo(repo, copy, private=True)

    events = events_of(live_server, repo_key(live_server, user.token, copy), start)
    assert [(e.kind, e.repo_name, e.actor_id, e.payload) for e in events] == [
        (CREATE, copy, account_id(live_server, user), {"private": True})
    ]


def test_deleting_an_account_with_its_repos_records_their_deletion_without_an_actor(
    live_server: LiveServer,
) -> None:
    leaver = make_user(live_server, "leaver")
    repo = f"{leaver.name}/{unique_name('gone')}"
    leaver.api.create_repo(repo)
    head = leaver.api.repo_info(repo).sha
    key = repo_key(live_server, leaver.token, repo)
    start = last_event_id(live_server)

    live_server.services.auth.delete_account(leaver.name, AccountKind.USER, delete_repos=True)

    events = events_of(live_server, key, start)
    assert [(e.kind, e.repo_name, e.actor_id, e.payload) for e in events] == [
        (DELETE, repo, None, {"private": False, "headSha": head})
    ]


def test_concurrent_commits_are_recorded_in_the_order_their_refs_moved(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    key = repo_key(live_server, user.token, repo)
    base = user.api.repo_info(repo).sha
    start = last_event_id(live_server)

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        commits = list(
            pool.map(
                lambda i: (
                    user.api.upload_file(
                        path_or_fileobj=b"%d" % i, path_in_repo=f"{i}.txt", repo_id=repo
                    ).oid
                ),
                range(6),
            )
        )

    moves: list[Any] = [e.payload["updatedRefs"] for e in events_of(live_server, key, start)]
    chain = [base] + [move[0]["newSha"] for move in moves]
    assert moves == [
        [{"ref": MAIN, "oldSha": old, "newSha": new}] for old, new in itertools.pairwise(chain)
    ]
    assert set(chain[1:]) == set(commits)
    assert chain[-1] == user.api.repo_info(repo).sha


@pytest.fixture
def hooked_hub(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    """A hub that runs its jobs (webhook dispatch and delivery) and may call loopback."""
    with webhook_receiver.hooked_hub(tmp_path / "hub", database_url) as server:
        yield server


def test_a_webhook_watching_the_repo_is_told_of_its_commits_and_its_move(
    hooked_hub: LiveServer,
) -> None:
    owner = make_user(hooked_hub, "owner")
    repo = f"{owner.name}/{unique_name('hooked')}"
    owner.api.create_repo(repo)
    base = owner.api.repo_info(repo).sha
    moved = f"{owner.name}/{unique_name('moved')}"
    with receiving() as receiver:
        owner.api.create_webhook(
            url=receiver.url, watched=[{"type": "model", "name": repo}], domains=["repo"]
        )
        commit = owner.api.upload_file(path_or_fileobj=b"1", path_in_repo="1.txt", repo_id=repo).oid
        owner.api.move_repo(repo, moved)

        content = WebhookPayload.model_validate(receiver.wait_for("repo.content.update").body)
        move = WebhookPayload.model_validate(receiver.wait_for("repo.move").body)

    assert content.updatedRefs is not None
    assert [(r.ref, r.oldSha, r.newSha) for r in content.updatedRefs] == [(MAIN, base, commit)]
    assert move.movedTo is not None and move.movedTo.name == moved
    assert (content.repo.name, move.repo.name) == (repo, repo)  # the names at the events
    assert receiver.wait_for("repo.content.update").body["repo"]["headSha"] == commit
