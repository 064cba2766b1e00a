"""The webhook pages: creating one (refused targets are form errors), its delivery log, redelivery,
disabling and deleting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until
from tests.helpers.webhook_receiver import Receiver, hooked_hub, receiving
from tests.web.conftest import PASSWORD, csrf_of, signed_in_client, user_with_password

_WEBHOOK_LINK = re.compile(r'href="/settings/webhooks/([0-9a-f]{24})"')


def test_refused_targets_and_bad_entries_are_form_errors(web_hub: LiveServer) -> None:
    user = user_with_password(web_hub, "hooker")
    with signed_in_client(web_hub, user.name, PASSWORD) as client:
        page = client.get("/settings/webhooks")
        token = csrf_of(page)
        loopback = client.post(
            "/settings/webhooks",
            data={"csrf_token": token, "url": "http://127.0.0.1:9/hook", "watched": "user x"},
        )
        metadata = client.post(
            "/settings/webhooks",
            data={"csrf_token": token, "url": "http://169.254.169.254/", "watched": "user x"},
        )
        hostile = client.post(
            "/settings/webhooks",
            data={"csrf_token": token, "url": "https://x.invalid/", "watched": "<script>a b"},
        )
        forged = client.post(
            "/settings/webhooks", data={"url": "https://example.com/", "watched": "user x"}
        )
        missing = client.get("/settings/webhooks/0123456789abcdef01234567")
        after = client.get("/settings/webhooks")

    assert page.status_code == 200 and 'id="no-webhooks"' in page.text
    for refused in (loopback, metadata):
        assert refused.status_code == 400 and 'id="webhook-error"' in refused.text
    assert "127.0.0.1" in loopback.text and "refused" in loopback.text.lower()
    assert hostile.status_code == 400 and "<script>a" not in hostile.text
    assert forged.status_code == 403
    assert missing.status_code == 404
    assert 'id="no-webhooks"' in after.text and user.api.list_webhooks() == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as endpoint:
        yield endpoint


def test_delivery_log_redelivery_disabling_and_deleting(
    tmp_path: Path, database_url: str | None, receiver: Receiver
) -> None:
    with hooked_hub(tmp_path / "hub", database_url) as hub:
        user = user_with_password(hub, "watcher")
        with signed_in_client(hub, user.name, PASSWORD) as client:
            token = csrf_of(client.get("/settings/webhooks"))
            created = client.post(
                "/settings/webhooks",
                data={
                    "csrf_token": token,
                    "url": receiver.url,
                    "watched": f"user {user.name}",
                    "domain_repo": "1",
                    "generate_secret": "1",
                },
            )
            found = _WEBHOOK_LINK.search(created.text)
            assert found is not None, created.text
            webhook_id = found.group(1)
            repo_id = user.api.create_repo(f"{user.name}/watched").repo_id
            receiver.wait_for("repo.create", repo_id)

            def delivered() -> str | None:
                page = client.get(f"/settings/webhooks/{webhook_id}")
                return page.text if "state-succeeded" in page.text else None

            log = wait_until(delivered, "the delivery in the log")
            delivery = re.search(r'data-delivery="([0-9a-f]{24})"', log)
            assert delivery is not None
            redelivered = client.post(
                f"/settings/webhooks/{webhook_id}/deliveries/{delivery.group(1)}/redeliver",
                data={"csrf_token": token},
            )
            wait_until(lambda: receiver.events().count("repo.create") == 2, "the redelivery")
            disabled = client.post(
                f"/settings/webhooks/{webhook_id}/disable", data={"csrf_token": token}
            )
            disabled_page = client.get(f"/settings/webhooks/{webhook_id}")
            refused = client.post(
                f"/settings/webhooks/{webhook_id}/deliveries/{delivery.group(1)}/redeliver",
                data={"csrf_token": token},
            )
            disabled_by_api = user.api.get_webhook(webhook_id).disabled
            tokenless = client.post(f"/settings/webhooks/{webhook_id}/delete", data={"x": "1"})
            deleted = client.post(
                f"/settings/webhooks/{webhook_id}/delete", data={"csrf_token": token}
            )
            remaining = user.api.list_webhooks()

    assert created.status_code == 200 and 'id="webhook-secret"' in created.text
    secret = re.search(r'<code id="webhook-secret">([^<]+)</code>', created.text)
    assert secret is not None
    assert receiver.received[0].headers["x-webhook-secret"] == secret.group(1)
    assert secret.group(1) not in log  # shown once
    assert "repo.create" in log and "<td>200</td>" in log and " ms</td>" in log
    assert redelivered.status_code == 303
    assert disabled.status_code == 303 and 'id="webhook-state">disabled' in disabled_page.text
    assert disabled_by_api is True
    assert refused.status_code == 409 and "enable it first" in refused.text
    assert tokenless.status_code == 403
    assert deleted.status_code == 303 and remaining == []
