"""What every `HfApi` method shares: the configuration, the HTTP session and JSON requests.

`HfApi` (in `api.py`) is assembled from classes that each hold one group of methods: repos
(`_repos.py`), git history (`_refs.py`), files (`_files.py`), uploads (`uploads.py`),
downloads (`downloads.py`) and discussions (`_discussions.py`). They all build on `ApiBase`.
"""

from __future__ import annotations

import os
from typing import Any, Self

from hubstead.client._config import ClientConfig, load_config
from hubstead.client._http import HubSession


class ApiBase:
    """A hub's endpoint and token, read once, and an HTTP session to it.

    The arguments are `HfApi`'s (see there).
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        trust_env: bool = True,
        max_retries: int | None = None,
    ) -> None:
        self.config: ClientConfig = load_config(
            endpoint=endpoint,
            token=token,
            cache_dir=cache_dir,
            max_retries=max_retries,
            environ=None if trust_env else {},
        )
        self.endpoint = self.config.endpoint
        self.token = self.config.token
        self.session = HubSession(
            self.endpoint,
            self.token,
            offline=self.config.offline,
            max_retries=self.config.max_retries,
            trust_env=trust_env,
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, path: str, *, token: str | bool | None = None, **params: Any) -> Any:
        """GET `path` on the hub (retried), with the non-None `params`; the JSON answer."""
        response = self.session.send(
            "GET", self.session.url(path), params=query_params(params), token=token
        )
        return response.json()

    def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | bool | None = None,
        action: str | None = None,
        retry: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Send a request to `path` on the hub (not retried unless asked); the JSON answer.

        Other keyword arguments (`json`, `data`, ...) go to httpx.
        """
        response = self.session.send(
            method, self.session.url(path), token=token, action=action, retry=retry, **kwargs
        )
        return response.json() if response.content else None


def bool_param(value: bool) -> str:
    """A boolean query parameter as the Hub spells it."""
    return "true" if value else "false"


def query_params(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without None values, booleans spelled as the Hub expects."""
    return {
        k: (bool_param(v) if isinstance(v, bool) else v) for k, v in params.items() if v is not None
    }
