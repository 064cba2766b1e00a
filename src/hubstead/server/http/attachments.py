"""Discussion attachments: uploading them and serving them.

Serves: `POST /uploads` (`huggingface_hub`'s `upload_attachment`: the raw file, its type in
`Content-Type`; the answer is the file's URL, as text), and `GET|HEAD /attachments/{sha256}.{ext}`.

An attachment is served from the hub's own origin, so it is served as inert media only: with the
type it was accepted as, `X-Content-Type-Options: nosniff` (no browser guesses HTML in it), and
a sandboxing `Content-Security-Policy` (should it ever be opened as a document, it runs nothing
and loads nothing). Its URL names immutable content: cacheable by anyone for a year. Ranges
are answered (video and audio players seek). On the s3 backend the bytes are streamed through
the hub, not redirected to the bucket: the bucket would not send these headers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from hubstead.server.http.blobs import file_response
from hubstead.server.http.context import base_url, call, identity, param, services
from hubstead.server.http.lfs import content_length, stream_into
from hubstead.server.http.ranges import streamed
from hubstead.server.services.attachments import extension


async def post_upload(request: Request) -> Response:
    """Take an attachment; answer its URL."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    caller = await identity(request)
    receiver = await call(
        services(request).attachments.begin, caller, content_type, content_length(request)
    )
    await stream_into(request, receiver)
    attachment = await call(receiver.finish)
    url = f"{base_url(request)}/attachments/{attachment.sha256}.{extension(attachment)}"
    return PlainTextResponse(url)


async def get_attachment(request: Request) -> Response:
    """Serve an attachment's bytes as inert media."""
    sha256, _, ext = param(request, "name").partition(".")
    found = await call(services(request).attachments.find, sha256, ext)
    attachment = found.attachment
    headers = {
        "Content-Type": attachment.content_type,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": "inline",
        "Cache-Control": "public, max-age=31536000, immutable",
        "ETag": f'"{attachment.sha256}"',
        "Accept-Ranges": "bytes",
    }
    if found.path is None:
        return await streamed(request, attachment.size, found.read, headers)
    return file_response(request, found.path, attachment.size, headers)


routes = [
    Route("/uploads", post_upload, methods=["POST"]),
    Route("/attachments/{name}", get_attachment, methods=["GET", "HEAD"]),
]
