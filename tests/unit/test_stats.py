"""Stats aggregation over hand-made leads and Timelines: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from leadbot.domain import Channel, Lead, LeadStatus, ScoreState, Temperature, TimelineEntry
from leadbot.domain import TimelineKind as Kind
from leadbot.services import stats
from leadbot.store import ScoredLead

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def _lead(
    lead_id: str,
    status: LeadStatus = LeadStatus.NEW,
    *,
    phone_at: datetime | None = None,
    source: str | None = None,
    temperature: Temperature | None = Temperature.COLD,
) -> ScoredLead:
    lead = Lead(
        tenant_id="demo",
        lead_id=lead_id,
        channel=Channel.TELEGRAM,
        external_id=lead_id,
        status=status,
        phone="+971500000000" if phone_at else None,
        phone_captured_at=phone_at,
        source=source,
        created_at=T0,
        updated_at=T0,
    )
    return ScoredLead(lead=lead, state=ScoreState(value=10, temperature=temperature))


def _event(text: str, at: datetime, **detail: str) -> TimelineEntry:
    return TimelineEntry(kind=Kind.EVENT, at=at, text=text, detail=detail)


def _moved(to: LeadStatus, at: datetime) -> TimelineEntry:
    return _event("status_changed", at, to=to.value, by="agent@demo.example")


def test_the_funnel_counts_the_furthest_step_each_lead_reached() -> None:
    leads = [
        _lead("a"),
        _lead("b", LeadStatus.QUALIFYING, phone_at=T0),  # a phone is qualified
        _lead("c", LeadStatus.VIEWING_SCHEDULED),
        _lead("d", LeadStatus.WON),
        _lead("e", LeadStatus.LOST, phone_at=T0),  # lost after a viewing
        _lead("f", LeadStatus.LOST),  # lost, history unknown
    ]
    histories: dict[str, Sequence[TimelineEntry]] = {
        "e": [_moved(LeadStatus.VIEWING_SCHEDULED, T0), _moved(LeadStatus.LOST, T0)]
    }
    assert stats.funnel(leads, histories) == stats.Funnel(
        conversations=6, qualified=4, broker_requested=3, viewing_scheduled=3, won=1
    )


def test_temperatures_and_sources_count_every_lead() -> None:
    leads = [
        _lead("a", temperature=Temperature.HOT, source="expo"),
        _lead("b", source="expo"),
        _lead("c"),
        _lead("d", temperature=None),
    ]
    assert stats.temperatures(leads) == {"burning": 0, "hot": 1, "warm": 0, "cold": 2}
    assert stats.sources(leads) == {"direct": 2, "expo": 2}


def test_speed_to_lead_is_phone_to_first_action_by_a_person() -> None:
    leads = [
        _lead("fast", phone_at=T0),
        _lead("slow", phone_at=T0),
        _lead("waiting", phone_at=T0),
        _lead("no-phone"),
    ]
    histories: dict[str, Sequence[TimelineEntry]] = {
        "fast": [
            _event("note", T0 - timedelta(minutes=30), by="a@x"),  # before the phone: ignored
            _event("note", T0 + timedelta(minutes=3), by="a@x", note="called"),
            _moved(LeadStatus.CONTACTED, T0 + timedelta(minutes=40)),
        ],
        "slow": [_moved(LeadStatus.CONTACTED, T0 + timedelta(minutes=61))],
        "waiting": [_event("temperature_changed", T0 + timedelta(minutes=1))],  # not a person
    }
    assert stats.speed_to_lead(leads, histories) == stats.SpeedToLead(
        with_phone=3, handled=2, no_action_yet=1, median_minutes=32.0, within_5_minutes=0.5
    )


def test_speed_to_lead_without_phones_has_no_figures() -> None:
    assert stats.speed_to_lead([_lead("a")], {}) == stats.SpeedToLead()


def test_followup_outcomes_count_followup_events_by_status() -> None:
    histories: dict[str, Sequence[TimelineEntry]] = {
        "a": [_event("followup_sent", T0, status="delivered"), _event("note", T0, by="x")],
        "b": [_event("followup_sent", T0, status="delivered"), _event("followup_skipped", T0)],
    }
    assert stats.followups(histories) == {"delivered": 2, "unknown": 1}
    assert stats.aggregate([], {}).followups == {}
