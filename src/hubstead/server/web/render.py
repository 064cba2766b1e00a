"""HTML out: the Jinja environment, its filters, `render`, and the headers every page carries.

Autoescaping is on for every template, so a user-supplied string is text wherever it lands;
markdown goes through `http/markdown.py`'s renderer (raw HTML escaped, only safe link schemes)
and is the one thing marked safe (the `markdown` filter). Pages get, besides their own context:
`visitor` (`session.Visitor`), `account` (the signed-in account or None), `csrf_token` for
their forms, `static` (the versioned URL of a static file) and `request`.

Filters: `date` (`2026-05-01`), `datetime` (`2026-05-01 14:03 UTC`), `ago` (`3 days ago`),
`filesize` (`1.4 MB`), `markdown`, `repo_url` (a repo's page path).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from hubstead.protocol import RepoType
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.http.markdown import render_markdown
from hubstead.server.web.assets import Assets
from hubstead.server.web.csrf import csrf_token
from hubstead.server.web.session import SEED_COOKIE, set_cookie, visitor
from hubstead.server.web.urls import repo_path

# No inline script or style anywhere: what a hostile string might smuggle in cannot run.
# Images may come from elsewhere over HTTPS (badges in READMEs).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
_SEED_MAX_AGE = 7 * 24 * 3600
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def secure(response: Response) -> Response:
    """`response` with the web hub's security headers (and never cached by shared caches)."""
    response.headers.update(SECURITY_HEADERS)
    response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


def filesize(size: int | None) -> str:
    """Bytes in decimal units, as huggingface.co shows them (`1.4 MB`)."""
    if size is None:
        return ""
    value = float(size)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def ago(moment: dt.datetime, now: dt.datetime | None = None) -> str:
    """How long ago `moment` was, in its largest unit (`3 days ago`)."""
    seconds = int(((now or dt.datetime.now(dt.UTC)) - moment).total_seconds())
    for unit, length in (
        ("year", 31536000),
        ("month", 2592000),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= length:
            count = seconds // length
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def repo_url(repo: RepoRecord) -> str:
    """The path of a repo's page (`/datasets/ns/name`, `/ns/name` for a model)."""
    return repo_path(RepoType(repo.type), repo.repo_id)


def _environment(assets: Assets) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hubstead.server.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date=lambda moment: moment.strftime("%Y-%m-%d"),
        datetime=lambda moment: moment.strftime("%Y-%m-%d %H:%M UTC"),
        ago=ago,
        filesize=filesize,
        markdown=lambda text: Markup(render_markdown(text)),  # noqa: S704 (sanitized above)
        repo_url=repo_url,
    )
    env.globals["static"] = assets.url
    return env


class Renderer:
    """Templates rendered into secured HTML responses; one per app."""

    def __init__(self, assets: Assets) -> None:
        self.assets = assets
        self._env = _environment(assets)

    async def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        """The page `template` with `context`, for this request's visitor."""
        caller = await visitor(request)
        html = self._env.get_template(template).render(
            request=request,
            visitor=caller,
            account=caller.identity.account,
            csrf_token=csrf_token(caller.seed),
            **context,
        )
        response = secure(HTMLResponse(html, status_code=status_code))
        if caller.new_seed:
            set_cookie(request, response, SEED_COOKIE, caller.seed, _SEED_MAX_AGE)
        return response

    def html(self, template: str, **context: Any) -> str:
        """`template` rendered with `context` alone: a page outside the hub's (no visitor)."""
        return self._env.get_template(template).render(**context)


def renderer(request: Request) -> Renderer:
    """The renderer of the app serving this request."""
    found: Renderer = request.app.state.web
    return found


async def render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> Response:
    """The page `template` rendered with `context` (see the module docstring for the rest)."""
    return await renderer(request).render(request, template, status_code, **context)
