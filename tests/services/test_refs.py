"""`RefService` on real stores in tmp_path: races between callers, without HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services

T = TypeVar("T")
REPO = "ada/model"


@pytest.fixture
def ada(hub: Services) -> Identity:
    hub.auth.create_user("ada", is_admin=False)
    identity = hub.auth.authenticate(hub.auth.create_token("ada", Role.WRITE).secret)
    hub.repos.create(identity, RepoType.MODEL, None, "model")
    return identity


def race(count: int, work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `work(i)` in `count` threads released together."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    failures: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results.append(work(i))
        except BaseException as exc:  # collected and asserted on by the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, failures


def test_racing_branch_creations_let_exactly_one_win(hub: Services, ada: Identity) -> None:
    def create(i: int) -> None:
        hub.refs.create_branch(ada, RepoType.MODEL, REPO, "dev", None)

    results, failures = race(6, create)
    assert len(results) == 1
    assert [type(f) for f in failures] == [errors.ConflictError] * 5
    branches = [r.name for r in hub.refs.refs(ada, RepoType.MODEL, REPO).branches]
    assert branches == ["refs/heads/dev", "refs/heads/main"]


def test_racing_branch_creations_with_exist_ok_all_succeed(hub: Services, ada: Identity) -> None:
    def create(i: int) -> None:
        hub.refs.create_branch(ada, RepoType.MODEL, REPO, "dev", None, exist_ok=True)

    results, failures = race(6, create)
    assert (len(results), failures) == (6, [])


def test_racing_tag_creations_let_exactly_one_win(hub: Services, ada: Identity) -> None:
    def create(i: int) -> None:
        hub.refs.create_tag(ada, RepoType.MODEL, REPO, "main", "v1", f"by {i}" if i % 2 else None)

    results, failures = race(6, create)
    assert len(results) == 1
    assert [type(f) for f in failures] == [errors.ConflictError] * 5
    assert [r.name for r in hub.refs.refs(ada, RepoType.MODEL, REPO).tags] == ["refs/tags/v1"]


def test_racing_deletions_of_one_branch_let_exactly_one_win(hub: Services, ada: Identity) -> None:
    hub.refs.create_branch(ada, RepoType.MODEL, REPO, "dev", None)

    def delete(i: int) -> None:
        hub.refs.delete_branch(ada, RepoType.MODEL, REPO, "dev")

    results, failures = race(6, delete)
    assert len(results) == 1
    assert [type(f) for f in failures] == [errors.RevisionNotFoundError] * 5


def test_super_squash_of_main_updates_the_repo_head(hub: Services, ada: Identity) -> None:
    commit_id = hub.refs.super_squash(ada, RepoType.MODEL, REPO, "main", "squashed")
    record = hub.repos.locate(ada, RepoType.MODEL, REPO, Action.READ)
    assert record.head == commit_id
