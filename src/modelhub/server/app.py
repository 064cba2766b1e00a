"""The composition root: builds stores and services from `Settings`, and the ASGI app on them.

This is the only module that names concrete storage classes.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from modelhub.server import errors
from modelhub.server.http import auth, commits, files, refs, repos, resolve
from modelhub.server.http.errors import handle_http_exception, handle_hub_error, handle_unexpected
from modelhub.server.http.middleware import RequestContext
from modelhub.server.services.auth import AuthService
from modelhub.server.services.commits import CommitService
from modelhub.server.services.files import FileService
from modelhub.server.services.refs import RefService
from modelhub.server.services.registry import Services
from modelhub.server.services.repos import RepoService
from modelhub.server.settings import Settings
from modelhub.server.storage.blobs_fs import FsBlobStore
from modelhub.server.storage.db import Database
from modelhub.server.storage.git_pygit2 import Pygit2GitStore
from modelhub.server.storage.metadata_sql import SqlMetadataStore


def build_services(settings: Settings) -> Services:
    """Open (and migrate) the stores under the data dir and wire the services to them."""
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    database.migrate()
    metadata = SqlMetadataStore(database)
    git = Pygit2GitStore(data_dir / "repos")
    blobs = FsBlobStore(data_dir / "blobs")
    repo_service = RepoService(metadata, git)
    return Services(
        settings=settings,
        auth=AuthService(metadata),
        repos=repo_service,
        files=FileService(git),
        commits=CommitService(
            repo_service,
            git,
            blobs,
            lfs_threshold=settings.lfs_threshold_bytes,
            max_regular_file_bytes=settings.max_regular_file_bytes,
        ),
        refs=RefService(repo_service, git),
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
