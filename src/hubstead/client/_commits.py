"""The commit protocol's requests: README validation, preupload, copy sources, NDJSON commits.

`preupload` asks the hub, 256 files at a time, how each file must travel (inline or LFS),
whether its `.gitignore` drops it, and what the file at that path is now (to skip unchanged
files). The commit body is NDJSON, produced line by line while it is sent, so inline file
content is read only when its line goes out.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import httpx

from hubstead.client import models
from hubstead.client._files import FileMethods
from hubstead.client._http import HubSession
from hubstead.client._upload_sources import UploadSource
from hubstead.client._urls import api_repo_path, quote_revision, repo_type_of, resolve_url
from hubstead.errors import (
    BadRequestError,
    EntryNotFoundError,
    HFValidationError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)

PREUPLOAD_BATCH = 256
# The commit body goes out in pieces of this size: one send (and one HTTP chunk) per line costs
# the client and the hub more than the lines of a commit of small files do.
_BODY_PIECE_BYTES = 256 * 1024
_PARENT_COMMIT = re.compile(r"^[0-9a-fA-F]{5,40}$")
_NO_REPO_HINT = (
    "\nNote: commits go to an existing repo; create it first with `create_repo` "
    "(or `hubstead upload`, which creates it)."
)
_DELETE_HINT = (
    "\nMake sure to tell file and folder paths apart in delete operations: a trailing '/' "
    "or `is_folder=True` for a folder."
)


@dataclasses.dataclass(frozen=True)
class UploadMode:
    """What the hub said about one file before its upload."""

    lfs: bool
    should_ignore: bool
    remote_oid: str | None


@dataclasses.dataclass(frozen=True)
class CopySource:
    """What a copy copies: an LFS object, or the bytes of a regular file."""

    sha256: str | None
    size: int
    content: bytes | None
    unchanged: bool  # the destination already holds this content


def check_commit_args(commit_message: str | None, parent_commit: str | None) -> None:
    """Refuse an empty message or a malformed parent before anything is sent.

    Raises:
        HFValidationError: either is invalid.
    """
    if not commit_message:
        raise HFValidationError("`commit_message` can't be empty, please pass a value.")
    if parent_commit is not None and not _PARENT_COMMIT.match(parent_commit):
        raise HFValidationError(
            f"`parent_commit` is not a valid commit id (5 to 40 hex digits): {parent_commit!r}"
        )


def validate_readme(
    session: HubSession, content: str, *, repo_type: str | None, token: str | bool | None
) -> None:
    """Have the hub check a README's metadata block before anything is uploaded.

    Raises:
        BadRequestError: the metadata is invalid (a `ValueError`; the message lists the errors).
    """
    try:
        response = session.send(
            "POST",
            session.url("api/validate-yaml"),
            action="validate the metadata of README.md",
            json={"content": content, "repoType": repo_type_of(repo_type).value},
            token=token,
        )
    except BadRequestError as exc:
        problems = _messages(exc.response, "errors") if exc.response is not None else []
        listed = "\n".join(f"- {p}" for p in problems) or f"- {exc.server_message}"
        raise BadRequestError(
            f"Invalid metadata in README.md.\n{listed}",
            response=exc.response,
            server_message=exc.server_message,
        ) from exc
    notes = _messages(response, "warnings")
    if notes:
        listed = "\n".join(f"- {n}" for n in notes)
        warnings.warn(f"Warnings while validating metadata in README.md:\n{listed}", stacklevel=3)


def _messages(response: httpx.Response, key: str) -> list[str]:
    """The `message` of each item of a validation answer's `errors` or `warnings`."""
    try:
        items = response.json().get(key) or []
    except (ValueError, AttributeError):
        return []
    return [str(i.get("message")) for i in items if isinstance(i, dict)]


def preupload(
    session: HubSession,
    repo_id: str,
    files: Sequence[tuple[str, UploadSource]],
    *,
    repo_type: str | None,
    revision: str,
    token: str | bool | None,
    create_pr: bool,
    gitignore: str | None = None,
) -> list[UploadMode]:
    """How each file must travel, in the order given (empty files always go inline).

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError, HfHubHTTPError: the hub refused.
    """
    url = session.url(f"{api_repo_path(repo_type, repo_id)}/preupload/{quote_revision(revision)}")
    answers: dict[str, dict[str, Any]] = {}
    for start in range(0, len(files), PREUPLOAD_BATCH):
        batch = files[start : start + PREUPLOAD_BATCH]
        payload: dict[str, Any] = {
            "files": [
                {
                    "path": path,
                    "sample": base64.b64encode(source.sample()).decode("ascii"),
                    "size": source.size,
                }
                for path, source in batch
            ]
        }
        if gitignore is not None:
            payload["gitIgnore"] = gitignore
        try:
            response = session.send(
                "POST",
                url,
                action=f"preupload files to {repo_id}",
                json=payload,
                params={"create_pr": "1"} if create_pr else None,
                token=token,
            )
        except RepositoryNotFoundError as exc:
            exc.append_to_message(_NO_REPO_HINT)
            raise
        for item in response.json().get("files") or []:
            answers[item["path"]] = item
    modes = []
    for path, source in files:
        item = answers.get(path, {})
        modes.append(
            UploadMode(
                lfs=item.get("uploadMode") == "lfs" and source.size > 0,
                should_ignore=bool(item.get("shouldIgnore")),
                remote_oid=item.get("oid"),
            )
        )
    return modes


def resolve_copies(
    api: FileMethods,
    repo_id: str,
    copies: Sequence[tuple[str, str, str | None]],
    *,
    repo_type: str | None,
    revision: str,
    token: str | bool | None,
) -> list[CopySource]:
    """The source of each `(source path, destination path, source revision)`, in order.

    Regular files are read (they are committed again); LFS files are copied by reference.

    Raises:
        EntryNotFoundError: a source that is missing or a folder.
    """
    if not copies:
        return []
    kwargs: dict[str, Any] = {"repo_type": repo_type, "token": token}
    targets = api.get_paths_info(repo_id, [c[1] for c in copies], revision=revision, **kwargs)
    target_oids = {e.path: e.blob_id for e in targets if isinstance(e, models.RepoFile)}
    found: dict[tuple[str, str], models.RepoFile | models.RepoFolder] = {}
    for source_revision in sorted({c[2] or revision for c in copies}):
        paths = sorted({src for src, _, rev in copies if (rev or revision) == source_revision})
        for item in api.get_paths_info(repo_id, paths, revision=source_revision, **kwargs):
            found[source_revision, item.path] = item
    sources = []
    for src, dest, rev in copies:
        entry = found.get((rev or revision, src))
        if not isinstance(entry, models.RepoFile):
            what = "a folder (copying folders is not supported)" if entry else "missing"
            raise EntryNotFoundError(
                f"Cannot copy {src} at revision {rev or revision} of {repo_id}: it is {what}."
            )
        content = None
        if entry.lfs is None:
            url = resolve_url(
                api.endpoint, repo_id, src, repo_type=repo_type, revision=rev or revision
            )
            action = f"read {src} at {rev or revision} to copy it"
            content = api.session.send("GET", url, action=action, token=token).content
        sources.append(
            CopySource(
                sha256=entry.lfs.sha256 if entry.lfs else None,
                size=entry.size,
                content=content,
                unchanged=target_oids.get(dest) == entry.blob_id,
            )
        )
    return sources


def file_line(path: str, source: UploadSource) -> dict[str, Any]:
    """An inline file (its content read now)."""
    content = base64.b64encode(source.read_all()).decode("ascii")
    return {"key": "file", "value": {"path": path, "content": content, "encoding": "base64"}}


def inline_line(path: str, content: bytes) -> dict[str, Any]:
    """An inline file from bytes already in memory."""
    encoded = base64.b64encode(content).decode("ascii")
    return {"key": "file", "value": {"path": path, "content": encoded, "encoding": "base64"}}


def lfs_line(path: str, sha256: str, size: int | None) -> dict[str, Any]:
    """A file that points at a stored LFS object."""
    value: dict[str, Any] = {"path": path, "algo": "sha256", "oid": sha256}
    if size is not None:
        value["size"] = size
    return {"key": "lfsFile", "value": value}


def delete_line(path: str, *, is_folder: bool) -> dict[str, Any]:
    """A deleted file or folder."""
    return {"key": "deletedFolder" if is_folder else "deletedFile", "value": {"path": path}}


def post_commit(
    session: HubSession,
    repo_id: str,
    lines: Iterable[dict[str, Any]],
    *,
    repo_type: str | None,
    revision: str,
    commit_message: str,
    commit_description: str | None,
    parent_commit: str | None,
    token: str | bool | None,
    create_pr: bool,
    has_deletions: bool = False,
) -> models.CommitInfo:
    """Send the NDJSON commit (not retried: a commit is not idempotent).

    Raises:
        RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError (a deleted
        path that does not exist), BadRequestError, HfHubHTTPError (412: `parent_commit` is no
        longer the head of the branch).
    """
    header: dict[str, Any] = {"summary": commit_message, "description": commit_description or ""}
    if parent_commit is not None:
        header["parentCommit"] = parent_commit

    def body() -> Iterator[bytes]:
        piece = bytearray(json.dumps({"key": "header", "value": header}).encode() + b"\n")
        for line in lines:
            piece += json.dumps(line).encode() + b"\n"
            if len(piece) >= _BODY_PIECE_BYTES:
                yield bytes(piece)
                piece.clear()
        if piece:
            yield bytes(piece)

    url = session.url(f"{api_repo_path(repo_type, repo_id)}/commit/{quote_revision(revision)}")
    try:
        response = session.send(
            "POST",
            url,
            action=f"commit to {repo_id} (revision {revision!r})",
            content=body(),
            headers={"Content-Type": "application/x-ndjson"},
            params={"create_pr": "1"} if create_pr else None,
            token=token,
            retry=False,
        )
    except RepositoryNotFoundError as exc:
        exc.append_to_message(_NO_REPO_HINT)
        raise
    except RemoteEntryNotFoundError as exc:
        if has_deletions:
            exc.append_to_message(_DELETE_HINT)
        raise
    data = response.json()
    return models.CommitInfo(
        commit_url=data["commitUrl"],
        commit_message=commit_message,
        commit_description=commit_description or "",
        oid=data["commitOid"],
        pr_url=data.get("pullRequestUrl") if create_pr else None,
    )


def head_commit_info(
    session: HubSession,
    repo_id: str,
    head: str,
    *,
    repo_type: str | None,
    commit_message: str,
    commit_description: str | None,
) -> models.CommitInfo:
    """The `CommitInfo` answered when nothing changed: the branch's current head."""
    prefix = repo_type_of(repo_type).url_prefix
    return models.CommitInfo(
        commit_url=session.url(f"{prefix}{repo_id}/commit/{head}"),
        commit_message=commit_message,
        commit_description=commit_description or "",
        oid=head,
    )
