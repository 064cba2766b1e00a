"""The `mirror.sync` job: one sync of a mirrored repo from its upstream.

Runs the three steps of `services.syncs` under the repo's sync lock (so syncs of one repo, in
any process, take turns): plan (upstream refs, git fetch, which LFS objects are missing), fetch
the missing objects several at a time, then move the local refs last. If any step fails, no
local ref moves: the repo stays at its last good state, and objects already fetched stay for
the next attempt. The job records its progress in files and bytes, and the mirror row records
when it last synced and why it last failed; a scheduled sync queues the next one when it ends.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

from hubstead.server import errors
from hubstead.server.domain.mirrors import MirrorRecord
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.jobs.runner import JobCancelledError, JobContext, is_retryable
from hubstead.server.services.mirrors import SYNC_KIND
from hubstead.server.services.syncs import SyncPlan, SyncService
from hubstead.server.services.upstreams import WantedObject

KIND = SYNC_KIND


def run_sync_job(context: JobContext) -> None:
    """Sync the mirror named by the payload's `repo` (its repo row id).

    Raises:
        NotFoundError: the repo is no longer a mirror.
        UpstreamError, LocalStorageError, ConflictError: the sync failed (nothing moved).
    """
    mirrors = context.services.mirrors
    mirror, repo = mirrors.for_sync(int(context.payload["repo"]))
    scheduled = bool(context.payload.get("scheduled"))
    syncs = context.services.syncs
    try:
        with syncs.lock(repo):
            _sync(context, syncs, mirror, repo)
    except JobCancelledError:
        raise
    except Exception as exc:
        message = (
            exc.message if isinstance(exc, errors.HubError) else f"{type(exc).__name__}: {exc}"
        )
        final = not is_retryable(exc) or context.job.attempts >= context.job.max_attempts
        mirrors.finish_sync(mirror, message, schedule_next=scheduled and final)
        raise
    mirrors.finish_sync(mirror, None, schedule_next=scheduled)


def _sync(context: JobContext, syncs: SyncService, mirror: MirrorRecord, repo: RepoRecord) -> None:
    context.log(f"syncing {mirror.local_id} from {mirror.upstream}")
    plan = syncs.plan(mirror, repo)
    total = sum(obj.size for obj in plan.objects)
    context.log(
        f"{len(plan.updates)} ref(s) to update; {len(plan.objects)} LFS object(s) to fetch "
        f"({total} bytes), {plan.linked} already stored"
    )
    context.progress(files_done=0, files_total=len(plan.objects), bytes_done=0, bytes_total=total)
    _fetch_objects(context, syncs, plan)
    context.raise_if_cancelled()
    syncs.publish(plan)
    for update in plan.updates:
        context.log(f"{update.name}: {update.old or '(new)'} -> {update.new or '(deleted)'}")


def _fetch_objects(context: JobContext, syncs: SyncService, plan: SyncPlan) -> None:
    """Fetch the plan's objects in parallel; the first failure stops the others."""
    lock = threading.Lock()
    stop = threading.Event()
    done = {"files": 0, "bytes": 0}

    def on_bytes(count: int) -> None:
        if stop.is_set():
            raise _Stopped
        with lock:
            done["bytes"] += count
            context.progress(bytes_done=done["bytes"])
        context.raise_if_cancelled()

    def fetch(obj: WantedObject) -> None:
        syncs.fetch_object(plan, obj, on_bytes)
        with lock:
            done["files"] += 1
            context.progress(files_done=done["files"])
        context.log(f"fetched {obj.path} ({obj.size} bytes)")

    workers = context.services.settings.mirror_concurrency
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hubstead-sync") as pool:
        futures = [pool.submit(fetch, obj) for obj in plan.objects]
        try:
            for future in as_completed(futures):
                future.result()
        except BaseException:
            stop.set()  # the downloads under way give up at their next chunk
            for future in futures:
                future.cancel()
            raise


class _Stopped(Exception):
    """Another download of the sync failed: this one stops too."""
