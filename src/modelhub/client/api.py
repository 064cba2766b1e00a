"""`HfApi`: the Hub API with `huggingface_hub`'s method names and signatures.

Each method is a thin call: build the request, send it through `HubSession` (retries, errors),
parse the answer into `models` dataclasses. The methods come in groups: whole repos in
`_repos.py`, git history in `_refs.py`, identity and files here; downloads and uploads live in
their own modules and are exposed here as methods too.

The module-level functions (`create_repo`, `list_models`, ...) call the method of the same name
on a client built from the environment at each call, so `HF_ENDPOINT` and `HF_TOKEN` can change
between calls (huggingface_hub reads the endpoint once, at import).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Concatenate, ParamSpec, TypeVar

from modelhub.client import models, uploads
from modelhub.client._api_base import bool_param
from modelhub.client._http import raise_for_status
from modelhub.client._refs import RefMethods
from modelhub.client._repos import RepoMethods
from modelhub.client._urls import api_repo_path, quote_revision, resolve_url
from modelhub.errors import (
    GatedRepoError,
    LocalTokenNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from modelhub.protocol import DEFAULT_BRANCH

_PATHS_INFO_BATCH = 500
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class HfApi(RepoMethods, RefMethods):
    """A client for one hub (modelhub or huggingface.co).

    Args:
        endpoint: the hub's URL; default `HF_ENDPOINT`, else https://huggingface.co.
        token: a token; `False` sends none; default `HF_TOKEN` or the stored login token.
        cache_dir: the Hugging Face cache used by downloads; default `HF_HUB_CACHE`.
        trust_env: read the environment at all (False: only the arguments count).
        max_retries: attempts after the first, for connection errors, 429 and 5xx.
    """

    # --- identity -----------------------------------------------------------------------------

    def whoami(self, token: str | bool | None = None) -> dict[str, Any]:
        """The account behind the token.

        Raises:
            LocalTokenNotFoundError: no token is configured.
            HfHubHTTPError: the token was refused (401).
        """
        if not (token if isinstance(token, str) else self.token) or token is False:
            raise LocalTokenNotFoundError(
                "whoami needs a token: pass token=, set HF_TOKEN, or run `modelhub login`"
            )
        result: dict[str, Any] = self._get("api/whoami-v2", token=token)
        return result

    # --- files --------------------------------------------------------------------------------

    def list_repo_tree(
        self,
        repo_id: str,
        path_in_repo: str | None = None,
        *,
        recursive: bool = False,
        expand: bool = False,
        revision: str | None = None,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> Iterator[models.RepoFile | models.RepoFolder]:
        """Files and folders under `path_in_repo` (everything below it when recursive).

        Raises:
            RepositoryNotFoundError, RevisionNotFoundError: as for `repo_info`.
            RemoteEntryNotFoundError: `path_in_repo` is not a folder.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/tree/{quote_revision(revision or 'main')}"
        if path_in_repo:
            path += "/" + quote_revision(path_in_repo.strip("/"))
        params = {"recursive": bool_param(recursive), "expand": bool_param(expand)}
        for item in self.session.paginate(path, params, token=token):
            yield models.parse_tree_entry(item)

    def list_repo_files(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> list[str]:
        """The path of every file at a revision."""
        entries = self.list_repo_tree(
            repo_id, recursive=True, revision=revision, repo_type=repo_type, token=token
        )
        return [e.path for e in entries if isinstance(e, models.RepoFile)]

    def get_paths_info(
        self,
        repo_id: str,
        paths: str | Iterable[str],
        *,
        expand: bool = False,
        revision: str | None = None,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> list[models.RepoFile | models.RepoFolder]:
        """Entries for the given paths that exist (missing ones are left out)."""
        wanted = [paths] if isinstance(paths, str) else list(paths)
        revision_segment = quote_revision(revision or "main")
        path = f"{api_repo_path(repo_type, repo_id)}/paths-info/{revision_segment}"
        found: list[models.RepoFile | models.RepoFolder] = []
        for start in range(0, len(wanted), _PATHS_INFO_BATCH):
            batch = wanted[start : start + _PATHS_INFO_BATCH]
            response = self.session.request(
                "POST",
                self.session.url(path),
                data={"paths": batch, "expand": bool_param(expand)},
                token=token,
            )
            raise_for_status(response)
            found.extend(models.parse_tree_entry(item) for item in response.json())
        return found

    def file_exists(
        self,
        repo_id: str,
        filename: str,
        *,
        repo_type: str | None = None,
        revision: str | None = None,
        token: str | bool | None = None,
    ) -> bool:
        """Whether the file exists at the revision (default `main`); False for a missing repo.

        Raises:
            GatedRepoError: the repo is gated and you are not authorized (it may exist).
        """
        url = resolve_url(
            self.endpoint,
            repo_id,
            filename,
            repo_type=repo_type,
            revision=revision or DEFAULT_BRANCH,
        )
        # A HEAD on the download URL, as `hf_hub_download` does first; an LFS file answers
        # with a redirect to its blob, which is enough to know it exists.
        response = self.session.request("HEAD", url, token=token, follow_redirects=False)
        try:
            raise_for_status(response, f"check {filename}")
        except GatedRepoError:
            raise
        except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
            return False
        return True

    # --- uploads (implemented in uploads.py) --------------------------------------------------

    def create_commit(
        self,
        repo_id: str,
        operations: Iterable[uploads.CommitOperation],
        *,
        commit_message: str,
        commit_description: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        create_pr: bool | None = None,
        num_threads: int = 5,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Add, copy and delete files on a branch in one commit.

        Unchanged files are left out; when nothing changes, no commit is made and the branch's
        head is returned.

        Raises:
            HFValidationError: an empty message, a malformed `parent_commit` or path.
            BadRequestError: invalid README.md metadata, or an operation the hub refused.
            RepositoryNotFoundError, RevisionNotFoundError: no such repo or branch.
            RemoteEntryNotFoundError: a deleted path that does not exist.
            HfHubHTTPError: any other refusal, naming the step (412: `parent_commit` is stale).
        """
        return uploads.create_commit(
            self,
            repo_id,
            operations,
            commit_message=commit_message,
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            num_threads=num_threads,
            parent_commit=parent_commit,
        )

    def upload_file(
        self,
        *,
        path_or_fileobj: str | Path | bytes | BinaryIO,
        path_in_repo: str,
        repo_id: str,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Upload a local file, bytes or a binary file object to `path_in_repo` in one commit."""
        return uploads.upload_file(
            self,
            path_or_fileobj=path_or_fileobj,
            path_in_repo=path_in_repo,
            repo_id=repo_id,
            token=token,
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message,
            commit_description=commit_description,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def upload_folder(
        self,
        *,
        repo_id: str,
        folder_path: str | Path,
        path_in_repo: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        delete_patterns: list[str] | str | None = None,
    ) -> models.CommitInfo:
        """Upload a folder's files (filtered by patterns) in one commit.

        Remote files under `path_in_repo` matching `delete_patterns` are deleted in the same
        commit (never `.gitattributes`); `.git/` and `.cache/huggingface/` are never uploaded.
        """
        return uploads.upload_folder(
            self,
            repo_id=repo_id,
            folder_path=folder_path,
            path_in_repo=path_in_repo,
            commit_message=commit_message,
            commit_description=commit_description,
            token=token,
            repo_type=repo_type,
            revision=revision,
            create_pr=create_pr,
            parent_commit=parent_commit,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            delete_patterns=delete_patterns,
        )

    def delete_file(
        self,
        path_in_repo: str,
        repo_id: str,
        *,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Delete one file in one commit.

        Raises:
            RemoteEntryNotFoundError: there is no such file.
        """
        return uploads.delete_file(
            self,
            path_in_repo,
            repo_id,
            token=token,
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message,
            commit_description=commit_description,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def delete_folder(
        self,
        path_in_repo: str,
        repo_id: str,
        *,
        token: str | bool | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        commit_message: str | None = None,
        commit_description: str | None = None,
        create_pr: bool | None = None,
        parent_commit: str | None = None,
    ) -> models.CommitInfo:
        """Delete a folder and everything under it in one commit.

        Raises:
            RemoteEntryNotFoundError: there is no such folder.
        """
        return uploads.delete_folder(
            self,
            path_in_repo,
            repo_id,
            token=token,
            repo_type=repo_type,
            revision=revision,
            commit_message=commit_message,
            commit_description=commit_description,
            create_pr=create_pr,
            parent_commit=parent_commit,
        )

    def upload_large_folder(
        self,
        repo_id: str,
        folder_path: str | Path,
        *,
        repo_type: str,
        revision: str | None = None,
        private: bool | None = None,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        num_workers: int | None = None,
        print_report: bool = True,
        print_report_every: int = 60,
    ) -> models.CommitInfo | None:
        """Upload a large folder in many commits; run it again to resume after an interruption.

        Creates the repo (and the branch `revision`) if missing. Commits hold at most 100 files
        or 1 GiB. What is known about each file is kept in `.cache/huggingface/upload/` inside
        the folder, so a new run neither re-hashes nor re-uploads what is done. Returns the last
        commit made (None if everything was already committed).
        """
        return uploads.upload_large_folder(
            self,
            repo_id,
            folder_path,
            repo_type=repo_type,
            revision=revision,
            private=private,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            num_workers=num_workers,
            print_report=print_report,
            print_report_every=print_report_every,
        )

    # --- downloads (implemented in downloads.py) ----------------------------------------------

    def hf_hub_download(
        self,
        repo_id: str,
        filename: str,
        *,
        subfolder: str | None = None,
        repo_type: str | None = None,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        local_dir: str | Path | None = None,
        force_download: bool = False,
        etag_timeout: float = 10.0,
        token: str | bool | None = None,
        local_files_only: bool = False,
        headers: dict[str, str] | None = None,
        progress: bool | None = None,
        connections: int | None = None,
        chunk_size: int | None = None,
    ) -> str:
        """`modelhub.hf_hub_download` with this client's hub, token and cache."""
        from modelhub.client import downloads

        return downloads.download_file(
            self,
            repo_id,
            filename,
            subfolder=subfolder,
            repo_type=repo_type,
            revision=revision,
            cache_dir=cache_dir,
            local_dir=local_dir,
            force_download=force_download,
            etag_timeout=etag_timeout,
            token=token,
            local_files_only=local_files_only,
            headers=headers,
            progress=progress,
            connections=connections,
            chunk_size=chunk_size,
        )

    def snapshot_download(
        self,
        repo_id: str,
        *,
        repo_type: str | None = None,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        local_dir: str | Path | None = None,
        etag_timeout: float = 10.0,
        force_download: bool = False,
        token: str | bool | None = None,
        local_files_only: bool = False,
        allow_patterns: list[str] | str | None = None,
        ignore_patterns: list[str] | str | None = None,
        max_workers: int = 8,
        headers: dict[str, str] | None = None,
        progress: bool | None = None,
        connections: int | None = None,
        chunk_size: int | None = None,
    ) -> str:
        """`modelhub.snapshot_download` with this client's hub, token and cache."""
        from modelhub.client import downloads

        return downloads.download_snapshot(
            self,
            repo_id,
            repo_type=repo_type,
            revision=revision,
            cache_dir=cache_dir,
            local_dir=local_dir,
            etag_timeout=etag_timeout,
            force_download=force_download,
            token=token,
            local_files_only=local_files_only,
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            max_workers=max_workers,
            headers=headers,
            progress=progress,
            connections=connections,
            chunk_size=chunk_size,
        )


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
update_repo_settings = _on_default_api(HfApi.update_repo_settings)
repo_info = _on_default_api(HfApi.repo_info)
model_info = _on_default_api(HfApi.model_info)
dataset_info = _on_default_api(HfApi.dataset_info)
space_info = _on_default_api(HfApi.space_info)
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
