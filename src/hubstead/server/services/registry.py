"""The set of services one server instance runs, built by `server/app.py`."""

from __future__ import annotations

import dataclasses

from hubstead.server.services.auth import AuthService
from hubstead.server.services.commits import CommitService
from hubstead.server.services.files import FileService
from hubstead.server.services.git import GitService
from hubstead.server.services.heads import HeadService
from hubstead.server.services.jobs import JobService
from hubstead.server.services.lfs import LfsService
from hubstead.server.services.lfs_files import LfsFileService
from hubstead.server.services.mirroring.mirrors import MirrorService
from hubstead.server.services.mirroring.pull_through import PullThroughService
from hubstead.server.services.mirroring.syncs import SyncService
from hubstead.server.services.mirroring.upstreams import UpstreamService
from hubstead.server.services.refs import RefService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.upkeep import UpkeepService
from hubstead.server.settings import Settings
from hubstead.server.storage.db import Database


@dataclasses.dataclass(frozen=True)
class Services:
    """Every service, wired to the same stores."""

    settings: Settings
    auth: AuthService
    repos: RepoService
    heads: HeadService
    files: FileService
    commits: CommitService
    refs: RefService
    lfs: LfsService
    git: GitService
    lfs_files: LfsFileService
    upkeep: UpkeepService
    jobs: JobService
    upstreams: UpstreamService
    mirrors: MirrorService
    syncs: SyncService
    pull_through: PullThroughService
    database: Database

    def close(self) -> None:
        """Release database connections and connections to upstream hubs."""
        self.upstreams.close()
        self.database.close()
