"""The `GitMerger` contract (merge bases, merges, diffs), on real repos built through the store.

A pull request here is what the hub will make of one: a `refs/pr/N` ref on a commit written
on top of the branch it targets, while the branch may move on.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.git import Author, EntryKind, MergeOutcome, TreeEdit
from hubstead.server.storage.errors import RefConflictError
from hubstead.server.storage.git_merge import GitMerger
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_pygit2 import Pygit2GitStore

AUTHOR = Author("Ada Lovelace", "ada@example.com")
MERGER = Author("Grace Hopper", "grace@example.com")
MAIN = f"refs/heads/{DEFAULT_BRANCH}"
PR = "refs/pr/1"
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"


class MergingStore(GitObjectStore, GitMerger, Protocol):
    """A store in both roles, as the hub's git store is."""


IMPLEMENTATIONS: dict[str, Callable[[Path], MergingStore]] = {"pygit2": Pygit2GitStore}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MergingStore:
    """Every implementation, on an empty root."""
    return IMPLEMENTATIONS[request.param](tmp_path / "repos")


@pytest.fixture
def key(store: MergingStore) -> Iterator[str]:
    """A new repo whose main holds `.gitattributes` (LFS for safetensors) and two files."""
    key = uuid.uuid4().hex
    files = {".gitattributes": GITATTRIBUTES, "a.txt": b"a\n", "notes.txt": NOTES}
    store.create(key, files, AUTHOR, "initial commit")
    yield key
    store.delete(key)


NOTES = b"".join(f"line {n}\n".encode() for n in range(1, 11))


def write(
    store: MergingStore, key: str, parent: str | None, changes: dict[str, bytes | None]
) -> str:
    """A commit of `changes` (None deletes) on `parent`, on no ref."""
    edits = [
        TreeEdit(path, None if data is None else store.write_blob(key, data))
        for path, data in changes.items()
    ]
    return store.write_commit(key, parent, edits, AUTHOR, "change")


def advance(store: MergingStore, key: str, ref: str, changes: dict[str, bytes | None]) -> str:
    """Commit `changes` on the ref (created from main if missing) by compare-and-swap."""
    current = store.resolve(key, ref)
    parent = current if current is not None else store.resolve(key, DEFAULT_BRANCH)
    commit_id = write(store, key, parent, changes)
    store.update_ref(key, ref, commit_id, current)
    return commit_id


def head(store: MergingStore, key: str, ref: str) -> str:
    found = store.resolve(key, ref)
    assert found is not None
    return found


def files_at(store: MergingStore, key: str, commit_id: str) -> dict[str, bytes]:
    return {
        e.path: store.read_blob(key, e.oid)
        for e in store.list_tree(key, commit_id, "", recursive=True)
        if e.kind is EntryKind.FILE
    }


def pointer(content: bytes) -> bytes:
    """The git-lfs pointer file of `content`."""
    digest = hashlib.sha256(content).hexdigest()
    return (
        b"version https://git-lfs.github.com/spec/v1\n"
        + f"oid sha256:{digest}\nsize {len(content)}\n".encode()
    )


def merge(store: MergingStore, key: str) -> tuple[MergeOutcome, str | None, tuple[str, ...]]:
    """Merge the PR into main, checking that no ref moved; the result's fields."""
    refs = store.refs(key)
    result = store.merge(key, head(store, key, MAIN), head(store, key, PR), MERGER, "Merge PR")
    assert store.refs(key) == refs
    return result.outcome, result.commit, result.conflicts


# --- the PR ref -----------------------------------------------------------------------------------


def test_a_pr_ref_is_created_from_nothing_and_resolves(store: MergingStore, key: str) -> None:
    commit_id = write(store, key, head(store, key, MAIN), {"b.txt": b"b\n"})
    store.update_ref(key, PR, commit_id, None)
    assert store.resolve(key, PR) == commit_id
    assert PR in [ref.name for ref in store.refs(key)]
    assert store.resolve(key, DEFAULT_BRANCH) != commit_id
    with pytest.raises(RefConflictError):
        store.update_ref(key, PR, commit_id, None)


# --- merge base -----------------------------------------------------------------------------------


def test_merge_base_is_where_the_pr_left_main(store: MergingStore, key: str) -> None:
    start = head(store, key, MAIN)
    pr = advance(store, key, PR, {"b.txt": b"b\n"})
    assert store.merge_base(key, start, pr) == start
    main = advance(store, key, MAIN, {"c.txt": b"c\n"})
    assert store.merge_base(key, main, pr) == start
    assert store.merge_base(key, pr, main) == start


def test_unrelated_histories_have_no_merge_base(store: MergingStore, key: str) -> None:
    orphan = write(store, key, None, {"x.txt": b"x\n"})
    assert store.merge_base(key, head(store, key, MAIN), orphan) is None


@pytest.mark.parametrize("name", ["0" * 40, "deadbeef", "main", ".gitattributes blob"])
def test_what_is_not_a_full_commit_id_is_a_key_error(
    store: MergingStore, key: str, name: str
) -> None:
    main = head(store, key, MAIN)
    if name == ".gitattributes blob":
        entry = store.entry(key, main, ".gitattributes")
        assert entry is not None
        name = entry.oid
    with pytest.raises(KeyError):
        store.merge_base(key, main, name)
    with pytest.raises(KeyError):
        store.merge(key, main, name, MERGER, "Merge")
    with pytest.raises(KeyError):
        store.diff(key, name, main)


# --- merge ----------------------------------------------------------------------------------------


def test_a_pr_on_the_current_main_fast_forwards(store: MergingStore, key: str) -> None:
    advance(store, key, PR, {"b.txt": b"b\n"})
    pr = advance(store, key, PR, {"a.txt": None})
    assert merge(store, key) == (MergeOutcome.FAST_FORWARD, pr, ())


def test_a_pr_already_in_main_has_nothing_to_merge(store: MergingStore, key: str) -> None:
    pr = advance(store, key, PR, {"b.txt": b"b\n"})
    store.update_ref(key, MAIN, pr, head(store, key, MAIN))
    assert merge(store, key) == (MergeOutcome.NOTHING_TO_MERGE, pr, ())
    main = advance(store, key, MAIN, {"c.txt": b"c\n"})
    assert merge(store, key) == (MergeOutcome.NOTHING_TO_MERGE, main, ())


def test_diverged_histories_merge_into_a_commit_with_both_parents(
    store: MergingStore, key: str
) -> None:
    pr = advance(store, key, PR, {"b.txt": b"b\n", "a.txt": None})
    main = advance(store, key, MAIN, {"c/d.txt": b"d\n"})
    outcome, merged, conflicts = merge(store, key)
    assert (outcome, conflicts) == (MergeOutcome.MERGED, ())
    assert merged is not None
    record = store.commit(key, merged)
    assert record.parents == (main, pr)
    assert (record.title, record.author_name, record.author_email) == (
        "Merge PR",
        MERGER.name,
        MERGER.email,
    )
    assert files_at(store, key, merged) == {
        ".gitattributes": GITATTRIBUTES,
        "notes.txt": NOTES,
        "b.txt": b"b\n",
        "c/d.txt": b"d\n",
    }
    # Written, not published: until a ref moves to it, nobody can name it.
    assert store.resolve(key, merged) is None


def test_changes_to_distant_lines_of_one_file_merge_line_by_line(
    store: MergingStore, key: str
) -> None:
    advance(store, key, PR, {"notes.txt": NOTES.replace(b"line 2\n", b"line two\n")})
    advance(store, key, MAIN, {"notes.txt": NOTES.replace(b"line 9\n", b"line nine\n")})
    outcome, merged, _ = merge(store, key)
    assert outcome is MergeOutcome.MERGED
    assert merged is not None
    expected = NOTES.replace(b"line 2\n", b"line two\n").replace(b"line 9\n", b"line nine\n")
    assert files_at(store, key, merged)["notes.txt"] == expected


def test_both_sides_changing_the_same_lines_conflict(store: MergingStore, key: str) -> None:
    advance(store, key, PR, {"a.txt": b"from the pr\n"})
    advance(store, key, MAIN, {"a.txt": b"from main\n"})
    assert merge(store, key) == (MergeOutcome.CONFLICT, None, ("a.txt",))


def test_a_file_modified_on_one_side_and_deleted_on_the_other_conflicts(
    store: MergingStore, key: str
) -> None:
    advance(store, key, PR, {"a.txt": None})
    advance(store, key, MAIN, {"a.txt": b"still needed\n"})
    assert merge(store, key) == (MergeOutcome.CONFLICT, None, ("a.txt",))


def test_a_file_added_on_both_sides_with_different_content_conflicts(
    store: MergingStore, key: str
) -> None:
    advance(store, key, PR, {"new/file.txt": b"pr\n"})
    advance(store, key, MAIN, {"new/file.txt": b"main\n"})
    assert merge(store, key) == (MergeOutcome.CONFLICT, None, ("new/file.txt",))


def test_the_same_change_on_both_sides_is_no_conflict(store: MergingStore, key: str) -> None:
    advance(store, key, PR, {"new.txt": b"same\n", "b.txt": b"b\n"})
    advance(store, key, MAIN, {"new.txt": b"same\n"})
    outcome, merged, _ = merge(store, key)
    assert outcome is MergeOutcome.MERGED
    assert merged is not None
    assert files_at(store, key, merged)["new.txt"] == b"same\n"


def test_every_conflicting_path_is_listed_sorted(store: MergingStore, key: str) -> None:
    pr_changes: dict[str, bytes | None] = {
        "z.txt": b"pr\n",
        "a.txt": None,
        "notes.txt": b"pr notes\n",
        "clean.txt": b"only in the pr\n",
        "é/ü.txt": b"pr\n",
    }
    advance(store, key, PR, pr_changes)
    main_changes: dict[str, bytes | None] = {
        "z.txt": b"main\n",
        "a.txt": b"main\n",
        "notes.txt": b"main notes\n",
        "é/ü.txt": b"main\n",
    }
    advance(store, key, MAIN, main_changes)
    assert merge(store, key) == (
        MergeOutcome.CONFLICT,
        None,
        ("a.txt", "notes.txt", "z.txt", "é/ü.txt"),
    )


def test_a_file_where_the_other_side_made_a_folder_conflicts(store: MergingStore, key: str) -> None:
    advance(store, key, PR, {"data": b"a file\n"})
    advance(store, key, MAIN, {"data/part.txt": b"in a folder\n"})
    assert merge(store, key) == (MergeOutcome.CONFLICT, None, ("data",))


def test_renaming_one_file_two_ways_names_every_path(store: MergingStore, key: str) -> None:
    advance(store, key, PR, {"a.txt": None, "pr-name.txt": b"a\n"})
    advance(store, key, MAIN, {"a.txt": None, "main-name.txt": b"a\n"})
    assert merge(store, key) == (
        MergeOutcome.CONFLICT,
        None,
        ("a.txt", "main-name.txt", "pr-name.txt"),
    )


def test_lfs_pointers_changed_on_both_sides_conflict_as_files(
    store: MergingStore, key: str
) -> None:
    advance(store, key, MAIN, {"model.safetensors": pointer(b"v1")})
    advance(store, key, PR, {"model.safetensors": pointer(b"v2 from the pr")})
    advance(store, key, MAIN, {"model.safetensors": pointer(b"v2 from main")})
    assert merge(store, key) == (MergeOutcome.CONFLICT, None, ("model.safetensors",))


def test_an_lfs_pointer_changed_on_one_side_merges_whole(store: MergingStore, key: str) -> None:
    advance(store, key, MAIN, {"model.safetensors": pointer(b"v1")})
    advance(store, key, PR, {"model.safetensors": pointer(b"v2")})
    advance(store, key, MAIN, {"README.md": b"card\n"})
    outcome, merged, _ = merge(store, key)
    assert outcome is MergeOutcome.MERGED
    assert merged is not None
    assert files_at(store, key, merged)["model.safetensors"] == pointer(b"v2")


def test_unrelated_histories_do_not_merge(store: MergingStore, key: str) -> None:
    store.update_ref(key, PR, write(store, key, None, {"x.txt": b"x\n"}), None)
    assert merge(store, key) == (MergeOutcome.UNRELATED, None, ())


# --- diff -----------------------------------------------------------------------------------------


def test_diff_shows_additions_modifications_and_deletions(store: MergingStore, key: str) -> None:
    base = head(store, key, MAIN)
    pr = advance(
        store,
        key,
        PR,
        {"added.txt": b"new content\n", "a.txt": None, "notes.txt": NOTES + b"line 11\n"},
    )
    text = store.diff(key, base, pr)
    assert "diff --git a/added.txt b/added.txt\nnew file mode 100644\n" in text
    assert "+new content\n" in text
    assert "diff --git a/a.txt b/a.txt\ndeleted file mode 100644\n" in text
    assert "-a\n" in text
    assert "diff --git a/notes.txt b/notes.txt\n" in text
    assert " line 10\n+line 11\n" in text
    assert "truncated" not in text


def test_diff_starts_where_the_pr_left_main(store: MergingStore, key: str) -> None:
    pr = advance(store, key, PR, {"b.txt": b"from the pr\n"})
    main = advance(store, key, MAIN, {"c.txt": b"main moved on\n", "a.txt": None})
    text = store.diff(key, main, pr)
    assert "b.txt" in text
    assert "c.txt" not in text
    assert "a.txt" not in text
    backwards = store.diff(key, pr, main)
    assert "c.txt" in backwards
    assert "a.txt" in backwards
    assert "b.txt" not in backwards
    assert store.diff(key, main, main) == ""


def test_diff_shows_unicode_paths_as_they_are(store: MergingStore, key: str) -> None:
    base = head(store, key, MAIN)
    pr = advance(store, key, PR, {"données/é.txt": b"x\n"})
    assert "diff --git a/données/é.txt b/données/é.txt\n" in store.diff(key, base, pr)


def test_diff_of_unrelated_histories_adds_everything(store: MergingStore, key: str) -> None:
    orphan = write(store, key, None, {"x.txt": b"x\n"})
    store.update_ref(key, PR, orphan, None)
    text = store.diff(key, head(store, key, MAIN), orphan)
    assert text.startswith("diff --git a/x.txt b/x.txt\nnew file mode 100644\n")
    assert text.endswith("+x\n")


def test_diff_from_no_base_adds_every_file_of_head(store: MergingStore, key: str) -> None:
    root = write(store, key, None, {"x.txt": b"x\n", "y.txt": b"y\n"})
    text = store.diff(key, None, root)
    assert text.startswith("diff --git a/x.txt b/x.txt\nnew file mode 100644\n")
    assert "diff --git a/y.txt b/y.txt\nnew file mode 100644\n" in text
    with pytest.raises(KeyError):
        store.diff(key, None, "0" * 40)


def test_a_long_diff_is_cut_at_a_line_end_and_says_so(store: MergingStore, key: str) -> None:
    base = head(store, key, MAIN)
    big = b"".join(f"row {n:06d} of a long file\n".encode() for n in range(20_000))
    pr = advance(store, key, PR, {"big.csv": big})
    whole = store.diff(key, base, pr)
    assert len(whole.encode()) > len(big)
    assert "truncated" not in whole
    cut = store.diff(key, base, pr, max_bytes=1000)
    kept, _, notice = cut.rpartition("\n[")
    assert notice == "diff truncated at 1000 bytes]\n"
    assert whole.startswith(kept + "\n")
    assert len((kept + "\n").encode()) <= 1000
    assert kept.endswith(" of a long file")
