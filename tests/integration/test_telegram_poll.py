"""`make dev-telegram`'s poller against the fake Bot API over HTTP: each update delivered once."""

from __future__ import annotations

import threading
import time
from typing import Any

from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.telegram_poll import poll_forever
from tests.support import REPO, Updates

TOKEN = "123456:poll-token"


def test_the_poller_deletes_the_webhook_and_delivers_each_update_once() -> None:
    fake = FakeTelegram()
    fake.handle(TOKEN, "setWebhook", {"url": "https://example.test/hook"})
    lead = Updates(820_000_001)
    for text in ("/start", "hello", "buy"):
        fake.queue_update(lead.text(text))
    delivered: list[dict[str, Any]] = []
    stopping = threading.Event()
    with LocalGateway([], REPO, fake) as gateway:
        poller = threading.Thread(
            target=poll_forever,
            args=(TOKEN, lambda u: delivered.append(u) or 200, stopping, gateway.telegram_api_base),
        )
        poller.start()
        deadline = time.monotonic() + 10
        while len(delivered) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        fake.queue_update(lead.text("later"))
        while len(delivered) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        stopping.set()
        poller.join(timeout=10)

    assert [u["message"]["text"] for u in delivered] == ["/start", "hello", "buy", "later"]
    methods = [c["method"] for c in fake.outbox()]
    assert methods[1] == "deleteWebhook"
    offsets = [c["payload"].get("offset") for c in fake.outbox() if c["method"] == "getUpdates"]
    assert offsets[0] == 0 and offsets[-1] == delivered[-1]["update_id"] + 1
