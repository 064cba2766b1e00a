"""Discussion, pull request and editor pages over HTTP: what they show, who may do what, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.discussions import DiscussionQuery, DiscussionStatus
from hubstead.server.services.auth import ANONYMOUS
from tests.helpers.accounts import HubUser, unique_name
from tests.helpers.live_server import LiveServer
from tests.web.conftest import (
    HOSTILE,
    PASSWORD,
    browser_client,
    csrf_of,
    signed_in_client,
    user_with_password,
)

HOSTILE_COMMENT = (
    "<script>alert(3)</script>\n\n<img src=x onerror=alert(4)>\n\n[click](javascript:alert(5))\n"
)
README = b"# Card\n\nFirst words.\n"


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    return user_with_password(web_hub, "owner")


@pytest.fixture(scope="module")
def stranger(web_hub: LiveServer) -> HubUser:
    """A signed-in user who writes to none of the owner's repos."""
    return user_with_password(web_hub, "stranger")


@pytest.fixture
def as_owner(web_hub: LiveServer, owner: HubUser) -> Iterator[httpx.Client]:
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        yield client


@pytest.fixture
def as_stranger(web_hub: LiveServer, stranger: HubUser) -> Iterator[httpx.Client]:
    with signed_in_client(web_hub, stranger.name, PASSWORD) as client:
        yield client


@pytest.fixture
def repo(owner: HubUser) -> str:
    """A fresh public model with a card, a binary file and an LFS file."""
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('talk')}").repo_id
    owner.api.create_commit(
        repo_id,
        [
            CommitOperationAdd("README.md", README),
            CommitOperationAdd("latin1.txt", b"caf\xe9 \xff\xfe\n"),  # in git, not UTF-8
            CommitOperationAdd("weights.safetensors", b"\x02" * 4000),
            CommitOperationAdd("big.txt", b"x" * (600 * 1024)),
        ],
        commit_message="Start",
    )
    return repo_id


def readme_of(user: HubUser, repo_id: str) -> bytes:
    """The README at `main`, downloaded afresh with huggingface_hub."""
    path = user.api.hf_hub_download(repo_id, "README.md", force_download=True)
    with open(path, "rb") as file:
        return file.read()


def post(client: httpx.Client, page: str, action: str, **fields: str) -> httpx.Response:
    """Send a form found on `page` (its CSRF token included) to `action`."""
    token = csrf_of(client.get(page))
    return client.post(action, data={"csrf_token": token, **fields})


def test_list_shows_numbers_titles_authors_and_comment_counts_with_filters(
    web_hub: LiveServer, owner: HubUser, stranger: HubUser, repo: str
) -> None:
    first = owner.api.create_discussion(repo, title="First question", description="Hello")
    owner.api.comment_discussion(repo, first.num, "One more")
    pull = stranger.api.create_commit(
        repo,
        [CommitOperationAdd("notes.txt", b"notes\n")],
        commit_message="Add notes",
        create_pr=True,
    )
    assert pull.pr_num is not None
    closed = owner.api.create_discussion(repo, title="Done already", description="x")
    owner.api.change_discussion_status(repo, closed.num, "closed")

    with browser_client(web_hub) as client:
        default = client.get(f"/{repo}/discussions")
        pulls = client.get(f"/{repo}/discussions", params={"type": "pull_request"})
        shut = client.get(f"/{repo}/discussions", params={"status": "closed"})
        everything = client.get(f"/{repo}/discussions", params={"status": "all"})
        bad = client.get(f"/{repo}/discussions", params={"status": "nope"})
        card = client.get(f"/{repo}")

    assert default.status_code == 200
    assert "First question" in default.text and "Add notes" in default.text
    assert "Done already" not in default.text
    assert f"#{first.num} · opened by {owner.name}" in default.text
    assert "2 comments" in default.text  # the description and the comment
    assert f'href="/{repo}/discussions/{pull.pr_num}"' in default.text
    assert "Add notes" in pulls.text and "First question" not in pulls.text
    assert "Done already" in shut.text and "First question" not in shut.text
    assert all(t in everything.text for t in ("First question", "Add notes", "Done already"))
    assert bad.status_code == 400
    assert re.search(r'id="community-tab"[^>]*>Community <span[^>]*>2</span>', card.text)


def test_list_is_paginated(web_hub: LiveServer, owner: HubUser, repo: str) -> None:
    for n in range(31):
        owner.api.create_discussion(repo, title=f"Thread number {n}", description="x")
    with browser_client(web_hub) as client:
        first = client.get(f"/{repo}/discussions")
        second = client.get(f"/{repo}/discussions", params={"p": 2})

    assert "Thread number 30" in first.text and "Thread number 1<" in first.text
    assert "Thread number 0<" not in first.text and 'rel="next"' in first.text
    assert "Thread number 0<" in second.text and 'rel="prev"' in second.text


def test_urls_the_client_prints_open_the_thread_with_its_timeline(
    web_hub: LiveServer, owner: HubUser, stranger: HubUser, repo: str
) -> None:
    opened = owner.api.create_discussion(repo, title="Looks **good**", description="Some *text*")
    pull = stranger.api.create_commit(
        repo,
        [CommitOperationAdd("README.md", b"# Card\n\nBetter words.\n")],
        commit_message="Edit",
        create_pr=True,
    )
    assert pull.pr_url is not None
    owner.api.rename_discussion(repo, opened.num, "A new title")
    owner.api.change_discussion_status(repo, opened.num, "closed")

    with browser_client(web_hub) as client:
        thread = client.get(opened.url)
        files = client.get(f"{pull.pr_url}/files")
        pr_thread = client.get(pull.pr_url)

    assert opened.url == f"{web_hub.url}/{repo}/discussions/{opened.num}"
    assert thread.status_code == 200
    assert "<em>text</em>" in thread.text  # markdown
    assert "<del>Looks **good**</del> to <ins>A new title</ins>" in thread.text
    assert f"<strong>{owner.name}</strong> closed this" in thread.text
    assert 'id="thread-status">closed<' in thread.text
    assert pr_thread.status_code == 200 and "added a commit" in pr_thread.text
    assert files.status_code == 200
    assert '<span class="del">-First words.</span>' in files.text
    assert '<span class="add">+Better words.</span>' in files.text


def test_hostile_titles_and_comments_are_inert(
    web_hub: LiveServer, owner: HubUser, repo: str
) -> None:
    opened = owner.api.create_discussion(repo, title=HOSTILE, description=HOSTILE_COMMENT)
    with browser_client(web_hub) as client:
        pages = [client.get(f"/{repo}/discussions"), client.get(opened.url)]

    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert re.search(r"<[^>]*\bonerror=", page.text) is None  # only as escaped text
        assert "<img src=x" not in page.text
        assert 'href="javascript:' not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_private_repos_discussions_are_404_pages_for_outsiders(
    web_hub: LiveServer, owner: HubUser, as_stranger: httpx.Client
) -> None:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('private')}", private=True).repo_id
    owner.api.upload_file(path_or_fileobj=b"hush", path_in_repo="s.txt", repo_id=repo_id)
    opened = owner.api.create_discussion(repo_id, title="Secret plans", description="hush")
    paths = [
        f"/{repo_id}/discussions",
        f"/{repo_id}/discussions/{opened.num}",
        f"/{repo_id}/discussions/{opened.num}/files",
        f"/{repo_id}/discussions/new",
        f"/{repo_id}/edit/main/s.txt",
        f"/{repo_id}/new/main",
    ]
    pages = [as_stranger.get(p) for p in paths]
    token = csrf_of(as_stranger.get("/settings/tokens"))
    sent = as_stranger.post(
        f"/{repo_id}/discussions/{opened.num}/comment", data={"csrf_token": token, "comment": "hi"}
    )
    with browser_client(web_hub) as anonymous:
        anonymous_list = anonymous.get(paths[0])

    for page in [*pages, sent, anonymous_list]:
        assert page.status_code == 404, page.request.url
        assert "Secret plans" not in page.text and "s.txt" not in page.text


def test_a_non_writer_sees_no_moderation_buttons_and_is_refused_403(
    owner: HubUser, as_stranger: httpx.Client, repo: str
) -> None:
    opened = owner.api.create_discussion(repo, title="Owner's thread", description="Mine")
    pull = owner.api.create_commit(
        repo,
        [CommitOperationAdd("x.txt", b"x\n")],
        commit_message="Owner's change",
        create_pr=True,
    )
    assert pull.pr_num is not None
    here = f"/{repo}/discussions/{opened.num}"
    pr = f"/{repo}/discussions/{pull.pr_num}"
    page = as_stranger.get(here)
    files = as_stranger.get(pr + "/files")
    comment_id = re.findall(r'id="event-(\d+)"', page.text)[0]

    assert page.status_code == 200 and 'id="comment-form"' in page.text
    assert "/hide" not in page.text and 'id="close-button"' not in page.text
    assert 'id="merge-button"' not in files.text
    refusals = [
        post(as_stranger, here, f"{here}/status", status="closed"),
        post(as_stranger, here, f"{here}/title", title="Stolen title"),
        post(as_stranger, here, f"{here}/comment/{comment_id}/hide"),
        post(as_stranger, here, f"{here}/comment/{comment_id}/edit", content="Not mine"),
        post(as_stranger, pr, f"{pr}/merge"),
    ]
    assert [r.status_code for r in refusals] == [403] * 5
    details = owner.api.get_discussion_details(repo, opened.num)
    assert details.status == "open" and details.title == "Owner's thread"
    assert owner.api.get_discussion_details(repo, pull.pr_num).status == "open"


def test_the_author_and_writers_use_the_threads_forms(
    web_hub: LiveServer,
    owner: HubUser,
    stranger: HubUser,
    as_owner: httpx.Client,
    as_stranger: httpx.Client,
    repo: str,
) -> None:
    new = as_stranger.get(f"/{repo}/discussions/new")
    short = post(
        as_stranger,
        f"/{repo}/discussions/new",
        f"/{repo}/discussions/new",
        title="ab",
        description="Words",
    )
    opened = post(
        as_stranger,
        f"/{repo}/discussions/new",
        f"/{repo}/discussions/new",
        title="A question",
        description="Does it *work*?",
    )
    assert new.status_code == 200
    assert short.status_code == 400 and "A title must be 3 to 200" in short.text
    assert 'value="ab"' in short.text  # what was typed is kept
    assert opened.status_code == 303
    here = opened.headers["location"]
    num = int(here.rsplit("/", 1)[1])

    page = as_stranger.get(here)
    own_comment = re.findall(r'id="event-(\d+)"', page.text)[0]
    empty = post(as_stranger, here, f"{here}/comment", comment="   ")
    edited = post(as_stranger, here, f"{here}/comment/{own_comment}/edit", content="Does it *run*?")
    renamed = post(as_stranger, here, f"{here}/title", title="A better question")
    answered = post(as_owner, here, f"{here}/comment", comment="Yes it does")
    closed = post(as_owner, here, f"{here}/status", status="closed")
    page = as_owner.get(here)
    reply = re.findall(r'id="event-(\d+)"', page.text)[-2]
    hidden = post(as_owner, here, f"{here}/comment/{reply}/hide")
    reopened = post(as_stranger, here, f"{here}/status", status="open")

    assert empty.status_code == 400 and "must not be empty" in empty.text
    assert [r.status_code for r in (edited, renamed, answered, closed, hidden, reopened)] == [
        303
    ] * 6
    details = owner.api.get_discussion_details(repo, num)
    assert details.title == "A better question" and details.status == "open"
    comments = [e for e in details.events if e.type == "comment"]
    assert comments[0].content == "Does it *run*?" and comments[0].edited  # type: ignore[attr-defined]
    assert comments[1].hidden  # type: ignore[attr-defined]
    page = as_stranger.get(here)
    assert f"This comment has been hidden by {owner.name}" in page.text
    assert "Yes it does" not in page.text
    assert "<em>run</em>" in page.text and " · edited" in page.text


def test_posts_without_the_csrf_token_are_refused(
    owner: HubUser, as_owner: httpx.Client, repo: str
) -> None:
    opened = owner.api.create_discussion(repo, title="Quiet thread", description="x")
    here = f"/{repo}/discussions/{opened.num}"
    answers = [
        as_owner.post(f"{here}/comment", data={"comment": "forged"}),
        as_owner.post(f"{here}/status", data={"status": "closed", "csrf_token": "0" * 64}),
        as_owner.post(f"/{repo}/discussions/new", data={"title": "Forged", "description": "x"}),
        as_owner.post(
            f"/{repo}/edit/main/README.md", data={"content": "forged", "target": "commit"}
        ),
    ]

    assert [a.status_code for a in answers] == [403] * 4
    details = owner.api.get_discussion_details(repo, opened.num)
    assert details.status == "open" and len(details.events) == 1
    assert readme_of(owner, repo) == README


def test_a_merge_conflict_shows_the_services_message(
    web_hub: LiveServer, owner: HubUser, as_owner: httpx.Client, repo: str
) -> None:
    pulls = [
        owner.api.create_commit(
            repo,
            [CommitOperationAdd("README.md", f"# Card\n\n{words}\n".encode())],
            commit_message=f"Say {words}",
            create_pr=True,
        )
        for words in ("Left words.", "Right words.")
    ]
    first, second = (f"/{repo}/discussions/{p.pr_num}" for p in pulls)
    merged = post(as_owner, first + "/files", f"{first}/merge", comment="Thanks")
    files = as_owner.get(second + "/files")
    conflict = post(as_owner, second + "/files", f"{second}/merge")

    assert merged.status_code == 303 and merged.headers["location"] == first + "/files"
    assert 'id="conflicts"' in files.text and "README.md" in files.text
    assert conflict.status_code == 409
    assert f"Pull request #{pulls[1].pr_num} conflicts with &#39;main&#39; in: README.md" in (
        conflict.text
    )
    assert "Traceback" not in conflict.text
    assert readme_of(owner, repo) == b"# Card\n\nLeft words.\n"


def test_the_editor_commits_or_opens_a_pull_request(
    web_hub: LiveServer,
    owner: HubUser,
    stranger: HubUser,
    as_owner: httpx.Client,
    as_stranger: httpx.Client,
    repo: str,
) -> None:
    file_page = as_owner.get(f"/{repo}/blob/main/README.md")
    card = as_stranger.get(f"/{repo}")
    editor = as_owner.get(f"/{repo}/edit/main/README.md")
    assert f'href="/{repo}/edit/main/README.md"' in file_page.text
    assert 'id="edit-readme"' in card.text  # anyone signed in may open a pull request
    assert "First words." in editor.text
    assert 'id="target-commit"' in editor.text and 'id="target-pr"' in editor.text

    committed = post(
        as_owner,
        f"/{repo}/edit/main/README.md",
        f"/{repo}/edit/main/README.md",
        content="# Card\r\n\r\nOwner words.\r\n",
        summary="",
        target="commit",
        parent=owner.api.list_repo_commits(repo)[0].commit_id,
    )
    assert committed.status_code == 303
    assert committed.headers["location"] == f"/{repo}/blob/main/README.md"
    head = owner.api.list_repo_commits(repo)[0]
    assert head.title == "Update README.md"
    assert readme_of(owner, repo) == b"# Card\n\nOwner words.\n"

    strangers_editor = as_stranger.get(f"/{repo}/edit/main/README.md")
    assert 'id="target-commit"' not in strangers_editor.text
    refused = post(
        as_stranger,
        f"/{repo}/edit/main/README.md",
        f"/{repo}/edit/main/README.md",
        content="x",
        target="commit",
    )
    assert refused.status_code == 403
    proposed = post(
        as_stranger,
        f"/{repo}/new/main",
        f"/{repo}/new/main",
        path="docs/new.md",
        content="A new page\n",
        summary="Add a page",
        target="pr",
    )
    assert proposed.status_code == 303
    num = int(proposed.headers["location"].rsplit("/", 1)[1])
    details = owner.api.get_discussion_details(repo, num)
    assert details.is_pull_request and details.title == "Add a page"
    assert details.author == stranger.name
    assert [f.path for f in owner.api.list_repo_tree(repo, revision=f"refs/pr/{num}")].count(
        "docs"
    ) == 1


def test_a_stale_editor_is_a_conflict_not_an_overwrite(
    owner: HubUser, as_owner: httpx.Client, repo: str
) -> None:
    page = as_owner.get(f"/{repo}/edit/main/README.md")
    parent = re.search(r'name="parent" value="([0-9a-f]+)"', page.text)
    assert parent is not None
    owner.api.upload_file(
        path_or_fileobj=b"# Card\n\nMeanwhile.\n", path_in_repo="README.md", repo_id=repo
    )
    stale = as_owner.post(
        f"/{repo}/edit/main/README.md",
        data={
            "csrf_token": csrf_of(page),
            "content": "Mine",
            "target": "commit",
            "parent": parent.group(1),
        },
    )

    assert stale.status_code in (409, 412)
    assert "changed since you opened this editor" in stale.text and ">Mine</textarea>" in stale.text


def test_binary_lfs_and_large_files_are_refused_clearly(as_owner: httpx.Client, repo: str) -> None:
    answers = {
        path: as_owner.get(f"/{repo}/edit/main/{path}")
        for path in ("latin1.txt", "weights.safetensors", "big.txt")
    }
    missing = as_owner.get(f"/{repo}/edit/main/nothing.txt")
    blob_page = as_owner.get(f"/{repo}/blob/main/latin1.txt")

    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(answers, 400)
    assert "latin1.txt cannot be edited in the browser: it is binary" in answers["latin1.txt"].text
    assert "stored with Git LFS or Xet" in answers["weights.safetensors"].text
    assert "614,400 bytes, more than 524,288" in answers["big.txt"].text
    assert missing.status_code == 404
    assert 'id="edit-file"' not in blob_page.text


def test_anonymous_visitors_are_sent_to_sign_in(web_hub: LiveServer, repo: str) -> None:
    with browser_client(web_hub) as client:
        editor = client.get(f"/{repo}/edit/main/README.md")
        new = client.get(f"/{repo}/discussions/new")
        listing = client.get(f"/{repo}/discussions")

    assert editor.status_code == new.status_code == 303
    assert editor.headers["location"].startswith("/login?next=")
    assert 'id="new-discussion"' not in listing.text and "to start a discussion" in listing.text


def test_thread_rights_and_open_count_of_the_service(
    web_hub: LiveServer, owner: HubUser, stranger: HubUser, repo: str
) -> None:
    hub = web_hub.services
    opened = owner.api.create_discussion(repo, title="Counted", description="x")
    owner.api.create_discussion(repo, title="Closed one", description="x")
    owner.api.change_discussion_status(repo, opened.num + 1, "closed")
    owner_id = hub.auth.authenticate(owner.token)
    stranger_id = hub.auth.authenticate(stranger.token)

    page = hub.discussions.thread_page(owner_id, RepoType.MODEL, repo, opened.num)
    other = hub.discussions.thread_page(stranger_id, RepoType.MODEL, repo, opened.num)
    nobody = hub.discussions.thread_page(ANONYMOUS, RepoType.MODEL, repo, opened.num)
    listing = hub.discussions.listing_page(
        ANONYMOUS, RepoType.MODEL, repo, DiscussionQuery(statuses=frozenset(DiscussionStatus))
    )

    assert page.rights.may_write and page.rights.may_open and page.open_count == 1
    assert other.rights.may_comment and other.rights.may_open and not other.rights.may_write
    assert not (nobody.rights.may_comment or nobody.rights.may_open or nobody.rights.may_write)
    assert listing.open_count == 1 and listing.page.total == 2
    assert {d.title: d.comments for d in listing.page.discussions} == {
        "Counted": 1,
        "Closed one": 1,
    }
    editor = hub.browse.editor(stranger_id, RepoType.MODEL, repo, "main", "README.md")
    assert editor.text == README.decode() and not editor.crlf
    assert editor.rights.may_open and not editor.rights.may_write
    assert editor.commit_id == owner.api.list_repo_commits(repo)[0].commit_id
    with pytest.raises(errors.AuthorizationError):
        hub.browse.editor(ANONYMOUS, RepoType.MODEL, repo, "main", None)


def test_dataset_threads_live_under_their_prefix(
    web_hub: LiveServer, owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = owner.api.create_repo(
        f"{owner.name}/{unique_name('data')}", repo_type="dataset"
    ).repo_id
    opened = owner.api.create_discussion(
        repo_id, title="Data question", description="Rows?", repo_type="dataset"
    )
    page = as_owner.get(opened.url)
    model_path = as_owner.get(f"/{repo_id}/discussions/{opened.num}")

    assert opened.url == f"{web_hub.url}/datasets/{repo_id}/discussions/{opened.num}"
    assert page.status_code == 200 and "Data question" in page.text
    assert f'action="/datasets/{repo_id}/discussions/{opened.num}/comment"' in page.text
    assert model_path.status_code == 404


def test_a_pull_requests_author_edits_its_files_on_its_ref(
    owner: HubUser, stranger: HubUser, as_stranger: httpx.Client, repo: str
) -> None:
    pull = stranger.api.create_commit(
        repo,
        [CommitOperationAdd("README.md", b"# Card\n\nDraft words.\n")],
        commit_message="Draft",
        create_pr=True,
    )
    ref = f"refs%2Fpr%2F{pull.pr_num}"
    file_page = as_stranger.get(f"/{repo}/blob/{ref}/README.md")
    editor_path = f"/{repo}/edit/{ref}/README.md"
    editor = as_stranger.get(editor_path)
    sent = post(
        as_stranger, editor_path, editor_path, content="# Card\n\nFinal words.\n", target="commit"
    )

    assert f'href="{editor_path}"' in file_page.text
    assert "Draft words." in editor.text and 'id="target-pr"' not in editor.text
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/{repo}/discussions/{pull.pr_num}"  # back to it
    details = owner.api.get_discussion_details(repo, pull.pr_num or 0)
    assert [e.type for e in details.events].count("commit") == 2
    assert readme_of(owner, repo) == README  # main is untouched until a merge


def test_a_draft_is_set_ready_then_merged_and_still_shows_its_changes(
    owner: HubUser, as_owner: httpx.Client, repo: str
) -> None:
    draft = owner.api.create_pull_request(repo, title="Draft work", description="Soon")
    owner.api.create_commit(
        repo,
        [CommitOperationAdd("README.md", b"# Card\n\nDrafted words.\n")],
        commit_message="Draft words",
        revision=f"refs/pr/{draft.num}",
    )
    here = f"/{repo}/discussions/{draft.num}"
    page = as_owner.get(here)
    early = post(as_owner, here + "/files", f"{here}/merge")
    ready = post(as_owner, here, f"{here}/status", status="open")
    merged = post(as_owner, here + "/files", f"{here}/merge")
    files = as_owner.get(here + "/files")

    assert 'id="thread-status">draft<' in page.text and 'id="ready-button"' in page.text
    assert early.status_code == 400 and "is a draft" in early.text
    assert ready.status_code == merged.status_code == 303
    assert 'id="thread-status">merged<' in files.text and "Merged as" in files.text
    assert '<span class="add">+Drafted words.</span>' in files.text
    assert readme_of(owner, repo) == b"# Card\n\nDrafted words.\n"


def test_the_add_file_menu_offers_a_new_file_in_the_folder(
    web_hub: LiveServer, as_owner: httpx.Client, as_stranger: httpx.Client, repo: str
) -> None:
    repo_page = as_stranger.get(f"/{repo}")
    editor = as_owner.get(f"/{repo}/new/main", params={"path": "configs/"})
    with browser_client(web_hub) as anonymous:
        anonymous_page = anonymous.get(f"/{repo}")

    assert f'href="/{repo}/new/main" id="new-file-link"' in repo_page.text
    assert 'id="upload-link"' not in repo_page.text  # uploads are for writers
    assert 'id="file-path" name="path" value="configs/"' in editor.text
    assert 'id="new-file-link"' not in anonymous_page.text


def test_lfs_changes_in_a_pull_request_show_as_size_and_sha_changes(
    owner: HubUser, as_owner: httpx.Client, repo: str
) -> None:
    pull = owner.api.create_commit(
        repo,
        [CommitOperationAdd("weights.safetensors", b"\x03" * 5000)],
        commit_message="New weights",
        create_pr=True,
    )
    files = as_owner.get(f"/{repo}/discussions/{pull.pr_num}/files")

    assert files.status_code == 200
    assert "4.0 kB" in files.text and "5.0 kB" in files.text
    assert "oid sha256:" not in files.text


def test_an_attachment_embedded_in_a_comment_renders_as_an_image_and_other_schemes_do_not(
    web_hub: LiveServer, owner: HubUser, repo: str, tmp_path: Path
) -> None:
    image = tmp_path / "shot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"pixels")
    url = owner.api.upload_attachment(image)
    description = f"![shot]({url})\n\n![x](javascript:alert(1))\n\n![y](vbscript:msgbox)\n"
    opened = owner.api.create_discussion(repo, title="Rendering bug", description=description)

    with browser_client(web_hub) as client:
        thread = client.get(opened.url)
        served = client.get(url)

    assert f'<img src="{url}" alt="shot"' in thread.text
    assert "img-src 'self'" in thread.headers["content-security-policy"]
    assert re.search(r'src="(javascript|vbscript):', thread.text) is None
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
