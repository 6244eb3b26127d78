"""The handoff over real tables (moto and DynamoDB Local) through the Telegram webhook: a
qualified lead says YES, the demo agency's brokers take such leads in turn, the broker and the
admins are alerted, and the broker claims the lead from the alert."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from leadbot import clock
from leadbot.domain import Channel, Language, Lead, LeadStatus, TimelineKind
from leadbot.domain.handoff import CLAIM_PREFIX, reference
from leadbot.i18n import t
from local.gateway import lambda_context, load_handler
from local.seed import DEMO_ADMIN_CHAT, DEMO_BROKER_CHATS, DEMO_BROKERS
from local.template import load_template, schedules
from tests.support import REPO, InProcessStack, Updates, move_clock_to, text_of

OMAR, ELENA = DEMO_BROKERS


def lead_of(stack: InProcessStack, chat: int) -> Lead:
    repos = stack.repos
    lead_id = repos.identities.lead_id(repos.identities.key("demo", Channel.TELEGRAM, str(chat)))
    assert lead_id is not None
    return repos.leads.get("demo", lead_id)


def hand_off(stack: InProcessStack, chat: int) -> Lead:
    """A lead qualifies, then says yes to a broker."""
    lead = Updates(chat)
    stack.qualify(lead)
    stack.fake.clear()
    stack.post(lead.text("yes"))
    return lead_of(stack, chat)


def alerts_to(stack: InProcessStack, chat: str) -> list[dict[str, object]]:
    return [m for m in stack.sent(chat) if "Broker requested" in text_of(m)]


def test_a_qualified_lead_saying_yes_gets_the_next_broker_who_is_alerted_with_the_admins(
    stack: InProcessStack,
) -> None:
    lead = hand_off(stack, 7301)
    ref = reference(lead.lead_id)
    [reply] = stack.sent(7301)
    assert ref in text_of(reply) and "+971501234567" in text_of(reply)
    assert (lead.status, lead.broker_id) == (LeadStatus.ASSIGNED, OMAR.broker_id)
    assert lead.broker_requested_at is not None and lead.assigned_at is not None
    assert lead.handoff_alerts == 1

    [to_omar] = alerts_to(stack, DEMO_BROKER_CHATS[0])
    [to_admin] = alerts_to(stack, DEMO_ADMIN_CHAT)
    assert not alerts_to(stack, DEMO_BROKER_CHATS[1])
    for alert in (to_omar, to_admin):
        text = text_of(alert)
        assert ref in text and OMAR.name in text and "Sara" in text and "+971501234567" in text
        assert "Dubai Marina" in text and f"/leads/{lead.lead_id}" in text
        keyboard = alert["payload"]["reply_markup"]["inline_keyboard"]  # type: ignore[index]
        assert keyboard[0][0]["callback_data"] == CLAIM_PREFIX + lead.lead_id

    history = stack.repos.timeline.history("demo", lead.lead_id)
    events = [e for e in history if e.kind is TimelineKind.EVENT]
    assert [e.text for e in events if e.text in ("broker_requested", "assigned")] == [
        "broker_requested",
        "assigned",
    ]
    [assigned] = [e for e in events if e.text == "assigned"]
    assert assigned.detail == {
        "broker_id": OMAR.broker_id,
        "broker": OMAR.name,
        "by": "round_robin",
    }
    sent_to = sorted(e.detail["to"] for e in events if e.text == "handoff_alert")
    assert sent_to == ["admin", "broker"]

    # The bot stops selling: "yes" again, or anything else, is reminded of the request.
    stack.fake.clear()
    stack.post(Updates(7301).text("ok"))
    already = t("handoff.already", Language.EN, reference=ref, phone="+971501234567")
    assert stack.last_text(7301) == already
    assert not alerts_to(stack, DEMO_BROKER_CHATS[0])


def test_brokers_take_leads_in_turn_skipping_the_away_and_the_full(
    stack: InProcessStack,
) -> None:
    brokers = stack.repos.brokers
    turns = [hand_off(stack, chat).broker_id for chat in (7311, 7312, 7313)]
    assert turns == [OMAR.broker_id, ELENA.broker_id, OMAR.broker_id]

    brokers.update(replace(OMAR, away=True), clock.now())
    assert hand_off(stack, 7314).broker_id == ELENA.broker_id
    assert hand_off(stack, 7315).broker_id == ELENA.broker_id

    # Elena has 3 open leads now: at a cap of 3, nobody may take the next one.
    brokers.update(replace(ELENA, max_open_leads=3), clock.now())
    assert stack.repos.leads.open_leads("demo", ELENA.broker_id) == 3
    nobody = hand_off(stack, 7316)
    assert (nobody.status, nobody.broker_id) == (LeadStatus.BROKER_REQUESTED, None)
    [unassigned] = alerts_to(stack, DEMO_ADMIN_CHAT)
    assert "no broker can take it" in text_of(unassigned)
    assert not alerts_to(stack, DEMO_BROKER_CHATS[1])

    # A deal won closes one of hers: there is room again.
    won = lead_of(stack, 7314)
    stack.repos.leads.save(won, replace(won, status=LeadStatus.WON))
    assert stack.repos.leads.open_leads("demo", ELENA.broker_id) == 2
    assert hand_off(stack, 7317).broker_id == ELENA.broker_id


def test_the_broker_claims_the_lead_from_the_alert_others_cannot(
    stack: InProcessStack, daytime: datetime
) -> None:
    lead = hand_off(stack, 7321)
    ref = reference(lead.lead_id)
    claim = CLAIM_PREFIX + lead.lead_id

    elena = Updates(int(DEMO_BROKER_CHATS[1]), first_name="Elena")
    stack.post(elena.press(claim))
    assert stack.last_text(DEMO_BROKER_CHATS[1]) == t(
        "alert.claim.taken", Language.EN, reference=ref, broker=OMAR.name
    )
    assert lead_of(stack, 7321).broker_claimed_at is None

    omar = Updates(int(DEMO_BROKER_CHATS[0]), first_name="Omar")
    stack.post(omar.press(claim))
    assert stack.last_text(DEMO_BROKER_CHATS[0]) == t(
        "alert.claimed", Language.EN, broker=OMAR.name, reference=ref
    )
    claimed_at = lead_of(stack, 7321).broker_claimed_at
    assert claimed_at is not None and abs(claimed_at - daytime) < timedelta(minutes=1)
    [event] = [e for e in stack.repos.timeline.history("demo", lead.lead_id) if e.text == "claimed"]
    assert event.detail == {"by": "broker", "chat": DEMO_BROKER_CHATS[0]}
    # Pressing it again changes nothing; neither chat became a lead.
    stack.post(omar.press(claim))
    assert "already taken" in stack.last_text(DEMO_BROKER_CHATS[0])
    for chat in DEMO_BROKER_CHATS:
        key = stack.repos.identities.key("demo", Channel.TELEGRAM, chat)
        assert stack.repos.identities.lead_id(key) is None


@pytest.mark.parametrize("said", ["yes", "connect"])
def test_a_lead_still_qualifying_is_asked_to_finish_first(stack: InProcessStack, said: str) -> None:
    lead = Updates(7331)
    stack.post(lead.text("/start"))
    stack.post(lead.press("goal:buy"))
    stack.fake.clear()
    stack.post(lead.text(said))
    assert stack.last_text(7331).startswith(t("handoff.finish_first", Language.EN))
    assert lead_of(stack, 7331).status is not LeadStatus.BROKER_REQUESTED
    assert not alerts_to(stack, DEMO_BROKER_CHATS[0])


# -- the SLA ----------------------------------------------------------------------------------

# Tuesday 2026-12-08, 10:00 in Dubai: the demo agency is open (09-18, Monday to Saturday).
TUESDAY_10 = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)


def sla_sweep() -> dict[str, int]:
    """The every-minute schedule, as EventBridge runs it (its Input is the event)."""
    [schedule] = [
        s for s in schedules(load_template()) if (s.function_id, s.event_name) == SLA_EVENT
    ]
    assert schedule.rate == timedelta(minutes=1)
    event = schedule.input if schedule.input is not None else {}
    result: dict[str, int] = load_handler(REPO, schedule)(
        event, lambda_context("GhostSweepFunction")
    )
    return result


SLA_EVENT = ("GhostSweepFunction", "HandoffSla")


def sla_alerts(stack: InProcessStack, chat: str) -> list[str]:
    return [
        text_of(m)
        for m in stack.sent(chat)
        if text_of(m).startswith(("⏰ Not claimed yet", "🚨 Escalation"))
    ]


@pytest.fixture
def tuesday() -> Iterator[datetime]:
    move_clock_to(TUESDAY_10)
    yield TUESDAY_10
    clock.set_offset(timedelta(0))


def test_an_unclaimed_handoff_is_alerted_again_after_the_sla_then_escalated_to_admins(
    stack: InProcessStack, tuesday: datetime
) -> None:
    lead = hand_off(stack, 7341)
    ref = reference(lead.lead_id)
    stack.fake.clear()

    move_clock_to(tuesday + timedelta(minutes=4))
    assert sla_sweep()["due"] == 0
    move_clock_to(tuesday + timedelta(minutes=5, seconds=30))
    assert sla_sweep()["sent"] == 1
    [again] = sla_alerts(stack, DEMO_BROKER_CHATS[0])
    assert again.startswith(f"⏰ Not claimed yet · {ref}: waiting 5 min") and OMAR.name in again
    assert sla_alerts(stack, DEMO_ADMIN_CHAT) == [again]
    assert lead_of(stack, 7341).handoff_alerts == 2

    stack.fake.clear()
    move_clock_to(tuesday + timedelta(minutes=10, seconds=40))
    assert sla_sweep()["sent"] == 1
    assert sla_alerts(stack, DEMO_BROKER_CHATS[0]) == []  # the escalation is the admins'
    [escalated] = sla_alerts(stack, DEMO_ADMIN_CHAT)
    assert escalated.startswith(f"🚨 Escalation · {ref}") and "10 min" in escalated
    history = stack.repos.timeline.history("demo", lead.lead_id)
    assert [e.detail["to"] for e in history if e.text == "handoff_escalated"] == ["admin"]

    stack.fake.clear()
    move_clock_to(tuesday + timedelta(hours=1))
    assert sla_sweep()["due"] == 0 and not stack.sent()


def test_a_claimed_handoff_is_not_alerted_again(stack: InProcessStack, tuesday: datetime) -> None:
    lead = hand_off(stack, 7342)
    omar = Updates(int(DEMO_BROKER_CHATS[0]), first_name="Omar")
    stack.post(omar.press(CLAIM_PREFIX + lead.lead_id))
    stack.fake.clear()
    move_clock_to(tuesday + timedelta(minutes=30))
    assert sla_sweep()["due"] == 0 and not stack.sent()


def test_the_sla_clock_runs_in_business_hours(stack: InProcessStack, tuesday: datetime) -> None:
    evening = tuesday.replace(hour=16, minute=30)  # 20:30 in Dubai: closed
    move_clock_to(evening)
    hand_off(stack, 7343)
    stack.fake.clear()
    move_clock_to(evening + timedelta(minutes=30))
    assert sla_sweep()["due"] == 0
    move_clock_to(tuesday.replace(hour=5, minute=6) + timedelta(days=1))  # 09:06 next day
    assert sla_sweep()["sent"] == 1
    assert len(sla_alerts(stack, DEMO_BROKER_CHATS[0])) == 1


def test_a_lead_scored_warm_is_not_chased(stack: InProcessStack, tuesday: datetime) -> None:
    lead = hand_off(stack, 7344)
    model = stack.repos.tables.leads
    model._get_connection().update_item(
        "demo", lead.lead_id, actions=[model.temperature.set("warm"), model.score.set(40)]
    )
    stack.fake.clear()
    move_clock_to(tuesday + timedelta(minutes=6))
    assert sla_sweep()["skipped"] == 1 and not stack.sent()
    history = stack.repos.timeline.history("demo", lead.lead_id)
    assert [e.detail for e in history if e.text == "handoff_sla_off"] == [{"reason": "not_hot"}]
    move_clock_to(tuesday + timedelta(minutes=20))
    assert sla_sweep()["due"] == 0
