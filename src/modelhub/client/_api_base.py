"""What every `HfApi` method shares: the configuration, the HTTP session and JSON requests.

`HfApi` (in `api.py`) is assembled from small classes that each hold one group of methods
(`_repos.py`, `_refs.py`); they all build on `ApiBase`.
"""

from __future__ import annotations

from typing import Any, Self

from modelhub.client._config import ClientConfig, load_config
from modelhub.client._http import HubSession, raise_for_status


class ApiBase:
    """A hub's endpoint and token, read once, and an HTTP session to it.

    Args:
        endpoint: the hub's URL; default `HF_ENDPOINT`, else https://huggingface.co.
        token: a token; `False` sends none; default `HF_TOKEN` or the stored login token.
        cache_dir: the Hugging Face cache used by downloads; default `HF_HUB_CACHE`.
        trust_env: read the environment at all (False: only the arguments count).
        max_retries: attempts after the first, for connection errors, 429 and 5xx.
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, path: str, *, token: str | bool | None = None, **params: Any) -> Any:
        response = self.session.request(
            "GET", self.session.url(path), params=query_params(params), token=token
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


def bool_param(value: bool) -> str:
    """A boolean query parameter as the Hub spells it."""
    return "true" if value else "false"


def query_params(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without None values, booleans spelled as the Hub expects."""
    return {
        k: (bool_param(v) if isinstance(v, bool) else v) for k, v in params.items() if v is not None
    }
