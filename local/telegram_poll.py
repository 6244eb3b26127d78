"""`make dev-telegram`: long-poll the real Bot API and feed each update to the local webhook."""

from __future__ import annotations

import os
import threading
import time

import httpx

from local.seed import DEMO_TELEGRAM_SECRET, DEMO_TENANT_ID

API = "https://api.telegram.org"
# Long polling holds the request open this long; the HTTP timeout must outlast it.
POLL_SECONDS = 25


def poll_forever(gateway_url: str, stopping: threading.Event) -> None:
    token = os.environ["TELEGRAM_BOT_TOKEN"]
    offset = 0
    with httpx.Client(timeout=POLL_SECONDS + 10) as http:
        # getUpdates refuses to work while a webhook is set; polling mode needs it gone.
        http.post(f"{API}/bot{token}/deleteWebhook")
        print("Polling Telegram for updates…", flush=True)
        while not stopping.is_set():
            try:
                response = http.post(
                    f"{API}/bot{token}/getUpdates",
                    json={"offset": offset, "timeout": POLL_SECONDS},
                ).json()
            except httpx.HTTPError as exc:
                print(f"getUpdates failed ({exc!r}); retrying in 5 s", flush=True)
                time.sleep(5)
                continue
            for update in response.get("result", []):
                offset = max(offset, int(update["update_id"]) + 1)
                reply = http.post(
                    f"{gateway_url}/telegram/{DEMO_TENANT_ID}",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET},
                )
                print(f"update {update['update_id']} → {reply.status_code}", flush=True)
