"""`HfApi`: the Hub API with `huggingface_hub`'s method names and signatures.

Each method is a thin call: build the request, send it through `HubSession` (retries, errors),
parse the answer into `models` dataclasses. Downloads and uploads live in their own modules and
are exposed here as methods too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from modelhub.client import models
from modelhub.client._config import ClientConfig, load_config
from modelhub.client._http import HubSession, raise_for_status
from modelhub.client._urls import api_repo_path, quote_revision, repo_type_of
from modelhub.errors import LocalTokenNotFoundError

_PATHS_INFO_BATCH = 500


class HfApi:
    """A client for one hub (modelhub or huggingface.co).

    Args:
        endpoint: the hub's URL; default `HF_ENDPOINT`, else https://huggingface.co.
        token: a token; `False` sends none; default `HF_TOKEN` or the stored login token.
        cache_dir: the Hugging Face cache used by downloads; default `HF_HUB_CACHE`.
        trust_env: read the environment at all (False: only the arguments count).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        *,
        cache_dir: str | None = None,
        trust_env: bool = True,
        max_retries: int = 5,
    ) -> None:
        self.config: ClientConfig = load_config(
            endpoint=endpoint, token=token, cache_dir=cache_dir, environ=None if trust_env else {}
        )
        self.endpoint = self.config.endpoint
        self.token = self.config.token
        self.session = HubSession(
            self.endpoint, self.token, offline=self.config.offline, max_retries=max_retries
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()

    def __enter__(self) -> HfApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------------------

    def _get(self, path: str, *, token: str | bool | None = None, **params: Any) -> Any:
        response = self.session.request(
            "GET", self.session.url(path), params=_params(params), token=token
        )
        raise_for_status(response)
        return response.json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | bool | None = None,
        action: str | None = None,
        retry: bool = False,
    ) -> Any:
        response = self.session.request(
            method, self.session.url(path), json=json, token=token, retry=retry
        )
        raise_for_status(response, action)
        return response.json() if response.content else None

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

    # --- repo info ----------------------------------------------------------------------------

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
        """Info about a repo, at a revision if given.

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
            RevisionNotFoundError: no such revision.
        """
        path = api_repo_path(repo_type, repo_id)
        if revision is not None:
            path += f"/revision/{quote_revision(revision)}"
        data = self._get(path, token=token, blobs=files_metadata or None, expand=expand)
        return models.INFO_CLASSES[repo_type_of(repo_type).value].from_json(data)

    def model_info(self, repo_id: str, **kwargs: Any) -> models.RepoInfo:
        """`repo_info` for a model."""
        return self.repo_info(repo_id, repo_type="model", **kwargs)

    def dataset_info(self, repo_id: str, **kwargs: Any) -> models.RepoInfo:
        """`repo_info` for a dataset."""
        return self.repo_info(repo_id, repo_type="dataset", **kwargs)

    def space_info(self, repo_id: str, **kwargs: Any) -> models.RepoInfo:
        """`repo_info` for a Space."""
        return self.repo_info(repo_id, repo_type="space", **kwargs)

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
        params = {"recursive": _bool(recursive), "expand": _bool(expand)}
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
                data={"paths": batch, "expand": _bool(expand)},
                token=token,
            )
            raise_for_status(response)
            found.extend(models.parse_tree_entry(item) for item in response.json())
        return found


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without None values, booleans spelled as the Hub expects."""
    return {k: (_bool(v) if isinstance(v, bool) else v) for k, v in params.items() if v is not None}
