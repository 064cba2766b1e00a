"""The person's side of the OAuth device flow (`http/oauth.py` is the device's).

Serves: `GET /oauth/device` (enter the code `hf auth login` printed, or confirm the one in
`?user_code=`; signing in first) and `POST /oauth/device/decide` (approve: the device gets a
write token of the signed-in user; or deny).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http.context import call, services
from hubstead.server.web import csrf
from hubstead.server.web.render import render
from hubstead.server.web.session import signed_in

_MAX_CODE = 32


async def get_device(request: Request) -> Response:
    """Enter or confirm a device code."""
    await signed_in(request)
    code = request.query_params.get("user_code", "")[:_MAX_CODE]
    if not code:
        return await render(request, "devices/enter.html", error=None)
    try:
        login = await call(services(request).device_logins.pending, code)
    except errors.NotFoundError as exc:
        return await render(request, "devices/enter.html", 404, error=exc.message)
    return await render(request, "devices/confirm.html", login=login)


async def post_decide(request: Request) -> Response:
    """Approve or deny a device."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    approve = form.get("decision") == "approve"
    code = form.get("user_code", "")[:_MAX_CODE]
    login = await call(
        services(request).device_logins.decide, caller.identity, code, approve=approve
    )
    return await render(request, "devices/done.html", login=login, approved=approve)


routes = [
    Route("/oauth/device", get_device, methods=["GET"]),
    Route("/oauth/device/decide", post_decide, methods=["POST"]),
]
