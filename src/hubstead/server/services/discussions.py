"""Discussions and pull requests: who may open, comment, edit, close and merge, and the merge.

The rules, checked before anything changes:

- Threads are read by whoever may read the repo's files (so a gated repo's threads, which show
  its files' changes, need access to it); a private repo's threads are as invisible as it is.
- Anyone signed in with a write token who may read the files opens threads and pull requests
  and comments (`Action.DISCUSS`); a repo with discussions disabled refuses new threads.
- A comment is edited by its author; a thread is renamed, closed or reopened by its author or a
  writer of the repo; comments are hidden by writers; pull requests are merged by writers.
- A pull request's ref, `refs/pr/<num>`, takes commits (API commits and git pushes) from the
  pull request's author and the repo's writers, while it is open or a draft.
- Mirrored repos take no discussions: they change only by syncing.

A merge moves the target branch the way a commit does: a compare-and-swap under the repo's
publish lock, computed again from the new head when another change landed first, so a commit to
the target is never lost and a conflict that appears meanwhile is reported. Fast-forward when
the target is in the pull request's history; otherwise git's merge commit.

LFS and Xet objects uploaded for a pull request are linked to its repo when they are uploaded
(its refs are readable as its branches are), so merging has no objects to move.
"""

from __future__ import annotations

import dataclasses
import re

from hubstead.protocol import DEFAULT_BRANCH, RepoType
from hubstead.server import errors
from hubstead.server.domain.discussions import (
    Comment,
    CommitAdded,
    DiscussionEvent,
    DiscussionPage,
    DiscussionQuery,
    DiscussionRecord,
    DiscussionStatus,
    NewDiscussion,
)
from hubstead.server.domain.git import MergeOutcome, RefUpdate
from hubstead.server.domain.repos import RepoRecord
from hubstead.server.services import access
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.clock import Clock, utcnow
from hubstead.server.services.heads import HeadService
from hubstead.server.services.repos import RepoService, author_of
from hubstead.server.storage.accounts import AccountStore
from hubstead.server.storage.discussions import DiscussionStore
from hubstead.server.storage.errors import RefConflictError
from hubstead.server.storage.git_merge import GitMerger
from hubstead.server.storage.git_objects import GitObjectStore

MIN_TITLE_CHARS = 3
MAX_TITLE_CHARS = 200
MAX_COMMENT_CHARS = 65536
PAGE_SIZE = 50
# The largest thread number the database holds (a 32-bit SQL INTEGER): a larger one names no
# thread, and must not reach PostgreSQL, which refuses to compare it with the column.
MAX_NUM = 2**31 - 1
PR_REF = re.compile(r"^refs/pr/([1-9][0-9]{0,9})\Z")
_ACTIVE = frozenset({DiscussionStatus.OPEN, DiscussionStatus.DRAFT})
_MAX_ATTEMPTS = 20


@dataclasses.dataclass(frozen=True)
class ThreadRights:
    """What a caller may do in a repo's discussions, as this service's checks would answer.

    `may_comment`: comment (and edit their own comments, rename or close their own threads);
    `may_open`: also open threads and pull requests (discussions enabled); `may_write`: hide
    comments, merge, rename, close and reopen anyone's threads.
    """

    may_comment: bool = False
    may_open: bool = False
    may_write: bool = False


@dataclasses.dataclass(frozen=True)
class DiscussionListing:
    """A page of a repo's threads, the number that match in all, and where the page starts.

    For pages (`listing_page`), also the caller's rights and the number of open threads.
    """

    repo: RepoRecord
    page: DiscussionPage
    start: int
    rights: ThreadRights = ThreadRights()
    open_count: int = 0


@dataclasses.dataclass(frozen=True)
class DiscussionDetails:
    """A thread with its timeline; for a pull request, its target ref, conflicts and diff.

    `conflicts` are the paths that would conflict if the pull request were merged now
    (none once it is merged or closed); `diff` is there when it was asked for.
    """

    repo: RepoRecord
    discussion: DiscussionRecord
    events: tuple[DiscussionEvent, ...]
    conflicts: tuple[str, ...] = ()
    diff: str | None = None
    rights: ThreadRights = ThreadRights()
    open_count: int = 0


def pull_request_number(ref: str) -> int | None:
    """The number in a pull request's ref (`refs/pr/3` → 3), or None for any other ref."""
    match = PR_REF.match(ref)
    return int(match.group(1)) if match else None


class DiscussionService:
    """The threads of repos, their timelines, and pull requests' refs and merges."""

    def __init__(
        self,
        repos: RepoService,
        heads: HeadService,
        git: GitObjectStore,
        merger: GitMerger,
        store: DiscussionStore,
        accounts: AccountStore,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._repos = repos
        self._heads = heads
        self._git = git
        self._merger = merger
        self._store = store
        self._accounts = accounts
        self._clock = clock

    # --- reading ----------------------------------------------------------------------------------

    def listing(
        self, identity: Identity, type: RepoType, repo_id: str, query: DiscussionQuery
    ) -> DiscussionListing:
        """A page of the repo's threads, newest first unless the query sorts otherwise.

        Raises:
            RepoNotFoundError, GatedRepoError: see `RepoService.locate`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        return DiscussionListing(repo, self._store.list(repo.id, query), query.offset)

    def listing_page(
        self, identity: Identity, type: RepoType, repo_id: str, query: DiscussionQuery
    ) -> DiscussionListing:
        """`listing`, with the caller's rights and the number of open threads (for pages).

        Raises:
            RepoNotFoundError, GatedRepoError: see `RepoService.locate`.
        """
        found = self.listing(identity, type, repo_id, query)
        return dataclasses.replace(
            found, rights=self.rights(identity, found.repo), open_count=self.open_count(found.repo)
        )

    def thread_page(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, *, diff: bool = False
    ) -> DiscussionDetails:
        """`details`, with the caller's rights and the number of open threads (for pages).

        Raises:
            DiscussionNotFoundError, RepoNotFoundError, GatedRepoError: see `details`.
        """
        found = self.details(identity, type, repo_id, num, diff=diff)
        return dataclasses.replace(
            found, rights=self.rights(identity, found.repo), open_count=self.open_count(found.repo)
        )

    def rights(self, identity: Identity, repo: RepoRecord) -> ThreadRights:
        """What the caller may do in the discussions of `repo` (which they may read)."""
        try:
            self._repos.locate(identity, RepoType(repo.type), repo.repo_id, Action.DISCUSS)
        except errors.HubError:  # anonymous, a read token, a mirror, a gate...
            return ThreadRights()
        return ThreadRights(
            may_comment=True,
            may_open=not repo.discussions_disabled,
            may_write=access.may(identity, repo, Action.WRITE),
        )

    def open_count(self, repo: RepoRecord) -> int:
        """How many of the repo's threads are open (drafts included), as the Hub counts them."""
        return self._store.list(repo.id, DiscussionQuery(statuses=_ACTIVE, limit=0)).total

    def author_id(self, name: str) -> int | None:
        """The account id of a user name, for the `author` filter (None: no such user)."""
        account = self._accounts.get_account(name)
        return account.id if account is not None else None

    def details(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, *, diff: bool = False
    ) -> DiscussionDetails:
        """A thread and its timeline; for an active pull request, its conflicts, and its diff.

        Raises:
            DiscussionNotFoundError: the repo has no thread with this number.
            RepoNotFoundError, GatedRepoError: see `RepoService.locate`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.READ_FILES)
        discussion = self._get(repo, num)
        events = self._store.events(repo.id, num) or []
        if not discussion.is_pull_request:
            return DiscussionDetails(repo, discussion, tuple(events))
        head, target = self._pr_commits(repo, discussion)
        conflicts: tuple[str, ...] = ()
        if discussion.status in _ACTIVE and head is not None and target is not None:
            result = self._merger.merge(
                repo.storage_key, target, head, author_of(identity), "conflict check"
            )
            conflicts = result.conflicts
        text = None
        if diff and head is not None:
            base = target
            if discussion.status is DiscussionStatus.MERGED or base is None:
                # The target now holds the changes: show them from where the pull request
                # started, the parent of its first commit.
                base = self._start_of(repo, events) or head
            text = self._merger.diff(repo.storage_key, base, head)
        return DiscussionDetails(repo, discussion, tuple(events), conflicts, text)

    # --- opening ----------------------------------------------------------------------------------

    def open(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        title: str,
        description: str,
        *,
        pull_request: bool = False,
    ) -> DiscussionRecord:
        """Open a discussion, or a draft pull request whose ref starts at the default branch.

        Raises:
            InvalidRequestError: a title out of bounds, a description too long, a NUL
                character in either.
            AuthorizationError: discussions are disabled, a read token.
            AuthenticationError: no token.
            MirrorReadOnlyError, RepoNotFoundError, GatedRepoError: see `RepoService.locate`.
        """
        repo = self.locate_for_new_thread(identity, type, repo_id)
        title = _title(title)
        description = _content(description, "description")
        if not pull_request:
            return self._create(repo, identity, title, description, DiscussionStatus.OPEN, None)
        base = self._branch_head(repo, DEFAULT_BRANCH)
        discussion = self._create(
            repo, identity, title, description, DiscussionStatus.DRAFT, DEFAULT_BRANCH
        )
        self._create_ref(identity, repo, discussion, base)
        return discussion

    def open_with_commit(
        self,
        identity: Identity,
        repo: RepoRecord,
        branch: str,
        commit_id: str,
        title: str,
        description: str,
    ) -> DiscussionRecord:
        """Open a pull request into `branch` whose ref holds `commit_id`, written on its head.

        The commit services call this for `create_pr`, once the commit is written: the pull
        request appears with its commit, or not at all.

        Raises:
            AuthorizationError, AuthenticationError, ...: as `open`.
        """
        repo = self.locate_for_new_thread(identity, RepoType(repo.type), repo.repo_id)
        # A commit's summary is a fine title however short ("v2"): only the bound applies.
        _check_no_nul(title, "title")
        title = title.strip()[:MAX_TITLE_CHARS]
        description = _content(description or title, "description")
        discussion = self._create(repo, identity, title, description, DiscussionStatus.OPEN, branch)
        self._create_ref(identity, repo, discussion, commit_id)
        self.record_commits(identity, repo, discussion.num, [commit_id])
        return discussion

    def locate_for_new_thread(self, identity: Identity, type: RepoType, repo_id: str) -> RepoRecord:
        """The repo, if the caller may open a thread or a pull request in it.

        Raises:
            AuthorizationError, AuthenticationError, ...: as `open`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        if repo.discussions_disabled:
            raise errors.AuthorizationError(f"Discussions are disabled for {repo.repo_id}")
        return repo

    def _create(
        self,
        repo: RepoRecord,
        identity: Identity,
        title: str,
        description: str,
        status: DiscussionStatus,
        target_branch: str | None,
    ) -> DiscussionRecord:
        assert identity.account is not None  # Action.DISCUSS needs a signed-in caller
        new = NewDiscussion(
            title=title,
            author_id=identity.account.id,
            is_pull_request=target_branch is not None,
            status=status,
            target_branch=target_branch,
            description=description,
            created_at=self._clock(),
        )
        return self._store.create(repo.id, new)

    def _create_ref(
        self, identity: Identity, repo: RepoRecord, discussion: DiscussionRecord, commit_id: str
    ) -> None:
        ref = discussion.git_ref
        assert ref is not None
        with self._heads.publish_lock(repo):
            with errors.out_of_space(f"creating {ref} of {repo.repo_id}"):
                self._git.update_ref(repo.storage_key, ref, commit_id, None)
            self._heads.record_push(repo, [RefUpdate(ref, None, commit_id)], identity.account_id)

    # --- taking part ------------------------------------------------------------------------------

    def comment(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, content: str
    ) -> DiscussionEvent:
        """Add a comment, whatever the thread's status (as on the Hub).

        Raises:
            InvalidRequestError: an empty or too long comment.
            DiscussionNotFoundError: no such thread.
            AuthenticationError, AuthorizationError, RepoNotFoundError, ...: see `open`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        self._get(repo, num)
        content = _content(content, "comment")
        return _found(
            self._store.add_comment(repo.id, num, _account_id(identity), content, self._clock())
        )

    def edit_comment(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        num: int,
        event_id: int,
        content: str,
    ) -> DiscussionEvent:
        """Replace a comment's content, keeping the earlier one in its history (author only).

        Raises:
            InvalidRequestError: an empty or too long comment, or a hidden one.
            AuthorizationError: someone else's comment.
            DiscussionNotFoundError: no such thread or comment.
            AuthenticationError, RepoNotFoundError, ...: see `open`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        event = self._comment(repo, num, event_id)
        if event.author_id != _account_id(identity):
            raise errors.AuthorizationError("Only the author of a comment may edit it")
        assert isinstance(event.detail, Comment)
        if event.detail.hidden:
            raise errors.InvalidRequestError("A hidden comment cannot be edited")
        content = _content(content, "comment")
        return _found(self._store.edit_comment(repo.id, num, event_id, content, self._clock()))

    def hide_comment(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, event_id: int
    ) -> DiscussionEvent:
        """Hide a comment for good, erasing its content and history (writers only).

        Raises:
            DiscussionNotFoundError: no such thread or comment.
            AuthorizationError: not a writer of the repo.
            AuthenticationError, GatedRepoError, RepoNotFoundError, ...: see `open`.
        """
        repo = self._writable(identity, type, repo_id)
        self._comment(repo, num, event_id)
        hidden = self._store.hide_comment(
            repo.id, num, event_id, _account_id(identity), self._clock()
        )
        return _found(hidden)

    def rename(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, title: str
    ) -> DiscussionEvent:
        """Give a thread a new title (its author or a writer).

        Raises:
            InvalidRequestError: a title out of bounds.
            AuthorizationError: someone else's thread, without write access.
            DiscussionNotFoundError, AuthenticationError, RepoNotFoundError, ...: see `open`.
        """
        repo, discussion = self._thread_for_owner(identity, type, repo_id, num, "rename")
        title = _title(title)
        renamed = self._store.rename(
            repo.id, discussion.num, title, _account_id(identity), self._clock()
        )
        return _found(renamed)

    def change_status(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        num: int,
        status: DiscussionStatus,
        comment: str | None = None,
    ) -> DiscussionEvent:
        """Close or reopen a thread (its author or a writer), with an optional comment.

        A draft pull request reopened becomes open: ready to merge.

        Raises:
            InvalidRequestError: a status other than open or closed, a merged pull request, a
                thread already in that status, a bad comment.
            AuthorizationError: someone else's thread, without write access.
            DiscussionNotFoundError, AuthenticationError, RepoNotFoundError, ...: see `open`.
        """
        if status not in (DiscussionStatus.OPEN, DiscussionStatus.CLOSED):
            raise errors.InvalidRequestError(
                f"Invalid status {status.value!r}: a thread can be set 'open' or 'closed'"
            )
        repo, discussion = self._thread_for_owner(identity, type, repo_id, num, "change")
        if discussion.status is DiscussionStatus.MERGED:
            raise errors.InvalidRequestError(
                f"Pull request #{num} is merged: its status cannot change"
            )
        if discussion.status is status:
            raise errors.InvalidRequestError(f"#{num} is already {status.value}")
        text = _content(comment, "comment") if comment is not None and comment.strip() else None
        actor = _account_id(identity)
        event = _found(self._store.change_status(repo.id, num, status, actor, self._clock()))
        if text is not None:
            self._store.add_comment(repo.id, num, actor, text, self._clock())
        return event

    def _writable(self, identity: Identity, type: RepoType, repo_id: str) -> RepoRecord:
        # Taking part first, so that outsiders of a gated repo hear that it is gated (as on
        # every other discussion route), then write access.
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        access.check(identity, repo, Action.WRITE)
        return repo

    def _thread_for_owner(
        self, identity: Identity, type: RepoType, repo_id: str, num: int, verb: str
    ) -> tuple[RepoRecord, DiscussionRecord]:
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        discussion = self._get(repo, num)
        if discussion.author_id != _account_id(identity) and not access.may(
            identity, repo, Action.WRITE
        ):
            raise errors.AuthorizationError(
                f"Only the author of #{num} or a writer of {repo.repo_id} may {verb} it"
            )
        return repo, discussion

    # --- pull requests' refs ----------------------------------------------------------------------

    def check_pr_commit(
        self, identity: Identity, type: RepoType, repo_id: str, num: int
    ) -> RepoRecord:
        """The repo, if the caller may add commits to pull request `num` now.

        Raises:
            RevisionNotFoundError: no pull request `num` (the ref does not exist).
            InvalidRequestError: the pull request is merged or closed.
            AuthorizationError: neither its author nor a writer.
            AuthenticationError, MirrorReadOnlyError, RepoNotFoundError, ...: see `open`.
        """
        repo = self._repos.locate(identity, type, repo_id, Action.DISCUSS)
        self.check_pr_author(identity, repo, num)
        return repo

    def check_pr_author(self, identity: Identity, repo: RepoRecord, num: int) -> None:
        """Raise unless the caller may add commits to pull request `num` now.

        The caller was found allowed to take part in the repo's discussions; see
        `check_pr_commit` for the rest.
        """
        discussion = self._find(repo, num)
        if discussion is None or not discussion.is_pull_request:
            raise errors.RevisionNotFoundError(
                f"Invalid rev id: refs/pr/{num} is not a pull request of {repo.repo_id}"
            )
        if discussion.author_id != _account_id(identity) and not access.may(
            identity, repo, Action.WRITE
        ):
            raise errors.AuthorizationError(
                f"Only the author of pull request #{num} or a writer of {repo.repo_id} may "
                "add commits to it"
            )
        self.check_accepts_commits(repo, num)

    def check_accepts_commits(self, repo: RepoRecord, num: int) -> None:
        """Raise unless pull request `num` is open or a draft.

        Writers moving `refs/pr/<num>` call this again under the publish lock, which a merge
        holds while it marks the pull request merged: no commit lands on a merged one.

        Raises:
            InvalidRequestError: merged or closed.
        """
        discussion = self._find(repo, num)
        if discussion is not None and discussion.status not in _ACTIVE:
            raise errors.InvalidRequestError(
                f"Pull request #{num} is {discussion.status.value}: it takes no more commits"
                + (" (reopen it first)" if discussion.status is DiscussionStatus.CLOSED else "")
            )

    def record_commits(
        self, identity: Identity, repo: RepoRecord, num: int, commit_ids: list[str]
    ) -> None:
        """Add the commits just pushed to pull request `num` to its timeline, oldest first."""
        actor = _account_id(identity)
        for commit_id in commit_ids:
            title = self._git.commit(repo.storage_key, commit_id).title
            self._store.add_commit(repo.id, num, commit_id, title, actor, self._clock())

    # --- merging ----------------------------------------------------------------------------------

    def merge(
        self,
        identity: Identity,
        type: RepoType,
        repo_id: str,
        num: int,
        comment: str | None = None,
    ) -> DiscussionRecord:
        """Merge pull request `num` into its target branch and mark it merged (writers only).

        Raises:
            InvalidRequestError: not a pull request; merged, closed or still a draft.
            ConflictError: conflicting paths (named), unrelated histories, a deleted target
                branch, or too many concurrent changes; nothing changed.
            DiscussionNotFoundError: no such thread.
            AuthorizationError: not a writer of the repo.
            AuthenticationError, GatedRepoError, RepoNotFoundError, ...: see `open`.
        """
        repo = self._writable(identity, type, repo_id)
        discussion = self._get(repo, num)
        if not discussion.is_pull_request:
            raise errors.InvalidRequestError(f"#{num} is a discussion, not a pull request")
        _check_mergeable(discussion)
        text = _content(comment, "comment") if comment is not None and comment.strip() else None
        assert discussion.git_ref is not None and discussion.target_branch is not None
        target_ref = f"refs/heads/{discussion.target_branch}"
        author = author_of(identity)
        actor = _account_id(identity)
        message = f"Merge pull request #{num}: {discussion.title}"
        for _ in range(_MAX_ATTEMPTS):
            head = self._git.resolve(repo.storage_key, discussion.git_ref)
            target = self._git.resolve(repo.storage_key, target_ref)
            if head is None:
                raise errors.ConflictError(f"The ref of pull request #{num} is missing")
            if target is None:
                raise errors.ConflictError(
                    f"The target branch {discussion.target_branch!r} no longer exists"
                )
            with errors.out_of_space(f"merging pull request #{num} of {repo.repo_id}"):
                result = self._merger.merge(repo.storage_key, target, head, author, message)
            if result.outcome is MergeOutcome.CONFLICT:
                raise errors.ConflictError(
                    f"Pull request #{num} conflicts with {discussion.target_branch!r} in: "
                    + ", ".join(result.conflicts)
                )
            if result.outcome is MergeOutcome.UNRELATED:
                raise errors.ConflictError(
                    f"Pull request #{num} shares no history with {discussion.target_branch!r}"
                )
            assert result.commit is not None
            with self._heads.publish_lock(repo):
                current = self._store.get(repo.id, num)
                assert current is not None
                _check_mergeable(current)
                if self._git.resolve(repo.storage_key, discussion.git_ref) != head:
                    continue  # a commit reached the pull request meanwhile: merge it too
                if result.commit != target:
                    try:
                        self._git.update_ref(repo.storage_key, target_ref, result.commit, target)
                    except RefConflictError:
                        continue
                    update = RefUpdate(target_ref, target, result.commit)
                    self._heads.record_push(repo, [update], actor)
                self._store.change_status(
                    repo.id, num, DiscussionStatus.MERGED, actor, self._clock(), result.commit
                )
            if text is not None:
                self._store.add_comment(repo.id, num, actor, text, self._clock())
            return self._get(repo, num)
        raise errors.ConflictError(f"Too many concurrent changes to {repo.repo_id}; please retry")

    # --- helpers ----------------------------------------------------------------------------------

    def _find(self, repo: RepoRecord, num: int) -> DiscussionRecord | None:
        return self._store.get(repo.id, num) if 0 < num <= MAX_NUM else None

    def _get(self, repo: RepoRecord, num: int) -> DiscussionRecord:
        discussion = self._find(repo, num)
        if discussion is None:
            raise errors.DiscussionNotFoundError(f"{repo.repo_id} has no discussion #{num}")
        return discussion

    def _comment(self, repo: RepoRecord, num: int, event_id: int) -> DiscussionEvent:
        self._get(repo, num)
        for event in self._store.events(repo.id, num) or []:
            if event.id == event_id and isinstance(event.detail, Comment):
                return event
        raise errors.DiscussionNotFoundError(f"#{num} of {repo.repo_id} has no such comment")

    def _branch_head(self, repo: RepoRecord, branch: str) -> str:
        head = self._git.resolve(repo.storage_key, f"refs/heads/{branch}")
        if head is None:
            raise errors.RevisionNotFoundError(f"{repo.repo_id} has no branch {branch!r}")
        return head

    def _start_of(self, repo: RepoRecord, events: list[DiscussionEvent]) -> str | None:
        for event in events:
            if isinstance(event.detail, CommitAdded):
                parents = self._git.commit(repo.storage_key, event.detail.commit_id).parents
                return parents[0] if parents else None
        return None

    def _pr_commits(
        self, repo: RepoRecord, discussion: DiscussionRecord
    ) -> tuple[str | None, str | None]:
        assert discussion.git_ref is not None
        head = self._git.resolve(repo.storage_key, discussion.git_ref)
        target = self._git.resolve(repo.storage_key, f"refs/heads/{discussion.target_branch}")
        return head, target


def _check_mergeable(discussion: DiscussionRecord) -> None:
    if discussion.status is DiscussionStatus.MERGED:
        raise errors.InvalidRequestError(f"Pull request #{discussion.num} is already merged")
    if discussion.status is DiscussionStatus.CLOSED:
        raise errors.InvalidRequestError(
            f"Pull request #{discussion.num} is closed: reopen it before merging"
        )
    if discussion.status is DiscussionStatus.DRAFT:
        raise errors.InvalidRequestError(
            f"Pull request #{discussion.num} is a draft: set it open before merging"
        )


def _title(title: str) -> str:
    _check_no_nul(title, "title")
    title = title.strip()
    if not MIN_TITLE_CHARS <= len(title) <= MAX_TITLE_CHARS:
        raise errors.InvalidRequestError(
            f"A title must be {MIN_TITLE_CHARS} to {MAX_TITLE_CHARS} characters long, "
            f"not {len(title)}"
        )
    return title


def _content(text: str, what: str) -> str:
    _check_no_nul(text, what)
    if not text.strip():
        raise errors.InvalidRequestError(f"The {what} must not be empty")
    if len(text) > MAX_COMMENT_CHARS:
        raise errors.PayloadTooLargeError(
            f"The {what} is {len(text)} characters long, more than the {MAX_COMMENT_CHARS} allowed"
        )
    return text


def _check_no_nul(text: str, what: str) -> None:
    # No database column holds one (PostgreSQL refuses it), and no text needs one.
    if "\0" in text:
        raise errors.InvalidRequestError(f"The {what} must not contain NUL characters")


def _account_id(identity: Identity) -> int:
    assert identity.account is not None  # every change needs a signed-in caller
    return identity.account.id


def _found(event: DiscussionEvent | None) -> DiscussionEvent:
    # The thread was found before the change: only its deletion (with its repo) meanwhile
    # leaves nothing to change.
    if event is None:
        raise errors.DiscussionNotFoundError("The discussion was deleted meanwhile")
    return event
