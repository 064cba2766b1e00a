"""Merges and diffs of commits by the git binary in a bare repo: `GitMerger` for `git_pygit2`.

Storage layer, used by `git_pygit2.Pygit2GitStore`. The merged tree comes from
`git merge-tree --write-tree` (git 2.38 and later) rather than from libgit2's merge
(`pygit2.Repository.merge_commits`): it is git's own `ort` strategy, the one `git merge` runs,
so a pull request merges exactly as it would on a clone. That means the same rename handling,
the same virtual merge base for criss-cross histories, and the same verdict on
file/directory and rename/rename conflicts, where libgit2's older engine has its own answers.
It works in a bare repo, reads no worktree or index, and reports every conflicted path
(`--name-only -z`, plus the paths its CONFLICT messages name, such as a file a folder took the
place of). The objects it writes (the tree, blobs with conflict markers) are reachable from no
ref until a caller moves one to a commit built on them. Ancestry, merge bases and the merge
commit itself go through pygit2.

Git-lfs pointer files merge as the small text files they are (the hub runs git with no config,
so no `lfs` merge driver): two sides that changed a pointer both change its `oid` line, which
conflicts.

Diffs run `git diff` from the merge base, stopped once their text passes its bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pygit2
from pygit2.enums import ObjectType

from hubstead.protocol import COMMIT_ID
from hubstead.server.domain.git import Author, MergeOutcome, MergeResult
from hubstead.server.storage import git_cli

# git knows the empty tree without storing it: the base of a diff between unrelated histories.
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_CONFLICT = b"CONFLICT"


def merge_base(repo: pygit2.Repository, a: str, b: str) -> str | None:
    """The best common ancestor of two commits, or None.

    Raises:
        KeyError: `a` or `b` is not a commit of the repo.
    """
    found = _merge_base(repo, _commit(repo, a), _commit(repo, b))
    return str(found) if found is not None else None


def merge(
    path: Path, repo: pygit2.Repository, target: str, source: str, author: Author, message: str
) -> MergeResult:
    """Merge `source` into `target` (see `GitMerger.merge`); the repo is at `path`.

    Raises:
        KeyError: `target` or `source` is not a commit of the repo.
        GitUnavailableError: git is not installed.
    """
    target_id, source_id = _commit(repo, target), _commit(repo, source)
    if target_id == source_id or repo.descendant_of(target_id, source_id):
        return MergeResult(MergeOutcome.NOTHING_TO_MERGE, target)
    if repo.descendant_of(source_id, target_id):
        return MergeResult(MergeOutcome.FAST_FORWARD, source)
    base_id = _merge_base(repo, target_id, source_id)
    if base_id is None:
        return MergeResult(MergeOutcome.UNRELATED, None)
    status, output = git_cli.run_status(
        path, "merge-tree", "--write-tree", "-z", "--name-only", target, source, ok=(0, 1)
    )
    if status != 0:
        sides = [repo[commit].peel(pygit2.Tree) for commit in (target_id, source_id, base_id)]
        return MergeResult(MergeOutcome.CONFLICT, None, _conflicts(output, sides))
    tree = pygit2.Oid(hex=output.split(b"\0", 1)[0].decode("ascii"))
    signature = pygit2.Signature(author.name, author.email)
    parents = [target_id, source_id]
    merged = repo.create_commit(None, signature, signature, message, tree, parents)
    return MergeResult(MergeOutcome.MERGED, str(merged))


def diff(path: Path, repo: pygit2.Repository, base: str | None, head: str, max_bytes: int) -> str:
    """`git diff base...head`, bounded (see `GitMerger.diff`); the repo is at `path`.

    Raises:
        KeyError: `base` or `head` is not a commit of the repo.
        GitUnavailableError: git is not installed.
    """
    if base is None:
        _commit(repo, head)
        start = _EMPTY_TREE
    else:
        start = merge_base(repo, base, head) or _EMPTY_TREE
    output, more = git_cli.run_capped(
        path,
        # Paths as they are, not octal escapes; no helper programs a config could name.
        *("-c", "core.quotePath=false", "diff", "--no-color", "--no-ext-diff", "--no-textconv"),
        *(start, head, "--"),
        limit=max_bytes,
    )
    if not more:
        return output.decode("utf-8", errors="replace")
    kept = output[: output.rfind(b"\n") + 1]
    return kept.decode("utf-8", errors="replace") + f"[diff truncated at {max_bytes} bytes]\n"


def _merge_base(repo: pygit2.Repository, a: pygit2.Oid, b: pygit2.Oid) -> pygit2.Oid | None:
    # pygit2's stubs promise an id, but histories that share nothing have no merge base.
    found: pygit2.Oid | None = repo.merge_base(a, b)
    return found


def _commit(repo: pygit2.Repository, commit_id: str) -> pygit2.Oid:
    """The id of a commit named by its full id (a short id or another object is not one)."""
    found = repo.get(commit_id) if COMMIT_ID.match(commit_id) else None
    if found is None or found.type != ObjectType.COMMIT:
        raise KeyError(commit_id)
    return found.id


def _conflicts(output: bytes, sides: Sequence[pygit2.Tree]) -> tuple[str, ...]:
    """Every path `merge-tree -z --name-only` reports in conflict that one of `sides` has, sorted.

    Its output is the tree id, the conflicted paths, an empty field, then one record per
    message: the number of paths it involves, those paths, its type and its text. The paths
    git made up to keep both sides (`data~<commit>` for a file where the other side has a
    folder `data`) are in no side's tree and are left out: the path the sides disagree on is
    named by the message.
    """
    fields = output.split(b"\0")
    end = fields.index(b"", 1)
    paths = set(fields[1:end])
    messages = fields[end + 1 :]
    at = 0
    while at < len(messages) and messages[at]:
        count = int(messages[at])
        involved, kind = messages[at + 1 : at + 1 + count], messages[at + 1 + count]
        if kind.startswith(_CONFLICT):
            paths.update(involved)
        at += count + 3
    names = (p.decode("utf-8", errors="surrogateescape") for p in paths)
    return tuple(sorted(name for name in names if any(name in tree for tree in sides)))
