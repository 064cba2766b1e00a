"""BrowseService's page chrome (open threads, mirror, rights) and edit targets; the upload spool."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.app import build_services
from hubstead.server.domain.accounts import Role
from hubstead.server.services.auth import Identity
from hubstead.server.services.commits import AddFile, CommitHeader
from hubstead.server.services.mirroring.mirrors import MirrorConfig
from hubstead.server.services.registry import Services
from hubstead.server.services.repos import RepoSettingsChange
from hubstead.server.settings import load_settings

MODEL = RepoType.MODEL


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Services]:
    services = build_services(load_settings({"data_dir": tmp_path}, environ={}))
    yield services
    services.close()


def user(hub: Services, name: str, *, admin: bool = False) -> Identity:
    hub.auth.create_user(name, is_admin=admin)
    return hub.auth.authenticate(hub.auth.create_token(name, Role.WRITE).secret)


def test_chrome_counts_open_threads_and_says_who_may_write(hub: Services) -> None:
    alice, bob = user(hub, "alice"), user(hub, "bob")
    repo = hub.repos.create(alice, MODEL, None, "m", private=False).repo_id
    hub.discussions.open(bob, MODEL, repo, "A question", "?")

    mine = hub.browse.chrome(alice, MODEL, repo)
    theirs = hub.browse.chrome(bob, MODEL, repo)

    assert mine.open_threads == theirs.open_threads == 1
    assert mine.upstream is None and mine.may_manage and mine.may_write
    assert not (theirs.may_manage or theirs.may_write)


def test_a_mirror_is_managed_but_never_written_and_names_its_upstream(hub: Services) -> None:
    admin = user(hub, "root", admin=True)
    hub.mirrors.add(MODEL, "up/m", MirrorConfig("https://hub.example/"))

    chrome = hub.browse.chrome(admin, MODEL, "up/m")
    changed = hub.repos.update_settings(admin, MODEL, "up/m", RepoSettingsChange(private=False))

    assert chrome.upstream == "https://hub.example/up/m"
    assert chrome.may_manage and not chrome.may_write
    assert changed.private is False
    with pytest.raises(errors.MirrorReadOnlyError):
        hub.commits.commit(
            admin, MODEL, "up/m", "main", CommitHeader("x"), [AddFile("a.txt", b"a")]
        )


def test_edit_target_sends_edits_at_a_tag_or_commit_to_main_and_finds_existing_paths(
    hub: Services,
) -> None:
    alice = user(hub, "alice")
    repo = hub.repos.create(alice, MODEL, None, "m").repo_id
    first = hub.commits.commit(
        alice, MODEL, repo, "main", CommitHeader("one"), [AddFile("d/a.txt", b"a")]
    ).commit_id
    hub.refs.create_tag(alice, MODEL, repo, "main", "v1", None)
    hub.refs.create_branch(alice, MODEL, repo, "dev", "main")

    at_main = hub.browse.edit_target(alice, MODEL, repo, "main", "d/a.txt")
    at_dev = hub.browse.edit_target(alice, MODEL, repo, "dev", "d")
    at_tag = hub.browse.edit_target(alice, MODEL, repo, "v1", "new.txt")
    at_commit = hub.browse.edit_target(alice, MODEL, repo, first, "")
    editor = hub.browse.editor(alice, MODEL, repo, "v1", "d/a.txt")

    assert (at_main.pr_base, at_main.existing) == (None, "file")
    assert (at_dev.pr_base, at_dev.existing) == (None, "directory")
    assert (at_tag.pr_base, at_tag.existing) == ("main", None)
    assert (at_commit.pr_base, at_commit.existing) == ("main", None)
    assert editor.pr_base == "main" and editor.commit_id == first


def test_an_edit_at_a_tag_is_refused_where_pull_requests_are_off(hub: Services) -> None:
    alice = user(hub, "alice")
    repo = hub.repos.create(alice, MODEL, None, "m").repo_id
    hub.commits.commit(alice, MODEL, repo, "main", CommitHeader("one"), [AddFile("a", b"a")])
    hub.refs.create_tag(alice, MODEL, repo, "main", "v1", None)
    hub.repos.update_settings(alice, MODEL, repo, RepoSettingsChange(discussions_disabled=True))

    assert hub.browse.editor(alice, MODEL, repo, "main", "a").pr_base is None
    with pytest.raises(errors.InvalidRequestError, match="v1 is not a branch"):
        hub.browse.editor(alice, MODEL, repo, "v1", "a")


def test_the_upload_spool_is_on_the_data_disk(hub: Services, tmp_path: Path) -> None:
    with hub.uploads.spool() as spool:
        where = os.readlink(f"/proc/self/fd/{spool.fileno()}")

    assert where.startswith(str(tmp_path.resolve()))
