"""`make dev-telegram`: long-poll the real Bot API and feed each update to the local webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx

TELEGRAM_API = "https://api.telegram.org"
# Long polling holds the request open this long; the HTTP timeout must outlast it.
POLL_SECONDS = 25


def poll_forever(
    token: str,
    deliver: Callable[[dict[str, Any]], tuple[int, bytes]],
    stopping: threading.Event,
    api: str = TELEGRAM_API,
) -> None:
    """getUpdates until `stopping` is set; each update goes to `deliver` (→ the webhook's HTTP
    status and body) once, and a method the webhook answers with is run, as Telegram runs it."""
    offset = 0
    with httpx.Client(base_url=f"{api}/bot{token}", timeout=POLL_SECONDS + 10) as http:
        # getUpdates refuses to work while a webhook is set; polling needs it gone.
        http.post("/deleteWebhook")
        print("Polling Telegram for updates…", flush=True)
        while not stopping.is_set():
            try:
                body = http.post(
                    "/getUpdates", json={"offset": offset, "timeout": POLL_SECONDS}
                ).json()
            except httpx.HTTPError as exc:
                print(f"getUpdates failed ({exc!r}); retrying in 5 s", flush=True)
                stopping.wait(5)
                continue
            updates = body.get("result") or []
            for update in updates:
                status, body = deliver(update)
                print(f"update {update['update_id']} → {status}", flush=True)
                answer = method_answered(status, body)
                if answer is not None:
                    http.post(f"/{answer[0]}", json=answer[1])
                offset = max(offset, int(update["update_id"]) + 1)
            if not updates:
                stopping.wait(0.2)  # a real long poll already waited; a fake may not


def method_answered(status: int, body: bytes) -> tuple[str, dict[str, Any]] | None:
    """The Bot API method and parameters a webhook answered an update with, which Telegram
    runs on the bot's behalf (a pressed button's answerCallbackQuery); None for a plain answer.
    """
    if status != 200:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("method"), str):
        return None
    return answer["method"], {k: v for k, v in answer.items() if k != "method"}
