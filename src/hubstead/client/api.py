"""`HfApi`: the Hub API with `huggingface_hub`'s method names and signatures.

Each method is a thin call: build the request, send it through `HubSession` (retries, errors),
parse the answer into `models` dataclasses. The methods come in groups, one class each: whole
repos (`_repos.py`), git history (`_refs.py`), files (`_files.py`), uploads (`uploads.py`),
downloads (`downloads.py`), discussions (`_discussions.py`), access requests
(`_access_requests.py`), people (`_profiles.py`), likes (`_likes.py`), collections
(`_collections.py`), webhooks (`_webhooks.py`), Space secrets and variables
(`_space_env.py`) and Space runtimes (`_spaces.py`); identity is here.

The module-level functions (`create_repo`, `list_models`, ...) call the method of the same name
on a client built from the environment at each call, so `HF_ENDPOINT` and `HF_TOKEN` can change
between calls (huggingface_hub reads the endpoint once, at import).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from hubstead.client._access_requests import AccessRequestMethods
from hubstead.client._collections import CollectionMethods
from hubstead.client._discussions import DiscussionMethods
from hubstead.client._likes import LikeMethods
from hubstead.client._profiles import ProfileMethods
from hubstead.client._space_env import SpaceEnvMethods
from hubstead.client._spaces import SpaceMethods
from hubstead.client._webhooks import WebhookMethods
from hubstead.client.downloads import DownloadMethods
from hubstead.client.uploads import UploadMethods
from hubstead.errors import LocalTokenNotFoundError

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class HfApi(
    UploadMethods,
    DownloadMethods,
    DiscussionMethods,
    AccessRequestMethods,
    ProfileMethods,
    LikeMethods,
    CollectionMethods,
    WebhookMethods,
    SpaceEnvMethods,
    SpaceMethods,
):
    """A client for one hub (hubstead or huggingface.co).

    Args:
        endpoint: the hub's URL; default `HF_ENDPOINT`, else https://huggingface.co.
        token: a token; `False` sends none; default `HF_TOKEN` or the stored login token.
        cache_dir: the Hugging Face cache used by downloads; default `HF_HUB_CACHE`.
        trust_env: read the environment at all (False: only the arguments count, and httpx
            takes no proxy from it either).
        max_retries: attempts after the first, for connection errors, 429 and 5xx; default
            `HUBSTEAD_MAX_RETRIES`, else 5.

    Raises:
        HFValidationError: a `HUBSTEAD_*` setting that is not a valid number.
    """

    def whoami(self, token: str | bool | None = None) -> dict[str, Any]:
        """The account behind the token, with its organizations and the token's role.

        Raises:
            LocalTokenNotFoundError: no token is configured.
            HfHubHTTPError: the token was refused (401).
        """
        if self.session.token_for(token) is None:
            raise LocalTokenNotFoundError(
                "whoami needs a token: pass token=, set HF_TOKEN, or run `hubstead login`"
            )
        result: dict[str, Any] = self._get("api/whoami-v2", token=token)
        return result


def _on_default_api(method: Callable[Concatenate[HfApi, P], R]) -> Callable[P, R]:
    """`method` as a function, on a client configured from the environment when called."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with HfApi() as api:
            return method(api, *args, **kwargs)

    call.__signature__ = _without_self(method)  # type: ignore[attr-defined]  # for inspect, help()
    return call


def _iterating_on_default_api(
    method: Callable[Concatenate[HfApi, P], Iterator[T]],
) -> Callable[P, Iterator[T]]:
    """As `_on_default_api`, for a listing: the client lives until the iteration ends."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        with HfApi() as api:
            yield from method(api, *args, **kwargs)

    call.__signature__ = _without_self(method)  # type: ignore[attr-defined]  # for inspect, help()
    return call


def _without_self(method: Callable[..., object]) -> inspect.Signature:
    """The signature of a method, as a function called without the client."""
    signature = inspect.signature(method)
    return signature.replace(parameters=list(signature.parameters.values())[1:])


create_repo = _on_default_api(HfApi.create_repo)
delete_repo = _on_default_api(HfApi.delete_repo)
move_repo = _on_default_api(HfApi.move_repo)
duplicate_repo = _on_default_api(HfApi.duplicate_repo)
get_model_tags = _on_default_api(HfApi.get_model_tags)
get_dataset_tags = _on_default_api(HfApi.get_dataset_tags)
update_repo_settings = _on_default_api(HfApi.update_repo_settings)
repo_info = _on_default_api(HfApi.repo_info)
model_info = _on_default_api(HfApi.model_info)
dataset_info = _on_default_api(HfApi.dataset_info)
space_info = _on_default_api(HfApi.space_info)
kernel_info = _on_default_api(HfApi.kernel_info)
repo_exists = _on_default_api(HfApi.repo_exists)
revision_exists = _on_default_api(HfApi.revision_exists)
file_exists = _on_default_api(HfApi.file_exists)
auth_check = _on_default_api(HfApi.auth_check)
list_models = _iterating_on_default_api(HfApi.list_models)
list_datasets = _iterating_on_default_api(HfApi.list_datasets)
list_spaces = _iterating_on_default_api(HfApi.list_spaces)
list_repo_tree = _iterating_on_default_api(HfApi.list_repo_tree)
list_repo_files = _on_default_api(HfApi.list_repo_files)
get_paths_info = _on_default_api(HfApi.get_paths_info)
list_repo_refs = _on_default_api(HfApi.list_repo_refs)
list_repo_commits = _on_default_api(HfApi.list_repo_commits)
create_branch = _on_default_api(HfApi.create_branch)
delete_branch = _on_default_api(HfApi.delete_branch)
create_tag = _on_default_api(HfApi.create_tag)
delete_tag = _on_default_api(HfApi.delete_tag)
super_squash_history = _on_default_api(HfApi.super_squash_history)
create_commit = _on_default_api(HfApi.create_commit)
upload_file = _on_default_api(HfApi.upload_file)
upload_folder = _on_default_api(HfApi.upload_folder)
delete_file = _on_default_api(HfApi.delete_file)
delete_folder = _on_default_api(HfApi.delete_folder)
upload_large_folder = _on_default_api(HfApi.upload_large_folder)
get_repo_discussions = _iterating_on_default_api(HfApi.get_repo_discussions)
get_discussion_details = _on_default_api(HfApi.get_discussion_details)
create_discussion = _on_default_api(HfApi.create_discussion)
create_pull_request = _on_default_api(HfApi.create_pull_request)
comment_discussion = _on_default_api(HfApi.comment_discussion)
rename_discussion = _on_default_api(HfApi.rename_discussion)
change_discussion_status = _on_default_api(HfApi.change_discussion_status)
merge_pull_request = _on_default_api(HfApi.merge_pull_request)
edit_discussion_comment = _on_default_api(HfApi.edit_discussion_comment)
upload_attachment = _on_default_api(HfApi.upload_attachment)
like = _on_default_api(HfApi.like)
unlike = _on_default_api(HfApi.unlike)
list_liked_repos = _on_default_api(HfApi.list_liked_repos)
list_repo_likers = _iterating_on_default_api(HfApi.list_repo_likers)
list_collections = _iterating_on_default_api(HfApi.list_collections)
get_collection = _on_default_api(HfApi.get_collection)
create_collection = _on_default_api(HfApi.create_collection)
update_collection_metadata = _on_default_api(HfApi.update_collection_metadata)
delete_collection = _on_default_api(HfApi.delete_collection)
add_collection_item = _on_default_api(HfApi.add_collection_item)
update_collection_item = _on_default_api(HfApi.update_collection_item)
delete_collection_item = _on_default_api(HfApi.delete_collection_item)
get_user_overview = _on_default_api(HfApi.get_user_overview)
get_organization_overview = _on_default_api(HfApi.get_organization_overview)
list_organization_members = _iterating_on_default_api(HfApi.list_organization_members)
list_organization_followers = _iterating_on_default_api(HfApi.list_organization_followers)
list_user_followers = _iterating_on_default_api(HfApi.list_user_followers)
list_user_following = _iterating_on_default_api(HfApi.list_user_following)
list_user_repos = _iterating_on_default_api(HfApi.list_user_repos)
list_webhooks = _on_default_api(HfApi.list_webhooks)
get_webhook = _on_default_api(HfApi.get_webhook)
create_webhook = _on_default_api(HfApi.create_webhook)
update_webhook = _on_default_api(HfApi.update_webhook)
enable_webhook = _on_default_api(HfApi.enable_webhook)
disable_webhook = _on_default_api(HfApi.disable_webhook)
delete_webhook = _on_default_api(HfApi.delete_webhook)
get_space_secrets = _on_default_api(HfApi.get_space_secrets)
add_space_secret = _on_default_api(HfApi.add_space_secret)
delete_space_secret = _on_default_api(HfApi.delete_space_secret)
get_space_variables = _on_default_api(HfApi.get_space_variables)
add_space_variable = _on_default_api(HfApi.add_space_variable)
delete_space_variable = _on_default_api(HfApi.delete_space_variable)
get_space_runtime = _on_default_api(HfApi.get_space_runtime)
restart_space = _on_default_api(HfApi.restart_space)
pause_space = _on_default_api(HfApi.pause_space)
set_space_sleep_time = _on_default_api(HfApi.set_space_sleep_time)
fetch_space_logs = _iterating_on_default_api(HfApi.fetch_space_logs)
wait_for_space = _on_default_api(HfApi.wait_for_space)
list_pending_access_requests = _iterating_on_default_api(HfApi.list_pending_access_requests)
list_accepted_access_requests = _iterating_on_default_api(HfApi.list_accepted_access_requests)
list_rejected_access_requests = _iterating_on_default_api(HfApi.list_rejected_access_requests)
accept_access_request = _on_default_api(HfApi.accept_access_request)
reject_access_request = _on_default_api(HfApi.reject_access_request)
cancel_access_request = _on_default_api(HfApi.cancel_access_request)
grant_access = _on_default_api(HfApi.grant_access)
