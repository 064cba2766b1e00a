"""Xet: CAS token routes on the Hub API, and the CAS itself.

Serves, on the Hub API, `GET /api/{type}s/{ns}/{name}/xet-{read|write}-token/{rev}` (`rev` may
be the literal `None`, `?create_pr=1` may follow), answering the token twice: in the JSON body
hf_xet reads (`accessToken`, `exp`, `casUrl`) and in the `X-Xet-*` headers huggingface_hub
reads.

Serves, under `/cas` (the `casUrl` handed out, unless `xet_cas_url` points clients at a CAS
running elsewhere on the same data), with the CAS token as bearer:
`POST /v1/xorbs/default/{hash}`, `POST /v1/shards`, `GET /v1/chunks/{prefix}/{hash}` (global
dedup, `default` or `default-merkledb`: a shard, or 404), and `POST /v1/telemetry` (accepted
and dropped). Everything else under `/cas` is a 404, which is how the client learns to fall
back: from `/v2/shards` to `/v1/shards`, from `/v1/xorb-grants` to `/v1/xorbs`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import HEADER_XET_ACCESS_TOKEN, HEADER_XET_CAS_URL, HEADER_XET_EXPIRATION
from hubstead.server import errors
from hubstead.server.http.context import (
    base_url,
    call,
    identity,
    param,
    read_body,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO
from hubstead.server.services.xet.tokens import Scope
from hubstead.xet.shard import MAX_SHARD_SIZE
from hubstead.xet.xorb import MAX_XORB_SIZE

CAS_PREFIX = "/cas"
_DEDUP_PREFIXES = frozenset({"default", "default-merkledb"})
_MAX_TELEMETRY = 1024 * 1024


def cas_url(request: Request) -> str:
    """Where clients reach the CAS."""
    return services(request).settings.xet_cas_url or base_url(request) + CAS_PREFIX


async def get_read_token(request: Request) -> Response:
    """A CAS token to read the repo's files."""
    return await _token(request, Scope.READ)


async def get_write_token(request: Request) -> Response:
    """A CAS token to upload files to the repo."""
    return await _token(request, Scope.WRITE)


async def _token(request: Request, scope: Scope) -> Response:
    caller = await identity(request)
    token = await call(
        services(request).xet_tokens.issue, caller, repo_type(request), repo_id(request), scope
    )
    url = cas_url(request)
    headers = {
        HEADER_XET_CAS_URL: url,
        HEADER_XET_ACCESS_TOKEN: token.access_token,
        HEADER_XET_EXPIRATION: str(token.expires_at),
        "Cache-Control": "no-store",
    }
    body = {"accessToken": token.access_token, "exp": token.expires_at, "casUrl": url}
    return JSONResponse(body, headers=headers)


def cas_token(request: Request) -> str:
    """The CAS token of `Authorization: Bearer …`.

    Raises:
        AuthenticationError: none was sent.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise errors.AuthenticationError("A Xet CAS request needs its access token as bearer")
    return value.strip()


async def post_xorb(request: Request) -> Response:
    """Store a xorb."""
    token = cas_token(request)
    data = await read_body(request, MAX_XORB_SIZE)
    inserted = await call(
        services(request).xet_uploads.put_xorb, token, param(request, "hash"), data
    )
    return JSONResponse({"was_inserted": inserted})


async def post_shard(request: Request) -> Response:
    """Register the files of a shard."""
    token = cas_token(request)
    data = await read_body(request, MAX_SHARD_SIZE)
    registered = await call(services(request).xet_uploads.put_shard, token, data)
    return JSONResponse({"result": 1 if registered else 0})


async def get_dedup(request: Request) -> Response:
    """The global-dedup answer for a chunk: a shard, or 404."""
    token = cas_token(request)
    if param(request, "prefix") not in _DEDUP_PREFIXES:
        raise errors.NotFoundError(f"Unknown dedup prefix {param(request, 'prefix')!r}")
    shard = await call(services(request).xet_uploads.dedup_shard, token, param(request, "hash"))
    if shard is None:
        raise errors.NotFoundError("No stored chunk you may use has this hash")
    return Response(shard, media_type="application/octet-stream")


async def post_telemetry(request: Request) -> Response:
    """Accept a client's transfer report; this hub keeps none."""
    await read_body(request, _MAX_TELEMETRY)
    return Response(status_code=200)


async def not_served(request: Request) -> Response:
    """Any other CAS path: 404, which the client reads as "use the older API"."""
    raise errors.NotFoundError(f"This CAS does not serve {request.method} {request.url.path}")


routes = [
    *(
        Route(API_REPO + f"/xet-{scope}-token{tail}", endpoint, methods=["GET"])
        for scope, endpoint in (("read", get_read_token), ("write", get_write_token))
        for tail in ("", "/{revision:path}")
    ),
    Route(CAS_PREFIX + "/v1/xorbs/default/{hash}", post_xorb, methods=["POST"]),
    Route(CAS_PREFIX + "/v1/shards", post_shard, methods=["POST"]),
    Route(CAS_PREFIX + "/v1/chunks/{prefix}/{hash}", get_dedup, methods=["GET"]),
    Route(CAS_PREFIX + "/v1/telemetry", post_telemetry, methods=["POST"]),
    Route(
        CAS_PREFIX + "/{rest:path}",
        not_served,
        methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
    ),
]
