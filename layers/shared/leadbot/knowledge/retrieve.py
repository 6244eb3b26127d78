"""Multi-path retrieval for a lead's question: the brochure facts that answer it first, then
table rows, then running text (BM25), then the tenant's listings as the fallback; nothing when
nothing is relevant, so the bot says it does not know instead of guessing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

from leadbot.domain.knowledge import Chunk, ChunkKind, Citation
from leadbot.domain.listings import ListingStatus, Property
from leadbot.knowledge.bm25 import Bm25, Hit, Index
from leadbot.knowledge.expand import UNIT_CONCEPTS, Query, concept_term, expand, index_terms

# A passage must match this share of what the question asks (idf-weighted slots): "the price
# of the Palm villa" is not answered by the Marina brochure's price, however well "price" matches.
MIN_COVERAGE = 0.5
# Below this BM25 score a match is a coincidence of common words. Coverage already weighs words
# by idf, and a brochure of a dozen chunks scores even its best match low, so it is kept small.
MIN_SCORE = 0.1
# Passages within this fraction of the best score are ranked by path (fact, table, text); the
# weaker rest only follow, by score.
STRONG = 0.5
# Answering facts within this fraction of the best one's score count as equally good.
TIE = 0.85
SQFT_PER_SQM = Decimal("10.7639")


class PassageKind(StrEnum):
    FACT = "fact"
    TABLE = "table"
    TEXT = "text"
    LISTING = "listing"


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved piece of knowledge with where it comes from. `chunk` is set for brochure
    passages, `listing` for a listing read from the Properties table (cited without a page)."""

    kind: PassageKind
    text: str
    citation: Citation
    score: float
    chunk: Chunk | None = None
    listing: Property | None = None

    @property
    def page(self) -> int | None:
        return self.citation.page


def retrieve(
    question: str, index: Index | None, listings: Sequence[Property] = (), k: int = 3
) -> list[Passage]:
    """Up to `k` passages that answer `question`, the best first; [] when nothing relevant is
    known (the caller says so, offers an agent and logs a knowledge gap)."""
    query = expand(question)
    if not query.slots or k <= 0:
        return []
    passages = _brochure_passages(query, index, k) if index is not None and len(index) else []
    if len(passages) < k:
        passages += _listing_passages(query, listings)
    return passages[:k]


# -- brochures: facts, tables, text ----------------------------------------------------------


def _relevant(bm25: Bm25 | Index, query: Query, min_score: float = MIN_SCORE) -> list[Hit]:
    return [h for h in bm25.search(query, MIN_COVERAGE) if h.score >= min_score]


def _brochure_passages(query: Query, index: Index, k: int) -> list[Passage]:
    hits = _relevant(index, query)
    if not hits:
        return []
    asked = query.answerable_concepts
    top = hits[0].score

    def answering(hit: Hit) -> frozenset[str] | None:
        """The concepts a fact's name stands for, when they are all asked about."""
        chunk = index.chunks[hit.doc]
        concepts = index.fact_concepts[hit.doc] - UNIT_CONCEPTS
        if chunk.kind is ChunkKind.FACT and concepts and concepts <= asked:
            return concepts
        return None

    facts = [h.score for h in hits if answering(h) is not None]
    # Facts scoring about the same are in the brochure's own order: its headline statement
    # ("sold on a 60/40 plan") comes before the variants and caveats that follow it.
    close = TIE * max(facts) if facts else 0.0

    def rank(hit: Hit) -> tuple[int, int, int, int, float]:
        concepts = answering(hit)
        if concepts is not None:
            # The facts path: a fact whose name is what was asked answers it, the most
            # specific first ("price per sq.ft" before "price" for a per-sq.ft question), in
            # the unit asked for ("per sq.m" before "per sq.ft").
            units = len(index.fact_concepts[hit.doc] & query.concepts & UNIT_CONCEPTS)
            if hit.score >= close:
                return (0, -len(concepts), -units, 0, hit.doc)
            return (0, -len(concepts), -units, 1, -hit.score)
        if hit.score < STRONG * top:
            return (3, 0, 0, 0, -hit.score)
        kind = index.chunks[hit.doc].kind
        return (1 if kind is ChunkKind.TABLE else 2, 0, 0, 0, -hit.score)

    ordered = sorted(hits, key=rank)[:k]
    return [_chunk_passage(index.chunks[h.doc], h.score) for h in ordered]


def _chunk_passage(chunk: Chunk, score: float) -> Passage:
    kind = {
        ChunkKind.FACT: PassageKind.FACT,
        ChunkKind.TABLE: PassageKind.TABLE,
        ChunkKind.TEXT: PassageKind.TEXT,
    }[chunk.kind]
    citation = Citation(source_id=chunk.brochure_id, title=chunk.title, page=chunk.page)
    return Passage(kind=kind, text=chunk.text, citation=citation, score=score, chunk=chunk)


# -- listings: the structured fallback -------------------------------------------------------


def _listing_passages(query: Query, listings: Sequence[Property]) -> list[Passage]:
    active = tuple(p for p in listings if p.status is ListingStatus.ACTIVE)
    if not active:
        return []
    documents, texts = _listing_index(active)
    # Every listing has a price, a location...: in a handful of listings such terms have a tiny
    # idf, so only coverage says whether the question is about listings at all.
    hits = _relevant(documents, query, min_score=0.0)
    if not hits:
        return []
    # A question naming one listing ("the Palm villa") leaves the others far behind; a generic
    # one ("what's the price?") keeps every listing it fits.
    top = hits[0].score
    return [
        Passage(
            kind=PassageKind.LISTING,
            text=texts[h.doc],
            citation=Citation(source_id=active[h.doc].property_id, title=active[h.doc].title),
            score=h.score,
            listing=active[h.doc],
        )
        for h in hits
        if h.score >= STRONG * top
    ]


@lru_cache(maxsize=64)
def _listing_index(listings: tuple[Property, ...]) -> tuple[Bm25, tuple[str, ...]]:
    texts = tuple(listing_text(p) for p in listings)
    documents = [_listing_terms(p, text) for p, text in zip(listings, texts, strict=True)]
    return Bm25(documents), texts


def _listing_terms(listing: Property, text: str) -> list[str]:
    terms = index_terms(text)
    # What the Properties table knows about every listing is there to be asked, whatever words
    # its description happens to use.
    concepts = ["price", "location", "availability", listing.property_type.value]
    if listing.size_sqft:
        concepts += ["size", "sqft", "sqm", "price_per_area"]
    if listing.bedrooms is not None:
        concepts.append("bedrooms")
    return terms + [concept_term(c) for c in concepts]


def listing_text(listing: Property) -> str:
    """A listing as a passage: its fields as the Properties table holds them (numbers, names,
    units), the description last. Field names stay terse and language-neutral; a grounded answer
    words them in the lead's language."""
    price = listing.price
    parts = [
        f"{listing.title} — {listing.location}",
        f"{listing.property_type.value}, {listing.transaction.value}: "
        f"{price.currency} {_amount(price.amount)}",
    ]
    if listing.bedrooms is not None:
        parts.append(f"bedrooms: {listing.bedrooms.value}")
    if listing.size_sqft:
        sqm = (listing.size_sqft / SQFT_PER_SQM).quantize(Decimal(1), ROUND_HALF_UP)
        per_sqft = (price.amount / listing.size_sqft).quantize(Decimal(1), ROUND_HALF_UP)
        parts.append(f"{_amount(listing.size_sqft)} sq.ft ({_amount(sqm)} sq.m)")
        parts.append(f"{price.currency} {_amount(per_sqft)} per sq.ft")
    parts.append(f"units available: {listing.units_available}")
    text = "; ".join(parts) + "."
    if listing.description:
        text += " " + listing.description.strip()
    return text


def _amount(value: Decimal) -> str:
    """1,250 or 2,450,000.50: thousands grouped, no needless decimals."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}"
