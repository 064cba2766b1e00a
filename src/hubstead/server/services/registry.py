"""The set of services one server instance runs, built by `server/app.py`, and how they are called.

One calling convention, so that a route (or a job, or a CLI command) is one call:

- **A request names its repo, and the service finds it.** A method answering a request takes
  `(identity, type, repo_id[, revision], ...)` and locates the repo, checks access and
  resolves the revision itself, through `RepoService.open` or `RepoService.locate` (the one
  place that applies `access.py`). Callers never pass a `RepoHandle` or a `RepoRecord` in:
  those travel only between services (`repos.open` → `catalog`, `files`, `downloads`, ...).
- **One call answers the whole question, with a domain value**: a dataclass (`RepoInfo`,
  `Download`, `RefListing`), a `Page` for listings (the items and whether more follow: a
  listing takes `offset` and `limit`), never a tuple to take apart.
- **A request whose body comes after the check gets a handle**: the first call checks what can
  be checked before the body is read, and returns the object that takes the body and finishes
  the work (`commits.begin` → `PendingCommit.apply`, `git.begin_fetch` / `begin_push` →
  `Fetch` / `Push`, `lfs.begin_upload` / `begin_part` → `Receiver`, `attachments.begin` →
  `AttachmentReceiver`). Finishing checks access
  again, with the same method a caller holding the whole body calls at once
  (`commits.commit`, `git.upload_pack`, `git.receive_pack`).
- **Signed URLs stand for the identity**: the transfer endpoints git-lfs and the client call
  without credentials take the URL's token instead (`lfs.blob`, `lfs.begin_upload`,
  `lfs.complete`, ...).
- **Operator services take no identity**: jobs, mirrors, upkeep and account administration are
  called by the CLI, which holds the data dir's authority; the admin HTTP API checks
  `access.check_site_admin` first. The identity itself comes from `auth.authenticate`.
"""

from __future__ import annotations

import dataclasses

from hubstead.server.services.access_requests import AccessRequestService
from hubstead.server.services.admin import AdminService
from hubstead.server.services.attachments import AttachmentService
from hubstead.server.services.auth import AuthService
from hubstead.server.services.browse import BrowseService
from hubstead.server.services.catalog import CatalogService
from hubstead.server.services.collections import CollectionService
from hubstead.server.services.commits import CommitService
from hubstead.server.services.device_logins import DeviceLoginService
from hubstead.server.services.discussions import DiscussionService
from hubstead.server.services.downloads import DownloadService
from hubstead.server.services.duplicates import DuplicateService
from hubstead.server.services.explore import ExploreService
from hubstead.server.services.files import FileService
from hubstead.server.services.git import GitService
from hubstead.server.services.heads import HeadService
from hubstead.server.services.jobs import JobService
from hubstead.server.services.lfs import LfsService
from hubstead.server.services.lfs_files import LfsFileService
from hubstead.server.services.likes import LikeService
from hubstead.server.services.locks import LockService
from hubstead.server.services.mirroring.mirrors import MirrorService
from hubstead.server.services.mirroring.syncs import SyncService
from hubstead.server.services.mirroring.upstreams import UpstreamService
from hubstead.server.services.profiles import ProfileService
from hubstead.server.services.refs import RefService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.sessions import SessionService
from hubstead.server.services.space_env import SpaceEnvService
from hubstead.server.services.spaces.builds import SpaceBuilder
from hubstead.server.services.spaces.runner import SdkRunners
from hubstead.server.services.spaces.runtime import SpaceRuntimeService
from hubstead.server.services.spaces.serving import SpaceServing
from hubstead.server.services.upkeep import UpkeepService
from hubstead.server.services.uploads import UploadService
from hubstead.server.services.webhooks.deliveries import DeliverySender
from hubstead.server.services.webhooks.dispatch import WebhookDispatcher
from hubstead.server.services.webhooks.hooks import WebhookService
from hubstead.server.services.weights import WeightService
from hubstead.server.services.xet.downloads import XetDownloadService
from hubstead.server.services.xet.tokens import XetTokenService
from hubstead.server.services.xet.uploads import XetUploadService
from hubstead.server.settings import Settings
from hubstead.server.storage.db import Database
from hubstead.server.storage.hub_events import HubEventLog


@dataclasses.dataclass(frozen=True)
class Services:
    """Every service, wired to the same stores."""

    settings: Settings
    auth: AuthService
    sessions: SessionService
    device_logins: DeviceLoginService
    explore: ExploreService
    repos: RepoService
    heads: HeadService
    catalog: CatalogService
    weights: WeightService
    files: FileService
    browse: BrowseService
    downloads: DownloadService
    commits: CommitService
    uploads: UploadService
    discussions: DiscussionService
    likes: LikeService
    attachments: AttachmentService
    collections: CollectionService
    duplicates: DuplicateService
    space_env: SpaceEnvService
    space_runtime: SpaceRuntimeService
    space_builds: SpaceBuilder
    space_runner: SdkRunners
    profiles: ProfileService
    access_requests: AccessRequestService
    webhooks: WebhookService
    webhook_dispatch: WebhookDispatcher
    webhook_sender: DeliverySender
    refs: RefService
    lfs: LfsService
    git: GitService
    lfs_files: LfsFileService
    locks: LockService
    upkeep: UpkeepService
    jobs: JobService
    upstreams: UpstreamService
    mirrors: MirrorService
    syncs: SyncService
    admin: AdminService
    xet_tokens: XetTokenService
    xet_uploads: XetUploadService
    xet_downloads: XetDownloadService
    hub_events: HubEventLog
    database: Database
    space_serving: SpaceServing

    def close(self) -> None:
        """Stop the Space apps this process runs; release connections to databases and hubs."""
        self.space_builds.stop_apps()
        self.space_runner.close()
        self.upstreams.close()
        self.database.close()
