"""What a repo's refs reach: the only commits and objects a reader may name by id.

Storage layer, used by `git_pygit2.Pygit2GitStore`. A commit that no ref reaches any more (the
history `super_squash_history` replaced, a deleted branch, a commit whose ref update lost a
race) stays in the object database until gc prunes it; until then it must be as invisible as
if it were gone. So a commit id, full or short, resolves only when some ref's history holds it,
and a git fetch may only ask for objects the refs reach: protocol v2's `upload-pack` serves any
object it has by id (unlike v0, where `uploadpack.allowReachableSHA1InWant` checks), so its
`want` lines are checked here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pygit2
from pygit2.enums import ObjectType, SortMode

from hubstead.server.storage import git_cli
from hubstead.server.storage.errors import AmbiguousRevisionError

_PKT_HEADER = 4
_WANT = b"want "
_OID_HEX = 40


def _tips(repo: pygit2.Repository) -> list[pygit2.Oid]:
    """The commit every ref under `refs/` points at (tags peeled)."""
    tips = []
    for name in repo.references:
        if name.startswith("refs/"):
            try:
                tips.append(repo.references[name].peel(pygit2.Commit).id)
            except (pygit2.InvalidSpecError, ValueError, KeyError):
                continue
    return tips


def _reachable_commits(repo: pygit2.Repository, tips: list[pygit2.Oid]) -> Iterator[pygit2.Commit]:
    """Every commit the tips reach, each once, newest roughly first."""
    if not tips:
        return
    walker = repo.walk(tips[0], SortMode.TIME)
    for tip in tips[1:]:
        walker.push(tip)
    yield from walker


def reachable_commit(repo: pygit2.Repository, commit_id: pygit2.Oid) -> bool:
    """Whether a ref's history holds the commit.

    A tip is checked at once; otherwise one walk of the history all refs share (each commit
    visited once, however many refs there are) looks for it.
    """
    tips = _tips(repo)
    if commit_id in tips:
        return True
    return any(commit.id == commit_id for commit in _reachable_commits(repo, tips))


def commit_by_prefix(repo: pygit2.Repository, prefix: str) -> str | None:
    """The one reachable commit whose id starts with `prefix` (lowercase hex), or None.

    Unreachable objects are never candidates, so neither a match nor an ambiguity tells
    whether one exists.

    Raises:
        AmbiguousRevisionError: several reachable commits start with `prefix`.
    """
    found = [
        str(commit.id)
        for commit in _reachable_commits(repo, _tips(repo))
        if str(commit.id).startswith(prefix)
    ]
    if len(found) > 1:
        raise AmbiguousRevisionError(prefix)
    return found[0] if found else None


def unreachable_wants(repo_path: Path, repo: pygit2.Repository, request: BinaryIO) -> list[str]:
    """The objects a protocol v2 fetch request asks for that no ref reaches.

    The request is read from its current position, which is restored.
    """
    start = request.tell()
    try:
        wanted = list(dict.fromkeys(_wants(request)))
    finally:
        request.seek(start)
    if not wanted:
        return []
    tips = _tips(repo)
    targets = {str(repo.references[name].target) for name in repo.references}
    tip_ids = {str(tip) for tip in tips}
    # Objects missing here are refused the same way as unreachable ones, not left to git.
    pending = [oid for oid in wanted if oid not in targets and oid not in tip_ids]
    if not pending:
        return []
    commits = {str(c.id) for c in _reachable_commits(repo, tips)}
    pending = [oid for oid in pending if oid not in commits]
    if any(_is_tree_or_blob(repo, oid) for oid in pending):
        # A partial clone fetching the trees or blobs it left out: the whole object graph of
        # the refs is listed, only for these rare requests.
        pending = sorted(set(pending) - git_cli.reachable_objects(repo_path))
    return pending


def _is_tree_or_blob(repo: pygit2.Repository, oid: str) -> bool:
    obj = repo.get(oid) if len(oid) == _OID_HEX and oid.isalnum() else None
    return obj is not None and obj.type in (ObjectType.TREE, ObjectType.BLOB)


def _wants(request: BinaryIO) -> Iterator[str]:
    """The object ids of the `want` lines of a pkt-line request."""
    while header := request.read(_PKT_HEADER):
        try:
            length = int(header, 16)
        except ValueError:
            return  # not pkt-lines: git refuses it on its own
        if length <= _PKT_HEADER:  # flush, delimiter, response-end
            continue
        line = request.read(length - _PKT_HEADER)
        if line.startswith(_WANT):
            yield line[len(_WANT) :].strip().decode("ascii", errors="replace")
