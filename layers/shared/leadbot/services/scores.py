"""Every lead's score kept current: on each change (the Leads stream), as time passes (the
hourly decay run) and on demand (backfill). Temperature changes become Timeline events; a lead
turning burning alerts the agency's admins once (never again within 24 hours)."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadbot import clock
from leadbot.domain import (
    DeliveryStatus,
    Lead,
    ScoreState,
    Temperature,
    Tenant,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
)
from leadbot.metrics import Metric, count
from leadbot.scoring import Score, ScoreInputs, score_lead
from leadbot.services.alerts import burning_alert
from leadbot.services.inbound import Messenger, record
from leadbot.services.runtime import Repositories
from leadbot.store import SHARDS, ReadCount, ScoredLead, score_key

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

log = logging.getLogger(__name__)

BURNING_ALERT_EVERY = timedelta(hours=24)
DECAY_MARGIN_MS = 5_000
MAX_SCORE_CONFLICTS = 3

MessengerFor = Callable[[Tenant], Messenger]


class Outcome(StrEnum):
    WRITTEN = "written"  # the score (or when it next drops) was stored
    UNCHANGED = "unchanged"  # scored, nothing to store
    INPUTS_UNCHANGED = "inputs_unchanged"  # the change touched nothing the formula reads
    STALE = "stale"  # the lead changed since; its newer stream record rescores it
    REMOVED = "removed"


@dataclass(frozen=True)
class Rescored:
    lead_id: str
    outcome: Outcome
    score: int | None = None
    temperature: Temperature | None = None
    alerts_sent: int = 0


@dataclass
class RunReport:
    """What a decay run or backfill did; `items_read` is what DynamoDB read for it."""

    leads: int = 0
    items_read: int = 0
    queries: int = 0
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    alerts_sent: int = 0

    def add(self, rescored: Rescored) -> None:
        self.leads += 1
        self.outcomes[rescored.outcome] += 1
        self.alerts_sent += rescored.alerts_sent

    def as_dict(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "items_read": self.items_read,
            "queries": self.queries,
            "outcomes": {k.value: v for k, v in sorted(self.outcomes.items())},
            "alerts_sent": self.alerts_sent,
        }


def on_change(
    event_name: str,
    old_image: Mapping[str, Any] | None,
    new_image: Mapping[str, Any] | None,
    repos: Repositories,
    messenger_for: MessengerFor,
    now: datetime,
) -> Rescored:
    """Rescore a lead after a stream record (INSERT / MODIFY / REMOVE) if an input changed."""
    if event_name == "REMOVE" or new_image is None:
        return Rescored(lead_id="", outcome=Outcome.REMOVED)
    seen = repos.scores.from_image(new_image)
    if old_image is not None and seen.state.value is not None:
        before = repos.scores.from_image(old_image)
        # Our own score writes land here too: they change no input, so they end the loop.
        if ScoreInputs.of(before.lead) == ScoreInputs.of(seen.lead):
            return Rescored(lead_id=seen.lead.lead_id, outcome=Outcome.INPUTS_UNCHANGED)
    return rescore(seen, repos, messenger_for, now, reschedule=False, first_is_news=True)


def decay(
    repos: Repositories,
    messenger_for: MessengerFor,
    now: datetime,
    out_of_time: Callable[[], bool] = lambda: False,
) -> RunReport:
    """Rescore the leads whose recency drops by now, and only those (the rescore_due index).

    Shards run side by side. Out of time, a run stops taking leads: those left are still due
    and the next run takes them.
    """
    counts = [ReadCount() for _ in range(SHARDS)]
    report = RunReport()
    lock = threading.Lock()

    def run(shard: int) -> None:
        for seen in repos.scores.due(shard, now, counts[shard]):
            if out_of_time():
                return
            rescored = rescore(seen, repos, messenger_for, now, reschedule=True, first_is_news=True)
            with lock:
                report.add(rescored)

    with ThreadPoolExecutor(max_workers=SHARDS) as pool:
        list(pool.map(run, range(SHARDS)))
    report.items_read = sum(c.items for c in counts)
    report.queries = sum(c.queries for c in counts)
    return report


def backfill(
    tenant_ids: Iterable[str],
    repos: Repositories,
    messenger_for: MessengerFor,
    now: Callable[[], datetime] = clock.now,
    progress: Callable[[str, int, int], None] = lambda tenant_id, done, total: None,
) -> RunReport:
    """Score every lead of the tenants; running it again changes nothing (safe to repeat)."""
    report, count = RunReport(), ReadCount()
    for tenant_id in tenant_ids:
        total = repos.scores.count_of_tenant(tenant_id)
        done = 0
        progress(tenant_id, done, total)
        for seen in repos.scores.of_tenant(tenant_id, count):
            # Existing leads scored for the first time did not just turn anything.
            rescored = rescore(
                seen, repos, messenger_for, now(), reschedule=True, first_is_news=False
            )
            report.add(rescored)
            done += 1
            progress(tenant_id, done, max(total, done))
    report.items_read, report.queries = count.items, count.queries
    return report


def rescore(
    seen: ScoredLead,
    repos: Repositories,
    messenger_for: MessengerFor,
    now: datetime,
    *,
    reschedule: bool,
    first_is_news: bool = True,
) -> Rescored:
    """Score the lead as seen; store the result only if it differs from what the lead carries.

    `reschedule` also stores a changed `rescore_at` alone (decay runs, backfills). The stream
    does not: a stored time that is early only costs a decay run a look, never a late drop.
    `first_is_news`: a lead's first score is a change from nothing (a new lead whose first
    records were scored in one batch may start out hot or burning) — not so in a backfill.

    If the lead changed since it was seen, its newer stream record rescores it. If only its
    score did (another record's scoring, a decay run), the lead is read again and scored from
    there: the record that wrote that score may not have seen this change, and the score write's
    own stream record changes no input, so nothing else would.
    """
    for _ in range(MAX_SCORE_CONFLICTS):
        rescored = _rescore_once(
            seen, repos, messenger_for, now, reschedule=reschedule, first_is_news=first_is_news
        )
        if rescored.outcome is not Outcome.STALE:
            return rescored
        fresh = repos.scores.get(seen.lead.tenant_id, seen.lead.lead_id)
        if fresh is None or fresh.lead.version != seen.lead.version:
            return rescored
        seen = fresh
    return rescored


def _rescore_once(
    seen: ScoredLead,
    repos: Repositories,
    messenger_for: MessengerFor,
    now: datetime,
    *,
    reschedule: bool,
    first_is_news: bool,
) -> Rescored:
    lead, state = seen.lead, seen.state
    result = score_lead(lead, now)
    breakdown = result.breakdown.as_dict()
    changed = state.value != result.value or state.breakdown != breakdown
    if not changed and not (reschedule and state.rescore_at != result.rescore_at):
        return Rescored(
            lead_id=lead.lead_id,
            outcome=Outcome.UNCHANGED,
            score=result.value,
            temperature=result.temperature,
        )
    known = state.temperature is not None or first_is_news
    alert = known and _turns_burning(state, result, now)
    new = ScoreState(
        value=result.value,
        temperature=result.temperature,
        breakdown=breakdown,
        scored_at=now,
        rescore_at=result.rescore_at,
        burning_alerted_at=now if alert else state.burning_alerted_at,
    )
    # Every lead starts cold: only a first score above that is worth an event.
    starts_cold = state.temperature is None and result.temperature is Temperature.COLD
    events = []
    if known and state.temperature is not result.temperature and not starts_cold:
        events.append(_temperature_event(state, result, now))
    key = score_key(result.value, lead.created_at)
    if not repos.scores.write(seen, new, score_key=key, events=events):
        return Rescored(lead_id=lead.lead_id, outcome=Outcome.STALE)
    sent = _alert_burning(lead, result, repos, messenger_for, now) if alert else 0
    return Rescored(
        lead_id=lead.lead_id,
        outcome=Outcome.WRITTEN,
        score=result.value,
        temperature=result.temperature,
        alerts_sent=sent,
    )


def _turns_burning(state: ScoreState, result: Score, now: datetime) -> bool:
    """Crossing into burning, and no alert for this lead in the last 24 hours."""
    if result.temperature is not Temperature.BURNING or state.temperature is Temperature.BURNING:
        return False
    last = state.burning_alerted_at
    return last is None or now - last >= BURNING_ALERT_EVERY


def _temperature_event(state: ScoreState, result: Score, now: datetime) -> TimelineEntry:
    """`from` and `previous_score` are empty for a lead's first score."""
    return TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now,
        text="temperature_changed",
        detail={
            "from": state.temperature.value if state.temperature else "",
            "to": result.temperature.value,
            "score": str(result.value),
            "previous_score": str(state.value) if state.value is not None else "",
        },
    )


def _alert_burning(
    lead: Lead, result: Score, repos: Repositories, messenger_for: MessengerFor, now: datetime
) -> int:
    """Tell the admins; the claim is already stored, so a failed send is recorded, not retried."""
    try:
        tenant = repos.tenants.get(lead.tenant_id)
    except TenantNotFound:
        log.warning("burning lead of an unknown tenant", extra={"tenant_id": lead.tenant_id})
        return 0
    if not tenant.admin_chats:
        return 0
    count(Metric.HOT_LEAD_ALERTS)
    messenger = messenger_for(tenant)
    alert = burning_alert(tenant, lead, result)
    deliveries = {chat: messenger.send(chat, alert) for chat in tenant.admin_chats}
    entries = [
        TimelineEntry(
            kind=TimelineKind.EVENT,
            at=now,
            text="burning_alert",
            detail={"admin_chat": chat, "status": d.status.value, "score": str(result.value)},
            status=d.status,
            message_id=d.message_id,
        )
        for chat, d in deliveries.items()
    ]
    record(repos, lead.tenant_id, lead.lead_id, entries)
    return sum(d.status is DeliveryStatus.SENT for d in deliveries.values())


# -- entry points for functions/score_update ---------------------------------------------------


def rescore_record(record: DynamoDBRecord) -> Rescored:
    """One Leads stream record, as Lambda delivers it."""
    from leadbot.services.runtime import repositories
    from leadbot.services.telegram import telegram_client

    change = record.dynamodb
    raw = change.raw_event if change is not None else {}
    name = record.event_name.name if record.event_name is not None else ""
    return on_change(
        name,
        raw.get("OldImage"),
        raw.get("NewImage"),
        repositories(),
        telegram_client,
        clock.now(),
    )


def decay_now(remaining_ms: Callable[[], int]) -> RunReport:
    """The hourly run, stopping with a margin before the Lambda's time is up."""
    from leadbot.services.runtime import repositories
    from leadbot.services.telegram import telegram_client

    def out_of_time() -> bool:
        return remaining_ms() < DECAY_MARGIN_MS

    return decay(repositories(), telegram_client, clock.now(), out_of_time)
