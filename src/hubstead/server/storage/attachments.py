"""The `AttachmentStore` Protocol: which objects were uploaded as discussion attachments."""

from __future__ import annotations

from typing import Protocol

from hubstead.server.domain.attachments import Attachment


class AttachmentStore(Protocol):
    """Records of attachments, by the sha256 of their bytes."""

    def add(self, attachment: Attachment) -> Attachment:
        """Record an attachment; the record already there when the same bytes were uploaded."""

    def get(self, sha256: str) -> Attachment | None:
        """The attachment with these bytes, or None."""
