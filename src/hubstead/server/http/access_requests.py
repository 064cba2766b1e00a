"""Access requests to gated repos, for models, datasets and Spaces.

Serves `POST /{prefix}{repo}/ask-access` (the Hub's gate form: a signed-in user asks, with the
form's fields, url-encoded, kept as the request's `fields`), and, for the repo's managers,
`GET /api/{T}/{repo}/user-access-request/{pending|accepted|rejected}` (Link-paginated),
`POST …/user-access-request/handle` (`{"user" | "requestId", "status", "rejectionReason"?}`)
and `POST …/user-access-request/grant` (`{"user"}`, answered with a JSON body: the client
reads one).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.access_requests import AccessRequestRecord, AccessStatus
from hubstead.server.http import payloads
from hubstead.server.http.context import (
    body_string,
    call,
    decode_cursor,
    identity,
    int_param,
    next_link,
    optional_body_string,
    param,
    prefixed_repo_type,
    read_body,
    read_json_object,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO, URL_PREFIXES
from hubstead.server.services.access_requests import PAGE_SIZE, request_id

_REQUESTS = API_REPO + "/user-access-request"
_MAX_FORM_BYTES = 256 * 1024
_FORM_TYPE = "application/x-www-form-urlencoded"


def access_request(record: AccessRequestRecord) -> dict[str, Any]:
    """A request as the Hub lists it; no email for access granted without a request."""
    user: dict[str, Any] = {"user": record.user_name, "fullname": record.user_fullname}
    if record.user_email is not None and not record.granted:
        user["email"] = record.user_email
    payload: dict[str, Any] = {
        "user": user,
        "requestId": request_id(record),
        "status": record.status.value,
        "timestamp": payloads.date(record.created_at),
        "fields": record.fields,
    }
    if record.rejection_reason is not None:
        payload["rejectionReason"] = record.rejection_reason
    return payload


async def ask_access(request: Request) -> Response:
    """Ask for access to a gated repo with the gate form's fields."""
    fields = await _form_fields(request)
    caller = await identity(request)
    record = await call(
        services(request).access_requests.ask,
        caller,
        prefixed_repo_type(request),
        repo_id(request),
        fields,
    )
    return JSONResponse(access_request(record))


async def list_access_requests(request: Request) -> Response:
    """A page of the repo's requests in one status."""
    status = _status(param(request, "status"))
    limit = int_param(request, "limit", PAGE_SIZE, maximum=PAGE_SIZE)
    offset = decode_cursor(request)
    caller = await identity(request)
    page = await call(
        services(request).access_requests.list,
        caller,
        repo_type(request),
        repo_id(request),
        status,
        offset=offset,
        limit=limit,
    )
    headers = next_link(request, offset + limit) if page.more else {}
    return JSONResponse([access_request(record) for record in page], headers=headers)


async def handle_access_request(request: Request) -> Response:
    """Accept, reject or cancel a request."""
    body = await read_json_object(request)
    status = _status(body_string(body, "status"))
    user = optional_body_string(body, "user")
    named = optional_body_string(body, "requestId")
    reason = optional_body_string(body, "rejectionReason")
    caller = await identity(request)
    record = await call(
        services(request).access_requests.handle,
        caller,
        repo_type(request),
        repo_id(request),
        status,
        user=user,
        request=named,
        rejection_reason=reason,
    )
    return JSONResponse(access_request(record))


async def grant_access(request: Request) -> Response:
    """Give a user access."""
    body = await read_json_object(request)
    user = body_string(body, "user")
    caller = await identity(request)
    record = await call(
        services(request).access_requests.grant,
        caller,
        repo_type(request),
        repo_id(request),
        user,
    )
    return JSONResponse(access_request(record))


async def _form_fields(request: Request) -> dict[str, str]:
    """The url-encoded form body as a dict; no name may repeat."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    body = await read_body(request, _MAX_FORM_BYTES)
    if body and media_type != _FORM_TYPE:
        raise errors.InvalidRequestError(f"The access request form must be sent as {_FORM_TYPE}")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise errors.InvalidRequestError("The form body is not valid UTF-8 url-encoding") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise errors.InvalidRequestError("A form field is given more than once")
    return fields


def _status(value: str) -> AccessStatus:
    try:
        return AccessStatus(value)
    except ValueError:
        raise errors.InvalidRequestError(
            f"Invalid status {value[:40]!r}: pending, accepted or rejected"
        ) from None


routes = [
    Route(_REQUESTS + "/handle", handle_access_request, methods=["POST"]),
    Route(_REQUESTS + "/grant", grant_access, methods=["POST"]),
    Route(_REQUESTS + "/{status}", list_access_requests, methods=["GET"]),
    *(
        Route(prefix + "/{namespace}/{name}/ask-access", ask_access, methods=["POST"])
        for prefix in URL_PREFIXES
    ),
]
