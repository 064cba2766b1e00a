"""The `GitObjectStore` contract, run against every implementation on real repos in tmp_path."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hubstead.protocol import DEFAULT_BRANCH
from hubstead.server.domain.git import Author, EntryKind, TreeEdit
from hubstead.server.storage.errors import PathConflictError, PathNotFoundError, RefConflictError
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_pygit2 import Pygit2GitStore

AUTHOR = Author("Ada Lovelace", "ada@example.com")
MAIN = f"refs/heads/{DEFAULT_BRANCH}"
GITATTRIBUTES = (
    b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
    b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    b"saved_model/**/* filter=lfs diff=lfs merge=lfs -text\n"
)

IMPLEMENTATIONS: dict[str, Callable[[Path], GitObjectStore]] = {"pygit2": Pygit2GitStore}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], GitObjectStore]:
    """Open a store of each implementation on one root (each call is like another process)."""
    implementation = IMPLEMENTATIONS[request.param]
    return lambda: implementation(tmp_path / "repos")


@pytest.fixture
def store(open_store: Callable[[], GitObjectStore]) -> GitObjectStore:
    """Every GitObjectStore implementation, on an empty root."""
    return open_store()


@pytest.fixture
def key(store: GitObjectStore) -> Iterator[str]:
    """A new repo whose main holds `.gitattributes`."""
    key = uuid.uuid4().hex
    store.create(key, {".gitattributes": GITATTRIBUTES}, AUTHOR, "initial commit")
    yield key
    store.delete(key)


def commit(
    store: GitObjectStore, key: str, changes: dict[str, bytes | None], message: str = "change"
) -> str:
    """Commit `changes` (None deletes) on main with a compare-and-swap; return the commit id."""
    head = store.resolve(key, DEFAULT_BRANCH)
    edits = [
        TreeEdit(path, None if data is None else store.write_blob(key, data))
        for path, data in changes.items()
    ]
    commit_id = store.write_commit(key, head, edits, AUTHOR, message)
    store.update_ref(key, MAIN, commit_id, head)
    return commit_id


def files_at(store: GitObjectStore, key: str, revision: str = DEFAULT_BRANCH) -> dict[str, bytes]:
    """Every file of a revision with its content."""
    commit_id = store.resolve(key, revision)
    assert commit_id is not None
    return {
        e.path: store.read_blob(key, e.oid)
        for e in store.list_tree(key, commit_id, "", recursive=True)
        if e.kind is EntryKind.FILE
    }


# --- create, delete, commits --------------------------------------------------------------------


def test_create_puts_one_commit_with_the_files_on_main(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    history = list(store.walk(key, head))
    assert [c.title for c in history] == ["initial commit"]
    assert history[0].parents == ()
    assert history[0].author_name == AUTHOR.name
    assert history[0].author_email == AUTHOR.email
    assert files_at(store, key) == {".gitattributes": GITATTRIBUTES}
    assert [r.name for r in store.refs(key)] == [MAIN]


def test_delete_removes_the_repo(store: GitObjectStore, tmp_path: Path) -> None:
    key = uuid.uuid4().hex
    store.create(key, {"a.txt": b"a"}, AUTHOR, "initial commit")
    store.delete(key)
    store.create(key, {"b.txt": b"b"}, AUTHOR, "again")
    assert files_at(store, key) == {"b.txt": b"b"}


def test_commit_record_splits_title_and_message(store: GitObjectStore, key: str) -> None:
    commit_id = commit(store, key, {"a.txt": b"a"}, "Add a\n\nLonger explanation\nover lines")
    record = store.commit(key, commit_id)
    assert record.id == commit_id
    assert record.title == "Add a"
    assert record.message == "Longer explanation\nover lines"
    assert record.date.tzinfo is not None


def test_walk_lists_history_newest_first(store: GitObjectStore, key: str) -> None:
    first = commit(store, key, {"a.txt": b"1"}, "one")
    second = commit(store, key, {"a.txt": b"2"}, "two")
    history = list(store.walk(key, second))
    assert [c.title for c in history] == ["two", "one", "initial commit"]
    assert history[0].parents == (first,)
    assert [c.title for c in store.walk(key, first)] == ["one", "initial commit"]


def test_walk_excluding_a_commit_lists_only_what_it_does_not_reach(
    store: GitObjectStore, key: str
) -> None:
    first = commit(store, key, {"a.txt": b"1"}, "one")
    second = commit(store, key, {"a.txt": b"2"}, "two")
    third = commit(store, key, {"a.txt": b"3"}, "three")
    assert [c.title for c in store.walk(key, third, exclude=first)] == ["three", "two"]
    assert list(store.walk(key, second, exclude=third)) == []


def test_write_commit_edits_nested_paths_and_keeps_other_files(
    store: GitObjectStore, key: str
) -> None:
    commit(store, key, {"README.md": b"hi", "a/b/c.txt": b"deep", "a/d.txt": b"d"})
    commit(store, key, {"a/b/c.txt": b"deeper", "a/b/e/f.txt": b"f"})
    assert files_at(store, key) == {
        ".gitattributes": GITATTRIBUTES,
        "README.md": b"hi",
        "a/b/c.txt": b"deeper",
        "a/b/e/f.txt": b"f",
        "a/d.txt": b"d",
    }


def test_write_commit_does_not_move_any_ref(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    edits = [TreeEdit("x.txt", store.write_blob(key, b"x"))]
    written = store.write_commit(key, head, edits, AUTHOR, "dangling")
    assert store.resolve(key, DEFAULT_BRANCH) == head
    assert store.commit(key, written).parents == (head,)


def test_tree_from_takes_the_tree_of_another_commit(store: GitObjectStore, key: str) -> None:
    tip = commit(store, key, {"a.txt": b"a"})
    squashed = store.write_commit(key, None, [], AUTHOR, "squash", tree_from=tip)
    record = store.commit(key, squashed)
    assert record.parents == ()
    assert record.tree_id == store.commit(key, tip).tree_id


@pytest.mark.parametrize(
    "path",
    [
        "données/modèle é.txt",
        "日本語/ファイル.md",
        "with space/and#hash%25+plus.txt",
        "emoji-🤗.json",
        "a/.hidden/.config",
        "UPPER/lower.TXT",
    ],
)
def test_unicode_and_odd_paths_round_trip(store: GitObjectStore, key: str, path: str) -> None:
    commit_id = commit(store, key, {path: path.encode()})
    entry = store.entry(key, commit_id, path)
    assert entry is not None
    assert entry.kind is EntryKind.FILE
    assert store.read_blob(key, entry.oid) == path.encode()
    listed = {e.path for e in store.list_tree(key, commit_id, "", recursive=True)}
    assert path in listed


def test_zero_byte_blob_is_an_empty_file(store: GitObjectStore, key: str) -> None:
    commit_id = commit(store, key, {"empty.txt": b""})
    entry = store.entry(key, commit_id, "empty.txt")
    assert entry is not None
    assert entry.size == 0
    assert store.read_blob(key, entry.oid) == b""
    # The empty blob has git's well-known id.
    assert entry.oid == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_same_content_is_one_blob(store: GitObjectStore, key: str) -> None:
    assert store.write_blob(key, b"same") == store.write_blob(key, b"same")


@pytest.mark.parametrize("count", [3, 150])
def test_write_blobs_stores_each_blob_under_its_git_id_in_order(
    store: GitObjectStore, key: str, count: int
) -> None:
    blobs = [b"", b"twice", *(f"file {n}\n".encode() * n for n in range(count)), b"twice"]

    ids = store.write_blobs(key, blobs)

    assert ids == [hashlib.sha1(b"blob %d\0%s" % (len(d), d)).hexdigest() for d in blobs]
    assert [store.read_blob(key, blob_id) for blob_id in ids] == blobs
    head = store.resolve(key, DEFAULT_BRANCH)
    edits = [TreeEdit(f"f/{n}.txt", blob_id) for n, blob_id in enumerate(ids)]
    store.update_ref(key, MAIN, store.write_commit(key, head, edits, AUTHOR, "batch"), head)
    files = files_at(store, key)
    assert [files[f"f/{n}.txt"] for n in range(len(blobs))] == blobs


def test_delete_edit_removes_a_file(store: GitObjectStore, key: str) -> None:
    commit(store, key, {"a.txt": b"a", "b.txt": b"b"})
    commit(store, key, {"a.txt": None})
    assert files_at(store, key) == {".gitattributes": GITATTRIBUTES, "b.txt": b"b"}


def test_delete_edit_on_a_folder_removes_everything_under_it(
    store: GitObjectStore, key: str
) -> None:
    commit(store, key, {"dir/a.txt": b"a", "dir/sub/b.txt": b"b", "dir2/c.txt": b"c"})
    commit(store, key, {"dir": None})
    assert files_at(store, key) == {".gitattributes": GITATTRIBUTES, "dir2/c.txt": b"c"}


def test_folder_can_be_replaced_by_a_file_in_one_commit(store: GitObjectStore, key: str) -> None:
    commit(store, key, {"x/a.txt": b"a"})
    commit(store, key, {"x": None, "x.txt": b"file", "y": b"y"})
    commit(store, key, {"y": None, "y/inside.txt": b"now a folder"})
    assert files_at(store, key) == {
        ".gitattributes": GITATTRIBUTES,
        "x.txt": b"file",
        "y/inside.txt": b"now a folder",
    }


@pytest.mark.parametrize("path", ["missing.txt", "missing/dir", "a.tx", "a.txt/x"])
def test_deleting_a_missing_path_raises_path_not_found(
    store: GitObjectStore, key: str, path: str
) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    with pytest.raises(PathNotFoundError) as info:
        store.write_commit(key, head, [TreeEdit(path, None)], AUTHOR, "delete")
    assert info.value.path == path


def test_a_file_cannot_replace_a_folder(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"dir/a.txt": b"a"})
    blob = store.write_blob(key, b"x")
    with pytest.raises(PathConflictError) as info:
        store.write_commit(key, head, [TreeEdit("dir", blob)], AUTHOR, "conflict")
    assert info.value.path == "dir"


def test_a_file_cannot_go_inside_a_file(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    blob = store.write_blob(key, b"x")
    with pytest.raises(PathConflictError):
        store.write_commit(key, head, [TreeEdit("a.txt/b/c.txt", blob)], AUTHOR, "conflict")


def test_conflicts_within_one_commit_are_detected(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    blob = store.write_blob(key, b"x")
    edits = [TreeEdit("new/file.txt", blob), TreeEdit("new", blob)]
    with pytest.raises(PathConflictError):
        store.write_commit(key, head, edits, AUTHOR, "conflict")


# --- reading trees ------------------------------------------------------------------------------


def test_entry_finds_files_folders_and_the_root(store: GitObjectStore, key: str) -> None:
    commit_id = commit(store, key, {"dir/a.txt": b"abc"})
    root = store.entry(key, commit_id, "")
    folder = store.entry(key, commit_id, "dir")
    file = store.entry(key, commit_id, "dir/a.txt")
    assert root is not None
    assert root.kind is EntryKind.DIRECTORY
    assert root.oid == store.commit(key, commit_id).tree_id
    assert folder is not None
    assert (folder.kind, folder.size) == (EntryKind.DIRECTORY, 0)
    assert file is not None
    assert (file.path, file.kind, file.size) == ("dir/a.txt", EntryKind.FILE, 3)
    assert store.entry(key, commit_id, "dir/missing.txt") is None
    assert store.entry(key, commit_id, "dir/a.txt/deeper") is None


@pytest.mark.parametrize(
    "path", ["dir/", "/dir", "dir//a.txt", "dir/a.txt/", "./dir", "dir/../dir", "dir\x00", "\udcff"]
)
def test_only_canonical_paths_are_found(store: GitObjectStore, key: str, path: str) -> None:
    commit_id = commit(store, key, {"dir/a.txt": b"a"})
    assert store.entry(key, commit_id, path) is None
    with pytest.raises(PathNotFoundError):
        store.list_tree(key, commit_id, path, recursive=False)
    assert store.last_commits(key, commit_id, [path]) == {}


def test_list_tree_non_recursive_lists_children_only(store: GitObjectStore, key: str) -> None:
    commit_id = commit(store, key, {"a/b/c.txt": b"c", "a/d.txt": b"dd", "z.txt": b"z"})
    top = store.list_tree(key, commit_id, "", recursive=False)
    assert [(e.path, e.kind) for e in top] == [
        (".gitattributes", EntryKind.FILE),
        ("a", EntryKind.DIRECTORY),
        ("z.txt", EntryKind.FILE),
    ]
    inside = store.list_tree(key, commit_id, "a", recursive=False)
    assert [(e.path, e.kind, e.size) for e in inside] == [
        ("a/b", EntryKind.DIRECTORY, 0),
        ("a/d.txt", EntryKind.FILE, 2),
    ]


def test_list_tree_recursive_lists_folders_before_their_content(
    store: GitObjectStore, key: str
) -> None:
    commit_id = commit(store, key, {"a/b/c.txt": b"c", "a/d.txt": b"d"})
    entries = store.list_tree(key, commit_id, "a", recursive=True)
    paths = [e.path for e in entries]
    assert sorted(paths) == ["a/b", "a/b/c.txt", "a/d.txt"]
    assert paths.index("a/b") < paths.index("a/b/c.txt")


def test_list_tree_window_is_that_slice_of_the_whole_listing(
    store: GitObjectStore, key: str
) -> None:
    files: dict[str, bytes | None] = {
        f"d{i}/f{j}.txt": b"x" * (i * 10 + j) for i in range(3) for j in range(4)
    }
    commit_id = commit(store, key, files)
    whole = store.list_tree(key, commit_id, "", recursive=True)
    assert len(whole) == 1 + 3 + 12  # .gitattributes, the folders, the files
    for offset, limit in [(0, 5), (4, 7), (14, 10), (16, 3), (3, None)]:
        window = store.list_tree(key, commit_id, "", recursive=True, offset=offset, limit=limit)
        end = None if limit is None else offset + limit
        assert window == whole[offset:end]


@pytest.mark.parametrize("path", ["README.md", "missing", "README.md/x"])
def test_list_tree_of_a_file_or_missing_path_raises_path_not_found(
    store: GitObjectStore, key: str, path: str
) -> None:
    commit_id = commit(store, key, {"README.md": b"hi"})
    with pytest.raises(PathNotFoundError):
        store.list_tree(key, commit_id, path, recursive=False)


def test_last_commits_finds_the_latest_change_of_each_path(store: GitObjectStore, key: str) -> None:
    first = commit(store, key, {"a.txt": b"a", "dir/b.txt": b"b"}, "first")
    second = commit(store, key, {"c.txt": b"c"}, "second")
    third = commit(store, key, {"dir/b.txt": b"b2"}, "third")
    found = store.last_commits(key, third, ["a.txt", "dir", "dir/b.txt", "c.txt"])
    assert {path: c.id for path, c in found.items()} == {
        "a.txt": first,
        "dir": third,
        "dir/b.txt": third,
        "c.txt": second,
    }
    initial = store.last_commits(key, first, [".gitattributes"])[".gitattributes"]
    assert initial.title == "initial commit"


def test_last_commits_leaves_out_paths_that_never_existed(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    assert set(store.last_commits(key, head, ["a.txt", "nope.txt"])) == {"a.txt"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("model.bin", "lfs"),
        ("deep/folder/weights.safetensors", "lfs"),
        ("saved_model/variables/data", "lfs"),
        ("README.md", None),
        ("model.bin.txt", None),
    ],
)
def test_attribute_follows_gitattributes_patterns(
    store: GitObjectStore, key: str, path: str, expected: str | None
) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    assert store.attribute(key, head, path, "filter") == expected


def test_attribute_reads_gitattributes_at_the_given_commit(store: GitObjectStore, key: str) -> None:
    before = store.resolve(key, DEFAULT_BRANCH)
    after = commit(store, key, {".gitattributes": b"*.txt filter=lfs -text\n"})
    assert before is not None
    assert store.attribute(key, before, "notes.txt", "filter") is None
    assert store.attribute(key, after, "notes.txt", "filter") == "lfs"
    assert store.attribute(key, after, "notes.txt", "text") is False
    assert store.attribute(key, after, "model.bin", "filter") is None


def test_attribute_honours_nested_gitattributes(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"sub/.gitattributes": b"*.dat filter=lfs\n"})
    assert store.attribute(key, head, "sub/x.dat", "filter") == "lfs"
    assert store.attribute(key, head, "x.dat", "filter") is None


# --- refs ---------------------------------------------------------------------------------------


def test_update_ref_creates_moves_and_deletes_a_ref(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    store.update_ref(key, "refs/heads/dev", head, None)
    assert store.ref_target(key, "refs/heads/dev") == head
    moved = commit(store, key, {"a.txt": b"a"})
    store.update_ref(key, "refs/heads/dev", moved, head)
    assert store.resolve(key, "dev") == moved
    store.update_ref(key, "refs/heads/dev", None, moved)
    assert store.ref_target(key, "refs/heads/dev") is None
    assert store.resolve(key, "dev") is None


def test_update_ref_refuses_when_the_ref_moved(store: GitObjectStore, key: str) -> None:
    old = store.resolve(key, DEFAULT_BRANCH)
    new = commit(store, key, {"a.txt": b"a"})
    stale = store.write_commit(key, old, [], AUTHOR, "based on the old head")
    with pytest.raises(RefConflictError):
        store.update_ref(key, MAIN, stale, old)
    assert store.resolve(key, DEFAULT_BRANCH) == new


def test_update_ref_refuses_to_create_an_existing_ref(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    with pytest.raises(RefConflictError):
        store.update_ref(key, MAIN, head, None)


def test_update_ref_refuses_to_delete_a_missing_ref(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    with pytest.raises(RefConflictError):
        store.update_ref(key, "refs/heads/ghost", None, head)


@pytest.mark.parametrize(
    ("existing", "new"),
    [("refs/heads/feature", "refs/heads/feature/x"), ("refs/heads/a/b", "refs/heads/a")],
)
def test_a_ref_cannot_nest_under_or_above_another_ref(
    store: GitObjectStore, key: str, existing: str, new: str
) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    store.update_ref(key, existing, head, None)
    with pytest.raises(RefConflictError):
        store.update_ref(key, new, head, None)
    assert store.ref_target(key, new) is None
    assert store.ref_target(key, existing) == head


def test_concurrent_compare_and_swap_never_loses_an_update(
    open_store: Callable[[], GitObjectStore], store: GitObjectStore, key: str
) -> None:
    # Each writer has a store object of its own, as separate worker processes would.
    writers, commits_each = 6, 4
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        mine = open_store()
        try:
            barrier.wait()
            for i in range(commits_each):
                while True:
                    head = mine.resolve(key, DEFAULT_BRANCH)
                    blob = mine.write_blob(key, f"{n}-{i}".encode())
                    edits = [TreeEdit(f"w{n}/c{i}.txt", blob)]
                    new = mine.write_commit(key, head, edits, AUTHOR, f"w{n} c{i}")
                    try:
                        mine.update_ref(key, MAIN, new, head)
                        break
                    except RefConflictError:
                        continue
        except BaseException as exc:  # any failure in a thread must fail the test
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    assert len(list(store.walk(key, head))) == writers * commits_each + 1
    expected = {f"w{n}/c{i}.txt" for n in range(writers) for i in range(commits_each)}
    assert expected <= set(files_at(store, key))


def test_refs_lists_every_ref_peeled_to_commits(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    store.update_ref(key, "refs/heads/feature/x", head, None)
    store.update_ref(key, "refs/pr/1", head, None)
    store.create_tag(key, "v1", head, AUTHOR, "annotated")
    refs = {r.name: r.target for r in store.refs(key)}
    assert refs == {
        MAIN: head,
        "refs/heads/feature/x": head,
        "refs/pr/1": head,
        "refs/tags/v1": head,
    }


def test_lightweight_tag_points_at_the_commit(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    assert store.create_tag(key, "light", head, AUTHOR, None) == head
    assert store.ref_target(key, "refs/tags/light") == head
    assert store.resolve(key, "light") == head


def test_annotated_tag_points_at_a_tag_object_and_resolves_to_the_commit(
    store: GitObjectStore, key: str
) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    created = store.create_tag(key, "v1.0", head, AUTHOR, "Release 1.0")
    direct = store.ref_target(key, "refs/tags/v1.0")
    assert direct == created
    assert direct != head
    assert store.resolve(key, "v1.0") == head
    assert store.resolve(key, "refs/tags/v1.0") == head


def test_create_tag_refuses_an_existing_tag(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    other = commit(store, key, {"a.txt": b"a"})
    store.create_tag(key, "v1", head, AUTHOR, None)
    with pytest.raises(RefConflictError):
        store.create_tag(key, "v1", other, AUTHOR, None)
    with pytest.raises(RefConflictError):
        store.create_tag(key, "v1", other, AUTHOR, "annotated this time")
    assert store.resolve(key, "v1") == head


def test_create_tag_refuses_a_name_nested_under_a_tag(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    store.create_tag(key, "v1", head, AUTHOR, None)
    with pytest.raises(RefConflictError):
        store.create_tag(key, "v1/patch", head, AUTHOR, "nested")


def test_resolve_prefers_branch_then_tag_then_commit(store: GitObjectStore, key: str) -> None:
    initial = store.resolve(key, DEFAULT_BRANCH)
    assert initial is not None
    later = commit(store, key, {"a.txt": b"a"})
    store.update_ref(key, "refs/heads/same", later, None)
    store.create_tag(key, "same", initial, AUTHOR, None)
    assert store.resolve(key, "same") == later
    assert store.resolve(key, "refs/tags/same") == initial
    assert store.resolve(key, "refs/heads/same") == later
    # A tag named like a short commit id wins over that commit.
    short = later[:7]
    store.create_tag(key, short, initial, AUTHOR, None)
    assert store.resolve(key, short) == initial


def test_resolve_accepts_full_and_short_commit_ids(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    parent = store.commit(key, head).parents[0]
    assert store.resolve(key, head) == head
    assert store.resolve(key, head[:7]) == head
    assert store.resolve(key, parent[:12]) == parent


def test_resolve_follows_full_refs_and_special_refs(store: GitObjectStore, key: str) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    store.update_ref(key, "refs/pr/3", head, None)
    store.update_ref(key, "refs/convert/parquet", head, None)
    assert store.resolve(key, "refs/pr/3") == head
    assert store.resolve(key, "refs/convert/parquet") == head
    assert store.resolve(key, MAIN) == head


@pytest.mark.parametrize(
    "revision",
    [
        "nope",
        "0" * 40,
        "deadbee",
        "a b",
        "..x",
        "refs/heads/nope",
        "main~1",
        "main^",
        "HEAD",
        "@{0}",
        "refs/pr/99",
        "main\x00",
        "main\x00junk",
        "refs/heads/main\x00x",
        "\udcff",
        "r" * 5000,
    ],
)
def test_resolve_returns_none_for_what_names_no_commit(
    store: GitObjectStore, key: str, revision: str
) -> None:
    commit(store, key, {"a.txt": b"a"})
    assert store.resolve(key, revision) is None


def test_resolve_does_not_take_a_blob_or_tree_id_for_a_commit(
    store: GitObjectStore, key: str
) -> None:
    head = commit(store, key, {"a.txt": b"a"})
    entry = store.entry(key, head, "a.txt")
    assert entry is not None
    assert store.resolve(key, entry.oid) is None
    assert store.resolve(key, store.commit(key, head).tree_id) is None


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("refs/heads/main", True),
        ("refs/heads/feature/x", True),
        ("refs/tags/v1.0", True),
        ("refs/heads/a b", False),
        ("refs/heads/..x", False),
        ("refs/heads/x.lock", False),
        ("refs/heads/x/", False),
        ("refs/heads/a~1", False),
        ("refs/heads/a:b", False),
        ("refs/heads/é/日本", True),
        ("refs/heads/" + "a" * 250, True),
        ("refs/heads/" + "a" * 251, False),
        ("refs/heads/" + "é" * 126, False),
        ("refs/heads/" + "/".join(["a" * 200] * 5), False),
        ("refs/heads/\udcff", False),
        ("refs/heads/\x00", False),
        ("refs/heads/nul\x00byte", False),
    ],
)
def test_valid_ref_name_follows_git_rules(store: GitObjectStore, name: str, valid: bool) -> None:
    assert store.valid_ref_name(name) is valid


def test_every_valid_ref_name_can_be_created(store: GitObjectStore, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)
    assert head is not None
    longest = "refs/heads/" + "/".join(["b" * 250] * 3) + "/" + "é" * 115
    assert store.valid_ref_name(longest)
    store.update_ref(key, longest, head, None)
    assert store.resolve(key, longest.removeprefix("refs/heads/")) == head


def test_a_copy_holds_the_branches_and_tags_with_their_history_and_nothing_else(
    store: GitObjectStore, key: str
) -> None:
    first = commit(store, key, {"a.txt": b"a"})
    head = commit(store, key, {"b.txt": b"b"})
    store.update_ref(key, "refs/heads/dev", first, None)
    store.create_tag(key, "v1", first, AUTHOR, "annotated")
    store.update_ref(key, "refs/pr/1", first, None)
    copy = uuid.uuid4().hex

    try:
        assert store.create_copy(copy, key) == head
        refs = {r.name: r.target for r in store.refs(copy)}
        assert refs == {MAIN: head, "refs/heads/dev": first, "refs/tags/v1": first}
        assert store.ref_target(copy, "refs/tags/v1") == store.ref_target(key, "refs/tags/v1")
        assert [c.id for c in store.walk(copy, head)] == [c.id for c in store.walk(key, head)]
        store.delete(key)  # the copy shares no object with its source
        assert files_at(store, copy) == {
            ".gitattributes": GITATTRIBUTES,
            "a.txt": b"a",
            "b.txt": b"b",
        }
        assert files_at(store, copy, "v1")["a.txt"] == b"a"
    finally:
        store.delete(copy)
