"""The WhatsApp webhook in-process: Meta's subscription check, signed bodies, the conversation
over WhatsApp, consent to call, opt-out, cross-channel linking and the 24-hour window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from leadbot.channels.whatsapp import OutsideWindow
from leadbot.domain import (
    Channel,
    DeliveryStatus,
    Lead,
    LeadStatus,
    Outbound,
    Stage,
    TimelineEntry,
)
from leadbot.services import whatsapp
from local.seed import DEMO_ADMIN_CHAT
from tests.support import AGENT, InProcessStack, Updates, api_call
from tests.whatsapp_support import WhatsAppLead, WhatsAppStack, body, use_fake_whatsapp, wamid


@pytest.fixture
def wa(stack: InProcessStack) -> Iterator[WhatsAppStack]:
    yield from use_fake_whatsapp(stack)


def _lead(wa: WhatsAppStack, wa_id: str) -> Lead:
    repos = wa.stack.repos
    lead_id = repos.identities.lead_id(repos.identities.key("demo", Channel.WHATSAPP, wa_id))
    assert lead_id is not None, f"no lead for {wa_id}"
    return repos.leads.get("demo", lead_id)


# -- Meta's subscription check (GET) ---------------------------------------------------------


def test_subscription_with_the_agencys_verify_token_echoes_the_challenge(wa: WhatsAppStack) -> None:
    response = wa.subscribe()
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/plain"
    assert response["body"] == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "demo-verify-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "demo-verify-token"},
        {},
    ],
)
def test_anything_else_is_forbidden(wa: WhatsAppStack, query: dict[str, str]) -> None:
    response = wa.get(**query)
    assert response["statusCode"] == 403
    assert "1158201444" not in response["body"]


# -- signed bodies (POST) --------------------------------------------------------------------


def test_an_unsigned_or_wrongly_signed_body_is_refused_and_nothing_happens(
    wa: WhatsAppStack,
) -> None:
    lead = WhatsAppLead()
    payload = lead.body(lead.text("Hi"))
    assert wa.post(payload, secret=None)["statusCode"] == 401
    assert wa.post(payload, secret="not-the-app-secret")["statusCode"] == 401
    assert wa.post(payload, signature="sha256=" + "0" * 64)["statusCode"] == 401
    assert wa.fake.outbox() == []
    repos = wa.stack.repos
    assert (
        repos.identities.lead_id(repos.identities.key("demo", Channel.WHATSAPP, lead.wa_id)) is None
    )


def test_a_body_that_is_not_a_webhook_body_is_a_bad_request(wa: WhatsAppStack) -> None:
    assert wa.post(b"{not json")["statusCode"] == 400
    assert wa.post({"entry": "nope"})["statusCode"] == 400


def test_a_body_over_a_megabyte_is_too_large(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    payload = json.dumps(lead.body(lead.text("x" * (1024 * 1024))))
    assert wa.post(payload)["statusCode"] == 413


def test_a_number_no_agency_owns_is_acknowledged_and_ignored(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    payload = body(lead.text("Hi"), number="199999999999999")
    # Nobody's app secret to check it with: acknowledged so Meta stops retrying, never acted on.
    assert wa.post(payload, secret="anything")["statusCode"] == 200
    assert wa.fake.outbox() == []


# -- the conversation over WhatsApp ----------------------------------------------------------


def test_a_first_message_makes_a_lead_named_from_the_profile_and_is_answered_with_a_list(
    wa: WhatsAppStack,
) -> None:
    lead = WhatsAppLead()
    first = lead.text("Hello, I saw your ad")
    assert wa.post(lead.body(first))["statusCode"] == 200

    stored = _lead(wa, lead.wa_id)
    assert (stored.channel, stored.name, stored.stage) == (
        Channel.WHATSAPP,
        "Sara Ahmadi",
        Stage.GOAL,
    )
    (reply,) = wa.sent(lead.wa_id)
    interactive = reply["payload"]["interactive"]
    # Buy, rent, invest and the language switch: four choices make a list message.
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "📋 Choose"
    rows = [row["id"] for row in interactive["action"]["sections"][0]["rows"]]
    assert rows == ["goal:buy", "goal:rent", "goal:invest", "lang:menu"]
    assert wa.receipts() == [first["id"]]  # shown as read


def test_arabic_is_answered_in_arabic_with_an_arabic_list_button(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead(wa_id="966501112233", name="محمد")
    assert wa.post(lead.body(lead.text("مرحبا، أريد شقة")))["statusCode"] == 200
    (reply,) = wa.sent(lead.wa_id)
    assert reply["payload"]["interactive"]["action"]["button"] == "📋 اختر"
    assert _lead(wa, lead.wa_id).language == "ar"


def test_two_messages_in_one_body_are_both_handled_in_order(wa: WhatsAppStack) -> None:
    sara, omar = WhatsAppLead(), WhatsAppLead(wa_id="971509998877", name="Omar")
    payload = body(sara.text("Hi"), omar.text("Hello"), names={omar.wa_id: "Omar"})
    assert wa.post(payload)["statusCode"] == 200
    assert [c["payload"]["to"] for c in wa.sent()] == [sara.wa_id, omar.wa_id]
    assert _lead(wa, omar.wa_id).name == "Omar"


def test_a_retried_delivery_is_not_answered_or_counted_twice(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    payload = lead.body(lead.text("Hi"))
    assert wa.post(payload)["statusCode"] == 200
    assert wa.post(payload)["statusCode"] == 200  # Meta retries on a slow answer
    assert len(wa.sent(lead.wa_id)) == 1
    assert _lead(wa, lead.wa_id).messages_count == 1


def test_a_statuses_only_body_makes_no_lead_and_no_reply(wa: WhatsAppStack) -> None:
    status = {
        "id": wamid(),
        "status": "delivered",
        "timestamp": "1795000100",
        "recipient_id": "971501234567",
    }
    assert wa.post(body(statuses=(status,)))["statusCode"] == 200
    assert wa.fake.outbox() == []
    repos = wa.stack.repos
    key = repos.identities.key("demo", Channel.WHATSAPP, "971501234567")
    assert repos.identities.lead_id(key) is None


def _status(message_id: str, status: str, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": message_id,
        "status": status,
        "timestamp": str(at),
        "recipient_id": "971501234567",
        **extra,
    }


def test_statuses_move_the_reply_forward_in_timeline_and_never_back(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead("971501234567", "Sara")
    assert wa.post(lead.body(lead.text("Hi")))["statusCode"] == 200
    reply = wa.sent(lead.wa_id)[-1]["message_id"]
    before = len(wa.fake.outbox())

    for status in ("delivered", "read", "delivered"):  # the late "delivered" changes nothing
        assert wa.post(body(statuses=(_status(reply, status, 1795000100),)))["statusCode"] == 200

    outbound = [e for e in _history(wa, lead) if e.message_id == reply]
    assert [(e.status, e.detail["status_at"]) for e in outbound] == [
        (DeliveryStatus.READ, "2026-11-18T11:08:20+00:00")
    ]
    assert len(wa.fake.outbox()) == before  # statuses send nothing


def test_a_failed_status_records_metas_error_on_the_message(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead("971501234568", "Omar")
    assert wa.post(lead.body(lead.text("Hi")))["statusCode"] == 200
    reply = wa.sent(lead.wa_id)[-1]["message_id"]
    error = {"code": 131026, "title": "Message undeliverable"}
    failed = _status(reply, "failed", 1795000200, errors=[error])

    assert wa.post(body(statuses=(failed,)))["statusCode"] == 200

    (entry,) = [e for e in _history(wa, lead) if e.message_id == reply]
    assert entry.status is DeliveryStatus.FAILED
    assert entry.detail["error"] == "Message undeliverable"
    assert entry.detail["error_code"] == "131026"


def _history(wa: WhatsAppStack, lead: WhatsAppLead) -> list[TimelineEntry]:
    return wa.stack.repos.timeline.history("demo", _lead(wa, lead.wa_id).lead_id)


def test_a_voice_note_gets_a_polite_ask_to_type_and_a_reaction_nothing(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    wa.post(lead.body(lead.text("Hi")))
    wa.post(lead.body(lead.voice()))
    assert "type" in wa.last_text(lead.wa_id).lower()
    before = len(wa.sent(lead.wa_id))
    reaction = lead._message("reaction", reaction={"message_id": wamid(), "emoji": "👍"})
    assert wa.post(lead.body(reaction))["statusCode"] == 200
    assert len(wa.sent(lead.wa_id)) == before


def test_a_whole_qualification_asks_consent_to_call_and_yes_alerts_the_admins(
    wa: WhatsAppStack,
) -> None:
    lead = WhatsAppLead()
    for payload in lead.qualification():
        assert wa.post(payload)["statusCode"] == 200
    consent = wa.sent(lead.wa_id)[-1]["payload"]["interactive"]
    assert "+971501234567" in consent["body"]["text"]
    buttons = [b["reply"]["id"] for b in consent["action"]["buttons"]]
    assert buttons == ["contact:this", "contact:other"]
    assert wa.stack.fake.outbox() == []  # no alert before the lead says yes

    assert wa.post(lead.body(lead.press("contact:this")))["statusCode"] == 200

    stored = _lead(wa, lead.wa_id)
    assert (stored.phone, stored.status) == ("+971501234567", LeadStatus.QUALIFIED)
    alerts = [c for c in wa.stack.fake.outbox() if c["method"] == "sendMessage"]
    assert [str(a["payload"]["chat_id"]) for a in alerts] == [DEMO_ADMIN_CHAT]
    assert "+971501234567" in alerts[0]["payload"]["text"]


def test_another_number_is_asked_for_and_the_typed_one_is_captured(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    for payload in lead.qualification():
        wa.post(payload)
    wa.post(lead.body(lead.press("contact:other")))
    assert "type the number" in wa.last_text(lead.wa_id)
    assert _lead(wa, lead.wa_id).phone is None
    wa.post(lead.body(lead.text("+971 55 765 4321")))
    assert _lead(wa, lead.wa_id).phone == "+971557654321"


def test_a_typed_yes_in_persian_is_consent(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead(wa_id="989121234567", name="Reza")
    for payload in lead.qualification(first="سلام"):
        wa.post(payload)
    wa.post(lead.body(lead.text("بله")))
    assert _lead(wa, lead.wa_id).phone == "+989121234567"


@pytest.mark.parametrize(
    ("stop", "start"), [("STOP", "START"), ("إيقاف", "start"), ("стоп", "Старт")]
)
def test_stop_words_opt_out_with_a_confirmation_and_start_opts_back_in(
    wa: WhatsAppStack, stop: str, start: str
) -> None:
    lead = WhatsAppLead()
    wa.post(lead.body(lead.text("Hi")))
    wa.post(lead.body(lead.text(stop)))
    assert _lead(wa, lead.wa_id).opted_out
    assert "START" in wa.last_text(lead.wa_id)  # how to come back, as WhatsApp allows
    wa.post(lead.body(lead.text("what about villas?")))
    assert "START" in wa.last_text(lead.wa_id)  # still opted out: reminded, not qualified

    wa.post(lead.body(lead.text(start)))
    assert not _lead(wa, lead.wa_id).opted_out


def test_a_whatsapp_sender_whose_number_a_telegram_lead_left_is_the_same_lead(
    wa: WhatsAppStack,
) -> None:
    telegram_lead = Updates(chat_id=5550001)
    wa.stack.qualify(telegram_lead)  # leaves +971501234567 by sharing the contact
    repos = wa.stack.repos
    key = repos.identities.key("demo", Channel.TELEGRAM, "5550001")
    lead_id = repos.identities.lead_id(key)
    assert lead_id is not None and repos.leads.get("demo", lead_id).phone == "+971501234567"

    lead = WhatsAppLead()
    assert wa.post(lead.body(lead.text("Hi, it's me again")))["statusCode"] == 200

    linked = _lead(wa, lead.wa_id)
    assert linked.lead_id == lead_id  # not a second lead
    assert linked.channel is Channel.TELEGRAM and linked.messages_count == 10
    assert wa.sent(lead.wa_id)  # answered where they wrote: on WhatsApp
    kinds = [e.text for e in repos.timeline.history("demo", lead_id)]
    assert "linked_whatsapp" in kinds


# -- the 24-hour customer-service window -----------------------------------------------------


def test_free_text_goes_within_24_hours_and_the_approved_template_after(
    wa: WhatsAppStack,
) -> None:
    lead = WhatsAppLead()
    wa.post(lead.body(lead.text("Hi")))
    stored = _lead(wa, lead.wa_id)
    tenant = wa.stack.repos.tenants.get("demo")
    assert stored.last_inbound_at is not None
    last = stored.last_inbound_at

    inside = whatsapp.reach(
        tenant,
        stored,
        Outbound(text="A villa just came up"),
        last + timedelta(hours=23, minutes=59),
    )
    assert inside.status == "sent"
    assert wa.sent(lead.wa_id)[-1]["payload"]["type"] == "text"

    outside = whatsapp.reach(
        tenant, stored, Outbound(text="A villa just came up"), last + timedelta(hours=24)
    )
    assert outside.status == "sent"
    template = wa.sent(lead.wa_id)[-1]["payload"]["template"]
    assert (template["name"], template["language"]["code"]) == ("leadbot_checkin", "en_US")
    parameters = [p["text"] for p in template["components"][0]["parameters"]]
    assert parameters == ["Sara Ahmadi", "Demo Realty"]


def test_outside_the_window_without_a_template_is_a_typed_refusal(wa: WhatsAppStack) -> None:
    lead = WhatsAppLead()
    wa.post(lead.body(lead.text("Hi")))
    stored = _lead(wa, lead.wa_id)
    tenant = replace(wa.stack.repos.tenants.get("demo"), whatsapp_templates=())
    assert stored.last_inbound_at is not None
    later = stored.last_inbound_at + timedelta(days=2)
    sent_before = len(wa.sent())
    with pytest.raises(OutsideWindow):
        whatsapp.reach(tenant, stored, Outbound(text="Still looking?"), later)
    assert len(wa.sent()) == sent_before


# -- agents writing from the dashboard -------------------------------------------------------


def test_an_agent_writes_to_a_whatsapp_lead_within_24_hours_and_is_refused_after(
    wa: WhatsAppStack,
) -> None:
    lead = WhatsAppLead()
    wa.post(lead.body(lead.text("Hi")))
    stored = _lead(wa, lead.wa_id)
    path = f"/api/leads/{stored.lead_id}/messages"

    status, sent = api_call("POST", path, AGENT, body={"text": "Hi Sara, Omar from Demo Realty"})
    assert (status, sent["status"]) == (200, "sent")
    assert wa.sent(lead.wa_id)[-1]["payload"]["text"]["body"] == "Hi Sara, Omar from Demo Realty"

    repos = wa.stack.repos
    assert stored.last_inbound_at is not None
    current = repos.leads.get("demo", stored.lead_id)
    stale = replace(current, last_inbound_at=stored.last_inbound_at - timedelta(hours=25))
    repos.leads.save(current, stale)
    sent_before = len(wa.sent())
    status, answer = api_call("POST", path, AGENT, body={"text": "Still there?"})
    assert status == 409
    assert "24 hours" in answer["message"]
    assert len(wa.sent()) == sent_before


def test_a_listing_card_sends_its_photo_then_the_card_as_a_list(wa: WhatsAppStack) -> None:
    """Four card buttons are more than WhatsApp's three reply buttons: the card is a list, which
    cannot carry an image header, so the listing's photo goes first as an image message."""
    lead = WhatsAppLead(wa_id="971501112233")
    for payload in lead.qualification()[:-1]:
        wa.post(payload)
    before = len(wa.sent(lead.wa_id))
    wa.post(lead.body(lead.press("payment:cash")))
    sent = wa.sent(lead.wa_id)[before:]
    assert all(c["status"] == 200 for c in sent)  # the fake refuses what Graph refuses
    kinds = [c["payload"]["type"] for c in sent]
    assert kinds == ["image", "interactive", "image", "interactive", "interactive"]
    photos = [c["payload"]["image"] for c in sent if c["payload"]["type"] == "image"]
    assert photos == [
        {"link": "https://demo-agency.example/photos/marina-residences.jpg"},
        {"link": "https://demo-agency.example/photos/marina-gate-1br.jpg"},
    ]
    first_card = sent[1]["payload"]["interactive"]
    assert first_card["type"] == "list" and "header" not in first_card
    assert "Marina Residences" in first_card["body"]["text"]  # the card's text, in full
    rows = [r["id"] for r in first_card["action"]["sections"][0]["rows"]]
    assert [r.rsplit(":", 1)[1] for r in rows] == ["interested", "more", "viewing", "ask"]
    history = _history(wa, lead)
    shown = [e.detail.get("image") for e in history if e.kind == "outbound"][-3:]
    assert shown == [
        "https://demo-agency.example/photos/marina-residences.jpg",
        "https://demo-agency.example/photos/marina-gate-1br.jpg",
        None,
    ]

    assert wa.post(lead.body(lead.pick(rows[0])))["statusCode"] == 200
    events = [e.text for e in _history(wa, lead) if e.kind == "event"]
    assert "listing_interest" in events


def test_a_flood_in_one_body_hears_one_slow_down_and_loses_no_message(wa: WhatsAppStack) -> None:
    from leadbot.conversation.guard import BURST
    from leadbot.domain import Language, TimelineKind
    from leadbot.i18n import t

    lead = WhatsAppLead(wa_id="971507770001")
    texts = [f"hello {i}" for i in range(40)]
    assert wa.post(lead.body(*(lead.text(x) for x in texts)))["statusCode"] == 200

    slow_down = t("guard.slow_down", Language.EN)
    replies = [json.dumps(c["payload"], ensure_ascii=False) for c in wa.sent(lead.wa_id)]
    assert sum(json.dumps(slow_down, ensure_ascii=False)[1:-1] in r for r in replies) == 1
    saved = _lead(wa, lead.wa_id)
    assert BURST <= saved.messages_count < 40
    inbound = [e.text for e in _history(wa, lead) if e.kind is TimelineKind.INBOUND]
    assert sorted(inbound) == sorted(texts)
