"""Ghost follow-ups on the Leads table: the due ones from the sparse index, each claimed once.

LeadRepository derives `followup_shard` / `followup_due_at` from the lead on every write, so the
index holds exactly the leads whose follow-up is pending. A sweep queries each shard up to now
(keys only) and claims each lead with one conditional UpdateItem: only if its due time is
still the one read (no message, opt-out or viewing since) and no sweep has claimed it. The
claim takes the lead out of the index and bumps its version (a webhook holding an older copy
re-reads it), and returns the whole lead, so a due lead costs one index item and one write.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.constants import ALL_NEW, ATTRIBUTES
from pynamodb.exceptions import UpdateError

from leadbot.domain import Lead
from leadbot.store.models import Tables
from leadbot.store.repositories import FOLLOWUP_SHARDS, _conflict, _lead, index_time
from leadbot.store.scores import ReadCount

SHARDS = FOLLOWUP_SHARDS


@dataclass(frozen=True)
class DueFollowup:
    """A lead the index says is due, and the due time it was read with."""

    tenant_id: str
    lead_id: str
    due_at: str  # as stored: the claim holds only while it is unchanged


class FollowupRepository:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.leads

    def due(self, shard: int, now: datetime, count: ReadCount) -> Iterator[DueFollowup]:
        """The leads of one shard whose ghost follow-up is due by `now`, oldest first."""
        model = self._model
        count.queries += 1
        results = model.followups_due.query(str(shard), model.followup_due_at <= index_time(now))
        for item in results:
            assert item.followup_due_at is not None  # the index's own key
            yield DueFollowup(
                tenant_id=item.tenant_id, lead_id=item.lead_id, due_at=item.followup_due_at
            )
        count.items += results.page_iter.total_scanned_count

    def claim(self, due: DueFollowup, now: datetime) -> Lead | None:
        """Take the lead's follow-up for this sweep: the lead as stored after the claim, or None
        when another sweep took it or the lead changed since the index was read."""
        model = self._model
        condition = (
            (model.followup_due_at == due.due_at)
            & model.ghost_claimed_at.does_not_exist()
            & model.ghost_reminded_at.does_not_exist()
        )
        actions = [
            model.ghost_claimed_at.set(now),
            model.followup_shard.remove(),
            model.followup_due_at.remove(),
            model.version.add(1),
        ]
        try:
            # The table connection, not Model.update: that one would condition on a version.
            data = model._get_connection().update_item(
                due.tenant_id,
                due.lead_id,
                actions=actions,
                condition=condition,
                return_values=ALL_NEW,
            )
        except UpdateError as exc:
            if _conflict(exc):
                return None
            raise
        return _lead(model.from_raw_data(data[ATTRIBUTES]))
