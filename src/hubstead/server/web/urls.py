"""The pieces of the web hub's URLs: repo paths, revisions and file paths in links, page numbers.

A repo page's route is a type's prefix (`""`, `"datasets/"`, ...) followed by `REPO`, whose
namespace segment (the `page_namespace` convertor) is never `api`, so the API's unknown paths
stay its 404s. A revision with `/` (`refs/pr/1`) is one `%2F`-encoded segment in links.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.requests import Request

from hubstead.protocol import RepoType
from hubstead.server.domain.spaces import LogKind
from hubstead.server.http.context import int_param, param, prefixed_repo_type

REPO = "/{namespace:page_namespace}/{name}"
MAX_PAGE = 10_000


class NamespaceConvertor(StringConvertor):
    """A repo page's namespace segment: never `api`."""

    regex = "(?!api/)[^/]+"


register_url_convertor("page_namespace", NamespaceConvertor())


def repo_of(request: Request) -> tuple[RepoType, str]:
    """The repo a page's path names: its type and id."""
    return prefixed_repo_type(request), f"{param(request, 'namespace')}/{param(request, 'name')}"


def repo_path(type: RepoType, repo_id: str) -> str:
    """The path of a repo's page (`/datasets/ns/name`, `/ns/name` for a model)."""
    return f"/{type.url_prefix}{repo_id}"


def space_log_path(repo_id: str, kind: LogKind) -> str:
    """The path of a Space's log page (`/spaces/ns/name/logs/build`)."""
    return f"{repo_path(RepoType.SPACE, repo_id)}/logs/{kind.value}"


def rev_url(revision: str) -> str:
    """A revision as one path segment (`refs%2Fpr%2F1`)."""
    return quote(revision, safe="")


def path_url(path: str) -> str:
    """A file path in a URL, its `/` kept."""
    return quote(path, safe="/")


def page_index(request: Request) -> int:
    """The zero-based page a listing's `?p=` (one-based) asks for."""
    return int_param(request, "p", 1, maximum=MAX_PAGE) - 1
