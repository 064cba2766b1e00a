"""Exit codes of server-side commands: one per kind of failure, from the domain's status table."""

from __future__ import annotations

import datetime as dt

import pytest

from hubstead.cli._errors import CliError
from hubstead.cli.server import run_service
from hubstead.server import errors
from hubstead.server.domain.locks import LockRecord

WHEN = dt.datetime(2024, 5, 17, tzinfo=dt.UTC)

# What an operator's script sees for each domain error, whichever command raised it.
EXPECTED_EXIT = [
    (errors.InvalidRequestError("bad name"), 1),
    (errors.PayloadTooLargeError("too big"), 1),
    (errors.UnsupportedMediaTypeError("not a png"), 1),
    (errors.RangeNotSatisfiableError("outside", size=3), 1),
    (errors.RepoNotFoundError("no repo", anonymous=False), 2),
    (errors.RepoNotFoundError("no repo", anonymous=True), 3),
    (errors.RevisionNotFoundError("no revision"), 2),
    (errors.EntryNotFoundError("no file"), 2),
    (errors.AccountNotFoundError("no user"), 2),
    (errors.DiscussionNotFoundError("no discussion #9"), 2),
    (errors.CollectionNotFoundError("no collection"), 2),
    (errors.AccessRequestNotFoundError("no access request from bob"), 2),
    (errors.NotFoundError("nothing"), 2),
    (errors.FeatureUnavailableError("no discussions"), 2),
    (errors.UpstreamNotFoundError("not upstream"), 2),
    (errors.AuthenticationError("bad token"), 3),
    (errors.AuthorizationError("not yours"), 3),
    (errors.TooManyRequestsError("too many sign-ins"), 1),
    (errors.MirrorReadOnlyError("a mirror"), 3),
    (errors.GatedRepoError("gated", anonymous=False), 3),
    (errors.ConflictError("exists"), 4),
    (errors.PathLockedError("locked", lock=LockRecord(1, 1, "a.bin", 1, "ada", WHEN)), 4),
    (errors.StaleParentError("moved"), 4),
    (errors.RepoMovedError("a/old", "a/new"), 1),
    (errors.UpstreamError("upstream failed"), 5),
    (errors.UpstreamUnavailableError("upstream down"), 5),
    (errors.UpstreamDeniedError("upstream refused"), 5),
    (errors.LocalStorageError("disk full"), 5),
    (errors.StoreDamagedError("a xorb is damaged"), 5),
    (errors.NotSupportedError("not here"), 5),
    (errors.SpaceNotRunningError("building", stage="BUILDING", retry_after=5), 5),
    (errors.SpaceAppUnreachableError("the app does not answer"), 5),
]


@pytest.mark.parametrize(
    ("error", "exit_code"), EXPECTED_EXIT, ids=[type(e).__name__ for e, _ in EXPECTED_EXIT]
)
def test_a_domain_error_exits_with_the_code_of_its_status(
    error: errors.HubError, exit_code: int
) -> None:
    def fail() -> None:
        raise error

    with pytest.raises(CliError) as raised:
        run_service(fail)

    assert raised.value.exit_code == exit_code
    assert raised.value.message == error.message
    assert raised.value.__cause__ is error


def test_every_domain_error_has_an_exit_code_here() -> None:
    def subclasses(cls: type[errors.HubError]) -> set[type[errors.HubError]]:
        found = {sub for sub in cls.__subclasses__() if sub.__module__ == errors.__name__}
        return found.union(*(subclasses(sub) for sub in found))

    covered = {type(error) for error, _ in EXPECTED_EXIT}

    assert subclasses(errors.HubError) <= covered
