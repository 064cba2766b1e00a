"""hubstead: a self-hosted hub that speaks the Hugging Face Hub protocol, and its client.

The client has `huggingface_hub`'s public names and signatures, so code ports by changing the
import: `from hubstead import HfApi, create_repo, login`. Exceptions have the same names too, in
`hubstead.errors`. The server lives in `hubstead.server` (installed with the `server` extra).

Names are imported on first use, so `import hubstead` (and the server, which imports
`hubstead.protocol`) does not load the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The modules that define the public names, searched in order on first use.
_SOURCES = (
    "hubstead.client.api",
    "hubstead.client.auth",
    "hubstead.client.models",
    "hubstead.client.downloads",
    "hubstead.client.uploads",
    "hubstead.client.cache",
    "hubstead.client.cache_scan",
)

__all__ = [
    "BlobLfsInfo",
    "CommitInfo",
    "CommitOperationAdd",
    "CommitOperationCopy",
    "CommitOperationDelete",
    "DatasetInfo",
    "Discussion",
    "DiscussionComment",
    "DiscussionCommit",
    "DiscussionEvent",
    "DiscussionStatusChange",
    "DiscussionTitleChange",
    "DiscussionWithDetails",
    "DuplicatedRepoUrl",
    "GitCommitInfo",
    "GitRefInfo",
    "GitRefs",
    "HfApi",
    "LastCommitInfo",
    "ModelInfo",
    "Organization",
    "RepoFile",
    "RepoFolder",
    "RepoSibling",
    "RepoStorageInfo",
    "RepoUrl",
    "SpaceInfo",
    "User",
    "__version__",
    "accept_access_request",
    "add_collection_item",
    "auth_check",
    "cancel_access_request",
    "change_discussion_status",
    "comment_discussion",
    "create_branch",
    "create_collection",
    "create_commit",
    "create_discussion",
    "create_pull_request",
    "create_repo",
    "create_tag",
    "dataset_info",
    "delete_branch",
    "delete_collection",
    "delete_collection_item",
    "delete_file",
    "delete_folder",
    "delete_repo",
    "delete_tag",
    "duplicate_repo",
    "edit_discussion_comment",
    "file_exists",
    "get_collection",
    "get_dataset_tags",
    "get_discussion_details",
    "get_model_tags",
    "get_organization_overview",
    "get_paths_info",
    "get_repo_discussions",
    "get_user_overview",
    "grant_access",
    "hf_hub_download",
    "like",
    "list_accepted_access_requests",
    "list_collections",
    "list_datasets",
    "list_liked_repos",
    "list_models",
    "list_organization_followers",
    "list_organization_members",
    "list_pending_access_requests",
    "list_rejected_access_requests",
    "list_repo_commits",
    "list_repo_files",
    "list_repo_likers",
    "list_repo_refs",
    "list_repo_tree",
    "list_spaces",
    "list_user_followers",
    "list_user_following",
    "list_user_repos",
    "login",
    "logout",
    "merge_pull_request",
    "model_info",
    "move_repo",
    "reject_access_request",
    "rename_discussion",
    "repo_exists",
    "repo_info",
    "revision_exists",
    "scan_cache_dir",
    "snapshot_download",
    "space_info",
    "super_squash_history",
    "try_to_load_from_cache",
    "unlike",
    "update_collection_item",
    "update_collection_metadata",
    "update_repo_settings",
    "upload_file",
    "upload_folder",
    "upload_large_folder",
    "whoami",
]

if TYPE_CHECKING:
    from hubstead.client.api import (
        HfApi,
        accept_access_request,
        add_collection_item,
        auth_check,
        cancel_access_request,
        change_discussion_status,
        comment_discussion,
        create_branch,
        create_collection,
        create_commit,
        create_discussion,
        create_pull_request,
        create_repo,
        create_tag,
        dataset_info,
        delete_branch,
        delete_collection,
        delete_collection_item,
        delete_file,
        delete_folder,
        delete_repo,
        delete_tag,
        duplicate_repo,
        edit_discussion_comment,
        file_exists,
        get_collection,
        get_dataset_tags,
        get_discussion_details,
        get_model_tags,
        get_organization_overview,
        get_paths_info,
        get_repo_discussions,
        get_user_overview,
        grant_access,
        like,
        list_accepted_access_requests,
        list_collections,
        list_datasets,
        list_liked_repos,
        list_models,
        list_organization_followers,
        list_organization_members,
        list_pending_access_requests,
        list_rejected_access_requests,
        list_repo_commits,
        list_repo_files,
        list_repo_likers,
        list_repo_refs,
        list_repo_tree,
        list_spaces,
        list_user_followers,
        list_user_following,
        list_user_repos,
        merge_pull_request,
        model_info,
        move_repo,
        reject_access_request,
        rename_discussion,
        repo_exists,
        repo_info,
        revision_exists,
        space_info,
        super_squash_history,
        unlike,
        update_collection_item,
        update_collection_metadata,
        update_repo_settings,
        upload_file,
        upload_folder,
        upload_large_folder,
    )
    from hubstead.client.auth import login, logout, whoami
    from hubstead.client.cache import try_to_load_from_cache
    from hubstead.client.cache_scan import scan_cache_dir
    from hubstead.client.downloads import hf_hub_download, snapshot_download
    from hubstead.client.models import (
        BlobLfsInfo,
        CommitInfo,
        DatasetInfo,
        Discussion,
        DiscussionComment,
        DiscussionCommit,
        DiscussionEvent,
        DiscussionStatusChange,
        DiscussionTitleChange,
        DiscussionWithDetails,
        DuplicatedRepoUrl,
        GitCommitInfo,
        GitRefInfo,
        GitRefs,
        LastCommitInfo,
        ModelInfo,
        Organization,
        RepoFile,
        RepoFolder,
        RepoSibling,
        RepoStorageInfo,
        RepoUrl,
        SpaceInfo,
        User,
    )
    from hubstead.client.uploads import (
        CommitOperationAdd,
        CommitOperationCopy,
        CommitOperationDelete,
    )


def __getattr__(name: str) -> object:
    """Import a public name from the module that defines it, on first use (PEP 562)."""
    if name in __all__:
        for source in _SOURCES:
            module = importlib.import_module(source)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module 'hubstead' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the not-yet-imported public ones included."""
    return sorted({*globals(), *__all__})
