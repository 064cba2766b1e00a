"""`GitRewriter`: history written again without some files, on real repos in tmp_path."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pygit2
import pytest

from hubstead.protocol import DEFAULT_BRANCH, format_lfs_pointer, parse_lfs_pointer
from hubstead.server.domain.git import Author, EntryKind, TreeEdit
from hubstead.server.storage.errors import RefConflictError
from hubstead.server.storage.git_pygit2 import Pygit2GitStore

AUTHOR = Author("Ada Lovelace", "ada@example.com")
MAIN = f"refs/heads/{DEFAULT_BRANCH}"
DOOMED = hashlib.sha256(b"doomed").hexdigest()
KEPT = hashlib.sha256(b"kept").hexdigest()


def drops_doomed(data: bytes) -> bool:
    pointer = parse_lfs_pointer(data)
    return pointer is not None and pointer[0] == DOOMED


@pytest.fixture
def store(tmp_path: Path) -> Pygit2GitStore:
    return Pygit2GitStore(tmp_path / "repos")


@pytest.fixture
def key(store: Pygit2GitStore) -> str:
    key = uuid.uuid4().hex
    store.create(
        key, {".gitattributes": b"*.bin filter=lfs diff=lfs merge=lfs -text\n"}, AUTHOR, "init"
    )
    return key


def commit(
    store: Pygit2GitStore,
    key: str,
    changes: dict[str, bytes | None],
    message: str = "change",
    ref: str = MAIN,
) -> str:
    """Commit `changes` (None deletes) on `ref`, creating it from main when missing."""
    head = store.ref_target(key, ref)
    parent = head or store.ref_target(key, MAIN)
    edits = [
        TreeEdit(path, None if data is None else store.write_blob(key, data))
        for path, data in changes.items()
    ]
    commit_id = store.write_commit(key, parent, edits, AUTHOR, message)
    store.update_ref(key, ref, commit_id, head)
    return commit_id


def files_at(store: Pygit2GitStore, key: str, revision: str) -> dict[str, bytes]:
    commit_id = store.resolve(key, revision)
    assert commit_id is not None
    return {
        e.path: store.read_blob(key, e.oid)
        for e in store.list_tree(key, commit_id, "", recursive=True)
        if e.kind is EntryKind.FILE
    }


def history_files(store: Pygit2GitStore, key: str) -> set[str]:
    """Every path of every commit some ref reaches."""
    paths = set()
    for ref in store.refs(key):
        for record in store.walk(key, ref.target):
            paths |= set(files_at(store, key, record.id))
    return paths


def test_a_rewrite_drops_the_files_from_every_ref_and_keeps_the_rest(
    store: Pygit2GitStore, key: str
) -> None:
    doomed, kept = format_lfs_pointer(DOOMED, 6), format_lfs_pointer(KEPT, 4)
    before = commit(store, key, {"README.md": b"hello", "kept.bin": kept}, "before")
    first = commit(store, key, {"deep/er/doomed.bin": doomed, "deep/other.txt": b"x"}, "add")
    commit(store, key, {"again/copy.bin": doomed}, "copy", ref="refs/heads/dev")
    store.create_tag(key, "light", first, AUTHOR, None)
    store.create_tag(key, "annotated", first, AUTHOR, "Release notes")
    commit(store, key, {"pr.txt": b"pr"}, "pull request", ref="refs/pr/1")
    commit(store, key, {"deep/er/doomed.bin": None, "later.txt": b"later"}, "drop it")
    original = store.commit(key, first)
    raw_before = pygit2.Repository(str(store.path(key)))[first]

    moves = store.rewrite(key, drops_doomed).moves()

    names = [m.name for m in moves]
    assert names == [
        "refs/heads/dev",
        MAIN,
        "refs/pr/1",
        "refs/tags/annotated",
        "refs/tags/light",
    ]
    store.update_refs(key, moves)
    assert history_files(store, key).isdisjoint({"deep/er/doomed.bin", "again/copy.bin"})
    assert files_at(store, key, DEFAULT_BRANCH) == {
        ".gitattributes": b"*.bin filter=lfs diff=lfs merge=lfs -text\n",
        "README.md": b"hello",
        "kept.bin": kept,
        "deep/other.txt": b"x",
        "later.txt": b"later",
    }
    assert "pr.txt" in files_at(store, key, "refs/pr/1")
    # Commits before the first affected one keep their ids; the rest keep their metadata.
    new_main = store.resolve(key, DEFAULT_BRANCH)
    assert new_main is not None
    history = list(store.walk(key, new_main))
    assert [c.title for c in history] == ["drop it", "add", "before", "init"]
    assert history[2].id == before
    rewritten = history[1]
    assert rewritten.id != first
    assert (rewritten.title, rewritten.author_name, rewritten.date) == (
        original.title,
        original.author_name,
        original.date,
    )
    raw_after = pygit2.Repository(str(store.path(key)))[rewritten.id]
    assert raw_after.committer.time == raw_before.committer.time
    assert raw_after.committer.offset == raw_before.committer.offset
    # Both tags lead to the rewritten commit; the annotated one is still annotated.
    assert store.resolve(key, "light") == store.resolve(key, "annotated") == rewritten.id
    tag_id = store.ref_target(key, "refs/tags/annotated")
    assert tag_id is not None
    tag = pygit2.Repository(str(store.path(key)))[tag_id]
    assert isinstance(tag, pygit2.Tag) and tag.message == "Release notes"
    # The old commits are no longer reachable by id.
    assert store.resolve(key, first) is None


def test_a_rewrite_with_nothing_to_drop_moves_nothing(store: Pygit2GitStore, key: str) -> None:
    commit(store, key, {"kept.bin": format_lfs_pointer(KEPT, 4)})

    assert store.rewrite(key, drops_doomed).moves() == []


def test_a_folder_left_empty_goes_and_an_empty_root_stays_a_commit(
    store: Pygit2GitStore, tmp_path: Path
) -> None:
    key = uuid.uuid4().hex
    store.create(key, {"only/doomed.bin": format_lfs_pointer(DOOMED, 6)}, AUTHOR, "init")

    moves = store.rewrite(key, drops_doomed).moves()
    store.update_refs(key, moves)

    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    assert store.list_tree(key, head, "", recursive=True) == []
    assert [c.title for c in store.walk(key, head)] == ["init"]


def test_called_again_a_rewrite_picks_up_commits_that_landed_meanwhile(
    store: Pygit2GitStore, key: str
) -> None:
    commit(store, key, {"doomed.bin": format_lfs_pointer(DOOMED, 6)}, "add")
    rewrite = store.rewrite(key, drops_doomed)
    stale = rewrite.moves()
    racing = commit(store, key, {"racing.txt": b"landed meanwhile"}, "racing")

    with pytest.raises(RefConflictError):
        store.update_refs(key, stale)
    fresh = rewrite.moves()
    store.update_refs(key, fresh)

    assert [(m.name, m.old) for m in fresh] == [(MAIN, racing)]
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    assert [c.title for c in store.walk(key, head)] == ["racing", "add", "init"]
    assert "racing.txt" in files_at(store, key, head)
    assert "doomed.bin" not in files_at(store, key, head)


def test_deep_trees_and_long_histories_do_not_recurse(store: Pygit2GitStore, key: str) -> None:
    # Deeper and longer than Python's recursion limit (1000).
    deep = "/".join(["d"] * 1200)
    commit(store, key, {f"{deep}/doomed.bin": format_lfs_pointer(DOOMED, 6), f"{deep}/a": b"a"})
    repo = pygit2.Repository(str(store.path(key)))
    head = repo.references[MAIN].target
    signature = pygit2.Signature(AUTHOR.name, AUTHOR.email)
    tree = repo[head].peel(pygit2.Tree)
    for n in range(1200):  # straight through pygit2: the store's commits rebuild the deep index
        builder = repo.TreeBuilder(tree)
        builder.insert("counter.txt", repo.create_blob(str(n).encode()), pygit2.GIT_FILEMODE_BLOB)
        tree = repo[builder.write()].peel(pygit2.Tree)
        head = repo.create_commit(None, signature, signature, f"commit {n}", tree.id, [head])
    store.update_ref(key, MAIN, str(head), store.ref_target(key, MAIN))

    store.update_refs(key, store.rewrite(key, drops_doomed).moves())

    new_head = store.resolve(key, DEFAULT_BRANCH)
    assert new_head is not None and new_head != str(head)
    assert store.entry(key, new_head, f"{deep}/doomed.bin") is None
    assert store.entry(key, new_head, f"{deep}/a") is not None
    assert sum(1 for _ in store.walk(key, new_head)) == 1202
