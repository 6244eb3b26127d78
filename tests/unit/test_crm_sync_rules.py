"""What a Leads or Deals stream record means for the CRM (services/crm_sync.py, pure): which leads
are upserted when, which activities are written and with which ids, what a deal writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from leadbot.domain import Channel, Lead, LeadStatus, Money, ScoreState, Temperature
from leadbot.domain.deals import Deal, DealStatus
from leadbot.services.crm_sync import (
    ActivityKind,
    CrmChange,
    current_deal_change,
    current_lead_change,
    deal_change,
    in_crm,
    lead_change,
)
from leadbot.store import ScoredLead

AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LEAD_ID = "01KJ0000000000000000000001"


def seen(temperature: Temperature | None = Temperature.WARM, **changes: Any) -> ScoredLead:
    lead = Lead(
        tenant_id="demo",
        lead_id=LEAD_ID,
        channel=Channel.TELEGRAM,
        external_id="900",
        status=LeadStatus.QUALIFYING,
        created_at=AT,
        updated_at=AT,
    )
    return ScoredLead(replace(lead, **changes), ScoreState(value=40, temperature=temperature))


def qualified(**changes: Any) -> ScoredLead:
    values: dict[str, Any] = {
        "status": LeadStatus.QUALIFIED,
        "phone": "+971501234567",
        "updated_at": AT + timedelta(minutes=1),
    }
    return seen(**{**values, **changes})


def kinds(change: CrmChange | None) -> list[ActivityKind]:
    assert change is not None
    return [a.kind for a in change.activities]


def test_a_lead_enters_the_crm_when_it_becomes_qualified() -> None:
    change = lead_change(seen(), qualified())

    assert change is not None and change.tenant_id == "demo"
    assert change.lead is not None and change.lead.lead.status is LeadStatus.QUALIFIED
    [activity] = change.activities
    assert activity.kind is ActivityKind.STATUS_CHANGED
    assert activity.detail == "qualifying → qualified"
    assert activity.activity_id == f"{LEAD_ID}:status:qualifying:qualified:2026-03-01T10:01:00.000Z"


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.QUALIFYING])
def test_a_lead_never_qualified_writes_nothing_whatever_changes(status: LeadStatus) -> None:
    before = seen(status=status)
    after = seen(status=status, messages_count=4, temperature=Temperature.HOT, broker_id="b1")
    assert lead_change(before, after) is None
    assert lead_change(None, after) is None
    assert not in_crm(after.lead)


def test_lost_counts_only_for_a_lead_that_got_as_far_as_a_phone() -> None:
    assert not in_crm(seen(status=LeadStatus.LOST).lead)
    assert in_crm(seen(status=LeadStatus.LOST, phone="+971501234567").lead)
    assert in_crm(seen(status=LeadStatus.WON).lead)


def test_messages_counters_and_follow_ups_of_a_qualified_lead_write_nothing() -> None:
    before = qualified()
    after = replace(
        before,
        lead=replace(
            before.lead,
            messages_count=9,
            last_inbound_at=AT + timedelta(hours=1),
            updated_at=AT + timedelta(hours=1),
            ghost_claimed_at=AT,
        ),
        state=replace(before.state, value=44),  # the score moved, its temperature did not
    )
    assert lead_change(before, after) is None


def test_a_temperature_change_updates_the_row_without_an_activity() -> None:
    change = lead_change(qualified(), qualified(temperature=Temperature.HOT))
    assert change is not None and change.lead is not None
    assert change.lead.state.temperature is Temperature.HOT
    assert change.activities == ()


def test_a_status_change_later_in_the_pipeline_updates_the_row_and_logs_it() -> None:
    later = AT + timedelta(days=2)
    change = lead_change(
        qualified(status=LeadStatus.ASSIGNED, broker_id="b1", assigned_at=AT),
        qualified(status=LeadStatus.CONTACTED, broker_id="b1", assigned_at=AT, updated_at=later),
    )
    assert change is not None and change.lead is not None
    assert change.broker_ids == ("b1",)
    [activity] = change.activities
    assert (activity.kind, activity.detail, activity.at) == (
        ActivityKind.STATUS_CHANGED,
        "assigned → contacted",
        later,
    )


def test_a_handoff_writes_the_request_then_the_assignment_with_stable_ids() -> None:
    asked_at, given_at = AT + timedelta(minutes=5), AT + timedelta(minutes=5, seconds=2)
    requested = qualified(status=LeadStatus.BROKER_REQUESTED, broker_requested_at=asked_at)
    assigned = qualified(
        status=LeadStatus.ASSIGNED,
        broker_requested_at=asked_at,
        broker_id="b1",
        assigned_at=given_at,
    )

    first = lead_change(qualified(), requested)
    second = lead_change(requested, assigned)

    assert kinds(first) == [ActivityKind.BROKER_REQUESTED]  # not also a status change
    assert first is not None and first.activities[0].activity_id == (
        f"{LEAD_ID}:broker_requested:2026-03-01T10:05:00.000Z"
    )
    assert kinds(second) == [ActivityKind.ASSIGNED]
    assert second is not None and second.broker_ids == ("b1",)
    activity = second.activities[0]
    assert activity.activity_id == f"{LEAD_ID}:assigned:b1:2026-03-01T10:05:02.000Z"
    assert (activity.broker_id, activity.at) == ("b1", given_at)
    # The same record again is the same change: its lines have the same ids.
    assert lead_change(requested, assigned) == second
    # Both in one write (one record) make both lines, with the same ids.
    both = lead_change(qualified(), assigned)
    assert both is not None
    assert {a.activity_id for a in both.activities} == {
        first.activities[0].activity_id,
        activity.activity_id,
    }


def test_an_agent_reassigning_the_broker_updates_the_row_and_logs_the_new_broker() -> None:
    before = qualified(status=LeadStatus.ASSIGNED, broker_id="b1", assigned_at=AT)
    after = qualified(status=LeadStatus.ASSIGNED, broker_id="b2", assigned_at=AT)
    change = lead_change(before, after)
    assert change is not None and change.lead is not None and change.broker_ids == ("b2",)
    assert [a.activity_id for a in change.activities] == [
        f"{LEAD_ID}:assigned:b2:2026-03-01T10:00:00.000Z"
    ]


def test_the_current_state_proves_the_handoff_lines_with_the_stream_s_ids() -> None:
    asked_at, given_at = AT + timedelta(minutes=5), AT + timedelta(minutes=6)
    now = qualified(
        status=LeadStatus.CONTACTED,
        broker_requested_at=asked_at,
        broker_id="b1",
        assigned_at=given_at,
        updated_at=AT + timedelta(days=1),
    )
    requested = qualified(status=LeadStatus.BROKER_REQUESTED, broker_requested_at=asked_at)
    streamed = (
        lead_change(qualified(), requested),
        lead_change(requested, replace(now, lead=replace(now.lead, status=LeadStatus.ASSIGNED))),
    )

    current = current_lead_change(now)

    assert current is not None and current.lead == now and current.broker_ids == ("b1",)
    ids = {a.activity_id for change in streamed if change for a in change.activities}
    assert {a.activity_id for a in current.activities} == ids
    assert current_lead_change(seen()) is None


def test_a_removed_lead_is_forgotten_in_the_crm_too() -> None:
    # Leads are removed only by forget-lead: the rows go, and nothing of the lead is written.
    change = lead_change(qualified(), None)

    assert change == CrmChange("demo", forget_lead=LEAD_ID)
    assert change.lead is None and change.activities == ()


def deal(**changes: Any) -> Deal:
    value = Deal(
        tenant_id="demo",
        deal_id="01KJDEAL000000000000000001",
        lead_id=LEAD_ID,
        broker_id="b1",
        value=Money(amount=Decimal("2500000.00"), currency="AED"),
        broker_commission_rate=Decimal("0.02"),
        platform_commission_rate=Decimal("0.25"),
        broker_commission=Money(amount=Decimal("50000.00"), currency="AED"),
        platform_commission=Money(amount=Decimal("12500.00"), currency="AED"),
        created_at=AT,
        version=1,
    )
    return replace(value, **changes)


def test_a_new_deal_writes_its_row_its_broker_and_its_creation() -> None:
    change = deal_change(None, deal())
    assert change is not None and change.deal == deal() and change.broker_ids == ("b1",)
    [created] = change.activities
    assert (created.kind, created.activity_id, created.lead_id) == (
        ActivityKind.DEAL_CREATED,
        "01KJDEAL000000000000000001:created",
        LEAD_ID,
    )
    assert created.detail == "deal 01KJDEAL000000000000000001: 2500000.00 AED"


def test_a_deal_won_or_lost_is_logged_once_and_a_save_without_change_writes_nothing() -> None:
    closed = AT + timedelta(days=30)
    won = deal(status=DealStatus.WON, closed_at=closed, version=2)
    change = deal_change(deal(), won)
    assert kinds(change) == [ActivityKind.DEAL_WON]
    assert change is not None and change.activities[0].activity_id == (
        "01KJDEAL000000000000000001:won:2026-03-31T10:00:00.000Z"
    )
    assert deal_change(won, replace(won, version=3)) is None  # only the version moved
    value_fixed = replace(won, value=Money(amount=Decimal("2400000.00"), currency="AED"))
    assert kinds(deal_change(won, value_fixed)) == []  # the row, no new line
    lost = deal_change(deal(), deal(status=DealStatus.LOST, closed_at=closed))
    assert kinds(lost) == [ActivityKind.DEAL_LOST]
    assert kinds(current_deal_change(won)) == [ActivityKind.DEAL_CREATED, ActivityKind.DEAL_WON]
    assert deal_change(deal(), None) is None
