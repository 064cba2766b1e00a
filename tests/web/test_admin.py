"""Admin pages over HTTP: only site admins see them; users, orgs, mirrors and jobs through them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import httpx
import pytest
from huggingface_hub import HfApi

from hubstead.protocol import RepoType
from hubstead.server import errors
from hubstead.server.domain.accounts import Role
from hubstead.server.domain.jobs import JobState
from hubstead.server.web.render import filesize
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.mirrors import add_mirror, hub, runner
from tests.web.conftest import PASSWORD, csrf_of, set_password, signed_in_client

HOSTILE = '"><script>alert(1)</script>'
PAGES = ["/-/admin", "/-/admin/users", "/-/admin/orgs", "/-/admin/mirrors", "/-/admin/jobs"]


@pytest.fixture(scope="module")
def site_admin(web_hub: LiveServer) -> HubUser:
    user = make_user(web_hub, "siteadmin", admin=True)
    set_password(web_hub, user.name, PASSWORD)
    return user


@pytest.fixture
def admin_client(web_hub: LiveServer, site_admin: HubUser) -> Iterator[httpx.Client]:
    with signed_in_client(web_hub, site_admin.name, PASSWORD) as client:
        yield client


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[LiveServer]:
    """A second live hub that mirrors on the web hub copy from."""
    with hub(tmp_path_factory.mktemp("admin-upstream"), database_url is not None) as server:
        yield server


def test_the_admin_user_keeps_its_profile_and_repos_beside_the_admin_pages(
    web_hub: LiveServer, admin_client: httpx.Client
) -> None:
    """The bootstrap user is called `admin`: its pages are its own, the admin pages are `/-/`."""
    with contextlib.suppress(errors.ConflictError):
        web_hub.services.auth.create_user("admin", fullname="Administrator", is_admin=True)
    token = web_hub.services.auth.create_token("admin", Role.WRITE).secret
    HfApi(endpoint=web_hub.url, token=token).create_repo("admin/users", exist_ok=True)

    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as client:
        profile = client.get("/admin")
        repo = client.get("/admin/users")
    overview = admin_client.get("/-/admin")

    assert profile.status_code == 200 and 'id="profile-name"' in profile.text
    assert repo.status_code == 200 and 'id="repo-name"' in repo.text
    assert overview.status_code == 200 and 'href="/-/admin/users"' in overview.text


def test_admin_pages_do_not_exist_for_anonymous_visitors_and_other_users(
    web_hub: LiveServer, web_user: tuple[HubUser, str]
) -> None:
    user, password = web_user
    with httpx.Client(base_url=web_hub.url, headers={"accept": "text/html"}) as anonymous:
        for path in [*PAGES, "/-/admin/jobs/1", "/-/admin/jobs/1/progress"]:
            answer = anonymous.get(path)
            assert answer.status_code == 404, path
            assert "Not found" in answer.text
    with signed_in_client(web_hub, user.name, password) as client:
        home = client.get("/")
        assert 'id="admin-link"' not in home.text
        for path in [*PAGES, "/-/admin/jobs/1", "/-/admin/jobs/1/progress"]:
            assert client.get(path).status_code == 404, path
        token = csrf_of(home)
        refused = client.post(
            "/-/admin/users",
            data={"csrf_token": token, "name": unique_name("sneaky"), "password": "x" * 12},
        )
        assert refused.status_code == 404
    # A regular user's token is no key either.
    bearer = {"authorization": f"Bearer {user.token}", "accept": "text/html"}
    assert httpx.get(f"{web_hub.url}/-/admin", headers=bearer).status_code == 404


def test_overview_counts_accounts_repos_and_storage(
    web_hub: LiveServer, admin_client: httpx.Client, site_admin: HubUser
) -> None:
    repo_id = site_admin.api.create_repo(f"{site_admin.name}/{unique_name('big')}").repo_id
    site_admin.api.upload_file(
        path_or_fileobj=os.urandom(300_000), path_in_repo="weights.bin", repo_id=repo_id
    )

    page = admin_client.get("/-/admin")

    assert page.status_code == 200
    assert 'id="admin-link"' in page.text
    assert 'id="count-users"' in page.text and 'id="count-models"' in page.text
    report = web_hub.services.upkeep.storage_report(10)
    assert report.blob_bytes >= 300_000
    assert f'<dd id="blob-bytes">{_size(report.blob_bytes)} in {report.blob_count}' in page.text
    largest = page.text.split('id="largest"', 1)[1]
    assert repo_id in largest


def _size(size: int) -> str:
    return filesize(size)


def test_create_a_user_who_can_then_sign_in(
    web_hub: LiveServer, admin_client: httpx.Client
) -> None:
    name = unique_name("made")
    page = admin_client.get("/-/admin/users")
    token = csrf_of(page)

    created = admin_client.post(
        "/-/admin/users",
        data={
            "csrf_token": token,
            "name": name,
            "fullname": "Made By Admin",
            "email": f"{name}@example.org",
            "password": "a new password",
        },
    )

    assert created.status_code == 303
    listed = admin_client.get(created.headers["location"])
    assert f"The user <strong>{name}</strong> was created" in listed.text
    found = admin_client.get("/-/admin/users", params={"search": name})
    assert f'data-user="{name}"' in found.text and f"{name}@example.org" in found.text
    account = web_hub.services.auth.get_account(name)
    assert account.email == f"{name}@example.org" and not account.is_admin
    with signed_in_client(web_hub, name, "a new password") as client:
        assert f'id="signed-in-as" href="/{name}">{name}<' in client.get("/").text


def test_user_form_errors_are_shown_and_nothing_is_created(
    web_hub: LiveServer, admin_client: httpx.Client, site_admin: HubUser
) -> None:
    token = csrf_of(admin_client.get("/-/admin/users"))
    short = unique_name("short")
    too_short = admin_client.post(
        "/-/admin/users", data={"csrf_token": token, "name": short, "password": "short"}
    )
    taken = admin_client.post(
        "/-/admin/users",
        data={"csrf_token": token, "name": site_admin.name, "password": "long enough"},
    )
    hostile = admin_client.post(
        "/-/admin/users", data={"csrf_token": token, "name": HOSTILE, "password": "long enough"}
    )
    no_token = admin_client.post(
        "/-/admin/users", data={"name": unique_name("forged"), "password": "long enough"}
    )

    assert too_short.status_code == 400 and "at least 8 characters" in too_short.text
    assert f'value="{short}"' in too_short.text
    assert taken.status_code == 409 and 'id="user-error"' in taken.text
    assert hostile.status_code == 400
    assert "<script>alert(1)" not in hostile.text and "&lt;script&gt;" in hostile.text
    assert no_token.status_code == 403
    assert (
        admin_client.get("/-/admin/users", params={"search": short}).text.count("data-user=") == 0
    )


def test_admin_user_creation_sets_the_admin_flag(
    web_hub: LiveServer, admin_client: httpx.Client
) -> None:
    name = unique_name("boss")
    token = csrf_of(admin_client.get("/-/admin/users"))
    admin_client.post(
        "/-/admin/users",
        data={"csrf_token": token, "name": name, "password": "long enough", "is_admin": "on"},
    )
    assert web_hub.services.auth.get_account(name).is_admin
    with signed_in_client(web_hub, name, "long enough") as client:
        assert client.get("/-/admin").status_code == 200


def test_users_are_paginated(web_hub: LiveServer, admin_client: httpx.Client) -> None:
    prefix = unique_name("many")
    for number in range(52):
        web_hub.services.auth.create_user(f"{prefix}-{number:02d}", is_admin=False)

    first = admin_client.get("/-/admin/users", params={"search": prefix})
    second = admin_client.get("/-/admin/users", params={"search": prefix, "p": 2})

    assert first.text.count("data-user=") == 50 and 'rel="next"' in first.text
    assert second.text.count("data-user=") == 2 and 'rel="prev"' in second.text
    assert f"{prefix}-51" in second.text


def test_create_an_org_with_its_first_admin(
    web_hub: LiveServer, admin_client: httpx.Client
) -> None:
    member = make_user(web_hub, "member")
    name = unique_name("org")
    token = csrf_of(admin_client.get("/-/admin/orgs"))

    created = admin_client.post(
        "/-/admin/orgs", data={"csrf_token": token, "name": name, "admin": member.name}
    )
    unknown = admin_client.post(
        "/-/admin/orgs",
        data={"csrf_token": token, "name": unique_name("org"), "admin": "nobody-" + name},
    )

    assert created.status_code == 303
    listed = admin_client.get("/-/admin/orgs", params={"search": name})
    assert f'data-org="{name}"' in listed.text and f"{member.name} (admin)" in listed.text
    assert (
        web_hub.services.auth.memberships(web_hub.services.auth.get_account(name))[0].role
        is Role.ADMIN
    )
    # The new org admin may create repos in it.
    assert member.api.create_repo(f"{name}/first").repo_id == f"{name}/first"
    assert unknown.status_code == 400 and "No user named" in unknown.text


def test_sync_now_queues_a_real_sync_whose_job_page_shows_it_done(
    web_hub: LiveServer, upstream: LiveServer, admin_client: httpx.Client
) -> None:
    owner = make_user(upstream, "owner")
    repo_id = owner.api.create_repo(f"{owner.name}/{unique_name('up')}").repo_id
    owner.api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="a.txt", repo_id=repo_id)
    add_mirror(web_hub, repo_id, upstream.url)

    mirrors = admin_client.get("/-/admin/mirrors")
    assert f'data-mirror="{repo_id}"' in mirrors.text and upstream.url in mirrors.text
    synced = admin_client.post(
        "/-/admin/mirrors/sync",
        data={"csrf_token": csrf_of(mirrors), "type": "model", "repo_id": repo_id},
    )

    assert synced.status_code == 303
    job_path = synced.headers["location"]
    job_id = int(job_path.rsplit("/", 1)[1])
    queued = admin_client.get(job_path)
    assert '<span id="job-state" role="status">queued</span>' in queued.text
    assert 'id="cancel-job-button"' in queued.text
    assert admin_client.get(job_path + "/progress").json()["state"] == "queued"

    ran = runner(web_hub).run_job(job_id)
    assert ran is not None and ran.state is JobState.SUCCEEDED

    done = admin_client.get(job_path)
    assert '<span id="job-state" role="status">succeeded</span>' in done.text
    assert 'id="cancel-job-button"' not in done.text
    for line in ran.log_tail:
        assert line.split(" ", 2)[2][:20] in done.text
    progress = admin_client.get(job_path + "/progress").json()
    assert progress["state"] == "succeeded" and progress["logTail"] == list(ran.log_tail)
    assert f"/-/admin/jobs/{job_id}" in admin_client.get("/-/admin/mirrors").text
    listed = admin_client.get("/-/admin/jobs", params={"state": "succeeded"})
    assert f'data-job="{job_id}"' in listed.text
    assert web_hub.services.mirrors.get(RepoType.MODEL, repo_id).synced_at is not None


def test_cancel_a_queued_job(web_hub: LiveServer, admin_client: httpx.Client) -> None:
    job = web_hub.services.jobs.enqueue("test.wait", {}, delay=3600)
    page = admin_client.get(f"/-/admin/jobs/{job.id}")

    no_token = admin_client.post(f"/-/admin/jobs/{job.id}/cancel", data={"confirm": "1"})
    cancelled = admin_client.post(
        f"/-/admin/jobs/{job.id}/cancel", data={"csrf_token": csrf_of(page)}
    )

    assert no_token.status_code == 403
    assert cancelled.status_code == 303
    assert web_hub.services.jobs.get(job.id).state is JobState.CANCELLED
    assert "cancelled" in admin_client.get(f"/-/admin/jobs/{job.id}").text
    assert admin_client.get("/-/admin/jobs/99999999").status_code == 404
    assert admin_client.get("/-/admin/jobs", params={"state": "bogus"}).status_code == 400


def test_a_site_admin_with_a_read_token_may_look_but_not_change(
    web_hub: LiveServer, site_admin: HubUser
) -> None:
    secret = web_hub.services.auth.create_token(site_admin.name, Role.READ).secret
    headers = {"authorization": f"Bearer {secret}", "accept": "text/html"}
    with httpx.Client(base_url=web_hub.url, headers=headers) as client:
        page = client.get("/-/admin/users")
        refused = client.post(
            "/-/admin/users",
            data={"csrf_token": csrf_of(page), "name": unique_name("ro"), "password": "x" * 12},
        )

    assert page.status_code == 200
    assert refused.status_code == 403 and "read role only" in refused.text
