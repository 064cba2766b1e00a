"""What the hub shows about a user or an organization, and the storage its repos use."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hubstead.server.domain.accounts import Account, Membership
from hubstead.server.domain.repos import RepoRecord


@dataclasses.dataclass(frozen=True)
class RepoCounts:
    """How many repos of each type a namespace holds that the caller may see."""

    models: int = 0
    datasets: int = 0
    spaces: int = 0


@dataclasses.dataclass(frozen=True)
class Profile:
    """A user's or organization's overview, as one caller sees it.

    `is_following` is None for an anonymous caller; `members` counts an organization's members
    and `discussions` the discussions a user opened, `likes` the repos a user likes (both 0 for
    an organization, and counting only repos the caller can see); `orgs` are a user's
    organizations.
    """

    account: Account
    repos: RepoCounts
    followers: int
    following: int
    is_following: bool | None
    members: int = 0
    discussions: int = 0
    likes: int = 0
    orgs: tuple[Account, ...] = ()


@dataclasses.dataclass(frozen=True)
class RepoStorage:
    """A repo of a namespace with the bytes it uses and its share of the namespace's bytes."""

    type: str
    repo_id: str
    private: bool
    last_modified: dt.datetime
    used_bytes: int
    percent: float


@dataclasses.dataclass(frozen=True)
class ProfileView:
    """What a profile page shows: the overview, the visible repos, an organization's members.

    `repos` are those the caller may see, the most recently changed first.
    """

    profile: Profile
    repos: tuple[RepoRecord, ...]
    members: tuple[Account, ...] = ()


@dataclasses.dataclass(frozen=True)
class OrgMembers:
    """An organization with its members and their roles, as its admins manage them."""

    org: Account
    members: tuple[Membership, ...]
