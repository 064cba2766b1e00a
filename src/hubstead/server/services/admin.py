"""Site administration for the web hub: accounts, mirrors, jobs and storage, for site admins only.

Every method takes the caller's identity and first checks that it is a site administrator
(`Account.is_admin`); to anyone else (anonymous callers included) the admin pages do not exist,
so the check raises `NotFoundError`, never a 401 or 403 that would reveal them. Changes need a
write role as well (a browser session has it; a read token does not). The work itself is done by
the operator services the CLI and the admin API call (`auth`, `sessions`, `jobs`, `mirrors`,
`upkeep`): this service adds the check and the views the pages need, nothing else.
"""

from __future__ import annotations

import dataclasses

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Account, AccountKind, Membership, Role
from hubstead.server.domain.jobs import JobRecord, JobState
from hubstead.server.domain.mirrors import MirrorRecord
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.jobs import JobService
from hubstead.server.services.mirroring.mirrors import SYNC_KIND, MirrorService
from hubstead.server.services.pages import Page
from hubstead.server.services.passwords import check_new_password
from hubstead.server.services.sessions import SessionService
from hubstead.server.services.upkeep import StorageReport, UpkeepService

_ABSENT = "There is nothing at this address."
_MAX_EMAIL = 254
_MAX_SEARCH = 200
# How many recent sync jobs are looked through for each mirror's latest.
_RECENT_SYNCS = 500
# How many live (queued or running) jobs the overview counts before saying "at least".
_LIVE_JOBS = 1000


@dataclasses.dataclass(frozen=True)
class Overview:
    """The hub at a glance: accounts, mirrors, live jobs and storage."""

    users: int
    admins: int
    orgs: int
    mirrors: int
    live_jobs: int
    live_jobs_more: bool
    storage: StorageReport


@dataclasses.dataclass(frozen=True)
class OrgRow:
    """An organization with its members."""

    org: Account
    members: list[Membership]


@dataclasses.dataclass(frozen=True)
class MirrorRow:
    """A mirror and its latest sync job (None: no sync in the recent jobs)."""

    mirror: MirrorRecord
    last_job: JobRecord | None

    @property
    def state(self) -> str:
        """What the mirror is doing or how its last sync ended, in a word or two."""
        if self.last_job is not None and not self.last_job.state.finished:
            return self.last_job.state.value
        if self.mirror.sync_error:
            return "failed"
        if self.mirror.synced_at is not None:
            return "synced"
        return "never synced"


class AdminService:
    """What the admin pages show and change, for site administrators only."""

    def __init__(
        self,
        auth: AuthService,
        sessions: SessionService,
        jobs: JobService,
        mirrors: MirrorService,
        upkeep: UpkeepService,
    ) -> None:
        self._auth = auth
        self._sessions = sessions
        self._jobs = jobs
        self._mirrors = mirrors
        self._upkeep = upkeep

    def check(self, identity: Identity, *, write: bool = False) -> None:
        """Raise unless the caller is a site administrator (with a write role for a change).

        Raises:
            NotFoundError: not a site administrator, or nobody signed in.
            AuthorizationError: a read token for a change.
        """
        if identity.account is None or not identity.account.is_admin:
            raise errors.NotFoundError(_ABSENT)
        if write and (identity.token_role is None or not identity.token_role.allows(Role.WRITE)):
            raise errors.AuthorizationError(
                f"Cannot change the hub: the token {identity.token_name!r} has the read role only"
            )

    # --- overview -----------------------------------------------------------------------------

    def overview(self, identity: Identity, top: int) -> Overview:
        """Counts and storage, with the `top` repos using the most bytes."""
        self.check(identity)
        users = self._auth.list_accounts(AccountKind.USER)
        live = self._jobs.list(states=[JobState.QUEUED, JobState.RUNNING], limit=_LIVE_JOBS)
        return Overview(
            users=len(users),
            admins=sum(user.is_admin for user in users),
            orgs=len(self._auth.list_accounts(AccountKind.ORG)),
            mirrors=len(self._mirrors.list()),
            live_jobs=len(live),
            live_jobs_more=live.more,
            storage=self._upkeep.storage_report(top),
        )

    # --- accounts -----------------------------------------------------------------------------

    def users(self, identity: Identity, search: str, offset: int, limit: int) -> Page[Account]:
        """A page of the users whose name, full name or email contains `search`, by name."""
        self.check(identity)
        found = _matching(self._auth.list_accounts(AccountKind.USER), search)
        return Page.of(found[offset : offset + limit + 1], limit)

    def create_user(
        self,
        identity: Identity,
        name: str,
        email: str,
        password: str,
        *,
        is_admin: bool,
        fullname: str = "",
    ) -> Account:
        """Create a user who can sign in with `password`.

        Raises:
            InvalidRequestError: a bad name, email or password (nothing is created).
            ConflictError: the name is taken.
        """
        self.check(identity, write=True)
        email = email.strip()
        if email and (
            len(email) > _MAX_EMAIL or "@" not in email or any(c.isspace() for c in email)
        ):
            raise errors.InvalidRequestError(f"Invalid email address {email[:80]!r}")
        check_new_password(password)
        user = self._auth.create_user(
            name, fullname=fullname.strip() or None, email=email or None, is_admin=is_admin
        )
        self._sessions.set_password(user.name, password)
        return user

    def orgs(self, identity: Identity, search: str, offset: int, limit: int) -> Page[OrgRow]:
        """A page of the organizations whose name contains `search`, with their members."""
        self.check(identity)
        found = _matching(self._auth.list_accounts(AccountKind.ORG), search)
        page = Page.of(found[offset : offset + limit + 1], limit)
        rows = [OrgRow(org, self._auth.memberships(org)) for org in page]
        return Page(rows, page.more)

    def create_org(
        self, identity: Identity, name: str, admin: str, *, fullname: str = ""
    ) -> Account:
        """Create an organization whose first member, `admin`, has the admin role.

        Raises:
            InvalidRequestError: a bad name.
            AccountNotFoundError: no user is named `admin`.
            ConflictError: the name is taken.
        """
        self.check(identity, write=True)
        self._auth.get_account(admin.strip(), AccountKind.USER)
        return self._auth.create_org(
            name, fullname=fullname.strip() or None, members={admin.strip(): Role.ADMIN}
        )

    # --- mirrors and jobs ---------------------------------------------------------------------

    def mirrors(self, identity: Identity) -> list[MirrorRow]:
        """Every mirror with its latest sync job."""
        self.check(identity)
        latest: dict[object, JobRecord] = {}
        for job in self._jobs.list(kind=SYNC_KIND, limit=_RECENT_SYNCS):  # newest first
            latest.setdefault(job.payload.get("repo"), job)
        return [MirrorRow(m, latest.get(m.repo_id)) for m in self._mirrors.list()]

    def sync(self, identity: Identity, type: RepoType, repo_id: str) -> JobRecord:
        """Queue a sync of a mirror now (the one queued or running, if any).

        Raises:
            NotFoundError: the repo is not a mirror.
        """
        self.check(identity, write=True)
        return self._mirrors.sync(type, repo_id)

    def jobs(
        self, identity: Identity, state: JobState | None, offset: int, limit: int
    ) -> Page[JobRecord]:
        """A page of jobs, newest first, of one state or all."""
        self.check(identity)
        return self._jobs.list(states=[state] if state else [], offset=offset, limit=limit)

    def job(self, identity: Identity, job_id: int) -> JobRecord:
        """One job, with its progress and log tail.

        Raises:
            NotFoundError: no such job.
        """
        self.check(identity)
        return self._jobs.get(job_id)

    def cancel(self, identity: Identity, job_id: int) -> JobRecord:
        """Cancel a queued job, or ask a running one to stop.

        Raises:
            NotFoundError: no such job.
            ConflictError: it already succeeded or failed.
        """
        self.check(identity, write=True)
        return self._jobs.cancel(job_id)


def _matching(accounts: list[Account], search: str) -> list[Account]:
    text = search.strip()[:_MAX_SEARCH].casefold()
    found = [
        a
        for a in accounts
        if not text
        or text in a.name.casefold()
        or text in a.fullname.casefold()
        or text in (a.email or "").casefold()
    ]
    return sorted(found, key=lambda a: a.name.casefold())
