"""What agents do with leads in the dashboard: list them hottest first, read one, move it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from leadbot import clock
from leadbot.channels.whatsapp import can_send_free_text
from leadbot.domain import (
    Broker,
    BrokerNotFound,
    Channel,
    Delivery,
    Language,
    LeadConflict,
    LeadNotFound,
    LeadStatus,
    Outbound,
    Temperature,
    Tenant,
    TimelineEntry,
    TimelineKind,
)
from leadbot.services.cursors import decode_cursor, take_page
from leadbot.services.errors import BadRequest, Conflict
from leadbot.services.inbound import Messenger, record
from leadbot.services.runtime import Repositories
from leadbot.store import ScoredLead

MAX_PAGE = 100
MAX_CONFLICT_RETRIES = 5
# Items per DynamoDB request when a report walks a whole tenant (a page stays under 1 MB).
WALK_PAGE = 500


@dataclass(frozen=True, kw_only=True)
class LeadFilter:
    temperature: Temperature | None = None
    status: LeadStatus | None = None
    source: str | None = None
    broker_id: str | None = None
    language: Language | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    search: str | None = None  # part of the name (any case) or of the phone's digits

    def matches(self, scored: ScoredLead) -> bool:
        lead, state = scored.lead, scored.state
        if self.temperature is not None and state.temperature is not self.temperature:
            return False
        if self.status is not None and lead.status is not self.status:
            return False
        if self.source is not None and lead.source != self.source:
            return False
        if self.broker_id is not None and lead.broker_id != self.broker_id:
            return False
        if self.language is not None and lead.language is not self.language:
            return False
        if self.created_from is not None and lead.created_at < self.created_from:
            return False
        if self.created_to is not None and lead.created_at >= self.created_to:
            return False
        return self.search is None or _found(self.search, lead.name, lead.username, lead.phone)

    @property
    def empty(self) -> bool:
        return self == LeadFilter()


def _found(search: str, name: str, username: str, phone: str | None) -> bool:
    needle = search.strip().casefold()
    digits = "".join(ch for ch in search if ch.isdigit())
    if needle and (needle in name.casefold() or needle.lstrip("@") in username.casefold()):
        return True
    return bool(digits) and digits in (phone or "")


@dataclass(frozen=True)
class Page:
    items: list[ScoredLead]
    next_cursor: str | None


def list_leads(
    repos: Repositories, tenant_id: str, filters: LeadFilter, cursor: str | None, limit: int
) -> Page:
    """One page of the tenant's leads, hottest first. Unfiltered, a page is one query."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    start = decode_cursor(cursor, tenant_id)
    walk = repos.pages.by_score(tenant_id, start, page_size=limit if filters.empty else MAX_PAGE)
    items, next_cursor = take_page(walk, limit, filters.matches)
    return Page(items=items, next_cursor=next_cursor)


def every_lead(repos: Repositories, tenant_id: str, filters: LeadFilter) -> Iterator[ScoredLead]:
    """Every scored lead of the tenant that matches, hottest first (exports, stats).

    Reads the tenant's whole by_score index, one query per WALK_PAGE leads, whatever the
    filters: a report is not paged, so it pays for every lead once.
    """
    for scored in repos.pages.by_score(tenant_id, None, page_size=WALK_PAGE):
        if filters.matches(scored):
            yield scored


def lead(repos: Repositories, tenant_id: str, lead_id: str) -> ScoredLead:
    found = repos.scores.get(tenant_id, lead_id)
    if found is None:
        raise LeadNotFound(lead_id)
    return found


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineEntry]
    next_cursor: str | None


def timeline(
    repos: Repositories, tenant_id: str, lead_id: str, cursor: str | None, limit: int
) -> TimelinePage:
    """The lead's history, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    lead(repos, tenant_id, lead_id)  # another tenant's lead is not found, not empty
    start = decode_cursor(cursor, tenant_id, pk=f"{tenant_id}#{lead_id}")
    walk = repos.pages.timeline(tenant_id, lead_id, start, page_size=limit)
    items, next_cursor = take_page(walk, limit)
    return TimelinePage(items=items, next_cursor=next_cursor)


# Assigning a broker moves a lead this early in the pipeline on to `assigned`.
BEFORE_ASSIGNED = frozenset(
    {LeadStatus.NEW, LeadStatus.QUALIFYING, LeadStatus.QUALIFIED, LeadStatus.BROKER_REQUESTED}
)


@dataclass(frozen=True)
class Assignment:
    """The broker a lead should have; None takes the lead off its broker."""

    broker_id: str | None


def update_lead(
    repos: Repositories,
    tenant_id: str,
    lead_id: str,
    *,
    by: str,
    status: LeadStatus | None = None,
    lost_reason: str | None = None,
    note: str | None = None,
    bot_paused: bool | None = None,
    assign: Assignment | None = None,
    now: Callable[[], datetime] = clock.now,
) -> ScoredLead:
    """Move the lead along the pipeline, assign its broker, pause or resume the bot, add a
    note; each is a Timeline event."""
    if status is LeadStatus.LOST and not (lost_reason or "").strip():
        raise BadRequest("a lost lead needs a lost_reason")
    if lost_reason is not None and status is not LeadStatus.LOST:
        raise BadRequest("lost_reason goes with status lost")
    if status is None and note is None and bot_paused is None and assign is None:
        raise BadRequest("nothing to change: give a status, broker_id, a note or bot_paused")
    if note is not None and not note.strip():
        raise BadRequest("a note cannot be empty")
    broker = _broker(repos, tenant_id, assign)
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.leads.get(tenant_id, lead_id)  # LeadNotFound for another tenant's id
        entries = []
        after = before
        at = now()
        target = status
        if assign is not None and assign.broker_id != before.broker_id:
            after = replace(after, broker_id=assign.broker_id, updated_at=at)
            entries.append(_assignment_event(before.broker_id, broker, by, at))
            if broker is not None and status is None and before.status in BEFORE_ASSIGNED:
                target = LeadStatus.ASSIGNED
        if target is not None and target is not before.status:
            after = replace(
                after,
                status=target,
                lost_reason=lost_reason.strip() if lost_reason else None,
                updated_at=at,
            )
            detail = {"from": before.status.value, "to": target.value, "by": by}
            if lost_reason:
                detail["lost_reason"] = lost_reason.strip()
            entries.append(
                TimelineEntry(kind=TimelineKind.EVENT, at=at, text="status_changed", detail=detail)
            )
        if bot_paused is not None and bot_paused is not before.bot_paused:
            after = replace(after, bot_paused=bot_paused, updated_at=at)
            entries.append(_bot_event(bot_paused, by, at))
        try:
            repos.leads.save(before, after)
        except LeadConflict:
            continue
        if note is not None:
            entries.append(
                TimelineEntry(
                    kind=TimelineKind.EVENT,
                    at=at,
                    text="note",
                    detail={"by": by, "note": note.strip()},
                )
            )
        if entries:
            repos.timeline.append(tenant_id, lead_id, entries)
        return lead(repos, tenant_id, lead_id)
    raise LeadConflict(lead_id)


def _broker(repos: Repositories, tenant_id: str, assign: Assignment | None) -> Broker | None:
    """The active broker to assign, checked before the lead is touched; None to unassign."""
    if assign is None or assign.broker_id is None:
        return None
    try:
        broker = repos.brokers.get(tenant_id, assign.broker_id)
    except BrokerNotFound:
        raise BadRequest(f"no broker {assign.broker_id} in this agency") from None
    if not broker.active:
        raise BadRequest(f"broker {broker.name} is deactivated; assign an active broker")
    return broker


def _assignment_event(
    previous: str | None, broker: Broker | None, by: str, at: datetime
) -> TimelineEntry:
    if broker is None:
        detail = {"broker_id": previous or "", "by": by}
        return TimelineEntry(
            kind=TimelineKind.EVENT, at=at, text="broker_unassigned", detail=detail
        )
    detail = {"broker_id": broker.broker_id, "broker": broker.name, "by": by}
    if previous:
        detail["previous_broker_id"] = previous
    return TimelineEntry(kind=TimelineKind.EVENT, at=at, text="broker_assigned", detail=detail)


def _bot_event(paused: bool, by: str, at: datetime) -> TimelineEntry:
    text = "bot_paused" if paused else "bot_resumed"
    return TimelineEntry(kind=TimelineKind.EVENT, at=at, text=text, detail={"by": by})


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    bot_paused: bool


def channel_messenger(tenant: Tenant, channel: Channel) -> Messenger:
    """The agency's sending side on `channel` (its Telegram bot, its WhatsApp number)."""
    if channel is Channel.WHATSAPP:
        from leadbot.services.whatsapp import whatsapp_client

        return whatsapp_client(tenant)
    from leadbot.services.telegram import telegram_client

    return telegram_client(tenant)


def send_message(
    repos: Repositories,
    tenant_id: str,
    lead_id: str,
    text: str,
    *,
    by: str,
    messenger_for: Callable[[Tenant, Channel], Messenger],
    now: Callable[[], datetime] = clock.now,
) -> Sent:
    """An agent writes to the lead through its channel. Taking over pauses the bot, so it
    never talks over the agent; PATCH bot_paused=false hands the lead back."""
    if not text.strip():
        raise BadRequest("a message cannot be empty")
    tenant = repos.tenants.get(tenant_id)
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.leads.get(tenant_id, lead_id)  # LeadNotFound for another tenant's id
        if before.opted_out:
            raise Conflict("the lead opted out: no messages until it writes again")
        if before.channel is Channel.MANUAL:
            raise Conflict("the lead has no chat with the bot yet: call or email them")
        if before.channel is Channel.WHATSAPP and not can_send_free_text(
            before.last_inbound_at, now()
        ):
            raise Conflict(
                "more than 24 hours since the lead last wrote: WhatsApp allows only the "
                "agency's approved templates until the lead writes again"
            )
        if before.bot_paused:
            break
        at = now()
        try:
            repos.leads.save(before, replace(before, bot_paused=True, updated_at=at))
        except LeadConflict:
            continue
        repos.timeline.append(tenant_id, lead_id, [_bot_event(True, by, at)])
        break
    else:
        raise LeadConflict(lead_id)
    messenger = messenger_for(tenant, before.channel)
    language = before.language or tenant.default_language
    delivery = messenger.send(before.external_id, Outbound(text=text.strip()), language)
    entry = TimelineEntry(
        kind=TimelineKind.OUTBOUND,
        at=now(),
        channel=before.channel,
        text=text.strip(),
        detail={"by": by, **({"error": delivery.error} if delivery.error else {})},
        status=delivery.status,
        message_id=delivery.message_id,
    )
    record(repos, tenant_id, lead_id, [entry])
    return Sent(delivery=delivery, bot_paused=True)
