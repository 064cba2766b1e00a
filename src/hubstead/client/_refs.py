"""`HfApi` methods about a repo's git history: refs, commits, branches, tags, super-squash."""

from __future__ import annotations

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._urls import api_repo_path, quote_revision, revision_segment
from hubstead.errors import HfHubHTTPError
from hubstead.protocol import DEFAULT_BRANCH


class RefMethods(ApiBase):
    """Git history methods of `HfApi`."""

    def list_repo_refs(
        self,
        repo_id: str,
        *,
        repo_type: str | None = None,
        include_pull_requests: bool = False,
        token: str | bool | None = None,
    ) -> models.GitRefs:
        """The repo's branches, tags and conversions (and pull request refs if asked).

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
        """
        path = f"{api_repo_path(repo_type, repo_id)}/refs"
        data = self._get(path, token=token, include_prs=1 if include_pull_requests else None)
        return models.GitRefs.from_json(data)

    def list_repo_commits(
        self,
        repo_id: str,
        *,
        repo_type: str | None = None,
        token: str | bool | None = None,
        revision: str | None = None,
        formatted: bool = False,
    ) -> list[models.GitCommitInfo]:
        """The history of a revision, newest first (every page).

        Args:
            repo_id: the repo.
            repo_type: `model` (default), `dataset` or `space`.
            token: overrides the client's token.
            revision: a branch, tag or commit (default `main`).
            formatted: also fetch the titles and messages as HTML.

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such revision.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/commits/{revision_segment(revision)}"
        params = {"expand": ["formatted"]} if formatted else None
        return [
            models.GitCommitInfo.from_json(item)
            for item in self.session.paginate(path, params, token=token)
        ]

    def create_branch(
        self,
        repo_id: str,
        *,
        branch: str,
        revision: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        exist_ok: bool = False,
    ) -> None:
        """Create a branch at a revision (default: the head of `main`).

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such starting revision.
            BadRequestError: an invalid branch name.
            HfHubHTTPError: 403 without write access; 409 when it exists and not `exist_ok`.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/branch/{quote_revision(branch)}"
        payload = {"startingPoint": revision} if revision is not None else {}
        try:
            self._send("POST", path, json=payload, token=token, action=f"create branch {branch}")
        except HfHubHTTPError as error:
            if not exist_ok or error.status_code not in (403, 409):
                raise
            if error.status_code == 403 and not self._has_branch(repo_id, branch, repo_type, token):
                raise

    def delete_branch(
        self,
        repo_id: str,
        *,
        branch: str,
        token: str | bool | None = None,
        repo_type: str | None = None,
    ) -> None:
        """Delete a branch (not the default one).

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such branch.
            HfHubHTTPError: 403 without write access or for the default branch.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/branch/{quote_revision(branch)}"
        self._send("DELETE", path, token=token, action=f"delete branch {branch}")

    def create_tag(
        self,
        repo_id: str,
        *,
        tag: str,
        tag_message: str | None = None,
        revision: str | None = None,
        token: str | bool | None = None,
        repo_type: str | None = None,
        exist_ok: bool = False,
    ) -> None:
        """Tag a revision (default: the head of `main`); with a message, an annotated tag.

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such revision.
            HfHubHTTPError: 403 without write access; 409 when it exists and not `exist_ok`.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/tag/{revision_segment(revision)}"
        payload = {"tag": tag} | ({"message": tag_message} if tag_message is not None else {})
        try:
            self._send("POST", path, json=payload, token=token, action=f"create tag {tag}")
        except HfHubHTTPError as error:
            if not (exist_ok and error.status_code == 409):
                raise

    def delete_tag(
        self,
        repo_id: str,
        *,
        tag: str,
        token: str | bool | None = None,
        repo_type: str | None = None,
    ) -> None:
        """Delete a tag.

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such tag.
        """
        path = f"{api_repo_path(repo_type, repo_id)}/tag/{quote_revision(tag)}"
        self._send("DELETE", path, token=token, action=f"delete tag {tag}")

    def super_squash_history(
        self,
        repo_id: str,
        *,
        branch: str | None = None,
        commit_message: str | None = None,
        repo_type: str | None = None,
        token: str | bool | None = None,
    ) -> None:
        """Replace a branch's history by one commit with its current files (not reversible).

        Raises:
            RepositoryNotFoundError: no such repo.
            RevisionNotFoundError: no such branch.
            HfHubHTTPError: 403 without write access.
        """
        branch = branch or DEFAULT_BRANCH
        path = f"{api_repo_path(repo_type, repo_id)}/super-squash/{quote_revision(branch)}"
        message = commit_message or f"Super-squash branch '{branch}' using hubstead"
        self._send("POST", path, json={"message": message}, token=token, action="super-squash")

    def _has_branch(
        self, repo_id: str, branch: str, repo_type: str | None, token: str | bool | None
    ) -> bool:
        try:
            refs = self.list_repo_refs(repo_id, repo_type=repo_type, token=token)
        except HfHubHTTPError:
            return False
        return any(ref.name == branch for ref in refs.branches)
