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
falls due then is due at the end of them instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadbot.domain.enums import Channel, FollowupStep, LeadStatus
from leadbot.domain.models import Lead, Tenant

# Channels the bot can write to a lead on; Channel.MANUAL leads have no chat with it.
CHAT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WHATSAPP})
# A human has the lead from here on: a broker asked for, or any status an agent sets after.
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


@dataclass(frozen=True, slots=True)
class PendingFollowup:
    """The follow-up a lead is waiting for, and from when it may go."""

    step: FollowupStep
    due_at: datetime


def ghost_after(tenant: Tenant) -> timedelta:
    """How long a lead stays quiet before its ghost follow-up, by the tenant's settings."""
    return timedelta(minutes=tenant.ghost_after_minutes)


def reachable(lead: Lead) -> bool:
    """Whether the bot may write to the lead at all, unasked."""
    return not (
        lead.opted_out or lead.unreachable or lead.bot_paused or lead.channel not in CHAT_CHANNELS
    )


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
    """The follow-up the lead waits for as it stands now, and when it may go: its own time
    (the ghost delay, or the step's day), not before a time a sweep deferred it to, and out of
    the quiet hours of `zone` (the lead's). None: nothing is pending."""
    ghost = ghost_due_at(lead, ghost_after(tenant))
    pending = (
        PendingFollowup(step=FollowupStep.GHOST, due_at=ghost)
        if ghost is not None
        else campaign_due(lead, tenant)
    )
    if pending is None:
        return None
    at = pending.due_at
    if lead.followup_not_before is not None and lead.followup_not_before > at:
        at = lead.followup_not_before
    return replace(pending, due_at=after_quiet_hours(at, zone, tenant))


def unclaimed(lead: Lead, step: FollowupStep) -> Lead:
    """The lead as it was before a sweep claimed `step`."""
    if step is FollowupStep.GHOST:
        return replace(lead, ghost_claimed_at=None)
    return replace(lead, campaign_claimed_at=None)
