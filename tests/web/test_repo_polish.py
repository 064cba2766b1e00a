"""Repo pages' loose ends over HTTP: mirrors, the Community count, the editor's new files and
tags, upload spooling, listing filters, profile caps, the admin orgs' links, the switcher."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO

import httpx
import pytest
from huggingface_hub import CommitOperationAdd

from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, sync
from tests.web.conftest import PASSWORD, csrf_of, set_password, signed_in_client

HOSTILE = '"><script>alert(1)</script>'
OPEN_THREADS = re.compile(r'id="open-threads"[^>]*>(\d+)</span>')


@pytest.fixture(scope="module")
def owner(web_hub: LiveServer) -> HubUser:
    user = make_user(web_hub, "polish")
    set_password(web_hub, user.name, PASSWORD)
    return user


@pytest.fixture
def as_owner(web_hub: LiveServer, owner: HubUser) -> Iterator[httpx.Client]:
    with signed_in_client(web_hub, owner.name, PASSWORD) as client:
        yield client


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    """A second live hub the web hub mirrors from."""
    with hub(tmp_path_factory.mktemp("polish-upstream"), database_url is not None) as server:
        yield server


def new_repo(owner: HubUser, **files: bytes) -> str:
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('polish')}").repo_id
    operations = [CommitOperationAdd(path, data) for path, data in files.items()]
    owner.api.create_commit(repo_id, operations or [], commit_message="Start")
    return repo_id


def test_a_mirror_offers_no_writes_names_its_upstream_and_keeps_its_settings(
    web_hub: LiveServer, upstream: LiveServer
) -> None:
    up = make_user(upstream, "up")
    repo_id = up.api.create_repo(f"{up.name}/{unique_name('mirrored')}").repo_id
    up.api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="data/a.txt", repo_id=repo_id)
    add_mirror(web_hub, repo_id, upstream.url)
    assert sync(web_hub, repo_id).error is None
    admin = make_user(web_hub, "siteadmin", admin=True)
    set_password(web_hub, admin.name, PASSWORD)

    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        repo = client.get(f"/{repo_id}")
        folder = client.get(f"/{repo_id}/tree/main/data")
        file = client.get(f"/{repo_id}/blob/main/data/a.txt")
        editor = client.get(f"/{repo_id}/edit/main/data/a.txt")
        upload = client.get(f"/{repo_id}/upload/main")
        settings = client.get(f"/{repo_id}/settings")
        private = client.post(
            f"/{repo_id}/settings/visibility",
            data={"csrf_token": csrf_of(settings), "visibility": "private"},
        )
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as anonymous:
        hidden = anonymous.get(f"/{repo_id}")

    mirror_of = f'id="mirror-of">Mirror of <a href="{upstream.url}/{repo_id}"'
    for page in (repo, folder, file):
        assert page.status_code == 200 and mirror_of in page.text, page.request.url
        assert 'id="add-file"' not in page.text and 'id="upload-link"' not in page.text
        assert 'id="edit-file"' not in page.text and 'id="edit-readme"' not in page.text
    assert 'id="settings-tab"' in repo.text and 'id="settings-tab"' in folder.text
    assert editor.status_code == 403 and upload.status_code == 403
    assert "mirror of" in upload.text
    assert settings.status_code == 200 and mirror_of in settings.text
    assert private.status_code == 303 and hidden.status_code == 404


def test_the_community_count_is_on_every_repo_page(owner: HubUser, as_owner: httpx.Client) -> None:
    repo_id = new_repo(owner, **{"a.txt": b"a\n"})
    owner.api.create_discussion(repo_id, title="One")
    owner.api.create_discussion(repo_id, title="Two")
    closed = owner.api.create_discussion(repo_id, title="Three")
    owner.api.change_discussion_status(repo_id, closed.num, "closed")
    commit = owner.api.list_repo_commits(repo_id)[0].commit_id
    paths = [
        f"/{repo_id}",
        f"/{repo_id}/tree/main",
        f"/{repo_id}/blob/main/a.txt",
        f"/{repo_id}/commits/main",
        f"/{repo_id}/commit/{commit}",
        f"/{repo_id}/edit/main/a.txt",
        f"/{repo_id}/new/main",
        f"/{repo_id}/settings",
        f"/{repo_id}/upload/main",
        f"/{repo_id}/discussions",
    ]
    for path in paths:
        page = as_owner.get(path)
        assert page.status_code == 200, path
        assert OPEN_THREADS.findall(page.text) == ["2"], path


def test_a_new_file_never_overwrites_one_at_its_path(
    owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = new_repo(owner, **{"docs/a.md": b"keep me\n"})
    form = as_owner.get(f"/{repo_id}/new/main")
    fields = {"csrf_token": csrf_of(form), "content": "overwritten", "target": "commit"}

    taken = as_owner.post(f"/{repo_id}/new/main", data={**fields, "path": "docs/a.md"})
    folder = as_owner.post(f"/{repo_id}/new/main", data={**fields, "path": "docs"})
    fresh = as_owner.post(f"/{repo_id}/new/main", data={**fields, "path": "docs/b.md"})

    assert taken.status_code == 409
    assert "A file already exists at docs/a.md; edit it instead" in taken.text
    assert f'href="/{repo_id}/edit/main/docs/a.md" id="edit-existing"' in taken.text
    assert "overwritten" in taken.text  # what was typed is kept
    assert folder.status_code == 409 and "A folder already exists at docs;" in folder.text
    assert fresh.status_code == 303
    assert as_owner.get(f"/{repo_id}/resolve/main/docs/a.md").content == b"keep me\n"


def test_an_edit_at_a_tag_or_a_commit_opens_a_pull_request_into_main(
    owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = new_repo(owner, **{"a.txt": b"one\n"})
    owner.api.create_tag(repo_id, tag="v1")
    first = owner.api.list_repo_commits(repo_id)[0].commit_id
    owner.api.upload_file(path_or_fileobj=b"two\n", path_in_repo="b.txt", repo_id=repo_id)

    for revision in ("v1", first):
        editor = as_owner.get(f"/{repo_id}/edit/{revision}/a.txt")
        assert editor.status_code == 200 and 'id="pr-only"' in editor.text
        assert 'id="target-commit"' not in editor.text
        sent = as_owner.post(
            f"/{repo_id}/edit/{revision}/a.txt",
            data={
                "csrf_token": csrf_of(editor),
                "parent": first,
                "content": f"edited at {revision}\n",
                "target": "commit",  # forged: only a pull request can hold it
            },
        )
        assert sent.status_code == 303
        num = int(sent.headers["location"].rsplit("/", 1)[1])
        assert sent.headers["location"] == f"/{repo_id}/discussions/{num}"
        pr = owner.api.get_discussion_details(repo_id, num)
        assert pr.is_pull_request and pr.target_branch == "refs/heads/main"
        changed = as_owner.get(f"/{repo_id}/resolve/refs%2Fpr%2F{num}/a.txt")
        assert changed.content == f"edited at {revision}\n".encode()
    main = {f.rfilename for f in owner.api.model_info(repo_id, files_metadata=False).siblings or []}
    assert "b.txt" in main
    new_at_tag = as_owner.get(f"/{repo_id}/new/v1")
    assert new_at_tag.status_code == 200 and 'id="pr-only"' in new_at_tag.text


def test_uploads_are_offered_on_branches_and_pull_requests_not_at_a_tag(
    owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = new_repo(owner, **{"a.txt": b"one\n"})
    owner.api.create_tag(repo_id, tag="v1")
    owner.api.create_branch(repo_id, branch="dev")
    pr = owner.api.create_pull_request(repo_id, title="A proposal")

    pages = {
        revision: as_owner.get(f"/{repo_id}/tree/{revision}").text
        for revision in ("main", "dev", f"refs%2Fpr%2F{pr.num}", "v1")
    }

    assert ['id="upload-link"' in page for page in pages.values()] == [True, True, True, False]
    assert all('id="new-file-link"' in page for page in pages.values())


def test_browser_uploads_spool_to_the_hubs_data_dir(
    web_hub: LiveServer, owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = new_repo(owner, **{"a.txt": b"a\n"})
    spool = web_hub.services.uploads.spool
    where: list[str] = []

    def recording() -> BinaryIO:
        file = spool()
        where.append(os.readlink(f"/proc/self/fd/{file.fileno()}"))
        return file

    form = as_owner.get(f"/{repo_id}/upload/main")
    web_hub.services.uploads.spool = recording
    try:
        sent = as_owner.post(
            f"/{repo_id}/upload/main",
            data={"csrf_token": csrf_of(form)},
            files=[
                ("files", ("one.txt", b"one\n", "text/plain")),
                ("files", ("two.bin", os.urandom(2 * 1024 * 1024), "application/octet-stream")),
            ],
        )
    finally:
        web_hub.services.uploads.spool = spool

    assert sent.status_code == 303
    assert len(where) == 2
    data_dir = str(web_hub.data_dir.resolve())
    assert all(path.startswith(data_dir) for path in where), where
    files = {e.path for e in owner.api.list_repo_tree(repo_id)}
    assert {"one.txt", "two.bin"} <= files


def test_listings_filter_by_author_library_task_tags_and_license_with_removable_chips(
    web_hub: LiveServer, owner: HubUser
) -> None:
    tag = unique_name("tag").lower()
    card = (
        f"---\nlicense: mit\nlibrary_name: polishlib\npipeline_tag: fill-mask\n"
        f"tags:\n- {tag}\n---\n# card\n"
    ).encode()
    matching = new_repo(owner, **{"README.md": card})
    other = new_repo(owner, **{"README.md": f"---\ntags:\n- {tag}\n---\n".encode()})
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as client:
        by_tag = client.get("/models", params={"other": tag})
        all_filters = client.get(
            "/models",
            params={
                "other": tag,
                "library": "polishlib",
                "pipeline_tag": "fill-mask",
                "license": "license:mit",
                "author": owner.name,
                "sort": "name",
            },
        )
        by_filter = client.get("/models", params={"filter": tag, "license": "apache-2.0"})
        stranger = client.get("/models", params={"other": tag, "author": "nobody-here"})
        hostile = client.get("/models", params={"other": HOSTILE})
        repo_page = client.get(f"/{matching}")

    assert matching in by_tag.text and other in by_tag.text
    assert matching in all_filters.text and other not in all_filters.text
    assert matching not in by_filter.text and other not in by_filter.text
    assert matching not in stranger.text
    chips = re.findall(r'<li class="chip" data-filter="([a-z_]+)">', all_filters.text)
    assert chips == ["author", "library", "pipeline_tag", "license", "other"]
    # Each chip's link drops only its own filter and keeps the sort.
    removals = re.findall(r'<a href="([^"]+)" class="remove-filter"', all_filters.text)
    library_removed = httpx.URL(removals[1].replace("&amp;", "&"))
    assert library_removed.params.get("library") is None
    assert library_removed.params.get("other") == tag
    assert library_removed.params.get("sort") == "name"
    assert library_removed.params.get("license") == "mit"
    # The sort form carries the filters along.
    assert f'<input type="hidden" name="other" value="{tag}">' in all_filters.text
    assert f'<input type="hidden" name="author" value="{owner.name}">' in all_filters.text
    assert "<script>alert(1)" not in hostile.text and "&lt;script&gt;" in hostile.text
    assert f'<a href="/models?other={tag}">{tag}</a>' in repo_page.text
    assert '<a href="/models?library=polishlib">polishlib</a>' in repo_page.text


def test_a_listing_keeps_its_filters_across_pages(web_hub: LiveServer, owner: HubUser) -> None:
    tag = unique_name("paged").lower()
    card = f"---\ntags:\n- {tag}\n---\n".encode()
    for _ in range(31):
        new_repo(owner, **{"README.md": card})
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as client:
        first = client.get("/models", params={"other": tag, "sort": "name"})
        following = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert following is not None
        second = client.get(following.group(1).replace("&amp;", "&"))

    assert second.status_code == 200
    assert len(re.findall(r'class="repo-name"', second.text)) == 1
    assert f'<input type="hidden" name="other" value="{tag}">' in second.text


def test_a_profile_caps_each_repo_list_and_links_to_the_listing(
    web_hub: LiveServer,
) -> None:
    busy = make_user(web_hub, "busy")
    for _ in range(13):
        busy.api.create_repo(f"{busy.name}/{unique_name('m')}")
    busy.api.create_repo(f"{busy.name}/{unique_name('d')}", repo_type="dataset")
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as client:
        profile = client.get(f"/{busy.name}")
        listed = client.get("/models", params={"author": busy.name})

    models = profile.text.partition('id="repos-model"')[2].partition("</section>")[0]
    assert len(re.findall(r'class="repo-name"', models)) == 12
    assert f'href="/models?author={busy.name}&amp;sort=modified" id="all-models"' in profile.text
    assert "See all 13 models" in profile.text
    assert 'id="all-datasets"' not in profile.text
    assert len(re.findall(r'class="repo-name"', listed.text)) == 13


def test_admin_orgs_link_to_their_members_page(web_hub: LiveServer) -> None:
    admin = make_user(web_hub, "orgsadmin", admin=True)
    set_password(web_hub, admin.name, PASSWORD)
    org = unique_name("org")
    web_hub.services.auth.create_org(org, fullname="Org", members={})
    with signed_in_client(web_hub, admin.name, PASSWORD) as client:
        orgs = client.get("/-/admin/orgs", params={"search": org})
        members = client.get(f"/organizations/{org}/settings/members")

    assert f'href="/organizations/{org}/settings/members" class="org-members-link"' in orgs.text
    assert members.status_code == 200


def test_the_switcher_lists_pull_requests_and_files_have_download_links(
    owner: HubUser, as_owner: httpx.Client
) -> None:
    repo_id = new_repo(owner, **{"data/a.txt": b"a\n"})
    pr = owner.api.create_pull_request(repo_id, title="Proposal")
    folder = as_owner.get(f"/{repo_id}/tree/main/data")

    assert f'href="/{repo_id}/tree/refs%2Fpr%2F{pr.num}" data-ref="refs/pr/{pr.num}"' in (
        folder.text
    )
    resolve = f"/{repo_id}/resolve/main/data/a.txt?download=true"
    assert f'class="download" href="{resolve}"' in folder.text
    assert as_owner.get(resolve).content == b"a\n"
