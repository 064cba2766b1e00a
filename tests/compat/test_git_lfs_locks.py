"""File locking with the real git-lfs: `git lfs lock`, `locks`, `unlock`, and pushes that obey it.

A team shares an org repo: `alice` and `bob` write to it, `admin` is an admin of the org. Each
has a git home of their own with git-lfs installed, and clones with their token in the URL, as
the README shows. git-lfs checks locks before a push once told to (`lfs.<url>.locksverify`,
which the README sets once per user for the whole hub); without that setting it prints a hint
on every push instead, whatever the server answers (git-lfs's `commands/lockverifier.go`).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from hubstead.server.services.locks import DEFAULT_PAGE
from tests.helpers.accounts import HubUser, make_org, make_user, unique_name
from tests.helpers.git import GitUser, repo_url, require_git_lfs
from tests.helpers.live_server import LiveServer

WEIGHTS = "model.safetensors"  # tracked by LFS in every new repo's .gitattributes
HINT = "locksverify"


@dataclasses.dataclass(frozen=True)
class Member:
    """A member of the team, with a clone of the repo and git-lfs."""

    user: HubUser
    git: GitUser
    checkout: Path

    def run(self, *args: str) -> str:
        """A git command that must succeed; its output, both streams."""
        result = self.git.run(*args, cwd=self.checkout)
        return result.stdout + result.stderr

    def fails(self, *args: str) -> str:
        """A git command that must fail; its output, both streams."""
        result = self.git.run(*args, cwd=self.checkout, check=False)
        assert result.returncode != 0, result.stdout + result.stderr
        return result.stdout + result.stderr


def verify_locks(git: GitUser, hub: str) -> None:
    """What the README has every user run once: check the hub's locks before each push."""
    parts = urlsplit(hub)
    git.run("config", "--global", f"lfs.{parts.scheme}://{parts.netloc}/.locksverify", "true")


@pytest.fixture
def team_repo(live_server: LiveServer) -> tuple[str, dict[str, HubUser]]:
    """An org repo holding an LFS file, and its team."""
    require_git_lfs()
    users = {name: make_user(live_server, name) for name in ("admin", "alice", "bob")}
    roles = {"admin": Role.ADMIN, "alice": Role.WRITE, "bob": Role.WRITE}
    org = make_org(live_server, {users[name].name: role for name, role in roles.items()})
    repo = f"{org}/{unique_name('locks')}"
    users["admin"].api.create_repo(repo)
    users["admin"].api.upload_file(
        path_or_fileobj=os.urandom(2000), path_in_repo=WEIGHTS, repo_id=repo
    )
    return repo, users


@pytest.fixture
def member(
    live_server: LiveServer, team_repo: tuple[str, dict[str, HubUser]], tmp_path: Path
) -> dict[str, Member]:
    """Each member's clone, with lock verification on, as the README sets it up."""
    repo, users = team_repo
    members = {}
    for name, user in users.items():
        git = GitUser(tmp_path / name / "home")
        git.run("lfs", "install")
        verify_locks(git, live_server.url)
        url = repo_url(live_server.url, repo, token=user.token)
        members[name] = Member(user, git, git.clone(url, tmp_path / name / "clone"))
    return members


def change_weights(member: Member, message: str) -> None:
    member.git.commit_file(member.checkout, WEIGHTS, os.urandom(3000), message)


def test_lock_list_and_unlock_a_file(member: dict[str, Member]) -> None:
    alice, bob = member["alice"], member["bob"]

    assert f"Locked {WEIGHTS}" in alice.run("lfs", "lock", WEIGHTS)

    listing = bob.run("lfs", "locks")
    assert WEIGHTS in listing and alice.user.name in listing
    lock_id = listing.split("ID:")[1].split()[0]
    assert WEIGHTS in bob.run("lfs", "locks", "--id", lock_id)
    assert WEIGHTS in bob.run("lfs", "locks", "--path", WEIGHTS)
    assert bob.run("lfs", "locks", "--path", "other.bin").strip() == ""
    assert alice.run("lfs", "locks", "--verify").startswith(f"O {WEIGHTS}")
    assert bob.run("lfs", "locks", "--verify").startswith(f"  {WEIGHTS}")

    assert f"Unlocked {WEIGHTS}" in alice.run("lfs", "unlock", WEIGHTS)
    assert bob.run("lfs", "locks").strip() == ""


def test_git_lfs_follows_the_pages_of_a_long_listing(
    live_server: LiveServer, member: dict[str, Member], team_repo: tuple[str, dict[str, HubUser]]
) -> None:
    repo, _ = team_repo
    alice, bob = member["alice"], member["bob"]
    names = sorted(f"data/shard-{n:03}.bin" for n in range(DEFAULT_PAGE + 20))
    headers = {"authorization": f"Bearer {alice.user.token}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        for name in names:
            response = http.post(f"/{repo}.git/info/lfs/locks", json={"path": name})
            assert response.status_code == 201, response.text

    listed = [line.split()[0] for line in bob.run("lfs", "locks").splitlines()]
    verified = alice.run("lfs", "locks", "--verify").splitlines()

    assert listed == names
    assert len(verified) == len(names) and all(line.startswith("O ") for line in verified)


def test_a_file_locked_by_someone_else_cannot_be_locked_again(member: dict[str, Member]) -> None:
    alice, bob = member["alice"], member["bob"]
    alice.run("lfs", "lock", WEIGHTS)

    refused = bob.fails("lfs", "lock", WEIGHTS)

    assert f"'{WEIGHTS}' is already locked by {alice.user.name}" in refused


def test_a_push_changing_a_file_locked_by_someone_else_is_refused(
    member: dict[str, Member], team_repo: tuple[str, dict[str, HubUser]]
) -> None:
    repo, _ = team_repo
    alice, bob = member["alice"], member["bob"]
    alice.run("lfs", "lock", WEIGHTS)
    before = bob.user.api.model_info(repo).sha
    change_weights(bob, "Bob's weights")

    refused = bob.fails("push")

    assert "Unable to push locked files:" in refused
    assert f"* {WEIGHTS} - {alice.user.name}" in refused
    assert "Cannot update locked files." in refused
    assert bob.user.api.model_info(repo).sha == before

    alice.run("lfs", "unlock", WEIGHTS)
    bob.run("push")
    assert bob.user.api.model_info(repo).sha == bob.git.head(bob.checkout)


def test_the_lock_owner_pushes_and_is_reminded_to_unlock(
    member: dict[str, Member], team_repo: tuple[str, dict[str, HubUser]]
) -> None:
    repo, _ = team_repo
    alice = member["alice"]
    alice.run("lfs", "lock", WEIGHTS)
    change_weights(alice, "Alice's weights")

    output = alice.run("push")

    assert "Consider unlocking your own locked files" in output
    assert alice.user.api.model_info(repo).sha == alice.git.head(alice.checkout)


def test_only_an_admin_of_the_namespace_breaks_someone_elses_lock(
    member: dict[str, Member],
) -> None:
    alice, bob, admin = member["alice"], member["bob"], member["admin"]
    alice.run("lfs", "lock", WEIGHTS)

    without_force = bob.fails("lfs", "unlock", WEIGHTS)
    with_force = bob.fails("lfs", "unlock", "--force", WEIGHTS)
    assert f"locked by {alice.user.name}" in without_force
    assert "git lfs unlock --force" in without_force
    assert "only admins of the namespace" in with_force
    assert WEIGHTS in bob.run("lfs", "locks")

    assert f"Unlocked {WEIGHTS}" in admin.run("lfs", "unlock", "--force", WEIGHTS)
    assert bob.run("lfs", "locks").strip() == ""


def test_with_locks_verified_a_push_prints_no_locking_hint_and_no_token(
    member: dict[str, Member],
) -> None:
    bob = member["bob"]
    change_weights(bob, "New weights")

    output = bob.run("push")

    assert HINT not in output
    assert bob.user.token not in output


def test_without_the_setting_git_lfs_finds_locking_supported_and_says_so(
    live_server: LiveServer, team_repo: tuple[str, dict[str, HubUser]], tmp_path: Path
) -> None:
    # Why the README has every user set `locksverify`: git-lfs prints this after every push
    # until it is set, for any hub that answers the locking API (or one that does not).
    # With the token in git's credential helper, as the README advises, the URL it shows
    # carries no token.
    repo, users = team_repo
    git = GitUser(tmp_path / "home")
    git.run("lfs", "install")
    git.store_credentials(repo_url(live_server.url, repo, token=users["bob"].token))
    checkout = git.clone(repo_url(live_server.url, repo), tmp_path / "clone")
    git.commit_file(checkout, WEIGHTS, os.urandom(3000), "New weights")

    pushed = git.run("push", cwd=checkout)
    output = pushed.stdout + pushed.stderr

    assert "Locking support detected" in output
    assert f"{HINT} true" in output
    assert users["bob"].token not in output
