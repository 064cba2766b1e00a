"""`HfApi` methods about likes: like, unlike, liked repos and likers.

`like` is a hubstead extension: the official client cannot like (the web hub does).
"""

from __future__ import annotations

from collections.abc import Iterator

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._urls import api_repo_path, validate_repo_id
from hubstead.errors import HFValidationError


class LikeMethods(ApiBase):
    """Like methods of `HfApi`."""

    def like(
        self, repo_id: str, *, token: bool | str | None = None, repo_type: str | None = None
    ) -> None:
        """Like a repo (liking it again changes nothing).

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
            HfHubHTTPError: no token (401), or a read token (403).
        """
        self._send("POST", f"{api_repo_path(repo_type, repo_id)}/like", token=token)

    def unlike(
        self, repo_id: str, *, token: bool | str | None = None, repo_type: str | None = None
    ) -> None:
        """Take back a like (a repo not liked stays so).

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
            HfHubHTTPError: no token (401), or a read token (403).
        """
        self._send("DELETE", f"{api_repo_path(repo_type, repo_id)}/like", token=token)

    def list_liked_repos(
        self, user: str | None = None, *, token: bool | str | None = None
    ) -> models.UserLikes:
        """The repos `user` (default: you) likes that you can see, by type.

        Raises:
            HFValidationError: no `user`, and no token to tell who you are.
            HfHubHTTPError: no such user (404).
        """
        if user is None:
            if self.session.token_for(token) is None:
                raise HFValidationError(
                    "Cannot list liked repos: pass a user, or sign in (a token) to list yours"
                )
            user = self._get("api/whoami-v2", token=token)["name"]
        assert user is not None
        likes = list(
            self.session.paginate(f"api/users/{validate_repo_id(user)}/likes", token=token)
        )
        return models.UserLikes.from_json(user, likes)

    def list_repo_likers(
        self, repo_id: str, *, repo_type: str | None = None, token: bool | str | None = None
    ) -> Iterator[models.User]:
        """The users who like a repo, most recent like first, fetched page by page.

        Raises:
            RepositoryNotFoundError: no such repo (or not visible to you).
        """
        path = f"{api_repo_path(repo_type, repo_id)}/likers"
        for item in self.session.paginate(path, token=token):
            yield models.User.from_json(item)
