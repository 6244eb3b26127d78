"""What the bot knows from an agency's brochures (chunks, answers with citations), and the
knowledge gaps: questions leads asked that it could not answer, for the agency to fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from leadbot.domain.enums import Channel, Language
from leadbot.domain.models import DomainEvent, TimelineEntry, TimelineKind


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeGap(DomainEvent):
    """The lead asked something the bot has no answer to: the agency should hear of it."""

    question: str
    language: Language


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedGap:
    """A knowledge gap as the dashboard lists it."""

    question: str
    language: Language
    lead_id: str
    at: datetime

    def entry(self, channel: Channel | None = None) -> TimelineEntry:
        """As kept in the tenant's own gaps stream of Timeline (store.GAPS_STREAM)."""
        detail = {"lead_id": self.lead_id, "language": self.language.value}
        return TimelineEntry(
            kind=TimelineKind.EVENT, at=self.at, channel=channel, text=self.question, detail=detail
        )

    @classmethod
    def from_entry(cls, entry: TimelineEntry) -> RecordedGap:
        return cls(
            question=entry.text,
            language=Language(entry.detail["language"]),
            lead_id=entry.detail["lead_id"],
            at=entry.at,
        )


@dataclass(frozen=True, slots=True)
class Citation:
    """Where an answer comes from: a brochure's page (the lead sees "Brochure p.8"), or a
    listing when the answer was read from the Properties table (page None)."""

    source_id: str  # a brochure id, or a property id for a listing
    title: str  # the brochure's or listing's title, as the lead may see it
    page: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the bot can say to a lead's question, and from where. `grounded` is True when a
    language model wrote it from the retrieved passages, False for an extractive answer (the
    best passage itself, shortened). The conversation adds the citations in the lead's language.
    """

    text: str
    citations: tuple[Citation, ...]
    grounded: bool = False


class ChunkKind(StrEnum):
    """Retrieval reads facts first, then tables, then running text."""

    FACT = "fact"  # one key fact: price, price per sq.ft, possession date, RERA number, ...
    TABLE = "table"  # one row of a table, with its header: "Milestone: On booking | Payment: 10%"
    TEXT = "text"  # a passage of running text


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """One retrievable piece of a brochure, with the page it is on (1-based, as printed)."""

    tenant_id: str
    brochure_id: str  # a ULID
    chunk_id: str  # unique within the brochure, sortable by page: "p008-fact-03"
    property_id: str
    title: str  # the brochure's title, for the citation
    kind: ChunkKind
    page: int
    text: str
    fact: str | None = None  # for FACT chunks: which fact ("price_per_sqft", "possession", ...)
    value: str | None = None  # for FACT chunks: its value as printed ("AED 1,850 per sq.ft")
