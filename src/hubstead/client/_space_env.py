"""`HfApi` methods about a Space's secrets and variables, with `huggingface_hub`'s names.

Only callers who may write to the Space can list or change them; a secret's value is never
returned by the hub.
"""

from __future__ import annotations

from typing import Any

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._urls import api_repo_path


class SpaceEnvMethods(ApiBase):
    """Space secret and variable methods of `HfApi`."""

    def get_space_secrets(
        self, repo_id: str, *, token: bool | str | None = None
    ) -> dict[str, models.SpaceSecret]:
        """The Space's secrets by key (no values).

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        answer = self._get(f"{api_repo_path('space', repo_id)}/secrets", token=token)
        return {k: models.SpaceSecret.from_json(k, v) for k, v in answer.items()}

    def add_space_secret(
        self,
        repo_id: str,
        key: str,
        value: str,
        *,
        description: str | None = None,
        token: bool | str | None = None,
    ) -> None:
        """Add a secret, or replace the one with that key.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            BadRequestError: a bad or reserved key, a value over 64 KiB, the key taken by a
                variable, or the Space full.
            HfHubHTTPError: no write access (403).
        """
        self._send(
            "POST",
            f"{api_repo_path('space', repo_id)}/secrets",
            token=token,
            json=_entry(key, value, description),
        )

    def delete_space_secret(
        self, repo_id: str, key: str, *, token: bool | str | None = None
    ) -> None:
        """Remove a secret (a key the Space does not have stays absent).

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        self._send(
            "DELETE", f"{api_repo_path('space', repo_id)}/secrets", token=token, json={"key": key}
        )

    def get_space_variables(
        self, repo_id: str, *, token: bool | str | None = None
    ) -> dict[str, models.SpaceVariable]:
        """The Space's variables by key.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        return _variables(self._get(f"{api_repo_path('space', repo_id)}/variables", token=token))

    def add_space_variable(
        self,
        repo_id: str,
        key: str,
        value: str,
        *,
        description: str | None = None,
        token: bool | str | None = None,
    ) -> dict[str, models.SpaceVariable]:
        """Add a variable, or replace the one with that key; the variables after the change.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            BadRequestError: a bad or reserved key, a value over 64 KiB, the key taken by a
                secret, or the Space full.
            HfHubHTTPError: no write access (403).
        """
        answer = self._send(
            "POST",
            f"{api_repo_path('space', repo_id)}/variables",
            token=token,
            json=_entry(key, value, description),
        )
        return _variables(answer)

    def delete_space_variable(
        self, repo_id: str, key: str, *, token: bool | str | None = None
    ) -> dict[str, models.SpaceVariable]:
        """Remove a variable; the variables after the change.

        Raises:
            RepositoryNotFoundError: no such Space (or not visible to you).
            HfHubHTTPError: no write access (403).
        """
        answer = self._send(
            "DELETE", f"{api_repo_path('space', repo_id)}/variables", token=token, json={"key": key}
        )
        return _variables(answer)


def _entry(key: str, value: str, description: str | None) -> dict[str, str]:
    body = {"key": key, "value": value}
    if description is not None:
        body["description"] = description
    return body


def _variables(answer: dict[str, Any]) -> dict[str, models.SpaceVariable]:
    return {k: models.SpaceVariable.from_json(k, v) for k, v in answer.items()}
