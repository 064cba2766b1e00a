"""Mirrored repos: where each comes from and how it is kept in sync."""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class MirrorRecord:
    """A repo mirrored from an upstream hub, and how it is kept in sync.

    `repo_id` is the local repo's row (`repo_type` and `local_id` come from it). Empty
    `revisions` tracks every branch and tag; `include`/`exclude` are glob patterns limiting which
    LFS files a sync fetches. An `on_demand` mirror (pull-through) fetches LFS files when they
    are first downloaded, not when it syncs.
    """

    repo_id: int
    repo_type: str
    local_id: str
    upstream: str
    upstream_repo_id: str
    upstream_token: str | None
    revisions: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    schedule_seconds: int | None
    on_demand: bool
    created_at: dt.datetime
    synced_at: dt.datetime | None
    sync_error: str | None
    next_sync_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class NewMirror:
    """A mirror to record for an existing repo row."""

    repo_id: int
    upstream: str
    upstream_repo_id: str
    upstream_token: str | None
    revisions: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    schedule_seconds: int | None = None
    on_demand: bool = False
    next_sync_at: dt.datetime | None = None
