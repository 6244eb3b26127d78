"""The follow-up rules (pure): which quiet lead hears from the agency next, what, and when.

The ghost protocol, exactly: a lead with a phone number, whose status is not
viewing_scheduled, inactive (no message of its own) for the tenant's `ghost_after_minutes`
(default 2 hours), not yet ghost-reminded, not opted out and reachable, receives one
follow-up. "Reachable" also means there is a chat to write in (a lead met elsewhere has none)
and that the bot may speak: a lead an agent took over (`bot_paused`) hears only the agent.

Then the campaign: one step on each of the tenant's `campaign_days`, counted from the ghost
message. Any reply from the lead ends it for good, as do an opt-out, a handoff (a broker asked
for, or any later status) and a viewing (scheduled, or asked for from a listing card).

Nothing goes out in the tenant's quiet hours in the lead's own time zone: a follow-up that
falls due then is due at the end of them instead, and a new listing that matches the lead then
is held (`held_property_ids`) and told at their end, by the sweep, as a pending step of its own
(`Held.MATCHES`) in the same index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from leadbot.domain.enums import Channel, FollowupStep, LeadStatus
from leadbot.domain.handoff import CLOSED, HANDED_OFF, handoff_check_due
from leadbot.domain.models import Lead, Tenant

# Channels the bot can write to a lead on; Channel.MANUAL leads have no chat with it.
CHAT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WHATSAPP})


class Held(StrEnum):
    """What a lead may wait for besides a follow-up step."""

    MATCHES = "matches"  # new listings that matched in its quiet hours, told at their end
    HANDOFF = "handoff"  # a handoff nobody claimed: alerted again after the agency's SLA


@dataclass(frozen=True, slots=True)
class PendingFollowup:
    """The follow-up a lead is waiting for, and from when it may go."""

    step: FollowupStep | Held
    due_at: datetime


def ghost_after(tenant: Tenant) -> timedelta:
    """How long a lead stays quiet before its ghost follow-up, by the tenant's settings."""
    return timedelta(minutes=tenant.ghost_after_minutes)


def reachable(lead: Lead) -> bool:
    """Whether the bot may write to the lead at all, unasked."""
    return not (
        lead.opted_out or lead.unreachable or lead.bot_paused or lead.channel not in CHAT_CHANNELS
    )


def may_hear_of_listings(lead: Lead) -> bool:
    """A lead the bot may write to unasked, whose deal is not closed."""
    return reachable(lead) and lead.status not in CLOSED


def ghost_due_at(lead: Lead, after: timedelta) -> datetime | None:
    """When the lead's ghost follow-up falls due as the lead stands now: `after` past its last
    message. None while nothing can make it due but a change to the lead itself."""
    if (
        not (lead.phone or "").strip()
        or lead.status is LeadStatus.VIEWING_SCHEDULED
        or lead.ghost_reminded_at is not None
        or lead.ghost_claimed_at is not None
        or not reachable(lead)
        or lead.last_inbound_at is None
    ):
        return None
    return lead.last_inbound_at + after


def ghost_followup_due(lead: Lead, now: datetime, tenant: Tenant) -> bool:
    """Whether the lead's one ghost follow-up is due at `now` under the tenant's settings
    (quiet hours aside: see `next_followup`)."""
    due = ghost_due_at(lead, ghost_after(tenant))
    return due is not None and now >= due


def campaign_stopped(lead: Lead) -> bool:
    """Whether the lead's campaign is over for good (or never started): no ghost message yet,
    a reply since it, an opt-out, a handoff or a viewing; or nobody to write to."""
    reminded = lead.ghost_reminded_at
    return (
        reminded is None
        or not (lead.phone or "").strip()
        or not reachable(lead)
        or lead.status in HANDED_OFF
        or lead.viewing_requested_at is not None
        or (lead.last_inbound_at is not None and lead.last_inbound_at > reminded)
    )


def campaign_step(number: int) -> FollowupStep:
    """The campaign's `number`th step (1-based)."""
    return FollowupStep(f"campaign_{number}")


def campaign_number(step: FollowupStep) -> int:
    """1 for campaign_1…; 0 for the ghost follow-up."""
    return 0 if step is FollowupStep.GHOST else int(step.value.rsplit("_", 1)[1])


def campaign_due(lead: Lead, tenant: Tenant) -> PendingFollowup | None:
    """The campaign's next step and when it falls due (its day after the ghost message)."""
    sent = lead.campaign_steps_sent
    if (
        lead.campaign_claimed_at is not None
        or sent >= len(tenant.campaign_days)
        or campaign_stopped(lead)
    ):
        return None
    assert lead.ghost_reminded_at is not None  # campaign_stopped says so
    at = lead.ghost_reminded_at + timedelta(days=tenant.campaign_days[sent])
    return PendingFollowup(step=campaign_step(sent + 1), due_at=at)


def in_quiet_hours(at: datetime, zone: ZoneInfo, tenant: Tenant) -> bool:
    """Whether `at` falls in the tenant's quiet hours on the clock of `zone`."""
    hour = at.astimezone(zone).hour
    start, end = tenant.quiet_hours_start, tenant.quiet_hours_end
    return (start <= hour or hour < end) if start > end else start <= hour < end


def after_quiet_hours(at: datetime, zone: ZoneInfo, tenant: Tenant) -> datetime:
    """`at` itself outside quiet hours, else the first moment after them (in UTC)."""
    if not in_quiet_hours(at, zone, tenant):
        return at
    local = at.astimezone(zone)
    end = datetime.combine(local.date(), time(tenant.quiet_hours_end), tzinfo=zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), time(end.hour), tzinfo=zone)
    return end.astimezone(at.tzinfo)


def next_followup(lead: Lead, tenant: Tenant, zone: ZoneInfo) -> PendingFollowup | None:
    """What the lead waits for first as it stands now, and when it may go: its follow-up at its
    own time (the ghost delay, or the step's day) and not before a time a sweep deferred it
    to, or the listings held for it, either out of the quiet hours of `zone` (the lead's); a
    handoff's SLA check before both. None: nothing is pending."""
    ghost = ghost_due_at(lead, ghost_after(tenant))
    pending = (
        PendingFollowup(step=FollowupStep.GHOST, due_at=ghost)
        if ghost is not None
        else campaign_due(lead, tenant)
    )
    if pending is not None:
        at = pending.due_at
        if lead.followup_not_before is not None and lead.followup_not_before > at:
            at = lead.followup_not_before
        pending = replace(pending, due_at=after_quiet_hours(at, zone, tenant))
    handoff = _handoff_due(lead, tenant)
    if handoff is not None:
        # First, whenever it is due: the every-minute SLA sweep reads only these, and the
        # lead has one place in the index. It is over within minutes of business hours.
        return handoff
    held = held_due(lead, tenant, zone)
    if held is not None and (pending is None or held.due_at <= pending.due_at):
        return held
    return pending


def _handoff_due(lead: Lead, tenant: Tenant) -> PendingFollowup | None:
    """Staff alerts: no quiet hours for them, the agency's business hours instead."""
    at = handoff_check_due(lead, tenant)
    return PendingFollowup(step=Held.HANDOFF, due_at=at) if at is not None else None


def held_due(lead: Lead, tenant: Tenant, zone: ZoneInfo) -> PendingFollowup | None:
    """The listings held for the lead in its quiet hours, due at their end; None when none
    are, a sweep has them, or the lead may no longer hear of listings."""
    if (
        not lead.held_property_ids
        or lead.held_claimed_at is not None
        or not may_hear_of_listings(lead)
    ):
        return None
    at = lead.held_until or lead.updated_at
    return PendingFollowup(step=Held.MATCHES, due_at=after_quiet_hours(at, zone, tenant))


def hold_listing(lead: Lead, property_id: str, until: datetime) -> Lead:
    """The lead with a new listing held for it until `until` (the end of its quiet hours)."""
    if property_id in lead.held_property_ids:
        return lead
    if lead.held_until is not None and lead.held_until < until:
        until = lead.held_until
    return replace(lead, held_property_ids=(*lead.held_property_ids, property_id), held_until=until)


def unclaimed(lead: Lead, step: FollowupStep | Held) -> Lead:
    """The lead as it was before a sweep claimed `step`."""
    if step is Held.MATCHES:
        return replace(lead, held_claimed_at=None)
    if step is Held.HANDOFF:
        return replace(lead, sla_claimed_at=None)
    if step is FollowupStep.GHOST:
        return replace(lead, ghost_claimed_at=None)
    return replace(lead, campaign_claimed_at=None)
