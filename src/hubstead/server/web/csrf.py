"""Cross-site request forgery: every state-changing form carries a token a forger cannot know.

The token is an HMAC of the visitor's seed (`session.Visitor.seed`: the session secret when
signed in, else a random cookie of its own), so it needs no storage, changes with each session
and is never valid for another browser. `read_form` checks it on every POST, and checks the
`Origin` (or else the `Referer`) header, when the browser sends one, names this hub.
`read_multipart` does the same for a `multipart/form-data` form with files, which it spools to
temporary files the caller makes (on the hub's disk) as they arrive, up to a size limit.
`check_same_origin` does the origin checks alone, for a GET whose answer a page's script reads
with the session (a Space's live log).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncGenerator, Callable
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from hubstead.protocol import parse_decimal
from hubstead.server import errors
from hubstead.server.http import context
from hubstead.server.web.session import Visitor, visitor

FIELD = "csrf_token"
_REFUSED = "This form expired or did not come from this hub; reload the page and try again"
_ELSEWHERE = "Only this hub's own pages may read this"
# What a browser's `Sec-Fetch-Site` may say of a request the session may answer: asked by a
# page of the hub's origin, or by the visitor themselves (the address bar).
_OWN_FETCHES = frozenset({"same-origin", "none"})


def csrf_token(seed: str) -> str:
    """The CSRF token of forms rendered for a visitor with this seed."""
    return hmac.new(seed.encode(), b"hubstead-csrf", hashlib.sha256).hexdigest()


def _same_origin(request: Request) -> bool:
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return claimed is None
    own = {urlsplit(str(request.base_url)).netloc}
    public_url = context.services(request).settings.public_url
    if public_url:
        own.add(urlsplit(public_url).netloc)
    return urlsplit(claimed).netloc in own


def check_same_origin(request: Request) -> None:
    """Refuse a GET a page of another origin sent with the visitor's cookies.

    SameSite=Lax cookies go along with requests from every host of the hub's site, a Space's
    own host (`{label}.{spaces_domain}`) among them; the browser's `Sec-Fetch-Site`, and its
    `Origin` or `Referer`, say which page asked. A client that sends none is no browser, and
    has no visitor's cookies to abuse.

    Raises:
        AuthorizationError: another origin's page asked.
    """
    site = request.headers.get("sec-fetch-site")
    if (site is not None and site not in _OWN_FETCHES) or not _same_origin(request):
        raise errors.AuthorizationError(_ELSEWHERE)


async def read_form(
    request: Request, limit: int = context.FORM_BYTES
) -> tuple[Visitor, dict[str, str]]:
    """The visitor and the fields of a form they posted, once it passed the CSRF checks.

    `limit` bounds the body (larger for the forms that carry a comment or a file's text).

    Raises:
        AuthorizationError: the token is missing or wrong, or the form came from elsewhere.
        InvalidRequestError, PayloadTooLargeError: not a form, or too large.
    """
    caller = await visitor(request)
    if not _same_origin(request):
        raise errors.AuthorizationError(_REFUSED)
    form = await context.read_form(request, limit)
    if not hmac.compare_digest(form.get(FIELD, ""), csrf_token(caller.seed)):
        raise errors.AuthorizationError(_REFUSED)
    return caller, form


_MAX_TEXT_PART = 64 * 1024


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise errors.PayloadTooLargeError(f"The upload is larger than {limit} bytes")
        yield chunk


class _SpoolingParser(MultiPartParser):
    """Starlette's parser, each file received into a temporary file from `spool`.

    Starlette makes a `SpooledTemporaryFile` in the system's temporary folder for each file
    part as its headers end; it is swapped, still empty, for one of ours.
    """

    def __init__(self, spool: Callable[[], BinaryIO], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spool = spool

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is None:
            return
        ours = self._spool()
        theirs = self._files_to_close_on_error.pop()
        self._files_to_close_on_error.append(ours)  # type: ignore[arg-type]
        upload.file = ours
        theirs.close()


async def read_multipart(
    request: Request, limit: int, max_files: int, spool: Callable[[], BinaryIO]
) -> tuple[Visitor, FormData]:
    """The visitor and a `multipart/form-data` form they posted, once it passed the CSRF checks.

    Its files are received into temporary files from `spool`; the caller closes the form
    (`FormData.close`).

    Raises:
        AuthorizationError: the token is missing or wrong, or the form came from elsewhere.
        InvalidRequestError: not a multipart form, or a malformed one, or too many files.
        PayloadTooLargeError: the body is larger than `limit` bytes.
    """
    caller = await visitor(request)
    if not _same_origin(request):
        raise errors.AuthorizationError(_REFUSED)
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise errors.InvalidRequestError("Expected a form with files (multipart/form-data)")
    declared = parse_decimal(request.headers.get("content-length", ""))
    if declared is not None and declared > limit:
        raise errors.PayloadTooLargeError(f"The upload is larger than {limit} bytes")
    parser = _SpoolingParser(
        spool,
        request.headers,
        _capped(request, limit),
        max_files=max_files,
        max_fields=20,
        max_part_size=_MAX_TEXT_PART,
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise errors.InvalidRequestError(exc.message) from None
    token = form.get(FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(token, csrf_token(caller.seed)):
        await form.close()
        raise errors.AuthorizationError(_REFUSED)
    return caller, form
