"""git over smart HTTP: `git clone`, `git fetch` and `git push` of the hub's repos.

Serves, for models and under the `datasets/`, `spaces/` and `kernels/` prefixes, with or without
the `.git` suffix (`git clone http://hub/ns/name` works):
`GET /{P}{repo}.git/info/refs?service=git-upload-pack|git-receive-pack`,
`POST /{P}{repo}.git/git-upload-pack` (clone, fetch; protocol v0 and v2) and
`POST /{P}{repo}.git/git-receive-pack` (push).

Streams only: a request body is spooled to a file as it arrives (gzip bodies decoded on the
way, in a worker thread; a fetch request is bounded by `max_fetch_request_bytes`, a push by
`max_commit_bytes`), the service runs git on it, and the pack git answers a fetch with is
streamed back.
Errors are plain text, because git shows a `text/plain` body to its user (as `remote: ...`);
a 401 carries `WWW-Authenticate: Basic` so that git asks for credentials (the token is the
password) and retries.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import BinaryIO, NoReturn

from starlette.concurrency import iterate_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.domain.git import PackService
from hubstead.server.http.context import call, identity, prefixed_repo_type, repo_id, services
from hubstead.server.http.errors import error_response
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.git import Fetch

_NO_CACHE = {
    "Cache-Control": "no-cache, max-age=0, must-revalidate",
    "Expires": "Fri, 01 Jan 1980 00:00:00 GMT",
    "Pragma": "no-cache",
}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="hubstead"'}
_INFLATE_PIECE = 1024 * 1024
# How much of a request body the event loop gathers before a worker thread writes it.
_BATCH = 1024 * 1024
_MAX_PROTOCOL_HEADER = 256

Handler = Callable[[Request], Awaitable[Response]]


async def get_info_refs(request: Request) -> Response:
    """The ref advertisement a fetch or a push starts with."""
    service = _service(request.query_params.get("service"))
    protocol = _protocol(request)
    caller = await identity(request)
    hub = services(request)
    type, target = prefixed_repo_type(request), repo_id(request)
    data = await call(hub.git.advertise, caller, type, target, service, protocol)
    if not _is_v2(protocol):
        # The smart HTTP preamble of protocol v0/v1 (git's http-backend omits it for v2).
        data = _pkt_line(f"# service=git-{service}\n") + b"0000" + data
    media_type = f"application/x-git-{service}-advertisement"
    return Response(data, media_type=media_type, headers=_NO_CACHE)


async def post_upload_pack(request: Request) -> Response:
    """Answer a fetch: negotiation, then the pack, streamed as git writes it."""
    hub = services(request)
    caller = await identity(request)
    type, target = prefixed_repo_type(request), repo_id(request)
    fetch = await call(hub.git.begin_fetch, caller, type, target)
    try:
        await _receive(request, fetch.body, hub.settings.max_fetch_request_bytes)
        chunks = await call(fetch.answer, _protocol(request))
    except BaseException:
        fetch.close()
        raise
    media_type = "application/x-git-upload-pack-result"
    return StreamingResponse(_relay(chunks, fetch), media_type=media_type, headers=_NO_CACHE)


async def post_receive_pack(request: Request) -> Response:
    """Apply a push, once it is wholly received, if it obeys the hub's rules."""
    hub = services(request)
    caller = await identity(request)
    type, target = prefixed_repo_type(request), repo_id(request)
    # Refuse a caller who may not push before the (possibly large) pack is received.
    with await call(hub.git.begin_push, caller, type, target) as push:
        await _receive(request, push.body, hub.settings.max_commit_bytes)
        output = await call(push.answer, _protocol(request))
    media_type = "application/x-git-receive-pack-result"
    return Response(output, media_type=media_type, headers=_NO_CACHE)


def _service(name: str | None) -> PackService:
    for service in PackService:
        if name == f"git-{service}":
            return service
    raise errors.InvalidRequestError(
        "This hub speaks git's smart HTTP protocol only: the service must be git-upload-pack "
        "or git-receive-pack"
    )


def _protocol(request: Request) -> str | None:
    """The `Git-Protocol` header git sends (`version=2`), passed on to git when sane."""
    value = request.headers.get("git-protocol", "")
    if not value or len(value) > _MAX_PROTOCOL_HEADER or not value.isprintable():
        return None
    return value


def _is_v2(protocol: str | None) -> bool:
    return protocol is not None and "version=2" in protocol.split(":")


def _pkt_line(text: str) -> bytes:
    data = text.encode()
    return f"{len(data) + 4:04x}".encode() + data


async def _receive(request: Request, spool: BinaryIO, limit: int) -> None:
    """Spool the body, decoded, refusing more than `limit` bytes; rewind the spool.

    Decoding and writing are blocking (and a small gzip body may inflate to gigabytes), so
    they run in a worker thread, a batch of the body at a time; the event loop only gathers it.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise errors.InvalidRequestError(f"Unsupported Content-Encoding {encoding!r}")
    writer = _BodyWriter(spool, limit, gzip=encoding != "identity")
    declared = request.headers.get("content-length", "")
    if encoding == "identity" and declared.isdigit() and int(declared) > limit:
        writer.refuse()
    batch = bytearray()
    async for chunk in request.stream():
        batch += chunk
        if len(batch) >= _BATCH:
            full, batch = batch, bytearray()
            await call(writer.write, full)
    await call(writer.finish, batch)


class _BodyWriter:
    """Writes a request body to a spool, gunzipped when asked, up to `limit` decoded bytes."""

    def __init__(self, spool: BinaryIO, limit: int, *, gzip: bool) -> None:
        self._spool = spool
        self._limit = limit
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self._size = 0

    def write(self, data: bytes | bytearray) -> None:
        try:
            pieces = _inflate(self._inflater, data) if self._inflater else (data,)
            for piece in pieces:
                self._size += len(piece)
                if self._size > self._limit:
                    self.refuse()
                self._spool.write(piece)
        except zlib.error:
            raise errors.InvalidRequestError("The request body is not valid gzip") from None

    def finish(self, data: bytes | bytearray) -> None:
        self.write(data)
        if self._inflater is not None and not self._inflater.eof:
            raise errors.InvalidRequestError("The gzip request body is truncated")
        self._spool.flush()
        self._spool.seek(0)

    def refuse(self) -> NoReturn:
        raise errors.PayloadTooLargeError(f"Request body is larger than {self._limit} bytes")


def _inflate(inflater: zlib._Decompress, chunk: bytes | bytearray) -> Iterator[bytes]:
    """Decompress in bounded pieces, so that a small, dense body cannot fill the memory."""
    piece = inflater.decompress(chunk, _INFLATE_PIECE)
    yield piece
    while inflater.unconsumed_tail:
        yield inflater.decompress(inflater.unconsumed_tail, _INFLATE_PIECE)


async def _relay(chunks: Generator[bytes, None, None], fetch: Fetch) -> AsyncIterator[bytes]:
    try:
        async for chunk in iterate_in_threadpool(chunks):
            yield chunk
    finally:
        # Stops git if the client went away before the end.
        await call(chunks.close)
        fetch.close()


def _plain_errors(handler: Handler, tail: str) -> Handler:
    """`handler`, with domain errors answered in the way git shows them to its user."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except errors.RepoMovedError as exc:
            # git follows a redirect of its first request, then uses the new URL throughout.
            prefix = "/" + prefixed_repo_type(request).url_prefix
            suffix = ".git" if request.url.path.endswith(f".git/{tail}") else ""
            location = f"{prefix}{exc.repo_id}{suffix}/{tail}"
            if request.url.query:
                location += f"?{request.url.query}"
            return RedirectResponse(location, status_code=307)
        except errors.HubError as exc:
            status = errors.status_of(exc)
            headers = _CHALLENGE if status == 401 else None
            code = exc.code.value if exc.code else None
            return error_response(
                request, status, exc.message, code=code, headers=headers, plain=True
            )

    return endpoint


routes = [
    Route(
        f"{prefix}/{{namespace}}/{{name}}{suffix}/{tail}",
        _plain_errors(handler, tail),
        methods=[method],
    )
    for prefix in URL_PREFIXES
    for suffix in (".git", "")
    for method, tail, handler in (
        ("GET", "info/refs", get_info_refs),
        ("POST", "git-upload-pack", post_upload_pack),
        ("POST", "git-receive-pack", post_receive_pack),
    )
]
