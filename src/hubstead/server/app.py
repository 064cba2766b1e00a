"""The composition root: builds stores and services from `Settings`, and the ASGI app on them.

This is the only module that names concrete storage classes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from hubstead.server import errors
from hubstead.server.domain.spaces import SpaceSdk
from hubstead.server.http import (
    access_requests,
    admin,
    attachments,
    auth,
    blobs,
    collections,
    commits,
    discussions,
    files,
    git,
    lfs,
    lfs_files,
    likes,
    locks,
    oauth,
    profiles,
    refs,
    repos,
    resolve,
    space_env,
    spaces,
    unavailable,
    xet,
)
from hubstead.server.http import (
    webhooks as webhook_routes,
)
from hubstead.server.http.app_proxy import AppProxy
from hubstead.server.http.errors import handle_hub_error, handle_unexpected
from hubstead.server.http.middleware import RequestContext
from hubstead.server.http.router import IndexedRouter
from hubstead.server.jobs import spaces as space_jobs
from hubstead.server.jobs import sync, upkeep, webhooks
from hubstead.server.jobs.outbox import OutboxThread
from hubstead.server.jobs.runner import Handler, JobRunner
from hubstead.server.jobs.threads import JobThreads
from hubstead.server.services.access_requests import AccessRequestService
from hubstead.server.services.admin import AdminService
from hubstead.server.services.attachments import AttachmentService
from hubstead.server.services.auth import AuthService
from hubstead.server.services.browse import BrowseService
from hubstead.server.services.catalog import CatalogService
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.collections import CollectionService
from hubstead.server.services.commit_cache import CommitCache
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
from hubstead.server.services.mirroring.pull_through import PullThroughPolicy, PullThroughService
from hubstead.server.services.mirroring.syncs import SyncService
from hubstead.server.services.mirroring.upstreams import UpstreamService
from hubstead.server.services.objects import LfsObjects
from hubstead.server.services.profiles import ProfileService
from hubstead.server.services.refs import RefService
from hubstead.server.services.registry import Services
from hubstead.server.services.repos import RepoService
from hubstead.server.services.sealing import Sealer
from hubstead.server.services.sessions import SessionService, SignInLimits
from hubstead.server.services.signing import UrlSigner
from hubstead.server.services.space_env import SpaceEnvService
from hubstead.server.services.spaces.builds import SpaceBuilder
from hubstead.server.services.spaces.logs import SpaceLogs
from hubstead.server.services.spaces.runner import SdkRunners, SpaceRunner
from hubstead.server.services.spaces.runtime import SpaceRuntimeService
from hubstead.server.services.spaces.serving import SpaceServing
from hubstead.server.services.spaces.volumes import SpaceVolumes
from hubstead.server.services.upkeep import UpkeepService
from hubstead.server.services.uploads import UploadService
from hubstead.server.services.webhooks.deliveries import KIND as deliveries_kind
from hubstead.server.services.webhooks.deliveries import DeliveryQueue, DeliverySender
from hubstead.server.services.webhooks.dispatch import WebhookDispatcher
from hubstead.server.services.webhooks.hooks import WebhookService
from hubstead.server.services.webhooks.targets import TargetPolicy
from hubstead.server.services.weights import WeightService
from hubstead.server.services.xet.content import XetContent
from hubstead.server.services.xet.downloads import XetDownloadService
from hubstead.server.services.xet.tokens import XetTokenService
from hubstead.server.services.xet.upkeep import XetUpkeep
from hubstead.server.services.xet.uploads import XetUploadService
from hubstead.server.settings import Settings
from hubstead.server.spaces.docker import docker_runner
from hubstead.server.spaces.local import local_runner
from hubstead.server.storage.access_requests_sql import SqlAccessRequestStore
from hubstead.server.storage.accounts_sql import SqlAccountStore
from hubstead.server.storage.attachments_sql import SqlAttachmentStore
from hubstead.server.storage.blobs import BlobStore
from hubstead.server.storage.blobs_fs import FsBlobStore
from hubstead.server.storage.collections_sql import SqlCollectionStore
from hubstead.server.storage.db import Database
from hubstead.server.storage.device_logins_sql import SqlDeviceLoginStore
from hubstead.server.storage.discussions_sql import SqlDiscussionStore
from hubstead.server.storage.errors import StoreUnreachableError
from hubstead.server.storage.fetches_fs import FsFetchArea
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from hubstead.server.storage.hub_events_sql import SqlHubEventLog
from hubstead.server.storage.jobs_sql import SqlJobStore
from hubstead.server.storage.lfs_index_sql import SqlLfsIndex
from hubstead.server.storage.likes_sql import SqlLikeStore
from hubstead.server.storage.locks_sql import SqlLockStore
from hubstead.server.storage.mirrors_sql import SqlMirrorStore
from hubstead.server.storage.mutexes_fs import FsMutexes
from hubstead.server.storage.profiles_sql import SqlProfileStore
from hubstead.server.storage.repos_sql import SqlRepoStore
from hubstead.server.storage.secret_key import load_secret_key
from hubstead.server.storage.space_env_sql import SqlSpaceEnvStore
from hubstead.server.storage.spaces_sql import SqlSpaceLogStore, SqlSpaceRuntimeStore
from hubstead.server.storage.tokens_sql import SqlTokenStore
from hubstead.server.storage.upstream_hub import HubUpstream
from hubstead.server.storage.web_sessions_sql import SqlWebSessionStore
from hubstead.server.storage.webhooks_sql import SqlWebhookStore
from hubstead.server.storage.xet_index_sql import SqlXetIndex
from hubstead.server.storage.xorbs import XorbStore
from hubstead.server.storage.xorbs_fs import FsXorbStore
from hubstead.server.web import errors as web_errors
from hubstead.server.web import routes as web_routes
from hubstead.server.web import space_apps
from hubstead.server.web.assets import Assets
from hubstead.server.web.render import Renderer

# How much per-commit description the hub keeps (`CommitCache`): a unit is a file of a listing
# or one summary; a hundred thousand is some tens of MB.
COMMIT_CACHE_BUDGET = 100_000


def build_services(settings: Settings, *, clock: Clock = utcnow) -> Services:
    """Open (and migrate) the stores under the data dir and wire the services to them.

    Args:
        settings: where the data lives and how the hub behaves.
        clock: the time that leases, due times, retry delays, schedules and signed URLs'
            expiries are measured on; real time unless a test moves one by hand.
    """
    data_dir = settings.resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    # The blob store first: an unreachable bucket stops the hub before the database is opened.
    blobs, xorbs, attachment_files = _object_stores(settings)
    database = Database(settings.effective_database_url)
    database.migrate()
    accounts = SqlAccountStore(database)
    repo_store = SqlRepoStore(database)
    # One store plays every git role (objects, transport, fetcher, upkeep); each service is
    # given it as the narrow roles it uses.
    git_store = Pygit2GitStore(data_dir / "repos")
    lfs_index = SqlLfsIndex(database)
    # Locks every server process on this data dir respects (`serve --workers`).
    mutexes = FsMutexes(data_dir / "locks")
    space_runner = _space_runners(settings)
    heads = HeadService(repo_store, git_store, mutexes)
    job_service = _job_service(settings, database, clock)
    area = FsFetchArea(data_dir / "mirror")
    mirror_store = SqlMirrorStore(database)
    # Mirroring first: RepoService pulls unknown repos through it, and nothing in it needs
    # RepoService, so dependencies go one way.
    upstreams = UpstreamService(HubUpstream(), git_store, default_token=settings.upstream_token)
    syncs = SyncService(
        heads,
        repo_store,
        git_store,
        git_store,
        blobs,
        lfs_index,
        area,
        upstreams,
        chunk_size=settings.lfs_chunk_bytes,
    )
    mirrors = MirrorService(
        repo_store, mirror_store, git_store, git_store, job_service, clock=clock
    )
    policy = PullThroughPolicy(
        settings.pull_through,
        settings.upstream_token,
        settings.pull_through_allow,
        settings.pull_through_deny,
        settings.pull_through_refresh_seconds,
    )
    pull_through = PullThroughService(
        accounts,
        repo_store,
        mirror_store,
        git_store,
        git_store,
        blobs,
        lfs_index,
        area,
        upstreams,
        syncs,
        mirrors,
        policy,
        clock=clock,
    )
    repo_service = RepoService(
        repo_store, accounts, git_store, mirror_store, pull=pull_through.pull
    )
    signer = UrlSigner(
        load_secret_key(settings.effective_secret_file), clock=lambda: clock().timestamp()
    )
    access_request_store = SqlAccessRequestStore(database)
    auth_service = AuthService(accounts, SqlTokenStore(database), access_request_store, git_store)
    xet_index = SqlXetIndex(database)
    xet_content = XetContent(xorbs, xet_index)
    objects = LfsObjects(blobs, xet_index, xet_content)
    discussion_store = SqlDiscussionStore(database)
    discussions = DiscussionService(
        repo_service, heads, git_store, git_store, discussion_store, accounts, clock=clock
    )
    likes = LikeService(repo_service, auth_service, SqlLikeStore(database), clock=clock)
    space_env_store = SqlSpaceEnvStore(database)
    space_secrets_key = settings.resolved_data_dir / "space-secrets.key"
    space_env_service = SpaceEnvService(
        repo_service,
        space_env_store,
        Sealer(lambda: load_secret_key(space_secrets_key)),
        clock=clock,
    )
    space_runtimes = SqlSpaceRuntimeStore(database)
    space_logs = SpaceLogs(SqlSpaceLogStore(database), keep=settings.space_log_lines, clock=clock)
    commits = CommitService(
        repo_service,
        heads,
        discussions,
        git_store,
        objects,
        lfs_index,
        lfs_threshold=settings.lfs_threshold_bytes,
        max_regular_file_bytes=settings.max_regular_file_bytes,
    )
    lfs_service = LfsService(
        repo_service,
        auth_service,
        discussions,
        blobs,
        objects,
        lfs_index,
        signer,
        mutexes,
        multipart_threshold=settings.lfs_multipart_threshold_bytes,
        chunk_size=settings.lfs_chunk_bytes,
        url_ttl=settings.lfs_url_ttl_seconds,
        max_object_bytes=settings.max_lfs_object_bytes,
        direct_url_ttl=settings.s3_url_ttl_seconds if settings.blob_backend == "s3" else 0,
    )
    upkeep = UpkeepService(
        repo_store,
        git_store,
        git_store,
        blobs,
        lfs_index,
        objects,
        XetUpkeep(
            xet_content.xorbs,
            xet_index,
            lfs_index,
            xorb_grace=dt.timedelta(seconds=settings.xet_xorb_grace_seconds),
        ),
        clock=lambda: clock().timestamp(),
    )
    xet_tokens = XetTokenService(
        repo_service,
        auth_service,
        discussions,
        signer,
        ttl_seconds=settings.xet_token_ttl_seconds,
    )
    commit_cache = CommitCache(COMMIT_CACHE_BUDGET)
    weights = WeightService(repo_service, git_store, objects, lfs_index, commit_cache)
    catalog = CatalogService(repo_service, repo_store, git_store, upkeep, weights, commit_cache)
    files = FileService(repo_service, git_store, objects)
    downloads = DownloadService(repo_service, git_store, lfs_service, pull_through)
    refs = RefService(repo_service, heads, git_store)
    webhook_store = SqlWebhookStore(database)
    targets = TargetPolicy(settings.webhook_allow, _own_addresses(settings))
    deliveries = DeliveryQueue(job_service, max_attempts=settings.webhook_max_attempts)
    sessions = SessionService(
        accounts,
        SqlWebSessionStore(database),
        auth_service,
        SignInLimits(
            settings.sign_in_account_attempts,
            settings.sign_in_address_attempts,
            settings.sign_in_window_seconds,
        ),
        lifetime=dt.timedelta(days=settings.session_days),
        clock=clock,
    )
    return Services(
        settings=settings,
        auth=auth_service,
        sessions=sessions,
        device_logins=DeviceLoginService(
            SqlDeviceLoginStore(database),
            auth_service,
            lifetime=dt.timedelta(seconds=settings.device_code_seconds),
            interval=settings.device_poll_seconds,
            clock=clock,
        ),
        explore=ExploreService(catalog, auth_service),
        repos=repo_service,
        heads=heads,
        catalog=catalog,
        weights=weights,
        files=files,
        browse=BrowseService(
            repo_service, catalog, files, refs, git_store, git_store, weights, discussions, likes
        ),
        downloads=downloads,
        commits=commits,
        uploads=UploadService(commits, lfs_service, git_store.spool),
        discussions=discussions,
        likes=likes,
        attachments=AttachmentService(
            SqlAttachmentStore(database), attachment_files, git_store.spool, clock=clock
        ),
        collections=CollectionService(
            repo_service, auth_service, SqlCollectionStore(database), clock=clock
        ),
        duplicates=DuplicateService(
            repo_service, heads, git_store, lfs_index, xet_index, space_env_store
        ),
        space_env=space_env_service,
        space_runtime=SpaceRuntimeService(
            repo_service, space_runtimes, space_logs, job_service, clock=clock
        ),
        space_builds=SpaceBuilder(
            repo_service,
            git_store,
            objects,
            space_runtimes,
            space_logs,
            space_env_service,
            SqlHubEventLog(database),
            job_service,
            space_runner,
            SpaceVolumes(repo_service, auth_service, git_store, lfs_index, objects),
            work_dir=data_dir / "spaces",
            base_url=_base_url(settings),
            clock=clock,
        ),
        space_runner=space_runner,
        profiles=ProfileService(accounts, SqlProfileStore(database), upkeep.usage),
        access_requests=AccessRequestService(
            repo_service, access_request_store, accounts, clock=clock
        ),
        webhooks=WebhookService(
            webhook_store, repo_service, auth_service, targets, deliveries, clock=clock
        ),
        webhook_dispatch=WebhookDispatcher(
            SqlHubEventLog(database),
            webhook_store,
            repo_service,
            auth_service,
            discussion_store,
            deliveries,
            base_url=_base_url(settings),
            clock=clock,
        ),
        webhook_sender=DeliverySender(
            webhook_store, targets, timeout_seconds=settings.webhook_timeout_seconds, clock=clock
        ),
        refs=refs,
        lfs=lfs_service,
        git=GitService(
            repo_service,
            heads,
            discussions,
            git_store,
            git_store,
            lfs_service,
            max_regular_file_bytes=settings.max_regular_file_bytes,
            max_push_bytes=settings.max_commit_bytes,
        ),
        lfs_files=LfsFileService(
            repo_service, heads, git_store, git_store, blobs, objects, lfs_index
        ),
        locks=LockService(repo_service, SqlLockStore(database), clock=clock),
        upkeep=upkeep,
        jobs=job_service,
        upstreams=upstreams,
        mirrors=mirrors,
        syncs=syncs,
        admin=AdminService(auth_service, sessions, job_service, mirrors, upkeep),
        xet_tokens=xet_tokens,
        xet_uploads=XetUploadService(
            xet_tokens,
            repo_service,
            xet_content.xorbs,
            xet_content,
            xet_index,
            lfs_index,
            max_file_bytes=settings.max_lfs_object_bytes,
            clock=lambda: clock().timestamp(),
        ),
        xet_downloads=XetDownloadService(
            xet_tokens,
            repo_service,
            auth_service,
            xet_content,
            xet_index,
            lfs_index,
            signer,
            url_ttl=settings.xet_url_ttl_seconds,
            direct_url_ttl=settings.s3_url_ttl_seconds if settings.blob_backend == "s3" else 0,
        ),
        hub_events=SqlHubEventLog(database),
        database=database,
        space_serving=SpaceServing(
            repo_service, repo_store, git_store, downloads, auth_service, signer
        ),
    )


def _space_runners(settings: Settings) -> SdkRunners:
    """What runs Space apps, by SDK; an SDK without a runner is built nowhere.

    Gradio and streamlit: the local runner (`spaces_runner`); docker: the engine of
    `spaces_docker_host`.
    """
    runners: dict[SpaceSdk, SpaceRunner] = {}
    if settings.spaces_runner != "none":
        env_dir = settings.effective_spaces_env_dir
        # The environments' locks live with them: hubs sharing `spaces_env_dir` share the locks.
        local = local_runner(settings, FsMutexes(env_dir / "locks").hold)
        runners.update({SpaceSdk.GRADIO: local, SpaceSdk.STREAMLIT: local})
    docker = docker_runner(settings)
    if docker is not None:
        runners[SpaceSdk.DOCKER] = docker
    return SdkRunners(runners)


def _object_stores(settings: Settings) -> tuple[BlobStore, XorbStore, BlobStore]:
    """The LFS blob store, the xorb store and the attachment store of the `blob_backend`.

    Attachments are kept apart from LFS objects: LFS gc deletes objects no repo links, and an
    attachment is linked by no repo.

    Raises:
        LocalStorageError: the S3 bucket cannot be reached (so `serve` stops before serving).
    """
    if settings.blob_backend != "s3":
        data_dir = settings.resolved_data_dir
        return (
            FsBlobStore(data_dir / "blobs"),
            FsXorbStore(data_dir / "xorbs"),
            FsBlobStore(data_dir / "attachments"),
        )
    # Imported here: boto3 takes a while to import, and only the s3 backend needs it.
    from hubstead.server.storage.blobs_s3 import S3BlobStore
    from hubstead.server.storage.objects_s3 import S3Objects, s3_client
    from hubstead.server.storage.xorbs_s3 import S3XorbStore

    assert settings.s3_bucket is not None, "validated by load_settings"
    client = s3_client(settings.s3_endpoint_url, settings.s3_region)
    objects = S3Objects(client, settings.s3_bucket, settings.s3_prefix)
    try:
        objects.check()
    except StoreUnreachableError as exc:
        raise errors.LocalStorageError(
            f"{exc}. Check s3_bucket, s3_endpoint_url and s3_region, and the AWS credentials "
            "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)"
        ) from exc
    return S3BlobStore(objects), S3XorbStore(objects), S3BlobStore(objects, "attachments")


_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 (addresses compared with, not bound to)


def _base_url(settings: Settings) -> str:
    """The hub's URL for links made outside a request (webhook payloads)."""
    if settings.public_url is not None:
        return settings.public_url
    host = "localhost" if settings.host in _WILDCARDS else settings.host
    return f"http://{host}:{settings.port}"


def _own_addresses(settings: Settings) -> list[tuple[str, int]]:
    """The `(host, port)` pairs that reach this hub, which webhooks may not call."""
    own = [(settings.host, settings.port)]
    if settings.public_url is not None:
        parts = urlsplit(settings.public_url)
        if parts.hostname:
            own.append((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
    if settings.host in _WILDCARDS:
        try:
            addresses = socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:  # a host without a resolvable name: its loopback is refused anyway
            addresses = []
        own += [(address, settings.port) for address in addresses]
    return own


def _job_service(settings: Settings, database: Database, clock: Clock) -> JobService:
    jobs = JobService(SqlJobStore(database), clock=clock)
    if settings.redis_url is not None:
        # Imported here: arq is only needed (and installed) when a Redis queue is configured.
        from hubstead.server.jobs.redis_queue import ArqQueue

        jobs.subscribe(ArqQueue(settings.redis_url, settings.redis_queue).push)
    return jobs


def job_handlers() -> dict[str, Handler]:
    """The handler of each job kind this hub runs."""
    return {
        upkeep.FSCK: upkeep.run_fsck_job,
        sync.KIND: sync.run_sync_job,
        deliveries_kind: webhooks.run_delivery_job,
        space_jobs.KIND: space_jobs.run_build_job,
    }


def build_runner(services: Services, handlers: Mapping[str, Handler] | None = None) -> JobRunner:
    """A job runner on the services, with `job_handlers()` unless other handlers are given."""
    return JobRunner(services, job_handlers() if handlers is None else handlers)


def job_threads(services: Services, handlers: Mapping[str, Handler] | None = None) -> JobThreads:
    """In-process job threads as the settings ask for (`job_threads`, `job_poll_seconds`)."""
    settings = services.settings
    return JobThreads(
        build_runner(services, handlers),
        threads=settings.job_threads,
        poll_seconds=settings.job_poll_seconds,
    )


def dispatch_thread(services: Services) -> OutboxThread:
    """The thread that follows hub events (webhooks, Space builds) and supervises Space apps."""
    return OutboxThread(services, poll_seconds=services.settings.job_poll_seconds)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The ASGI application serving the Hub protocol, and the web hub after it."""
    assets = Assets()
    routes = [
        # First: a Space's app path is its app's, whatever the Space is called (`resolve`...).
        *space_apps.routes,
        # Next: its patterns must win over the repo routes they resemble.
        *unavailable.routes,
        *discussions.routes,
        *attachments.routes,
        *likes.routes,
        *space_env.routes,
        *spaces.routes,
        *collections.routes,
        *access_requests.routes,
        *webhook_routes.routes,
        *admin.routes,
        *auth.routes,
        *profiles.routes,
        *commits.routes,
        *repos.routes,
        *files.routes,
        *refs.routes,
        *resolve.routes,
        *lfs.routes,
        *locks.routes,
        *lfs_files.routes,
        *blobs.routes,
        *git.routes,
        *xet.routes,
        *oauth.routes,
        # Last: no page may shadow an API path.
        *web_routes.routes(assets),
    ]
    proxy = AppProxy(space_apps.CREDENTIAL_COOKIES)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await proxy.aclose()

    app = Starlette(
        # A Space host serves its app alone: `SpaceHosts` answers it before any route.
        middleware=[Middleware(RequestContext), Middleware(space_apps.SpaceHosts)],
        exception_handlers={
            errors.HubError: handle_hub_error,
            HTTPException: web_errors.handle_http_exception,
            Exception: handle_unexpected,
        },
    )
    # Starlette's router, trying only the routes a path could match (see `http/router.py`).
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.services = services or build_services(settings)
    app.state.web = Renderer(assets)
    app.state.app_proxy = proxy
    return app
