"""UploadService: whole files to one commit, through LFS where the official client would use it;
and what the repo and folder pages learn about the caller's right to write."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.app import build_services
from hubstead.server.domain.accounts import Role
from hubstead.server.services.access import Action
from hubstead.server.services.auth import Identity
from hubstead.server.services.commits import CommitHeader
from hubstead.server.services.registry import Services
from hubstead.server.services.uploads import UploadedFile
from hubstead.server.settings import load_settings

MODEL = RepoType.MODEL


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    """A hub whose LFS threshold is 1 kB and whose largest LFS object is 4 kB."""
    settings = load_settings(
        {"data_dir": tmp_path, "lfs_threshold_bytes": 1000, "max_lfs_object_bytes": 4000},
        environ={},
    )
    services = build_services(settings)
    yield services
    services.close()


def user(hub: Services, name: str, role: Role = Role.WRITE) -> Identity:
    hub.auth.create_user(name, is_admin=False)
    return hub.auth.authenticate(hub.auth.create_token(name, role).secret)


def upload(path: str, content: bytes) -> UploadedFile:
    return UploadedFile(path, io.BytesIO(content), len(content))


def test_small_text_goes_inline_and_large_or_binary_files_through_lfs(hub: Services) -> None:
    alice = user(hub, "alice")
    repo = hub.repos.create(alice, MODEL, None, "m").repo_id
    large, binary = b"x" * 2000, b"\0\1\2"

    result = hub.uploads.upload(
        alice,
        MODEL,
        repo,
        "main",
        [upload("a.txt", b"hello\n"), upload("d/large.txt", large), upload("b.dat", binary)],
        CommitHeader("Three files"),
    )

    folder = hub.browse.folder(alice, MODEL, repo, "main", "", offset=0, limit=50)
    files = {f.path: f for f in folder.entries}
    assert folder.repo.commit.id == result.commit_id and result.pull_request is None
    assert files["a.txt"].lfs is None and files["a.txt"].size == 6
    assert files["b.dat"].lfs is not None
    assert files["b.dat"].lfs.sha256 == hashlib.sha256(binary).hexdigest()
    inner = hub.browse.folder(alice, MODEL, repo, "main", "d", offset=0, limit=50)
    (large_file,) = inner.entries
    assert large_file.lfs is not None and large_file.lfs.size == 2000
    assert hub.lfs.linked(folder.repo.repo, hashlib.sha256(large).hexdigest(), 2000)


def test_a_pull_request_instead_of_a_commit_to_the_branch(hub: Services) -> None:
    alice, bob = user(hub, "alice"), user(hub, "bob")
    repo = hub.repos.create(alice, MODEL, None, "m").repo_id

    result = hub.uploads.upload(
        bob, MODEL, repo, "main", [upload("w.bin", b"\0" * 10)], CommitHeader("Hi"), create_pr=True
    )

    assert result.pull_request == 1
    main = hub.browse.folder(alice, MODEL, repo, "main", "", offset=0, limit=50)
    assert "w.bin" not in {f.path for f in main.entries}
    pr = hub.browse.folder(alice, MODEL, repo, "refs/pr/1", "", offset=0, limit=50)
    assert "w.bin" in {f.path for f in pr.entries}


def test_refusals_store_nothing(hub: Services) -> None:
    alice, bob = user(hub, "alice"), user(hub, "bob")
    reader = user(hub, "carol", Role.READ)
    repo = hub.repos.create(alice, MODEL, None, "m")
    head = repo.head

    with pytest.raises(errors.AuthorizationError):
        hub.uploads.upload(bob, MODEL, repo.repo_id, "main", [upload("a", b"a")], CommitHeader("x"))
    with pytest.raises(errors.AuthorizationError):
        hub.uploads.upload(
            reader, MODEL, repo.repo_id, "main", [upload("a", b"a")], CommitHeader("x")
        )
    with pytest.raises(errors.InvalidRequestError, match="at least one file"):
        hub.uploads.upload(alice, MODEL, repo.repo_id, "main", [], CommitHeader("x"))
    with pytest.raises(errors.InvalidRequestError, match="same path"):
        hub.uploads.upload(
            alice,
            MODEL,
            repo.repo_id,
            "main",
            [upload("a", b"1"), upload("a", b"2")],
            CommitHeader("x"),
        )
    with pytest.raises(errors.PayloadTooLargeError, match="more than the 4000"):
        hub.uploads.upload(
            alice, MODEL, repo.repo_id, "main", [upload("big", b"y" * 5000)], CommitHeader("x")
        )
    with pytest.raises(errors.RevisionNotFoundError):
        hub.uploads.upload(
            alice, MODEL, repo.repo_id, "nope", [upload("a", b"a")], CommitHeader("x")
        )

    after = hub.repos.locate(alice, MODEL, repo.repo_id, Action.READ)
    assert after.head == head


def test_repo_and_folder_pages_say_whether_the_caller_may_write(hub: Services) -> None:
    alice, bob = user(hub, "alice"), user(hub, "bob")
    repo = hub.repos.create(alice, MODEL, None, "m").repo_id

    assert hub.browse.repo(alice, MODEL, repo, "main", 10).may_write is True
    assert hub.browse.repo(bob, MODEL, repo, "main", 10).may_write is False
    assert hub.browse.folder(alice, MODEL, repo, "main", "", offset=0, limit=10).may_write
    assert not hub.browse.folder(bob, MODEL, repo, "main", "", offset=0, limit=10).may_write
