"""Webhook deliveries received by huggingface_hub's own `WebhooksServer` (gradio and FastAPI).

The receiver a Hub user writes: handlers take a parsed `WebhookPayload`, and the server checks
`X-Webhook-Secret` itself (401 without it, 403 when it differs), so a wrong secret shows up in
our delivery log as a failed delivery.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.accounts import make_user, unique_name
from tests.helpers.live_server import LiveServer
from tests.helpers.waiting import wait_until
from tests.helpers.webhook_receiver import hooked_hub

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # gradio calls home otherwise
import gradio
from huggingface_hub import WebhookPayload, WebhooksServer

pytestmark = pytest.mark.filterwarnings("ignore:'WebhooksServer' is experimental:UserWarning")


@pytest.fixture
def hub(tmp_path: Path, database_url: str | None) -> Iterator[LiveServer]:
    """A hub that runs its jobs and may call loopback endpoints."""
    with hooked_hub(tmp_path, database_url) as server:
        yield server


@pytest.fixture
def received() -> Iterator[tuple[str, list[WebhookPayload]]]:
    """A running `WebhooksServer` with one handler, `/webhooks/hub`; its URL and what it got."""
    payloads: list[WebhookPayload] = []
    app = WebhooksServer(webhook_secret="s3cret")

    @app.add_webhook("/hub")
    async def hub(payload: WebhookPayload) -> dict[str, Any]:
        payloads.append(payload)
        return {"received": payload.event.scope}

    with socket.socket() as probe:  # a free port for gradio, which takes a number
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, share=False, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{port}/webhooks/hub", payloads
    finally:
        gradio.close_all()


def test_the_official_receiver_parses_our_deliveries_and_checks_the_secret(
    hub: LiveServer, received: tuple[str, list[WebhookPayload]]
) -> None:
    url, payloads = received
    owner = make_user(hub, "owner")
    repo = f"{owner.name}/{unique_name('served')}"
    owner.api.create_repo(repo)
    good = owner.api.create_webhook(
        url=url, watched=[{"type": "model", "name": repo}], secret="s3cret"
    )
    wrong = owner.api.create_webhook(
        url=url, watched=[{"type": "model", "name": repo}], secret="not-it"
    )

    thread = owner.api.create_discussion(repo, "Release notes", description="Draft inside")

    def first() -> WebhookPayload | None:
        return payloads[0] if payloads else None

    payload = wait_until(first, "the WebhooksServer to get a payload")
    assert (payload.event.scope, payload.event.action) == ("discussion", "create")
    assert (payload.repo.name, payload.repo.type) == (repo, "model")
    assert payload.discussion is not None and payload.discussion.num == thread.num
    assert payload.comment is not None and payload.comment.content == "Draft inside"
    assert payload.webhook.id == good.id

    def log(webhook_id: str) -> dict[str, Any] | None:
        answer = httpx.get(
            f"{hub.url}/api/settings/webhooks/{webhook_id}/deliveries",
            headers={"authorization": f"Bearer {owner.token}"},
        ).json()
        return answer[0] if answer and answer[0]["state"] != "pending" else None

    assert wait_until(lambda: log(good.id), "the good delivery")["statusCode"] == 200
    refused = wait_until(lambda: log(wrong.id), "the refused delivery")
    assert (refused["state"], refused["statusCode"], refused["attempts"]) == ("failed", 403, 1)
    assert len(payloads) == 1
