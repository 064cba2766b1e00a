"""`XetIndex` on SQL: the `xet_*` tables (xorbs and who may use them, dedup chunks, files).

A xorb's chunks and a file's terms are read and written whole, so each is one packed column
rather than rows of their own: a 64 MiB xorb has about a thousand chunks (40 bytes each here),
and a file a few terms per 64 MiB.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from hubstead.server.domain.xet import XetFileRecord, XetTerm, XorbRecord
from hubstead.server.storage.db import Database, insert_missing, utc_now
from hubstead.server.storage.schema import (
    xet_dedup_chunks,
    xet_file_xorbs,
    xet_files,
    xet_xorb_repos,
    xet_xorb_uploaders,
    xet_xorbs,
)

_CHUNK = struct.Struct("<32sII")
_TERM = struct.Struct("<32sIII")
_PAGE = 1_000
_IN_BATCH = 500
# Asked for each download of an LFS file (is it held as a Xet file?): built once.
_OLDEST_FILE = (
    sa.select(xet_files)
    .where(xet_files.c.sha256 == sa.bindparam("sha256"))
    .order_by(xet_files.c.created_at, xet_files.c.hash)
    .limit(1)
)


class SqlXetIndex:
    """Xorbs, their repos and dedup chunks, and files, in the metadata database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_xorb(
        self,
        record: XorbRecord,
        repo_id: int,
        uploader: int | None,
        dedup_chunks: Sequence[bytes],
    ) -> bool:
        """Insert the xorb if new, then its link, uploader and dedup chunks (present ones stay)."""
        row = {
            "hash": record.hash,
            "size": record.size,
            "chunks": _pack_chunks(record),
            "created_at": utc_now(),
        }
        with self._db.write() as conn:
            new = conn.scalar(sa.select(xet_xorbs.c.hash).where(xet_xorbs.c.hash == record.hash))
            insert_missing(conn, xet_xorbs, [row])
            insert_missing(conn, xet_xorb_repos, [{"xorb_hash": record.hash, "repo_id": repo_id}])
            if uploader is not None:
                insert_missing(
                    conn,
                    xet_xorb_uploaders,
                    [{"xorb_hash": record.hash, "account_id": uploader}],
                )
            insert_missing(
                conn,
                xet_dedup_chunks,
                [{"chunk_hash": chunk.hex(), "xorb_hash": record.hash} for chunk in dedup_chunks],
            )
        return new is None

    def xorbs(self, hashes: Collection[str]) -> dict[str, XorbRecord]:
        """The stored ones among these xorbs."""
        found: dict[str, XorbRecord] = {}
        with self._db.read() as conn:
            for batch in _batches(sorted(set(hashes))):
                rows = conn.execute(sa.select(xet_xorbs).where(xet_xorbs.c.hash.in_(batch)))
                found.update((row.hash, _xorb(row)) for row in rows)
        return found

    def xorb_repos(self, hashes: Collection[str]) -> dict[str, frozenset[int]]:
        """Each linked xorb's repos."""
        repos: dict[str, set[int]] = {}
        with self._db.read() as conn:
            for batch in _batches(sorted(set(hashes))):
                rows = conn.execute(
                    sa.select(xet_xorb_repos).where(xet_xorb_repos.c.xorb_hash.in_(batch))
                )
                for row in rows:
                    repos.setdefault(row.xorb_hash, set()).add(row.repo_id)
        return {xorb: frozenset(ids) for xorb, ids in repos.items()}

    def uploaded_by(self, account_id: int, hashes: Collection[str]) -> set[str]:
        """Those of the xorbs the account uploaded."""
        found: set[str] = set()
        with self._db.read() as conn:
            for batch in _batches(sorted(set(hashes))):
                query = sa.select(xet_xorb_uploaders.c.xorb_hash).where(
                    (xet_xorb_uploaders.c.account_id == account_id)
                    & xet_xorb_uploaders.c.xorb_hash.in_(batch)
                )
                found.update(conn.scalars(query))
        return found

    def link_xorbs(self, repo_id: int, hashes: Collection[str]) -> None:
        """Insert the missing links."""
        rows = [{"xorb_hash": xorb, "repo_id": repo_id} for xorb in sorted(set(hashes))]
        with self._db.write() as conn:
            insert_missing(conn, xet_xorb_repos, rows)

    def copy_xorb_links(self, source_id: int, target_id: int) -> None:
        """One `INSERT ... SELECT` of the source's links the target lacks."""
        present = sa.select(xet_xorb_repos.c.xorb_hash).where(xet_xorb_repos.c.repo_id == target_id)
        rows = sa.select(xet_xorb_repos.c.xorb_hash, sa.literal(target_id)).where(
            (xet_xorb_repos.c.repo_id == source_id) & xet_xorb_repos.c.xorb_hash.not_in(present)
        )
        with self._db.write() as conn:
            conn.execute(sa.insert(xet_xorb_repos).from_select(["xorb_hash", "repo_id"], rows))

    def dedup_xorbs(self, chunk_hash: bytes, limit: int) -> list[str]:
        """Newest xorbs first: the most likely to hold what a client is uploading now."""
        query = (
            sa.select(xet_dedup_chunks.c.xorb_hash)
            .join(xet_xorbs, xet_xorbs.c.hash == xet_dedup_chunks.c.xorb_hash)
            .where(xet_dedup_chunks.c.chunk_hash == chunk_hash.hex())
            .order_by(xet_xorbs.c.created_at.desc(), xet_xorbs.c.hash)
            .limit(limit)
        )
        with self._db.read() as conn:
            return list(conn.scalars(query))

    def add_file(self, record: XetFileRecord, first_chunk: bytes) -> None:
        """Insert the file and its first chunk's dedup entry, unless present."""
        row = {
            "hash": record.hash,
            "sha256": record.sha256,
            "size": record.size,
            "terms": b"".join(
                _TERM.pack(bytes.fromhex(t.xorb), t.chunk_start, t.chunk_end, t.size)
                for t in record.terms
            ),
            "created_at": utc_now(),
        }
        first = {"chunk_hash": first_chunk.hex(), "xorb_hash": record.terms[0].xorb}
        uses = [{"xorb_hash": xorb, "file_hash": record.hash} for xorb in sorted(record.xorbs)]
        with self._db.write() as conn:
            insert_missing(conn, xet_files, [row])
            insert_missing(conn, xet_dedup_chunks, [first])
            insert_missing(conn, xet_file_xorbs, uses)

    def files_using(self, xorb: str, limit: int) -> list[XetFileRecord]:
        """Up to `limit` files whose terms use the xorb, most recently recorded first."""
        query = (
            sa.select(xet_files)
            .join(xet_file_xorbs, xet_file_xorbs.c.file_hash == xet_files.c.hash)
            .where(xet_file_xorbs.c.xorb_hash == xorb)
            .order_by(xet_files.c.created_at.desc(), xet_files.c.hash)
            .limit(limit)
        )
        with self._db.read() as conn:
            return [_file(row) for row in conn.execute(query)]

    def file(self, hash: str) -> XetFileRecord | None:
        """The file by Xet hash."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(xet_files).where(xet_files.c.hash == hash)).first()
        return None if row is None else _file(row)

    def file_for_sha256(self, sha256: str) -> XetFileRecord | None:
        """The oldest file with this sha256 (a stable choice)."""
        with self._db.query() as conn:
            row = conn.execute(_OLDEST_FILE, {"sha256": sha256}).first()
        return None if row is None else _file(row)

    def files_for_sha256(self, digests: Collection[str]) -> dict[str, XetFileRecord]:
        """For each digest, its oldest file."""
        found: dict[str, XetFileRecord] = {}
        with self._db.read() as conn:
            for batch in _batches(sorted(set(digests))):
                query = (
                    sa.select(xet_files)
                    .where(xet_files.c.sha256.in_(batch))
                    .order_by(xet_files.c.created_at.desc(), xet_files.c.hash.desc())
                )
                # Newest first, so the oldest of each digest is written last and stays.
                found.update((row.sha256, _file(row)) for row in conn.execute(query))
        return found

    def files(self) -> Iterator[XetFileRecord]:
        """Every file, by hash, in pages (keyset pagination, a short transaction each)."""
        for rows in _pages(self._db, xet_files, xet_files.c.hash):
            yield from (_file(row) for row in rows)

    def xorb_hashes(self) -> Iterator[str]:
        """Every xorb's hash, in pages."""
        for rows in _pages(self._db, xet_xorbs, xet_xorbs.c.hash):
            yield from (row.hash for row in rows)

    def delete_file(self, hash: str) -> bool:
        """Delete the file's row."""
        with self._db.write() as conn:
            conn.execute(sa.delete(xet_file_xorbs).where(xet_file_xorbs.c.file_hash == hash))
            deleted = conn.execute(sa.delete(xet_files).where(xet_files.c.hash == hash))
        return bool(deleted.rowcount)

    def delete_xorb(self, hash: str) -> bool:
        """Delete the xorb with its links and dedup chunks (foreign keys cascade, made explicit)."""
        with self._db.write() as conn:
            conn.execute(sa.delete(xet_xorb_repos).where(xet_xorb_repos.c.xorb_hash == hash))
            conn.execute(
                sa.delete(xet_xorb_uploaders).where(xet_xorb_uploaders.c.xorb_hash == hash)
            )
            conn.execute(sa.delete(xet_dedup_chunks).where(xet_dedup_chunks.c.xorb_hash == hash))
            conn.execute(sa.delete(xet_file_xorbs).where(xet_file_xorbs.c.xorb_hash == hash))
            deleted = conn.execute(sa.delete(xet_xorbs).where(xet_xorbs.c.hash == hash))
        return bool(deleted.rowcount)


def _pack_chunks(record: XorbRecord) -> bytes:
    return b"".join(
        _CHUNK.pack(hash_, size, end)
        for hash_, size, end in zip(
            record.chunk_hashes, record.chunk_sizes, record.chunk_ends, strict=True
        )
    )


def _xorb(row: sa.Row[Any]) -> XorbRecord:
    chunks = list(_CHUNK.iter_unpack(row.chunks))
    return XorbRecord(
        hash=row.hash,
        size=int(row.size),
        chunk_hashes=tuple(chunk[0] for chunk in chunks),
        chunk_sizes=tuple(chunk[1] for chunk in chunks),
        chunk_ends=tuple(chunk[2] for chunk in chunks),
    )


def _file(row: sa.Row[Any]) -> XetFileRecord:
    terms = tuple(
        XetTerm(xorb.hex(), start, end, size)
        for xorb, start, end, size in _TERM.iter_unpack(row.terms)
    )
    return XetFileRecord(hash=row.hash, sha256=row.sha256, size=int(row.size), terms=terms)


def _batches(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_BATCH):
        yield values[start : start + _IN_BATCH]


def _pages(db: Database, table: sa.Table, key: sa.Column[Any]) -> Iterator[list[sa.Row[Any]]]:
    after: str | None = None
    while True:
        query = sa.select(table).order_by(key).limit(_PAGE)
        if after is not None:
            query = query.where(key > after)
        with db.read() as conn:
            page = list(conn.execute(query))
        if page:
            yield page
        if len(page) < _PAGE:
            return
        after = page[-1]._mapping[key]
