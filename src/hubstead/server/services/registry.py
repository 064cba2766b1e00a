"""The set of services one server instance runs, built by `server/app.py`."""

from __future__ import annotations

import dataclasses

from hubstead.server.services.auth import AuthService
from hubstead.server.services.commits import CommitService
from hubstead.server.services.files import FileService
from hubstead.server.services.git import GitService
from hubstead.server.services.jobs import JobService
from hubstead.server.services.lfs import LfsService
from hubstead.server.services.lfs_files import LfsFileService
from hubstead.server.services.locks import LockService
from hubstead.server.services.mirrors import MirrorService
from hubstead.server.services.pull_through import PullThroughService
from hubstead.server.services.refs import RefService
from hubstead.server.services.repos import RepoService
from hubstead.server.services.syncs import SyncService
from hubstead.server.services.upkeep import UpkeepService
from hubstead.server.settings import Settings
from hubstead.server.storage.db import Database


@dataclasses.dataclass(frozen=True)
class Services:
    """Every service, wired to the same stores."""

    settings: Settings
    auth: AuthService
    repos: RepoService
    files: FileService
    commits: CommitService
    refs: RefService
    lfs: LfsService
    git: GitService
    lfs_files: LfsFileService
    locks: LockService
    upkeep: UpkeepService
    jobs: JobService
    mirrors: MirrorService
    syncs: SyncService
    pull_through: PullThroughService
    database: Database

    def close(self) -> None:
        """Release database connections and connections to upstream hubs."""
        self.syncs.close()
        self.database.close()
