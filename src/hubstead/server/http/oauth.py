"""The OAuth device flow's machine side (RFC 8628), as `hf auth login` calls it.

Serves: `POST /oauth/device` (form `client_id`: a device code, a user code and where to enter
it) and `POST /oauth/token` (form `grant_type` = the device-code grant, `device_code`,
`client_id`: a token once a person approved, else an RFC 8628 §3.5 error). The page where a
person enters the code and decides is the web hub's (`web/pages/devices.py`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server.http.context import base_url, call, read_form, services

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
VERIFICATION_PATH = "/oauth/device"
_NO_STORE = {"Cache-Control": "no-store"}


def _oauth_error(error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=400, headers=_NO_STORE
    )


async def post_device(request: Request) -> Response:
    """Start a device login."""
    form = await read_form(request)
    started = await call(services(request).device_logins.start, form.get("client_id", ""))
    verification_uri = f"{base_url(request)}{VERIFICATION_PATH}"
    return JSONResponse(
        {
            "device_code": started.device_code,
            "user_code": started.user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={started.user_code}",
            "expires_in": started.expires_in,
            "interval": started.interval,
        },
        headers=_NO_STORE,
    )


async def post_token(request: Request) -> Response:
    """A device's poll: its token once approved, else why not (yet)."""
    form = await read_form(request)
    if form.get("grant_type") != DEVICE_CODE_GRANT:
        return _oauth_error("unsupported_grant_type", "Only the device code grant is supported")
    grant = await call(
        services(request).device_logins.poll,
        form.get("device_code", ""),
        form.get("client_id", ""),
    )
    if grant.token is None:
        assert grant.error is not None
        return _oauth_error(grant.error.value, "The device login is not approved")
    return JSONResponse(
        {"access_token": grant.token, "token_type": "bearer", "scope": "write"},
        headers=_NO_STORE,
    )


routes = [
    Route("/oauth/device", post_device, methods=["POST"]),
    Route("/oauth/token", post_token, methods=["POST"]),
]
