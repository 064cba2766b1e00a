"""Uploading files from the browser, as one commit.

Serves, for models (`/{ns}/{name}`) and under `/datasets`, `/spaces` and `/kernels`:
`GET {repo}/upload/{rev}[/{folder}]` (the form: files, a commit message, "open a pull
request"), for those who may commit there, and `POST` to the same address (`multipart/form-data`:
`files` (several), `summary`, `description`, `create_pr`). The form works without JavaScript;
`static/upload.js` adds drag and drop and a progress bar.

The files are spooled to temporary files on the hub's data disk (`UploadService.spool`) as
they arrive (never more than the largest LFS object the hub accepts), then committed through
`UploadService`: LFS where `huggingface_hub` would use LFS, inline otherwise, in one commit.
Then the folder they went to, or the pull request's files.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.http.context import (
    call,
    param,
    prefixed_repo_type,
    revision_and_path,
    services,
)
from hubstead.server.http.paths import URL_PREFIXES
from hubstead.server.services.commits import CommitHeader
from hubstead.server.services.files import normalize_path
from hubstead.server.services.uploads import MAX_FILES, UploadedFile
from hubstead.server.web import csrf, urls
from hubstead.server.web.render import render
from hubstead.server.web.session import Visitor, signed_in
from hubstead.server.web.urls import REPO, path_url, rev_url

_MAX_SUMMARY = 500
_MAX_DESCRIPTION = 20_000
# Form errors the uploader can fix on the page.
_FIXABLE = (errors.InvalidRequestError, errors.AuthorizationError, errors.ConflictError)


def _target(request: Request) -> tuple[RepoType, str, str, str]:
    """The repo, revision and folder an upload page's path names."""
    revision, path = revision_and_path(request)
    repo_id = f"{param(request, 'namespace')}/{param(request, 'name')}"
    return prefixed_repo_type(request), repo_id, revision, normalize_path(path)


async def _form(
    request: Request, caller: Visitor, *, status: int = 200, error: str | None = None
) -> Response:
    type, repo_id, revision, folder = _target(request)
    hub = services(request)
    # The page is for those whose commit could land there (as the commit API checks).
    await call(hub.commits.begin, caller.identity, type, repo_id, revision)
    chrome = await call(hub.browse.chrome, caller.identity, type, repo_id)
    repo_path = urls.repo_path(type, repo_id)
    return await render(
        request,
        "uploads/upload.html",
        status,
        type=type,
        repo_id=repo_id,
        repo_path=repo_path,
        revision=revision,
        rev=rev_url(revision),
        folder=folder,
        action=request.url.path,
        tab="files",
        chrome=chrome,
        lfs_threshold=hub.settings.lfs_threshold_bytes,
        max_file=hub.lfs.max_object_bytes,
        error=error,
    )


async def get_upload(request: Request) -> Response:
    """The upload form."""
    return await _form(request, await signed_in(request))


async def post_upload(request: Request) -> Response:
    """Commit the posted files; then the folder they went to (or the pull request's)."""
    type, repo_id, revision, folder = _target(request)
    await signed_in(request)
    hub = services(request)
    caller, form = await csrf.read_multipart(
        request, hub.lfs.max_object_bytes, MAX_FILES, hub.uploads.spool
    )
    try:
        uploads = [
            item for item in form.getlist("files") if isinstance(item, UploadFile) and item.filename
        ]
        files = [
            UploadedFile(
                f"{folder}/{upload.filename}" if folder else str(upload.filename),
                upload.file,
                upload.size if upload.size is not None else _size(upload),
            )
            for upload in uploads
        ]
        summary = str(form.get("summary") or "").strip()[:_MAX_SUMMARY]
        if not summary:
            names = [upload.filename for upload in uploads]
            summary = f"Upload {names[0]}" if len(names) == 1 else f"Upload {len(names)} files"
        description = str(form.get("description") or "").strip()[:_MAX_DESCRIPTION]
        create_pr = bool(form.get("create_pr"))
        try:
            result = await call(
                hub.uploads.upload,
                caller.identity,
                type,
                repo_id,
                revision,
                files,
                CommitHeader(summary, description),
                create_pr=create_pr,
            )
        except _FIXABLE as exc:
            return await _form(request, caller, status=errors.status_of(exc), error=exc.message)
    finally:
        await form.close()
    repo_path = urls.repo_path(type, repo_id)
    if result.pull_request is not None:
        location = f"{repo_path}/tree/{rev_url(f'refs/pr/{result.pull_request}')}"
    else:
        location = f"{repo_path}/tree/{rev_url(revision)}"
        if folder:
            location += "/" + path_url(folder)
    return RedirectResponse(location, status_code=303)


def _size(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    return upload.file.tell()


def _repo_routes(prefix: str) -> list[Route]:
    upload = prefix + REPO + "/upload/{revision}"
    return [
        Route(upload, get_upload, methods=["GET"]),
        Route(upload, post_upload, methods=["POST"]),
        Route(upload + "/{path:path}", get_upload, methods=["GET"]),
        Route(upload + "/{path:path}", post_upload, methods=["POST"]),
    ]


routes = [route for prefix in URL_PREFIXES for route in _repo_routes(prefix)]
