"""What the web hub's front page and search show: repos and accounts, as the caller sees them.

Every listing goes through `CatalogService.list`, so a private repo appears only to those who
may read it, exactly as in the API's listings.
"""

from __future__ import annotations

import dataclasses

from hubstead.protocol import RepoType
from hubstead.server.domain.accounts import Account
from hubstead.server.domain.repos import RepoQuery, RepoRecord
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.catalog import CatalogService, ListedRepo

# The repo types the front page and search show, in order (kernels are listed by the API).
SHOWN_TYPES = (RepoType.MODEL, RepoType.DATASET, RepoType.SPACE)


@dataclasses.dataclass(frozen=True)
class FrontPage:
    """The recently updated and the most liked repos of each shown type."""

    recent: dict[RepoType, list[RepoRecord]]
    most_liked: dict[RepoType, list[RepoRecord]]


@dataclasses.dataclass(frozen=True)
class SearchResults:
    """Repos of each shown type and accounts whose names contain the query."""

    query: str
    repos: dict[RepoType, list[RepoRecord]]
    accounts: list[Account]

    @property
    def empty(self) -> bool:
        """Whether nothing matched."""
        return not self.accounts and not any(self.repos.values())


def _rows(items: list[ListedRepo]) -> list[RepoRecord]:
    return [item if isinstance(item, RepoRecord) else item.repo for item in items]


class ExploreService:
    """The front page and search across repos, users and organizations."""

    def __init__(self, catalog: CatalogService, auth: AuthService) -> None:
        self._catalog = catalog
        self._auth = auth

    def _list(self, identity: Identity, query: RepoQuery) -> list[RepoRecord]:
        return _rows(self._catalog.list(identity, query).items)

    def front_page(self, identity: Identity, limit: int) -> FrontPage:
        """Up to `limit` recently updated and most liked repos of each type."""
        recent = {
            t: self._list(identity, RepoQuery(t.value, sort="last_modified", limit=limit))
            for t in SHOWN_TYPES
        }
        liked = {
            t: self._list(identity, RepoQuery(t.value, sort="likes", limit=limit))
            for t in SHOWN_TYPES
        }
        return FrontPage(recent, {t: [r for r in rows if r.likes] for t, rows in liked.items()})

    def search(self, identity: Identity, text: str, limit: int) -> SearchResults:
        """Up to `limit` repos of each type and accounts matching `text` (nothing when blank)."""
        query = text.strip()
        if not query:
            return SearchResults(query, {t: [] for t in SHOWN_TYPES}, [])
        repos = {
            t: self._list(identity, RepoQuery(t.value, search=[query], limit=limit))
            for t in SHOWN_TYPES
        }
        return SearchResults(query, repos, self._auth.search_accounts(query, limit))
