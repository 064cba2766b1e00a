"""Repo pages: the repo, its folders and files, its history, and the listings of repos.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET {repo}` (the card, root files, last commit, likes, snippets, weights, the branch and tag
switcher, the access-request form of a gated repo), `GET {repo}/tree/{rev}[/{path}]`,
`GET {repo}/blob/{rev}/{path}`, `GET {repo}/commits/{rev}` and `GET {repo}/commit/{sha}`;
`POST {repo}/access-request` (the gate form, sent by a signed-in browser); and the listings
`GET /models`, `/datasets`, `/spaces` and `/kernels` (`?search=&sort=&p=`). A revision with
`/` (`refs/pr/1`) is written `%2F`-encoded in links, and also read unencoded, as the API does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoQuery
from hubstead.server.http.context import (
    base_url,
    call,
    int_param,
    param,
    prefixed_repo_type,
    revision_and_path,
    services,
)
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.web import csrf
from hubstead.server.web.highlight import highlighted_lines
from hubstead.server.web.render import render
from hubstead.server.web.session import signed_in, visitor

ROOT_ENTRIES = 100
FOLDER_PAGE = 200
COMMITS_PAGE = 30
LISTING_PAGE = 30
_MAX_PAGE = 10_000
_MAX_QUERY = 200
_SORTS = {
    "likes": ("likes", True),
    "modified": ("last_modified", True),
    "created": ("created_at", True),
    "downloads": ("downloads", True),
    "name": ("id", False),
}


class NamespaceConvertor(StringConvertor):
    """A repo page's namespace segment: never `api`, so the API's unknown paths stay its 404s."""

    regex = "(?!api/)[^/]+"


register_url_convertor("page_namespace", NamespaceConvertor())


def _repo(request: Request) -> tuple[RepoType, str]:
    """The repo a page's path names."""
    return prefixed_repo_type(request), f"{param(request, 'namespace')}/{param(request, 'name')}"


def rev_url(revision: str) -> str:
    """A revision as one path segment (`refs%2Fpr%2F1`)."""
    return quote(revision, safe="")


def path_url(path: str) -> str:
    """A file path in a URL, its `/` kept."""
    return quote(path, safe="/")


def _page_number(request: Request) -> int:
    return int_param(request, "p", 1, maximum=_MAX_PAGE) - 1


async def get_repo(request: Request) -> Response:
    """The repo page at its default branch."""
    type, repo_id = _repo(request)
    caller = await visitor(request)
    found = await call(
        services(request).browse.repo, caller.identity, type, repo_id, DEFAULT_BRANCH, ROOT_ENTRIES
    )
    return await render(
        request,
        "repos/repo.html",
        page=found,
        may_write=found.may_write,
        **_links(request, type, repo_id, DEFAULT_BRANCH),
    )


async def get_folder(request: Request) -> Response:
    """A folder at a revision, a page of its entries at a time."""
    type, repo_id = _repo(request)
    revision, path = revision_and_path(request)
    page_number = _page_number(request)
    caller = await visitor(request)
    folder = await call(
        services(request).browse.folder,
        caller.identity,
        type,
        repo_id,
        revision,
        path,
        offset=page_number * FOLDER_PAGE,
        limit=FOLDER_PAGE,
    )
    context = _links(request, type, repo_id, revision)
    return await render(
        request,
        "repos/folder.html",
        folder=folder,
        page_number=page_number + 1,
        may_write=folder.may_write,
        **context,
    )


async def get_file(request: Request) -> Response:
    """A file at a revision: its text (numbered, highlighted) when small, its facts always."""
    type, repo_id = _repo(request)
    revision, path = revision_and_path(request)
    caller = await visitor(request)
    view = await call(services(request).browse.file, caller.identity, type, repo_id, revision, path)
    lines = None if view.text is None else await call(highlighted_lines, view.text, path)
    context = _links(request, type, repo_id, revision)
    return await render(request, "repos/file.html", view=view, lines=lines, **context)


async def get_commits(request: Request) -> Response:
    """The history of a revision, newest first, a page at a time."""
    type, repo_id = _repo(request)
    revision = param(request, "revision")
    page_number = _page_number(request)
    caller = await visitor(request)
    history = await call(
        services(request).refs.commits,
        caller.identity,
        type,
        repo_id,
        revision,
        offset=page_number * COMMITS_PAGE,
        limit=COMMITS_PAGE,
    )
    context = _links(request, type, repo_id, revision)
    return await render(
        request, "repos/commits.html", history=history, page_number=page_number + 1, **context
    )


async def get_commit(request: Request) -> Response:
    """A commit and its diff."""
    type, repo_id = _repo(request)
    caller = await visitor(request)
    view = await call(
        services(request).browse.commit, caller.identity, type, repo_id, param(request, "sha")
    )
    context = _links(request, type, repo_id, view.commit.id)
    return await render(request, "repos/commit.html", view=view, **context)


async def post_access_request(request: Request) -> Response:
    """Ask for access to a gated repo with the gate form, then back to the repo page."""
    type, repo_id = _repo(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    fields = {key: value for key, value in form.items() if key != csrf.FIELD}
    await call(services(request).access_requests.ask, caller.identity, type, repo_id, fields)
    return RedirectResponse(_repo_path(type, repo_id) + "?asked=1", status_code=303)


async def get_listing(request: Request) -> Response:
    """One page of the repos of a type, searched and sorted as the API's listing."""
    type = RepoType.from_api_segment(request.url.path.strip("/"))
    assert type is not None
    search = request.query_params.get("search", "").strip()[:_MAX_QUERY]
    sort = request.query_params.get("sort", "likes")
    if sort not in _SORTS:
        raise errors.InvalidRequestError(
            f"Cannot sort by {sort[:40]!r}: one of {', '.join(_SORTS)}"
        )
    key, descending = _SORTS[sort]
    page_number = _page_number(request)
    query = RepoQuery(
        type.value,
        search=[search] if search else [],
        sort=key,
        descending=descending,
        offset=page_number * LISTING_PAGE,
        limit=LISTING_PAGE,
    )
    caller = await visitor(request)
    found = await call(services(request).catalog.list, caller.identity, query)
    return await render(
        request,
        "repos/listing.html",
        type=type,
        repos=found,
        search=search,
        sort=sort,
        sorts=list(_SORTS),
        page_number=page_number + 1,
    )


def _repo_path(type: RepoType, repo_id: str) -> str:
    return f"/{type.url_prefix}{repo_id}"


def _links(request: Request, type: RepoType, repo_id: str, revision: str) -> dict[str, Any]:
    """What every repo page's header and links need."""
    return {
        "type": type,
        "repo_id": repo_id,
        "repo_path": _repo_path(type, repo_id),
        "revision": revision,
        "rev": rev_url(revision),
        "rev_url": rev_url,
        "path_url": path_url,
        "clone_url": f"{base_url(request)}/{type.url_prefix}{repo_id}",
        "endpoint": base_url(request),
    }


def _repo_routes(prefix: str) -> list[Route]:
    repo = prefix + "/{namespace:page_namespace}/{name}"
    return [
        Route(repo, get_repo, methods=["GET"]),
        Route(repo + "/tree/{revision}", get_folder, methods=["GET"]),
        Route(repo + "/tree/{revision}/{path:path}", get_folder, methods=["GET"]),
        Route(repo + "/blob/{revision}/{path:path}", get_file, methods=["GET"]),
        Route(repo + "/commits/{revision:path}", get_commits, methods=["GET"]),
        Route(repo + "/commit/{sha}", get_commit, methods=["GET"]),
        Route(repo + "/access-request", post_access_request, methods=["POST"]),
    ]


routes = [
    *(Route(f"/{type.api_segment}", get_listing, methods=["GET"]) for type in RepoType),
    *(route for prefix in URL_PREFIXES for route in _repo_routes(prefix)),
]
