"""`HfApi` methods about whole repos: create, delete, move, settings, info, existence, listings."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, Literal, TypeVar

from hubstead.client import models
from hubstead.client._api_base import ApiBase, query_params
from hubstead.client._http import raise_for_status
from hubstead.client._urls import api_repo_path, quote_revision, repo_type_of, validate_repo_id
from hubstead.errors import (
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from hubstead.protocol import RepoType

InfoT = TypeVar("InfoT", bound=models.RepoInfo)

# `list_models(sort=...)` accepts the Python spellings huggingface_hub accepts.
_SORT_NAMES = {
    "created_at": "createdAt",
    "last_modified": "lastModified",
    "trending_score": "trendingScore",
}
_LIST_PAGE = 1000  # the server's largest page


class RepoMethods(ApiBase):
    """Repo-level methods of `HfApi`."""

    def create_repo(
        self,
        repo_id: str,
        *,
        token: str | bool | None = None,
        private: bool | None = None,
        repo_type: str | None = None,
        exist_ok: bool = False,
        space_sdk: str | None = None,
    ) -> models.RepoUrl:
        """Create a repo (`name` alone creates it in your own namespace).

        Args:
            repo_id: `namespace/name` or `name`.
            token: overrides the client's token (`False`: none).
            private: create it private (default: public).
            repo_type: `model` (default), `dataset` or `space`.
            exist_ok: return the URL of an existing repo instead of failing.
            space_sdk: the Space's SDK (`gradio`, `streamlit`, `docker`, `static`); Spaces only.

        Returns:
            The repo's URL, with `repo_id`, `repo_type` and `namespace` attributes.

        Raises:
            HFValidationError: a malformed repo id or type, or a Space without `space_sdk`.
            HfHubHTTPError: 401 without a valid token, 403 without write access to the
                namespace, 409 when the repo exists and not `exist_ok`.
            BadRequestError: the hub refused a field (an unknown SDK, say).
        """
        kind = repo_type_of(repo_type)
        namespace, _, name = validate_repo_id(repo_id).rpartition("/")
        if kind is RepoType.SPACE and space_sdk is None:
            raise HFValidationError("A Space needs space_sdk ('gradio', 'docker', ...)")
        payload: dict[str, Any] = {
            "name": name,
            "organization": namespace or None,
            "type": kind.value,
        }
        if private is not None:
            payload["visibility"] = "private" if private else "public"
        if kind is RepoType.SPACE:
            payload["sdk"] = space_sdk
        response = self.session.request(
            "POST", self.session.url("api/repos/create"), json=payload, token=token, retry=False
        )
        try:
            raise_for_status(response, f"create {kind.value} repo {repo_id}")
        except HfHubHTTPError as error:
            if not exist_ok or error.status_code not in (401, 403, 409):
                raise
            if error.status_code != 409:
                # No right to create here, but the repo may exist already: fine if we see it.
                try:
                    self.repo_info(repo_id, repo_type=kind.value, token=token)
                except HfHubHTTPError:
                    raise error from None
        # The answer (a 409 too) names the URL; after a 401/403 it is built from the id.
        body = response.json() if response.content else {}
        url = body.get("url") if isinstance(body, dict) else None
        return models.RepoUrl(url or f"{self.endpoint}/{kind.url_prefix}{repo_id}", self.endpoint)

    def delete_repo(
        self,
        repo_id: str,
        *,
        token: str | bool | None = None,
        repo_type: str | None = None,
        missing_ok: bool = False,
    ) -> None:
        """Delete a repo and everything in it.

        Raises:
            RepositoryNotFoundError: no such repo (unless `missing_ok`).
            HfHubHTTPError: 401/403 without the right to delete it.
        """
        kind = repo_type_of(repo_type)
        namespace, _, name = validate_repo_id(repo_id).rpartition("/")
        payload = {"name": name, "organization": namespace or None, "type": kind.value}
        try:
            # A retry after a lost answer would find nothing to delete: only harmless when
            # missing_ok.
            self._send("DELETE", "api/repos/delete", json=payload, token=token, retry=missing_ok)
        except RepositoryNotFoundError:
            if not missing_ok:
                raise

    def move_repo(
        self,
        from_id: str,
        to_id: str,
        *,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> None:
        """Rename a repo or transfer it to another namespace.

        Raises:
            HFValidationError: an id without a namespace.
            RepositoryNotFoundError: no such source repo.
            HfHubHTTPError: 403 without admin rights on both ends, 409 when `to_id` exists.
        """
        for value in (from_id, to_id):
            if validate_repo_id(value).count("/") != 1:
                raise HFValidationError(f"{value!r} must be 'namespace/name'")
        payload = {"fromRepo": from_id, "toRepo": to_id, "type": repo_type_of(repo_type).value}
        self._send("POST", "api/repos/move", json=payload, token=token, action="move repo")

    def duplicate_repo(
        self,
        from_id: str,
        to_id: str | None = None,
        *,
        repo_type: str | None = None,
        private: bool | None = None,
        visibility: Literal["public", "private", "protected"] | None = None,
        token: str | bool | None = None,
        exist_ok: bool = False,
    ) -> models.DuplicatedRepoUrl:
        """Copy a repo, with its branches, tags, history and large files, on the hub.

        Args:
            from_id: the repo to copy.
            to_id: `namespace/name` or `name` of the copy; default: the source's name in your
                own namespace.
            repo_type: `model` (default), `dataset` or `space`.
            private: make the copy private or public (default: as the source).
            visibility: `public`, `private` or (Spaces) `protected`; not with `private`.
            token: overrides the client's token (`False`: none).
            exist_ok: return the URL of an existing target instead of failing.

        Returns:
            The copy's URL, with `files_copy_pending`.

        Raises:
            HFValidationError: a malformed id, or both `private` and `visibility`.
            RepositoryNotFoundError: the source is missing or invisible to you.
            HfHubHTTPError: 401 without a token, 403 without write access to the target's
                namespace, 409 when the target exists and not `exist_ok`.
        """
        kind = repo_type_of(repo_type)
        validate_repo_id(from_id)
        if private is not None and visibility is not None:
            raise HFValidationError("Pass private= or visibility=, not both")
        namespace, _, name = validate_repo_id(to_id or from_id).rpartition("/")
        if to_id is None or not namespace:
            namespace = self._get("api/whoami-v2", token=token)["name"]
        payload: dict[str, Any] = {"repository": f"{namespace}/{name}"}
        if private is not None:
            payload["visibility"] = "private" if private else "public"
        elif visibility is not None:
            payload["visibility"] = visibility
        path = f"{api_repo_path(kind.value, from_id)}/duplicate"
        response = self.session.request(
            "POST", self.session.url(path), json=payload, token=token, retry=False
        )
        try:
            raise_for_status(response, f"duplicate {kind.value} repo {from_id}")
        except HfHubHTTPError as error:
            if not exist_ok or error.status_code != 409:
                raise
        body = response.json()
        url = models.DuplicatedRepoUrl(body["url"], self.endpoint)
        url.files_copy_pending = bool(body.get("filesCopyPending", False))
        return url

    def get_model_tags(self) -> dict[str, Any]:
        """The tags the hub's models use, grouped by type (`{type: [{"id", "label", "type"}]}`).

        On a hubstead hub, the tags of the models you can see; on huggingface.co, its curated
        vocabulary.
        """
        tags: dict[str, Any] = self._get("api/models-tags-by-type")
        return tags

    def get_dataset_tags(self) -> dict[str, Any]:
        """The tags the hub's datasets use, grouped by type, as `get_model_tags`."""
        tags: dict[str, Any] = self._get("api/datasets-tags-by-type")
        return tags

    def update_repo_settings(
        self,
        repo_id: str,
        *,
        gated: Literal["auto", "manual", False] | None = None,
        private: bool | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
    ) -> None:
        """Change a repo's gating or visibility.

        Raises:
            HFValidationError: nothing to change, or an invalid `gated` value.
            RepositoryNotFoundError: no such repo.
            HfHubHTTPError: 403 without admin rights on it.
        """
        payload: dict[str, Any] = {}
        if gated is not None:
            if gated not in ("auto", "manual", False):
                raise HFValidationError(f"gated must be 'auto', 'manual' or False, not {gated!r}")
            payload["gated"] = gated
        if private is not None:
            payload["visibility"] = "private" if private else "public"
        if not payload:
            raise HFValidationError("update_repo_settings needs gated= or private=")
        path = f"{api_repo_path(repo_type, repo_id)}/settings"
        self._send("PUT", path, json=payload, token=token, retry=True)

    def repo_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        repo_type: str | None = None,
        files_metadata: bool = False,
        expand: list[str] | None = None,
        token: str | bool | None = None,
    ) -> models.RepoInfo:
        """Info about a repo at a revision if given (`ModelInfo`, `DatasetInfo`, `SpaceInfo`, ...).

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
            RevisionNotFoundError: no such revision.
        """
        cls = models.INFO_CLASSES[repo_type_of(repo_type).value]
        return self._info(cls, repo_id, repo_type, revision, files_metadata, expand, token)

    def model_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        files_metadata: bool = False,
        expand: list[str] | None = None,
        token: str | bool | None = None,
    ) -> models.ModelInfo:
        """`repo_info` for a model."""
        return self._info(
            models.ModelInfo, repo_id, "model", revision, files_metadata, expand, token
        )

    def dataset_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        files_metadata: bool = False,
        expand: list[str] | None = None,
        token: str | bool | None = None,
    ) -> models.DatasetInfo:
        """`repo_info` for a dataset."""
        return self._info(
            models.DatasetInfo, repo_id, "dataset", revision, files_metadata, expand, token
        )

    def space_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        files_metadata: bool = False,
        expand: list[str] | None = None,
        token: str | bool | None = None,
    ) -> models.SpaceInfo:
        """`repo_info` for a Space."""
        return self._info(
            models.SpaceInfo, repo_id, "space", revision, files_metadata, expand, token
        )

    def kernel_info(
        self,
        repo_id: str,
        *,
        revision: str | None = None,
        token: str | bool | None = None,
    ) -> models.KernelInfo:
        """`repo_info` for a kernel (no `expand` or `files_metadata`, as huggingface_hub)."""
        return self._info(models.KernelInfo, repo_id, "kernel", revision, False, None, token)

    def repo_exists(
        self, repo_id: str, *, repo_type: str | None = None, token: str | bool | None = None
    ) -> bool:
        """Whether the repo exists and you can see it (a gated repo counts as existing)."""
        try:
            self.repo_info(repo_id, repo_type=repo_type, expand=["sha"], token=token)
        except GatedRepoError:
            return True
        except RepositoryNotFoundError:
            return False
        return True

    def revision_exists(
        self,
        repo_id: str,
        revision: str,
        *,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> bool:
        """Whether the repo exists and has this branch, tag or commit."""
        try:
            self.repo_info(
                repo_id, revision=revision, repo_type=repo_type, expand=["sha"], token=token
            )
        except (RepositoryNotFoundError, RevisionNotFoundError):
            return False
        return True

    def auth_check(
        self,
        repo_id: str,
        *,
        repo_type: str | None = None,
        token: str | bool | None = None,
        write: bool = False,
    ) -> None:
        """Check that you may read (or, with `write`, write to) a repo; return if so.

        Raises:
            RepositoryNotFoundError: no such repo, or you cannot see it.
            GatedRepoError: the repo is gated and you are not authorized.
            HfHubHTTPError: 403 when `write` and you may only read.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/auth-check" + ("/write" if write else "")
        self._get(path, token=token)

    def list_models(
        self,
        *,
        filter: str | Iterable[str] | None = None,
        author: str | None = None,
        gated: bool | None = None,
        search: str | None = None,
        pipeline_tag: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        expand: list[str] | None = None,
        full: bool | None = None,
        token: str | bool | None = None,
    ) -> Iterator[models.ModelInfo]:
        """The models you can see, filtered and sorted on the hub; all pages are followed.

        Args:
            filter: tags every result must have.
            author: the namespace (user or organization).
            gated: only gated (True) or only non-gated (False) repos.
            search: a substring of the repo id.
            pipeline_tag: the task (`text-generation`, ...).
            sort: `created_at`, `last_modified`, `downloads`, `likes` or `id` (newest first).
            limit: the most results to return.
            expand: the fields to fetch for each result (as `repo_info`'s `expand`).
            full: fetch every field, the file list included.
            token: overrides the client's token.
        """
        return self._list(
            models.ModelInfo,
            "model",
            filter=filter,
            author=author,
            gated=gated,
            search=search,
            pipeline_tag=pipeline_tag,
            sort=sort,
            limit=limit,
            expand=expand,
            full=full,
            token=token,
        )

    def list_datasets(
        self,
        *,
        filter: str | Iterable[str] | None = None,
        author: str | None = None,
        gated: bool | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        expand: list[str] | None = None,
        full: bool | None = None,
        token: str | bool | None = None,
    ) -> Iterator[models.DatasetInfo]:
        """The datasets you can see; the arguments are `list_models`'."""
        return self._list(
            models.DatasetInfo,
            "dataset",
            filter=filter,
            author=author,
            gated=gated,
            search=search,
            sort=sort,
            limit=limit,
            expand=expand,
            full=full,
            token=token,
        )

    def list_spaces(
        self,
        *,
        filter: str | Iterable[str] | None = None,
        author: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        expand: list[str] | None = None,
        full: bool | None = None,
        token: str | bool | None = None,
    ) -> Iterator[models.SpaceInfo]:
        """The Spaces you can see; the arguments are `list_models`'."""
        return self._list(
            models.SpaceInfo,
            "space",
            filter=filter,
            author=author,
            search=search,
            sort=sort,
            limit=limit,
            expand=expand,
            full=full,
            token=token,
        )

    def list_kernels(
        self,
        *,
        author: str | None = None,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        token: str | bool | None = None,
    ) -> Iterator[models.KernelInfo]:
        """The kernels you can see (huggingface_hub has no such listing); as `list_models`'."""
        return self._list(
            models.KernelInfo,
            "kernel",
            filter=None,
            author=author,
            search=search,
            sort=sort,
            limit=limit,
            expand=None,
            full=None,
            token=token,
        )

    # --- helpers ------------------------------------------------------------------------------

    def _info(
        self,
        cls: type[InfoT],
        repo_id: str,
        repo_type: str | None,
        revision: str | None,
        files_metadata: bool,
        expand: list[str] | None,
        token: str | bool | None,
    ) -> InfoT:
        path = api_repo_path(repo_type, repo_id)
        if revision is not None:
            path += f"/revision/{quote_revision(revision)}"
        data = self._get(path, token=token, blobs=files_metadata or None, expand=expand)
        return cls.from_json(data)

    def _list(
        self,
        cls: type[InfoT],
        repo_type: str,
        *,
        filter: str | Iterable[str] | None,
        sort: str | None,
        limit: int | None,
        expand: list[str] | None,
        full: bool | None,
        token: str | bool | None,
        **params: Any,
    ) -> Iterator[InfoT]:
        """One of the repo listings; `params` are query parameters (None ones are left out)."""
        if expand and full:
            raise HFValidationError("expand= and full= cannot be used together")
        if limit is not None and limit < 0:
            raise HFValidationError(f"limit must be positive, not {limit}")
        query = query_params(
            {
                **params,
                "filter": [filter] if isinstance(filter, str) else filter and list(filter),
                "sort": _SORT_NAMES.get(sort, sort) if sort else None,
                "limit": min(limit, _LIST_PAGE) if limit else None,
                "expand": expand,
                "full": full or None,
            }
        )
        path = f"api/{repo_type_of(repo_type).api_segment}"
        # Pages are only fetched as the caller iterates, and never past `limit`.
        items = islice(self.session.paginate(path, query, token=token), limit)
        return (cls.from_json(item) for item in items)
