"""Follow-ups on the Leads table: the due ones from the sparse index, each claimed once.

LeadRepository derives `followup_shard` / `followup_due_at` from the lead on every write, so the
index holds exactly the leads whose follow-up (the ghost one, or a campaign step) is pending.
A sweep queries each shard up to now (keys only) and claims each lead with one conditional
UpdateItem: only if its due time and step are still the ones read (no message, opt-out or
viewing since) and no sweep has claimed that step. Listings held for a lead in its quiet
hours are a step of their own ("#matches"), claimed alike. The claim takes the lead out of the index
and bumps its version (a webhook holding an older copy re-reads it), and returns the whole
lead, so a due lead costs one index item and one write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pynamodb.constants import ALL_NEW, ATTRIBUTES
from pynamodb.exceptions import UpdateError

from leadbot.domain import FollowupStep, Lead
from leadbot.domain.followups import Held, PendingFollowup
from leadbot.store.models import Tables
from leadbot.store.repositories import (
    FOLLOWUP_SHARDS,
    _conflict,
    _lead,
    followup_index,
    index_time,
)
from leadbot.store.scores import ReadCount

SHARDS = FOLLOWUP_SHARDS


@dataclass(frozen=True)
class DueFollowup:
    """A lead the index says is due, and the due time it was read with."""

    tenant_id: str
    lead_id: str
    due_at: str  # as stored: the claim holds only while it is unchanged

    @property
    def step(self) -> FollowupStep | Held:
        """What is due: the key's "#campaign_N" or "#matches", else the ghost follow-up."""
        _, _, step = self.due_at.partition("#")
        if step in (Held.MATCHES, Held.HANDOFF):
            return Held(step)
        return FollowupStep(step) if step else FollowupStep.GHOST


class Reindexed(StrEnum):
    """What reindexing did to one lead's place in the followups_due index."""

    UNCHANGED = "unchanged"
    INDEXED = "indexed"  # it had none and waits for a follow-up: now the sweep finds it
    MOVED = "moved"  # due at another time or step than stored
    REMOVED = "removed"  # stored as due, waits for nothing
    CHANGED_MEANWHILE = "changed_meanwhile"  # written since the read: that write placed it


class FollowupRepository:
    def __init__(self, tables: Tables) -> None:
        self._model = tables.leads

    def due(self, shard: int, now: datetime, count: ReadCount) -> Iterator[DueFollowup]:
        """The leads of one shard whose follow-up is due by `now`, oldest first."""
        model = self._model
        count.queries += 1
        # "#~" sorts after every step suffix: the keys of `now` itself are due too.
        until = f"{index_time(now)}#~"
        results = model.followups_due.query(str(shard), model.followup_due_at <= until)
        for item in results:
            assert item.followup_due_at is not None  # the index's own key
            yield DueFollowup(
                tenant_id=item.tenant_id, lead_id=item.lead_id, due_at=item.followup_due_at
            )
        count.items += results.page_iter.total_scanned_count

    def claim(self, due: DueFollowup, now: datetime) -> Lead | None:
        """Take the lead's due follow-up for this sweep: the lead as stored after the claim, or
        None when another sweep took it or the lead changed since the index was read."""
        model = self._model
        if due.step is Held.MATCHES or due.step is Held.HANDOFF:
            claim = model.held_claimed_at if due.step is Held.MATCHES else model.sla_claimed_at
            condition = (model.followup_due_at == due.due_at) & claim.does_not_exist()
        elif due.step is FollowupStep.GHOST:
            claim = model.ghost_claimed_at
            condition = (
                (model.followup_due_at == due.due_at)
                & model.ghost_claimed_at.does_not_exist()
                & model.ghost_reminded_at.does_not_exist()
            )
        else:
            # The key names the step, and only a step sent or given up on moves it on.
            claim = model.campaign_claimed_at
            condition = (model.followup_due_at == due.due_at) & claim.does_not_exist()
        actions = [
            claim.set(now),
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

    def reindex(
        self,
        tenant_id: str,
        pending: Callable[[Lead], PendingFollowup | None],
        count: ReadCount,
    ) -> Iterator[tuple[Lead, Reindexed]]:
        """Give each of the tenant's leads the index attributes it derives (`pending`: by the
        tenant's settings now), for leads stored before the index existed or under other
        settings. One Query of the tenant's partition; one conditional write per lead whose
        stored attributes differ, only if the lead is still the version read (any later save
        places it itself). The version is not bumped: no lead data changes."""
        model = self._model
        count.queries += 1
        results = model.query(tenant_id)
        for item in results:
            lead = _lead(item)
            want = followup_index(lead, pending(lead))
            have = {"followup_shard": item.followup_shard, "followup_due_at": item.followup_due_at}
            if want == have:
                yield lead, Reindexed.UNCHANGED
                continue
            actions = [
                getattr(model, name).set(value)
                if value is not None
                else getattr(model, name).remove()
                for name, value in want.items()
            ]
            try:
                model._get_connection().update_item(
                    tenant_id,
                    lead.lead_id,
                    actions=actions,
                    condition=model.version == item.version,
                )
            except UpdateError as exc:
                if _conflict(exc):
                    yield lead, Reindexed.CHANGED_MEANWHILE
                    continue
                raise
            if have["followup_due_at"] is None:
                yield lead, Reindexed.INDEXED
            elif want["followup_due_at"] is None:
                yield lead, Reindexed.REMOVED
            else:
                yield lead, Reindexed.MOVED
        count.items += results.page_iter.total_scanned_count

    # -- new-listing matches: a (lead, listing) marker on the lead, set at most once -----------

    def match_candidates(self, tenant_id: str, count: ReadCount) -> Iterator[Lead]:
        """The tenant's leads that named a goal and a budget (what a match needs), from one
        Query of the tenant's partition: never a scan of the table. Every lead item of the
        tenant is read (the filter only trims what comes back), so the cost is the tenant's
        leads, not the table's."""
        model = self._model
        count.queries += 1
        results = model.query(
            tenant_id, filter_condition=model.goal.exists() & model.budget_amount.exists()
        )
        for item in results:
            yield _lead(item)
        count.items += results.page_iter.total_scanned_count

    def claim_match(self, tenant_id: str, lead_id: str, property_id: str) -> Lead | None:
        """Mark the lead as told of the listing, unless it was already (or shown it as a card),
        or may no longer be written to: the lead as stored after, or None."""
        model = self._model
        condition = (
            model.lead_id.exists()
            & ~model.matched_property_ids.contains(property_id)
            & ~model.offered_property_ids.contains(property_id)
            & _not_set(model.opted_out)
            & _not_set(model.unreachable)
            & _not_set(model.bot_paused)
        )
        actions = [model.matched_property_ids.add({property_id}), model.version.add(1)]
        try:
            data = model._get_connection().update_item(
                tenant_id, lead_id, actions=actions, condition=condition, return_values=ALL_NEW
            )
        except UpdateError as exc:
            if _conflict(exc):
                return None
            raise
        return _lead(model.from_raw_data(data[ATTRIBUTES]))

    def release_match(self, tenant_id: str, lead_id: str, property_id: str) -> None:
        """Give the marker back (the message failed and may pass later): a retry may tell it."""
        model = self._model
        actions = [model.matched_property_ids.delete({property_id}), model.version.add(1)]
        try:
            # Only on a lead that still exists: one forgotten meanwhile must not come back as
            # an item of just a version.
            model._get_connection().update_item(
                tenant_id, lead_id, actions=actions, condition=model.lead_id.exists()
            )
        except UpdateError as exc:
            if not _conflict(exc):
                raise


def _not_set(flag: Any) -> Any:
    """True unless the boolean attribute is stored as true (absent counts as false)."""
    return flag.does_not_exist() | (flag == False)  # noqa: E712 - a DynamoDB condition
