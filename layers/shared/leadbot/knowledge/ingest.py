"""A brochure PDF into chunks with their pages: key facts, table rows joined with their
header, and passages of running text (DESIGN.md §3: domain only, no storage here)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import zip_longest

from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.knowledge.facts import Fact, cell_facts, sentence_facts
from leadbot.knowledge.passages import paragraphs, passages, sentences
from leadbot.knowledge.pdf import PageContent, Progress, Row, read_pages

FACT_TEXT_MAX_CHARS = 400  # the sentence a fact was read in, kept as its context


def extract(
    pdf: bytes,
    *,
    tenant_id: str,
    brochure_id: str,
    property_id: str,
    title: str,
    progress: Progress | None = None,
) -> list[Chunk]:
    """Every chunk of the brochure, sorted by chunk id (page, then facts, tables, text).

    `progress(page, pages)` is called as each page is read. BrochureUnreadable if the PDF is
    damaged, needs a password, or has no text at all.
    """
    pages = read_pages(pdf, progress)
    return chunk_pages(
        pages, tenant_id=tenant_id, brochure_id=brochure_id, property_id=property_id, title=title
    )


def chunk_pages(
    pages: Sequence[PageContent],
    *,
    tenant_id: str,
    brochure_id: str,
    property_id: str,
    title: str,
) -> list[Chunk]:
    furniture = _furniture(pages)
    chunks: list[Chunk] = []
    for page in pages:
        lines = [line for line in page.lines if _furniture_key(line.text) not in furniture]
        paras = paragraphs(lines, page.width)
        facts: dict[Fact, str] = {}  # each fact once a page, with the text it was read in
        for paragraph in paras:
            for sentence in sentences(paragraph):
                for fact in sentence_facts(sentence):
                    facts.setdefault(fact, sentence)
        rows: list[str] = []
        for table in page.tables:
            for text, cells in table_rows(table):
                rows.append(text)
                for header, value in cells:
                    for fact in cell_facts(header, value):
                        facts.setdefault(fact, text)
        pieces: list[tuple[ChunkKind, str, Fact | None]] = [
            *((ChunkKind.FACT, _shorten(text), fact) for fact, text in facts.items()),
            *((ChunkKind.TABLE, text, None) for text in rows),
            *((ChunkKind.TEXT, text, None) for text in passages(paras)),
        ]
        counters: Counter[ChunkKind] = Counter()
        for kind, text, found in pieces:
            counters[kind] += 1
            chunks.append(
                Chunk(
                    tenant_id=tenant_id,
                    brochure_id=brochure_id,
                    chunk_id=chunk_id(page.number, kind, counters[kind]),
                    property_id=property_id,
                    title=title,
                    kind=kind,
                    page=page.number,
                    text=text,
                    fact=found.fact if found else None,
                    value=found.value if found else None,
                )
            )
    return sorted(chunks, key=lambda c: c.chunk_id)


def chunk_id(page: int, kind: ChunkKind, n: int) -> str:
    """ "p008-fact-03": the 3rd fact of page 8; ids sort by page, then facts, tables, text."""
    return f"p{page:03d}-{kind.value}-{n:02d}"


def table_rows(table: Sequence[Row]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each row below the header as "Milestone: On booking | Payment: 10%", with its cells as
    (header, value); a table of one row has no header to join."""
    header, body = (table[0], table[1:]) if len(table) > 1 else ((), table)
    rows = []
    for row in body:
        cells = [(h, v) for h, v in zip_longest(header, row, fillvalue="") if v]
        if cells:
            rows.append((" | ".join(f"{h}: {v}" if h else v for h, v in cells), cells))
    return rows


def _furniture(pages: Sequence[PageContent]) -> set[str]:
    """Lines printed on most pages (running headers, footers with page numbers): noise to
    retrieval, and they would make every page look alike."""
    if len(pages) < 3:
        return set()
    seen = Counter(key for page in pages for key in {_furniture_key(li.text) for li in page.lines})
    return {key for key, count in seen.items() if count >= max(3, len(pages) // 2)}


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def _shorten(text: str) -> str:
    if len(text) <= FACT_TEXT_MAX_CHARS:
        return text
    return text[: FACT_TEXT_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
