"""Score 0–100 = engagement (≤ 40) + qualification (≤ 40) + recency (≤ 20), exactly as DESIGN.md §7.

`score` also says when the recency part will next drop (`rescore_at`), so a lead that goes
quiet is rescored at that moment and no sooner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from leadbot.domain import Grade, Lead, Temperature


class Part(StrEnum):
    ENGAGEMENT = "engagement"
    QUALIFICATION = "qualification"
    RECENCY = "recency"


@dataclass(frozen=True, slots=True)
class _Counter:
    name: str
    each: int
    cap: int


# Engagement: points per event, capped per kind; any voice message adds a flat bonus.
ENGAGEMENT = (
    _Counter("qr_scans", each=3, cap=15),
    _Counter("catalog_views", each=2, cap=10),
    _Counter("messages", each=1, cap=10),
)
VOICE_BONUS = 5
# Qualification: points for each answer the lead has given.
QUALIFICATION = (
    ("phone", 10),
    ("budget", 10),
    ("transaction_type", 5),
    ("property_type", 5),
    ("location", 5),
    ("payment_method", 5),
)
# Recency: points while the last interaction is younger than each age, first match wins.
RECENCY = (
    (timedelta(hours=1), 20),
    (timedelta(hours=6), 15),
    (timedelta(hours=24), 10),
    (timedelta(hours=72), 5),
)
# Temperature by the lowest score of each band, hottest first.
TEMPERATURES = (
    (70, Temperature.BURNING),
    (50, Temperature.HOT),
    (25, Temperature.WARM),
    (0, Temperature.COLD),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreInputs:
    """Everything the formula reads. Answers may be any value; blank ones count as missing."""

    qr_scans: int = 0
    catalog_views: int = 0
    messages: int = 0
    voice_messages: int = 0
    phone: object = None
    budget: object = None
    transaction_type: object = None
    property_type: object = None
    location: object = None
    payment_method: object = None
    last_interaction_at: datetime | None = None

    @classmethod
    def of(cls, lead: Lead) -> ScoreInputs:
        seen = [at for at in (lead.last_inbound_at, lead.last_catalog_view_at) if at is not None]
        return cls(
            qr_scans=lead.qr_scans,
            catalog_views=lead.catalog_views,
            messages=lead.messages_count,
            voice_messages=lead.voice_count,
            phone=lead.phone,
            budget=lead.budget,
            transaction_type=lead.goal,
            property_type=lead.property_type,
            location=lead.location,
            payment_method=lead.payment_method,
            last_interaction_at=max(seen, default=None),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule that fired: its part, its name, the points it gave and the events that counted."""

    part: Part
    rule: str
    points: int
    count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Breakdown:
    engagement: int
    qualification: int
    recency: int
    rules: tuple[Rule, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "engagement": self.engagement,
            "qualification": self.qualification,
            "recency": self.recency,
            "rules": [
                {"part": r.part.value, "rule": r.rule, "points": r.points}
                | ({"count": r.count} if r.count is not None else {})
                for r in self.rules
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Breakdown:
        return cls(
            engagement=int(data["engagement"]),
            qualification=int(data["qualification"]),
            recency=int(data["recency"]),
            rules=tuple(
                Rule(
                    part=Part(r["part"]),
                    rule=r["rule"],
                    points=int(r["points"]),
                    count=int(r["count"]) if r.get("count") is not None else None,
                )
                for r in data["rules"]
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    value: int
    temperature: Temperature
    grade: Grade
    breakdown: Breakdown
    rescore_at: datetime | None  # when recency next drops; None once it has reached 0


def score(inputs: ScoreInputs, now: datetime) -> Score:
    engagement = _engagement(inputs)
    qualification = _qualification(inputs)
    recency, rescore_at = _recency(inputs.last_interaction_at, now)
    rules = (*engagement, *qualification, *recency)
    parts = {part: sum(r.points for r in rules if r.part is part) for part in Part}
    value = sum(parts.values())
    band = temperature(value)
    return Score(
        value=value,
        temperature=band,
        grade=band.grade,
        breakdown=Breakdown(
            engagement=parts[Part.ENGAGEMENT],
            qualification=parts[Part.QUALIFICATION],
            recency=parts[Part.RECENCY],
            rules=rules,
        ),
        rescore_at=rescore_at,
    )


def score_lead(lead: Lead, now: datetime) -> Score:
    return score(ScoreInputs.of(lead), now)


def temperature(value: int) -> Temperature:
    """The band of a score; 0 is a score (cold), and so is anything out of range at either end."""
    return next((band for floor, band in TEMPERATURES if value >= floor), Temperature.COLD)


def _engagement(inputs: ScoreInputs) -> tuple[Rule, ...]:
    """Counts in the breakdown stop at the cap, so past it more of the same changes nothing."""
    rules = []
    for counter in ENGAGEMENT:
        count = min(max(int(getattr(inputs, counter.name)), 0), -(-counter.cap // counter.each))
        if count:
            points = min(count * counter.each, counter.cap)
            rules.append(Rule(part=Part.ENGAGEMENT, rule=counter.name, points=points, count=count))
    if inputs.voice_messages > 0:
        rules.append(Rule(part=Part.ENGAGEMENT, rule="voice", points=VOICE_BONUS))
    return tuple(rules)


def _qualification(inputs: ScoreInputs) -> tuple[Rule, ...]:
    return tuple(
        Rule(part=Part.QUALIFICATION, rule=name, points=points)
        for name, points in QUALIFICATION
        if _present(getattr(inputs, name))
    )


def _present(value: object) -> bool:
    """None, "" and whitespace-only count as missing; any other value (an enum, Money) counts."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _recency(last: datetime | None, now: datetime) -> tuple[tuple[Rule, ...], datetime | None]:
    if last is None:
        return (), None
    age = max(now - last, timedelta(0))  # a clock a little ahead of ours is "just now"
    for within, points in RECENCY:
        if age < within:
            hours = int(within.total_seconds() // 3600)
            rule = Rule(part=Part.RECENCY, rule=f"within_{hours}h", points=points)
            return (rule,), last + within
    return (), None
