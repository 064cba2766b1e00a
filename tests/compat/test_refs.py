"""Git history through the official client: refs, commits, branches, tags, super-squash.

The revision forms (branch names with `/`, tags, full and short commit ids, `refs/pr/N`, full
`refs/heads/…` and `refs/tags/…` refs) are checked on every call that takes a revision.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from huggingface_hub import RepoFile, hf_hub_download
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.refs import create_ref


def upload(user: HubUser, repo: str, path: str, data: bytes, revision: str | None = None) -> str:
    """Upload one file; return the new commit id."""
    info = user.api.upload_file(
        path_or_fileobj=data,
        path_in_repo=path,
        repo_id=repo,
        revision=revision,
        commit_message=f"Write {path}: {data.decode()}",
    )
    return str(info.oid)


def branch_target(user: HubUser, repo: str, name: str, **kwargs: object) -> str | None:
    refs = user.api.list_repo_refs(repo, **kwargs)  # type: ignore[arg-type]
    return next((b.target_commit for b in refs.branches if b.name == name), None)


def tag_target(user: HubUser, repo: str, name: str) -> str | None:
    return next(
        (t.target_commit for t in user.api.list_repo_refs(repo).tags if t.name == name), None
    )


def tree_of(user: HubUser, repo: str, revision: str | None = None) -> dict[str, str | None]:
    """Every path of a revision with its git object id."""
    entries = user.api.list_repo_tree(repo, revision=revision, recursive=True)
    return {e.path: getattr(e, "blob_id", None) or getattr(e, "tree_id", None) for e in entries}


def titles(user: HubUser, repo: str, revision: str | None = None) -> list[str]:
    return [c.title for c in user.api.list_repo_commits(repo, revision=revision)]


# --- a shared repo with one commit per revision form ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class History:
    """A repo whose revisions all point at different commits, with `a.txt` telling them apart."""

    owner: HubUser
    repo: str
    initial: str
    one: str  # a.txt = "one"; tagged v1
    two: str  # a.txt = "two"; main
    feature: str  # a.txt = "feature"; branch feature/x
    pr: str  # a.txt = "pr"; refs/pr/1


@pytest.fixture(scope="module")
def history(live_server: LiveServer) -> Iterator[History]:
    owner = make_user(live_server)
    repo = f"{owner.name}/{unique_name('history')}"
    owner.api.create_repo(repo)
    initial = owner.api.model_info(repo).sha
    assert initial is not None
    one = upload(owner, repo, "a.txt", b"one")
    owner.api.create_tag(repo, tag="v1", revision=one)
    owner.api.create_branch(repo, branch="feature/x", revision=one)
    owner.api.create_branch(repo, branch="pr-source", revision=one)
    feature = upload(owner, repo, "a.txt", b"feature", revision="feature/x")
    pr = upload(owner, repo, "a.txt", b"pr", revision="pr-source")
    create_ref(live_server, owner, repo, "refs/pr/1", pr)
    owner.api.delete_branch(repo, branch="pr-source")
    two = upload(owner, repo, "a.txt", b"two")
    yield History(owner, repo, initial, one, two, feature, pr)
    owner.api.delete_repo(repo)


# (revision as the user writes it, which commit of History it names, a.txt there)
FORMS: list[tuple[str, Callable[[History], str], str, bytes]] = [
    ("branch", lambda h: "main", "two", b"two"),
    ("branch with a slash", lambda h: "feature/x", "feature", b"feature"),
    ("full branch ref", lambda h: "refs/heads/feature/x", "feature", b"feature"),
    ("tag", lambda h: "v1", "one", b"one"),
    ("full tag ref", lambda h: "refs/tags/v1", "one", b"one"),
    ("full commit id", lambda h: h.one, "one", b"one"),
    ("short commit id", lambda h: h.one[:7], "one", b"one"),
    ("pull request ref", lambda h: "refs/pr/1", "pr", b"pr"),
]
REVISION_FORMS = pytest.mark.parametrize(
    ("revision_of", "commit_name", "content"),
    [pytest.param(f, c, data, id=form) for form, f, c, data in FORMS],
)
UNKNOWN = pytest.mark.parametrize(
    "revision", ["nope", "feature", "refs/pr/99", "refs/heads/v1", "0" * 40, "deadbee"]
)


@REVISION_FORMS
def test_model_info_at_every_revision_form(
    history: History, revision_of: Callable[[History], str], commit_name: str, content: bytes
) -> None:
    info = history.owner.api.model_info(history.repo, revision=revision_of(history))
    assert info.sha == getattr(history, commit_name)


@REVISION_FORMS
def test_list_repo_tree_at_every_revision_form(
    history: History, revision_of: Callable[[History], str], commit_name: str, content: bytes
) -> None:
    entries = list(history.owner.api.list_repo_tree(history.repo, revision=revision_of(history)))
    [entry] = [e for e in entries if e.path == "a.txt"]
    assert isinstance(entry, RepoFile)
    assert entry.size == len(content)


@REVISION_FORMS
def test_list_repo_commits_at_every_revision_form(
    history: History, revision_of: Callable[[History], str], commit_name: str, content: bytes
) -> None:
    commits = history.owner.api.list_repo_commits(history.repo, revision=revision_of(history))
    assert commits[0].commit_id == getattr(history, commit_name)
    assert commits[0].title == f"Write a.txt: {content.decode()}"
    assert commits[-1].commit_id == history.initial


@REVISION_FORMS
def test_hf_hub_download_at_every_revision_form(
    live_server: LiveServer,
    history: History,
    tmp_path: Path,
    revision_of: Callable[[History], str],
    commit_name: str,
    content: bytes,
) -> None:
    path = hf_hub_download(
        history.repo,
        "a.txt",
        revision=revision_of(history),
        endpoint=live_server.url,
        token=history.owner.token,
        cache_dir=tmp_path,
    )
    assert Path(path).read_bytes() == content


@REVISION_FORMS
def test_create_branch_from_every_revision_form(
    history: History, revision_of: Callable[[History], str], commit_name: str, content: bytes
) -> None:
    branch = unique_name("from")
    history.owner.api.create_branch(history.repo, branch=branch, revision=revision_of(history))
    assert branch_target(history.owner, history.repo, branch) == getattr(history, commit_name)


@REVISION_FORMS
def test_create_tag_on_every_revision_form(
    history: History, revision_of: Callable[[History], str], commit_name: str, content: bytes
) -> None:
    tag = unique_name("on")
    history.owner.api.create_tag(history.repo, tag=tag, revision=revision_of(history))
    assert tag_target(history.owner, history.repo, tag) == getattr(history, commit_name)


@UNKNOWN
def test_unknown_revisions_are_revision_not_found_everywhere(
    live_server: LiveServer, history: History, tmp_path: Path, revision: str
) -> None:
    api, repo = history.owner.api, history.repo
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision=revision)
    with pytest.raises(RevisionNotFoundError):
        list(api.list_repo_tree(repo, revision=revision))
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_commits(repo, revision=revision)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(
            repo,
            "a.txt",
            revision=revision,
            endpoint=live_server.url,
            token=history.owner.token,
            cache_dir=tmp_path,
        )
    with pytest.raises(RevisionNotFoundError):
        api.create_branch(repo, branch=unique_name("b"), revision=revision)
    with pytest.raises(RevisionNotFoundError):
        api.create_tag(repo, tag=unique_name("t"), revision=revision)


def test_list_repo_refs_groups_branches_tags_and_pull_requests(history: History) -> None:
    refs = history.owner.api.list_repo_refs(history.repo)
    branches = {b.name: (b.ref, b.target_commit) for b in refs.branches}
    assert branches["main"] == ("refs/heads/main", history.two)
    assert branches["feature/x"] == ("refs/heads/feature/x", history.feature)
    assert "pr-source" not in branches
    tags = {t.name: (t.ref, t.target_commit) for t in refs.tags}
    assert tags["v1"] == ("refs/tags/v1", history.one)
    assert refs.converts == []
    assert refs.pull_requests is None
    with_prs = history.owner.api.list_repo_refs(history.repo, include_pull_requests=True)
    assert [(p.ref, p.target_commit) for p in with_prs.pull_requests or []] == [
        ("refs/pr/1", history.pr)
    ]


def test_list_repo_commits_is_newest_first_and_follows_only_the_revision(
    history: History,
) -> None:
    main = history.owner.api.list_repo_commits(history.repo)
    assert [c.commit_id for c in main] == [history.two, history.one, history.initial]
    assert [c.title for c in main] == ["Write a.txt: two", "Write a.txt: one", "initial commit"]
    assert all(c.authors == [history.owner.name] for c in main)
    assert main[0].created_at >= main[1].created_at >= main[2].created_at
    feature = [
        c.commit_id for c in history.owner.api.list_repo_commits(history.repo, revision="feature/x")
    ]
    assert feature == [history.feature, history.one, history.initial]


# --- fresh repos --------------------------------------------------------------------------------


def test_fresh_repo_has_main_only_and_one_initial_commit(user: HubUser, repo: str) -> None:
    refs = user.api.list_repo_refs(repo, include_pull_requests=True)
    sha = user.api.model_info(repo).sha
    assert [(b.name, b.ref, b.target_commit) for b in refs.branches] == [
        ("main", "refs/heads/main", sha)
    ]
    assert (refs.tags, refs.converts, refs.pull_requests) == ([], [], [])
    [commit] = user.api.list_repo_commits(repo)
    assert (commit.commit_id, commit.title, commit.message) == (sha, "initial commit", "")
    assert commit.authors == [user.name]
    assert commit.formatted_title is None


@pytest.mark.parametrize("repo_type", ["dataset", "space"])
def test_refs_work_for_datasets_and_spaces(
    user: HubUser, repo_factory: Callable[..., str], repo_type: str
) -> None:
    repo = repo_factory(repo_type)
    user.api.create_branch(repo, branch="dev", repo_type=repo_type)
    user.api.create_tag(repo, tag="v1", revision="dev", repo_type=repo_type)
    refs = user.api.list_repo_refs(repo, repo_type=repo_type)
    assert {b.name for b in refs.branches} == {"main", "dev"}
    assert [t.name for t in refs.tags] == ["v1"]
    assert [
        c.title for c in user.api.list_repo_commits(repo, repo_type=repo_type, revision="v1")
    ] == ["initial commit"]


def test_formatted_commits_carry_html_escaped_title_and_message(user: HubUser, repo: str) -> None:
    user.api.upload_file(
        path_or_fileobj=b"x",
        path_in_repo="x.txt",
        repo_id=repo,
        commit_message="Use <b>bold</b> & more",
        commit_description="Line one\nSee <https://example.com>",
    )
    [latest, initial] = user.api.list_repo_commits(repo, formatted=True)
    assert latest.title == "Use <b>bold</b> & more"
    assert latest.message == "Line one\nSee <https://example.com>"
    assert latest.formatted_title is not None
    assert latest.formatted_message is not None
    assert "<b>" not in latest.formatted_title
    assert "&lt;b&gt;bold&lt;/b&gt;" in latest.formatted_title
    assert "&lt;https://example.com&gt;" in latest.formatted_message
    assert initial.formatted_title == "initial commit"


def test_list_repo_commits_of_a_missing_repo_is_repository_not_found(user: HubUser) -> None:
    with pytest.raises(RepositoryNotFoundError):
        user.api.list_repo_commits(f"{user.name}/{unique_name('missing')}")


# --- branches -----------------------------------------------------------------------------------


def test_create_branch_starts_at_main_by_default(user: HubUser, repo: str) -> None:
    head = upload(user, repo, "a.txt", b"a")
    user.api.create_branch(repo, branch="dev")
    assert branch_target(user, repo, "dev") == head
    assert titles(user, repo, "dev") == titles(user, repo)


def test_commits_on_a_branch_leave_main_alone(user: HubUser, repo: str) -> None:
    user.api.create_branch(repo, branch="dev")
    upload(user, repo, "dev.txt", b"dev", revision="dev")
    assert titles(user, repo, "dev") == ["Write dev.txt: dev", "initial commit"]
    assert titles(user, repo) == ["initial commit"]


def test_create_existing_branch_is_409_unless_exist_ok(user: HubUser, repo: str) -> None:
    user.api.create_branch(repo, branch="dev")
    head = upload(user, repo, "a.txt", b"a", revision="dev")
    with pytest.raises(HfHubHTTPError) as info:
        user.api.create_branch(repo, branch="dev")
    assert info.value.response.status_code == 409
    assert "refs/heads/dev" in str(info.value)
    user.api.create_branch(repo, branch="dev", exist_ok=True)
    assert branch_target(user, repo, "dev") == head
    with pytest.raises(HfHubHTTPError) as main_info:
        user.api.create_branch(repo, branch="main")
    assert main_info.value.response.status_code == 409


def test_a_branch_may_share_its_name_with_a_tag(user: HubUser, repo: str) -> None:
    initial = user.api.model_info(repo).sha
    user.api.create_tag(repo, tag="release")
    later = upload(user, repo, "a.txt", b"a")
    user.api.create_branch(repo, branch="release")
    assert branch_target(user, repo, "release") == later
    assert tag_target(user, repo, "release") == initial
    # A branch comes first when a name is both.
    assert user.api.model_info(repo, revision="release").sha == later


@pytest.mark.parametrize(
    "name",
    [
        "refs/pr/5",
        "refs/heads/x",
        "refs/something",
        "a b",
        "..x",
        "x..y",
        "x.lock",
        "a~1",
        "a:b",
        "x/",
        "0123456789abcdef0123456789abcdef01234567",
    ],
)
def test_invalid_branch_names_are_bad_requests(user: HubUser, repo: str, name: str) -> None:
    with pytest.raises(BadRequestError):
        user.api.create_branch(repo, branch=name)
    assert [b.name for b in user.api.list_repo_refs(repo).branches] == ["main"]


@pytest.mark.parametrize(("existing", "new"), [("feature", "feature/x"), ("feature/x", "feature")])
def test_a_branch_cannot_nest_under_or_above_another_branch(
    user: HubUser, repo: str, existing: str, new: str
) -> None:
    user.api.create_branch(repo, branch=existing)
    # Not a 409: exist_ok must not hide that the branch was not created.
    with pytest.raises(BadRequestError, match=existing):
        user.api.create_branch(repo, branch=new, exist_ok=True)
    assert {b.name for b in user.api.list_repo_refs(repo).branches} == {"main", existing}


def test_delete_branch_removes_it_and_keeps_its_commits_elsewhere(user: HubUser, repo: str) -> None:
    user.api.create_branch(repo, branch="feature/x")
    head = upload(user, repo, "f.txt", b"f", revision="feature/x")
    user.api.create_tag(repo, tag="keep", revision="feature/x")
    user.api.delete_branch(repo, branch="feature/x")
    assert branch_target(user, repo, "feature/x") is None
    with pytest.raises(RevisionNotFoundError):
        user.api.model_info(repo, revision="feature/x")
    assert user.api.model_info(repo, revision="keep").sha == head
    assert user.api.model_info(repo, revision=head).sha == head


def test_delete_main_is_refused_with_a_clear_error(user: HubUser, repo: str) -> None:
    with pytest.raises(HfHubHTTPError, match="Cannot delete refs/heads/main") as info:
        user.api.delete_branch(repo, branch="main")
    assert info.value.response.status_code == 403
    assert branch_target(user, repo, "main") is not None


@pytest.mark.parametrize("name", ["ghost", "v1", "a b"])
def test_delete_missing_branch_is_revision_not_found(user: HubUser, repo: str, name: str) -> None:
    user.api.create_tag(repo, tag="v1")
    with pytest.raises(RevisionNotFoundError):
        user.api.delete_branch(repo, branch=name)
    assert tag_target(user, repo, "v1") is not None


def test_branches_need_write_access(user: HubUser, other_user: HubUser, repo: str) -> None:
    with pytest.raises(HfHubHTTPError) as info:
        other_user.api.create_branch(repo, branch="intruder")
    assert info.value.response.status_code == 403
    user.api.create_branch(repo, branch="dev")
    with pytest.raises(HfHubHTTPError) as delete_info:
        other_user.api.delete_branch(repo, branch="dev")
    assert delete_info.value.response.status_code == 403
    assert {b.name for b in other_user.api.list_repo_refs(repo).branches} == {"main", "dev"}


def test_refs_of_a_private_repo_are_hidden_from_others(
    user: HubUser, other_user: HubUser, repo_factory: Callable[..., str]
) -> None:
    repo = repo_factory(private=True)
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.list_repo_refs(repo)
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.list_repo_commits(repo)
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.create_branch(repo, branch="dev")
    with pytest.raises(RepositoryNotFoundError):
        other_user.api.create_tag(repo, tag="v1")


# --- tags ---------------------------------------------------------------------------------------


def test_lightweight_and_annotated_tags_resolve_to_their_commit(user: HubUser, repo: str) -> None:
    first = upload(user, repo, "a.txt", b"1")
    second = upload(user, repo, "a.txt", b"2")
    user.api.create_tag(repo, tag="light", revision=first)
    user.api.create_tag(repo, tag="v2.0", tag_message="Release 2.0\n\nNotes", revision=second[:7])
    assert tag_target(user, repo, "light") == first
    assert tag_target(user, repo, "v2.0") == second
    assert user.api.model_info(repo, revision="v2.0").sha == second
    assert user.api.list_repo_commits(repo, revision="light")[0].commit_id == first


def test_create_tag_defaults_to_main_and_accepts_a_branch(user: HubUser, repo: str) -> None:
    head = upload(user, repo, "a.txt", b"a")
    user.api.create_branch(repo, branch="dev")
    dev = upload(user, repo, "a.txt", b"dev", revision="dev")
    user.api.create_tag(repo, tag="on-main")
    user.api.create_tag(repo, tag="on-dev", revision="dev")
    assert tag_target(user, repo, "on-main") == head
    assert tag_target(user, repo, "on-dev") == dev


def test_create_existing_tag_is_409_unless_exist_ok(user: HubUser, repo: str) -> None:
    first = user.api.model_info(repo).sha
    user.api.create_tag(repo, tag="v1")
    upload(user, repo, "a.txt", b"a")
    with pytest.raises(HfHubHTTPError) as info:
        user.api.create_tag(repo, tag="v1")
    assert info.value.response.status_code == 409
    user.api.create_tag(repo, tag="v1", exist_ok=True)
    user.api.create_tag(repo, tag="v1", tag_message="annotated", exist_ok=True)
    assert tag_target(user, repo, "v1") == first


@pytest.mark.parametrize(
    "name",
    ["a b", "..x", "refs/tags/x", "x.lock", "a:b", "0123456789abcdef0123456789abcdef01234567"],
)
def test_invalid_tag_names_are_bad_requests(user: HubUser, repo: str, name: str) -> None:
    with pytest.raises(BadRequestError):
        user.api.create_tag(repo, tag=name)
    assert user.api.list_repo_refs(repo).tags == []


def test_delete_tag_removes_lightweight_and_annotated_tags(user: HubUser, repo: str) -> None:
    user.api.create_tag(repo, tag="light")
    user.api.create_tag(repo, tag="heavy", tag_message="annotated")
    user.api.delete_tag(repo, tag="light")
    user.api.delete_tag(repo, tag="heavy")
    assert user.api.list_repo_refs(repo).tags == []
    with pytest.raises(RevisionNotFoundError):
        user.api.model_info(repo, revision="heavy")
    # The name can be used again.
    user.api.create_tag(repo, tag="heavy")


@pytest.mark.parametrize("name", ["ghost", "main", "a b"])
def test_delete_missing_tag_is_revision_not_found(user: HubUser, repo: str, name: str) -> None:
    with pytest.raises(RevisionNotFoundError):
        user.api.delete_tag(repo, tag=name)
    assert branch_target(user, repo, "main") is not None


def test_tags_need_write_access(user: HubUser, other_user: HubUser, repo: str) -> None:
    user.api.create_tag(repo, tag="v1")
    with pytest.raises(HfHubHTTPError) as create_info:
        other_user.api.create_tag(repo, tag="v2")
    assert create_info.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as delete_info:
        other_user.api.delete_tag(repo, tag="v1")
    assert delete_info.value.response.status_code == 403
    assert [t.name for t in user.api.list_repo_refs(repo).tags] == ["v1"]


# --- super-squash -------------------------------------------------------------------------------


def test_super_squash_leaves_one_commit_with_the_same_files(user: HubUser, repo: str) -> None:
    upload(user, repo, "a.txt", b"1")
    upload(user, repo, "dir/b.txt", b"2")
    upload(user, repo, "a.txt", b"3")
    files_before = tree_of(user, repo)
    user.api.super_squash_history(repo, commit_message="Squashed!")
    [commit] = user.api.list_repo_commits(repo)
    assert commit.title == "Squashed!"
    assert user.api.model_info(repo).sha == commit.commit_id
    assert tree_of(user, repo) == files_before
    assert [e.path for e in user.api.list_repo_tree(repo, path_in_repo="dir")] == ["dir/b.txt"]


def test_super_squash_uses_the_client_default_message(user: HubUser, repo: str) -> None:
    upload(user, repo, "a.txt", b"1")
    user.api.super_squash_history(repo)
    assert titles(user, repo) == ["Super-squash branch 'main' using huggingface_hub"]


def test_super_squash_of_a_branch_keeps_other_histories(user: HubUser, repo: str) -> None:
    upload(user, repo, "a.txt", b"1")
    user.api.create_branch(repo, branch="dev/squash")
    user.api.create_tag(repo, tag="before")
    upload(user, repo, "b.txt", b"2", revision="dev/squash")
    main_before = titles(user, repo)
    dev_files = tree_of(user, repo, "dev/squash")
    user.api.super_squash_history(repo, branch="dev/squash", commit_message="One commit")
    assert titles(user, repo, "dev/squash") == ["One commit"]
    assert tree_of(user, repo, "dev/squash") == dev_files
    assert set(dev_files) == {".gitattributes", "a.txt", "b.txt"}
    assert titles(user, repo) == main_before
    assert titles(user, repo, "before") == main_before


def test_super_squash_of_a_pull_request_ref(
    live_server: LiveServer, user: HubUser, repo: str
) -> None:
    upload(user, repo, "a.txt", b"1")
    create_ref(live_server, user, repo, "refs/pr/1", "main")
    user.api.super_squash_history(repo, branch="refs/pr/1", commit_message="PR squashed")
    assert titles(user, repo, "refs/pr/1") == ["PR squashed"]
    assert len(titles(user, repo)) == 2


def test_super_squash_of_a_tag_is_a_bad_request(user: HubUser, repo: str) -> None:
    upload(user, repo, "a.txt", b"1")
    user.api.create_tag(repo, tag="v1")
    with pytest.raises(BadRequestError):
        user.api.super_squash_history(repo, branch="v1")
    with pytest.raises(BadRequestError):
        user.api.super_squash_history(repo, branch=user.api.model_info(repo).sha or "")
    assert len(titles(user, repo, "v1")) == 2


def test_super_squash_of_a_missing_branch_is_revision_not_found(user: HubUser, repo: str) -> None:
    with pytest.raises(RevisionNotFoundError):
        user.api.super_squash_history(repo, branch="ghost")


def test_super_squash_needs_write_access(user: HubUser, other_user: HubUser, repo: str) -> None:
    upload(user, repo, "a.txt", b"1")
    with pytest.raises(HfHubHTTPError) as info:
        other_user.api.super_squash_history(repo)
    assert info.value.response.status_code == 403
    assert len(titles(user, repo)) == 2
