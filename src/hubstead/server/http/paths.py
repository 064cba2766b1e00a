"""The URL patterns the API routes share, with the repo type matched while routing.

`{type_segment:repo_type}` matches only `models`, `datasets`, `spaces` and `kernels` and hands the
route a `RepoType`, so `/api/<anything else>/...` matches no repo route: it reaches the router's
404, which `http/errors.py` answers with `EndpointNotFound` (instead of a repo route running and
blaming the "repo type"). Importing this module registers the convertor with Starlette, which
every module building routes from these patterns does before its routes are compiled.
"""

from __future__ import annotations

from typing import ClassVar

from starlette.convertors import Convertor, register_url_convertor

from hubstead.protocol import RepoType


class RepoTypeConvertor(Convertor[RepoType]):
    """The plural `/api/` segment of a repo type (`models`, `datasets`, `spaces`, `kernels`)."""

    regex: ClassVar[str] = "|".join(t.api_segment for t in RepoType)

    def convert(self, value: str) -> RepoType:
        """The repo type a segment names (the regex admits no other)."""
        found = RepoType.from_api_segment(value)
        assert found is not None
        return found

    def to_string(self, value: RepoType) -> str:
        """The segment of a repo type."""
        return value.api_segment


register_url_convertor("repo_type", RepoTypeConvertor())

API_REPOS = "/api/{type_segment:repo_type}"
"""A listing of one type of repo."""
API_REPO = API_REPOS + "/{namespace}/{name}"
"""One repo, under `/api/`: every repo endpoint's path starts with it."""

URL_PREFIXES = (
    *(f"/{t.url_prefix.rstrip('/')}" for t in RepoType if t.url_prefix),
    "",
)
"""What non-API repo URLs (files, git, LFS) start with: `/datasets`, `/spaces`, `/kernels`, and
nothing for models, last, so a prefix is never read as a model's namespace."""
