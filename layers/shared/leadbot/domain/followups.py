"""The ghost protocol's rule (pure): which quiet lead gets its one follow-up, and from when.

The product's rule, exactly: a lead with a phone number, whose status is not
viewing_scheduled, inactive (no message of its own) for the tenant's `ghost_after_minutes`
(default 2 hours), not yet ghost-reminded, not opted out and reachable, receives one
follow-up. "Reachable" also means there is a chat to write in (a lead met elsewhere has none)
and that the bot may speak: a lead an agent took over (`bot_paused`) hears only the agent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from leadbot.domain.enums import Channel, LeadStatus
from leadbot.domain.models import Lead, Tenant

# Channels the bot can write to a lead on; Channel.MANUAL leads have no chat with it.
CHAT_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WHATSAPP})


def ghost_after(tenant: Tenant) -> timedelta:
    """How long a lead stays quiet before its ghost follow-up, by the tenant's settings."""
    return timedelta(minutes=tenant.ghost_after_minutes)


def ghost_due_at(lead: Lead, after: timedelta) -> datetime | None:
    """When the lead's ghost follow-up falls due as the lead stands now: `after` past its last
    message. None while nothing can make it due but a change to the lead itself."""
    if (
        not (lead.phone or "").strip()
        or lead.status is LeadStatus.VIEWING_SCHEDULED
        or lead.ghost_reminded_at is not None
        or lead.ghost_claimed_at is not None
        or lead.opted_out
        or lead.unreachable
        or lead.bot_paused
        or lead.channel not in CHAT_CHANNELS
        or lead.last_inbound_at is None
    ):
        return None
    return lead.last_inbound_at + after


def ghost_followup_due(lead: Lead, now: datetime, tenant: Tenant) -> bool:
    """Whether the lead's one ghost follow-up is due at `now` under the tenant's settings."""
    due = ghost_due_at(lead, ghost_after(tenant))
    return due is not None and now >= due
