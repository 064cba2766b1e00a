"""`permanently_delete_lfs_files` with its default `rewrite_history=True`: official client, git."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hubstead.server.domain.accounts import Role
from hubstead.server.domain.hub_events import HubEventKind
from tests.helpers.accounts import HubUser
from tests.helpers.git import GitUser, repo_url
from tests.helpers.hub_events import events_of, last_event_id, refs_payload, repo_key
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror
from tests.helpers.profiles import reads_local_blobs
from tests.helpers.storage import blob_path, lfs_bytes, upload_lfs

DOOMED_PATHS = {"weights/doomed.bin", "copy-of-doomed.bin"}


def refs_of(api: HfApi, repo: str) -> dict[str, str]:
    """Every ref of the repo (pull requests too) and the commit it points at."""
    refs = api.list_repo_refs(repo, include_pull_requests=True)
    found = {ref.ref: ref.target_commit for ref in refs.branches + refs.tags}
    found.update({ref.ref: ref.target_commit for ref in refs.pull_requests or []})
    return found


def download(
    server: LiveServer, user: HubUser, repo: str, path: str, cache: Path, revision: str = "main"
) -> bytes:
    """A file's bytes as `hf_hub_download` gets them (a fresh cache each time)."""
    found = hf_hub_download(
        repo, path, revision=revision, endpoint=server.url, token=user.token, cache_dir=cache
    )
    return Path(found).read_bytes()


@dataclasses.dataclass(frozen=True)
class History:
    """A repo whose history names one object on two branches, a tag and a pull request."""

    repo: str
    other: str
    doomed: str
    shared: str
    kept: bytes
    before: str
    refs: dict[str, str]


@pytest.fixture
def history(user: HubUser, repo_factory: Callable[..., str]) -> History:
    api = user.api
    repo, other = repo_factory(), repo_factory()
    kept, doomed_data, shared_data = lfs_bytes("kept"), lfs_bytes("doomed"), lfs_bytes("shared")
    api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="README.md", repo_id=repo)
    upload_lfs(api, repo, "kept.bin", kept)
    before = api.model_info(repo).sha
    assert before is not None
    doomed = upload_lfs(api, repo, "weights/doomed.bin", doomed_data)
    shared = upload_lfs(api, repo, "shared.bin", shared_data)
    upload_lfs(api, other, "shared.bin", shared_data)
    api.create_branch(repo, branch="dev")
    upload_lfs(api, repo, "copy-of-doomed.bin", doomed_data, revision="dev")
    api.create_tag(repo, tag="v1")
    api.upload_file(path_or_fileobj=b"notes\n", path_in_repo="notes.txt", repo_id=repo)
    api.create_commit(
        repo, [CommitOperationAdd("pr.txt", b"pr\n")], commit_message="A PR", create_pr=True
    )
    return History(repo, other, doomed, shared, kept, before, refs_of(api, repo))


@reads_local_blobs
def test_deleting_with_a_rewrite_removes_the_object_from_every_ref_s_history(
    live_server: LiveServer,
    user: HubUser,
    history: History,
    repo_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    api, repo = user.api, history.repo
    start = last_event_id(live_server)
    listed = {f.file_oid: f for f in api.list_lfs_files(repo)}
    gone = {history.doomed, history.shared}

    api.permanently_delete_lfs_files(repo, [listed[sha] for sha in gone])

    assert {f.file_oid for f in api.list_lfs_files(repo)} == set(listed) - gone
    refs = refs_of(api, repo)
    assert set(refs) == {"refs/heads/main", "refs/heads/dev", "refs/tags/v1", "refs/pr/1"}
    assert all(refs[name] != old for name, old in history.refs.items())
    for name in refs:
        commits = api.list_repo_commits(repo, revision=name)
        # Commits keep their titles; those before the first affected one keep their ids.
        assert history.before in [c.commit_id for c in commits]
        for commit in commits:
            files = set(api.list_repo_files(repo, revision=commit.commit_id))
            assert files.isdisjoint(DOOMED_PATHS | {"shared.bin"})
    titles = [c.title for c in api.list_repo_commits(repo, revision="refs/pr/1")]
    assert titles[0] == "A PR"
    assert "pr.txt" in api.list_repo_files(repo, revision="refs/pr/1")
    # Other files, regular and LFS, are intact at the new tips.
    for revision in ("main", "dev", "v1", "refs/pr/1"):
        cache = tmp_path / revision.replace("/", "-")
        assert download(live_server, user, repo, "kept.bin", cache, revision=revision) == (
            history.kept
        )
        assert download(live_server, user, repo, "README.md", cache, revision=revision) == (
            b"hello\n"
        )
    with pytest.raises(EntryNotFoundError):
        download(live_server, user, repo, "weights/doomed.bin", tmp_path / "tip")
    # The old commits are gone from every ref: their ids no longer name a revision.
    with pytest.raises(RevisionNotFoundError):
        old = history.refs["refs/heads/main"]
        download(live_server, user, repo, "weights/doomed.bin", tmp_path / "old", revision=old)
    # The object's bytes are gone; the object another repo shares stays there.
    assert not blob_path(live_server, history.doomed).exists()
    assert blob_path(live_server, history.shared).exists()
    shared = download(live_server, user, history.other, "shared.bin", tmp_path / "other")
    assert shared.startswith(b"shared")
    # Webhooks and mirrors hear of the rewrite as of a push.
    events = events_of(live_server, repo_key(live_server, user.token, repo), start)
    assert [(e.kind, e.payload) for e in events] == [
        (
            HubEventKind.REPO_CONTENT,
            refs_payload(
                refs["refs/heads/main"],
                *[(name, history.refs[name], refs[name]) for name in sorted(refs)],
            ),
        )
    ]


@reads_local_blobs
def test_git_sees_no_trace_of_the_object_after_a_rewrite(
    live_server: LiveServer, user: HubUser, history: History, tmp_path: Path
) -> None:
    repo = history.repo
    doomed = [f for f in user.api.list_lfs_files(repo) if f.file_oid == history.doomed]

    user.api.permanently_delete_lfs_files(repo, doomed)

    git = GitUser(tmp_path / "home")
    url = repo_url(live_server.url, repo, token=user.token)
    mirror = git.clone(url, tmp_path / "mirror.git", "--mirror")
    log = git.run("log", "--all", "-p", "--stat", cwd=mirror).stdout
    objects = git.run("rev-list", "--objects", "--all", cwd=mirror).stdout
    assert history.doomed not in log
    assert not DOOMED_PATHS & {line.partition(" ")[2] for line in objects.splitlines()}
    assert "kept.bin" in objects and "shared.bin" in objects
    listed = git.run("for-each-ref", "--format=%(refname) %(objectname)", cwd=mirror).stdout
    assert dict(line.split(" ") for line in listed.splitlines()) == refs_of(user.api, repo)
    # The commits before the first one that named the object keep their ids.
    git.run("merge-base", "--is-ancestor", history.before, "main", cwd=mirror)


def test_a_rewrite_of_objects_the_repo_does_not_have_moves_nothing(
    live_server: LiveServer, user: HubUser, other_user: HubUser, history: History
) -> None:
    theirs = f"{other_user.name}/{history.repo.partition('/')[2]}"
    other_user.api.create_repo(theirs)
    sha = upload_lfs(other_user.api, theirs, "secret.bin", lfs_bytes("theirs"))

    response = httpx.post(
        f"{live_server.url}/api/models/{history.repo}/lfs-files/batch",
        headers={"authorization": f"Bearer {user.token}"},
        json={"deletions": {"sha": [sha, "0" * 64], "rewriteHistory": True}},
    )

    assert response.status_code == 200
    assert response.json() == {"deleted": 0}
    assert refs_of(user.api, history.repo) == history.refs
    assert "secret.bin" in other_user.api.list_repo_files(theirs)


def test_a_rewrite_needs_write_access_to_the_repo(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    history: History,
    repo_factory: Callable[..., str],
) -> None:
    repo = history.repo
    files = list(user.api.list_lfs_files(repo))
    read_token = live_server.services.auth.create_token(user.name, Role.READ, name="ro").secret
    private = repo_factory(private=True)
    upload_lfs(user.api, private, "p.bin", lfs_bytes("private"))
    private_files = list(user.api.list_lfs_files(private))

    with pytest.raises(HfHubHTTPError) as as_reader:
        HfApi(endpoint=live_server.url, token=read_token).permanently_delete_lfs_files(repo, files)
    with pytest.raises(HfHubHTTPError) as as_other:
        other_user.api.permanently_delete_lfs_files(repo, files)
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.permanently_delete_lfs_files(private, private_files)

    assert as_reader.value.response.status_code == 403
    assert as_other.value.response.status_code == 403
    assert refs_of(user.api, repo) == history.refs
    assert len(list(user.api.list_lfs_files(repo))) == len(files)
    assert len(list(user.api.list_lfs_files(private))) == 1


def test_a_mirror_refuses_a_rewrite(live_server: LiveServer, user: HubUser) -> None:
    repo = f"{user.name}/mirrored"
    add_mirror(live_server, repo, "http://127.0.0.1:9")

    response = httpx.post(
        f"{live_server.url}/api/models/{repo}/lfs-files/batch",
        headers={"authorization": f"Bearer {user.token}"},
        json={"deletions": {"sha": ["0" * 64], "rewriteHistory": True}},
    )

    assert response.status_code == 403
    assert f"{repo} is a mirror of" in response.json()["error"]
