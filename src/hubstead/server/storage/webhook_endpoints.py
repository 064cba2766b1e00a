"""POSTing webhook deliveries over HTTP (httpx): the one place webhooks touch the network.

The caller gives the address to connect to (already checked) and the URL's host for the `Host`
header and TLS; no redirect is followed and no response body is read.
"""

from __future__ import annotations

import httpx

from hubstead.server.storage.errors import StorageError


class EndpointUnreachableError(StorageError):
    """The endpoint did not answer: no connection, a timeout, or a broken response."""


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    sni_hostname: str | None,
    timeout_seconds: float,
) -> int:
    """POST `body` to `url` and return the answer's status code.

    Raises:
        EndpointUnreachableError: no answer (the message says why).
    """
    extensions = {"sni_hostname": sni_hostname} if sni_hostname else {}
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(timeout_seconds), follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=headers, extensions=extensions) as r,
        ):
            return r.status_code
    except httpx.HTTPError as exc:
        raise EndpointUnreachableError(f"{type(exc).__name__}: {exc or 'no answer'}") from exc
