"""Discussion and pull request pages: the list, a thread, a pull request's files, a new thread.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET {repo}/discussions` (`?status=open|closed|all&type=all|discussion|pull_request&p=`),
`GET|POST {repo}/discussions/new`, `GET {repo}/discussions/{num}` (the address the API gives a
thread, `DiscussionWithDetails.url`), `GET {repo}/discussions/{num}/files` (a pull request's
diff and its merge button), and the thread's forms: `POST {repo}/discussions/{num}/comment`,
`/comment/{id}/edit`, `/comment/{id}/hide`, `/status`, `/title` and `/merge`. Every rule is the
discussion service's, as for the API; a form's mistake the user can fix (an empty comment, a
short title, a merge conflict) shows the page again with the service's message.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.discussions import (
    DiscussionQuery,
    DiscussionStatus,
    DiscussionType,
)
from hubstead.server.http.context import call, int_param, param, services
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.browse import split_diff
from hubstead.server.services.discussions import MAX_COMMENT_CHARS
from hubstead.server.web import csrf
from hubstead.server.web.pages.repos import _links, _repo
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in, visitor

LIST_PAGE = 30
_MAX_PAGE = 10_000
# A comment's characters, URL-encoded (up to 9 bytes each for 4-byte UTF-8), and the rest.
COMMENT_FORM_BYTES = 9 * MAX_COMMENT_CHARS + 4096
_NUM = re.compile(r"[1-9][0-9]{0,9}")
_EVENT_ID = re.compile(r"[0-9]{1,18}")
_STATUSES: dict[str, frozenset[DiscussionStatus] | None] = {
    "open": frozenset({DiscussionStatus.OPEN, DiscussionStatus.DRAFT}),
    "closed": frozenset({DiscussionStatus.CLOSED, DiscussionStatus.MERGED}),
    "all": None,
}
_TYPES = {kind.value: kind for kind in DiscussionType}
_DIFF_TRUNCATED = re.compile(r"\[diff truncated at \d+ bytes\]\n?\Z")


def thread_path(type: RepoType, repo_id: str, num: int) -> str:
    """A thread's page path (`/datasets/ns/name/discussions/3`)."""
    return f"/{type.url_prefix}{repo_id}/discussions/{num}"


def _num(request: Request) -> int:
    # A number that cannot exist is looked up as 0, which no thread has (after the repo check).
    value = param(request, "num")
    return int(value) if _NUM.fullmatch(value) else 0


def _event_id(request: Request) -> int:
    value = param(request, "event_id")
    return int(value) if _EVENT_ID.fullmatch(value) else 0


def _choice(request: Request, name: str, allowed: dict[str, Any], default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in allowed:
        raise errors.InvalidRequestError(
            f"Invalid {name} {value[:40]!r}: one of {', '.join(allowed)}"
        )
    return value


async def get_list(request: Request) -> Response:
    """A page of the repo's threads, filtered by status and type, newest first."""
    type, repo_id = _repo(request)
    status = _choice(request, "status", _STATUSES, "open")
    kind = _choice(request, "type", _TYPES, "all")
    page_number = int_param(request, "p", 1, maximum=_MAX_PAGE) - 1
    query = DiscussionQuery(
        type=_TYPES[kind],
        statuses=_STATUSES[status],
        offset=page_number * LIST_PAGE,
        limit=LIST_PAGE,
    )
    caller = await visitor(request)
    listing = await call(
        services(request).discussions.listing_page, caller.identity, type, repo_id, query
    )
    return await render(
        request,
        "discussions/list.html",
        listing=listing,
        status=status,
        kind=kind,
        statuses=list(_STATUSES),
        kinds=list(_TYPES),
        page_number=page_number + 1,
        more=listing.start + len(listing.page.discussions) < listing.page.total,
        tab="community",
        open_threads=listing.open_count,
        **_links(request, type, repo_id, DEFAULT_BRANCH),
    )


async def _thread(
    request: Request,
    caller: Visitor,
    *,
    files: bool = False,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The thread page (or its files page), with a form's error when there is one."""
    type, repo_id = _repo(request)
    details = await call(
        services(request).discussions.thread_page,
        caller.identity,
        type,
        repo_id,
        _num(request),
        diff=files,
    )
    context: dict[str, Any] = {}
    if files:
        text = details.diff or ""
        context["diffs"] = await call(split_diff, text)
        context["truncated"] = _DIFF_TRUNCATED.search(text) is not None
    discussion = details.discussion
    account = caller.identity.account
    is_author = account is not None and account.id == discussion.author_id
    return await render(
        request,
        "discussions/files.html" if files else "discussions/thread.html",
        status_code,
        details=details,
        discussion=discussion,
        rights=details.rights,
        may_manage=details.rights.may_comment and (is_author or details.rights.may_write),
        here=thread_path(type, repo_id, discussion.num),
        error=error,
        form=form or {},
        tab="community",
        open_threads=details.open_count,
        **context,
        **_links(request, type, repo_id, discussion.target_branch or DEFAULT_BRANCH),
    )


async def get_thread(request: Request) -> Response:
    """A thread: its timeline and the forms the visitor may use."""
    return await _thread(request, await visitor(request))


async def get_files(request: Request) -> Response:
    """A pull request's changes against its target, and the merge button."""
    return await _thread(request, await visitor(request), files=True)


async def _post(request: Request, action: str, *, files: bool = False) -> Response:
    """Read a thread form, make its one change, and go back to the thread (or its files).

    A mistake the user can fix shows the page again with the service's message (and what they
    typed); refusals (403), and threads or repos they cannot see (404), are error pages.
    """
    await signed_in(request)
    caller, form = await csrf.read_form(request, COMMENT_FORM_BYTES)
    type, repo_id = _repo(request)
    num = _num(request)
    hub = services(request).discussions
    who = caller.identity
    anchor = ""
    try:
        if action == "comment":
            event = await call(hub.comment, who, type, repo_id, num, form.get("comment", ""))
            anchor = f"#event-{event.id}"
        elif action == "edit":
            event_id = _event_id(request)
            content = form.get("content", "")
            await call(hub.edit_comment, who, type, repo_id, num, event_id, content)
            anchor = f"#event-{event_id}"
        elif action == "hide":
            event_id = _event_id(request)
            await call(hub.hide_comment, who, type, repo_id, num, event_id)
            anchor = f"#event-{event_id}"
        elif action == "status":
            status = form.get("status", "")
            if status not in (DiscussionStatus.OPEN, DiscussionStatus.CLOSED):
                raise errors.InvalidRequestError(f"Invalid status {status[:20]!r}")
            comment = form.get("comment") or None
            await call(
                hub.change_status, who, type, repo_id, num, DiscussionStatus(status), comment
            )
        elif action == "title":
            await call(hub.rename, who, type, repo_id, num, form.get("title", ""))
        else:
            assert action == "merge"
            await call(hub.merge, who, type, repo_id, num, form.get("comment") or None)
    except (errors.InvalidRequestError, errors.ConflictError) as exc:
        status_code = errors.status_of(exc)
        return await _thread(
            request, caller, files=files, status_code=status_code, error=exc.message, form=form
        )
    suffix = "/files" if files else ""
    return RedirectResponse(thread_path(type, repo_id, num) + suffix + anchor, status_code=303)


async def post_comment(request: Request) -> Response:
    """Add a comment."""
    return await _post(request, "comment")


async def post_edit_comment(request: Request) -> Response:
    """Replace one's own comment."""
    return await _post(request, "edit")


async def post_hide_comment(request: Request) -> Response:
    """Hide a comment (writers)."""
    return await _post(request, "hide")


async def post_status(request: Request) -> Response:
    """Close or reopen the thread (a draft pull request reopened is ready to merge)."""
    return await _post(request, "status")


async def post_title(request: Request) -> Response:
    """Rename the thread."""
    return await _post(request, "title")


async def post_merge(request: Request) -> Response:
    """Merge the pull request (writers); a conflict shows the files page with its paths."""
    return await _post(request, "merge", files=True)


async def _new_form(
    request: Request, status_code: int = 200, error: str | None = None, **form: str
) -> Response:
    type, repo_id = _repo(request)
    caller = await signed_in(request)
    await call(services(request).discussions.locate_for_new_thread, caller.identity, type, repo_id)
    return await render(
        request,
        "discussions/new.html",
        status_code,
        error=error,
        title=form.get("title", ""),
        description=form.get("description", ""),
        tab="community",
        **_links(request, type, repo_id, DEFAULT_BRANCH),
    )


async def get_new(request: Request) -> Response:
    """The form that opens a discussion: a title and a first comment."""
    return await _new_form(request)


async def post_new(request: Request) -> Response:
    """Open the discussion and show it."""
    type, repo_id = _repo(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request, COMMENT_FORM_BYTES)
    title, description = form.get("title", ""), form.get("description", "")
    try:
        opened = await call(
            services(request).discussions.open,
            caller.identity,
            type,
            repo_id,
            title,
            description,
        )
    except errors.InvalidRequestError as exc:
        return await _new_form(
            request, errors.status_of(exc), exc.message, title=title, description=description
        )
    return RedirectResponse(thread_path(type, repo_id, opened.num), status_code=303)


def _thread_routes(prefix: str) -> list[Route]:
    threads = prefix + "/{namespace:page_namespace}/{name}/discussions"
    thread = threads + "/{num}"
    return [
        Route(threads, get_list, methods=["GET"]),
        Route(threads + "/new", get_new, methods=["GET"]),
        Route(threads + "/new", post_new, methods=["POST"]),
        Route(thread, get_thread, methods=["GET"]),
        Route(thread + "/files", get_files, methods=["GET"]),
        Route(thread + "/comment", post_comment, methods=["POST"]),
        Route(thread + "/comment/{event_id}/edit", post_edit_comment, methods=["POST"]),
        Route(thread + "/comment/{event_id}/hide", post_hide_comment, methods=["POST"]),
        Route(thread + "/status", post_status, methods=["POST"]),
        Route(thread + "/title", post_title, methods=["POST"]),
        Route(thread + "/merge", post_merge, methods=["POST"]),
    ]


routes = [route for prefix in URL_PREFIXES for route in _thread_routes(prefix)]
