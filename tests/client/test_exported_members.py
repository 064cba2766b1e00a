"""The public surface of `hubstead`: pinned, importable, and shaped like huggingface_hub's.

A change to the surface must change this file, on purpose.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import huggingface_hub
import huggingface_hub.hf_api
import pytest

import hubstead
from hubstead import errors
from hubstead.client.api import HfApi

EXPORTED = [
    "AccessRequest",
    "BlobLfsInfo",
    "Collection",
    "CollectionItem",
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
    "KernelInfo",
    "LastCommitInfo",
    "ModelInfo",
    "Organization",
    "RepoFile",
    "RepoFolder",
    "RepoSibling",
    "RepoStorageInfo",
    "RepoUrl",
    "SafeTensorsInfo",
    "SpaceInfo",
    "SpaceRuntime",
    "SpaceSecret",
    "SpaceVariable",
    "User",
    "UserLikes",
    "WebhookInfo",
    "WebhookWatchedItem",
    "__version__",
    "accept_access_request",
    "add_collection_item",
    "add_space_secret",
    "add_space_variable",
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
    "create_webhook",
    "dataset_info",
    "delete_branch",
    "delete_collection",
    "delete_collection_item",
    "delete_file",
    "delete_folder",
    "delete_repo",
    "delete_space_secret",
    "delete_space_variable",
    "delete_tag",
    "delete_webhook",
    "disable_webhook",
    "duplicate_repo",
    "edit_discussion_comment",
    "enable_webhook",
    "fetch_space_logs",
    "file_exists",
    "get_collection",
    "get_dataset_tags",
    "get_discussion_details",
    "get_model_tags",
    "get_organization_overview",
    "get_paths_info",
    "get_repo_discussions",
    "get_space_runtime",
    "get_space_secrets",
    "get_space_variables",
    "get_user_overview",
    "get_webhook",
    "grant_access",
    "hf_hub_download",
    "kernel_info",
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
    "list_webhooks",
    "login",
    "logout",
    "merge_pull_request",
    "model_info",
    "move_repo",
    "pause_space",
    "reject_access_request",
    "rename_discussion",
    "repo_exists",
    "repo_info",
    "restart_space",
    "revision_exists",
    "scan_cache_dir",
    "set_space_sleep_time",
    "snapshot_download",
    "space_info",
    "super_squash_history",
    "try_to_load_from_cache",
    "unlike",
    "update_collection_item",
    "update_collection_metadata",
    "update_repo_settings",
    "update_webhook",
    "upload_attachment",
    "upload_file",
    "upload_folder",
    "upload_large_folder",
    "wait_for_space",
    "whoami",
]

# HfApi methods whose names and keyword arguments are huggingface_hub's (2.4 has no
# `upload_large_folder` any more: ours keeps the 0.x signature).
HF_METHODS = [
    "accept_access_request",
    "add_collection_item",
    "add_space_secret",
    "add_space_variable",
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
    "delete_space_secret",
    "delete_space_variable",
    "delete_tag",
    "duplicate_repo",
    "edit_discussion_comment",
    "fetch_space_logs",
    "file_exists",
    "get_collection",
    "get_dataset_tags",
    "get_discussion_details",
    "get_model_tags",
    "get_organization_overview",
    "get_paths_info",
    "get_repo_discussions",
    "get_space_runtime",
    "get_space_secrets",
    "get_space_variables",
    "get_user_overview",
    "grant_access",
    "hf_hub_download",
    "hide_discussion_comment",
    "kernel_info",
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
    "merge_pull_request",
    "model_info",
    "move_repo",
    "pause_space",
    "reject_access_request",
    "rename_discussion",
    "repo_exists",
    "repo_info",
    "restart_space",
    "revision_exists",
    "set_space_sleep_time",
    "snapshot_download",
    "space_info",
    "super_squash_history",
    "unlike",
    "update_collection_item",
    "update_collection_metadata",
    "update_repo_settings",
    "upload_attachment",
    "upload_file",
    "upload_folder",
    "wait_for_space",
    "whoami",
]

ERRORS = [
    "BadRequestError",
    "CacheNotFound",
    "DisabledRepoError",
    "EntryNotFoundError",
    "GatedRepoError",
    "HFValidationError",
    "HfHubHTTPError",
    "LocalEntryNotFoundError",
    "LocalTokenNotFoundError",
    "OfflineModeIsEnabled",
    "RemoteEntryNotFoundError",
    "RepositoryNotFoundError",
    "RevisionNotFoundError",
]


def test_all_is_pinned() -> None:
    assert sorted(hubstead.__all__) == sorted(EXPORTED)


@pytest.mark.parametrize("name", EXPORTED)
def test_every_exported_name_is_importable_and_defined_in_hubstead(name: str) -> None:
    value = getattr(hubstead, name)

    assert name in dir(hubstead)
    if name != "__version__":
        assert value.__module__.startswith("hubstead.client."), value.__module__


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        hubstead.no_such_name  # noqa: B018


def test_importing_hubstead_loads_no_http_client() -> None:
    code = "import sys, hubstead, hubstead.protocol; print('httpx' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert completed.stdout.strip() == "False"


@pytest.mark.parametrize("name", ERRORS)
def test_errors_have_the_official_names_and_bases(name: str) -> None:
    ours = getattr(errors, name)
    theirs = getattr(huggingface_hub.errors, name)
    for base in (OSError, ValueError, FileNotFoundError, ConnectionError):
        assert issubclass(ours, base) == issubclass(theirs, base), base


# Result classes with every attribute of huggingface_hub's (exported at its top level, or only
# from `hf_api`). The others leave out what this hub does not serve (papers, Space runtimes,
# inference, ...).
RESULTS = [
    "AccessRequest",
    "BlobLfsInfo",
    "Collection",
    "CollectionItem",
    "Discussion",
    "DiscussionComment",
    "DiscussionCommit",
    "DiscussionEvent",
    "DiscussionStatusChange",
    "DiscussionTitleChange",
    "DiscussionWithDetails",
    "GitCommitInfo",
    "GitRefInfo",
    "GitRefs",
    "LastCommitInfo",
    "RepoFolder",
    "RepoSibling",
    "RepoStorageInfo",
    "SafeTensorsInfo",
    "UserLikes",
    "WebhookInfo",
    "WebhookWatchedItem",
]


@pytest.mark.parametrize("name", RESULTS)
def test_result_classes_have_the_official_attributes(name: str) -> None:
    ours = {field.name for field in dataclasses.fields(getattr(hubstead, name))}
    official = getattr(huggingface_hub, name, None) or getattr(huggingface_hub.hf_api, name)
    theirs = {field.name for field in dataclasses.fields(official)}

    assert theirs <= ours


def assert_compatible(name: str, ours: inspect.Signature, theirs: inspect.Signature) -> None:
    """Every call that works with huggingface_hub's signature works with ours.

    Shared parameters have the same kind and default, in the same positional order; the
    official required ones all exist here; our own additions are keyword-only, with defaults.
    """
    official = theirs.parameters
    for parameter in ours.parameters.values():
        if parameter.name in official:
            assert parameter.kind == official[parameter.name].kind, f"{name}({parameter.name})"
            assert parameter.default == official[parameter.name].default, f"{name}({parameter})"
        else:
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{name}({parameter})"
            assert parameter.default is not inspect.Parameter.empty, f"{name}({parameter})"
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    assert [p.name for p in ours.parameters.values() if p.kind in positional] == [
        p.name for p in official.values() if p.kind in positional
    ], name
    required = {p.name for p in official.values() if p.default is inspect.Parameter.empty}
    assert required <= set(ours.parameters), name


# Methods that huggingface_hub does not offer as module functions either.
METHODS_ONLY = {"hide_discussion_comment"}
MODULE_FUNCTIONS = [n for n in HF_METHODS if n not in METHODS_ONLY]


@pytest.mark.parametrize("name", HF_METHODS)
def test_methods_take_the_official_arguments(name: str) -> None:
    assert_compatible(
        name,
        inspect.signature(getattr(HfApi, name)),
        inspect.signature(getattr(huggingface_hub.HfApi, name)),
    )


@pytest.mark.parametrize(
    "name", [*MODULE_FUNCTIONS, "login", "logout", "scan_cache_dir", "try_to_load_from_cache"]
)
def test_module_functions_take_the_official_arguments(name: str) -> None:
    assert_compatible(
        name,
        inspect.signature(getattr(hubstead, name)),
        inspect.signature(getattr(huggingface_hub, name)),
    )


# Module functions with their own signature: they take an `endpoint` (and more) too.
STANDALONE = {"hf_hub_download", "snapshot_download", "whoami"}


@pytest.mark.parametrize("name", [n for n in MODULE_FUNCTIONS if n not in STANDALONE])
def test_module_functions_are_the_methods_on_a_default_client(name: str) -> None:
    function = inspect.signature(getattr(hubstead, name))
    method = inspect.signature(getattr(HfApi, name))

    assert list(function.parameters.values()) == list(method.parameters.values())[1:]
