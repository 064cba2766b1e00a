"""Domain values to the Hub's JSON shapes (camelCase lives here and in the routes only)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from hubstead.protocol import RepoType
from hubstead.server.domain.git import CommitRecord, EntryKind
from hubstead.server.domain.jobs import JobRecord
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.domain.spaces import FREE_HARDWARE, SpaceState
from hubstead.server.services.catalog import RepoInfo
from hubstead.server.services.files import FileInfo
from hubstead.server.services.gguf import GgufSummary
from hubstead.server.services.lfs_files import LfsFile

# The keys `expand=` may ask for, per repo type (core.md §4.2); unknown ones are ignored.
EXPANDABLE = {
    RepoType.MODEL: {
        "author", "cardData", "createdAt", "disabled", "downloads", "downloadsAllTime", "gated",
        "gguf", "lastModified", "library_name", "likes", "pipeline_tag", "private", "safetensors",
        "sha", "siblings", "tags", "trendingScore", "usedStorage",
    },
    RepoType.DATASET: {
        "author", "cardData", "createdAt", "disabled", "downloads", "downloadsAllTime", "gated",
        "lastModified", "likes", "private", "sha", "siblings", "tags", "trendingScore",
        "usedStorage",
    },
    RepoType.SPACE: {
        "author", "cardData", "createdAt", "disabled", "lastModified", "likes", "private",
        "runtime", "sdk", "sha", "siblings", "tags", "trendingScore", "usedStorage",
    },
    # The client sends no `expand=` for kernels (`kernel_info`); what a kernel's info holds.
    RepoType.KERNEL: {
        "author", "cardData", "createdAt", "disabled", "downloads", "gated", "lastModified",
        "likes", "private", "sha", "siblings", "tags", "usedStorage",
    },
}  # fmt: skip


def date(value: dt.datetime) -> str:
    """A timestamp as the client parses it: UTC with milliseconds and a literal `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


def commit_summary(commit: CommitRecord) -> dict[str, str]:
    """The `lastCommit` object of tree entries."""
    return {"id": commit.id, "title": commit.title, "date": date(commit.date)}


def commit_entry(commit: CommitRecord, *, formatted: bool) -> dict[str, Any]:
    """One item of the commits listing."""
    entry: dict[str, Any] = {
        "id": commit.id,
        "title": commit.title,
        "message": commit.message,
        "date": date(commit.date),
        "authors": [{"user": commit.author_name}],
    }
    if formatted:
        entry["formatted"] = {
            "title": html.escape(commit.title),
            "message": html.escape(commit.message),
        }
    return entry


def file_entry(info: FileInfo) -> dict[str, Any]:
    """One tree or paths-info entry."""
    if info.kind is EntryKind.DIRECTORY:
        entry: dict[str, Any] = {"type": "directory", "oid": info.oid, "size": 0, "path": info.path}
    else:
        entry = {"type": "file", "oid": info.oid, "size": info.size, "path": info.path}
        if info.lfs is not None:
            entry["lfs"] = {
                "oid": info.lfs.sha256,
                "size": info.lfs.size,
                "pointerSize": info.lfs.pointer_size,
            }
            if info.lfs.xet_hash is not None:
                entry["xetHash"] = info.lfs.xet_hash
    if info.last_commit is not None:
        entry["lastCommit"] = commit_summary(info.last_commit)
    return entry


def sibling(info: FileInfo, *, blobs: bool) -> dict[str, Any]:
    """One `siblings` item of repo info (`lfs.sha256` here, unlike the tree's `lfs.oid`)."""
    entry: dict[str, Any] = {"rfilename": info.path}
    if blobs:
        entry["size"] = info.size
        entry["blobId"] = info.oid
        if info.lfs is not None:
            entry["lfs"] = {
                "sha256": info.lfs.sha256,
                "size": info.lfs.size,
                "pointerSize": info.lfs.pointer_size,
            }
    return entry


def repo_summary(repo: RepoRecord) -> dict[str, Any]:
    """The fields of a repo that need no git access (listings)."""
    type = RepoType(repo.type)
    payload: dict[str, Any] = {
        "_id": f"{repo.id:024x}",
        "id": repo.repo_id,
        "author": repo.namespace,
        "private": repo.private,
        "gated": repo.gated or False,
        "disabled": False,
        "discussionsDisabled": repo.discussions_disabled,
        "likes": repo.likes,
        "tags": list(repo.tags),
        "createdAt": date(repo.created_at),
        "lastModified": date(repo.last_modified),
    }
    if type is not RepoType.SPACE:
        payload["downloads"] = repo.downloads
    if type is RepoType.MODEL:
        payload["modelId"] = repo.repo_id
        payload["library_name"] = repo.library_name
        payload["pipeline_tag"] = repo.pipeline_tag
    if type is RepoType.SPACE:
        payload["sdk"] = _space_sdk(repo, repo.card_data)
    return payload


def repo_info(info: RepoInfo, *, blobs: bool) -> dict[str, Any]:
    """Full repo info at a revision: `siblings` and `usedStorage` when the info has them."""
    payload = repo_summary(info.repo)
    payload.update(
        sha=info.commit.id,
        lastModified=date(info.commit.date),
        tags=list(info.facts.tags),
    )
    if info.facts.card_data is not None:
        payload["cardData"] = info.facts.card_data
    if RepoType(info.repo.type) is RepoType.MODEL:
        payload["library_name"] = info.facts.library_name
        payload["pipeline_tag"] = info.facts.pipeline_tag
    if RepoType(info.repo.type) is RepoType.SPACE:
        payload["sdk"] = _space_sdk(info.repo, info.facts.card_data)
    if info.files is not None:
        regular = [f for f in info.files if f.kind is EntryKind.FILE]
        payload["siblings"] = [sibling(f, blobs=blobs) for f in regular]
    if info.used_storage is not None:
        payload["usedStorage"] = info.used_storage
    if info.safetensors is not None:
        payload["safetensors"] = {
            "parameters": dict(info.safetensors.parameters),
            "total": info.safetensors.total,
        }
    if info.gguf is not None:
        payload["gguf"] = _gguf(info.gguf)
    return payload


def _gguf(summary: GgufSummary) -> dict[str, Any]:
    """The `gguf` block: the parameter total, and what else the file says."""
    block: dict[str, Any] = {"total": summary.total}
    for key, value in (
        ("architecture", summary.architecture),
        ("context_length", summary.context_length),
        ("chat_template", summary.chat_template),
        ("bos_token", summary.bos_token),
        ("eos_token", summary.eos_token),
    ):
        if value is not None:
            block[key] = value
    return block


def lfs_file(file: LfsFile) -> dict[str, Any]:
    """One item of the LFS file listing (`filename` is always sent: the 2.4 client needs it)."""
    entry: dict[str, Any] = {
        "fileOid": file.sha256,
        "oid": file.sha256,
        "size": file.size,
        "pushedAt": date(file.pushed_at),
        "filename": file.filename,
    }
    if file.ref is not None:
        entry["ref"] = file.ref
    return entry


def job(record: JobRecord) -> dict[str, Any]:
    """A job, for the admin API."""
    progress = record.progress
    return {
        "id": record.id,
        "kind": record.kind,
        "key": record.key,
        "payload": record.payload,
        "state": record.state.value,
        "attempts": record.attempts,
        "maxAttempts": record.max_attempts,
        "progress": {
            "filesDone": progress.files_done,
            "filesTotal": progress.files_total,
            "bytesDone": progress.bytes_done,
            "bytesTotal": progress.bytes_total,
        },
        "error": record.error,
        "logTail": list(record.log_tail),
        "cancelRequested": record.cancel_requested,
        "createdAt": date(record.created_at),
        "startedAt": None if record.started_at is None else date(record.started_at),
        "finishedAt": None if record.finished_at is None else date(record.finished_at),
        "nextRunAt": date(record.next_run_at),
    }


def space_runtime(state: SpaceState) -> dict[str, Any]:
    """A Space's runtime object (platform.md §7.2); `hardware` is always an object."""
    serving = state.stage.serving
    payload: dict[str, Any] = {
        "stage": state.stage.value,
        "hardware": {
            "current": FREE_HARDWARE if serving else None,
            "requested": state.requested_hardware,
        },
        "storage": None,
        "gcTimeout": state.sleep_seconds,
        "replicas": {"requested": 1, "current": 1 if serving else 0},
        "devMode": False,
        "domains": [],
        "sdk": None if state.sdk is None else state.sdk.value,
    }
    if state.volumes:
        payload["volumes"] = [
            {
                "type": v.kind,
                "source": v.source,
                "mountPath": v.mount_path,
                "revision": v.revision,
                "readOnly": True,
                **({"path": v.path} if v.path is not None else {}),
            }
            for v in state.volumes
        ]
    if state.error is not None:
        payload["errorMessage"] = state.error
    return payload


def select(payload: dict[str, Any], expand: list[str], type: RepoType) -> dict[str, Any]:
    """Only the expanded keys (plus `id`), as the Hub answers `expand=`."""
    wanted = set(expand) & EXPANDABLE[type]
    return {"id": payload["id"], **{k: v for k, v in payload.items() if k in wanted}}


def _space_sdk(repo: RepoRecord, card: dict[str, Any] | None) -> str | None:
    sdk = (card or {}).get("sdk")
    return sdk if isinstance(sdk, str) else repo.sdk
