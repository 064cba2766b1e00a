"""Webhooks through the official client, delivered for real to an endpoint on loopback.

The hub runs its jobs and its dispatcher as `hubstead serve` does; loopback is opened with
`webhook_allow` (it is refused by default), and each test's endpoint is a small HTTP server.
What arrives is parsed with huggingface_hub's own `WebhookPayload`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from huggingface_hub import HfApi, WebhookPayload
from huggingface_hub.errors import HfHubHTTPError

from hubstead.server.domain.accounts import Role
from hubstead.server.domain.jobs import JobState
from tests.helpers.accounts import HubUser, make_user, unique_name
from tests.helpers.clients import hf_ok
from tests.helpers.clock import ManualClock
from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until
from tests.helpers.webhook_receiver import Receiver, hooked_hub, receiving


@pytest.fixture
def hub(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    """A hub that runs its jobs and may call loopback endpoints."""
    with hooked_hub(tmp_path / "hub", database_url) as server:
        yield server


@pytest.fixture
def owner(hub: LiveServer) -> HubUser:
    return make_user(hub, "owner")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as endpoint:
        yield endpoint


def _deliveries(hub: LiveServer, user: HubUser, webhook_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{hub.url}/api/settings/webhooks/{webhook_id}/deliveries",
        headers={"authorization": f"Bearer {user.token}"},
    )
    response.raise_for_status()
    found: list[dict[str, Any]] = response.json()
    return found


def test_create_read_update_disable_and_delete_through_the_client(
    hub: LiveServer, owner: HubUser, receiver: Receiver
) -> None:
    api = owner.api
    created = api.create_webhook(
        url=receiver.url, watched=[{"type": "user", "name": owner.name}], secret="s3cret"
    )

    assert created.secret == "s3cret"
    assert (created.url, created.disabled) == (receiver.url, False)
    assert [(w.type, w.name) for w in created.watched] == [("user", owner.name)]
    assert sorted(created.domains) == ["discussion", "repo"]
    fetched = api.get_webhook(created.id)
    assert fetched.secret is None  # shown once, at creation
    assert [w.id for w in api.list_webhooks()] == [created.id]

    repo = f"{owner.name}/{unique_name('watched')}"
    api.create_repo(repo)
    updated = api.update_webhook(
        created.id, url=receiver.url + "/v2", watched=[], domains=["discussion"]
    )
    assert (updated.url, updated.domains) == (receiver.url + "/v2", ["discussion"])
    assert [w.name for w in updated.watched] == [owner.name]  # an empty list keeps them
    rewatched = api.update_webhook(created.id, watched=[{"type": "model", "name": repo}])
    assert [(w.type, w.name) for w in rewatched.watched] == [("model", repo)]

    assert api.disable_webhook(created.id).disabled is True
    assert api.enable_webhook(created.id).disabled is False
    api.delete_webhook(created.id)
    with pytest.raises(HfHubHTTPError) as missing:
        api.get_webhook(created.id)
    assert missing.value.response.status_code == 404
    assert api.list_webhooks() == []


def test_discussion_events_arrive_with_the_secret_and_parse_as_webhook_payloads(
    hub: LiveServer, owner: HubUser, receiver: Receiver
) -> None:
    repo = f"{owner.name}/{unique_name('talk')}"
    owner.api.create_repo(repo)
    hook = owner.api.create_webhook(
        url=receiver.url,
        watched=[{"type": "model", "name": repo}],
        domains=["discussion"],
        secret="s3cret",
    )
    guest = make_user(hub, "guest")

    thread = guest.api.create_discussion(repo, "Typo in the card", description="See line 3")
    guest.api.comment_discussion(repo, thread.num, "Any news?")

    opened = receiver.wait_for("discussion.create")
    commented = receiver.wait_for("discussion.comment.create")
    assert opened.headers["x-webhook-secret"] == "s3cret"
    payload = WebhookPayload.model_validate(opened.body)
    assert (payload.event.scope, payload.event.action) == ("discussion", "create")
    assert (payload.repo.name, payload.repo.type, payload.repo.private) == (repo, "model", False)
    assert payload.repo.url.web.endswith(f"/{repo}")
    assert payload.webhook.id == hook.id and payload.webhook.version == 3
    assert payload.discussion is not None
    assert (payload.discussion.num, payload.discussion.title) == (thread.num, "Typo in the card")
    assert (payload.discussion.status, payload.discussion.isPullRequest) == ("open", False)
    assert payload.comment is not None and payload.comment.content == "See line 3"
    comment = WebhookPayload.model_validate(commented.body)
    assert comment.comment is not None and comment.comment.content == "Any news?"
    assert comment.discussion is not None and comment.discussion.num == thread.num

    def succeeded() -> list[dict[str, Any]] | None:
        found = _deliveries(hub, owner, hook.id)
        return found if len(found) == 2 and all(d["state"] == "succeeded" for d in found) else None

    log = wait_until(succeeded, "both deliveries to be logged as succeeded")
    assert [d["event"] for d in log] == ["discussion.comment.create", "discussion.create"]
    assert all(d["statusCode"] == 200 and d["attempts"] == 1 for d in log)
    assert all(isinstance(d["latencyMs"], int) for d in log)


def test_private_repos_tell_only_webhooks_whose_owner_can_see_them(
    hub: LiveServer, owner: HubUser, receiver: Receiver
) -> None:
    outsider = make_user(hub, "outsider")
    repo = f"{owner.name}/{unique_name('secret')}"
    owner.api.create_repo(repo, private=True)
    public = f"{owner.name}/{unique_name('open')}"
    owner.api.create_repo(public)
    spying = outsider.api.create_webhook(
        url=receiver.url + "/outsider", watched=[{"type": "user", "name": owner.name}]
    )
    watching = owner.api.create_webhook(
        url=receiver.url + "/owner", watched=[{"type": "user", "name": owner.name}]
    )

    owner.api.create_discussion(repo, "Private plans")
    owner.api.create_discussion(public, "Public plans")

    def logged(user: HubUser, webhook_id: str) -> list[str]:
        return [str(d["payload"]["repo"]["name"]) for d in _deliveries(hub, user, webhook_id)]

    wait_until(lambda: len(logged(owner, watching.id)) == 2, "the owner's two deliveries")
    # An event's deliveries to every webhook are logged at once: the outsider's are here too.
    assert logged(outsider, spying.id) == [public]
    receiver.wait_for("discussion.create", public)
    wait_until(lambda: len(receiver.received) == 3, "the three deliveries to arrive")
    delivered = {(r.body["webhook"]["id"], r.body["repo"]["name"]) for r in receiver.received}
    assert (spying.id, repo) not in delivered
    # Watching a private repo one cannot see is refused like watching a missing one.
    with pytest.raises(HfHubHTTPError) as refused:
        outsider.api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": repo}])
    assert refused.value.response.status_code == 404


def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(
    tmp_path: Path, database_url: str | None
) -> None:
    clock = ManualClock()
    with receiving() as receiver, hooked_hub(tmp_path / "hub", database_url, clock=clock) as hub:
        owner = make_user(hub, "owner")
        repo = f"{owner.name}/{unique_name('flaky')}"
        owner.api.create_repo(repo)
        hook = owner.api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": repo}])
        receiver.statuses = [503, 200]

        owner.api.create_discussion(repo, "Hello")

        first = wait_until(
            lambda: (d := _deliveries(hub, owner, hook.id)) and d[0]["attempts"] == 1 and d[0],
            "the first attempt",
        )
        assert (first["state"], first["statusCode"]) == ("pending", 503)
        assert "answered 503" in str(first["error"])
        # The job is queued again, due after the first retry's backoff, once the runner has
        # recorded the attempt (just after the delivery's row): only then move the clock.
        wait_until(
            lambda: [
                j
                for j in hub.services.jobs.list(kind="webhooks.deliver").items
                if j.state is JobState.QUEUED and j.attempts == 1
            ],
            "the delivery's job to be queued for a retry",
        )
        clock.advance(10)
        assert hub.jobs is not None
        hub.jobs.wake()
        done = wait_until(
            lambda: (
                (d := _deliveries(hub, owner, hook.id)) and d[0]["state"] == "succeeded" and d[0]
            ),
            "the retry to succeed",
        )
        assert (done["attempts"], done["statusCode"], done["error"]) == (2, 200, None)
        assert len(receiver.received) == 2


def test_a_hanging_endpoint_times_out_and_the_hub_stays_responsive(
    tmp_path: Path, database_url: str | None
) -> None:
    with (
        receiving() as receiver,
        hooked_hub(tmp_path / "hub", database_url, webhook_timeout_seconds=1) as hub,
    ):
        owner = make_user(hub, "owner")
        repo = f"{owner.name}/{unique_name('slow')}"
        owner.api.create_repo(repo)
        hook = owner.api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": repo}])
        receiver.hold.set()

        owner.api.create_discussion(repo, "Anyone?")
        wait_until(lambda: receiver.hold.is_set() and owner.api.whoami(), "the hub to answer")

        failed = wait_until(
            lambda: (d := _deliveries(hub, owner, hook.id)) and d[0]["attempts"] == 1 and d[0],
            "the attempt to time out",
        )
        assert failed["state"] == "pending" and failed["statusCode"] is None
        assert "Timeout" in str(failed["error"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]:9/hook", "loopback"),
        ("http://0.0.0.0:9/hook", "refused"),
        ("ftp://example.com/hook", "http:// or https://"),
        ("http://user:pw@127.0.0.1:9/hook", "credentials"),
        ("/relative/hook", "absolute"),
    ],
)
def test_refused_urls(hub: LiveServer, owner: HubUser, url: str, message: str) -> None:
    with pytest.raises(HfHubHTTPError) as refused:
        owner.api.create_webhook(url=url, watched=[{"type": "user", "name": owner.name}])
    assert refused.value.response.status_code == 400
    assert message in refused.value.response.json()["error"]


def test_the_hub_itself_is_refused_even_on_an_allowed_address(
    hub: LiveServer, owner: HubUser
) -> None:
    with pytest.raises(HfHubHTTPError) as refused:
        owner.api.create_webhook(
            url=f"{hub.url}/api/whoami-v2", watched=[{"type": "user", "name": owner.name}]
        )
    assert refused.value.response.status_code == 400
    assert "the hub itself" in refused.value.response.json()["error"]


def test_loopback_is_refused_without_the_allow_list(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    with hooked_hub(tmp_path / "hub", database_url, webhook_allow=()) as hub:
        owner = make_user(hub, "owner")
        with pytest.raises(HfHubHTTPError) as refused:
            owner.api.create_webhook(
                url=receiver.url, watched=[{"type": "user", "name": owner.name}]
            )
    assert refused.value.response.status_code == 400
    assert "webhook_allow" in refused.value.response.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"watched": []}, "at least one"),
        ({"watched": [{"type": "galaxy", "name": "x"}]}, "Cannot watch a 'galaxy'"),
        ({"watched": [{"type": "user", "name": "nobody-at-all"}]}, "No user named"),
        ({"domains": ["everything"]}, "Unknown webhook domain"),
        ({"domains": []}, "at least one domain"),
        ({"secret": "line\nbreak"}, "printable ASCII"),
        ({"secret": "x" * 257}, "printable ASCII"),
        ({"jobSourceId": "abc"}, "not available"),
    ],
)
def test_bad_webhooks_are_refused_with_a_clear_400(
    hub: LiveServer, owner: HubUser, receiver: Receiver, body: dict[str, object], message: str
) -> None:
    request = {"url": receiver.url, "watched": [{"type": "user", "name": owner.name}], **body}
    response = httpx.post(
        f"{hub.url}/api/settings/webhooks",
        json=request,
        headers={"authorization": f"Bearer {owner.token}"},
    )
    assert response.status_code in (400, 404), response.text
    assert message in response.json()["error"]
    assert owner.api.list_webhooks() == []


def test_who_may_manage_webhooks(hub: LiveServer, owner: HubUser, receiver: Receiver) -> None:
    hook = owner.api.create_webhook(
        url=receiver.url, watched=[{"type": "user", "name": owner.name}]
    )
    other = make_user(hub, "other")
    reader = make_user(hub, "reader", role=Role.READ)
    anonymous = HfApi(endpoint=hub.url, token=False)

    with pytest.raises(HfHubHTTPError) as not_theirs:
        other.api.delete_webhook(hook.id)
    with pytest.raises(HfHubHTTPError) as read_only:
        reader.api.create_webhook(url=receiver.url, watched=[{"type": "user", "name": reader.name}])
    with pytest.raises(HfHubHTTPError) as nobody:
        anonymous.list_webhooks()

    assert not_theirs.value.response.status_code == 404
    assert read_only.value.response.status_code == 403
    assert nobody.value.response.status_code == 401
    assert [w.id for w in owner.api.list_webhooks()] == [hook.id]


def test_the_hf_cli_creates_lists_and_deletes_webhooks(
    hub: LiveServer, owner: HubUser, receiver: Receiver, tmp_path: Path
) -> None:
    def hf(*args: str) -> str:
        return hf_ok(hub, owner, tmp_path, "webhooks", *args)

    created = json.loads(
        hf("create", "--url", receiver.url, "--watch", f"user:{owner.name}", "--json")
    )["id"]
    shown = json.loads(hf("info", created, "--json"))
    listed = json.loads(hf("ls", "--json"))
    hf("delete", created, "--yes")

    assert (shown["url"], shown["disabled"]) == (receiver.url, False)
    assert [w["id"] for w in listed] == [created]
    assert owner.api.list_webhooks() == []
