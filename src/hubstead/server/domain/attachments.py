"""Attachments: image, video and audio files uploaded for discussions, served by their sha256."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class Attachment:
    """An uploaded file: its content's sha256, the media type it was accepted as, who sent it.

    The row is what makes the bytes servable: only an object recorded here is served by the
    attachment route (an LFS object with the same sha256 is not, unless uploaded as one).
    """

    sha256: str
    content_type: str
    size: int
    uploader_id: int | None
    created_at: dt.datetime
