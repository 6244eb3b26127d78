"""WhatsApp over the running local stack: Meta's subscription check, then a whole qualification
in English and in Arabic, signed as Meta signs, ending with the admin's Hot Lead Alert."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadbot.channels.whatsapp.signature import sign
from leadbot.domain import Language
from leadbot.i18n import t
from local.seed import DEMO_ADMIN_CHAT, DEMO_WHATSAPP_APP_SECRET, DEMO_WHATSAPP_VERIFY_TOKEN
from tests import web
from tests.whatsapp_support import WhatsAppLead

pytestmark = pytest.mark.e2e

JOURNEYS = {
    "en": ("971502220001", "Layla", "Hello, I saw your ad", "2.5M AED", "Dubai Marina"),
    "ar": ("971502220002", "خالد", "مرحبا، أبحث عن شقة", "٢٫٥ مليون درهم", "دبي مارينا"),
}


def _post(url: str, payload: dict[str, Any]) -> None:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(DEMO_WHATSAPP_APP_SECRET, raw),
    }
    response = web.post(f"{url}/whatsapp", content=raw, headers=headers)
    assert response.status_code == 200, response.text


def _outbox(url: str, channel: str) -> list[dict[str, Any]]:
    answer = web.get(f"{url}/_local/outbox", params={"channel": channel})
    data: list[dict[str, Any]] = answer.json()
    return data


def test_meta_s_subscription_check_over_http(local_stack: str) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": DEMO_WHATSAPP_VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = web.get(f"{local_stack}/whatsapp", params=query)
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = web.get(f"{local_stack}/whatsapp", params={**query, "hub.verify_token": "x"})
    assert wrong.status_code == 403


def test_an_unsigned_body_is_refused_over_http(local_stack: str) -> None:
    lead = WhatsAppLead(wa_id="971502220009")
    response = web.post(f"{local_stack}/whatsapp", json=lead.body(lead.text("Hi")))
    assert response.status_code == 401


@pytest.mark.parametrize("language", list(JOURNEYS))
def test_a_whole_qualification_over_whatsapp_ends_with_the_admin_alert(
    local_stack: str, language: str
) -> None:
    wa_id, name, first, budget, area = JOURNEYS[language]
    lead = WhatsAppLead(wa_id=wa_id, name=name)
    steps = [
        lead.text(first),
        lead.press("goal:buy"),
        lead.text(budget),
        lead.pick("property_type:apartment"),
        lead.text(area),
        lead.pick("timeline:3m"),
        lead.pick("bedrooms:2"),
        lead.press("payment:cash"),
        lead.press("contact:this"),
    ]
    for message in steps:
        _post(local_stack, lead.body(message))

    outbox = _outbox(local_stack, "whatsapp")
    ids = {m["id"] for m in steps}
    receipts = [c for c in outbox if c["payload"].get("message_id") in ids]
    assert {c["payload"]["message_id"] for c in receipts} == ids  # every message shown as read
    to_lead = [c for c in outbox if c.get("chat_id") == wa_id]
    # The fake Graph API checks payloads as Meta does: it accepted every one.
    assert all(c["status"] == 200 for c in [*receipts, *to_lead])
    sent = [c["payload"] for c in to_lead]
    # Each card's listing photo goes just before it: a list message cannot carry an image.
    photos = [(i, p["image"]) for i, p in enumerate(sent) if p["type"] == "image"]
    assert photos == [
        (7, {"link": "https://demo-agency.example/photos/marina-residences.jpg"}),
        (9, {"link": "https://demo-agency.example/photos/marina-gate-1br.jpg"}),
    ]
    replies = [p for p in sent if p["type"] != "image"]

    lang = Language(language)
    texts = [
        p["interactive"]["body"]["text"] if p["type"] == "interactive" else p["text"]["body"]
        for p in replies
    ]
    # Every answer was understood: each reply asks the next question, none re-asks with a hint.
    questions = ["goal", "budget", "property_type", "location", "timeline", "bedrooms", "payment"]
    for text, question in zip(texts, questions, strict=False):
        assert t(f"{question}.ask", lang) in text
    # The demo agency's two Dubai Marina apartments for sale within 2.5M, as cards whose four
    # buttons make a list; the one with 3 units left says so.
    cards = replies[7:9]
    assert texts[7].startswith(t("value.intro", lang))
    assert t("listing.scarcity.many", lang, count=3) in texts[7]
    assert "⏳" not in texts[8]
    for card in cards:
        assert card["interactive"]["type"] == "list" and "header" not in card["interactive"]
        rows = card["interactive"]["action"]["sections"][0]["rows"]
        assert [r["id"].rsplit(":", 1)[1] for r in rows] == ["interested", "more", "viewing", "ask"]
    assert t("contact.consent", lang, phone=f"+{wa_id}") in texts[9]
    assert texts[10] == t("contact.thanks", lang, name=name, phone=f"+{wa_id}")

    alerts = [
        c["payload"]["text"]
        for c in _outbox(local_stack, "telegram")
        if c.get("chat_id") == DEMO_ADMIN_CHAT and f"+{wa_id}" in c["payload"]["text"]
    ]
    assert len(alerts) == 1
    assert name in alerts[0]
