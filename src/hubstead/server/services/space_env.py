"""`SpaceEnvService`: listing, adding and deleting a Space's secrets and variables.

Only callers who may commit to the Space may list or change either (a Space they may not see
is as missing as one that does not exist, and read tokens are refused as for any write).
Secret values go in and never come out: they are sealed before they are stored.

The rules for keys and values (`entry_problem`) keep a Space's process able to start as the
runtime intends: a key is an environment variable name, and the names the runtime sets itself
or that change how a process loads and runs (`RESERVED_NAMES`, `RESERVED_PREFIXES`) are
refused, whatever their case.
"""

from __future__ import annotations

import re

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.space_env import (
    EnvInput,
    EnvKind,
    PutOutcome,
    SpaceSecret,
    SpaceVariable,
    StoredEntry,
)
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.repos import RepoService
from hubstead.server.services.sealing import Sealer
from hubstead.server.storage.space_env import SpaceEnvStore

MAX_KEY_LENGTH = 128
MAX_VALUE_BYTES = 64 * 1024
MAX_DESCRIPTION_LENGTH = 1000
MAX_ENTRIES = 100
"""Secrets and variables together, per Space."""

RESERVED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "SHELL",
        "PWD",
        "HOSTNAME",
        "TMPDIR",
        "PORT",
        "SYSTEM",
        "IFS",
        "ENV",
        "BASH_ENV",
        "NODE_OPTIONS",
        "NODE_PATH",
    }
)
"""Names set by the runtime (`SYSTEM`, `PORT`, ...) or read by shells and interpreters at start."""

RESERVED_PREFIXES = ("SPACE_", "HF_", "LD_", "PYTHON", "GRADIO_", "STREAMLIT_")
"""The runtime's own namespaces (`SPACE_ID`, `HF_TOKEN`, ...), the dynamic loader's
(`LD_PRELOAD`) and Python's (`PYTHONPATH`); the SDK servers' (`GRADIO_SERVER_PORT`)."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def entry_problem(key: str, value: str, description: str) -> str | None:
    """Why an entry cannot be stored, or None."""
    if not key:
        return "The key must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"The key is longer than {MAX_KEY_LENGTH} characters"
    if _ENV_NAME.fullmatch(key) is None:
        return (
            f"The key {key!r} is not an environment variable name: letters, digits and "
            "underscores, not starting with a digit"
        )
    upper = key.upper()
    if upper in RESERVED_NAMES or upper.startswith(RESERVED_PREFIXES):
        return (
            f"The key {key!r} is reserved: the Space runtime sets it, or it changes how a "
            "process runs"
        )
    for what, text in (("value", value), ("description", description)):
        # A process environment is C strings: a NUL would cut the value short.
        if "\x00" in text:
            return f"The {what} must not contain NUL characters"
    if len(value.encode()) > MAX_VALUE_BYTES:
        return f"The value is larger than {MAX_VALUE_BYTES // 1024} KiB"
    if len(description) > MAX_DESCRIPTION_LENGTH:
        return f"The description is longer than {MAX_DESCRIPTION_LENGTH} characters"
    return None


class SpaceEnvService:
    """Secrets and variables of Spaces."""

    def __init__(
        self, repos: RepoService, store: SpaceEnvStore, sealer: Sealer, *, clock: Clock = utcnow
    ) -> None:
        self._repos = repos
        self._store = store
        self._sealer = sealer
        self._clock = clock

    def secrets(self, identity: Identity, repo_id: str) -> list[SpaceSecret]:
        """The Space's secrets, by key, without their values.

        Raises:
            RepoNotFoundError: no such Space, or invisible to the caller.
            AuthenticationError, AuthorizationError: the caller may not write to it.
        """
        space = self._space(identity, repo_id)
        return [
            SpaceSecret(e.key, e.description, e.updated_at)
            for e in self._store.entries(space.id, EnvKind.SECRET)
        ]

    def variables(self, identity: Identity, repo_id: str) -> list[SpaceVariable]:
        """The Space's variables, by key.

        Raises:
            RepoNotFoundError: no such Space, or invisible to the caller.
            AuthenticationError, AuthorizationError: the caller may not write to it.
        """
        space = self._space(identity, repo_id)
        return [
            SpaceVariable(e.key, e.value.decode(), e.description, e.updated_at)
            for e in self._store.entries(space.id, EnvKind.VARIABLE)
        ]

    def put(
        self,
        identity: Identity,
        repo_id: str,
        kind: EnvKind,
        key: str,
        value: str,
        description: str | None,
    ) -> None:
        """Add an entry, or replace the one with that key (its description too).

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `secrets`.
            InvalidRequestError: a bad key, a value or description too long or holding a
                NUL, the key taken by the other kind, or the Space full.
        """
        space = self._space(identity, repo_id)
        problem = entry_problem(key, value, description or "")
        if problem is not None:
            raise errors.InvalidRequestError(problem)
        self._store_entry(space, kind, EnvInput(key, value, description or ""))

    def check_initial(self, secrets: list[EnvInput], variables: list[EnvInput]) -> None:
        """Refuse entries a new Space could not be given, before the Space is created.

        Raises:
            InvalidRequestError: an entry breaking a rule, a key given twice, or too many.
        """
        given = [*secrets, *variables]
        for entry in given:
            problem = entry_problem(entry.key, entry.value, entry.description)
            if problem is not None:
                raise errors.InvalidRequestError(problem)
        keys = [entry.key for entry in given]
        if len(set(keys)) != len(keys):
            raise errors.InvalidRequestError(
                "Each key may be given once, as a secret or a variable"
            )
        if len(keys) > MAX_ENTRIES:
            raise errors.InvalidRequestError(
                f"A Space may have at most {MAX_ENTRIES} secrets and variables together"
            )

    def give_initial(
        self, space: RepoRecord, secrets: list[EnvInput], variables: list[EnvInput]
    ) -> None:
        """Store the entries (passed by `check_initial`) of a Space the caller just created."""
        for kind, entries in ((EnvKind.SECRET, secrets), (EnvKind.VARIABLE, variables)):
            for entry in entries:
                self._store_entry(space, kind, entry)

    def _store_entry(self, space: RepoRecord, kind: EnvKind, given: EnvInput) -> None:
        key = given.key
        stored = (
            self._sealer.seal(space.id, key, given.value)
            if kind is EnvKind.SECRET
            else given.value.encode()
        )
        entry = StoredEntry(key, stored, given.description, self._clock())
        outcome = self._store.put(space.id, kind, entry, MAX_ENTRIES)
        if outcome is PutOutcome.OTHER_KIND:
            other = "variable" if kind is EnvKind.SECRET else "secret"
            raise errors.InvalidRequestError(
                f"{key!r} is already a {other} of this Space: delete it first"
            )
        if outcome is PutOutcome.FULL:
            raise errors.InvalidRequestError(
                f"A Space may have at most {MAX_ENTRIES} secrets and variables together"
            )

    def delete(self, identity: Identity, repo_id: str, kind: EnvKind, key: str) -> None:
        """Remove an entry (a key the Space does not have stays absent).

        Raises:
            RepoNotFoundError, AuthenticationError, AuthorizationError: see `secrets`.
        """
        space = self._space(identity, repo_id)
        self._store.delete(space.id, kind, key)

    def app_env(self, space: RepoRecord) -> dict[str, str]:
        """The Space's variables and secrets (opened), for its app's environment.

        No access check: the build job calls it for the Space it builds.
        """
        env = {e.key: e.value.decode() for e in self._store.entries(space.id, EnvKind.VARIABLE)}
        for entry in self._store.entries(space.id, EnvKind.SECRET):
            env[entry.key] = self._sealer.open(space.id, entry.key, entry.value)
        return env

    def _space(self, identity: Identity, repo_id: str) -> RepoRecord:
        return self._repos.locate(identity, RepoType.SPACE, repo_id, Action.WRITE)
