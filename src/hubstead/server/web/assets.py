"""The web hub's static files (`web/static/`), served with a content hash for long caching.

Pages link to `/static/<name>?v=<hash>`: the hash of the file's bytes, so a new release gets
new URLs and browsers may keep each version for a year. The files are read once, from the
installed package.

Serves: `GET /static/{name}`.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import mimetypes

from starlette.requests import Request
from starlette.responses import Response

from hubstead.server import errors

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


class Assets:
    """The static files by name, with their version hashes."""

    def __init__(self) -> None:
        folder = importlib.resources.files("hubstead.server.web").joinpath("static")
        self._files = {
            entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()
        }
        self._versions = {
            name: hashlib.sha256(data).hexdigest()[:16] for name, data in self._files.items()
        }

    def url(self, name: str) -> str:
        """The versioned URL of a static file."""
        return f"/static/{name}?v={self._versions[name]}"

    async def get_static(self, request: Request) -> Response:
        """A static file; cached for a year when asked for by its current version."""
        name = str(request.path_params["name"])
        data = self._files.get(name)
        if data is None:
            raise errors.NotFoundError(f"No static file {name!r}")
        suffix = "." + name.rpartition(".")[2]
        kind = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        current = request.query_params.get("v") == self._versions[name]
        cache = "public, max-age=31536000, immutable" if current else "no-cache"
        headers = {
            "Cache-Control": cache,
            "ETag": f'"{self._versions[name]}"',
            "X-Content-Type-Options": "nosniff",
        }
        return Response(data, media_type=kind, headers=headers)
