"""The jobs admin API (`/api/admin/jobs`) over HTTP: site administrators only.

The jobs are queued on the live server with a kind of the test's own and a delay, so that no
runner takes them; a test that needs a running or finished job claims it by id.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from hubstead.server.domain.accounts import Role
from hubstead.server.domain.jobs import JobProgress, JobRecord, JobState
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.live_server import LiveServer

LATER = 3600


@pytest.fixture
def admin(live_server: LiveServer) -> HubUser:
    return make_user(live_server, "admin", admin=True)


@pytest.fixture
def kind(live_server: LiveServer) -> Iterator[str]:
    """A job kind of the test's own; its jobs still queued are cancelled afterwards."""
    name = f"test.{unique_name('admin').replace('-', '_')}"
    yield name
    for job in live_server.services.jobs.list(states=[JobState.QUEUED], kind=name):
        live_server.services.jobs.cancel(job.id)


def get(
    server: LiveServer, path: str, token: str | None = None, **params: object
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server.url + path, headers=headers, params=params)  # type: ignore[arg-type]


def post(server: LiveServer, path: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(server.url + path, headers=headers)


def queue(server: LiveServer, kind: str, **payload: object) -> JobRecord:
    return server.services.jobs.enqueue(kind, payload, delay=LATER)


def running(server: LiveServer, kind: str, **payload: object) -> tuple[JobRecord, str]:
    """A job taken by a worker (the test); returns it with its lease owner.

    It is due at once but claimed by id straight away: the live server runs no jobs itself.
    """
    job = server.services.jobs.enqueue(kind, payload)
    owner = unique_name("worker")
    claimed = server.services.jobs.claim(owner, lease=60, job_id=job.id)
    assert claimed is not None
    return claimed, owner


def test_admins_list_jobs_newest_first_filtered_by_kind_and_state(
    live_server: LiveServer, admin: HubUser, kind: str
) -> None:
    first = queue(live_server, kind, n=1)
    second = queue(live_server, kind, n=2)
    live_server.services.jobs.cancel(first.id)

    listed = get(live_server, "/api/admin/jobs", admin.token, kind=kind)
    queued = get(live_server, "/api/admin/jobs", admin.token, kind=kind, state="queued")
    both = httpx.get(
        f"{live_server.url}/api/admin/jobs?kind={kind}&state=queued&state=cancelled",
        headers={"authorization": f"Bearer {admin.token}"},
    )

    assert listed.status_code == 200
    assert [(j["id"], j["state"]) for j in listed.json()] == [
        (second.id, "queued"),
        (first.id, "cancelled"),
    ]
    assert [j["id"] for j in queued.json()] == [second.id]
    assert [j["id"] for j in both.json()] == [second.id, first.id]


def test_the_job_list_is_paginated_with_link_headers(
    live_server: LiveServer, admin: HubUser, kind: str
) -> None:
    ids = [queue(live_server, kind, n=n).id for n in range(5)]

    seen: list[int] = []
    url: str | None = f"{live_server.url}/api/admin/jobs?kind={kind}&limit=2"
    pages = 0
    while url is not None:
        page = httpx.get(url, headers={"authorization": f"Bearer {admin.token}"})
        assert page.status_code == 200
        seen += [j["id"] for j in page.json()]
        url = page.links.get("next", {}).get("url")
        pages += 1

    assert pages == 3
    assert seen == sorted(ids, reverse=True)


def test_a_job_shows_its_state_progress_attempts_and_log(
    live_server: LiveServer, admin: HubUser, kind: str
) -> None:
    job, owner = running(live_server, kind, repo="org/model")
    progress = JobProgress(files_done=1, files_total=4, bytes_done=10, bytes_total=40)
    live_server.services.jobs.renew(job.id, owner, progress=progress, log_lines=["fetching"])

    shown = get(live_server, f"/api/admin/jobs/{job.id}", admin.token)
    live_server.services.jobs.finish(job.id, owner, JobState.FAILED, error="upstream said no")
    finished = get(live_server, f"/api/admin/jobs/{job.id}", admin.token).json()

    assert shown.status_code == 200
    body = shown.json()
    assert {k: body[k] for k in ("id", "kind", "key", "payload", "state", "attempts")} == {
        "id": job.id,
        "kind": kind,
        "key": None,
        "payload": {"repo": "org/model"},
        "state": "running",
        "attempts": 1,
    }
    assert body["maxAttempts"] == 5
    assert body["progress"] == {"filesDone": 1, "filesTotal": 4, "bytesDone": 10, "bytesTotal": 40}
    assert body["logTail"][-1].endswith(" fetching")
    assert body["startedAt"].endswith("Z") and body["finishedAt"] is None
    assert (finished["state"], finished["error"]) == ("failed", "upstream said no")
    assert finished["finishedAt"] is not None


def test_cancelling_over_http_ends_a_queued_job_and_flags_a_running_one(
    live_server: LiveServer, admin: HubUser, kind: str
) -> None:
    queued = queue(live_server, kind)
    taken, owner = running(live_server, kind)

    first = post(live_server, f"/api/admin/jobs/{queued.id}/cancel", admin.token)
    second = post(live_server, f"/api/admin/jobs/{taken.id}/cancel", admin.token)
    live_server.services.jobs.finish(taken.id, owner, JobState.CANCELLED)

    assert first.status_code == 200
    assert (first.json()["state"], first.json()["finishedAt"] is not None) == ("cancelled", True)
    assert second.status_code == 200
    assert (second.json()["state"], second.json()["cancelRequested"]) == ("running", True)


def test_cancelling_a_finished_job_is_a_conflict(
    live_server: LiveServer, admin: HubUser, kind: str
) -> None:
    job, owner = running(live_server, kind)
    live_server.services.jobs.finish(job.id, owner, JobState.SUCCEEDED)

    response = post(live_server, f"/api/admin/jobs/{job.id}/cancel", admin.token)

    assert response.status_code == 409
    assert response.json()["error"] == f"Job {job.id} already succeeded"


@pytest.mark.parametrize("job_id", ["999999999", "abc", "-1", "1.5"])
def test_an_unknown_job_is_404(live_server: LiveServer, admin: HubUser, job_id: str) -> None:
    assert get(live_server, f"/api/admin/jobs/{job_id}", admin.token).status_code == 404
    assert post(live_server, f"/api/admin/jobs/{job_id}/cancel", admin.token).status_code == 404


def test_an_unknown_state_filter_is_400(live_server: LiveServer, admin: HubUser) -> None:
    response = get(live_server, "/api/admin/jobs", admin.token, state="paused")

    assert response.status_code == 400
    assert "Unknown job state 'paused'" in response.json()["error"]


def test_only_site_admins_may_see_or_cancel_jobs(
    live_server: LiveServer, user: HubUser, kind: str
) -> None:
    job = queue(live_server, kind)
    reader = make_user(live_server, "admin", role=Role.READ, admin=True)
    paths = ["/api/admin/jobs", f"/api/admin/jobs/{job.id}"]

    for path in paths:
        assert get(live_server, path).status_code == 401
        assert get(live_server, path, user.token).status_code == 403
        assert get(live_server, path, reader.token).status_code == 200
    cancel = f"/api/admin/jobs/{job.id}/cancel"
    assert post(live_server, cancel).status_code == 401
    assert post(live_server, cancel, user.token).status_code == 403
    refused = post(live_server, cancel, reader.token)
    assert refused.status_code == 403
    assert "read role only" in refused.json()["error"]
    assert live_server.services.jobs.get(job.id).state is JobState.QUEUED
