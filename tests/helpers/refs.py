"""Refs the API cannot create yet (pull requests, conversions), written through the git store.

The store is the server's own `Pygit2GitStore` opened on the live server's data dir (where
`server/app.py` puts it), and its compare-and-swap takes the same lock the server does.
"""

from __future__ import annotations

from hubstead.protocol import RepoType
from hubstead.server.services.access import Action
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer


def create_ref(
    server: LiveServer,
    owner: HubUser,
    repo_id: str,
    ref: str,
    revision: str,
    repo_type: RepoType = RepoType.MODEL,
) -> str:
    """Point the new ref `ref` (e.g. `refs/pr/1`) at `revision`; return its commit id."""
    identity = server.services.auth.authenticate(owner.token)
    record = server.services.repos.locate(identity, repo_type, repo_id, Action.READ)
    git = Pygit2GitStore(server.data_dir / "repos")
    target = git.resolve(record.storage_key, revision)
    assert target is not None, f"{revision!r} names no commit of {repo_id}"
    git.update_ref(record.storage_key, ref, target, None)
    return target
