"""The composition root: builds stores and services from `Settings`, and the ASGI app on them.

This is the only module that names concrete storage classes.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from modelhub.server import errors
from modelhub.server.http import (
    auth,
    blobs,
    commits,
    files,
    git,
    lfs,
    lfs_files,
    refs,
    repos,
    resolve,
)
from modelhub.server.http.errors import handle_http_exception, handle_hub_error, handle_unexpected
from modelhub.server.http.middleware import RequestContext
from modelhub.server.services.auth import AuthService
from modelhub.server.services.commits import CommitService
from modelhub.server.services.files import FileService
from modelhub.server.services.git import GitService
from modelhub.server.services.lfs import LfsService
from modelhub.server.services.lfs_files import LfsFileService
from modelhub.server.services.refs import RefService
from modelhub.server.services.registry import Services
from modelhub.server.services.repos import RepoService
from modelhub.server.services.signing import UrlSigner
from modelhub.server.services.storage import StorageService
from modelhub.server.settings import Settings
from modelhub.server.storage.blobs_fs import FsBlobStore
from modelhub.server.storage.db import Database
from modelhub.server.storage.git_pygit2 import Pygit2GitStore
from modelhub.server.storage.lfs_index_sql import SqlLfsIndex
from modelhub.server.storage.metadata_sql import SqlMetadataStore
from modelhub.server.storage.secret_key import load_secret_key


def build_services(settings: Settings) -> Services:
    """Open (and migrate) the stores under the data dir and wire the services to them."""
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    database.migrate()
    metadata = SqlMetadataStore(database)
    git_store = Pygit2GitStore(data_dir / "repos")
    blobs = FsBlobStore(data_dir / "blobs")
    lfs_index = SqlLfsIndex(database)
    repo_service = RepoService(metadata, git_store)
    signer = UrlSigner(load_secret_key(settings.effective_secret_file))
    lfs_service = LfsService(
        repo_service,
        blobs,
        lfs_index,
        signer,
        multipart_threshold=settings.lfs_multipart_threshold_bytes,
        chunk_size=settings.lfs_chunk_bytes,
        url_ttl=settings.lfs_url_ttl_seconds,
    )
    return Services(
        settings=settings,
        auth=AuthService(metadata),
        repos=repo_service,
        files=FileService(git_store),
        commits=CommitService(
            repo_service,
            git_store,
            blobs,
            lfs_index,
            lfs_threshold=settings.lfs_threshold_bytes,
            max_regular_file_bytes=settings.max_regular_file_bytes,
        ),
        refs=RefService(repo_service, git_store),
        lfs=lfs_service,
        git=GitService(
            repo_service,
            git_store,
            lfs_service,
            max_regular_file_bytes=settings.max_regular_file_bytes,
        ),
        lfs_files=LfsFileService(repo_service, git_store, blobs, lfs_index),
        storage=StorageService(metadata, git_store, blobs, lfs_index),
        database=database,
    )


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The ASGI application serving the Hub protocol."""
    app = Starlette(
        routes=[
            *auth.routes,
            *commits.routes,
            *repos.routes,
            *files.routes,
            *refs.routes,
            *resolve.routes,
            *lfs.routes,
            *lfs_files.routes,
            *blobs.routes,
            *git.routes,
        ],
        middleware=[Middleware(RequestContext)],
        exception_handlers={
            errors.HubError: handle_hub_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    app.state.services = services or build_services(settings)
    return app
