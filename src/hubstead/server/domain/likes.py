"""Likes: who liked which repo, and when."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hubstead.server.domain.repos import RepoRecord


@dataclasses.dataclass(frozen=True)
class Liker:
    """A user who liked a repo."""

    name: str
    fullname: str
    liked_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class LikedRepo:
    """A repo a user liked."""

    repo: RepoRecord
    liked_at: dt.datetime
