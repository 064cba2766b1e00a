"""`AttachmentStore` on SQL: the `attachments` table."""

from __future__ import annotations

import sqlalchemy as sa

from hubstead.server.domain.attachments import Attachment
from hubstead.server.storage.db import Database, as_utc, upsert
from hubstead.server.storage.schema import attachments


class SqlAttachmentStore:
    """Attachments, one row per content."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, attachment: Attachment) -> Attachment:
        """Insert the row unless the content is recorded, then read back what is."""
        row = {
            "sha256": attachment.sha256,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "uploader_id": attachment.uploader_id,
            "created_at": attachment.created_at,
        }
        with self._db.write() as conn:
            conn.execute(upsert(conn, attachments).values(row).on_conflict_do_nothing())
            found = _read(conn, attachment.sha256)
        assert found is not None, "inserted or already there"
        return found

    def get(self, sha256: str) -> Attachment | None:
        """Look the row up by its primary key."""
        with self._db.read() as conn:
            return _read(conn, sha256)


def _read(conn: sa.Connection, sha256: str) -> Attachment | None:
    row = conn.execute(sa.select(attachments).where(attachments.c.sha256 == sha256)).first()
    if row is None:
        return None
    return Attachment(
        row.sha256, row.content_type, row.size, row.uploader_id, as_utc(row.created_at)
    )
