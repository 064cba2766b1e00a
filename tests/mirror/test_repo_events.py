"""Repo events on a mirror: its creation, each sync's ref moves and upstream's visibility.

A mirror changes by the operator's doing, never a user's: its events have no actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from hubstead.protocol import RepoType
from hubstead.server.domain.hub_events import HubEventKind
from hubstead.server.domain.jobs import JobState
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.hub_events import events_of, last_event_id, refs_payload
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, sync


@pytest.fixture
def pulling(tmp_path: Path, postgres: bool, upstream: LiveServer) -> Iterator[LiveServer]:
    """A hub that pulls unknown repos through from the upstream."""
    with hub(tmp_path / "pulling", postgres, pull_through=upstream.url) as server:
        yield server


def seed(owner: HubUser) -> str:
    repo_id = f"{owner.name}/{unique_name('evented')}"
    owner.api.create_repo(repo_id)
    owner.api.upload_file(path_or_fileobj=b"# events\n", path_in_repo="README.md", repo_id=repo_id)
    owner.api.create_tag(repo_id, tag="v1")
    return repo_id


def test_each_sync_records_the_refs_it_moved_and_upstreams_visibility(
    upstream: LiveServer, mirror: LiveServer, owner: HubUser
) -> None:
    repo_id = seed(owner)
    first = owner.api.repo_info(repo_id).sha
    start = last_event_id(mirror)

    key = add_mirror(mirror, repo_id, upstream.url).repo_id
    synced = sync(mirror, repo_id)
    second = owner.api.upload_file(
        path_or_fileobj=b"more\n", path_in_repo="more.txt", repo_id=repo_id
    ).oid
    owner.api.delete_tag(repo_id, tag="v1")
    resynced = sync(mirror, repo_id)
    unchanged = sync(mirror, repo_id)  # nothing moved upstream: nothing to record
    mirror.services.mirrors.remove(RepoType.MODEL, repo_id, delete_repo=True)

    assert [job.state for job in (synced, resynced, unchanged)] == [JobState.SUCCEEDED] * 3
    events = events_of(mirror, key, start)
    assert [(e.kind, e.payload) for e in events] == [
        (HubEventKind.REPO_CREATE, {"private": True}),
        (HubEventKind.REPO_CONFIG, {"private": False, "updatedConfig": {"private": False}}),
        (
            HubEventKind.REPO_CONTENT,
            refs_payload(first, ("refs/heads/main", None, first), ("refs/tags/v1", None, first)),
        ),
        (
            HubEventKind.REPO_CONTENT,
            refs_payload(second, ("refs/heads/main", first, second), ("refs/tags/v1", first, None)),
        ),
        (HubEventKind.REPO_DELETE, {"private": False, "headSha": second}),
    ]
    assert {(e.repo_name, e.actor_id, e.actor_name) for e in events} == {(repo_id, None, None)}


def test_a_repo_pulled_through_is_created_with_its_refs_in_one_event(
    pulling: LiveServer, owner: HubUser
) -> None:
    repo_id = seed(owner)
    start = last_event_id(pulling)

    HfApi(endpoint=pulling.url, token=False).model_info(repo_id)

    key = pulling.services.mirrors.get(RepoType.MODEL, repo_id).repo_id
    events = events_of(pulling, key, start)
    assert [(e.kind, e.repo_name, e.actor_id, e.payload) for e in events] == [
        (HubEventKind.REPO_CREATE, repo_id, None, {"private": False})
    ]
