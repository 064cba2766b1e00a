"""The walk behind `GitRewriter.rewrite`, on a pygit2 repository.

Storage layer, used by `git_pygit2.Pygit2GitStore`. Commits are visited parents first (one
topological walk of every ref's history), trees bottom-up with an explicit stack (histories and
trees can be deep: nothing here recurses), and every tree, blob and commit is looked at once
however many commits share it: the rewrite costs about the repo's distinct content.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pygit2
from pygit2.enums import FileMode, ObjectType, SortMode

from hubstead.protocol import may_be_lfs_pointer
from hubstead.server.domain.git import RefUpdate

_FILES = (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)


class Pygit2HistoryRewrite:
    """A `HistoryRewrite` of one repository (see `git_rewrite.HistoryRewrite`).

    Its handle on the repository is its own: use it from one thread.
    """

    def __init__(
        self,
        repo: pygit2.Repository,
        drops: Callable[[bytes], bool],
        writing: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._repo = repo
        self._drops = drops
        self._writing = writing
        self._dropped: dict[pygit2.Oid, bool] = {}
        # Each tree met, and what it became: itself, another tree, or None (nothing left).
        self._trees: dict[pygit2.Oid, pygit2.Oid | None] = {}
        # Only the commits that changed: any other maps to itself.
        self._commits: dict[pygit2.Oid, pygit2.Oid] = {}
        self._tags: dict[pygit2.Oid, pygit2.Oid] = {}
        self._walked: list[pygit2.Oid] = []

    def moves(self) -> list[RefUpdate]:
        """Rewrite what the refs reach now, hiding what earlier calls walked."""
        targets = self._targets()
        tips = [tip for _, tip in map(self._chain, targets.values()) if tip is not None]
        with self._writing():
            if tips:
                walker = self._repo.walk(None, SortMode.TOPOLOGICAL | SortMode.REVERSE)
                for tip in tips:
                    walker.push(tip)
                for seen in self._walked:
                    walker.hide(seen)
                for commit in walker:
                    self._rewrite_commit(commit)
            self._walked += tips
            moved = {name: self._rewritten(target) for name, target in targets.items()}
        return [
            RefUpdate(name, str(targets[name]), str(new))
            for name, new in sorted(moved.items())
            if new != targets[name]
        ]

    def _targets(self) -> dict[str, pygit2.Oid]:
        """The direct target of every ref under `refs/` (symbolic refs follow theirs)."""
        found = {}
        for name in self._repo.references:
            target = self._repo.references[name].target
            if name.startswith("refs/") and isinstance(target, pygit2.Oid):
                found[name] = target
        return found

    def _chain(self, target: pygit2.Oid) -> tuple[list[pygit2.Tag], pygit2.Oid | None]:
        """The tags a ref's target leads through, and the commit they end at (or None)."""
        tags = []
        obj = self._repo.get(target)
        while isinstance(obj, pygit2.Tag):
            tags.append(obj)
            obj = self._repo.get(obj.target)
        return tags, obj.id if obj is not None and obj.type == ObjectType.COMMIT else None

    def _rewritten(self, target: pygit2.Oid) -> pygit2.Oid:
        """What a ref at `target` moves to: the rewritten commit, or a tag written on it."""
        tags, commit = self._chain(target)
        if commit is None:
            return target
        new = self._commits.get(commit, commit)
        for tag in reversed(tags):
            new = self._retag(tag, new)
        return new

    def _retag(self, tag: pygit2.Tag, target: pygit2.Oid) -> pygit2.Oid:
        """The tag object, pointing at `target` instead (itself when it already does)."""
        if target == tag.target:
            return tag.id
        known = self._tags.get(tag.id)
        if known is None:
            raw = bytes(self._repo.odb.read(tag.id)[1])
            _, _, rest = raw.partition(b"\n")  # the first line is `object <id>`
            data = f"object {target}\n".encode() + rest
            known = self._tags[tag.id] = self._repo.odb.write(ObjectType.TAG, data)
        return known

    def _rewrite_commit(self, commit: pygit2.Commit) -> None:
        tree = self._tree(commit.tree_id)
        parents = [self._commits.get(parent, parent) for parent in commit.parent_ids]
        if tree == commit.tree_id and parents == commit.parent_ids:
            return
        # The encoding header is kept only when the commit has one (libgit2 takes a string).
        encoding = () if commit.message_encoding is None else (commit.message_encoding,)
        self._commits[commit.id] = self._repo.create_commit(
            None, commit.author, commit.committer, commit.raw_message, tree, parents, *encoding
        )

    def _tree(self, root: pygit2.Oid) -> pygit2.Oid:
        """The root tree rewritten, its subtrees first (an explicit stack, not recursion)."""
        pending = [root]
        while pending:
            oid = pending[-1]
            if oid in self._trees:
                pending.pop()
                continue
            tree = self._repo[oid].peel(pygit2.Tree)
            unseen = [
                entry.id
                for entry in tree
                if entry.filemode == FileMode.TREE and entry.id not in self._trees
            ]
            if unseen:
                pending.extend(unseen)
                continue
            pending.pop()
            self._trees[oid] = self._rebuilt(tree)
        new = self._trees[root]
        return new if new is not None else self._repo.TreeBuilder().write()

    def _rebuilt(self, tree: pygit2.Tree) -> pygit2.Oid | None:
        """The tree with dropped files and emptied subtrees left out (its subtrees are done)."""
        builder: pygit2.TreeBuilder | None = None
        removed = 0
        for entry in tree:
            if entry.filemode == FileMode.TREE:
                new = self._trees[entry.id]
            elif entry.filemode in _FILES:
                new = None if self._is_dropped(entry.id) else entry.id
            else:  # symlinks and submodules stay
                continue
            if new == entry.id:
                continue
            if builder is None:
                builder = self._repo.TreeBuilder(tree)
            name = entry.name
            assert name is not None, "only root trees have no name"
            if new is None:
                builder.remove(name)
                removed += 1
            else:
                builder.insert(name, new, entry.filemode)
        if builder is None:
            return tree.id
        return builder.write() if removed < len(tree) else None

    def _is_dropped(self, blob: pygit2.Oid) -> bool:
        known = self._dropped.get(blob)
        if known is None:
            odb = self._repo.odb
            _, size = odb.read_header(blob)
            known = may_be_lfs_pointer(size) and self._drops(bytes(odb.read(blob)[1]))
            self._dropped[blob] = known
        return known
