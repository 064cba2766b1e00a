"""Commits to pull requests, through the official client as their authors make them."""

from __future__ import annotations

from huggingface_hub import CommitOperationAdd, CommitOperationDelete

from hubstead.protocol import RepoType
from tests.helpers.accounts import HubUser


def commit_to_pull_request(
    owner: HubUser,
    repo_id: str,
    num: int,
    files: dict[str, bytes | None],
    repo_type: RepoType = RepoType.MODEL,
    message: str = "change on the pull request",
) -> str:
    """Commit `files` (None deletes a path) to `refs/pr/<num>` as `owner`; the commit id."""
    operations = [
        CommitOperationDelete(path) if data is None else CommitOperationAdd(path, data)
        for path, data in files.items()
    ]
    info = owner.api.create_commit(
        repo_id,
        operations,
        commit_message=message,
        revision=f"refs/pr/{num}",
        repo_type=repo_type.value,
    )
    return info.oid
