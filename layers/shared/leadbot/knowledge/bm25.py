"""Okapi BM25 over expanded queries, in pure Python: an index of brochure chunks built once per
warm Lambda, searched per question in well under a millisecond for a brochure's few hundred
chunks (`make bench` times 2,000)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.knowledge.expand import Query, Slot, concepts_of, index_terms
from leadbot.knowledge.text import script

# Lucene's defaults; short fact chunks and long text chunks both stay comparable with them.
K1 = 1.2
B = 0.75
SYNONYM_SHARE = 0.3  # what a slot's terms other than its best one add


@dataclass(frozen=True, slots=True)
class Hit:
    """One document's match: `score` is BM25 (slots summed, each scored by its best term),
    `coverage` the share of the question's weight (each slot's idf) the document matches."""

    doc: int
    score: float
    coverage: float


class Bm25:
    """BM25 over documents given as term lists. The saturated, length-normalised term frequency
    is stored in the postings, so a search only multiplies by idf and adds."""

    __slots__ = ("_idf", "_postings", "_scripts", "_unseen_idf", "size")

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        average = sum(len(d) for d in documents) / self.size if documents else 1.0
        postings: dict[str, list[tuple[int, float]]] = {}
        for doc, terms in enumerate(documents):
            norm = K1 * (1 - B + B * len(terms) / (average or 1.0))
            for term, tf in Counter(terms).items():
                postings.setdefault(term, []).append((doc, tf * (K1 + 1) / (tf + norm)))
        self._postings = postings
        n = self.size
        # Lucene's idf: never negative, so a term in most documents still counts a little.
        self._idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()
        }
        self._unseen_idf = math.log(1 + (n + 0.5) / 0.5)
        self._scripts = frozenset(script(t) for t in postings if not t.startswith("#"))

    def idf(self, term: str) -> float:
        """How telling `term` is; a term no document has weighs most (it cannot be matched)."""
        return self._idf.get(term, self._unseen_idf)

    def weight(self, slot: Slot) -> float:
        """What a slot counts for in a match's coverage: its first term's idf. A plain word in a
        script none of the documents is written in counts nothing: a Russian question's "дома"
        cannot be in an English brochure, and its absence says nothing about relevance."""
        first = slot.terms[0]
        if not slot.concepts and script(first) not in self._scripts:
            return 0.0
        return self.idf(first)

    def search(self, query: Query, min_coverage: float = 0.0) -> list[Hit]:
        """Documents matching at least `min_coverage` of the question (and at least one slot),
        best first."""
        if not query.slots:
            return []
        scores: dict[int, float] = {}
        matched: dict[int, float] = {}
        total = 0.0
        postings, idf = self._postings, self._idf
        for slot in query.slots:
            weight = self.weight(slot)
            total += weight
            # A slot scores its best term in full and its other terms a little: the concept and
            # the lead's own words are one thing asked, but a passage using the very words
            # ("payment plan" for "payment plan") is a closer match than one only meaning it.
            best: dict[int, float] = {}
            rest: dict[int, float] = {}
            for term in slot.terms:
                entries = postings.get(term)
                if entries is None:
                    continue
                term_idf = idf[term]
                for doc, saturated in entries:
                    value = term_idf * saturated
                    previous = best.get(doc, 0.0)
                    if value > previous:
                        best[doc] = value
                        value = previous
                    rest[doc] = rest.get(doc, 0.0) + value
            for doc, value in best.items():
                scores[doc] = scores.get(doc, 0.0) + value + SYNONYM_SHARE * rest[doc]
                matched[doc] = matched.get(doc, 0.0) + weight
        if not total:
            return []
        needed = min_coverage * total
        hits = [
            Hit(doc, score, matched[doc] / total)
            for doc, score in scores.items()
            if matched[doc] >= needed
        ]
        hits.sort(key=lambda hit: (-hit.score, hit.doc))
        return hits


class Index:
    """A tenant's brochure chunks, searchable. Build once (`Index.build`) and reuse: it holds
    no I/O and never changes."""

    __slots__ = ("bm25", "chunks", "fact_concepts")

    def __init__(
        self, chunks: tuple[Chunk, ...], bm25: Bm25, fact_concepts: tuple[frozenset[str], ...]
    ) -> None:
        self.chunks = chunks
        self.bm25 = bm25
        self.fact_concepts = fact_concepts

    @classmethod
    def build(cls, chunks: Iterable[Chunk]) -> Index:
        ordered = tuple(chunks)
        documents = [index_terms(_indexed_text(c)) for c in ordered]
        fact_concepts = tuple(
            concepts_of(c.fact) if c.kind is ChunkKind.FACT and c.fact else frozenset()
            for c in ordered
        )
        return cls(ordered, Bm25(documents), fact_concepts)

    def search(self, query: Query, min_coverage: float = 0.0) -> list[Hit]:
        return self.bm25.search(query, min_coverage)

    def __len__(self) -> int:
        return len(self.chunks)


def _indexed_text(chunk: Chunk) -> str:
    """A chunk as indexed: its text, a fact's name and value (so "possession" finds a fact
    printed as "Handover"), and the brochure's title (so a project's name finds its chunks)."""
    parts = [chunk.text]
    if chunk.kind is ChunkKind.FACT:
        if chunk.fact:
            parts.append(chunk.fact.replace("_", " "))
        if chunk.value and chunk.value not in chunk.text:
            parts.append(chunk.value)
    parts.append(chunk.title)
    return "\n".join(parts)
