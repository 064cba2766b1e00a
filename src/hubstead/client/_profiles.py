"""`HfApi` methods about people: overviews, members, followers, follows, namespace storage.

`follow`, `unfollow` and `update_organization_settings` are hubstead's own (huggingface_hub has
no method for them);
`list_user_repos` lists the storage each repo of a namespace uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.errors import HFValidationError
from hubstead.protocol import name_problem


def _account_path(kind: str, name: str) -> str:
    """`api/users/{name}` or `api/organizations/{name}`.

    Raises:
        HFValidationError: not a valid account name (nothing is sent).
    """
    problem = name_problem(name) if isinstance(name, str) else "is not a string"
    if problem is not None:
        raise HFValidationError(f"Invalid account name {name!r}: {problem}")
    return f"api/{kind}/{quote(name, safe='')}"


class ProfileMethods(ApiBase):
    """People methods of `HfApi`."""

    def get_user_overview(self, username: str, token: bool | str | None = None) -> models.User:
        """A user's profile: full name, avatar, counts of what you may see, organizations.

        Raises:
            HfHubHTTPError: 404 if there is no such user.
        """
        return models.User.from_json(
            self._get(f"{_account_path('users', username)}/overview", token=token)
        )

    def get_organization_overview(
        self, organization: str, token: bool | str | None = None
    ) -> models.Organization:
        """An organization's profile: full name, avatar, members and repos you may see.

        Raises:
            HfHubHTTPError: 404 if there is no such organization.
        """
        return models.Organization.from_json(
            self._get(f"{_account_path('organizations', organization)}/overview", token=token)
        )

    def list_organization_members(
        self, organization: str, token: bool | str | None = None
    ) -> Iterator[models.User]:
        """An organization's members, by name, fetched page by page."""
        return self._people(f"{_account_path('organizations', organization)}/members", token)

    def list_organization_followers(
        self, organization: str, token: bool | str | None = None
    ) -> Iterator[models.User]:
        """The users following an organization, by name."""
        return self._people(f"{_account_path('organizations', organization)}/followers", token)

    def list_user_followers(
        self, username: str, token: bool | str | None = None
    ) -> Iterator[models.User]:
        """The users following a user, by name."""
        return self._people(f"{_account_path('users', username)}/followers", token)

    def list_user_following(
        self, username: str, token: bool | str | None = None
    ) -> Iterator[models.User]:
        """The users (and organizations, `user_type` `org`) a user follows, by name."""
        return self._people(f"{_account_path('users', username)}/following", token)

    def list_user_repos(
        self, namespace: str | None = None, *, token: bool | str | None = None
    ) -> Iterator[models.RepoStorageInfo]:
        """Every repo of your namespace (or of the organization `namespace`) with its storage.

        Raises:
            HfHubHTTPError: 401 without a token, 403 if you are not a member of `namespace`.
        """
        path = "api/settings/repositories"
        if namespace is not None:
            path = f"{_account_path('organizations', namespace)}/settings/repositories"
        for item in self.session.paginate(path, token=token):
            yield models.RepoStorageInfo.from_json(item)

    def follow(
        self, name: str, *, organization: bool = False, token: bool | str | None = None
    ) -> bool:
        """Follow a user (or an organization); False if you followed it already.

        Raises:
            HfHubHTTPError: 404 for no such account, 400 for yourself, 401/403 without a
                write token.
        """
        return self._follow("POST", name, organization, token)

    def unfollow(
        self, name: str, *, organization: bool = False, token: bool | str | None = None
    ) -> bool:
        """Stop following a user (or an organization); False if you did not follow it."""
        return self._follow("DELETE", name, organization, token)

    def update_organization_settings(
        self, organization: str, *, private_by_default: bool, token: bool | str | None = None
    ) -> None:
        """Whether repos created in `organization` without a visibility are private.

        Raises:
            HfHubHTTPError: 403 unless you are an admin of the organization, 404 for no such
                organization.
        """
        path = f"{_account_path('organizations', organization)}/settings"
        self._send("PUT", path, json={"privateByDefault": private_by_default}, token=token)

    def _follow(self, method: str, name: str, organization: bool, token: bool | str | None) -> bool:
        kind = "organizations" if organization else "users"
        answer = self._send(method, f"{_account_path(kind, name)}/follow", token=token)
        return bool(answer["changed"])

    def _people(self, path: str, token: bool | str | None) -> Iterator[models.User]:
        for item in self.session.paginate(path, token=token):
            yield models.User.from_json(item)
