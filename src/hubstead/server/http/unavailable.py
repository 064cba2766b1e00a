"""Hub endpoints this hub does not serve (yet): one table, one clear 404 for every method.

`huggingface_hub` calls many endpoints beyond repos and files. Without this table they would
fall through to other routes and answer misleadingly (`/api/spaces/zero-gpu/quota` looked up as
a Space named "quota", `/api/users/...` as an unknown repo type, 405 for a method no route takes).
Each request here answers 404 with `X-Error-Code: NotImplemented` and a message naming the
feature. These routes are mounted before all others; when a feature is built, delete its row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubstead.server import errors


@dataclass(frozen=True)
class Unavailable:
    """A feature (named as a plural noun phrase) and the route patterns that belong to it."""

    feature: str
    patterns: tuple[str, ...]

    @property
    def message(self) -> str:
        """What the client is told."""
        return f"{self.feature} are not available on this hub yet"


def _with_subpaths(*prefixes: str) -> tuple[str, ...]:
    return tuple(p for prefix in prefixes for p in (prefix, prefix + "/{rest:path}"))


UNAVAILABLE: tuple[Unavailable, ...] = (
    Unavailable(
        "Resource groups of collections", ("/api/collections/{namespace}/{slug}/resource-group",)
    ),
    Unavailable("Dataset leaderboards", ("/api/datasets/{namespace}/{name}/leaderboard",)),
    Unavailable("ZeroGPU quotas", ("/api/spaces/zero-gpu/quota",)),
    Unavailable("Space semantic search", ("/api/spaces/semantic-search",)),
    Unavailable("Buckets", _with_subpaths("/api/buckets")),
    Unavailable("Jobs", _with_subpaths("/api/jobs", "/api/scheduled-jobs")),
    Unavailable("Papers", (*_with_subpaths("/api/papers"), "/api/daily_papers")),
)


def _refuse(entry: Unavailable) -> Callable[[Request], Awaitable[Response]]:
    async def refuse_unavailable(request: Request) -> Response:
        raise errors.FeatureUnavailableError(entry.message)

    return refuse_unavailable


# Every method gets the same answer, never a 405 (Starlette's default is GET only).
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
routes = [
    Route(pattern, _refuse(entry), methods=_METHODS)
    for entry in UNAVAILABLE
    for pattern in entry.patterns
]
