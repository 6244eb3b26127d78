"""Dashboard stats: funnel, temperatures, sources, speed to lead, follow-up outcomes.

The aggregation is pure (leads and their Timelines in, figures out); `tenant_stats` only reads.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadbot.domain import LeadStatus, Temperature, TimelineEntry, TimelineKind
from leadbot.services.leads import LeadFilter, every_lead
from leadbot.services.runtime import Repositories
from leadbot.store import ScoredLead

DIRECT = "direct"  # the source of a lead that came without a campaign payload
FAST_MINUTES = 5
# Timeline events a person makes on a lead (services.leads.update_lead), with detail["by"].
AGENT_ACTIONS = frozenset({"status_changed", "note"})
FOLLOWUP_PREFIX = "followup_"

# The pipeline in order; lost is an exit, not a step, so it reaches nothing by itself.
_PIPELINE: list[LeadStatus] = [s for s in LeadStatus if s is not LeadStatus.LOST]


@dataclass(frozen=True)
class Funnel:
    conversations: int = 0
    qualified: int = 0
    broker_requested: int = 0
    viewing_scheduled: int = 0
    won: int = 0


@dataclass(frozen=True)
class SpeedToLead:
    with_phone: int = 0
    handled: int = 0
    no_action_yet: int = 0
    median_minutes: float | None = None
    within_5_minutes: float | None = None  # share of the handled leads, 0..1


@dataclass(frozen=True)
class Stats:
    funnel: Funnel
    temperatures: dict[str, int]
    sources: dict[str, int]
    speed_to_lead: SpeedToLead
    followups: dict[str, int] = field(default_factory=dict)


def furthest(scored: ScoredLead, history: Sequence[TimelineEntry] = ()) -> LeadStatus | None:
    """The furthest pipeline status the lead has reached: its own, or one it passed through
    (status_changed events in `history`). None for a lead that is only lost."""
    seen = [scored.lead.status.value]
    seen += [
        str(e.detail.get("to"))
        for e in history
        if e.kind is TimelineKind.EVENT and e.text == "status_changed"
    ]
    reached = [s for s in _PIPELINE if s.value in seen]
    return reached[-1] if reached else None


def _at_least(status: LeadStatus | None, step: LeadStatus) -> bool:
    return status is not None and _PIPELINE.index(status) >= _PIPELINE.index(step)


def funnel(leads: Sequence[ScoredLead], histories: Mapping[str, Sequence[TimelineEntry]]) -> Funnel:
    reached = [(s, furthest(s, histories.get(s.lead.lead_id, ()))) for s in leads]
    return Funnel(
        conversations=len(leads),
        qualified=sum(1 for s, r in reached if s.lead.phone or _at_least(r, LeadStatus.QUALIFIED)),
        broker_requested=sum(1 for _, r in reached if _at_least(r, LeadStatus.BROKER_REQUESTED)),
        viewing_scheduled=sum(1 for _, r in reached if _at_least(r, LeadStatus.VIEWING_SCHEDULED)),
        won=sum(1 for _, r in reached if r is LeadStatus.WON),
    )


def temperatures(leads: Iterable[ScoredLead]) -> dict[str, int]:
    counts = Counter(s.state.temperature for s in leads if s.state.temperature)
    return {t.value: counts.get(t, 0) for t in Temperature}


def sources(leads: Iterable[ScoredLead]) -> dict[str, int]:
    counts = Counter(s.lead.source or DIRECT for s in leads)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def first_action(captured_at: datetime, history: Iterable[TimelineEntry]) -> datetime | None:
    """When a person first acted on the lead after it left a phone number."""
    actions = [
        e.at
        for e in history
        if e.kind is TimelineKind.EVENT
        and e.text in AGENT_ACTIONS
        and e.detail.get("by")
        and e.at >= captured_at
    ]
    return min(actions, default=None)


def speed_to_lead(
    leads: Iterable[ScoredLead], histories: Mapping[str, Sequence[TimelineEntry]]
) -> SpeedToLead:
    minutes: list[float] = []
    waiting = 0
    with_phone = 0
    for s in leads:
        captured = s.lead.phone_captured_at
        if captured is None:
            continue
        with_phone += 1
        acted = first_action(captured, histories.get(s.lead.lead_id, ()))
        if acted is None:
            waiting += 1
        else:
            minutes.append((acted - captured).total_seconds() / 60)
    return SpeedToLead(
        with_phone=with_phone,
        handled=len(minutes),
        no_action_yet=waiting,
        median_minutes=round(statistics.median(minutes), 1) if minutes else None,
        within_5_minutes=round(sum(1 for m in minutes if m <= FAST_MINUTES) / len(minutes), 3)
        if minutes
        else None,
    )


def followups(histories: Mapping[str, Sequence[TimelineEntry]]) -> dict[str, int]:
    """Follow-up events by outcome (detail["status"]); none exist until follow-ups land."""
    counts = Counter(
        str(e.detail.get("status") or "unknown")
        for history in histories.values()
        for e in history
        if e.text.startswith(FOLLOWUP_PREFIX)
    )
    return dict(sorted(counts.items()))


def aggregate(
    leads: Sequence[ScoredLead], histories: Mapping[str, Sequence[TimelineEntry]]
) -> Stats:
    return Stats(
        funnel=funnel(leads, histories),
        temperatures=temperatures(leads),
        sources=sources(leads),
        speed_to_lead=speed_to_lead(leads, histories),
        followups=followups(histories),
    )


def tenant_stats(
    repos: Repositories,
    tenant_id: str,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> Stats:
    """Stats of the tenant's scored leads created in [created_from, created_to).

    Cost: one walk of the by_score index (every scored lead, WALK_PAGE per query), plus one
    Timeline query per lead *with a phone*: 1,000 leads of which 300 left a phone is 2 + 300
    queries. Only those Timelines are read, so a lead without a phone counts in the funnel at
    its current status, and follow-up outcomes cover leads with a phone; the follow-up issue
    should keep outcome counters on the lead so stats need no further reads.
    """
    window = LeadFilter(created_from=created_from, created_to=created_to)
    leads = list(every_lead(repos, tenant_id, window))
    histories = {
        s.lead.lead_id: repos.timeline.history(tenant_id, s.lead.lead_id)
        for s in leads
        if s.lead.phone
    }
    return aggregate(leads, histories)
