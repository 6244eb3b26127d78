"""The handoff to a broker (pure): who may ask for one, when a call may be expected, which
broker takes the lead next, and when an unclaimed handoff is alerted again.

A lead that finished qualifying (it left a phone number) and says YES / CONNECT, or taps the
button, asks for a broker. The agency's brokers take such leads in turn (round-robin: the one
whose last assignment is oldest goes first), skipping brokers who are deactivated or away and
brokers at their cap of open leads. The broker and the admins are alerted; a handoff nobody
claims within the agency's SLA is alerted again, and after a second miss escalated to the
admins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from leadbot.domain.enums import LeadStatus
from leadbot.domain.models import Lead, Tenant, TimelineEntry, TimelineEvent, TimelineKind

if TYPE_CHECKING:
    # Brokers are the handoff's, not the conversation's: the webhooks' cold start skips them.
    from leadbot.domain.deals import Broker

# Deals closed either way: every other lead with a broker counts against the broker's cap.
CLOSED = frozenset({LeadStatus.WON, LeadStatus.LOST})
# A broker has been asked for, or the lead is further on: the bot no longer sells.
HANDED_OFF = frozenset(
    {
        LeadStatus.BROKER_REQUESTED,
        LeadStatus.ASSIGNED,
        LeadStatus.CONTACTED,
        LeadStatus.VIEWING_SCHEDULED,
        LeadStatus.NEGOTIATING,
        LeadStatus.WON,
        LeadStatus.LOST,
    }
)
# A handoff alert's button, pressed in a broker's or an admin's chat: claim:<lead_id> (32
# bytes; Telegram's callback_data holds 64).
CLAIM_PREFIX = "claim:"
# The alerts of one handoff: the first, one more after the SLA, then the admins' escalation.
FIRST_ALERT, REALERT, ESCALATION = 1, 2, 3


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerRequested(TimelineEvent):
    """The lead asked for a broker: the service routes it (services/handoff.py)."""

    reference: str

    def entry(self, at: datetime) -> TimelineEntry:
        detail = {"reference": self.reference}
        return TimelineEntry(kind=TimelineKind.EVENT, at=at, text="broker_requested", detail=detail)


def reference(lead_id: str) -> str:
    """The id a lead quotes when it calls about its request: the random end of its ULID."""
    return f"LB-{lead_id[-6:].upper()}"


def may_request_broker(lead: Lead) -> bool:
    """Qualified: it answered the questions and left a number (or consented to be called)."""
    return bool((lead.phone or "").strip()) and lead.status not in HANDED_OFF


def next_business_time(now: datetime, tenant: Tenant) -> datetime | None:
    """None within the agency's business hours (a call may come at once); otherwise when they
    open next, on the agency's clock."""
    zone = ZoneInfo(tenant.timezone)
    local = now.astimezone(zone)
    start, end = time(tenant.business_hours_start), time(tenant.business_hours_end)
    if local.weekday() in tenant.business_days and start <= local.time() < end:
        return None
    day = local.date()
    if local.time() >= start:
        day += timedelta(days=1)
    for _ in range(7):
        if day.weekday() in tenant.business_days:
            return datetime.combine(day, start, tzinfo=zone)
        day += timedelta(days=1)
    return None  # no business days: the call may come any time


def open_for_leads(broker: Broker, open_leads: int) -> bool:
    """Whether the broker may take one more lead now."""
    if not broker.active or broker.away:
        return False
    return broker.max_open_leads is None or open_leads < broker.max_open_leads


def round_robin(
    brokers: Iterable[Broker],
    open_leads: Mapping[str, int],
    last_assigned: Mapping[str, datetime | None],
) -> list[Broker]:
    """The brokers who may take the lead, in the order they should be tried: the one whose
    last assignment is oldest (never assigned first), ties by who joined first."""
    floor = datetime.min.replace(tzinfo=None)

    def turn(broker: Broker) -> tuple[datetime, datetime, str]:
        last = last_assigned.get(broker.broker_id)
        return (
            last.replace(tzinfo=None) if last is not None else floor,
            broker.created_at.replace(tzinfo=None),
            broker.broker_id,
        )

    fit = [b for b in brokers if open_for_leads(b, open_leads.get(b.broker_id, 0))]
    return sorted(fit, key=turn)


def sla(tenant: Tenant) -> timedelta:
    return timedelta(minutes=tenant.handoff_sla_minutes)


def handoff_check_due(lead: Lead, tenant: Tenant) -> datetime | None:
    """When the handoff is to be checked for a claim next: the SLA after its last alert, the
    clock running in business hours only (a request at night is due after opening), while
    nobody claimed it and an alert is left to send. None: nothing to check."""
    alerted = lead.handoff_alerted_at
    if (
        lead.status not in (LeadStatus.BROKER_REQUESTED, LeadStatus.ASSIGNED)
        or lead.broker_claimed_at is not None
        or lead.sla_claimed_at is not None
        or alerted is None
        or lead.handoff_alerts >= ESCALATION
    ):
        return None
    opens = next_business_time(alerted, tenant)
    return (opens if opens is not None else alerted) + sla(tenant)
