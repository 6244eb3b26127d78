"""Each agency's CRM (its Airtable base) kept current from the Leads and Deals streams.

What a change means for the CRM is pure (`lead_change`, `deal_change`: old and new state in,
a `CrmChange` out):

- A lead is in the CRM once its status has reached `qualified` (the bot sets it when a lead that
  answered the questions leaves its number) or any later stage of the pipeline; `lost` counts
  only for a lead that had got that far (it has a phone). Its Qualified Leads row is upserted
  (on Lead ID) when it enters the CRM and on every later change of status, broker or score
  temperature; nothing for other changes (messages, counters, follow-ups) and nothing ever for
  a lead that never got there.
- Activities are upserted on an Activity ID made from the lead or deal and the time the change
  carries, so a record delivered twice, or replayed, writes its line once:
  `<lead>:broker_requested:<broker_requested_at>`, `<lead>:assigned:<broker>[:<assigned_at>]`,
  `<lead>:status:<from>:<to>:<updated_at>` (other status changes; requests and assignments have
  their own kinds), `<deal>:created`, `<deal>:won:<closed_at>` / `<deal>:lost:<closed_at>`.
- A deal's Deals row (both commissions) is upserted on every change of the deal; the broker a
  lead's or deal's row names gets its Brokers row.

`sync` writes a batch's changes per agency in calls of 10 (Brokers, Qualified Leads, Deals,
Activity Log, in that order), through the base's adapter and its pacer. An agency without a base
gets nothing and fails nothing. A call Airtable cannot take now (CrmUnavailable) fails every
record of that agency in the batch (the stream delivers them again); a call it refuses
(CrmRejected: our bug or the base's schema) parks the records it came from in the DLQ and the
shard goes on. `replay` drains the DLQ by writing what each message names from the tables'
current state (`current_lead_change`, `current_deal_change`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadbot.domain import (
    BrokerNotFound,
    DealNotFound,
    Lead,
    LeadStatus,
    Tenant,
    TenantNotFound,
)
from leadbot.domain.deals import Broker, Deal, DealStatus
from leadbot.integrations.airtable import (
    ACTIVITY,
    ACTIVITY_ID,
    BROKER_ID,
    BROKERS,
    DEAL_ID,
    DEALS,
    LEAD_ID,
    LEADS,
    MAX_RECORDS_PER_REQUEST,
    activity_fields,
    broker_fields,
    deal_fields,
    iso_utc,
    lead_fields,
)
from leadbot.integrations.crm import Crm, CrmRejected, CrmUnavailable, Fields
from leadbot.services.runtime import Repositories
from leadbot.store import ScoredLead

if TYPE_CHECKING:
    from leadbot.integrations.sqs import Message, Queue

log = logging.getLogger(__name__)

# The sender of the DLQ messages the function writes itself (Lambda's own carry
# DDBStreamBatchInfo instead).
PARKED_BY = "CrmSyncFunction"
LEADS_SOURCE = "leads"
DEALS_SOURCE = "deals"

_PIPELINE_FROM_QUALIFIED = frozenset(
    {
        LeadStatus.QUALIFIED,
        LeadStatus.BROKER_REQUESTED,
        LeadStatus.ASSIGNED,
        LeadStatus.CONTACTED,
        LeadStatus.VIEWING_SCHEDULED,
        LeadStatus.NEGOTIATING,
        LeadStatus.WON,
    }
)
# Status changes with an activity of their own kind.
_OWN_KIND = frozenset({LeadStatus.BROKER_REQUESTED, LeadStatus.ASSIGNED})


class ActivityKind(StrEnum):
    BROKER_REQUESTED = "broker_requested"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    DEAL_CREATED = "deal_created"
    DEAL_WON = "deal_won"
    DEAL_LOST = "deal_lost"


@dataclass(frozen=True, slots=True)
class Activity:
    """One Activity Log line; `broker_id`'s name is added to the detail when it is written."""

    activity_id: str
    at: datetime
    lead_id: str
    kind: ActivityKind
    detail: str = ""
    broker_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity_id,
            "at": self.at.astimezone(UTC).isoformat(),
            "lead_id": self.lead_id,
            "kind": self.kind.value,
            "detail": self.detail,
            "broker_id": self.broker_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Activity:
        return cls(
            activity_id=str(data["activity_id"]),
            at=datetime.fromisoformat(str(data["at"])),
            lead_id=str(data["lead_id"]),
            kind=ActivityKind(data["kind"]),
            detail=str(data.get("detail") or ""),
            broker_id=data.get("broker_id") or None,
        )


@dataclass(frozen=True, slots=True)
class CrmChange:
    """What one change writes to its agency's CRM: the lead's row as of the change, the deal's
    row, the brokers' rows, and activity lines."""

    tenant_id: str
    lead: ScoredLead | None = None
    deal: Deal | None = None
    broker_ids: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    # A lead removed from the Leads table (forget-lead): its row and activity lines go too.
    forget_lead: str | None = None


# -- what a change means (pure) ----------------------------------------------------------------


def in_crm(lead: Lead) -> bool:
    """The lead reached `qualified` or a later stage (`lost` only with a phone)."""
    if lead.status is LeadStatus.LOST:
        return bool((lead.phone or "").strip())
    return lead.status in _PIPELINE_FROM_QUALIFIED


def _stamp(at: datetime) -> str:
    return iso_utc(at) or ""


def lead_change(old: ScoredLead | None, new: ScoredLead | None) -> CrmChange | None:
    """What a Leads stream record (its old and new image) writes to the CRM; None for nothing.
    Leads are only ever removed when forgotten (`forget-lead`): their rows are deleted then."""
    if new is None and old is not None:
        return CrmChange(old.lead.tenant_id, forget_lead=old.lead.lead_id)
    if new is None or not in_crm(new.lead):
        return None
    lead = new.lead
    before = old.lead if old is not None else None
    if old is None or before is None or not in_crm(before):
        row = True  # it enters the CRM now
    else:
        row = (
            before.status is not lead.status
            or before.broker_id != lead.broker_id
            or old.state.temperature is not new.state.temperature
        )
    activities = _lead_activities(before, lead)
    if not row and not activities:
        return None
    brokers = (lead.broker_id,) if row and lead.broker_id else ()
    return CrmChange(
        lead.tenant_id,
        lead=new if row else None,
        broker_ids=brokers,
        activities=tuple(activities),
    )


def current_lead_change(seen: ScoredLead) -> CrmChange | None:
    """The lead's row as it is now, its broker's row, and the activities its state proves (the
    broker request and the assignment, with the same ids the stream writes them with)."""
    if not in_crm(seen.lead):
        return None
    lead = seen.lead
    return CrmChange(
        lead.tenant_id,
        lead=seen,
        broker_ids=(lead.broker_id,) if lead.broker_id else (),
        activities=tuple(_lead_activities(None, lead)),
    )


def _lead_activities(before: Lead | None, lead: Lead) -> list[Activity]:
    found: list[Activity] = []
    requested = lead.broker_requested_at
    if requested is not None and (before is None or before.broker_requested_at != requested):
        found.append(
            Activity(
                f"{lead.lead_id}:broker_requested:{_stamp(requested)}",
                requested,
                lead.lead_id,
                ActivityKind.BROKER_REQUESTED,
            )
        )
    broker = lead.broker_id
    if broker and (
        before is None or before.broker_id != broker or before.assigned_at != lead.assigned_at
    ):
        # A round-robin assignment carries its time; an agent's re-assignment keeps the last
        # one's, so the id names the broker too (back to an earlier broker: that line moves).
        suffix = f":{_stamp(lead.assigned_at)}" if lead.assigned_at else ""
        found.append(
            Activity(
                f"{lead.lead_id}:assigned:{broker}{suffix}",
                lead.assigned_at or lead.updated_at,
                lead.lead_id,
                ActivityKind.ASSIGNED,
                broker_id=broker,
            )
        )
    if before is not None and before.status is not lead.status and lead.status not in _OWN_KIND:
        found.append(
            Activity(
                f"{lead.lead_id}:status:{before.status.value}:{lead.status.value}:"
                f"{_stamp(lead.updated_at)}",
                lead.updated_at,
                lead.lead_id,
                ActivityKind.STATUS_CHANGED,
                f"{before.status.value} → {lead.status.value}",
            )
        )
    return found


def _same_deal(a: Deal, b: Deal) -> bool:
    return replace(a, version=None) == replace(b, version=None)


def deal_change(old: Deal | None, new: Deal | None) -> CrmChange | None:
    """What a Deals stream record writes: the deal's row on every change of the deal, its
    creation, and it being won or lost."""
    if new is None or (old is not None and _same_deal(old, new)):
        return None
    activities: list[Activity] = []
    if old is None:
        activities.append(_deal_created(new))
    closed = _deal_closed(new)
    if closed is not None and (old is None or old.status is not new.status):
        activities.append(closed)
    return CrmChange(
        new.tenant_id,
        deal=new,
        broker_ids=(new.broker_id,) if new.broker_id else (),
        activities=tuple(activities),
    )


def current_deal_change(deal: Deal) -> CrmChange:
    """The deal's row as it is now, with its creation and (if so) its closing."""
    change = deal_change(None, deal)
    assert change is not None
    return change


def _deal_created(deal: Deal) -> Activity:
    value = deal.value
    return Activity(
        f"{deal.deal_id}:created",
        deal.created_at,
        deal.lead_id,
        ActivityKind.DEAL_CREATED,
        f"deal {deal.deal_id}: {value.amount} {value.currency}",
        broker_id=deal.broker_id,
    )


def _deal_closed(deal: Deal) -> Activity | None:
    if deal.status is DealStatus.OPEN:
        return None
    kind = ActivityKind.DEAL_WON if deal.status is DealStatus.WON else ActivityKind.DEAL_LOST
    at = deal.closed_at or deal.created_at
    value = deal.value
    return Activity(
        f"{deal.deal_id}:{deal.status.value}:{_stamp(at)}",
        at,
        deal.lead_id,
        kind,
        f"deal {deal.deal_id}: {value.amount} {value.currency}",
        broker_id=deal.broker_id,
    )


# -- writing a batch of changes ----------------------------------------------------------------


@dataclass
class _Row:
    """One record for one table, and the changes (by source id) it was made from."""

    fields: Fields
    sources: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Airtable refused a call that carried this source's rows."""

    error_type: str
    message: str


@dataclass
class SyncReport:
    """What writing a batch did, by source id (a stream record's sequence number)."""

    written: set[str] = field(default_factory=set)  # every row and line it made was written
    failed: set[str] = field(default_factory=set)  # retry later: Airtable could not take them
    refused: dict[str, Refusal] = field(default_factory=dict)  # Airtable refused them
    not_configured: set[str] = field(default_factory=set)  # the agency has no base
    calls: int = 0


CrmFor = Callable[[Tenant], Crm | None]


def sync(
    changes: Sequence[tuple[str, CrmChange]],
    repos: Repositories,
    crm_for: CrmFor,
) -> SyncReport:
    """Write the changes (each with its source id, in stream order) to their agencies' bases."""
    report = SyncReport()
    by_tenant: dict[str, list[tuple[str, CrmChange]]] = {}
    for source, change in changes:
        by_tenant.setdefault(change.tenant_id, []).append((source, change))
    for tenant_id, mine in by_tenant.items():
        sources = {source for source, _ in mine}
        try:
            # As stored now (one read per agency and batch): a base connected or disconnected
            # counts from the next batch, not after the tenant cache's minute.
            tenant = repos.tenants.get(tenant_id, consistent=True)
        except TenantNotFound:
            log.warning("CRM change of an unknown tenant", extra={"tenant_id": tenant_id})
            report.not_configured |= sources
            continue
        crm = crm_for(tenant)
        if crm is None:
            report.not_configured |= sources
            continue
        _sync_tenant(tenant, mine, crm, repos, report)
    return report


def _sync_tenant(
    tenant: Tenant,
    changes: Sequence[tuple[str, CrmChange]],
    crm: Crm,
    repos: Repositories,
    report: SyncReport,
) -> None:
    brokers = _brokers(tenant.tenant_id, changes, repos)

    def name(broker_id: str | None) -> str | None:
        broker = brokers.get(broker_id or "")
        return broker.name if broker is not None else None

    tables: dict[str, dict[str, _Row]] = {BROKERS: {}, LEADS: {}, DEALS: {}, ACTIVITY: {}}
    # A lead forgotten later in the stream: none of its data is sent, not even from the
    # records before its removal.
    forgotten = {c.forget_lead: source for source, c in changes if c.forget_lead}
    for source, change in changes:
        for broker_id in change.broker_ids:
            if broker_id in brokers:
                _add(tables[BROKERS], broker_id, broker_fields(brokers[broker_id]), source)
        if change.lead is not None and change.lead.lead.lead_id not in forgotten:
            lead, state = change.lead.lead, change.lead.state
            fields = lead_fields(
                lead, name(lead.broker_id), tenant.lead_url(lead.lead_id), score=state
            )
            _add(tables[LEADS], lead.lead_id, fields, source)
        if change.deal is not None:
            deal = change.deal
            _add(tables[DEALS], deal.deal_id, deal_fields(deal, name(deal.broker_id)), source)
        for activity in change.activities:
            if activity.lead_id in forgotten and change.deal is None:
                continue
            detail = " ".join(p for p in (activity.detail, name(activity.broker_id) or "") if p)
            fields = activity_fields(
                activity.activity_id, activity.at, activity.lead_id, activity.kind.value, detail
            )
            _add(tables[ACTIVITY], activity.activity_id, fields, source)

    keys = {BROKERS: BROKER_ID, LEADS: LEAD_ID, DEALS: DEAL_ID, ACTIVITY: ACTIVITY_ID}
    everything = {source for source, _ in changes}
    refused: dict[str, Refusal] = {}
    for table, rows in tables.items():
        ordered = list(rows.values())
        for start in range(0, len(ordered), MAX_RECORDS_PER_REQUEST):
            chunk = ordered[start : start + MAX_RECORDS_PER_REQUEST]
            report.calls += 1
            try:
                crm.upsert(table, [row.fields for row in chunk], [keys[table]])
            except CrmUnavailable as exc:
                # The base is down or busy past the retries: the rest would fare no better.
                log.warning(
                    "Airtable unavailable",
                    extra={"tenant_id": tenant.tenant_id, "table": table, "status": exc.status},
                )
                report.failed |= everything - set(refused)
                return
            except CrmRejected as exc:
                log.error(
                    "Airtable refused a CRM write",
                    extra={
                        "tenant_id": tenant.tenant_id,
                        "table": table,
                        "error_type": exc.error_type or type(exc).__name__,
                        "status": exc.status,
                    },
                )
                for row in chunk:
                    for source in row.sources:
                        refused.setdefault(
                            source, Refusal(exc.error_type or type(exc).__name__, str(exc))
                        )
    for lead_id, source in forgotten.items():
        report.calls += 1
        try:
            forget_lead_rows(crm, lead_id)
        except CrmUnavailable as exc:
            log.warning(
                "Airtable unavailable",
                extra={"tenant_id": tenant.tenant_id, "table": LEADS, "status": exc.status},
            )
            report.failed |= everything - set(refused)
            return
        except CrmRejected as exc:
            refused.setdefault(source, Refusal(exc.error_type or type(exc).__name__, str(exc)))
    report.refused.update(refused)
    report.written |= everything - set(refused)


def forget_lead_rows(crm: Crm, lead_id: str) -> int:
    """Delete the lead's Qualified Leads row and its Activity Log lines (its deals' rows stay,
    as the deals do: they name no person); how many records were deleted."""
    deleted = 0
    for table in (LEADS, ACTIVITY):
        deleted += crm.delete(table, crm.records_where(table, LEAD_ID, lead_id))
    return deleted


def _add(rows: dict[str, _Row], key: str, fields: Fields, source: str) -> None:
    """The latest change's fields for the key (changes come in stream order)."""
    row = rows.get(key)
    if row is None:
        rows[key] = _Row(fields, {source})
    else:
        row.fields = fields
        row.sources.add(source)


def _brokers(
    tenant_id: str, changes: Iterable[tuple[str, CrmChange]], repos: Repositories
) -> dict[str, Broker]:
    """The brokers the changes name (for their rows and for their names on the others)."""
    wanted: set[str] = set()
    for _, change in changes:
        wanted.update(change.broker_ids)
        wanted.update(a.broker_id for a in change.activities if a.broker_id)
        if change.lead is not None and change.lead.lead.broker_id:
            wanted.add(change.lead.lead.broker_id)
        if change.deal is not None and change.deal.broker_id:
            wanted.add(change.deal.broker_id)
    found: dict[str, Broker] = {}
    for broker_id in sorted(wanted):
        try:
            found[broker_id] = repos.brokers.get(tenant_id, broker_id)
        except BrokerNotFound:
            log.warning("a CRM change names an unknown broker", extra={"broker_id": broker_id})
    return found


# -- stream records ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamChange:
    """One stream record: its id (sequence number), which table, its keys and images."""

    source_id: str
    table: str  # LEADS_SOURCE or DEALS_SOURCE
    keys: Mapping[str, Any]
    old_image: Mapping[str, Any] | None
    new_image: Mapping[str, Any] | None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> StreamChange:
        """From a record in Lambda's event shape (or GetRecords'): the table by its keys."""
        change = record.get("dynamodb") or {}
        keys = change.get("Keys") or {}
        return cls(
            source_id=str(change.get("SequenceNumber", "")),
            table=DEALS_SOURCE if "deal_id" in keys else LEADS_SOURCE,
            keys=keys,
            old_image=change.get("OldImage"),
            new_image=change.get("NewImage"),
        )

    @property
    def tenant_id(self) -> str:
        return str((self.keys.get("tenant_id") or {}).get("S", ""))

    @property
    def item_id(self) -> str:
        name = "deal_id" if self.table == DEALS_SOURCE else "lead_id"
        return str((self.keys.get(name) or {}).get("S", ""))


def record_change(record: StreamChange, repos: Repositories) -> CrmChange | None:
    """What the record writes, from its images (ValueError-like errors for an unreadable one)."""
    if record.table == DEALS_SOURCE:
        old_deal = repos.deals.from_image(record.old_image) if record.old_image else None
        new_deal = repos.deals.from_image(record.new_image) if record.new_image else None
        return deal_change(old_deal, new_deal)
    old = repos.scores.from_image(record.old_image) if record.old_image else None
    new = repos.scores.from_image(record.new_image) if record.new_image else None
    return lead_change(old, new)


class CrmSyncFailed(Exception):
    """The record's write must be tried again (its base was unavailable, or it could not be
    parked); the stream delivers it again, and after the retries Lambda parks it."""


@dataclass
class BatchOutcome:
    """A batch of stream records: which must be retried, and counts for the metrics."""

    failed: set[str] = field(default_factory=set)
    written: int = 0
    rejected: int = 0
    unchanged: int = 0
    not_configured: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "written": self.written,
            "failed": len(self.failed),
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "not_configured": self.not_configured,
        }


def sync_records(
    records: Sequence[Mapping[str, Any]],
    repos: Repositories,
    crm_for: CrmFor,
    dlq: Queue | None,
) -> BatchOutcome:
    """Write what a batch of Leads/Deals stream records means for the CRM; park what Airtable
    refused in `dlq`. The records to report as batch item failures are in `failed`."""
    outcome = BatchOutcome()
    stream = [StreamChange.of(record) for record in records]
    changes: list[tuple[str, CrmChange]] = []
    by_source: dict[str, tuple[StreamChange, CrmChange]] = {}
    for record in stream:
        try:
            change = record_change(record, repos)
        except Exception:  # an image our models cannot read: retried, then parked by Lambda
            log.exception("unreadable stream record", extra={"sequence": record.source_id})
            outcome.failed.add(record.source_id)
            continue
        if change is None:
            outcome.unchanged += 1
            continue
        changes.append((record.source_id, change))
        by_source[record.source_id] = (record, change)
    report = sync(changes, repos, crm_for)
    outcome.failed |= report.failed
    outcome.written = len(report.written)
    outcome.not_configured = len(report.not_configured)
    for source, refusal in report.refused.items():
        record, change = by_source[source]
        if _park(dlq, record, change, refusal):
            outcome.rejected += 1
        else:
            outcome.failed.add(source)
    return outcome


def _park(dlq: Queue | None, record: StreamChange, change: CrmChange, refusal: Refusal) -> bool:
    """Put a refused record's keys (and its activities, which its images alone prove) in the
    DLQ; False when it could not be parked (then it is retried instead of lost)."""
    if dlq is None:
        log.error("no CRM_SYNC_DLQ_URL: a refused record is retried instead of parked")
        return False
    body = {
        "source": PARKED_BY,
        "condition": "CrmRejected",
        "error_type": refusal.error_type,
        "error": refusal.message[:1000],
        "table": record.table,
        "keys": dict(record.keys),
        "sequence_number": record.source_id,
        "activities": [a.as_dict() for a in change.activities],
    }
    try:
        dlq.send(body)
    except Exception:
        log.exception("could not park a refused record", extra={"sequence": record.source_id})
        return False
    return True


# -- the DLQ replay ------------------------------------------------------------------------


class Unreplayable(Exception):
    """The message names nothing we can find again (an unknown shape, or a stream batch whose
    records have left the stream): it stays in the queue for a person to look at."""


# Reads a stream batch's records by DDBStreamBatchInfo; None when they are gone.
BatchReader = Callable[[Mapping[str, Any]], list[dict[str, Any]] | None]


@dataclass
class ReplayReport:
    replayed: int = 0
    failed: int = 0
    unreplayable: int = 0
    left: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {
            "replayed": self.replayed,
            "failed": self.failed,
            "unreplayable": self.unreplayable,
            "left": self.left,
        }


def message_changes(
    body: Any, repos: Repositories, read_batch: BatchReader
) -> list[tuple[str, CrmChange]]:
    """What a DLQ message names, as changes from the tables' current state (plus the activities
    its records prove). Three shapes: ours (a refused record's keys), Lambda's OnFailure record
    with the batch's records (the local stack's, as an S3 destination holds them), and Lambda's
    OnFailure record with only DDBStreamBatchInfo (SQS in AWS), whose records are read back
    from the stream while it has them (24 h)."""
    if not isinstance(body, Mapping):
        raise Unreplayable("not a JSON object")
    if body.get("source") == PARKED_BY:
        keys = body.get("keys") or {}
        table = DEALS_SOURCE if body.get("table") == DEALS_SOURCE else LEADS_SOURCE
        target = StreamChange(str(body.get("sequence_number", "")), table, keys, None, None)
        extra = [Activity.from_dict(a) for a in body.get("activities") or []]
        return _current([(target, extra)], repos)
    info = body.get("DDBStreamBatchInfo")
    if not isinstance(info, Mapping):
        raise Unreplayable("neither a parked record nor a stream batch")
    records = (body.get("payload") or {}).get("Records")
    if not records:
        records = read_batch(info)
    if records is None:
        raise Unreplayable(
            f"the stream no longer has {info.get('shardId')} "
            f"{info.get('startSequenceNumber')}..{info.get('endSequenceNumber')}"
        )
    targets: list[tuple[StreamChange, list[Activity]]] = []
    for raw in records:
        record = StreamChange.of(raw)
        try:
            seen = record_change(record, repos)
        except Exception:  # the keys are enough: the row comes from the current state
            seen = None
        targets.append((record, list(seen.activities) if seen else []))
    return _current(targets, repos)


def _current(
    targets: Sequence[tuple[StreamChange, list[Activity]]], repos: Repositories
) -> list[tuple[str, CrmChange]]:
    changes: list[tuple[str, CrmChange]] = []
    for n, (target, extra) in enumerate(targets):
        tenant_id, item_id = target.tenant_id, target.item_id
        if not tenant_id or not item_id:
            raise Unreplayable("a record without its keys")
        now: CrmChange | None
        if target.table == DEALS_SOURCE:
            try:
                now = current_deal_change(repos.deals.get(tenant_id, item_id))
            except DealNotFound:
                now = None
        else:
            seen = repos.scores.get(tenant_id, item_id)
            if seen is None:
                # Forgotten (or never there): whatever the message held, its rows must go.
                changes.append(
                    (f"{n}:{target.source_id}", CrmChange(tenant_id, forget_lead=item_id))
                )
                continue
            now = current_lead_change(seen)
        if now is None and not extra:
            continue
        base = now or CrmChange(tenant_id)
        activities = {a.activity_id: a for a in (*base.activities, *extra)}
        brokers = {*base.broker_ids, *(a.broker_id for a in extra if a.broker_id)}
        merged = replace(
            base, activities=tuple(activities.values()), broker_ids=tuple(sorted(brokers))
        )
        changes.append((f"{n}:{target.source_id}", merged))
    return changes


def replay(
    queue: Queue,
    repos: Repositories,
    crm_for: CrmFor,
    read_batch: BatchReader,
    *,
    limit: int | None = None,
    progress: Callable[[ReplayReport], None] = lambda report: None,
    visibility_s: int = 300,
) -> ReplayReport:
    """Drain the DLQ: each message's changes written from current state, the message deleted
    once they all are, kept when any is not (hidden for `visibility_s`, so one run takes each
    message once). `limit`: at most this many messages."""
    report = ReplayReport()
    taken = 0
    while limit is None or taken < limit:
        want = 10 if limit is None else min(10, limit - taken)
        messages = queue.receive(want, visibility_s)
        if not messages:
            break
        for message in messages:
            taken += 1
            outcome = _replay_one(message, repos, crm_for, read_batch)
            report.outcomes[outcome] += 1
            if outcome == "replayed":
                queue.delete(message)
                report.replayed += 1
            elif outcome == "unreplayable":
                report.unreplayable += 1
            else:
                report.failed += 1
            progress(report)
    report.left = queue.depth()
    return report


def _replay_one(message: Message, repos: Repositories, crm_for: CrmFor, read: BatchReader) -> str:
    try:
        changes = message_changes(message.json(), repos, read)
    except Unreplayable as exc:
        log.warning("unreplayable DLQ message", extra={"id": message.message_id, "why": str(exc)})
        return "unreplayable"
    written = sync(changes, repos, crm_for)
    if written.failed or written.refused:
        return "failed"
    return "replayed"


def stream_batch_reader(client: Any, max_pages: int = 50) -> BatchReader:
    """Reads the records a DDBStreamBatchInfo names (shard, first and last sequence number)
    with the DynamoDB Streams API; None once they have left the stream (trimmed after 24 h),
    or the stream is gone."""
    from botocore.exceptions import ClientError

    def read(info: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        try:
            arn, shard = str(info["streamArn"]), str(info["shardId"])
            first, last = str(info["startSequenceNumber"]), int(info["endSequenceNumber"])
        except (KeyError, TypeError, ValueError):
            return None
        try:
            iterator = client.get_shard_iterator(
                StreamArn=arn,
                ShardId=shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=first,
            )["ShardIterator"]
            found: list[dict[str, Any]] = []
            for _ in range(max_pages):
                page = client.get_records(ShardIterator=iterator, Limit=1000)
                for record in page.get("Records", []):
                    if int(record["dynamodb"]["SequenceNumber"]) > last:
                        return found
                    found.append(record)
                    if int(record["dynamodb"]["SequenceNumber"]) == last:
                        return found
                iterator = page.get("NextShardIterator")
                if not iterator or not page.get("Records"):
                    break
            return found or None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            log.warning("cannot read a parked stream batch", extra={"code": code})
            return None

    return read


# -- entry points ----------------------------------------------------------------------------


def sync_stream_batch(records: Sequence[Mapping[str, Any]]) -> BatchOutcome:
    """functions/crm_sync: one batch of Leads/Deals stream records, as Lambda delivers it."""
    from leadbot.services.runtime import crm, crm_sync_dlq, repositories

    return sync_records(records, repositories(), crm, crm_sync_dlq())


def replay_dlq(
    limit: int | None, progress: Callable[[ReplayReport], None], queue_url: str | None = None
) -> ReplayReport:
    """`python -m leadbot.admin crm-replay`."""
    from leadbot.config import settings
    from leadbot.integrations.sqs import Queue
    from leadbot.services.runtime import crm, crm_sync_dlq, dynamodb_streams_client, repositories

    s = settings()
    queue = (
        Queue(queue_url, region=s.region, endpoint_url=s.sqs_endpoint)
        if queue_url
        else crm_sync_dlq()
    )
    if queue is None:
        raise LookupError("no CRM sync DLQ: set CRM_SYNC_DLQ_URL or give --queue-url")
    reader = stream_batch_reader(dynamodb_streams_client())
    return replay(queue, repositories(), crm, reader, limit=limit, progress=progress)
