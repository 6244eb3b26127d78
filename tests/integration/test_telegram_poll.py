"""`make dev-telegram`'s poller against the fake Bot API over HTTP: each update delivered once."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.telegram_poll import method_answered, poll_forever
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
            args=(TOKEN, lambda u: _answered(delivered, u), stopping, gateway.telegram_api_base),
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


def _answered(delivered: list[dict[str, Any]], update: dict[str, Any]) -> tuple[int, bytes]:
    delivered.append(update)
    return 200, b'{"ok": true}'


def test_the_poller_runs_what_the_webhook_answers_with_as_telegram_does() -> None:
    fake = FakeTelegram()
    press = Updates(820_000_002).press("goal:buy")
    fake.queue_update(press)
    answer = {"method": "answerCallbackQuery", "callback_query_id": press["callback_query"]["id"]}
    stopping = threading.Event()
    with LocalGateway([], REPO, fake) as gateway:
        poller = threading.Thread(
            target=poll_forever,
            args=(
                TOKEN,
                lambda u: (200, json.dumps(answer).encode()),
                stopping,
                gateway.telegram_api_base,
            ),
        )
        poller.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            c["method"] == "answerCallbackQuery" for c in fake.outbox()
        ):
            time.sleep(0.05)
        stopping.set()
        poller.join(timeout=10)
    answered = [c["payload"] for c in fake.outbox() if c["method"] == "answerCallbackQuery"]
    assert answered == [{"callback_query_id": press["callback_query"]["id"]}]


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, b'{"ok": true}'),
        (200, b"not json"),
        (200, b"[1]"),
        (500, b'{"method": "sendMessage"}'),
    ],
)
def test_only_a_200_answer_naming_a_method_is_run(status: int, body: bytes) -> None:
    assert method_answered(status, body) is None


def test_the_method_and_its_parameters_are_read_from_the_answer() -> None:
    body = b'{"method": "answerCallbackQuery", "callback_query_id": "7"}'
    assert method_answered(200, body) == ("answerCallbackQuery", {"callback_query_id": "7"})
