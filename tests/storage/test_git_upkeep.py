"""The `GitUpkeep` contract's accounting of disk usage, on every implementation.

Collecting leftovers and unreachable objects is tested where fsck and gc run it
(`tests/services/test_git_upkeep.py`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest

from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from hubstead.server.storage.git_upkeep import GitUpkeep
from tests.storage.test_git_objects import AUTHOR, GITATTRIBUTES, commit


class Store(GitObjectStore, GitUpkeep, Protocol):
    """Upkeep with the object store of its repos (one class implements both)."""


IMPLEMENTATIONS: dict[str, Callable[[Path], Store]] = {"pygit2": Pygit2GitStore}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return IMPLEMENTATIONS[request.param](tmp_path / "repos")


def test_disk_usage_grows_by_at_least_what_a_commit_stores(store: Store) -> None:
    key = uuid.uuid4().hex
    store.create(key, {".gitattributes": GITATTRIBUTES}, AUTHOR, "initial commit")
    before = store.disk_usage(key)
    assert before > len(GITATTRIBUTES) // 2  # the initial commit's objects, refs and config
    commit(store, key, {"noise.txt": os.urandom(20_000)})  # incompressible
    assert store.disk_usage(key) >= before + 20_000
