"""Knowledge gaps: questions leads asked that the bot could not answer, for the agency to fill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
