"""The real git binary against the hub over smart HTTP: clone, fetch and push.

Credentials travel as git users send them: a token as the password in the URL, or from git's
credential helper. What a push changes is checked through the unmodified official client, and
refused pushes are checked to have moved nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, RepoFile, hf_hub_download

from hubstead.protocol import format_lfs_pointer
from hubstead.server.domain.accounts import Role
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.live_server import LiveServer, start_server


@pytest.fixture
def git(tmp_path: Path) -> GitUser:
    return GitUser(tmp_path / "home")


@pytest.fixture
def checkout(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> Path:
    """A clone of `repo` whose remote carries `user`'s write token."""
    return git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "checkout")


def download(live_server: LiveServer, user: HubUser, repo: str, path: str, tmp_path: Path) -> bytes:
    local = hf_hub_download(
        repo, path, cache_dir=tmp_path / "cache", endpoint=live_server.url, token=user.token
    )
    return Path(local).read_bytes()


# --- clone and fetch ------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["0", "2"])
@pytest.mark.parametrize("suffix", ["", ".git"])
def test_clone_has_the_files_and_history_the_api_shows(
    live_server: LiveServer,
    user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
    protocol: str,
    suffix: str,
) -> None:
    user.api.upload_file(path_or_fileobj=b'{"a": 1}', path_in_repo="config.json", repo_id=repo)
    dest = tmp_path / "clone"

    git.run(
        "-c",
        f"protocol.version={protocol}",
        "clone",
        repo_url(live_server.url, repo) + suffix,
        str(dest),
    )

    assert git.head(dest) == user.api.model_info(repo).sha
    tracked = git.run("ls-files", cwd=dest).stdout.split()
    assert sorted(tracked) == sorted(user.api.list_repo_files(repo))
    attributes = download(live_server, user, repo, ".gitattributes", tmp_path)
    assert (dest / ".gitattributes").read_bytes() == attributes
    assert b"*.safetensors filter=lfs" in attributes
    log = git.run("log", "--format=%s", cwd=dest).stdout.splitlines()
    assert log == [c.title for c in user.api.list_repo_commits(repo)]


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_datasets_and_spaces_clone_under_their_prefix(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    git: GitUser,
    tmp_path: Path,
    repo_type: str,
) -> None:
    repo = repo_factory(repo_type)
    url = repo_url(live_server.url, repo, token=user.token, prefix=f"{repo_type}s/")

    dest = git.clone(url, tmp_path / "clone")
    git.commit_file(dest, "data.csv", b"a,b\n1,2\n", "Add data")
    git.run("push", cwd=dest)

    info = user.api.repo_info(repo, repo_type=repo_type)
    assert info.sha == git.head(dest)


@pytest.mark.parametrize("options", [("--depth", "1"), ("--filter=blob:none",)])
def test_shallow_and_partial_clones_work(
    live_server: LiveServer,
    user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
    options: tuple[str, ...],
) -> None:
    user.api.upload_file(path_or_fileobj=b"one\n", path_in_repo="one.txt", repo_id=repo)
    user.api.upload_file(path_or_fileobj=b"two\n", path_in_repo="two.txt", repo_id=repo)

    dest = git.clone(repo_url(live_server.url, repo), tmp_path / "clone", *options)

    assert git.head(dest) == user.api.model_info(repo).sha
    assert (dest / "two.txt").read_bytes() == b"two\n"
    count = int(git.run("rev-list", "--count", "HEAD", cwd=dest).stdout)
    assert count == (1 if "--depth" in options else 3)


def test_clone_and_push_on_a_commit_of_many_files(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    # Enough files for the hub to write their blobs as one pack rather than loose objects.
    files = {f"data/{n // 100}/{n}.txt": b"row %d\n" % n for n in range(300)}
    operations = [CommitOperationAdd(path, content) for path, content in files.items()]
    user.api.create_commit(repo, operations, commit_message="many files")

    dest = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "clone")
    git.run("fsck", "--full", "--strict", cwd=dest)
    assert {path: (dest / path).read_bytes() for path in files} == files
    git.commit_file(dest, "data/0/0.txt", b"changed\n", "Change one file")
    git.run("push", cwd=dest)

    assert user.api.model_info(repo).sha == git.head(dest)
    assert download(live_server, user, repo, "data/2/299.txt", tmp_path) == b"row 299\n"


def test_fetch_brings_commits_made_through_the_api(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"new\n", path_in_repo="notes.txt", repo_id=repo)

    git.run("pull", "--ff-only", cwd=checkout)

    assert (checkout / "notes.txt").read_bytes() == b"new\n"
    assert git.head(checkout) == user.api.model_info(repo).sha


@pytest.mark.parametrize("protocol", ["0", "2"])
def test_fetch_with_a_long_negotiation_finds_the_common_history(
    user: HubUser, repo: str, git: GitUser, checkout: Path, protocol: str
) -> None:
    # Hundreds of local commits, newer than anything the hub has, are all git can offer before
    # it reaches the history it shares with the hub: it sends `have` lines over several rounds,
    # in request bodies large enough for git to gzip them.
    stream = "".join(
        f"commit refs/heads/local\ncommitter A <a@example.test> {4_000_000_000 + n} +0000\n"
        f"data 6\nlocal{n % 10}\n" + ("from main\n" if n == 0 else "") + "\n"
        for n in range(300)
    )
    git.run("fast-import", "--quiet", cwd=checkout, input=stream)
    git.run("checkout", "-q", "local", cwd=checkout)
    git.run("branch", "-D", "main", cwd=checkout)
    git.run("update-ref", "-d", "refs/remotes/origin/main", cwd=checkout)
    user.api.upload_file(path_or_fileobj=b"x\n", path_in_repo="api.txt", repo_id=repo)

    trace = {"GIT_TRACE_CURL": "1", "GIT_TRACE_CURL_NO_DATA": "1"}
    fetch = git.run(
        "-c", f"protocol.version={protocol}", "fetch", "origin", cwd=checkout, env=trace
    )

    assert "Content-Encoding: gzip" in fetch.stderr
    assert git.head(checkout, "origin/main") == user.api.model_info(repo).sha
    assert git.run("show", "origin/main:api.txt", cwd=checkout).stdout == "x\n"


# --- credentials and visibility -----------------------------------------------------------------


def test_anonymous_clone_of_a_private_repo_is_asked_for_credentials(
    live_server: LiveServer, repo_factory: Callable[..., str], git: GitUser, tmp_path: Path
) -> None:
    repo = repo_factory(private=True)

    error = git.fails("clone", repo_url(live_server.url, repo), str(tmp_path / "clone"))

    # The hub answered 401 with a Basic challenge: git wanted a user name and could not ask.
    assert "could not read Username" in error
    assert not (tmp_path / "clone").exists()


def test_owner_clones_a_private_repo_with_a_token_in_the_url(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    git: GitUser,
    tmp_path: Path,
) -> None:
    repo = repo_factory(private=True)

    dest = git.clone(repo_url(live_server.url, repo, token=user.token), tmp_path / "clone")

    assert git.head(dest) == user.api.model_info(repo).sha


def test_private_repo_is_not_found_for_other_users(
    live_server: LiveServer,
    other_user: HubUser,
    repo_factory: Callable[..., str],
    git: GitUser,
    tmp_path: Path,
) -> None:
    repo = repo_factory(private=True)
    url = repo_url(live_server.url, repo, token=other_user.token)

    error = git.fails("clone", url, str(tmp_path / "clone"))

    assert "remote: Repository not found" in error
    assert "not found" in error.splitlines()[-1]


def test_a_missing_repo_is_not_found(
    live_server: LiveServer, user: HubUser, git: GitUser, tmp_path: Path
) -> None:
    url = repo_url(live_server.url, f"{user.name}/{unique_name('missing')}", token=user.token)

    error = git.fails("clone", url, str(tmp_path / "clone"))

    assert "remote: Repository not found" in error


def test_an_unknown_token_fails_authentication(
    live_server: LiveServer, repo_factory: Callable[..., str], git: GitUser, tmp_path: Path
) -> None:
    repo = repo_factory(private=True)
    url = repo_url(live_server.url, repo, token="hf_" + "x" * 34)

    error = git.fails("clone", url, str(tmp_path / "clone"))

    assert "Authentication failed" in error


def test_credential_helper_supplies_the_token_for_clone_and_push(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    git: GitUser,
    tmp_path: Path,
) -> None:
    repo = repo_factory(private=True)
    git.store_credentials(repo_url(live_server.url, repo, token=user.token))

    dest = git.clone(repo_url(live_server.url, repo), tmp_path / "clone")
    commit = git.commit_file(dest, "a.txt", b"a\n", "Add a")
    git.run("push", cwd=dest)

    assert user.api.model_info(repo).sha == commit


# --- pushes -------------------------------------------------------------------------------------


def test_push_is_visible_through_the_api_at_once(
    live_server: LiveServer,
    user: HubUser,
    repo: str,
    repo_factory: Callable[..., str],
    git: GitUser,
    checkout: Path,
    tmp_path: Path,
) -> None:
    newer = repo_factory()
    readme = b"---\nlicense: mit\ntags:\n- pushed\nlibrary_name: transformers\n---\n# Hello\n"
    commit = git.commit_file(checkout, "README.md", readme, "Add a card")

    git.run("push", cwd=checkout)

    info = user.api.model_info(repo)
    assert info.sha == commit
    assert info.card_data is not None and info.card_data["license"] == "mit"
    assert info.library_name == "transformers"
    assert "pushed" in (info.tags or [])
    commits = user.api.list_repo_commits(repo)
    assert [(c.commit_id, c.title) for c in commits[:1]] == [(commit, "Add a card")]
    assert download(live_server, user, repo, "README.md", tmp_path) == readme
    # The push made `repo` the most recently modified, although `newer` was created later.
    by_change = [m.id for m in user.api.list_models(author=user.name, sort="last_modified")]
    assert by_change[:2] == [repo, newer]


def test_push_of_a_new_branch_and_an_annotated_tag(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    main = user.api.model_info(repo).sha
    commit = git.commit_file(checkout, "dev.txt", b"dev\n", "On dev")
    git.run("tag", "-a", "v1.0", "-m", "Release 1.0", cwd=checkout)

    git.run("push", "origin", "HEAD:refs/heads/dev", "v1.0", cwd=checkout)

    refs = user.api.list_repo_refs(repo)
    assert {b.name: b.target_commit for b in refs.branches} == {"main": main, "dev": commit}
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", commit)]
    assert user.api.model_info(repo, revision="v1.0").sha == commit
    assert user.api.model_info(repo).sha == main


def test_a_branch_and_a_tag_can_be_deleted_by_push(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    user.api.create_branch(repo, branch="old")
    user.api.create_tag(repo, tag="gone")

    git.run("push", "origin", ":old", ":refs/tags/gone", cwd=checkout)

    refs = user.api.list_repo_refs(repo)
    assert [b.name for b in refs.branches] == ["main"]
    assert refs.tags == []


def test_push_with_a_read_token_is_refused(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    read_token = live_server.services.auth.create_token(user.name, Role.READ, name="ro").secret
    dest = git.clone(repo_url(live_server.url, repo, token=read_token), tmp_path / "clone")
    git.commit_file(dest, "a.txt", b"a\n", "Add a")
    head = user.api.model_info(repo).sha

    error = git.fails("push", cwd=dest)

    assert "remote: Cannot write to" in error and "read role" in error
    assert user.api.model_info(repo).sha == head


def test_anonymous_push_is_asked_for_credentials(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    dest = git.clone(repo_url(live_server.url, repo), tmp_path / "clone")
    git.commit_file(dest, "a.txt", b"a\n", "Add a")

    error = git.fails("push", cwd=dest)

    assert "could not read Username" in error


def test_push_to_another_users_repo_is_forbidden(
    live_server: LiveServer,
    user: HubUser,
    other_user: HubUser,
    repo: str,
    git: GitUser,
    tmp_path: Path,
) -> None:
    dest = git.clone(repo_url(live_server.url, repo, token=other_user.token), tmp_path / "clone")
    git.commit_file(dest, "a.txt", b"a\n", "Add a")

    error = git.fails("push", cwd=dest)

    # The push may begin (it could be for a pull request of this user's): its ref is refused.
    assert "remote: error: refusing to update refs/heads/main: Cannot write to" in error
    assert "you don't have the rights to write" in error


def test_deleting_the_default_branch_is_refused(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    head = user.api.model_info(repo).sha

    error = git.fails("push", "origin", ":main", cwd=checkout)

    assert "remote: error: refusing to delete refs/heads/main: it is the default branch" in error
    assert "[remote rejected] main (pre-receive hook declined)" in error
    assert user.api.model_info(repo).sha == head


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("refs/pr/1", "refusing to create refs/pr/1: pull request #1 does not exist"),
        ("refs/convert/parquet", "refusing to update refs/convert/parquet: only branches"),
        ("refs/notes/commits", "refusing to update refs/notes/commits: only branches"),
    ],
)
def test_push_to_a_ref_that_is_not_a_branch_or_tag_is_refused(
    user: HubUser, repo: str, git: GitUser, checkout: Path, ref: str, message: str
) -> None:
    error = git.fails("push", "origin", f"HEAD:{ref}", cwd=checkout)

    assert f"remote: error: {message}" in error
    refs = user.api.list_repo_refs(repo, include_pull_requests=True)
    assert refs.pull_requests == [] and refs.converts == []


def test_non_fast_forward_push_is_refused_unless_forced(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    user.api.upload_file(path_or_fileobj=b"api\n", path_in_repo="api.txt", repo_id=repo)
    api_head = user.api.model_info(repo).sha
    local = git.commit_file(checkout, "local.txt", b"local\n", "Local change")

    error = git.fails("push", cwd=checkout)

    assert "[rejected]" in error and "fetch first" in error
    assert user.api.model_info(repo).sha == api_head

    git.run("push", "--force", cwd=checkout)

    assert user.api.model_info(repo).sha == local
    assert "api.txt" not in user.api.list_repo_files(repo)


def test_concurrent_api_commits_and_pushes_all_land(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    pushed = []

    def commit_through_the_api() -> None:
        for n in range(8):
            user.api.upload_file(
                path_or_fileobj=f"{n}\n".encode(), path_in_repo=f"api/{n}.txt", repo_id=repo
            )

    writer = threading.Thread(target=commit_through_the_api)
    writer.start()
    for n in range(8):
        pushed.append(git.commit_file(checkout, f"git/{n}.txt", f"{n}\n".encode(), f"Push {n}"))
        while git.run("push", "-q", cwd=checkout, check=False).returncode != 0:
            git.run("pull", "-q", "--rebase", cwd=checkout)
            pushed[-1] = git.head(checkout)
    writer.join()

    files = set(user.api.list_repo_files(repo))
    assert {f"api/{n}.txt" for n in range(8)} <= files
    assert {f"git/{n}.txt" for n in range(8)} <= files
    history = {c.commit_id for c in user.api.list_repo_commits(repo)}
    assert set(pushed) <= history
    assert user.api.model_info(repo).sha == user.api.list_repo_commits(repo)[0].commit_id


def test_pointer_to_a_missing_lfs_object_is_refused_and_nothing_moves(
    user: HubUser, repo: str, git: GitUser, checkout: Path
) -> None:
    before = user.api.list_repo_refs(repo)
    files = user.api.list_repo_files(repo)
    sha256 = os.urandom(32).hex()
    git.commit_file(checkout, "ok.txt", b"fine\n", "A fine commit")
    git.run("branch", "side", cwd=checkout)
    # Written by hand, as git does without git-lfs: the object itself was never uploaded.
    git.commit_file(checkout, "model.safetensors", format_lfs_pointer(sha256, 1234), "Pointer")

    error = git.fails("push", "origin", "main", "side", cwd=checkout)

    assert f"names the LFS object {sha256} (1234 bytes), which was not uploaded" in error
    assert "hint: push with git-lfs installed" in error
    assert "[remote rejected] main -> main (pre-receive hook declined)" in error
    assert "[remote rejected] side -> side (pre-receive hook declined)" in error
    assert user.api.list_repo_refs(repo) == before
    assert user.api.list_repo_files(repo) == files


def test_a_file_too_large_for_git_is_refused(git: GitUser, tmp_path: Path) -> None:
    server = start_server(tmp_path / "hub", max_regular_file_bytes=1000)
    try:
        owner = make_user(server)
        repo = f"{owner.name}/{unique_name('repo')}"
        owner.api.create_repo(repo)
        checkout = git.clone(repo_url(server.url, repo, token=owner.token), tmp_path / "clone")
        git.commit_file(checkout, "notes.txt", b"x" * 1001, "Too large")
        blob = git.run("rev-parse", "HEAD:notes.txt", cwd=checkout).stdout.strip()
        head = owner.api.model_info(repo).sha

        error = git.fails("push", cwd=checkout)

        assert f"remote: error: blob {blob} is 1001 bytes, more than the 1000" in error
        assert "git lfs track" in error
        assert owner.api.model_info(repo).sha == head
    finally:
        server.stop()


def test_a_moved_repo_is_cloned_at_its_new_name(
    live_server: LiveServer,
    user: HubUser,
    repo_factory: Callable[..., str],
    git: GitUser,
    tmp_path: Path,
) -> None:
    old = repo_factory()
    new = f"{user.name}/{unique_name('moved')}"
    user.api.move_repo(old, new)
    try:
        result = git.run("clone", repo_url(live_server.url, old) + ".git", str(tmp_path / "clone"))
    finally:
        user.api.delete_repo(new)

    assert "redirecting to" in result.stderr and new in result.stderr
    assert (tmp_path / "clone" / ".gitattributes").is_file()


# --- git-lfs ------------------------------------------------------------------------------------


def test_git_lfs_push_then_download_and_clone(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    require_git_lfs()
    git.run("lfs", "install")
    url = repo_url(live_server.url, repo, token=user.token)
    dest = git.clone(url, tmp_path / "clone")
    weights = os.urandom(300_000)

    commit = git.commit_file(dest, "model.safetensors", weights, "Add weights")
    git.run("push", cwd=dest)

    assert user.api.model_info(repo).sha == commit
    assert download(live_server, user, repo, "model.safetensors", tmp_path) == weights
    (entry,) = user.api.get_paths_info(repo, ["model.safetensors"])
    assert isinstance(entry, RepoFile) and entry.lfs is not None
    assert entry.lfs.size == len(weights)
    fresh = git.clone(url, tmp_path / "fresh")
    assert (fresh / "model.safetensors").read_bytes() == weights


def test_git_lfs_errors_show_the_hubs_message_and_never_the_token(
    live_server: LiveServer, user: HubUser, repo: str, git: GitUser, tmp_path: Path
) -> None:
    require_git_lfs()
    git.run("lfs", "install")
    read_token = live_server.services.auth.create_token(user.name, Role.READ, name="ro").secret
    dest = git.clone(repo_url(live_server.url, repo, token=read_token), tmp_path / "clone")
    git.commit_file(dest, "model.safetensors", os.urandom(1000), "Add weights")
    missing = repo_url(live_server.url, f"{repo}-missing", token=read_token)

    refused = git.run("lfs", "push", "origin", "main", cwd=dest, check=False)
    git.run("remote", "set-url", "origin", missing, cwd=dest)
    not_found = git.run("lfs", "push", "origin", "main", cwd=dest, check=False)

    assert refused.returncode != 0 and not_found.returncode != 0
    assert "the token 'ro' has the read role only" in refused.stderr
    assert f"Repository not found: model {repo}-missing" in not_found.stderr
    for result in (refused, not_found):
        assert read_token not in result.stdout + result.stderr
