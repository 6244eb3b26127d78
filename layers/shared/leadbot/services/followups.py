"""Ghost follow-ups on the 30-minute schedule: each quiet lead's one check-in, at most once.

A sweep reads only what is due (the sparse followups_due index, shard by shard), claims each
lead with a conditional write before sending (store/followups.py), sends through the lead's
own channel (the channel decides whether free text may go: WhatsApp's 24-hour window), then
settles the claim: sent → ghost_reminded_at; a failure the channel calls retryable → the claim
is given back and the next sweep tries again; blocked → the lead is unreachable. Every outcome
is a Timeline entry; the report feeds the function's metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadbot import clock
from leadbot.channels.telegram.client import BULK_PER_SECOND as TELEGRAM_PER_SECOND
from leadbot.channels.whatsapp.client import BULK_PER_SECOND as WHATSAPP_PER_SECOND
from leadbot.domain import (
    Channel,
    ChannelError,
    Delivery,
    DeliveryStatus,
    Lead,
    LeadConflict,
    Outbound,
    Tenant,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
    WhatsAppTemplate,
)
from leadbot.domain.followups import ghost_followup_due
from leadbot.followups import ghost_message
from leadbot.services.inbound import MAX_CONFLICT_RETRIES, record
from leadbot.services.runtime import Repositories
from leadbot.store import ReadCount
from leadbot.store.followups import SHARDS, DueFollowup

log = logging.getLogger(__name__)

SWEEP_MARGIN_MS = 10_000  # stop taking leads this long before the Lambda's time is up
FOLLOWUP = "ghost"  # Timeline detail: which follow-up an entry is


class GhostOutcome(StrEnum):
    """What became of one claimed follow-up (a metric each)."""

    SENT = "sent"
    FAILED = "failed"  # retried by the next sweep when the channel says it may pass
    BLOCKED = "blocked"  # the lead blocked the bot: now unreachable
    SKIPPED = "skipped"  # claimed, then not sent: nothing the lead may receive, or not due


# The channel's verdict on an outbound, as the sweep acts on it.
_OUTCOMES = {
    DeliveryStatus.SENT: GhostOutcome.SENT,
    DeliveryStatus.BLOCKED: GhostOutcome.BLOCKED,
    DeliveryStatus.RATE_LIMITED: GhostOutcome.FAILED,
    DeliveryStatus.FAILED: GhostOutcome.FAILED,
}

# Sends a follow-up to the lead through its channel: the delivery, and the approved template
# that went instead of the text (WhatsApp outside its window), if one did.
Deliver = Callable[[Tenant, Lead, Outbound, datetime], tuple[Delivery, WhatsAppTemplate | None]]


@dataclass
class SweepReport:
    """What one sweep did; `items_read` is what DynamoDB read to find the due leads."""

    due: int = 0  # index entries due
    items_read: int = 0
    queries: int = 0
    lost: int = 0  # another sweep claimed it first, or the lead changed since the index read
    released: int = 0  # claims given back: the next sweep tries again
    outcomes: Counter[GhostOutcome] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "items_read": self.items_read,
            "queries": self.queries,
            "lost": self.lost,
            "released": self.released,
            **{outcome.value: self.outcomes[outcome] for outcome in GhostOutcome},
        }


class Pacer:
    """Spaces a tenant's sends on one channel to what the channel allows in bulk, across the
    sweep's shards (its threads)."""

    def __init__(
        self,
        per_second: dict[Channel, float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second is None:
            per_second = {
                Channel.TELEGRAM: TELEGRAM_PER_SECOND,
                Channel.WHATSAPP: WHATSAPP_PER_SECOND,
            }
        self._every = {channel: 1.0 / rate for channel, rate in per_second.items()}
        self._next: dict[tuple[str, Channel], float] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._sleep = sleep

    def wait(self, tenant_id: str, channel: Channel) -> None:
        every = self._every.get(channel)
        if every is None:
            return
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get((tenant_id, channel), now))
            self._next[(tenant_id, channel)] = slot + every
        if slot > now:
            self._sleep(slot - now)


def unpaced() -> Pacer:
    """No spacing (tests, and fakes that never refuse)."""
    return Pacer(per_second={})


def deliver(
    tenant: Tenant, lead: Lead, outbound: Outbound, now: datetime
) -> tuple[Delivery, WhatsAppTemplate | None]:
    """Through the lead's own channel; OutsideWindow when WhatsApp allows nothing we have."""
    if lead.channel is Channel.WHATSAPP:
        from leadbot.services.whatsapp import reach_lead

        return reach_lead(tenant, lead, outbound, now)
    from leadbot.services.telegram import telegram_client

    language = lead.language or tenant.default_language
    return telegram_client(tenant).send(lead.external_id, outbound, language), None


def ghost_sweep(
    repos: Repositories,
    now: datetime,
    *,
    send: Deliver = deliver,
    pacer: Pacer | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> SweepReport:
    """Follow up every lead whose ghost follow-up is due at `now`, each at most once.

    Shards run side by side. Out of time, a sweep stops taking leads: those left are still
    due and the next sweep takes them.
    """
    pacer = pacer or Pacer()
    counts = [ReadCount() for _ in range(SHARDS)]
    report = SweepReport()
    lock = threading.Lock()

    def run(shard: int) -> None:
        for due in repos.followups.due(shard, now, counts[shard]):
            if out_of_time():
                return
            settled = follow_up(due, repos, now, send, pacer)
            with lock:
                report.due += 1
                if settled is None:
                    report.lost += 1
                    continue
                outcome, released = settled
                report.outcomes[outcome] += 1
                report.released += released

    with ThreadPoolExecutor(max_workers=SHARDS) as pool:
        list(pool.map(run, range(SHARDS)))
    report.items_read = sum(c.items for c in counts)
    report.queries = sum(c.queries for c in counts)
    return report


def follow_up(
    due: DueFollowup, repos: Repositories, now: datetime, send: Deliver, pacer: Pacer
) -> tuple[GhostOutcome, bool] | None:
    """Claim, send, settle one lead's follow-up: the outcome and whether the claim was given
    back; None when the claim was refused (another sweep has it, or the lead changed)."""
    claimed = repos.followups.claim(due, now)
    if claimed is None:
        return None
    try:
        tenant = repos.tenants.get(claimed.tenant_id)
    except TenantNotFound:
        tenant = None
    if tenant is None or not tenant.active:
        _record(repos, claimed, [_skipped(now, "agency_inactive")])
        return GhostOutcome.SKIPPED, False
    if not ghost_followup_due(replace(claimed, ghost_claimed_at=None), now, tenant):
        # Indexed under an older ghost_after (the agency made it longer): due later, not now.
        _settle(repos, claimed, lambda lead: replace(lead, ghost_claimed_at=None))
        return GhostOutcome.SKIPPED, True
    outbound = ghost_message(claimed, tenant)
    pacer.wait(tenant.tenant_id, claimed.channel)
    try:
        delivery, template = send(tenant, claimed, outbound, now)
    except ChannelError as exc:
        # OutsideWindow and kin: nothing this lead may receive now. The claim stays: a later
        # sweep could not say more, and a follow-up is never sent twice.
        _record(repos, claimed, [_skipped(now, type(exc).__name__, str(exc))])
        return GhostOutcome.SKIPPED, False
    outcome = _OUTCOMES.get(delivery.status, GhostOutcome.FAILED)
    entries = [_outbound(claimed, outbound, delivery, template, now), _outcome(outcome, now)]
    released = False
    if outcome is GhostOutcome.SENT:
        _settle(repos, claimed, lambda lead: replace(lead, ghost_reminded_at=now))
    elif outcome is GhostOutcome.BLOCKED:
        # Unreachable keeps it out of the index; unblocking (or a message) brings it back.
        _settle(
            repos,
            claimed,
            lambda lead: replace(lead, ghost_claimed_at=None, unreachable=True, updated_at=now),
        )
        entries.append(TimelineEntry(kind=TimelineKind.EVENT, at=now, text="unreachable"))
        released = True
    elif delivery.retryable:
        _settle(repos, claimed, lambda lead: replace(lead, ghost_claimed_at=None))
        released = True
    _record(repos, claimed, entries)
    return outcome, released


def _settle(repos: Repositories, claimed: Lead, change: Callable[[Lead], Lead]) -> None:
    """Write `change` onto the claimed lead, re-reading it when a message came in meanwhile;
    the save re-derives its place in the followups_due index."""
    lead = claimed
    for _ in range(MAX_CONFLICT_RETRIES):
        if lead.ghost_claimed_at != claimed.ghost_claimed_at:
            log.warning("follow-up claim lost", extra={"lead_id": lead.lead_id})
            return
        try:
            repos.leads.save(lead, change(lead))
            return
        except LeadConflict:
            lead = repos.leads.get(claimed.tenant_id, claimed.lead_id)
    raise LeadConflict(f"{claimed.lead_id}: still conflicting after {MAX_CONFLICT_RETRIES} tries")


def _outbound(
    lead: Lead,
    outbound: Outbound,
    delivery: Delivery,
    template: WhatsAppTemplate | None,
    now: datetime,
) -> TimelineEntry:
    detail = {"followup": FOLLOWUP}
    if template is not None:
        detail.update(template=template.name, template_language=template.code)
    if delivery.error:
        detail["error"] = delivery.error
    if delivery.status is not DeliveryStatus.SENT:
        detail["retry"] = "next_sweep" if delivery.retryable else "no"
    return TimelineEntry(
        kind=TimelineKind.OUTBOUND,
        at=now,
        channel=lead.channel,
        # What the lead saw: the approved template's own words when one went instead.
        text="" if template is not None else outbound.text,
        detail=detail,
        status=delivery.status,
        message_id=delivery.message_id,
    )


def _outcome(outcome: GhostOutcome, now: datetime, **detail: str) -> TimelineEntry:
    """The outcome as an event: the dashboard's stats count `followup_*` events by status."""
    return TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now,
        text=f"followup_{outcome.value}",
        detail={"followup": FOLLOWUP, "status": outcome.value, **detail},
    )


def _skipped(now: datetime, reason: str, error: str = "") -> TimelineEntry:
    return _outcome(GhostOutcome.SKIPPED, now, reason=reason, **({"error": error} if error else {}))


def _record(repos: Repositories, lead: Lead, entries: list[TimelineEntry]) -> None:
    record(repos, lead.tenant_id, lead.lead_id, entries)


# -- entry point for functions/ghost_sweep -----------------------------------------------------


def ghost_sweep_now(remaining_ms: Callable[[], int]) -> SweepReport:
    """The scheduled sweep, stopping with a margin before the Lambda's time is up."""
    from leadbot.services.runtime import repositories

    def out_of_time() -> bool:
        return remaining_ms() < SWEEP_MARGIN_MS

    return ghost_sweep(repositories(), clock.now(), out_of_time=out_of_time)
