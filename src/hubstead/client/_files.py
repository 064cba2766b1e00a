"""`HfApi` methods about the files of a repo: tree listings, paths info, existence."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hubstead.client import models
from hubstead.client._api_base import ApiBase, bool_param
from hubstead.client._urls import api_repo_path, quote_revision, resolve_url, revision_segment
from hubstead.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from hubstead.protocol import DEFAULT_BRANCH

_PATHS_INFO_BATCH = 500


class FileMethods(ApiBase):
    """File methods of `HfApi`."""

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

        Args:
            repo_id: the repo.
            path_in_repo: a folder (default: the root).
            recursive: list the whole subtree, not only the folder's own entries.
            expand: also fetch each entry's last commit.
            revision: a branch, tag or commit (default `main`).
            repo_type: `model` (default), `dataset` or `space`.
            token: overrides the client's token.

        Raises:
            RepositoryNotFoundError, RevisionNotFoundError: as for `repo_info`.
            RemoteEntryNotFoundError: `path_in_repo` is not a folder.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/tree/{revision_segment(revision)}"
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
        """The path of every file at a revision.

        Raises:
            RepositoryNotFoundError, RevisionNotFoundError: as for `repo_info`.
        """
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
        """Entries for the given paths that exist (missing ones are left out).

        Raises:
            RepositoryNotFoundError, RevisionNotFoundError: as for `repo_info`.
        """
        wanted = [paths] if isinstance(paths, str) else list(paths)
        path = f"{api_repo_path(repo_type, repo_id)}/paths-info/{revision_segment(revision)}"
        found: list[models.RepoFile | models.RepoFolder] = []
        for start in range(0, len(wanted), _PATHS_INFO_BATCH):
            batch = wanted[start : start + _PATHS_INFO_BATCH]
            form = {"paths": batch, "expand": bool_param(expand)}
            items = self._send("POST", path, data=form, token=token, retry=True)
            found.extend(models.parse_tree_entry(item) for item in items)
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
        try:
            self.session.send(
                "HEAD", url, action=f"check {filename}", token=token, follow_redirects=False
            )
        except GatedRepoError:
            raise
        except (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError):
            return False
        return True
