"""Creating a repo from the browser: `GET|POST /new` (a model), `/new-dataset`, `/new-space`.

The form names the owner (the user, or an organization where they may create repos), the name,
the visibility, for a Space its SDK (the API requires one), and optionally a licence, which
becomes the `license:` of a first README.md. The repo is created through `RepoService.create`,
as `POST /api/repos/create` does; then the browser goes to the repo's page.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.http.context import call, services
from hubstead.server.services.commits import AddFile, CommitHeader
from hubstead.server.services.repos import SDKS
from hubstead.server.web import csrf
from hubstead.server.web.render import render, repo_url
from hubstead.server.web.session import Visitor, signed_in

_PATHS = {"/new": RepoType.MODEL, "/new-dataset": RepoType.DATASET, "/new-space": RepoType.SPACE}
# What huggingface.co offers first; any other SPDX-like id may be typed.
LICENSES = (
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc0-1.0", "gpl-3.0", "lgpl-3.0",
    "bsd-3-clause", "llama3", "gemma", "other",
)  # fmt: skip
_LICENSE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,63}")


def _type(request: Request) -> RepoType:
    return _PATHS[request.url.path]


def _owners(caller: Visitor) -> list[str]:
    """The namespaces the visitor may create repos in: theirs first, then their orgs'."""
    identity = caller.identity
    assert identity.account is not None
    orgs = sorted(org for org, role in identity.org_roles.items() if role.allows(Role.WRITE))
    return [identity.account.name, *orgs]


async def _form(
    request: Request,
    caller: Visitor,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return await render(
        request,
        "new_repo/new.html",
        status,
        type=_type(request),
        owners=_owners(caller),
        licenses=LICENSES,
        sdks=SDKS,
        error=error,
        values=values or {},
        action=request.url.path,
    )


async def get_new(request: Request) -> Response:
    """The form."""
    return await _form(request, await signed_in(request))


async def post_new(request: Request) -> Response:
    """Create the repo (with a README carrying the licence, when one is chosen); then its page."""
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    type = _type(request)
    owner = form.get("owner", "").strip()
    name = form.get("name", "").strip()
    license = form.get("license", "").strip().lower()
    sdk = form.get("sdk", "").strip() or None
    private = form.get("visibility") == "private"
    hub = services(request)
    try:
        if license and not _LICENSE.fullmatch(license):
            raise errors.InvalidRequestError(f"Invalid licence id {license[:64]!r}")
        if type is RepoType.SPACE and sdk is None:
            raise errors.InvalidRequestError(f"A Space needs an SDK: one of {', '.join(SDKS)}")
        repo = await call(
            hub.repos.create, caller.identity, type, owner or None, name, private=private, sdk=sdk
        )
    except (errors.InvalidRequestError, errors.AuthorizationError, errors.ConflictError) as exc:
        return await _form(
            request, caller, status=errors.status_of(exc), error=exc.message, values=form
        )
    if license:
        card = f"---\nlicense: {license}\n---\n\n# {repo.name}\n"
        if type is RepoType.SPACE:
            card = f"---\ntitle: {repo.name}\nsdk: {sdk}\nlicense: {license}\n---\n"
        await call(
            hub.commits.commit,
            caller.identity,
            type,
            repo.repo_id,
            "main",
            CommitHeader("Add README.md with the licence"),
            [AddFile("README.md", card.encode())],
        )
    return RedirectResponse(repo_url(repo), status_code=303)


routes = [
    *(Route(path, get_new, methods=["GET"]) for path in _PATHS),
    *(Route(path, post_new, methods=["POST"]) for path in _PATHS),
]
