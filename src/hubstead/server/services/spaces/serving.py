"""Serving a Space's app: which Space a request is for, who may reach it, and static files.

The app of a Space is reached at a path of the hub (`/spaces/{ns}/{name}/app/`) or, when the
operator sets `spaces_domain`, at a host of its own: `{label}.{spaces_domain}`, where `label`
is the Space's id as the Hub spells its subdomains (`ns-name`, lowercased, `_` and `.` as
`-`). Two ids can share that spelling (`a-b/c` and `a/b-c`); such a Space's label is its row
id in digits instead, which no spelled id can be (it always holds the `-` between namespace
and name), so a host always names one Space, found by a lookup rather than by splitting.

A browser on a Space host carries none of the hub's cookies (they are host-only), so a
private Space's app would be out of its viewers' reach there. The hub hands a viewer a
*pass*: a short-lived signed token for that Space and that account, put in the URL the hub
redirects to; the Space host trades it for a cookie of its own (`SpaceServing.admit`), and
checks the account's current rights on every request with it.

A static Space is served by the hub itself: the files of its default branch's head, `/` being
its app file (`app_file`, `index.html` by default).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import SpaceSdk, spelled_label
from hubstead.server.services.access import Action
from hubstead.server.services.auth import AuthService, Identity
from hubstead.server.services.downloads import Download, DownloadService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.signing import UrlSigner
from hubstead.server.services.spaces.config import SpaceConfigProblem, read_config
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.repos import RepoStore

PASS_SECONDS = 120
"""How long a pass in a URL may be traded for a Space host's cookie."""
ADMISSION_SECONDS = 12 * 3600
"""How long a Space host's cookie admits its account (its rights are checked on each use)."""
_PASS = "space-pass"  # noqa: S105 (a token purpose, not a secret)
_ADMISSION = "space-admission"
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def public_path(repo_id: str, spaces_domain: str | None) -> str:
    """The path prefix a Space's app is served under: its path on the hub, or "" on its host.

    What a runner tells the app (`AppSpec.public_path`), so that the URLs it writes resolve.
    """
    if spaces_domain is not None:
        return ""
    return f"/spaces/{quote(repo_id, safe='/')}/app"


class SpaceServing:
    """Finds the Space of an app request, checks access to it, and reads static Spaces' files."""

    def __init__(
        self,
        repos: RepoService,
        store: RepoStore,
        git: GitObjectStore,
        downloads: DownloadService,
        auth: AuthService,
        signer: UrlSigner,
    ) -> None:
        self._repos = repos
        self._store = store
        self._git = git
        self._downloads = downloads
        self._auth = auth
        self._signer = signer

    def open(self, identity: Identity, repo_id: str) -> RepoRecord:
        """The Space `repo_id`, if the caller may read it.

        Raises:
            RepoNotFoundError: no such Space, or a private one the caller cannot see.
            RepoMovedError: an old id of a Space the caller can see.
        """
        return self._repos.locate(identity, RepoType.SPACE, repo_id, Action.READ)

    def host_label(self, repo: RepoRecord) -> str:
        """The first label of the Space's host name (see the module docstring)."""
        label = spelled_label(repo.repo_id)
        if _LABEL.match(label) and [r.id for r in self._store.spaces_by_host_label(label)] == [
            repo.id
        ]:
            return label
        return str(repo.id)

    def by_host_label(self, label: str) -> RepoRecord | None:
        """The Space whose host label is `label`, or None (no access check)."""
        label = label.lower()
        if label.isdigit():
            repo = self._store.get_repo_by_key(int(label))
            if repo is None or repo.type != RepoType.SPACE.value:
                return None
            return repo if self.host_label(repo) == label else None
        if not _LABEL.match(label):
            return None
        spaces = self._store.spaces_by_host_label(label)
        return spaces[0] if len(spaces) == 1 else None

    def check(self, identity: Identity, repo: RepoRecord) -> None:
        """Check that the caller may read the Space `repo` (found by its host).

        Raises:
            RepoNotFoundError: a private Space the caller cannot see.
        """
        self._repos.locate(identity, RepoType.SPACE, repo.repo_id, Action.READ)

    def issue_pass(self, identity: Identity, repo: RepoRecord) -> str:
        """A pass to the Space's host for the caller, who may read it (`PASS_SECONDS`)."""
        return self._signer.sign(_PASS, _subject(identity, repo), PASS_SECONDS)

    def admit(self, token: str, repo: RepoRecord) -> str:
        """The admission (a Space host's cookie value) that a pass to `repo` is traded for.

        Raises:
            AuthorizationError: the pass is forged, expired, or for another Space.
        """
        subject = self._signer.verify(token, _PASS)
        if subject.get("r") != repo.id:
            raise errors.AuthorizationError("This URL is not valid for this Space")
        return self._signer.sign(_ADMISSION, subject, ADMISSION_SECONDS)

    def admitted(self, admission: str | None, repo: RepoRecord) -> Identity:
        """Who a Space host's cookie admits to `repo` (anonymous without a valid one).

        The account's rights are its current ones: a viewer removed from the Space's org
        is refused at the next request.
        """
        if not admission:
            return self._auth.authenticate(None)
        try:
            subject = self._signer.verify(admission, _ADMISSION)
        except errors.AuthorizationError:
            return self._auth.authenticate(None)
        account_id = subject.get("a")
        if subject.get("r") != repo.id or not isinstance(account_id, int):
            return self._auth.authenticate(None)
        return self._auth.reader(account_id) or self._auth.authenticate(None)

    def static_file(self, identity: Identity, repo: RepoRecord, path: str) -> Download:
        """The file a static Space serves at `path` (relative to its root; "" is its app).

        A path ending in `/` names that folder's `index.html`; nothing under `.git*` is
        served.

        Raises:
            EntryNotFoundError: no such file, or a `.git*` path.
            SpaceNotRunningError: the Space's README does not describe a static app (any more).
            RepoNotFoundError, GatedRepoError: see `RepoService.open`.
        """
        handle = self._repos.open(
            identity, RepoType.SPACE, repo.repo_id, Action.READ_FILES, DEFAULT_BRANCH
        )
        try:
            config = read_config(self._git, handle.repo, handle.commit_id)
        except SpaceConfigProblem as exc:
            raise errors.SpaceNotRunningError(exc.message, stage=exc.stage, retry_after=30) from exc
        if config.sdk is not SpaceSdk.STATIC:
            # The runtime has not caught up with the README yet, or there is no runtime.
            raise errors.SpaceNotRunningError(
                f"The {config.sdk} app of {repo.repo_id} is not running",
                stage="STOPPED",
                retry_after=30,
            )
        if path == "":
            path = config.app_file
        elif path.endswith("/"):
            path += "index.html"
        if any(segment.lower().startswith(".git") for segment in path.split("/")):
            raise errors.EntryNotFoundError(f"Entry not found: {path!r}")
        # Pinned to the commit the configuration was read at: one answer, one version.
        return self._downloads.prepare(
            identity, RepoType.SPACE, repo.repo_id, handle.commit_id, path
        )


def _subject(identity: Identity, repo: RepoRecord) -> dict[str, int | None]:
    return {"r": repo.id, "a": identity.account_id}
