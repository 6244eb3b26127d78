"""New-listing matches: a listing just added goes, once, to the agency's leads it matches.

Runs off the Properties table's stream (functions/ghost_sweep, event NewListings), never in
the request that added the listing: 500 messages at Telegram's 25 a second take 20 s. The
leads come from one Query of the agency's partition of the Leads table (never a scan); those
the listing matches (conversation.matching.fits_new_listing, the rule the conversation's
offers keep too) and that may be written to are told, most recently active first, at most
MATCH_CAP of them per listing, paced per agency and channel. Each lead is marked told of the
listing with a conditional write before the send (store/followups.py claim_match), so it
hears of a listing at most once, however often the stream delivers the record.

Nothing goes out in a lead's quiet hours: a lead the listing matches then is marked told and
the listing held for it (domain/followups.py hold_listing); the sweep tells it at the end of
them (`tell_held`, a pending step of the followups_due index like any follow-up), if the
listing is still on offer and still fits.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadbot import clock
from leadbot.domain import (
    ChannelError,
    Lead,
    PropertyNotFound,
    Tenant,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
)
from leadbot.domain.followups import (
    Held,
    after_quiet_hours,
    hold_listing,
    in_quiet_hours,
    may_hear_of_listings,
    unclaimed,
)
from leadbot.followups import lead_zone, match_message
from leadbot.services.followups import (
    DELIVERY_OUTCOMES,
    Deliver,
    GhostOutcome,
    Pacer,
    deliver,
    settle_claim,
)
from leadbot.services.inbound import record, save_lead
from leadbot.services.runtime import Repositories
from leadbot.store import ReadCount

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )

    from leadbot.domain.listings import Property

log = logging.getLogger(__name__)

MATCH_CAP = 500  # leads told of one listing, at most
MATCH = "match"  # Timeline detail: which follow-up an entry is
_HELD = {"followup": MATCH}  # …for entries about a lead's held listings as a whole
MATCH_MARGIN_MS = 10_000  # stop telling leads this long before the Lambda's time is up


class MatchesUnfinished(Exception):
    """Some leads are still to be told (out of time, or a send that may pass later): the
    stream delivers the record again, and the markers keep everyone told once."""


@dataclass
class MatchReport:
    """What announcing one listing did; `items_read` is what DynamoDB read to find the leads."""

    property_id: str
    matching: int = 0  # leads it matches that may be written to
    told_before: int = 0  # already told of it (a retry, or another run)
    capped: int = 0  # matching leads left out by the cap
    lost: int = 0  # marker refused: told meanwhile, or opted out since the read
    held: int = 0  # in the lead's quiet hours: a sweep tells it at their end
    retry: int = 0  # markers given back: a later delivery of the record tells them
    unfinished: bool = False
    items_read: int = 0
    outcomes: Counter[GhostOutcome] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "property_id": self.property_id,
            "matching": self.matching,
            "told_before": self.told_before,
            "capped": self.capped,
            "lost": self.lost,
            "held": self.held,
            "retry": self.retry,
            "unfinished": self.unfinished,
            "items_read": self.items_read,
            **{outcome.value: self.outcomes[outcome] for outcome in GhostOutcome},
        }


def announce_listing(
    repos: Repositories,
    tenant_id: str,
    property_id: str,
    now: datetime,
    *,
    send: Deliver = deliver,
    pacer: Pacer | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> MatchReport:
    """Tell the tenant's matching leads of the listing, each at most once, at most MATCH_CAP."""
    from leadbot.conversation.matching import fits_new_listing
    from leadbot.domain.listings import ListingStatus

    report = MatchReport(property_id=property_id)
    try:
        tenant = repos.tenants.get(tenant_id)
        listing = repos.properties.get(tenant_id, property_id)
    except (TenantNotFound, PropertyNotFound):
        return report
    if not tenant.active or listing.status is not ListingStatus.ACTIVE:
        return report
    if listing.units_available <= 0:
        return report
    pacer = pacer or Pacer()
    count = ReadCount()
    fitting: list[Lead] = []
    for lead in repos.followups.match_candidates(tenant_id, count):
        if not (may_hear_of_listings(lead) and fits_new_listing(lead, listing)):
            continue
        if property_id in lead.matched_property_ids:
            report.told_before += 1
        elif property_id not in lead.offered_property_ids:
            fitting.append(lead)
    report.items_read = count.items
    report.matching = len(fitting) + report.told_before
    # The most recently active first: the cap leaves out the coldest.
    fitting.sort(key=lambda lead: lead.last_inbound_at or lead.created_at, reverse=True)
    room = max(0, MATCH_CAP - report.told_before)
    report.capped = max(0, len(fitting) - room)
    for lead in fitting[:room]:
        if out_of_time():
            report.unfinished = True
            break
        _tell(repos, tenant, lead, listing, now, send, pacer, report)
    return report


def _tell(
    repos: Repositories,
    tenant: Tenant,
    lead: Lead,
    listing: Property,
    now: datetime,
    send: Deliver,
    pacer: Pacer,
    report: MatchReport,
) -> None:
    claimed = repos.followups.claim_match(lead.tenant_id, lead.lead_id, listing.property_id)
    if claimed is None:
        report.lost += 1
        return
    zone = lead_zone(claimed, tenant)
    if in_quiet_hours(now, zone, tenant):
        # Marked told already, so no later delivery of the record tells it; a sweep does, at
        # the end of the lead's night.
        until = after_quiet_hours(now, zone, tenant)
        save_lead(repos, claimed, lambda x: hold_listing(x, listing.property_id, until))
        report.held += 1
        held = _event(
            GhostOutcome.SKIPPED,
            now,
            _detail(listing),
            reason="quiet_hours",
            until=until.isoformat(),
        )
        record(repos, claimed.tenant_id, claimed.lead_id, [held])
        return
    told = _send_match(repos, tenant, claimed, listing, now, send, pacer)
    report.outcomes[told.outcome] += 1
    if told.shown:
        # Shown as a card: "Show more" and the campaign's offers go past it.
        save_lead(repos, claimed, lambda x: _offered(x, (listing.property_id,)))
    elif told.outcome is GhostOutcome.BLOCKED:
        save_lead(repos, claimed, lambda x: replace(x, unreachable=True, updated_at=now))
    elif told.retry:
        repos.followups.release_match(claimed.tenant_id, claimed.lead_id, listing.property_id)
        report.retry += 1


@dataclass(frozen=True, slots=True)
class Told:
    """One listing's message to one lead: what became of it, whether it may pass if tried
    again, and whether the lead saw it as a card (not as an approved template instead)."""

    outcome: GhostOutcome
    retry: bool = False
    shown: bool = False


def _send_match(
    repos: Repositories,
    tenant: Tenant,
    lead: Lead,
    listing: Property,
    now: datetime,
    send: Deliver,
    pacer: Pacer,
) -> Told:
    """Send the listing's card to the lead (marked told of it) and record it in Timeline; the
    lead's own state is the caller's to change."""
    outbound = match_message(lead, tenant, listing)
    detail = _detail(listing)
    pacer.wait(tenant.tenant_id, lead.channel)
    try:
        delivery, template = send(tenant, lead, outbound, now)
    except ChannelError as exc:
        # Nothing this lead may receive now (WhatsApp's window, no template): the marker stays,
        # since a later try could not say more.
        event = _event(GhostOutcome.SKIPPED, now, detail, reason=type(exc).__name__)
        record(repos, lead.tenant_id, lead.lead_id, [event])
        return Told(GhostOutcome.SKIPPED)
    outcome = DELIVERY_OUTCOMES.get(delivery.status, GhostOutcome.FAILED)
    message = dict(detail)
    if template is not None:
        message.update(template=template.name, template_language=template.code)
    if delivery.error:
        message["error"] = delivery.error
    entries = [
        TimelineEntry(
            kind=TimelineKind.OUTBOUND,
            at=now,
            channel=lead.channel,
            text="" if template is not None else outbound.text,
            detail=message,
            status=delivery.status,
            message_id=delivery.message_id,
        ),
        _event(outcome, now, detail),
    ]
    if outcome is GhostOutcome.BLOCKED:
        entries.append(TimelineEntry(kind=TimelineKind.EVENT, at=now, text="unreachable"))
    record(repos, lead.tenant_id, lead.lead_id, entries)
    return Told(
        outcome,
        retry=outcome is GhostOutcome.FAILED and delivery.retryable,
        shown=outcome is GhostOutcome.SENT and template is None,
    )


# -- listings held in a lead's quiet hours, told by the sweep at their end ---------------------


def tell_held(
    claimed: Lead,
    tenant: Tenant | None,
    repos: Repositories,
    now: datetime,
    send: Deliver,
    pacer: Pacer,
) -> tuple[GhostOutcome, bool]:
    """Tell a lead whose held listings a sweep just claimed (`follow_up`) those still on offer
    and still fitting, and settle: told ones leave the hold; a send that may pass later keeps
    the rest held for the next sweep. The outcome, and whether the claim was given back."""
    from leadbot.conversation.matching import fits_new_listing

    if tenant is None or not tenant.active:
        settle_claim(repos, claimed, Held.MATCHES, lambda x: _released(x, claimed, None))
        inactive = _event(GhostOutcome.SKIPPED, now, _HELD, reason="agency_inactive")
        _record(repos, claimed, [inactive])
        return GhostOutcome.SKIPPED, False
    zone = lead_zone(claimed, tenant)
    if in_quiet_hours(now, zone, tenant):
        # Indexed under other quiet hours (the agency changed them): held on to their end.
        later = after_quiet_hours(now, zone, tenant)
        settle_claim(
            repos,
            claimed,
            Held.MATCHES,
            lambda x: replace(unclaimed(x, Held.MATCHES), held_until=later),
        )
        until = later.isoformat()
        _record(
            repos,
            claimed,
            [_event(GhostOutcome.SKIPPED, now, _HELD, reason="quiet_hours", until=until)],
        )
        return GhostOutcome.SKIPPED, True
    done: list[str] = []
    shown: list[str] = []
    outcomes: list[GhostOutcome] = []
    retry = False
    for property_id in claimed.held_property_ids:
        listing = _on_offer(repos, tenant.tenant_id, property_id)
        if listing is None or not fits_new_listing(claimed, listing):
            done.append(property_id)
            gone = {"followup": MATCH, "property_id": property_id}
            _record(
                repos, claimed, [_event(GhostOutcome.SKIPPED, now, gone, reason="not_on_offer")]
            )
            continue
        told = _send_match(repos, tenant, claimed, listing, now, send, pacer)
        outcomes.append(told.outcome)
        if told.retry:
            retry = True
            break
        done.append(property_id)
        if told.shown:
            shown.append(property_id)
        if told.outcome is GhostOutcome.BLOCKED:
            break
    blocked = GhostOutcome.BLOCKED in outcomes

    def settled(lead: Lead) -> Lead:
        lead = _released(lead, claimed, None if blocked else done)
        lead = _offered(lead, tuple(shown))
        return replace(lead, unreachable=True, updated_at=now) if blocked else lead

    settle_claim(repos, claimed, Held.MATCHES, settled)
    if blocked:
        return GhostOutcome.BLOCKED, True
    if retry:
        return GhostOutcome.FAILED, True
    if GhostOutcome.SENT in outcomes:
        return GhostOutcome.SENT, False
    return (outcomes[0] if outcomes else GhostOutcome.SKIPPED), False


def _released(lead: Lead, claimed: Lead, done: list[str] | None) -> Lead:
    """The lead with the sweep's claim given back and `done` (None: every listing the claim
    held) out of its hold; listings held after the claim stay, with their time."""
    gone = set(claimed.held_property_ids if done is None else done)
    keep = tuple(i for i in lead.held_property_ids if i not in gone)
    return replace(
        unclaimed(lead, Held.MATCHES),
        held_property_ids=keep,
        held_until=lead.held_until if keep else None,
    )


def _on_offer(repos: Repositories, tenant_id: str, property_id: str) -> Property | None:
    """The listing as it stands now, if it is still active with units left."""
    from leadbot.domain.listings import ListingStatus

    try:
        listing = repos.properties.get(tenant_id, property_id)
    except PropertyNotFound:
        return None
    if listing.status is not ListingStatus.ACTIVE or listing.units_available <= 0:
        return None
    return listing


def _detail(listing: Property) -> dict[str, str]:
    return {"followup": MATCH, "property_id": listing.property_id}


def _record(repos: Repositories, lead: Lead, entries: list[TimelineEntry]) -> None:
    record(repos, lead.tenant_id, lead.lead_id, entries)


def _offered(lead: Lead, property_ids: tuple[str, ...]) -> Lead:
    new = tuple(i for i in property_ids if i not in lead.offered_property_ids)
    if not new:
        return lead
    return replace(lead, offered_property_ids=(*lead.offered_property_ids, *new))


def _event(
    outcome: GhostOutcome, now: datetime, detail: dict[str, str], **more: str
) -> TimelineEntry:
    """As the sweep's: the dashboard's stats count `followup_*` events by status."""
    return TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now,
        text=f"followup_{outcome.value}",
        detail={**detail, "status": outcome.value, **more},
    )


# -- entry point for functions/ghost_sweep (the Properties stream) ----------------------------


def announce_record(record: DynamoDBRecord, remaining_ms: Callable[[], int]) -> MatchReport | None:
    """One Properties stream record: a listing added is announced; any other change is not
    (None). MatchesUnfinished when leads are left to tell: the record is delivered again."""
    from leadbot.services.runtime import repositories

    name = record.event_name.name if record.event_name is not None else ""
    change = record.dynamodb
    keys = change.raw_event.get("Keys", {}) if change is not None else {}
    if name != "INSERT" or not keys:
        return None
    tenant_id, property_id = keys["tenant_id"]["S"], keys["property_id"]["S"]

    def out_of_time() -> bool:
        return remaining_ms() < MATCH_MARGIN_MS

    report = announce_listing(
        repositories(), tenant_id, property_id, clock.now(), out_of_time=out_of_time
    )
    log.info("new listing announced", extra=report.as_dict())
    if report.unfinished or report.retry:
        raise MatchesUnfinished(
            f"{property_id}: {report.retry} to retry, unfinished={report.unfinished}"
        )
    return report
