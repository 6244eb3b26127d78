"""Voice notes over the running local stack: a Telegram and a WhatsApp voice note put in the
fake APIs, downloaded and transcribed through the fake OpenAI, answered as if typed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadbot.channels.whatsapp.signature import sign
from leadbot.domain import Language
from leadbot.i18n import t
from local.fake_openai import fake_voice_note
from local.seed import DEMO_TELEGRAM_SECRET, DEMO_WHATSAPP_APP_SECRET
from tests import web
from tests.support import Updates
from tests.whatsapp_support import WhatsAppLead

pytestmark = pytest.mark.e2e

SPOKEN = "My budget is 2.5M AED"


def _transcripts(url: str) -> list[str]:
    requests = web.get(f"{url}/_local/openai/requests").json()
    return [r.get("transcript") for r in requests if r["endpoint"] == "audio.transcriptions"]


def test_a_telegram_voice_note_over_http_is_answered_as_typed(local_stack: str) -> None:
    chat = 830_000_001
    lead = Updates(chat, first_name="Voice")
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}

    def send(update: dict[str, Any]) -> None:
        response = web.post(f"{local_stack}/telegram/demo", json=update, headers=headers)
        assert response.status_code == 200, response.text

    send(lead.text("/start"))
    send(lead.press("goal:buy"))
    put = web.post(
        f"{local_stack}/_local/telegram/files",
        content=fake_voice_note(SPOKEN),
        headers={"Content-Type": "audio/ogg"},
    )
    send(lead.voice(put.json()))

    outbox = web.get(f"{local_stack}/_local/outbox", params={"channel": "telegram"}).json()
    replies = [c["payload"]["text"] for c in outbox if c.get("chat_id") == str(chat)]
    assert t("budget.noted", Language.EN, budget="2,500,000 AED") in replies[-1]
    assert t("property_type.ask", Language.EN) in replies[-1]
    assert SPOKEN in _transcripts(local_stack)


def test_a_whatsapp_voice_note_over_http_is_answered_as_typed(local_stack: str) -> None:
    lead = WhatsAppLead(wa_id="971502230001", name="Voice")

    def post(payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        signed = {"X-Hub-Signature-256": sign(DEMO_WHATSAPP_APP_SECRET, raw)}
        response = web.post(
            f"{local_stack}/whatsapp",
            content=raw,
            headers={"Content-Type": "application/json", **signed},
        )
        assert response.status_code == 200, response.text

    post(lead.body(lead.text("Hello")))
    post(lead.body(lead.press("goal:rent")))
    media = web.post(
        f"{local_stack}/_local/whatsapp/media",
        content=fake_voice_note("15 thousand AED"),
        headers={"Content-Type": "audio/ogg; codecs=opus"},
    ).json()
    post(lead.body(lead.voice(media["id"])))

    outbox = web.get(f"{local_stack}/_local/outbox", params={"channel": "whatsapp"}).json()
    last = [c for c in outbox if c.get("chat_id") == lead.wa_id and "to" in c["payload"]][-1]
    text = json.dumps(last["payload"], ensure_ascii=False)
    assert t("budget.noted", Language.EN, budget="15,000 AED") in text
    assert "15 thousand AED" in _transcripts(local_stack)
