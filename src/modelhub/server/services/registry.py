"""The set of services one server instance runs, built by `server/app.py`."""

from __future__ import annotations

import dataclasses

from modelhub.server.services.auth import AuthService
from modelhub.server.services.commits import CommitService
from modelhub.server.services.files import FileService
from modelhub.server.services.git import GitService
from modelhub.server.services.jobs import JobService
from modelhub.server.services.lfs import LfsService
from modelhub.server.services.lfs_files import LfsFileService
from modelhub.server.services.mirrors import MirrorService
from modelhub.server.services.pulls import PullService
from modelhub.server.services.refs import RefService
from modelhub.server.services.repos import RepoService
from modelhub.server.services.storage import StorageService
from modelhub.server.services.syncs import SyncService
from modelhub.server.settings import Settings
from modelhub.server.storage.db import Database


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
    storage: StorageService
    jobs: JobService
    mirrors: MirrorService
    syncs: SyncService
    pulls: PullService
    database: Database

    def close(self) -> None:
        """Release database connections and connections to upstream hubs."""
        self.syncs.close()
        self.database.close()
