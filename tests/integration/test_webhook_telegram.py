"""The Telegram webhook end to end in-process: verification, the journey, alerts, idempotency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from pynamodb.exceptions import PutError

from leadbot.domain import Channel, Lead, LeadStatus, Stage
from local.seed import DEMO_ADMIN_CHAT
from tests.support import InProcessStack, Updates, event_payload, text_of


def _lead(stack: InProcessStack, chat_id: int) -> Lead:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat_id))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return stack.repos.leads.get("demo", lead_id)


def test_a_lead_qualifies_itself_and_the_admin_is_alerted(stack: InProcessStack) -> None:
    lead = Updates(700_000_101, first_name="Sara")
    for update in (
        lead.text("/start qr_expo2026"),
        lead.press("goal:buy"),
        lead.text("2.5M AED"),
        lead.press("property_type:apartment"),
        lead.text("Dubai Marina"),
        lead.press("timeline:3m"),
        lead.text("2 bedrooms"),
        lead.press("payment:mortgage"),
        lead.contact("+971 50 123 4567"),
    ):
        assert stack.post(update)["statusCode"] == 200

    saved = _lead(stack, 700_000_101)
    assert saved.status is LeadStatus.QUALIFIED
    assert saved.stage is Stage.ENGAGEMENT
    assert saved.phone == "+971501234567"
    assert saved.budget is not None and saved.budget.amount == Decimal("2500000")
    assert saved.budget.currency == "AED"
    assert (saved.source, saved.qr_scans, saved.messages_count) == ("expo2026", 1, 9)
    assert saved.location == "Dubai Marina"

    alert = stack.last_text(DEMO_ADMIN_CHAT)
    for expected in ("Sara", "+971501234567", "Buy", "2,500,000 AED", "Dubai Marina", "expo2026"):
        assert expected in alert
    assert f"https://dashboard.example.test/leads/{saved.lead_id}" in alert
    thanks, offer = stack.sent(700_000_101)[-2:]  # the demo agency's catalogs follow the thanks
    assert "+971501234567" in thanks["payload"]["text"]
    connect, *catalogs = offer["payload"]["reply_markup"]["inline_keyboard"]
    assert connect[0]["callback_data"] == "handoff"  # the broker's button, then the catalogs
    assert catalogs and all("url" in row[0] for row in catalogs)
    history = stack.repos.timeline.history("demo", saved.lead_id)
    assert [e.text for e in history if e.kind == "event"] == ["hot_lead_alert"]
    assert all(e.status == "sent" for e in history if e.kind == "outbound")


def test_a_redelivered_update_gets_no_second_reply_and_no_double_count(
    stack: InProcessStack,
) -> None:
    lead = Updates(700_000_102)
    start = lead.text("/start qr_billboard")
    stack.post(start)
    replies = len(stack.sent(700_000_102))
    assert stack.post(start)["statusCode"] == 200
    assert len(stack.sent(700_000_102)) == replies
    saved = _lead(stack, 700_000_102)
    assert (saved.qr_scans, saved.messages_count) == (1, 1)


@pytest.mark.parametrize(
    ("secret", "status"), [(None, 401), ("wrong", 401), ("demo-telegram-secret", 200)]
)
def test_the_secret_token_is_checked(
    stack: InProcessStack, secret: str | None, status: int
) -> None:
    assert stack.post(event_payload("telegram_text"), secret=secret)["statusCode"] == status


def test_malformed_and_huge_bodies_are_refused(stack: InProcessStack) -> None:
    assert stack.post("{not json")["statusCode"] == 400
    assert stack.post(json.dumps({"message": {}}))["statusCode"] == 400
    huge = json.dumps({"update_id": 1, "padding": "x" * (1024 * 1024)})
    assert stack.post(huge)["statusCode"] == 413
    assert stack.fake.outbox() == []


def test_an_unknown_tenant_is_unauthorized(stack: InProcessStack) -> None:
    stack.tenant_id = "nobody"
    assert stack.post(event_payload("telegram_text"))["statusCode"] == 401


@pytest.mark.parametrize("name", ["telegram_group_message", "telegram_channel_post"])
def test_other_update_kinds_are_acknowledged_and_ignored(stack: InProcessStack, name: str) -> None:
    assert stack.post(event_payload(name))["statusCode"] == 200
    assert stack.fake.outbox() == []


def test_a_button_press_is_answered_in_the_webhooks_answer(stack: InProcessStack) -> None:
    lead = Updates(700_000_103)
    stack.post(lead.text("/start"))
    before = len(stack.fake.outbox())
    press = lead.press("goal:rent")
    response = stack.post(press)
    # Telegram runs the method the webhook answers with: the spinner stops, no call of ours.
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"]) == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
    }
    assert [c["method"] for c in stack.fake.outbox()[before:]] == ["sendMessage"]
    assert _lead(stack, 700_000_103).goal == "rent"


def test_a_redelivered_press_is_answered_again_and_not_handled_again(
    stack: InProcessStack,
) -> None:
    lead = Updates(700_000_113)
    stack.post(lead.text("/start"))
    press = lead.press("goal:buy")
    first = stack.post(press)
    sent = len(stack.fake.outbox())
    again = stack.post(press)
    assert again["body"] == first["body"]
    assert len(stack.fake.outbox()) == sent


def test_a_message_is_answered_ok(stack: InProcessStack) -> None:
    response = stack.post(Updates(700_000_123).text("/start"))
    assert json.loads(response["body"]) == {"ok": True}


def test_blocking_the_bot_marks_the_lead_unreachable(stack: InProcessStack) -> None:
    lead = Updates(700_000_104)
    stack.post(lead.text("/start"))
    stack.post(lead.blocked())
    assert _lead(stack, 700_000_104).unreachable is True


def test_a_403_on_send_marks_the_lead_unreachable_and_is_recorded(stack: InProcessStack) -> None:
    lead = Updates(700_000_105)
    stack.post(lead.text("/start"))
    stack.fake.fail_next("700000105", 403, "Forbidden: bot was blocked by the user")
    assert stack.post(lead.press("goal:buy"))["statusCode"] == 200
    saved = _lead(stack, 700_000_105)
    assert saved.unreachable is True
    statuses = [e.status for e in stack.repos.timeline.history("demo", saved.lead_id)]
    assert "blocked" in statuses


def test_someone_elses_contact_is_not_taken_as_the_phone(stack: InProcessStack) -> None:
    lead = Updates(700_000_106)
    stack.post(lead.text("/start"))
    for data in ("goal:buy", "property_type:villa", "timeline:now", "bedrooms:3", "payment:cash"):
        if data.startswith("property_type"):
            stack.post(lead.text("3M"))
        stack.post(lead.press(data))
        if data.startswith("property_type"):
            stack.post(lead.text("Palm Jumeirah"))
    assert _lead(stack, 700_000_106).stage is Stage.CONTACT
    stack.post(lead.contact("+971 50 765 4321", user_id=12345))
    assert _lead(stack, 700_000_106).phone is None
    assert stack.sent(DEMO_ADMIN_CHAT) == []


def test_concurrent_messages_of_one_lead_are_all_counted(ddblocal_stack: InProcessStack) -> None:
    stack = ddblocal_stack
    lead = Updates(700_000_107)
    stack.post(lead.text("/start"))
    updates = [lead.text(f"message {n}") for n in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda u: stack.post(u)["statusCode"], updates))
    # A message that lost every optimistic-locking race is refused with 503 and redelivered,
    # as Telegram does; none may vanish.
    for update, status in zip(updates, statuses, strict=True):
        while status != 200:
            assert status == 503
            status = stack.post(update)["statusCode"]
    assert _lead(stack, 700_000_107).messages_count == 13


def test_two_first_messages_at_once_make_one_lead(ddblocal_stack: InProcessStack) -> None:
    stack = ddblocal_stack
    lead = Updates(700_000_108)
    first, second = lead.text("/start qr_door"), lead.text("hello")
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(pool.map(lambda u: stack.post(u)["statusCode"], (first, second)))
    for update, status in zip((first, second), statuses, strict=True):
        while status != 200:
            status = stack.post(update)["statusCode"]
    saved = _lead(stack, 700_000_108)
    assert (saved.messages_count, saved.qr_scans, saved.source) == (2, 1, "door")


def test_a_timeline_outage_keeps_the_entries_in_the_log_and_counts_once(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lead = Updates(700_000_109)
    stack.post(lead.text("/start"))
    timeline = stack.repos.timeline

    def refuse(*_: object) -> None:
        raise PutError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(timeline, "_write", refuse)
    answer = lead.press("goal:invest")
    assert stack.post(answer)["statusCode"] == 200
    assert stack.post(answer)["statusCode"] == 200  # Telegram's redelivery changes nothing
    assert _lead(stack, 700_000_109).messages_count == 2
    assert len(stack.sent(700_000_109)) == 2
    failure = next(r for r in caplog.records if r.getMessage().startswith("timeline write failed"))
    assert any(e.get("payload") == "goal:invest" for e in failure.entries)  # type: ignore[attr-defined]


def test_entries_kept_in_the_log_carry_no_personal_data(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    lead = Updates(700_000_110)
    for update in lead.qualification()[:-1]:
        stack.post(update)

    def refuse(*_: object) -> None:
        raise PutError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(stack.repos.timeline, "_write", refuse)
    stack.post(lead.text("my card is 4111 1111 1111 1111, mail sara@example.com"))
    stack.post(lead.contact("+971 50 765 4321"))
    logged = json.dumps(
        [r.entries for r in caplog.records if hasattr(r, "entries")], ensure_ascii=False
    )
    assert "[number]" in logged and "[email]" in logged
    for personal in ("4111", "sara@example.com", "765 4321", "507654321"):
        assert personal not in logged


def test_a_flood_is_recorded_whole_answered_in_part_and_told_once_to_slow_down(
    stack: InProcessStack,
) -> None:
    from leadbot.conversation.guard import BURST
    from leadbot.domain import Language, TimelineKind
    from leadbot.i18n import t

    lead = Updates(700_000_177)
    for i in range(40):
        assert stack.post(lead.text(f"buy buy buy {i}"))["statusCode"] == 200

    replies = [text_of(call) for call in stack.sent(700_000_177)]
    slow_down = t("guard.slow_down", Language.EN)
    assert replies.count(slow_down) == 1
    answered = len(replies) - 1
    assert BURST <= answered < 40  # a few tokens come back while the flood is handled
    saved = _lead(stack, 700_000_177)
    assert saved.messages_count == answered  # engagement counts what got through
    history = stack.repos.timeline.history("demo", saved.lead_id)
    inbound = [e.text for e in history if e.kind is TimelineKind.INBOUND]
    assert sorted(inbound) == sorted(f"buy buy buy {i}" for i in range(40))  # nothing lost
    assert [e.text for e in history if e.text == "rate_limited"] == ["rate_limited"]
