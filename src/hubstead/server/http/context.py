"""What every route needs from a request: services, identity, parameters, bodies, URLs, pages."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request

from hubstead.protocol import RepoType, load_json, parse_decimal
from hubstead.server import errors
from hubstead.server.services.auth import Identity
from hubstead.server.services.registry import Services

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_LINK_PATH_SAFE = "!$&'()*+=:@"
_SPECIAL_REF_HEAD = re.compile(r"^(pr/\d+|convert/[\w\-.]+)(?:/(.*))?$", re.DOTALL)


def services(request: HTTPConnection) -> Services:
    """The services of the app serving this request (or websocket)."""
    hub: Services = request.app.state.services
    return hub


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking service code in the worker thread pool."""
    return await run_in_threadpool(fn, *args, **kwargs)


def bearer_token(request: HTTPConnection) -> str | None:
    """The token from `Authorization: Bearer …`, or the password of Basic auth (git)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise errors.AuthenticationError(
                "Invalid credentials in Authorization header"
            ) from None
        return decoded.partition(":")[2] or None
    return None


async def identity(request: Request) -> Identity:
    """Who sent the request (anonymous without a token).

    Raises:
        AuthenticationError: a token was sent that this hub does not know.
    """
    secret = bearer_token(request)
    auth = services(request).auth
    if secret is None:
        # Anonymous needs no lookup: no trip through the worker threads (one less per request).
        return auth.authenticate(None)
    return await call(auth.authenticate, secret)


def param(request: HTTPConnection, name: str) -> str:
    """A path parameter, percent-decoded (see `middleware.routing_path`)."""
    return unquote(str(request.path_params[name]))


def repo_type(request: Request) -> RepoType:
    """The repo type from the `/api/{models|datasets|spaces}` segment (see `paths.py`)."""
    found = request.path_params["type_segment"]
    assert isinstance(found, RepoType)
    return found


def body_repo_type(body: dict[str, Any]) -> RepoType:
    """The repo type a JSON body names in `type` (`model` when absent).

    Raises:
        InvalidRequestError: not a repo type.
    """
    value = body.get("type") or "model"
    try:
        return RepoType(value)
    except ValueError:
        raise errors.InvalidRequestError(f"Invalid repo type {str(value)[:40]!r}") from None


def repo_id(request: Request) -> str:
    """`namespace/name` from the path."""
    return f"{param(request, 'namespace')}/{param(request, 'name')}"


def revision_and_path(request: Request) -> tuple[str, str]:
    """The revision and file path, accepting unencoded `refs/pr/N` and `refs/convert/X`."""
    revision = param(request, "revision")
    path = param(request, "path") if "path" in request.path_params else ""
    if revision == "refs":
        match = _SPECIAL_REF_HEAD.match(path)
        if match is not None:
            return f"refs/{match.group(1)}", match.group(2) or ""
    return revision, path


def flag(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter in any of the spellings clients send.

    Raises:
        InvalidRequestError: a value that is not a boolean.
    """
    value = request.query_params.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise errors.InvalidRequestError(f"Query parameter {name!r} must be true or false")


def query_list(request: Request, name: str) -> list[str]:
    """A repeated query parameter, also accepted in its `name[]` form."""
    return [v for key in (name, f"{name}[]") for v in request.query_params.getlist(key) if v]


def int_param(request: Request, name: str, default: int, *, maximum: int) -> int:
    """A positive integer query parameter, capped at `maximum`.

    Raises:
        InvalidRequestError: not a positive integer.
    """
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    # ASCII digits only (`isdigit` alone takes "²"), and never `int` of thousands of them.
    digits = value.lstrip("0")
    if not value.isascii() or not value.isdigit() or not digits:
        raise errors.InvalidRequestError(f"Query parameter {name!r} must be a positive integer")
    if len(digits) > len(str(maximum)):
        return maximum
    return min(int(digits), maximum)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes.

    Raises:
        PayloadTooLargeError: the body is larger than `limit`.
    """
    declared = parse_decimal(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise errors.PayloadTooLargeError(f"Request body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLargeError(f"Request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(body: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """A JSON object from a request body (`{}` for an empty body when allowed).

    Raises:
        InvalidRequestError: an empty body, malformed JSON, or JSON that is not an object.
    """
    if not body.strip():
        if allow_empty:
            return {}
        raise errors.InvalidRequestError("The request body must be a JSON object")
    try:
        value = load_json(body)
    except ValueError as exc:
        raise errors.InvalidRequestError(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise errors.InvalidRequestError("The request body must be a JSON object")
    return value


async def read_json_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The JSON body, which must be an object, read up to `max_json_bytes`.

    Raises:
        InvalidRequestError: not a JSON object.
        PayloadTooLargeError: over `max_json_bytes`.
    """
    body = await read_body(request, services(request).settings.max_json_bytes)
    return parse_json_object(body, allow_empty=allow_empty)


FORM_BYTES = 64 * 1024
"""The default bound on a form's body."""


async def read_form(request: Request, limit: int = FORM_BYTES) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body (the first value of each field).

    Raises:
        InvalidRequestError: another content type, or not UTF-8.
        PayloadTooLargeError: over `limit` bytes.
    """
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise errors.InvalidRequestError("Expected a form (application/x-www-form-urlencoded)")
    body = await read_body(request, limit)
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise errors.InvalidRequestError("The form is not valid UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


def body_string(body: dict[str, Any], name: str) -> str:
    """A string member of a JSON body.

    Raises:
        InvalidRequestError: absent, or not a string.
    """
    value = body.get(name)
    if not isinstance(value, str):
        raise errors.InvalidRequestError(f"{name!r} must be a string")
    return value


def optional_body_string(body: dict[str, Any], name: str) -> str | None:
    """A string member of a JSON body, or None when absent or null.

    Raises:
        InvalidRequestError: neither a string nor null.
    """
    return None if body.get(name) is None else body_string(body, name)


def base_url(request: Request) -> str:
    """The URL clients reach this hub at: `--public-url`, else what the request used."""
    configured = services(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def avatar_url(request: Request, name: str) -> str:
    """The URL of an account's generated avatar (`GET /avatars/{name}.svg`)."""
    return f"{base_url(request)}/avatars/{quote(name)}.svg"


def repo_url(request: Request, type: RepoType | str, repo_id: str) -> str:
    """`{endpoint}/{prefix}{repo_id}`, as `RepoUrl` in the client parses it."""
    prefix = RepoType(type).url_prefix
    return f"{base_url(request)}/{prefix}{repo_id}"


def decode_cursor(request: Request) -> int:
    """The offset a `cursor` query parameter stands for (0 without one).

    Raises:
        InvalidRequestError: a cursor this hub did not issue.
    """
    cursor = request.query_params.get("cursor")
    if not cursor:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidRequestError("Invalid pagination cursor") from None
    # Offsets reach SQL as 64-bit integers; anything larger was not issued here.
    if not 0 <= offset < 2**63:
        raise errors.InvalidRequestError("Invalid pagination cursor")
    return offset


def next_link(request: Request, offset: int) -> dict[str, str]:
    """The `Link: <…>; rel="next"` header for the page starting at `offset`.

    The path is the one the client sent, re-encoded so that no character of it (`;`, `,`,
    `<`, `>`, spaces) can break the header's syntax, and `%2F` stays inside its segment.
    """
    cursor = base64.urlsafe_b64encode(str(offset).encode()).decode()
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    segments = raw.split(b"?", 1)[0].split(b"/")
    path = "/".join(quote(unquote_to_bytes(s), safe=_LINK_PATH_SAFE) for s in segments)
    url = request.url.replace(path=path).include_query_params(cursor=cursor)
    configured = services(request).settings.public_url
    if configured:
        url = url.replace(
            scheme=configured.split("://")[0], netloc=configured.split("://")[1].split("/")[0]
        )
    return {"Link": f'<{url}>; rel="next"'}


def prefixed_repo_type(request: Request) -> RepoType:
    """The repo type a non-API URL's prefix names (`datasets/`, ...); model without one."""
    return RepoType.from_url_prefix(request.url.path.split("/", 2)[1]) or RepoType.MODEL
