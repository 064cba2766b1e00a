"""`LfsFileService.delete` with a history rewrite, racing commits, on real stores in tmp_path."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.app import build_services
from hubstead.server.domain.accounts import Role
from hubstead.server.services.auth import Identity
from hubstead.server.services.commits import AddFile, CommitHeader
from hubstead.server.services.registry import Services
from hubstead.server.services.uploads import UploadedFile
from hubstead.server.settings import load_settings

MODEL = RepoType.MODEL
COMMITTERS = 4
COMMITS_EACH = 15


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    """A hub whose LFS threshold is 1 kB."""
    settings = load_settings({"data_dir": tmp_path, "lfs_threshold_bytes": 1000}, environ={})
    services = build_services(settings)
    yield services
    services.close()


@pytest.fixture
def ada(hub: Services) -> Identity:
    hub.auth.create_user("ada", is_admin=False)
    return hub.auth.authenticate(hub.auth.create_token("ada", Role.WRITE).secret)


def upload(hub: Services, who: Identity, repo: str, path: str, content: bytes) -> None:
    file = UploadedFile(path, io.BytesIO(content), len(content))
    hub.uploads.upload(who, MODEL, repo, "main", [file], CommitHeader(f"Add {path}"))


def test_commits_racing_a_rewrite_all_land_and_the_object_is_gone(
    hub: Services, ada: Identity
) -> None:
    repo = hub.repos.create(ada, MODEL, None, "model").repo_id
    doomed = b"\0doomed" * 200
    upload(hub, ada, repo, "doomed.bin", doomed)
    for n in range(30):  # some history for the rewrite to walk while commits land
        upload(hub, ada, repo, f"history/{n}.txt", f"{n}\n".encode())
    sha256 = hashlib.sha256(doomed).hexdigest()
    barrier = threading.Barrier(COMMITTERS + 1)
    landed: list[str] = []
    refused: list[BaseException] = []

    def commit(i: int) -> None:
        barrier.wait()
        for k in range(COMMITS_EACH):
            path = f"racing/{i}-{k}.txt"
            try:
                hub.commits.commit(
                    ada, MODEL, repo, "main", CommitHeader(path), [AddFile(path, b"x")]
                )
            except errors.ConflictError as exc:  # a clean refusal, never a silent loss
                refused.append(exc)
            else:
                landed.append(path)

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(COMMITTERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    deleted = hub.lfs_files.delete(ada, MODEL, repo, [sha256], rewrite_history=True)
    for thread in threads:
        thread.join(timeout=120)

    assert deleted == 1
    assert len(landed) + len(refused) == COMMITTERS * COMMITS_EACH
    assert len(landed) > 0
    history = hub.refs.commits(ada, MODEL, repo, "main", offset=0, limit=1000).items
    titles = {record.title for record in history}
    assert set(landed) <= titles
    at_head = files_at(hub, ada, repo, "main")
    assert set(landed) <= at_head and "history/29.txt" in at_head
    for record in history:
        assert "doomed.bin" not in files_at(hub, ada, repo, record.id)
    assert list(hub.lfs_files.list(ada, MODEL, repo, offset=0, limit=100).items) == []


def files_at(hub: Services, who: Identity, repo: str, revision: str) -> set[str]:
    page = hub.files.tree(
        who, MODEL, repo, revision, "", recursive=True, expand=False, offset=0, limit=1000
    )
    return {entry.path for entry in page.items}
