"""`HfApi` methods about discussions and pull requests: list, read, open, comment, close, merge.

A pull request is a discussion whose commits live on the ref `refs/pr/<num>`: commit to it with
`create_commit(..., revision="refs/pr/<num>")`, or open one with a commit at once with
`create_commit(..., create_pr=True)`. Events come back as `models` dataclasses
(`DiscussionComment`, `DiscussionStatusChange`, ...).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

from hubstead.client import models
from hubstead.client._api_base import ApiBase
from hubstead.client._urls import api_repo_path
from hubstead.errors import HFValidationError

DiscussionTypeFilter = Literal["all", "discussion", "pull_request"]
DiscussionStatusFilter = Literal["all", "open", "closed"]
DISCUSSION_TYPES = ("all", "discussion", "pull_request")
DISCUSSION_STATUSES = ("all", "open", "closed")
E = TypeVar("E", bound=models.DiscussionEvent)
# What `huggingface_hub` 2.4.0 sends as attachments (its `_ATTACHMENT_CONTENT_TYPES`).
ATTACHMENT_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
}


class DiscussionMethods(ApiBase):
    """Discussion and pull request methods of `HfApi`."""

    def get_repo_discussions(
        self,
        repo_id: str,
        *,
        author: str | None = None,
        discussion_type: DiscussionTypeFilter | None = None,
        discussion_status: DiscussionStatusFilter | None = None,
        repo_type: str | None = None,
        token: bool | str | None = None,
        search: str | None = None,
    ) -> Iterator[models.Discussion]:
        """The repo's discussions and pull requests, newest first, fetched page by page.

        Args:
            repo_id: the repo.
            author: only those opened by this user.
            discussion_type: `discussion` or `pull_request` (default: `all`).
            discussion_status: `open` (drafts included) or `closed` (default: `all`).
            repo_type: `model` (default), `dataset` or `space`.
            token: overrides the client's token.
            search: only those whose title contains this, ignoring case (a hubstead
                extension: other hubs may ignore it).

        Raises:
            HFValidationError: an unknown type or status filter (nothing is sent).
            RepositoryNotFoundError: no such repo (or not visible to you).
        """
        _check_choice("discussion_type", discussion_type, DISCUSSION_TYPES)
        _check_choice("discussion_status", discussion_status, DISCUSSION_STATUSES)
        path = f"{api_repo_path(repo_type, repo_id)}/discussions"
        page = 0
        while True:
            data = self._get(
                path,
                token=token,
                p=page,
                type=discussion_type,
                status=discussion_status,
                author=author,
                search=search,
            )
            items = data["discussions"]
            for item in items:
                yield models.Discussion.from_json(item, self.endpoint)
            if not items or data["start"] + len(items) >= data["count"]:
                return
            page += 1

    def get_discussion_details(
        self,
        repo_id: str,
        discussion_num: int,
        *,
        repo_type: str | None = None,
        token: bool | str | None = None,
    ) -> models.DiscussionWithDetails:
        """A discussion with its timeline; for a pull request, its target, conflicts and diff.

        Raises:
            HFValidationError: a number that is not a positive integer.
            RepositoryNotFoundError: no such repo.
            HfHubHTTPError: 404 when the repo has no discussion with this number.
        """
        path = _discussion_path(repo_type, repo_id, discussion_num)
        data = self._get(path, token=token, diff="1")
        return models.DiscussionWithDetails.from_json(data, self.endpoint)

    def create_discussion(
        self,
        repo_id: str,
        title: str,
        *,
        token: bool | str | None = None,
        description: str | None = None,
        repo_type: str | None = None,
        pull_request: bool = False,
    ) -> models.DiscussionWithDetails:
        """Open a discussion, or a pull request (a draft, its ref at the head of `main`).

        Args:
            repo_id: the repo.
            title: 3 to 200 characters (leading and trailing spaces are dropped).
            token: overrides the client's token.
            description: the first comment, in markdown (default: a line saying where it
                was opened from).
            repo_type: `model` (default), `dataset` or `space`.
            pull_request: open a pull request.

        Raises:
            RepositoryNotFoundError: no such repo.
            BadRequestError: a title of the wrong length.
            HfHubHTTPError: 401 without a token, 403 with a read token or when the repo's
                discussions are disabled.
        """
        kind = "Pull Request" if pull_request else "Discussion"
        text = (description or "").strip() or f"{kind} opened with the hubstead Python library"
        payload = {"title": title.strip(), "description": text, "pullRequest": pull_request}
        path = f"{api_repo_path(repo_type, repo_id)}/discussions"
        created = self._send(
            "POST", path, json=payload, token=token, action=f"open a discussion on {repo_id}"
        )
        return self.get_discussion_details(
            repo_id, created["num"], repo_type=repo_type, token=token
        )

    def create_pull_request(
        self,
        repo_id: str,
        title: str,
        *,
        token: bool | str | None = None,
        description: str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionWithDetails:
        """Open a draft pull request (see `create_discussion`); commit to its `git_reference`."""
        return self.create_discussion(
            repo_id,
            title,
            token=token,
            description=description,
            repo_type=repo_type,
            pull_request=True,
        )

    def comment_discussion(
        self,
        repo_id: str,
        discussion_num: int,
        comment: str,
        *,
        token: bool | str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionComment:
        """Add a comment (markdown) to a discussion or pull request, whatever its status.

        Raises:
            BadRequestError: an empty comment.
            HfHubHTTPError: 404 no such discussion, 401/403 not allowed to take part.
        """
        answer = self._change(
            repo_type, repo_id, discussion_num, "comment", {"comment": comment}, token, "comment on"
        )
        return _event_of(answer, "newMessage", models.DiscussionComment)

    def rename_discussion(
        self,
        repo_id: str,
        discussion_num: int,
        new_title: str,
        *,
        token: bool | str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionTitleChange:
        """Give a discussion a new title (its author or a writer of the repo).

        Raises:
            BadRequestError: a title of the wrong length.
            HfHubHTTPError: 404 no such discussion, 403 someone else's without write access.
        """
        answer = self._change(
            repo_type, repo_id, discussion_num, "title", {"title": new_title}, token, "rename"
        )
        return _event_of(answer, "newTitle", models.DiscussionTitleChange)

    def change_discussion_status(
        self,
        repo_id: str,
        discussion_num: int,
        new_status: Literal["open", "closed"],
        *,
        token: bool | str | None = None,
        comment: str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionStatusChange:
        """Close or reopen a discussion (reopening a draft pull request makes it mergeable).

        Args:
            repo_id: the repo.
            discussion_num: the discussion's number.
            new_status: `open` or `closed`.
            token: overrides the client's token.
            comment: a comment posted with the change.
            repo_type: `model` (default), `dataset` or `space`.

        Raises:
            HFValidationError: another status (nothing is sent).
            BadRequestError: already in that status, or a merged pull request.
            HfHubHTTPError: 404 no such discussion, 403 someone else's without write access.
        """
        if new_status not in ("open", "closed"):
            raise HFValidationError(
                f"Invalid status {new_status!r}: a discussion can be set 'open' or 'closed'"
            )
        payload: dict[str, str] = {"status": new_status}
        if comment and comment.strip():
            payload["comment"] = comment.strip()
        verb = "close" if new_status == "closed" else "reopen"
        answer = self._change(repo_type, repo_id, discussion_num, "status", payload, token, verb)
        return _event_of(answer, "newStatus", models.DiscussionStatusChange)

    def merge_pull_request(
        self,
        repo_id: str,
        discussion_num: int,
        *,
        token: bool | str | None = None,
        comment: str | None = None,
        repo_type: str | None = None,
    ) -> None:
        """Merge an open pull request into its target branch (writers of the repo).

        Raises:
            BadRequestError: not a pull request, or a draft, closed or merged one.
            HfHubHTTPError: 409 when it conflicts with the target branch (the paths are
                named), 404 no such discussion, 403 without write access.
        """
        payload = {"comment": comment.strip()} if comment and comment.strip() else None
        self._change(repo_type, repo_id, discussion_num, "merge", payload, token, "merge")

    def edit_discussion_comment(
        self,
        repo_id: str,
        discussion_num: int,
        comment_id: str,
        new_content: str,
        *,
        token: bool | str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionComment:
        """Replace a comment's content (its author only); the earlier one stays in its history.

        Raises:
            BadRequestError: empty content, or a hidden comment.
            HfHubHTTPError: 404 no such discussion or comment, 403 someone else's comment.
        """
        resource = f"comment/{comment_id.lower()}/edit"
        payload = {"content": new_content}
        answer = self._change(
            repo_type, repo_id, discussion_num, resource, payload, token, "edit a comment of"
        )
        return _event_of(answer, "updatedComment", models.DiscussionComment)

    def hide_discussion_comment(
        self,
        repo_id: str,
        discussion_num: int,
        comment_id: str,
        *,
        token: bool | str | None = None,
        repo_type: str | None = None,
    ) -> models.DiscussionComment:
        """Hide a comment for good: its content and history are erased (writers only).

        Raises:
            HfHubHTTPError: 404 no such discussion or comment, 403 without write access.
        """
        warnings.warn(
            "Hidden comments' content cannot be retrieved anymore. Hiding a comment is "
            "irreversible.",
            UserWarning,
            stacklevel=2,
        )
        resource = f"comment/{comment_id.lower()}/hide"
        answer = self._change(
            repo_type, repo_id, discussion_num, resource, None, token, "hide a comment of"
        )
        return _event_of(answer, "updatedComment", models.DiscussionComment)

    def upload_attachment(
        self, path: str | os.PathLike[str], *, token: bool | str | None = None
    ) -> str:
        """Upload an image, video or audio file to embed in discussions; its URL.

        Embed it as `![alt](url)` in a description or comment. The file is streamed, not read
        into memory.

        Raises:
            HFValidationError: a file type the hub does not take (known from its name).
            HfHubHTTPError: 401 without a token, 403 with a read token, 413 too large
                (10 MiB, 50 MiB for videos), 415 when the bytes are not of the named type.
        """
        file = Path(path)
        content_type = ATTACHMENT_CONTENT_TYPES.get(file.suffix.lower())
        if content_type is None:
            raise HFValidationError(
                f"Cannot upload {str(file)!r}: supported formats are "
                f"{', '.join(ATTACHMENT_CONTENT_TYPES)}"
            )
        with file.open("rb") as content:
            response = self.session.send(
                "POST",
                self.session.url("uploads"),
                token=token,
                retry=False,
                action=f"upload {file.name}",
                headers={"Content-Type": content_type},
                content=content,
            )
        return response.text.strip()

    def _change(
        self,
        repo_type: str | None,
        repo_id: str,
        num: int,
        resource: str,
        payload: dict[str, str] | None,
        token: bool | str | None,
        verb: str,
    ) -> Any:
        """POST a change to discussion `num`; the hub's JSON answer.

        Failures read "Failed to {verb} discussion #{num} of {repo_id}: ...".
        """
        path = f"{_discussion_path(repo_type, repo_id, num)}/{resource}"
        action = f"{verb} discussion #{num} of {repo_id}"
        return self._send("POST", path, json=payload, token=token, action=action)


def _discussion_path(repo_type: str | None, repo_id: str, num: int) -> str:
    """`api/{type}s/{repo_id}/discussions/{num}`.

    Raises:
        HFValidationError: `num` is not a positive integer.
    """
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise HFValidationError(f"Invalid discussion number {num!r}: a positive integer")
    return f"{api_repo_path(repo_type, repo_id)}/discussions/{num}"


def _check_choice(name: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise HFValidationError(f"Invalid {name} {value!r}: one of {', '.join(choices)}")


def _event_of(answer: Any, key: str, cls: type[E]) -> E:
    """The event the hub answered under `key`, which must be of `cls`."""
    event = models.parse_discussion_event(answer[key])
    if not isinstance(event, cls):
        raise TypeError(f"Expected a {cls.__name__} from the hub, got a {event.type!r} event")
    return event
