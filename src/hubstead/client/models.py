"""The client's results: frozen dataclasses with the attribute names `huggingface_hub` uses.

Each has a `from_json` that reads the Hub's wire shape (camelCase stays here and in `_http.py`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Self
from urllib.parse import urlsplit

from hubstead.protocol import RepoType

_PR_URL = re.compile(r".*/discussions/(\d+)")


def parse_date(value: Any) -> dt.datetime | None:
    """A Hub timestamp (`2024-05-01T12:00:00.000Z`) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    return parse_timestamp(value)


def parse_timestamp(value: str) -> dt.datetime:
    """A timestamp the Hub always sends, as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclasses.dataclass(frozen=True)
class BlobLfsInfo:
    """The LFS object behind a file."""

    size: int
    sha256: str
    pointer_size: int


@dataclasses.dataclass(frozen=True)
class LastCommitInfo:
    """The last commit that changed a path."""

    oid: str
    title: str
    date: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class RepoSibling:
    """A file of a repo, as repo info lists it (`size`, `blob_id`, `lfs` with files_metadata)."""

    rfilename: str
    size: int | None = None
    blob_id: str | None = None
    lfs: BlobLfsInfo | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RepoSibling:
        """Parse a `siblings` item."""
        lfs = data.get("lfs")
        return cls(
            rfilename=data["rfilename"],
            size=data.get("size"),
            blob_id=data.get("blobId"),
            lfs=BlobLfsInfo(lfs["size"], lfs["sha256"], lfs["pointerSize"]) if lfs else None,
        )


@dataclasses.dataclass(frozen=True)
class RepoFile:
    """A file in a tree listing; `size` is the real size, LFS or not."""

    path: str
    size: int
    blob_id: str
    lfs: BlobLfsInfo | None = None
    last_commit: LastCommitInfo | None = None


@dataclasses.dataclass(frozen=True)
class RepoFolder:
    """A folder in a tree listing."""

    path: str
    tree_id: str
    last_commit: LastCommitInfo | None = None


def parse_tree_entry(data: dict[str, Any]) -> RepoFile | RepoFolder:
    """A tree or paths-info entry."""
    last = data.get("lastCommit")
    last_commit = (
        LastCommitInfo(last["id"], last["title"], parse_date(last.get("date"))) if last else None
    )
    if data.get("type") == "file":
        lfs = data.get("lfs")
        return RepoFile(
            path=data["path"],
            size=int(data["size"]),
            blob_id=data["oid"],
            lfs=BlobLfsInfo(lfs["size"], lfs["oid"], lfs["pointerSize"]) if lfs else None,
            last_commit=last_commit,
        )
    return RepoFolder(path=data["path"], tree_id=data["oid"], last_commit=last_commit)


@dataclasses.dataclass(frozen=True)
class RepoInfo:
    """What a hub says about a repo (fields it did not send are None)."""

    id: str
    author: str | None = None
    sha: str | None = None
    created_at: dt.datetime | None = None
    last_modified: dt.datetime | None = None
    private: bool | None = None
    gated: str | bool | None = None
    disabled: bool | None = None
    downloads: int | None = None
    likes: int | None = None
    tags: tuple[str, ...] = ()
    card_data: dict[str, Any] | None = None
    siblings: tuple[RepoSibling, ...] | None = None
    used_storage: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse repo info of this type (extra keys go to the subclass fields that exist)."""
        siblings = data.get("siblings")
        values: dict[str, Any] = {
            "id": data["id"],
            "author": data.get("author"),
            "sha": data.get("sha"),
            "created_at": parse_date(data.get("createdAt")),
            "last_modified": parse_date(data.get("lastModified")),
            "private": data.get("private"),
            "gated": data.get("gated"),
            "disabled": data.get("disabled"),
            "downloads": data.get("downloads"),
            "likes": data.get("likes"),
            "tags": tuple(data.get("tags") or ()),
            "card_data": data.get("cardData"),
            "siblings": (
                tuple(RepoSibling.from_json(s) for s in siblings) if siblings is not None else None
            ),
            "used_storage": data.get("usedStorage"),
        }
        names = {field.name for field in dataclasses.fields(cls)}
        values.update({k: data[key] for k, key in cls._extra_keys().items() if key in data})
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def _extra_keys(cls) -> dict[str, str]:
        return {}


@dataclasses.dataclass(frozen=True)
class SafeTensorsInfo:
    """A model's safetensors weights: parameters per dtype, and their total."""

    parameters: dict[str, int]
    total: int


@dataclasses.dataclass(frozen=True)
class ModelInfo(RepoInfo):
    """A model repo; `safetensors` and `gguf` when the hub summarized its weights.

    `gguf` is the Hub's block as sent (`total`, and `architecture`, `context_length`,
    `chat_template`, `bos_token`, `eos_token` when the file says), as huggingface_hub keeps it.
    """

    library_name: str | None = None
    pipeline_tag: str | None = None
    safetensors: SafeTensorsInfo | None = None
    gguf: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse model info, with the `safetensors` block when there is one."""
        info = super().from_json(data)
        block = data.get("safetensors")
        if not isinstance(block, dict):
            return info
        summary = SafeTensorsInfo(dict(block["parameters"]), int(block["total"]))
        return dataclasses.replace(info, safetensors=summary)

    @classmethod
    def _extra_keys(cls) -> dict[str, str]:
        return {"library_name": "library_name", "pipeline_tag": "pipeline_tag", "gguf": "gguf"}


@dataclasses.dataclass(frozen=True)
class DatasetInfo(RepoInfo):
    """A dataset repo."""


@dataclasses.dataclass(frozen=True)
class SpaceInfo(RepoInfo):
    """A Space repo."""

    sdk: str | None = None

    @classmethod
    def _extra_keys(cls) -> dict[str, str]:
        return {"sdk": "sdk"}


@dataclasses.dataclass(frozen=True)
class KernelInfo(RepoInfo):
    """A kernel repo (compute kernels for the `kernels` library)."""


INFO_CLASSES: dict[str, type[RepoInfo]] = {
    "model": ModelInfo,
    "dataset": DatasetInfo,
    "space": SpaceInfo,
    "kernel": KernelInfo,
}


@dataclasses.dataclass(frozen=True)
class GitRefInfo:
    """A branch, tag, conversion or pull request ref."""

    name: str
    ref: str
    target_commit: str


@dataclasses.dataclass(frozen=True)
class GitRefs:
    """Every ref of a repo; `pull_requests` only when asked for."""

    branches: tuple[GitRefInfo, ...]
    converts: tuple[GitRefInfo, ...]
    tags: tuple[GitRefInfo, ...]
    pull_requests: tuple[GitRefInfo, ...] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitRefs:
        """Parse the refs listing."""

        def refs(key: str) -> tuple[GitRefInfo, ...]:
            return tuple(
                GitRefInfo(r["name"], r["ref"], r["targetCommit"]) for r in data.get(key) or ()
            )

        prs = refs("pullRequests") if "pullRequests" in data else None
        return cls(refs("branches"), refs("converts"), refs("tags"), prs)


@dataclasses.dataclass(frozen=True)
class GitCommitInfo:
    """A commit of a repo's history."""

    commit_id: str
    authors: tuple[str, ...]
    created_at: dt.datetime | None
    title: str
    message: str
    formatted_title: str | None = None
    formatted_message: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GitCommitInfo:
        """Parse a commits listing item."""
        formatted = data.get("formatted") or {}
        return cls(
            commit_id=data["id"],
            authors=tuple(a.get("user", "") for a in data.get("authors") or ()),
            created_at=parse_date(data.get("date")),
            title=data.get("title", ""),
            message=data.get("message", ""),
            formatted_title=formatted.get("title"),
            formatted_message=formatted.get("message"),
        )


class RepoUrl(str):
    """A repo's URL (a `str`) with its parts, as `huggingface_hub.RepoUrl` has them.

    Args:
        url: the repo's URL (`{endpoint}/[datasets/|spaces/|kernels/]{namespace}/{name}`).
        endpoint: the hub's URL the repo URL starts with (default: the URL's scheme and host).
    """

    endpoint: str
    repo_type: str
    repo_id: str
    namespace: str
    repo_name: str

    def __new__(cls, url: str, endpoint: str | None = None) -> RepoUrl:
        """Split `url` into the endpoint, the repo type and the repo id."""
        instance = super().__new__(cls, url)
        parsed = urlsplit(url)
        base = (endpoint or f"{parsed.scheme}://{parsed.netloc}").rstrip("/")
        path = url[len(base) :] if url.startswith(base) else parsed.path
        parts = [part for part in path.split("/") if part]
        # Models have no prefix: a first segment `models` would be a namespace of that name.
        prefix = RepoType.from_api_segment(parts[0]) if len(parts) > 2 else None
        repo_type = prefix if prefix is not None and prefix.url_prefix else RepoType.MODEL
        if repo_type is not RepoType.MODEL:
            parts.pop(0)
        instance.endpoint = base
        instance.repo_type = repo_type.value
        instance.repo_id = "/".join(parts)
        instance.namespace, _, instance.repo_name = instance.repo_id.rpartition("/")
        return instance

    @property
    def url(self) -> str:
        """The URL as a plain string."""
        return str(self)


class DuplicatedRepoUrl(RepoUrl):
    """The URL of a repo `duplicate_repo` made, as `huggingface_hub.DuplicatedRepoUrl` has it.

    `files_copy_pending` is True while the hub still copies the large files in the background
    (huggingface.co may; a hubstead hub never does).
    """

    files_copy_pending: bool = False


@dataclasses.dataclass(frozen=True)
class CommitInfo:
    """A commit just made: its id, URL and message; for a pull request, its URL and ref."""

    commit_url: str
    commit_message: str
    commit_description: str
    oid: str
    pr_url: str | None = None

    @property
    def repo_url(self) -> str:
        """The URL of the repo the commit is in."""
        return self.commit_url.split("/commit/")[0]

    @property
    def pr_num(self) -> int | None:
        """The number of the pull request the commit opened (`pr_url` ends with it)."""
        if self.pr_url is None:
            return None
        match = _PR_URL.fullmatch(self.pr_url)
        if match is None:
            raise ValueError(f"Expected a pull request URL from the hub, got {self.pr_url!r}")
        return int(match.group(1))

    @property
    def pr_revision(self) -> str | None:
        """The pull request's git ref (`refs/pr/3`), to commit more to it."""
        num = self.pr_num
        return None if num is None else f"refs/pr/{num}"

    def __str__(self) -> str:
        """The commit URL, as `huggingface_hub.CommitInfo` (a `str`) prints."""
        return self.commit_url


def _author(data: dict[str, Any]) -> str:
    """The name of who wrote something; `deleted` once their account is gone (as the Hub)."""
    return str((data.get("author") or {}).get("name", "deleted"))


@dataclasses.dataclass(frozen=True)
class Discussion:
    """A discussion or pull request of a repo.

    `status` is `open`, `closed`, `merged` or `draft` (the last two: pull requests only);
    `author` is `deleted` once the author's account is gone.
    """

    title: str
    status: str
    num: int
    repo_id: str
    repo_type: str
    author: str
    is_pull_request: bool
    created_at: dt.datetime
    endpoint: str

    @property
    def git_reference(self) -> str | None:
        """The ref that takes a pull request's commits (`refs/pr/<num>`); None otherwise."""
        return f"refs/pr/{self.num}" if self.is_pull_request else None

    @property
    def url(self) -> str:
        """The discussion's page on the hub."""
        prefix = "" if self.repo_type == "model" else f"{self.repo_type}s/"
        return f"{self.endpoint}/{prefix}{self.repo_id}/discussions/{self.num}"

    @classmethod
    def from_json(cls, data: dict[str, Any], endpoint: str) -> Discussion:
        """Parse an item of a discussions listing, from the hub at `endpoint`."""
        return Discussion(**_discussion_fields(data, endpoint))


def _discussion_fields(data: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The fields of `Discussion` in a listing item or a discussion's details."""
    return {
        "title": data["title"],
        "status": data["status"],
        "num": data["num"],
        "repo_id": data["repo"]["name"],
        "repo_type": data["repo"]["type"],
        "author": _author(data),
        "is_pull_request": data["isPullRequest"],
        "created_at": parse_timestamp(data["createdAt"]),
        "endpoint": endpoint,
    }


@dataclasses.dataclass(frozen=True)
class DiscussionEvent:
    """An event of a discussion's timeline (the subclasses are the kinds the client knows).

    `_event` is the event as the hub sent it.
    """

    id: str
    type: str
    created_at: dt.datetime
    author: str
    _event: dict[str, Any] = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class DiscussionComment(DiscussionEvent):
    """A comment: its markdown `content` (empty once hidden), and whether it was edited."""

    content: str
    edited: bool
    hidden: bool

    @property
    def rendered(self) -> str:
        """The comment as HTML."""
        return str(self._event["data"]["latest"]["html"])

    @property
    def last_edited_at(self) -> dt.datetime:
        """When the current content was written."""
        return parse_timestamp(self._event["data"]["latest"]["updatedAt"])

    @property
    def last_edited_by(self) -> str:
        """Who wrote the current content (`deleted` once their account is gone)."""
        return _author(self._event["data"]["latest"])

    @property
    def edit_history(self) -> list[dict[str, Any]]:
        """The comment's contents, as the hub lists them."""
        history: list[dict[str, Any]] = self._event["data"]["history"]
        return history

    @property
    def number_of_edits(self) -> int:
        """How many contents the comment has had."""
        return len(self.edit_history)


@dataclasses.dataclass(frozen=True)
class DiscussionStatusChange(DiscussionEvent):
    """A change of status: `new_status` is `open`, `closed` or `merged`."""

    new_status: str


@dataclasses.dataclass(frozen=True)
class DiscussionCommit(DiscussionEvent):
    """A commit added to a pull request: its title (`summary`) and id."""

    summary: str
    oid: str


@dataclasses.dataclass(frozen=True)
class DiscussionTitleChange(DiscussionEvent):
    """A rename."""

    old_title: str
    new_title: str


def parse_discussion_event(data: dict[str, Any]) -> DiscussionEvent:
    """An event of a timeline, as the subclass its `type` names (else a plain event)."""
    common: dict[str, Any] = {
        "id": data["id"],
        "type": data["type"],
        "created_at": parse_timestamp(data["createdAt"]),
        "author": _author(data),
        "_event": data,
    }
    detail = data.get("data") or {}
    if data["type"] == "comment":
        return DiscussionComment(
            **common,
            content=detail["latest"]["raw"],
            edited=detail["edited"],
            hidden=detail["hidden"],
        )
    if data["type"] == "status-change":
        return DiscussionStatusChange(**common, new_status=detail["status"])
    if data["type"] == "commit":
        return DiscussionCommit(**common, summary=detail["subject"], oid=detail["oid"])
    if data["type"] == "title-change":
        return DiscussionTitleChange(**common, old_title=detail["from"], new_title=detail["to"])
    return DiscussionEvent(**common)


@dataclasses.dataclass(frozen=True)
class DiscussionWithDetails(Discussion):
    """A discussion with its timeline; for a pull request, its target and changes.

    `conflicting_files` (pull requests only) are the paths that conflict with the target
    branch, or `True` when the hub cannot list them; `target_branch` is the ref it merges into;
    `merge_commit_oid` is set once merged; `diff` is the pull request's changes as a git diff.
    """

    events: tuple[DiscussionEvent, ...]
    conflicting_files: tuple[str, ...] | bool | None
    target_branch: str | None
    merge_commit_oid: str | None
    diff: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any], endpoint: str) -> DiscussionWithDetails:
        """Parse a discussion's details, from the hub at `endpoint`."""
        conflicts: tuple[str, ...] | bool | None = None
        target = merge_commit = None
        if data["isPullRequest"]:
            files = data["filesWithConflicts"]
            conflicts = files if isinstance(files, bool) else tuple(files)
            target = data["changes"]["base"]
            merge_commit = data["changes"].get("mergeCommitId")
        return cls(
            **_discussion_fields(data, endpoint),
            events=tuple(parse_discussion_event(event) for event in data["events"]),
            conflicting_files=conflicts,
            target_branch=target,
            merge_commit_oid=merge_commit,
            diff=data.get("diff"),
        )


@dataclasses.dataclass(frozen=True)
class Organization:
    """An organization, as an overview or an item of a user's `orgs` (counts: None if unsent)."""

    name: str
    fullname: str
    avatar_url: str
    details: str | None = None
    is_following: bool | None = None
    num_users: int | None = None
    num_models: int | None = None
    num_datasets: int | None = None
    num_spaces: int | None = None
    num_followers: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Organization:
        """Parse an organization overview (or a user's org entry)."""
        return cls(
            name=data.get("name", ""),
            fullname=data.get("fullname", ""),
            avatar_url=data.get("avatarUrl", ""),
            details=data.get("details"),
            is_following=data.get("isFollowing"),
            num_users=data.get("numUsers"),
            num_models=data.get("numModels"),
            num_datasets=data.get("numDatasets"),
            num_spaces=data.get("numSpaces"),
            num_followers=data.get("numFollowers"),
        )


@dataclasses.dataclass(frozen=True)
class User:
    """A user (or, in a listing of whom a user follows, an organization: `user_type` `org`)."""

    username: str
    fullname: str
    avatar_url: str
    user_type: str | None = None
    details: str | None = None
    is_following: bool | None = None
    is_pro: bool | None = None
    num_models: int | None = None
    num_datasets: int | None = None
    num_spaces: int | None = None
    num_discussions: int | None = None
    num_likes: int | None = None
    num_following: int | None = None
    num_followers: int | None = None
    orgs: tuple[Organization, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """Parse a user overview or an item of a people listing."""
        return cls(
            username=data.get("user", ""),
            fullname=data.get("fullname", ""),
            avatar_url=data.get("avatarUrl", ""),
            user_type=data.get("type"),
            details=data.get("details"),
            is_following=data.get("isFollowing"),
            is_pro=data.get("isPro"),
            num_models=data.get("numModels"),
            num_datasets=data.get("numDatasets"),
            num_spaces=data.get("numSpaces"),
            num_discussions=data.get("numDiscussions"),
            num_likes=data.get("numLikes"),
            num_following=data.get("numFollowing"),
            num_followers=data.get("numFollowers"),
            orgs=tuple(Organization.from_json(org) for org in data.get("orgs", ())),
        )


@dataclasses.dataclass(frozen=True)
class RepoStorageInfo:
    """A repo of a namespace with the bytes it uses (`storage`) and its share of the total."""

    id: str
    type: str
    updated_at: dt.datetime
    visibility: str
    storage: int
    storage_percent: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RepoStorageInfo:
        """Parse an item of a namespace's repository listing."""
        return cls(
            id=data["id"],
            type=data["type"],
            updated_at=parse_timestamp(data["updatedAt"]),
            visibility=data["visibility"],
            storage=int(data["storage"]),
            storage_percent=float(data.get("storagePercent") or 0),
        )


@dataclasses.dataclass(frozen=True)
class AccessRequest:
    """A user's request for access to a gated repo, as its managers see it.

    `status` is `pending`, `accepted` or `rejected`; `email` is None when a manager granted
    access without a request (or the user has none); `fields` holds the gate form's answers.
    """

    username: str | None
    request_id: str
    fullname: str | None
    email: str | None
    timestamp: dt.datetime
    status: str
    fields: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AccessRequest:
        """Parse an item of an access request listing."""
        user = data.get("user") or {}
        return cls(
            username=user.get("user"),
            request_id=data["requestId"],
            fullname=user.get("fullname"),
            email=user.get("email"),
            timestamp=parse_timestamp(data["timestamp"]),
            status=data["status"],
            fields=data.get("fields"),
        )


@dataclasses.dataclass(frozen=True)
class UserLikes:
    """The repos a user likes (those visible to the caller), by type, as repo ids."""

    user: str
    total: int
    datasets: list[str]
    kernels: list[str]
    models: list[str]
    spaces: list[str]

    @classmethod
    def from_json(cls, user: str, likes: list[dict[str, Any]]) -> Self:
        """From the `{createdAt, repo: {name, type}}` items of `/api/users/{user}/likes`."""

        def of(type: str) -> list[str]:
            return [like["repo"]["name"] for like in likes if like["repo"]["type"] == type]

        return cls(user, len(likes), of("dataset"), of("kernel"), of("model"), of("space"))


@dataclasses.dataclass(frozen=True)
class CollectionItem:
    """An item of a collection: a repo, a collection (`item_id`: its slug), a paper, ..."""

    item_object_id: str
    item_id: str
    item_type: str
    position: int
    note: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """From an item of a collection's `items`."""
        note = data.get("note")
        text = note.get("text") if isinstance(note, dict) else None
        return cls(
            data["_id"],
            data.get("slug") or data["id"],
            data["type"],
            data["position"],
            text if isinstance(text, str) else None,
        )


@dataclasses.dataclass(frozen=True)
class Collection:
    """A collection: its slug, title, owner (a name), items in order, and web address."""

    slug: str
    title: str
    owner: str
    items: list[CollectionItem]
    last_updated: dt.datetime
    position: int
    private: bool
    theme: str
    upvotes: int
    url: str
    description: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], endpoint: str, position: int | None = None) -> Self:
        """From the Hub's collection object; a listing's have no `position` (pass theirs)."""
        owner = data["owner"]
        return cls(
            slug=data["slug"],
            title=data["title"],
            owner=owner["name"] if isinstance(owner, dict) else owner,
            items=[CollectionItem.from_json(item) for item in data["items"]],
            last_updated=parse_timestamp(data["lastUpdated"]),
            position=data["position"] if position is None else position,
            private=data["private"],
            theme=data["theme"],
            upvotes=data["upvotes"],
            url=f"{endpoint}/collections/{data['slug']}",
            description=data.get("description"),
        )


@dataclasses.dataclass(frozen=True)
class WebhookWatchedItem:
    """What a webhook watches: `type` is `user`, `org`, `model`, `dataset` or `space`."""

    type: str
    name: str


@dataclasses.dataclass(frozen=True)
class WebhookInfo:
    """A webhook: where it sends, what it watches, in which domains (`repo`, `discussion`).

    `secret` is only known in the answer to `create_webhook` (hubstead never shows it again);
    `job` is always None here (webhooks that start Jobs are not available on hubstead).
    """

    id: str
    url: str | None
    job: dict[str, Any] | None
    watched: list[WebhookWatchedItem]
    domains: list[str]
    secret: str | None
    disabled: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse a webhook object."""
        return cls(
            id=data["id"],
            url=data.get("url"),
            job=data.get("job"),
            watched=[WebhookWatchedItem(w["type"], w["name"]) for w in data["watched"]],
            domains=list(data["domains"]),
            secret=data.get("secret"),
            disabled=data["disabled"],
        )


@dataclasses.dataclass(frozen=True)
class WebhookDelivery:
    """One event sent (or to send) to a webhook, and how its last attempt went (hubstead).

    `state` is `pending` (waiting for an attempt, first or again), `succeeded`, `failed` or
    `cancelled` (the webhook was disabled first); `status_code` and `latency_ms` belong to the
    last attempt that got an answer, `error` to the last one that failed.
    """

    id: str
    event: str
    state: str
    attempts: int
    status_code: int | None
    latency_ms: int | None
    error: str | None
    created_at: dt.datetime
    attempted_at: dt.datetime | None
    payload: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse an item of a delivery log."""
        attempted = data.get("attemptedAt")
        return cls(
            id=data["id"],
            event=data["event"],
            state=data["state"],
            attempts=data["attempts"],
            status_code=data.get("statusCode"),
            latency_ms=data.get("latencyMs"),
            error=data.get("error"),
            created_at=parse_timestamp(data["createdAt"]),
            attempted_at=None if attempted is None else parse_timestamp(attempted),
            payload=data.get("payload") or {},
        )


TRANSITIONAL_SPACE_STAGES = frozenset(
    {"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"}
)
"""The stages a Space leaves by itself (what `wait_for_space` waits through)."""


@dataclasses.dataclass(frozen=True)
class SpaceRuntime:
    """Where a Space's app is: its stage, hardware, sleep time, and what went wrong."""

    stage: str
    hardware: str | None
    requested_hardware: str | None
    sleep_time: int | None
    error_message: str | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse the runtime object."""
        hardware = data.get("hardware") or {}
        return cls(
            data["stage"],
            hardware.get("current"),
            hardware.get("requested"),
            data.get("gcTimeout"),
            data.get("errorMessage"),
            data,
        )


@dataclasses.dataclass(frozen=True)
class SpaceSecret:
    """A secret of a Space: its key, description and time of change, never its value."""

    key: str
    description: str | None
    updated_at: dt.datetime | None

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> Self:
        """Parse one entry of the secrets object (keyed by name)."""
        return cls(key, data.get("description"), parse_date(data.get("updatedAt")))


@dataclasses.dataclass(frozen=True)
class SpaceVariable:
    """A variable of a Space."""

    key: str
    value: str
    description: str | None
    updated_at: dt.datetime | None

    @classmethod
    def from_json(cls, key: str, data: dict[str, Any]) -> Self:
        """Parse one entry of the variables object (keyed by name)."""
        return cls(key, data["value"], data.get("description"), parse_date(data.get("updatedAt")))
