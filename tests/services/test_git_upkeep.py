"""fsck reports, and gc collects, what crashes and rewrites leave in the git repos.

The leftovers are made as git makes them: a push quarantine is `objects/incoming-*` holding a
partial pack, a repack's temporary file is `objects/pack/tmp_pack_*`, a killed server leaves its
push work dir in the store's `.tmp/`, and squashed or deleted history is loose objects no ref
reaches. What is younger than the grace period (a push in progress) stays.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest
from click.testing import CliRunner
from huggingface_hub import CommitOperationAdd, HfApi

from hubstead.cli.main import cli
from hubstead.protocol import RepoType
from hubstead.server.domain.upkeep import LeftoverKind
from tests.cli.test_admin import storage_args
from tests.helpers.accounts import HubUser
from tests.helpers.live_server import LiveServer
from tests.http.test_unreachable_history_http import REMOVALS
from tests.services.test_upkeep import DAY, hub, new_repo, owner

__all__ = ["hub", "owner"]


def age_all(path: Path, by: dt.timedelta) -> None:
    """Make a folder and everything in it look last written `by` ago."""
    when = time.time() - by.total_seconds()
    os.utime(path, (when, when))
    for folder, _dirs, files in os.walk(path):
        for item in [folder, *(os.path.join(folder, name) for name in files)]:
            os.utime(item, (when, when))


def git_dir(hub: LiveServer, repo_id: str) -> Path:
    namespace, _, name = repo_id.partition("/")
    record = hub.services.repos._store.get_repo(RepoType.MODEL.value, namespace, name)
    assert record is not None
    return hub.data_dir / "repos" / record.storage_key[:2] / f"{record.storage_key}.git"


def quarantine(repo: Path, name: str, size: int) -> Path:
    """A push quarantine as `git receive-pack` leaves it when killed mid-pack."""
    folder = repo / "objects" / f"incoming-{name}" / "pack"
    folder.mkdir(parents=True)
    (folder / "tmp_pack_Xy12Ab").write_bytes(b"PACK" + os.urandom(size))
    return folder.parent


def test_fsck_reports_and_gc_removes_crash_leftovers_but_spares_a_push_in_progress(
    hub: LiveServer, owner: HubUser
) -> None:
    repo = git_dir(hub, new_repo(owner))
    crashed = quarantine(repo, "dead01", 256 * 1024)
    running = quarantine(repo, "live02", 1024)
    repack_temp = repo / "objects" / "pack" / "tmp_pack_Qw34Er"
    repack_temp.write_bytes(b"PACK" + os.urandom(4096))
    push_work = hub.data_dir / "repos" / ".tmp" / "push-k1ll3d"
    (push_work / "hooks").mkdir(parents=True)
    for path in (crashed, repack_temp, push_work):
        age_all(path, 2 * DAY)

    fsck = hub.services.upkeep.fsck()
    found = {(item.kind, Path(item.name).name) for item in fsck.git_leftovers}
    dry = hub.services.upkeep.gc(grace=DAY, dry_run=True)
    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    expected = {
        (LeftoverKind.GIT_QUARANTINE, "incoming-dead01"),
        (LeftoverKind.GIT_TEMP, "tmp_pack_Qw34Er"),
        (LeftoverKind.GIT_TEMP, "push-k1ll3d"),
    }
    assert expected <= found
    assert (LeftoverKind.GIT_QUARANTINE, "incoming-live02") in found  # fsck lists everything
    assert not fsck.damaged
    assert {(item.kind, Path(item.name).name) for item in dry.git_leftovers} == expected
    assert {(item.kind, Path(item.name).name) for item in report.git_leftovers} == expected
    assert not crashed.exists() and not repack_temp.exists() and not push_work.exists()
    assert running.exists()  # younger than the grace period: a push may be writing it
    assert report.freed_bytes >= 256 * 1024


@pytest.mark.parametrize("remove", REMOVALS, ids=lambda f: f.__name__)
def test_gc_prunes_history_no_ref_reaches_and_repacks(
    hub: LiveServer, owner: HubUser, remove: Callable[[HfApi, str], str]
) -> None:
    repo_id = new_repo(owner)
    old = remove(owner.api, repo_id)
    path = git_dir(hub, repo_id)
    assert old in pygit2.Repository(str(path))
    age_all(path / "objects", DAY)

    fsck = hub.services.upkeep.fsck()
    report = hub.services.upkeep.gc(grace=dt.timedelta(hours=1), dry_run=False)

    garbage = [i for i in fsck.git_leftovers if i.kind is LeftoverKind.GIT_UNREACHABLE]
    assert [Path(item.name.split(" ")[0]).name for item in garbage] == [path.name]
    assert report.repacked >= 1
    assert old not in pygit2.Repository(str(path))
    loose = [p for p in (path / "objects").glob("??/*")]
    assert loose == []
    assert len(list((path / "objects" / "pack").glob("*.pack"))) == 1
    head = owner.api.model_info(repo_id).sha
    assert head is not None and head in pygit2.Repository(str(path))
    assert [f.path for f in owner.api.list_repo_tree(repo_id)] == [".gitattributes"]


def test_gc_merges_the_packs_of_commits_and_drops_packed_blobs_no_ref_reaches(
    hub: LiveServer, owner: HubUser
) -> None:
    repo_id = new_repo(owner)
    path = git_dir(hub, repo_id)
    kept = {f"kept/{n}.txt": b"kept %d\n" % n for n in range(150)}
    owner.api.create_commit(
        repo_id, [CommitOperationAdd(p, c) for p, c in kept.items()], commit_message="kept"
    )
    owner.api.create_branch(repo_id, branch="leak")
    leak = [CommitOperationAdd(f"leak/{n}.txt", b"leak %d\n" % n) for n in range(150)]
    owner.api.create_commit(repo_id, leak, commit_message="leak", revision="leak")
    owner.api.delete_branch(repo_id, branch="leak")
    leaked = pygit2.hash(b"leak 7\n")
    assert len(list((path / "objects" / "pack").glob("*.pack"))) == 2
    age_all(path / "objects", DAY)

    fsck = hub.services.upkeep.fsck()
    assert not fsck.damaged
    hub.services.upkeep.gc(grace=dt.timedelta(hours=1), dry_run=False)

    assert len(list((path / "objects" / "pack").glob("*.pack"))) == 1
    assert leaked not in pygit2.Repository(str(path))
    listed = {f.path for f in owner.api.list_repo_tree(repo_id, recursive=True)}
    assert set(kept) <= listed
    local = owner.api.hf_hub_download(repo_id, "kept/149.txt", cache_dir=hub.data_dir / "c")
    assert Path(local).read_bytes() == b"kept 149\n"


def test_gc_keeps_objects_of_a_commit_in_progress(hub: LiveServer, owner: HubUser) -> None:
    repo_id = new_repo(owner)
    path = git_dir(hub, repo_id)
    # A commit being written: its objects exist, its ref has not moved yet.
    pending = pygit2.Repository(str(path)).create_blob(b"on its way")

    report = hub.services.upkeep.gc(grace=DAY, dry_run=False)

    assert pending in pygit2.Repository(str(path))
    assert [i for i in report.git_leftovers if i.kind is LeftoverKind.GIT_UNREACHABLE] == []


def test_gc_command_shows_progress_and_what_git_shed(hub: LiveServer, owner: HubUser) -> None:
    repo = git_dir(hub, new_repo(owner))
    age_all(quarantine(repo, "dead03", 1024), 2 * DAY)

    result = CliRunner().invoke(cli, ["gc", *storage_args(hub)])

    assert result.exit_code == 0, result.output
    assert "git repack: " in result.stderr
    assert "Removed git push quarantine" in result.stdout
    assert "Pruned and repacked" in result.stdout
