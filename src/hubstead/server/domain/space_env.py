"""A Space's environment: the secrets and variables its runtime is given.

Both are environment variables of the Space's process. A variable's value is shown to
everyone who may change it; a secret's value is write-only (only its key, description and
time of change are ever returned) and is kept encrypted at rest.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class EnvKind(enum.Enum):
    """Whether an entry is a secret or a variable."""

    SECRET = "secret"  # noqa: S105 (a kind, not a password)
    VARIABLE = "variable"


@dataclass(frozen=True)
class StoredEntry:
    """One entry as stored: a variable's value as UTF-8, a secret's sealed (`sealing.py`)."""

    key: str
    value: bytes
    description: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class EnvInput:
    """An entry as a caller gives it (`create_repo`'s `space_secrets`, `space_variables`)."""

    key: str
    value: str
    description: str


@dataclass(frozen=True)
class SpaceSecret:
    """A secret as the API shows it: never its value."""

    key: str
    description: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class SpaceVariable:
    """A variable as the API shows it."""

    key: str
    value: str
    description: str
    updated_at: dt.datetime


class PutOutcome(enum.Enum):
    """What storing an entry did."""

    STORED = "stored"
    OTHER_KIND = "the key is taken by the other kind"
    FULL = "the Space has as many entries as allowed"
