"""Cross-site request forgery: every state-changing form carries a token a forger cannot know.

The token is an HMAC of the visitor's seed (`session.Visitor.seed`: the session secret when
signed in, else a random cookie of its own), so it needs no storage, changes with each session
and is never valid for another browser. `read_form` checks it on every POST, and checks the
`Origin` (or else the `Referer`) header, when the browser sends one, names this hub.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from hubstead.server import errors
from hubstead.server.http import context
from hubstead.server.web.session import Visitor, visitor

FIELD = "csrf_token"
_REFUSED = "This form expired or did not come from this hub; reload the page and try again"


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
