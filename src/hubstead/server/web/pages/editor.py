"""Editing from the browser: change a text file, or add one, as a commit or a pull request.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET|POST {repo}/edit/{rev}/{path}` (a text file's editor) and `GET|POST {repo}/new/{rev}` (a
new file, its path typed in). The form is sent either as one commit to the revision (writers;
a pull request's author on its `refs/pr/N`) or as a new pull request holding that commit
(`create_pr`: whoever may open one), through the commit service the API's commit endpoint
uses, based on the commit the editor was opened at: a change that landed meanwhile is a
conflict to resolve, never silently overwritten. A new file's path must be free at the revision
(409 otherwise, with a link to edit the file there). At a tag or a commit (no branch) the edit
can only open a pull request into the default branch, starting from that commit. A commit to a
branch goes back to the file's page; a new pull request, or a commit to one's ref, to the pull
request's page. Files that are binary, in LFS or larger than the browse limit are refused with
a page saying so.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.server import errors
from hubstead.server.http.context import call, revision_and_path, services
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.browse import SHOWN_TEXT_BYTES
from hubstead.server.services.commits import AddFile, CommitHeader
from hubstead.server.services.discussions import pull_request_number
from hubstead.server.services.files import normalize_path
from hubstead.server.web import csrf
from hubstead.server.web.pages.discussions import thread_path
from hubstead.server.web.pages.repos import repo_links
from hubstead.server.web.render import render
from hubstead.server.web.session import signed_in
from hubstead.server.web.urls import REPO, path_url, repo_of, rev_url

# A file's text URL-encoded (up to 3 bytes per byte), and the rest of the form.
EDIT_FORM_BYTES = 3 * SHOWN_TEXT_BYTES + 16 * 1024


async def _editor(
    request: Request,
    *,
    new: bool,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
    existing: str | None = None,
) -> Response:
    """The editor for a file (or a new one), with what was typed when a send failed.

    `existing`: the path of the file a new one would have overwritten (linked to its editor).
    """
    type, repo_id = repo_of(request)
    revision, path = revision_and_path(request)
    caller = await signed_in(request)
    editor = await call(
        services(request).browse.editor,
        caller.identity,
        type,
        repo_id,
        revision,
        None if new else path,
    )
    form = form or {}
    return await render(
        request,
        "editor/edit.html",
        status_code,
        editor=editor,
        new=new,
        error=error,
        content=form.get("content", editor.text or ""),
        # A new file's folder may come with the link (`?path=configs/`).
        path=form.get("path", editor.path or request.query_params.get("path", "")[:1000]),
        summary=form.get("summary", ""),
        description=form.get("description", ""),
        target=form.get(
            "target", "commit" if editor.rights.may_write and not editor.pr_base else "pr"
        ),
        existing=existing,
        on_pull_request=pull_request_number(revision) is not None,
        parent=form.get("parent", editor.commit_id),
        chrome=editor.chrome,
        tab="files",
        **repo_links(request, type, repo_id, revision),
    )


async def get_edit(request: Request) -> Response:
    """The editor of a text file at a revision."""
    return await _editor(request, new=False)


async def get_new(request: Request) -> Response:
    """The editor of a new file at a revision."""
    return await _editor(request, new=True)


async def _send(request: Request, *, new: bool) -> Response:
    type, repo_id = repo_of(request)
    revision, path = revision_and_path(request)
    await signed_in(request)
    caller, form = await csrf.read_form(request, EDIT_FORM_BYTES)
    if new:
        path = form.get("path", "").strip()
    content = form.get("content", "")
    # Browsers send a textarea's lines ending with CRLF: a file whose lines did not keeps LF.
    if form.get("crlf") != "1":
        content = content.replace("\r\n", "\n")
    verb = "Create" if new else "Update"
    header = CommitHeader(
        summary=form.get("summary", "").strip() or f"{verb} {path}",
        description=form.get("description", ""),
        parent_commit=form.get("parent") or None,
    )
    create_pr = form.get("target") == "pr"
    hub = services(request)
    try:
        if not path:
            raise errors.InvalidRequestError("The new file needs a path")
        target = await call(
            hub.browse.edit_target, caller.identity, type, repo_id, revision, path if new else ""
        )
        if target.existing is not None:
            where = normalize_path(path)
            is_file = target.existing == "file"
            return await _editor(
                request,
                new=new,
                status_code=409,
                error=f"A file already exists at {where}; edit it instead"
                if is_file
                else f"A folder already exists at {where}; choose another path",
                form=form,
                existing=where if is_file else None,
            )
        # At a tag or a commit, the edit can only be a pull request into the default branch,
        # starting from the commit the editor was opened at (`parent`).
        send_to = revision
        if target.pr_base is not None:
            send_to, create_pr = target.pr_base, True
        result = await call(
            hub.commits.commit,
            caller.identity,
            type,
            repo_id,
            send_to,
            header,
            [AddFile(path, content.encode())],
            create_pr=create_pr,
        )
    except (errors.InvalidRequestError, errors.StaleParentError, errors.ConflictError) as exc:
        if isinstance(exc, errors.StaleParentError):
            exc = errors.StaleParentError(
                f"{revision} changed since you opened this editor: copy your text, reload the "
                "page and apply your change again (or open a pull request)"
            )
        return await _editor(
            request, new=new, status_code=errors.status_of(exc), error=exc.message, form=form
        )
    if result.pull_request is not None:
        return RedirectResponse(thread_path(type, repo_id, result.pull_request), status_code=303)
    links = repo_links(request, type, repo_id, revision)
    return RedirectResponse(
        f"{links['repo_path']}/blob/{rev_url(revision)}/{path_url(path)}", status_code=303
    )


async def post_edit(request: Request) -> Response:
    """Send the edited file as a commit or a pull request."""
    return await _send(request, new=False)


async def post_new(request: Request) -> Response:
    """Send the new file as a commit or a pull request."""
    return await _send(request, new=True)


def _editor_routes(prefix: str) -> list[Route]:
    repo = prefix + REPO
    return [
        Route(repo + "/edit/{revision}/{path:path}", get_edit, methods=["GET"]),
        Route(repo + "/edit/{revision}/{path:path}", post_edit, methods=["POST"]),
        Route(repo + "/new/{revision:path}", get_new, methods=["GET"]),
        Route(repo + "/new/{revision:path}", post_new, methods=["POST"]),
    ]


routes = [route for prefix in URL_PREFIXES for route in _editor_routes(prefix)]
