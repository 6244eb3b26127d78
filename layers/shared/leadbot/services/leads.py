"""What agents do with leads in the dashboard: list them hottest first, read one, move it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from leadbot.domain import (
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
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ScoredLead:
    """Move the lead along the pipeline, pause or resume the bot, add a note; each is a
    Timeline event."""
    if status is LeadStatus.LOST and not (lost_reason or "").strip():
        raise BadRequest("a lost lead needs a lost_reason")
    if lost_reason is not None and status is not LeadStatus.LOST:
        raise BadRequest("lost_reason goes with status lost")
    if status is None and note is None and bot_paused is None:
        raise BadRequest("nothing to change: give a status, a note or bot_paused")
    if note is not None and not note.strip():
        raise BadRequest("a note cannot be empty")
    for _ in range(MAX_CONFLICT_RETRIES):
        before = repos.leads.get(tenant_id, lead_id)  # LeadNotFound for another tenant's id
        entries = []
        after = before
        at = now()
        if status is not None and status is not before.status:
            after = replace(
                before,
                status=status,
                lost_reason=lost_reason.strip() if lost_reason else None,
                updated_at=at,
            )
            detail = {"from": before.status.value, "to": status.value, "by": by}
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


def _bot_event(paused: bool, by: str, at: datetime) -> TimelineEntry:
    text = "bot_paused" if paused else "bot_resumed"
    return TimelineEntry(kind=TimelineKind.EVENT, at=at, text=text, detail={"by": by})


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    bot_paused: bool


def send_message(
    repos: Repositories,
    tenant_id: str,
    lead_id: str,
    text: str,
    *,
    by: str,
    messenger_for: Callable[[Tenant], Messenger],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
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
    delivery = messenger_for(tenant).send(before.external_id, Outbound(text=text.strip()))
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
