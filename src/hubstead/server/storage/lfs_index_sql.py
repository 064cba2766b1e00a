"""`LfsIndex` on SQL: the `lfs_objects` table, one row per (repo, object)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.lfs import LfsObjectRecord
from hubstead.server.storage.db import Database, as_utc, utc_now
from hubstead.server.storage.schema import lfs_objects

_RECORDS_PAGE = 10_000
# Asked for each download of an LFS file: built once, found compiled in SQLAlchemy's cache.
_LINKED_SIZE = sa.select(lfs_objects.c.size).where(
    (lfs_objects.c.repo_id == sa.bindparam("repo_id"))
    & (lfs_objects.c.sha256 == sa.bindparam("sha256"))
)
# Asked by every repo info (`usedStorage`), mostly for one repo.
_USAGE = (
    sa.select(lfs_objects.c.repo_id, sa.func.sum(lfs_objects.c.size))
    .where(lfs_objects.c.repo_id.in_(sa.bindparam("repo_ids", expanding=True)))
    .group_by(lfs_objects.c.repo_id)
)


class SqlLfsIndex:
    """Which repos may reference which LFS objects."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def link(self, repo_id: int, sha256: str, size: int) -> None:
        """Insert the link, or correct an existing one's size (a concurrent insert is fine)."""
        values = {
            "repo_id": repo_id,
            "sha256": sha256,
            "size": size,
            "created_at": utc_now(),
        }
        with contextlib.suppress(sa.exc.IntegrityError), self._db.write() as conn:
            linked = self._size(conn, repo_id, sha256)
            if linked is None:
                conn.execute(sa.insert(lfs_objects).values(values))
            elif linked != size:
                conn.execute(
                    sa.update(lfs_objects)
                    .where((lfs_objects.c.repo_id == repo_id) & (lfs_objects.c.sha256 == sha256))
                    .values(size=size, created_at=values["created_at"])
                )

    def copy_links(self, source_id: int, target_id: int) -> None:
        """One `INSERT ... SELECT` of the source's rows the target lacks, dates kept."""
        present = sa.select(lfs_objects.c.sha256).where(lfs_objects.c.repo_id == target_id)
        rows = sa.select(
            sa.literal(target_id),
            lfs_objects.c.sha256,
            lfs_objects.c.size,
            lfs_objects.c.created_at,
        ).where((lfs_objects.c.repo_id == source_id) & lfs_objects.c.sha256.not_in(present))
        columns = ["repo_id", "sha256", "size", "created_at"]
        with self._db.write() as conn:
            conn.execute(sa.insert(lfs_objects).from_select(columns, rows))

    def linked_size(self, repo_id: int, sha256: str) -> int | None:
        """The object's size when linked to the repo."""
        with self._db.query() as conn:
            return self._size(conn, repo_id, sha256)

    @staticmethod
    def _size(conn: sa.Connection, repo_id: int, sha256: str) -> int | None:
        size = conn.scalar(_LINKED_SIZE, {"repo_id": repo_id, "sha256": sha256})
        return None if size is None else int(size)

    def list(self, repo_id: int, offset: int, limit: int) -> list[LfsObjectRecord]:
        """Newest first, then by digest."""
        query = (
            sa.select(lfs_objects)
            .where(lfs_objects.c.repo_id == repo_id)
            .order_by(lfs_objects.c.created_at.desc(), lfs_objects.c.sha256)
            .offset(offset)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def unlink(self, repo_id: int, digests: Sequence[str]) -> int:
        """Delete the links."""
        if not digests:
            return 0
        condition = (lfs_objects.c.repo_id == repo_id) & lfs_objects.c.sha256.in_(list(digests))
        with self._db.write() as conn:
            return int(conn.execute(sa.delete(lfs_objects).where(condition)).rowcount)

    def unlink_if(self, repo_id: int, sha256: str, size: int) -> bool:
        """Delete the link if it still names this size; whether it did."""
        condition = (
            (lfs_objects.c.repo_id == repo_id)
            & (lfs_objects.c.sha256 == sha256)
            & (lfs_objects.c.size == size)
        )
        with self._db.write() as conn:
            return bool(conn.execute(sa.delete(lfs_objects).where(condition)).rowcount)

    def linked_digests(self) -> set[str]:
        """Every linked object."""
        with self._db.read() as conn:
            return set(conn.scalars(sa.select(lfs_objects.c.sha256).distinct()))

    def usage(self, repo_ids: Collection[int]) -> dict[int, int]:
        """Sum of each repo's object sizes."""
        totals = dict.fromkeys(repo_ids, 0)
        if not totals:
            return totals
        with self._db.query() as conn:
            rows = conn.execute(_USAGE, {"repo_ids": list(totals)})
            totals.update((repo_id, int(total)) for repo_id, total in rows)
        return totals

    def is_linked(self, sha256: str) -> bool:
        """Whether any row names the object."""
        with self._db.read() as conn:
            found = conn.scalar(
                sa.select(lfs_objects.c.repo_id).where(lfs_objects.c.sha256 == sha256).limit(1)
            )
        return found is not None

    def records(self) -> Iterator[LfsObjectRecord]:
        """Every row, in pages that each use a short read transaction (keyset pagination)."""
        after: tuple[str, int] | None = None
        while True:
            query = sa.select(lfs_objects).order_by(lfs_objects.c.sha256, lfs_objects.c.repo_id)
            if after is not None:
                query = query.where(
                    sa.tuple_(lfs_objects.c.sha256, lfs_objects.c.repo_id) > sa.tuple_(*after)
                )
            with self._db.read() as conn:
                page = [_record(row) for row in conn.execute(query.limit(_RECORDS_PAGE))]
            yield from page
            if len(page) < _RECORDS_PAGE:
                return
            after = (page[-1].sha256, page[-1].repo_id)


def _record(row: sa.Row[Any]) -> LfsObjectRecord:
    return LfsObjectRecord(
        repo_id=row.repo_id,
        sha256=row.sha256,
        size=int(row.size),
        created_at=as_utc(row.created_at),
    )
