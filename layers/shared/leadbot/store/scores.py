"""Scores on the Leads table: written beside the lead without bumping its version; rescores due.

The webhook's optimistic locking is on `version`. Scoring must not bump it (every score write
would make the next message of a busy lead conflict and re-read), so a score write is
conditioned instead on the version it scored *and* the score it saw: a newer lead means a newer
stream record that will be scored, and two scorers of one lead never both win.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from leadbot.domain import Lead, ScoreState, Temperature, TimelineEntry
from leadbot.store.models import LeadModel, Tables
from leadbot.store.repositories import _conflict, _lead, _set_or_remove, timeline_item

SHARDS = 8  # rescore_due index partitions; a decay run queries each


@dataclass(frozen=True)
class ScoredLead:
    """A lead as stored, with the score it carries."""

    lead: Lead
    state: ScoreState


@dataclass
class ReadCount:
    """Items DynamoDB read for a query (what a decay run is charged for)."""

    items: int = 0
    queries: int = 0


class ScoreRepository:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.leads
        self._timeline = tables.timeline

    def from_image(self, image: Mapping[str, Any]) -> ScoredLead:
        """A lead from a stream image or raw item (DynamoDB JSON)."""
        return _scored(self._model.from_raw_data(dict(image)))

    def write(
        self,
        seen: ScoredLead,
        new: ScoreState,
        *,
        score_key: str | None,
        events: Sequence[TimelineEntry] = (),
    ) -> bool:
        """Store `new` if the lead is still as seen (False, nothing written, if not).

        With `events`, the Timeline entries are written in the same transaction, so a
        temperature change is never stored without its event or recorded twice.
        """
        m = self._model
        lead = seen.lead
        actions = [
            _set_or_remove(m.score, new.value),
            _set_or_remove(m.score_key, score_key),
            _set_or_remove(m.temperature, new.temperature.value if new.temperature else None),
            _set_or_remove(m.grade, new.temperature.grade.value if new.temperature else None),
            _set_or_remove(m.score_breakdown, json.dumps(new.breakdown, separators=(",", ":"))),
            _set_or_remove(m.scored_at, new.scored_at),
            _set_or_remove(m.rescore_shard, shard(lead.lead_id) if new.rescore_at else None),
            _set_or_remove(m.rescore_due_at, _iso(new.rescore_at) if new.rescore_at else None),
            _set_or_remove(m.burning_alerted_at, new.burning_alerted_at),
        ]
        as_seen = (
            m.scored_at == seen.state.scored_at
            if seen.state.scored_at is not None
            else m.scored_at.does_not_exist()
        )
        condition = (m.version == lead.version) & as_seen
        table = m._get_connection()
        if not events:
            try:
                table.update_item(
                    lead.tenant_id, lead.lead_id, actions=actions, condition=condition
                )
            except UpdateError as exc:
                if _conflict(exc):
                    return False
                raise
            return True
        update = table.get_operation_kwargs(
            lead.tenant_id, lead.lead_id, actions=actions, condition=condition
        )
        pk = f"{lead.tenant_id}#{lead.lead_id}"
        puts = [
            timeline_item(self._timeline, pk, entry).get_save_kwargs_from_instance()
            for entry in events
        ]
        try:
            table.connection.transact_write_items(
                condition_check_items=[], delete_items=[], put_items=puts, update_items=[update]
            )
        except TransactWriteError as exc:
            # Only the lead's update carries a condition; the Timeline puts are new items.
            reasons = exc.cancellation_reasons or []
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                return False
            raise
        return True

    def get(self, tenant_id: str, lead_id: str) -> ScoredLead | None:
        try:
            return _scored(self._model.get(tenant_id, lead_id, consistent_read=True))
        except self._model.DoesNotExist:
            return None

    def due(self, shard: int, now: datetime, count: ReadCount) -> Iterator[ScoredLead]:
        """The leads of one shard whose recency drops by `now`, from the sparse index alone."""
        count.queries += 1
        results = self._model.rescore_due.query(str(shard), self._model.rescore_due_at <= _iso(now))
        for item in results:
            yield _scored(item)
        count.items += results.page_iter.total_scanned_count

    def of_tenant(self, tenant_id: str, count: ReadCount) -> Iterator[ScoredLead]:
        count.queries += 1
        results = self._model.query(tenant_id)
        for item in results:
            yield _scored(item)
        count.items += results.page_iter.total_scanned_count

    def count_of_tenant(self, tenant_id: str) -> int:
        return int(self._model.count(tenant_id))


def shard(lead_id: str) -> str:
    return str(zlib.crc32(lead_id.encode()) % SHARDS)


def score_key(value: int, created_at: datetime) -> str:
    """Sorts leads by score, then by age, in the by_score index."""
    return f"{value:03d}#{_iso(created_at)}"


def _iso(at: datetime) -> str:
    """Fixed width, so that index keys sort as times."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _scored(item: LeadModel) -> ScoredLead:
    breakdown = json.loads(item.score_breakdown) if item.score_breakdown else {}
    return ScoredLead(
        lead=_lead(item),
        state=ScoreState(
            value=int(item.score) if item.score is not None else None,
            temperature=Temperature(item.temperature) if item.temperature else None,
            breakdown=breakdown,
            scored_at=item.scored_at,
            rescore_at=datetime.fromisoformat(item.rescore_due_at) if item.rescore_due_at else None,
            burning_alerted_at=item.burning_alerted_at,
        ),
    )
