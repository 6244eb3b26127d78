"""Asking for a broker in the conversation, when a call may be expected, and which broker is
next: pure, with the time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leadbot.conversation import HANDOFF, LISTING_PREFIX, Ctx, step
from leadbot.domain import (
    Broker,
    Channel,
    EventKind,
    InboundEvent,
    Language,
    Lead,
    LeadStatus,
    Money,
    Stage,
    Tenant,
)
from leadbot.domain.handoff import (
    BrokerRequested,
    handoff_check_due,
    next_business_time,
    reference,
    round_robin,
)
from leadbot.i18n import t

# Tuesday 2026-11-24, 12:00 in Dubai: within business hours (09-18, Monday to Saturday).
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TENANT = Tenant(tenant_id="demo", name="Demo Realty")
LEAD_ID = "01KE6P4YM0VS0000000000ZQ7X"


def qualified(language: Language = Language.EN, **changes: object) -> Lead:
    """A lead that answered everything and left its number."""
    lead = Lead(
        tenant_id="demo",
        lead_id=LEAD_ID,
        channel=Channel.TELEGRAM,
        external_id="42",
        name="Sara",
        language=language,
        stage=Stage.ENGAGEMENT,
        status=LeadStatus.QUALIFIED,
        budget=Money(amount=Decimal("2500000"), currency="AED"),
        phone="+971501234567",
        created_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(hours=1),
    )
    return replace(lead, **changes)  # type: ignore[arg-type]


def message(value: str = "", kind: EventKind = EventKind.TEXT, payload: str = "") -> InboundEvent:
    return InboundEvent(
        tenant_id="demo",
        channel=Channel.TELEGRAM,
        event_id="1",
        external_id="42",
        kind=kind,
        at=NOW,
        text=value,
        payload=payload,
    )


def ctx(now: datetime = NOW, tenant: Tenant = TENANT) -> Ctx:
    return Ctx(tenant=tenant, now=now)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.EN, ("yes", "CONNECT", "Connect me!")),
        (Language.FA, ("بله", "وصلم کن", "اتصال")),
        (Language.AR, ("نعم", "تواصل", "وصلني")),
        (Language.RU, ("да", "Связаться", "свяжите меня")),
    ],
)
def test_a_qualified_lead_saying_yes_or_connect_asks_for_a_broker(
    language: Language, words: tuple[str, ...]
) -> None:
    for said in (*(message(w) for w in words), message(kind=EventKind.CHOICE, payload=HANDOFF)):
        decision = step(qualified(language), said, ctx())
        assert decision.lead.status is LeadStatus.BROKER_REQUESTED, said.text
        assert decision.lead.broker_requested_at == NOW
        assert decision.events == (BrokerRequested(reference="LB-00ZQ7X"),)
        (reply,) = decision.outbound
        assert reply.text == t(
            "handoff.requested",
            language,
            phone="+971501234567",
            when=t("handoff.when.now", language),
            reference=reference(LEAD_ID),
        )


def test_the_reference_is_the_random_end_of_the_lead_id() -> None:
    assert reference(LEAD_ID) == "LB-00ZQ7X"


@pytest.mark.parametrize(
    ("local", "when"),
    [
        # Dubai is UTC+4; the agency works 09:00-18:00, Monday to Saturday.
        ("2026-11-24 07:30", ("handoff.when.today", {"time": "09:00"})),  # Tuesday, early
        ("2026-11-24 17:59", ("handoff.when.now", {})),
        ("2026-11-24 18:00", ("handoff.when.tomorrow", {"time": "09:00"})),
        ("2026-11-28 19:00", ("handoff.when.day", {"day": "day.0", "time": "09:00"})),  # Sat
        ("2026-11-29 11:00", ("handoff.when.tomorrow", {"time": "09:00"})),  # Sunday
    ],
)
def test_when_to_expect_the_call_follows_the_agencys_business_hours(
    local: str, when: tuple[str, dict[str, str]]
) -> None:
    at = datetime.fromisoformat(f"{local}+04:00").astimezone(UTC)
    key, values = when
    if "day" in values:
        values = {**values, "day": t(values["day"], Language.EN)}
    decision = step(qualified(), message("yes"), ctx(now=at))
    (reply,) = decision.outbound
    assert t(key, Language.EN, **values) in reply.text


def test_business_hours_are_the_agencys_own() -> None:
    night_shift = replace(TENANT, business_hours_start=20, business_hours_end=23)
    assert next_business_time(NOW, night_shift) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    every_day = replace(TENANT, business_days=(0, 1, 2, 3, 4, 5, 6))
    sunday_noon = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert next_business_time(sunday_noon, every_day) is None
    assert next_business_time(sunday_noon, TENANT) == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "stage", [Stage.BUDGET, Stage.PROPERTY_TYPE, Stage.TIMELINE, Stage.PAYMENT]
)
def test_a_lead_still_qualifying_is_asked_to_finish_first(stage: Stage) -> None:
    lead = qualified(stage=stage, status=LeadStatus.QUALIFYING, phone=None)
    for said in ("yes", "connect"):
        decision = step(lead, message(said), ctx())
        assert decision.lead.status is LeadStatus.QUALIFYING and decision.events == ()
        (reply,) = decision.outbound
        assert reply.text.startswith(t("handoff.finish_first", Language.EN))
        assert decision.lead.stage is stage  # the pending question, asked again


def test_in_the_contact_stage_yes_stays_consent_to_be_called_on_whatsapp() -> None:
    lead = qualified(
        stage=Stage.CONTACT, status=LeadStatus.QUALIFYING, phone=None, channel=Channel.WHATSAPP
    )
    said = replace(message("yes"), channel=Channel.WHATSAPP, sender_phone="971509876543")
    decision = step(lead, said, ctx())
    assert decision.lead.phone == "+971509876543"
    assert decision.lead.status is LeadStatus.QUALIFIED  # not yet a broker request
    offer = decision.outbound[-1]
    assert offer.text == t("handoff.offer", Language.EN)
    assert [c.value for c in offer.choices] == [HANDOFF]


def test_qa_first_starts_the_questions_when_a_lead_asks_for_a_broker() -> None:
    lead = qualified(stage=Stage.QA, status=LeadStatus.NEW, phone=None, messages_count=0)
    decision = step(lead, message("connect"), ctx())
    assert decision.lead.stage is not Stage.QA and decision.events == ()
    assert decision.outbound[0].text.startswith(t("handoff.finish_first", Language.EN))


def test_after_the_handoff_the_bot_stops_selling_and_answers_questions() -> None:
    lead = step(qualified(), message("yes"), ctx()).lead
    already = t("handoff.already", Language.EN, reference=reference(LEAD_ID), phone="+971501234567")
    for said in (
        message("yes"),
        message("thanks!"),
        message(kind=EventKind.CHOICE, payload=f"{LISTING_PREFIX}01PROP:more"),
    ):
        decision = step(lead, said, ctx())
        assert [o.text for o in decision.outbound] == [already], said
        assert decision.events == () and decision.lead.status is LeadStatus.BROKER_REQUESTED
        assert all(not o.choices for o in decision.outbound)
    asked = step(lead, message("Is there a pool?"), ctx())
    assert asked.outbound[0].text == t("answer.unknown_agent", Language.EN)


# -- which broker is next ---------------------------------------------------------------------


def broker(n: int, **changes: object) -> Broker:
    made = Broker(
        tenant_id="demo",
        broker_id=f"B{n}",
        name=f"Broker {n}",
        phone=f"+97150000000{n}",
        email=f"b{n}@example.com",
        created_at=NOW + timedelta(minutes=n),
        telegram_chat_id=f"90000010{n}",
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_round_robin_takes_the_broker_whose_last_lead_is_oldest() -> None:
    brokers = [broker(1), broker(2), broker(3)]
    never = round_robin(brokers, {}, {})
    assert [b.broker_id for b in never] == ["B1", "B2", "B3"]  # who joined first
    last = {"B1": NOW, "B2": NOW - timedelta(hours=1), "B3": None}
    assert [b.broker_id for b in round_robin(brokers, {}, last)] == ["B3", "B2", "B1"]


def test_away_deactivated_and_full_brokers_are_skipped() -> None:
    brokers = [
        broker(1, away=True),
        broker(2, active=False),
        broker(3, max_open_leads=2),
        broker(4, max_open_leads=2),
        broker(5),
    ]
    order = round_robin(brokers, {"B3": 2, "B4": 1, "B5": 40}, {})
    assert [b.broker_id for b in order] == ["B4", "B5"]
    assert round_robin([broker(1, away=True)], {}, {}) == []


def test_a_handoff_is_checked_for_a_claim_one_sla_after_its_last_alert() -> None:
    lead = qualified(
        status=LeadStatus.ASSIGNED, handoff_alerts=1, handoff_alerted_at=NOW, broker_id="B1"
    )
    assert handoff_check_due(lead, TENANT) == NOW + timedelta(minutes=5)
    slow = replace(TENANT, handoff_sla_minutes=15)
    assert handoff_check_due(lead, slow) == NOW + timedelta(minutes=15)
    assert handoff_check_due(replace(lead, broker_claimed_at=NOW), TENANT) is None
    assert handoff_check_due(replace(lead, handoff_alerts=3), TENANT) is None
    assert handoff_check_due(replace(lead, status=LeadStatus.CONTACTED), TENANT) is None


def test_the_sla_runs_in_business_hours_and_comes_before_any_follow_up() -> None:
    from zoneinfo import ZoneInfo

    from leadbot.domain.followups import Held, next_followup

    evening = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # Tuesday 20:30 in Dubai
    lead = qualified(
        status=LeadStatus.ASSIGNED,
        handoff_alerts=1,
        handoff_alerted_at=evening,
        last_inbound_at=evening,
    )
    wednesday_open = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 09:00 in Dubai
    assert handoff_check_due(lead, TENANT) == wednesday_open + timedelta(minutes=5)
    # The ghost check-in would fall due at 09:00 (after the night's quiet hours): the
    # handoff's check holds the lead's place in the index until the SLA is done with.
    pending = next_followup(lead, TENANT, ZoneInfo("Asia/Dubai"))
    assert pending is not None and pending.step is Held.HANDOFF
    done = replace(lead, handoff_alerts=3)
    after = next_followup(done, TENANT, ZoneInfo("Asia/Dubai"))
    assert after is not None and after.step is not Held.HANDOFF
