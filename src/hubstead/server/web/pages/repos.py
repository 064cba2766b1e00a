"""Repo pages: the repo, its folders and files, its history, and the listings of repos.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET {repo}` (the card, root files, last commit, likes, snippets, weights, the branch and tag
switcher, the access-request form of a gated repo; a Space's app in a frame, with its stage),
`GET {repo}/tree/{rev}[/{path}]`, `GET {repo}/blob/{rev}/{path}`, `GET {repo}/commits/{rev}`
and `GET {repo}/commit/{sha}`;
`POST {repo}/access-request` (the gate form, sent by a signed-in browser); `POST {repo}/like`
and `POST {repo}/unlike` (the header's ♥ toggle, back to the page it was on); and the listings
`GET /models`, `/datasets`, `/spaces` and `/kernels` (`?search=&sort=&p=`, and the filters
`author`, `library`, `pipeline_tag`, `license` and `other` (tags), shown as removable chips).
A revision with `/` (`refs/pr/1`) is written `%2F`-encoded in links, and also read unencoded,
as the API does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoQuery
from hubstead.server.http.context import (
    base_url,
    call,
    param,
    revision_and_path,
    services,
)
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.web import csrf, space_apps
from hubstead.server.web.highlight import highlighted_lines
from hubstead.server.web.render import render
from hubstead.server.web.session import signed_in, visitor
from hubstead.server.web.urls import REPO, page_index, path_url, repo_of, repo_path, rev_url

ROOT_ENTRIES = 100
FOLDER_PAGE = 200
COMMITS_PAGE = 30
LISTING_PAGE = 30
_MAX_QUERY = 200
_MAX_FILTERS = 20
# A listing's filters: its query parameter (as on huggingface.co) and its chip's label.
_FILTERS = {
    "author": "Author",
    "library": "Library",
    "pipeline_tag": "Task",
    "license": "License",
    "other": "Tag",
}
_SORTS = {
    "likes": ("likes", True),
    "modified": ("last_modified", True),
    "created": ("created_at", True),
    "downloads": ("downloads", True),
    "name": ("id", False),
}


async def get_repo(request: Request) -> Response:
    """The repo page at its default branch."""
    type, repo_id = repo_of(request)
    caller = await visitor(request)
    found = await call(
        services(request).browse.repo, caller.identity, type, repo_id, DEFAULT_BRANCH, ROOT_ENTRIES
    )
    app = None
    if type is RepoType.SPACE:
        app = await space_apps.app_view(request, found.info.repo, caller.identity)
    response = await render(
        request,
        "repos/repo.html",
        page=found,
        chrome=found.chrome,
        may_write=found.may_write,
        app=app,
        **repo_links(request, type, repo_id, DEFAULT_BRANCH),
    )
    if app is not None and app.origin is not None:
        # The page frames the app from its own host (a path on the hub is 'self' already).
        policy = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = f"{policy}; frame-src 'self' {app.origin}"
    return response


async def get_folder(request: Request) -> Response:
    """A folder at a revision, a page of its entries at a time."""
    type, repo_id = repo_of(request)
    revision, path = revision_and_path(request)
    page_number = page_index(request)
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
    context = repo_links(request, type, repo_id, revision)
    return await render(
        request,
        "repos/folder.html",
        folder=folder,
        page_number=page_number + 1,
        may_write=folder.may_write,
        chrome=folder.chrome,
        **context,
    )


async def get_file(request: Request) -> Response:
    """A file at a revision: its text (numbered, highlighted) when small, its facts always."""
    type, repo_id = repo_of(request)
    revision, path = revision_and_path(request)
    caller = await visitor(request)
    view = await call(services(request).browse.file, caller.identity, type, repo_id, revision, path)
    lines = None if view.text is None else await call(highlighted_lines, view.text, path)
    context = repo_links(request, type, repo_id, revision)
    return await render(
        request, "repos/file.html", view=view, lines=lines, chrome=view.chrome, **context
    )


async def get_commits(request: Request) -> Response:
    """The history of a revision, newest first, a page at a time."""
    type, repo_id = repo_of(request)
    revision = param(request, "revision")
    page_number = page_index(request)
    caller = await visitor(request)
    chrome = await call(services(request).browse.chrome, caller.identity, type, repo_id)
    history = await call(
        services(request).refs.commits,
        caller.identity,
        type,
        repo_id,
        revision,
        offset=page_number * COMMITS_PAGE,
        limit=COMMITS_PAGE,
    )
    context = repo_links(request, type, repo_id, revision)
    return await render(
        request,
        "repos/commits.html",
        history=history,
        page_number=page_number + 1,
        chrome=chrome,
        **context,
    )


async def get_commit(request: Request) -> Response:
    """A commit and its diff."""
    type, repo_id = repo_of(request)
    caller = await visitor(request)
    view = await call(
        services(request).browse.commit, caller.identity, type, repo_id, param(request, "sha")
    )
    context = repo_links(request, type, repo_id, view.commit.id)
    return await render(request, "repos/commit.html", view=view, chrome=view.chrome, **context)


async def post_access_request(request: Request) -> Response:
    """Ask for access to a gated repo with the gate form, then back to the repo page."""
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    fields = {key: value for key, value in form.items() if key != csrf.FIELD}
    await call(services(request).access_requests.ask, caller.identity, type, repo_id, fields)
    return RedirectResponse(repo_path(type, repo_id) + "?asked=1", status_code=303)


async def post_like(request: Request) -> Response:
    """Like the repo (the header's ♥ button), then back to the repo page it was sent from."""
    return await _like(request, like=True)


async def post_unlike(request: Request) -> Response:
    """Take back a like of the repo, then back to the repo page it was sent from."""
    return await _like(request, like=False)


async def _like(request: Request, *, like: bool) -> Response:
    type, repo_id = repo_of(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request)
    likes = services(request).likes
    await call(likes.like if like else likes.unlike, caller.identity, type, repo_id)
    here = repo_path(type, repo_id)
    return RedirectResponse(back_within(here, form.get("next")), status_code=303)


def back_within(here: str, wanted: str | None) -> str:
    """`wanted` when it is `here` or a path under it (one of the repo's pages), else `here`.

    Never an open redirect: the answer always starts with the repo's own path.
    """
    if wanted is None or len(wanted) > 2048:
        return here
    if wanted != here and not wanted.startswith(here + "/"):
        return here
    if "\\" in wanted or "//" in wanted or any(ord(c) < 0x20 or c == "\x7f" for c in wanted):
        return here
    return wanted


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
    page_number = page_index(request)
    filters = listing_filters(request)
    chosen = dict(filters)
    tags = [value for name, value in filters if name == "other"]
    if "library" in chosen:
        tags.append(chosen["library"])
    if "license" in chosen:
        tags.append(f"license:{chosen['license']}")
    query = RepoQuery(
        type.value,
        search=[search] if search else [],
        author=chosen.get("author"),
        tags=tags,
        pipeline_tag=chosen.get("pipeline_tag"),
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
        filters=[
            (name, value, _FILTERS[name], _listing_url(type, search, sort, filters, drop=i))
            for i, (name, value) in enumerate(filters)
        ],
        here=_listing_url(type, search, sort, filters),
    )


def listing_filters(request: Request) -> list[tuple[str, str]]:
    """The filters a listing's query asks for, as (parameter, value), in `_FILTERS` order.

    `author`, `library`, `pipeline_tag` and `license` (`mit` or `license:mit`) take one value
    each; tags (`other`, or `filter` as the API names it) several, comma-separated or repeated.
    """
    found: list[tuple[str, str]] = []
    for name in _FILTERS:
        names = (name, "filter") if name == "other" else (name,)
        values = [
            v for n in names for item in request.query_params.getlist(n) for v in item.split(",")
        ]
        for value in values:
            value = value.strip()[:_MAX_QUERY]
            if name == "license":
                value = value.removeprefix("license:")
            if value and (name, value) not in found:
                found.append((name, value))
            if name != "other" and value:
                break
    return found[:_MAX_FILTERS]


def _listing_url(
    type: RepoType,
    search: str,
    sort: str,
    filters: list[tuple[str, str]],
    drop: int | None = None,
) -> str:
    """The listing's URL with these choices (but the filter at `drop`), ready for `&p=`."""
    kept = [pair for i, pair in enumerate(filters) if i != drop]
    return f"/{type.api_segment}?" + urlencode([("search", search), ("sort", sort), *kept])


def repo_links(request: Request, type: RepoType, repo_id: str, revision: str) -> dict[str, Any]:
    """What every repo page's header and links need."""
    return {
        "type": type,
        "repo_id": repo_id,
        "repo_path": repo_path(type, repo_id),
        "revision": revision,
        "rev": rev_url(revision),
        "rev_url": rev_url,
        "path_url": path_url,
        "clone_url": base_url(request) + repo_path(type, repo_id),
        "endpoint": base_url(request),
    }


def _repo_routes(prefix: str) -> list[Route]:
    repo = prefix + REPO
    return [
        Route(repo, get_repo, methods=["GET"]),
        Route(repo + "/tree/{revision}", get_folder, methods=["GET"]),
        Route(repo + "/tree/{revision}/{path:path}", get_folder, methods=["GET"]),
        Route(repo + "/blob/{revision}/{path:path}", get_file, methods=["GET"]),
        Route(repo + "/commits/{revision:path}", get_commits, methods=["GET"]),
        Route(repo + "/commit/{sha}", get_commit, methods=["GET"]),
        Route(repo + "/access-request", post_access_request, methods=["POST"]),
        Route(repo + "/like", post_like, methods=["POST"]),
        Route(repo + "/unlike", post_unlike, methods=["POST"]),
    ]


routes = [
    *(Route(f"/{type.api_segment}", get_listing, methods=["GET"]) for type in RepoType),
    *(route for prefix in URL_PREFIXES for route in _repo_routes(prefix)),
]
