"""Follow-ups on the 30-minute schedule: each quiet lead's one check-in, then the campaign's
steps on their days, each at most once and never in the lead's quiet hours.

A sweep reads only what is due (the sparse followups_due index, shard by shard), claims each
lead's due step with a conditional write before sending (store/followups.py), sends through
the lead's own channel (the channel decides whether free text may go: WhatsApp's 24-hour
window), then settles the claim: sent → ghost_reminded_at, or the campaign moves to its next
step; a failure the channel calls retryable → the claim is given back and the next sweep tries
again; blocked → the lead is unreachable. Every outcome is a Timeline entry; the report feeds
the function's metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadbot import clock
from leadbot.channels.telegram.client import BULK_PER_SECOND as TELEGRAM_PER_SECOND
from leadbot.channels.whatsapp.client import BULK_PER_SECOND as WHATSAPP_PER_SECOND
from leadbot.domain import (
    Channel,
    ChannelError,
    Delivery,
    DeliveryStatus,
    FollowupStep,
    Lead,
    LeadConflict,
    Outbound,
    Tenant,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
    WhatsAppTemplate,
)
from leadbot.domain.followups import (
    Held,
    PendingFollowup,
    after_quiet_hours,
    campaign_number,
    in_quiet_hours,
    unclaimed,
)
from leadbot.followups import (
    FollowupMessage,
    campaign_message,
    ghost_message,
    lead_zone,
    pending_followup,
)
from leadbot.services.inbound import MAX_CONFLICT_RETRIES, record
from leadbot.services.runtime import Repositories
from leadbot.store import ReadCount
from leadbot.store.followups import SHARDS, DueFollowup, Reindexed

if TYPE_CHECKING:
    from leadbot.domain.listings import Property

log = logging.getLogger(__name__)

SWEEP_MARGIN_MS = 10_000  # stop taking leads this long before the Lambda's time is up


class GhostOutcome(StrEnum):
    """What became of one claimed follow-up (a metric each)."""

    SENT = "sent"
    FAILED = "failed"  # retried by the next sweep when the channel says it may pass
    BLOCKED = "blocked"  # the lead blocked the bot: now unreachable
    SKIPPED = "skipped"  # claimed, then not sent: nothing the lead may receive, or not due


# The channel's verdict on an outbound, as the sweep acts on it.
DELIVERY_OUTCOMES = {
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
    only: FollowupStep | Held | None = None,
) -> SweepReport:
    """Follow up every lead whose ghost follow-up is due at `now`, each at most once; `only`:
    just what is due of that kind (the others stay due for the sweep that takes them).

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
            if only is not None and due.step is not only:
                continue
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
    """Claim, send, settle one lead's due follow-up: the outcome and whether the claim was
    given back; None when the claim was refused (another sweep has it, or the lead changed)."""
    step = due.step
    claimed = repos.followups.claim(due, now)
    if claimed is None:
        return None
    try:
        tenant: Tenant | None = repos.tenants.get(claimed.tenant_id)
    except TenantNotFound:
        tenant = None
    if step is Held.MATCHES:
        from leadbot.services.matches import tell_held

        return tell_held(claimed, tenant, repos, now, send, pacer)
    if step is Held.HANDOFF:
        from leadbot.services.handoff import check_handoff

        return check_handoff(claimed, tenant, repos, now)
    if tenant is None or not tenant.active:
        _record(repos, claimed, [_skipped(step, now, "agency_inactive")])
        return GhostOutcome.SKIPPED, False
    deferred = _not_now(unclaimed(claimed, step), tenant, step, now)
    if deferred is not None:
        # Indexed under older settings (a longer delay, fewer steps), or the sweep reached it
        # in the lead's quiet hours: given back, with the time it may go as a floor the index
        # keeps, so that it does not come back before.
        reason, later = deferred
        settle_claim(
            repos,
            claimed,
            step,
            lambda lead: replace(unclaimed(lead, step), followup_not_before=later),
        )
        until = {"until": later.isoformat()} if later is not None else {}
        _record(repos, claimed, [_skipped(step, now, reason, **until)])
        return GhostOutcome.SKIPPED, True
    message = _message(claimed, tenant, step, repos)
    deliveries: list[tuple[Outbound, Delivery, WhatsAppTemplate | None]] = []
    try:
        for outbound in message.outbound:
            pacer.wait(tenant.tenant_id, claimed.channel)
            delivery, template = send(tenant, claimed, outbound, now)
            deliveries.append((outbound, delivery, template))
            # An approved template stands for the whole follow-up; a failure ends it.
            if template is not None or delivery.status is not DeliveryStatus.SENT:
                break
    except ChannelError as exc:
        if not deliveries:
            # OutsideWindow and kin: nothing this lead may receive now. A ghost claim stays (a
            # follow-up is never sent twice); a campaign step is passed, the next may go.
            _record(repos, claimed, [_skipped(step, now, type(exc).__name__, str(exc))])
            if step is not FollowupStep.GHOST:
                settle_claim(repos, claimed, step, lambda lead: _passed(lead, step, now))
            return GhostOutcome.SKIPPED, False
    first = deliveries[0][1]
    outcome = DELIVERY_OUTCOMES.get(first.status, GhostOutcome.FAILED)
    entries = [
        _outbound(claimed, step, outbound, delivery, template, now)
        for outbound, delivery, template in deliveries
    ]
    entries.append(_outcome(step, outcome, now))
    released = False
    if outcome is GhostOutcome.SENT:
        cards = deliveries[0][2] is None  # the cards went, not a template instead
        shown = message.shown[: len(deliveries)] if cards else ()
        settle_claim(repos, claimed, step, lambda lead: _sent(lead, step, now, shown, tenant))
    elif outcome is GhostOutcome.BLOCKED:
        # Unreachable keeps it out of the index; unblocking (or a message) brings it back.
        settle_claim(
            repos,
            claimed,
            step,
            lambda lead: replace(unclaimed(lead, step), unreachable=True, updated_at=now),
        )
        entries.append(TimelineEntry(kind=TimelineKind.EVENT, at=now, text="unreachable"))
        released = True
    elif first.retryable:
        settle_claim(repos, claimed, step, lambda lead: unclaimed(lead, step))
        released = True
    elif step is not FollowupStep.GHOST:
        # Refused for good (a chat that is gone): this step is over; the next may go.
        settle_claim(repos, claimed, step, lambda lead: _passed(lead, step, now))
    _record(repos, claimed, entries)
    return outcome, released


def _not_now(
    lead: Lead, tenant: Tenant, step: FollowupStep, now: datetime
) -> tuple[str, datetime | None] | None:
    """Why `step` may not go to the (unclaimed) lead at `now`, and from when it may (None:
    whatever the lead waits for now); None when it may go."""
    pending = pending_followup(lead, tenant)
    if pending is None or pending.step is not step:
        return "not_due", None
    if pending.due_at > now:
        return "not_due", pending.due_at
    zone = lead_zone(lead, tenant)
    if in_quiet_hours(now, zone, tenant):
        return "quiet_hours", after_quiet_hours(now, zone, tenant)
    return None


def _message(
    lead: Lead, tenant: Tenant, step: FollowupStep, repos: Repositories
) -> FollowupMessage:
    if step is FollowupStep.GHOST:
        return FollowupMessage(outbound=(ghost_message(lead, tenant),))
    # The same listings, cached alike, that the conversation offers from.
    listings = repos.active_listings.get(tenant.tenant_id)
    return campaign_message(lead, tenant, step, listings)


def _sent(
    lead: Lead, step: FollowupStep, now: datetime, shown: tuple[Property, ...], tenant: Tenant
) -> Lead:
    """The lead once `step` went: the ghost one marks it reminded (the campaign counts its days
    from then); a campaign step moves on to the next, and the listings shown count as offered
    ("Show more" goes past them) and as scarcity the lead was truthfully shown."""
    if step is FollowupStep.GHOST:
        return replace(lead, ghost_reminded_at=now, followup_not_before=None)
    from leadbot.conversation.matching import scarce

    offered = tuple(p.property_id for p in shown if p.property_id not in lead.offered_property_ids)
    return replace(
        _passed(lead, step, now),
        offered_property_ids=(*lead.offered_property_ids, *offered),
        fomo_messages_sent=lead.fomo_messages_sent
        + sum(scarce(p, tenant.scarcity_threshold) for p in shown),
    )


def _passed(lead: Lead, step: FollowupStep, now: datetime) -> Lead:
    """A campaign step done with (sent, or impossible): the next one falls due on its day."""
    return replace(
        lead,
        campaign_steps_sent=max(lead.campaign_steps_sent, campaign_number(step)),
        campaign_claimed_at=None,
        followup_not_before=None,
    )


def settle_claim(
    repos: Repositories, claimed: Lead, step: FollowupStep | Held, change: Callable[[Lead], Lead]
) -> None:
    """Write `change` onto the claimed lead, re-reading it when a message came in meanwhile;
    the save re-derives its place in the followups_due index."""
    lead = claimed
    for _ in range(MAX_CONFLICT_RETRIES):
        if _claim_of(lead, step) != _claim_of(claimed, step):
            log.warning("follow-up claim lost", extra={"lead_id": lead.lead_id})
            return
        try:
            repos.leads.save(lead, change(lead))
            return
        except LeadConflict:
            lead = repos.leads.get(claimed.tenant_id, claimed.lead_id)
    raise LeadConflict(f"{claimed.lead_id}: still conflicting after {MAX_CONFLICT_RETRIES} tries")


def _claim_of(lead: Lead, step: FollowupStep | Held) -> datetime | None:
    if step is Held.MATCHES:
        return lead.held_claimed_at
    if step is Held.HANDOFF:
        return lead.sla_claimed_at
    return lead.ghost_claimed_at if step is FollowupStep.GHOST else lead.campaign_claimed_at


def _outbound(
    lead: Lead,
    step: FollowupStep,
    outbound: Outbound,
    delivery: Delivery,
    template: WhatsAppTemplate | None,
    now: datetime,
) -> TimelineEntry:
    detail = {"followup": step.value}
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


def _outcome(
    step: FollowupStep | str, outcome: GhostOutcome, now: datetime, **detail: str
) -> TimelineEntry:
    """The outcome as an event: the dashboard's stats count `followup_*` events by status."""
    return TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now,
        text=f"followup_{outcome.value}",
        detail={"followup": str(step), "status": outcome.value, **detail},
    )


def _skipped(
    step: FollowupStep | str, now: datetime, reason: str, error: str = "", **detail: str
) -> TimelineEntry:
    if error:
        detail["error"] = error
    return _outcome(step, GhostOutcome.SKIPPED, now, reason=reason, **detail)


def _record(repos: Repositories, lead: Lead, entries: list[TimelineEntry]) -> None:
    record(repos, lead.tenant_id, lead.lead_id, entries)


# -- reindexing: leads stored before the followups_due index, or under other settings ---------


@dataclass
class ReindexReport:
    """What `reindex` did, lead by lead, and what DynamoDB read for it."""

    outcomes: Counter[Reindexed] = field(default_factory=Counter)
    items_read: int = 0
    queries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "leads": sum(self.outcomes.values()),
            **{outcome.value: self.outcomes[outcome] for outcome in Reindexed},
            "items_read": self.items_read,
            "queries": self.queries,
        }


def reindex(
    tenant_ids: Iterable[str],
    repos: Repositories,
    progress: Callable[[str, int, int], None] = lambda tenant_id, done, total: None,
) -> ReindexReport:
    """Place every lead of the tenants in the followups_due index as it derives now (safe to
    repeat: a second run finds every lead unchanged). Without it, a lead stored before the
    index existed waits for its next write before a sweep can find it."""
    report, count = ReindexReport(), ReadCount()
    for tenant_id in tenant_ids:
        tenant = repos.tenants.get(tenant_id, consistent=True)
        total = repos.scores.count_of_tenant(tenant_id)
        done = 0
        progress(tenant_id, done, total)

        def pending(lead: Lead, tenant: Tenant = tenant) -> PendingFollowup | None:
            return pending_followup(lead, tenant)

        for _, outcome in repos.followups.reindex(tenant_id, pending, count):
            report.outcomes[outcome] += 1
            done += 1
            progress(tenant_id, done, max(total, done))
    report.items_read, report.queries = count.items, count.queries
    return report


# -- entry point for functions/ghost_sweep -----------------------------------------------------


def ghost_sweep_now(
    remaining_ms: Callable[[], int], only: FollowupStep | Held | None = None
) -> SweepReport:
    """The scheduled sweep, stopping with a margin before the Lambda's time is up."""
    from leadbot.services.runtime import repositories

    def out_of_time() -> bool:
        return remaining_ms() < SWEEP_MARGIN_MS

    return ghost_sweep(repositories(), clock.now(), out_of_time=out_of_time, only=only)
