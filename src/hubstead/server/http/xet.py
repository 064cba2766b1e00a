"""Xet: CAS token routes on the Hub API, and the CAS itself.

Serves, on the Hub API, `GET /api/{type}s/{ns}/{name}/xet-{read|write}-token/{rev}` (`rev` may
be the literal `None`, `?create_pr=1` may follow), answering the token twice: in the JSON body
hf_xet reads (`accessToken`, `exp`, `casUrl`) and in the `X-Xet-*` headers huggingface_hub
reads.

Serves, under `/cas` (the `casUrl` handed out, unless `xet_cas_url` points clients at a CAS
running elsewhere on the same data), with the CAS token as bearer:
`POST /v1/xorbs/default/{hash}`, `POST /v1/shards`, `GET /v1/chunks/{prefix}/{hash}` (global
dedup, `default` or `default-merkledb`: a shard, or 404), `GET /v{1,2}/reconstructions/{file}`
(a `Range: bytes=a-b` window, 416 from the end of the file), and `POST /v1/telemetry` (accepted
and dropped). The xorb ranges of a reconstruction are `GET /v1/xorb-ranges/{hash}?token=…`,
fetched without credentials, with exactly the `Range` the token was signed for (206). Everything
else under `/cas` is a 404, which is how the client learns to fall back: from `/v2/shards` to
`/v1/shards`, from `/v1/xorb-grants` to `/v1/xorbs`. hf_xet also posts its transfer reports to
the hub's own `/v1/telemetry` (unless `HF_HUB_DISABLE_TELEMETRY` is set): accepted there too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hubstead.protocol import (
    HEADER_XET_ACCESS_TOKEN,
    HEADER_XET_CAS_URL,
    HEADER_XET_EXPIRATION,
    RepoType,
)
from hubstead.server import errors
from hubstead.server.http.blobs import FileRangeResponse
from hubstead.server.http.context import (
    base_url,
    bearer_token,
    call,
    flag,
    identity,
    param,
    read_body,
    repo_id,
    repo_type,
    services,
)
from hubstead.server.http.paths import API_REPO
from hubstead.server.services.xet.tokens import Scope
from hubstead.xet.reconstruction import Plan, UrlFor, render_v1, render_v2
from hubstead.xet.shard import MAX_SHARD_SIZE
from hubstead.xet.xorb import MAX_XORB_SIZE

CAS_PREFIX = "/cas"
_DEDUP_PREFIXES = frozenset({"default", "default-merkledb"})
_MAX_TELEMETRY = 1024 * 1024
# ASCII digits only (`\d` matches other scripts' digits), 19 at most (past any file's end).
_WINDOW = re.compile(r"bytes=([0-9]{1,19})-([0-9]{0,19})")


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
    revision = param(request, "revision") if "revision" in request.path_params else None
    token = await call(
        services(request).xet_tokens.issue,
        caller,
        repo_type(request),
        repo_id(request),
        scope,
        revision=revision,
        create_pr=flag(request, "create_pr"),
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


def xet_read_token_url(request: Request, type: RepoType, repo_id: str, revision: str) -> str:
    """The absolute URL of a repo's read-token route (the `xet-auth` link of a download)."""
    return f"{base_url(request)}/api/{type.api_segment}/{repo_id}/xet-read-token/{revision}"


def cas_token(request: Request) -> str:
    """The CAS token of `Authorization: Bearer …`.

    Raises:
        AuthenticationError: none was sent.
    """
    token = bearer_token(request)
    if token is None:
        raise errors.AuthenticationError("A Xet CAS request needs its access token as bearer")
    return token


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


async def get_reconstruction_v1(request: Request) -> Response:
    """The terms of a file (or of its `Range`) and one signed URL per xorb range."""
    return await _reconstruction(request, render_v1)


async def get_reconstruction_v2(request: Request) -> Response:
    """The same plan in the v2 shape (one range per signed URL)."""
    return await _reconstruction(request, render_v2)


async def _reconstruction(
    request: Request, render: Callable[[Plan, UrlFor], dict[str, object]]
) -> Response:
    token = cas_token(request)
    start, end = _window(request.headers.get("range"))
    found = await call(
        services(request).xet_downloads.reconstruction, token, param(request, "file_id"), start, end
    )
    base = cas_url(request)

    def url_for(xorb: str, first: int, last: int) -> str:
        direct = found.direct(xorb, first, last)
        return direct or f"{base}/v1/xorb-ranges/{xorb}?token={found.sign(xorb, first, last)}"

    return JSONResponse(render(found.plan, url_for))


def _window(header: str | None) -> tuple[int, int | None]:
    """The inclusive window a reconstruction's `Range: bytes=a-b` asks for (all: `0, None`)."""
    if header is None:
        return 0, None
    match = _WINDOW.fullmatch(header.strip())
    if match is None:
        raise errors.InvalidRequestError(f"Unsupported Range {header[:100]!r}: use bytes=a-b")
    start, end = int(match.group(1)), match.group(2)
    if end and int(end) < start:
        raise errors.InvalidRequestError(f"Range {header[:100]!r} ends before it starts")
    return start, int(end) if end else None


async def get_xorb_range(request: Request) -> Response:
    """The bytes of a signed xorb range (the URL is the credential: no header is sent)."""
    match = _WINDOW.fullmatch(request.headers.get("range", "").strip())
    if match is None or not match.group(2):
        raise errors.AuthorizationError("A xorb range URL is fetched with its exact Range")
    found = await call(
        services(request).xet_downloads.xorb_range,
        request.query_params.get("token", ""),
        param(request, "hash"),
        int(match.group(1)),
        int(match.group(2)),
    )
    headers = {
        "Content-Range": f"bytes {found.start}-{found.end}/{found.total}",
        "Content-Length": str(found.end - found.start + 1),
        "Content-Type": "application/octet-stream",
        "Cache-Control": "private, max-age=0",
    }
    if found.path is not None:
        return FileRangeResponse(found.path, found.start, found.end, 206, headers)
    return Response(found.data, status_code=206, headers=headers)


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
    *(
        Route(prefix + "/v1/telemetry", post_telemetry, methods=["POST"])
        for prefix in (CAS_PREFIX, "")
    ),
    Route(CAS_PREFIX + "/v1/reconstructions/{file_id}", get_reconstruction_v1, methods=["GET"]),
    Route(CAS_PREFIX + "/v2/reconstructions/{file_id}", get_reconstruction_v2, methods=["GET"]),
    Route(CAS_PREFIX + "/v1/xorb-ranges/{hash}", get_xorb_range, methods=["GET"]),
    Route(
        CAS_PREFIX + "/{rest:path}",
        not_served,
        methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
    ),
]
