"""The LFS objects a repo may reference: the rows of the LFS index."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class LfsObjectRecord:
    """An LFS object a repo may reference: uploaded or verified for that repo."""

    repo_id: int
    sha256: str
    size: int
    created_at: dt.datetime
