"""The `GitTransport` contract: ref advertisements and checked pushes, on every implementation.

Push requests are built as git sends them: a pkt-line command list, then a pack that the real
`git pack-objects` makes from a repo of its own.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pytest

from hubstead.protocol import DEFAULT_BRANCH, format_lfs_pointer
from hubstead.server.domain.git import (
    Author,
    IncomingPush,
    PackService,
    PushLimits,
    PushOutcome,
    RefUpdate,
)
from hubstead.server.storage.git_objects import GitObjectStore
from hubstead.server.storage.git_pygit2 import Pygit2GitStore
from hubstead.server.storage.git_transport import GitTransport
from tests.helpers.git import GitUser


class Store(GitObjectStore, GitTransport, Protocol):
    """A transport with the object store of its repos (one class implements both)."""


IMPLEMENTATIONS: dict[str, Callable[[Path], Store]] = {"pygit2": Pygit2GitStore}
POINTER = format_lfs_pointer("ab" * 32, 42)
ZERO = "0" * 40


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return IMPLEMENTATIONS[request.param](tmp_path / "repos")


@pytest.fixture
def key(store: Store) -> str:
    key = uuid.uuid4().hex
    store.create(key, {"a.txt": b"a\n"}, Author("A", "a@example.test"), "first")
    return key


def pkt_line(text: str) -> bytes:
    return f"{len(text.encode()) + 4:04x}".encode() + text.encode()


def push_request(
    tmp_path: Path, files: dict[str, bytes], ref: str = "refs/heads/other"
) -> tuple[bytes, str]:
    """A request creating `ref` at a new root commit holding `files`; and that commit's id."""
    git = GitUser(tmp_path / "home")
    source = tmp_path / "source"
    git.run("init", "-q", str(source))
    for path, content in files.items():
        git.commit_file(source, path, content, f"Add {path}")
    commit = git.head(source)
    pack = subprocess.run(
        ["git", "pack-objects", "--stdout", "--revs", "-q"],
        input=f"{commit}\n".encode(),
        cwd=source,
        capture_output=True,
        check=True,
    ).stdout
    command = pkt_line(f"{ZERO} {commit} {ref}\0report-status side-band-64k\n")
    return command + b"0000" + pack, commit


def receive(
    store: Store, key: str, body: bytes, check: Callable[[IncomingPush], str | None]
) -> PushOutcome:
    """Spool a push request as the HTTP layer does, then apply it."""
    with store.spool() as spool:
        spool.write(body)
        spool.flush()
        spool.seek(0)
        return store.receive_pack(key, spool, check, None, PushLimits(2**30, 2**20))


def test_advertisement_lists_the_refs(store: Store, key: str) -> None:
    head = store.resolve(key, DEFAULT_BRANCH)

    advertised = store.advertise_refs(key, PackService.UPLOAD, None)

    assert f"{head} HEAD".encode() in advertised
    assert f"{head} refs/heads/{DEFAULT_BRANCH}".encode() in advertised


def test_protocol_v2_advertises_capabilities(store: Store, key: str) -> None:
    advertised = store.advertise_refs(key, PackService.UPLOAD, "version=2")

    assert advertised.startswith(pkt_line("version 2\n"))


def test_an_accepted_push_moves_its_ref_and_reports_it(
    store: Store, key: str, tmp_path: Path
) -> None:
    body, commit = push_request(tmp_path, {"b.txt": b"b\n"})
    seen: list[IncomingPush] = []

    def check(push: IncomingPush) -> str | None:
        seen.append(push)
        return None

    outcome = receive(store, key, body, check)

    assert outcome.updates == (RefUpdate("refs/heads/other", None, commit),)
    assert b"ok refs/heads/other" in outcome.output
    assert store.resolve(key, "other") == commit
    assert [p.updates for p in seen] == [(RefUpdate("refs/heads/other", None, commit),)]


def test_the_check_sees_every_pushed_blob_and_the_content_of_small_ones(
    store: Store, key: str, tmp_path: Path
) -> None:
    large = b"x" * 5000
    body, _ = push_request(tmp_path, {"model.bin": POINTER, "large.txt": large, "c.txt": b"c\n"})
    seen: list[IncomingPush] = []

    def check(push: IncomingPush) -> None:
        seen.append(push)

    receive(store, key, body, check)

    (push,) = seen
    sizes = {blob.size: blob.content for blob in push.blobs}
    assert sizes == {len(POINTER): POINTER, len(large): None, 2: b"c\n"}


@pytest.mark.parametrize("fails", [False, True])
def test_a_refused_push_moves_nothing(store: Store, key: str, tmp_path: Path, fails: bool) -> None:
    body, commit = push_request(tmp_path, {"b.txt": b"b\n"})
    refs = store.refs(key)

    def check(push: IncomingPush) -> str | None:
        if fails:
            raise RuntimeError("the check broke")
        return "error: not this one"

    outcome = receive(store, key, body, check)

    assert outcome.updates == ()
    assert b"ng refs/heads/other pre-receive hook declined" in outcome.output
    expected = b"could not check this push" if fails else b"error: not this one"
    assert expected in outcome.output
    assert store.refs(key) == refs
    assert store.resolve(key, commit) is None
