"""Refs and commits the API cannot create (pull requests, conversions, data of older hubs).

The store is the server's own `Pygit2GitStore` opened on the live server's data dir (where
`server/app.py` puts it), and its compare-and-swap takes the same lock the server does.
"""

from __future__ import annotations

from hubstead.protocol import RepoType
from hubstead.server.domain.git import Author, RefUpdate, TreeEdit
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


def commit_unchecked(
    server: LiveServer, owner: HubUser, repo_id: str, files: dict[str, bytes]
) -> str:
    """Commit `files` to `main` through the git store alone, as data stored before a rule.

    No rule of the commit API applies: this is how a repo written by an older hub (a 2,000-level
    deep tree, say) looks. The repo row is refreshed as after any commit.
    """
    identity = server.services.auth.authenticate(owner.token)
    record = server.services.repos.locate(identity, RepoType.MODEL, repo_id, Action.READ)
    git = Pygit2GitStore(server.data_dir / "repos")
    head = git.resolve(record.storage_key, "main")
    edits = [
        TreeEdit(path, git.write_blob(record.storage_key, data)) for path, data in files.items()
    ]
    author = Author("Old Hub", "old-hub@example.test")
    commit = git.write_commit(record.storage_key, head, edits, author, "written by an older hub")
    git.update_ref(record.storage_key, "refs/heads/main", commit, head)
    update = RefUpdate("refs/heads/main", head, commit)
    server.services.heads.record_push(record, [update], identity.account_id)
    return commit
