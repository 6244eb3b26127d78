"""Brochure extraction over the sample brochure: each key fact on its page, table rows with
their header, passages of text; damaged, locked and textless PDFs are typed errors."""

from __future__ import annotations

import itertools
import re
from functools import cache

import pytest

from leadbot.domain.errors import BrochureUnreadable
from leadbot.domain.knowledge import Chunk, ChunkKind
from leadbot.knowledge.facts import Fact, cell_facts, sentence_facts
from leadbot.knowledge.ingest import extract, table_rows
from leadbot.knowledge.passages import MAX_CHARS, passages, sentences
from local.sample_brochure import (
    PAGES,
    corrupt_pdf,
    encrypted_pdf,
    restricted_pdf,
    sample_brochure,
    textless_pdf,
)

IDS = {"tenant_id": "demo", "brochure_id": "01KE6P4YM0VSBROCHURE000001", "property_id": "P1"}


@cache
def _chunks() -> tuple[Chunk, ...]:
    return tuple(extract(sample_brochure(), title="Marina Residences brochure", **IDS))


def _facts(name: str) -> dict[str, set[int]]:
    """value → the pages a fact of this name was found on."""
    found: dict[str, set[int]] = {}
    for chunk in _chunks():
        if chunk.kind is ChunkKind.FACT and chunk.fact == name:
            assert chunk.value is not None
            found.setdefault(chunk.value, set()).add(chunk.page)
    return found


def test_the_sample_brochure_is_the_same_twelve_pages_every_time() -> None:
    assert sample_brochure() == sample_brochure()
    assert max(c.page for c in _chunks()) == len(PAGES) == 12
    # Every page's heading is in its text, on that page and no other.
    for page, heading in PAGES.items():
        holders = {c.page for c in _chunks() if c.kind is ChunkKind.TEXT and heading in c.text}
        assert holders == {page}, heading


@pytest.mark.parametrize(
    ("fact", "value", "page"),
    [
        ("price", "AED 2,450,000", 5),
        ("price_per_sqft", "AED 1,960 per sq.ft", 5),
        ("price_per_sqm", "AED 21,097 per sq.m", 5),
        ("size", "1,250 sq.ft", 4),
        ("size", "116.1 sq.m", 4),
        ("configuration", "2 BHK", 4),
        ("configuration", "2 bedrooms", 4),
        ("possession", "Q4 2026", 7),
        ("possession", "December 2026", 7),
        ("rera", "2189", 8),
        ("permit", "7104562891", 8),
        ("payment_plan", "60/40 construction-linked payment plan (CLP)", 6),
        ("payment_plan", "possession-linked plan (PLP)", 6),
        ("rental_yield", "6.7%", 9),
        ("rental_yield", "5.5%", 9),
        ("roi", "38%", 9),
        ("service_charge", "AED 18 per sq.ft", 9),
        ("rent", "AED 165,000", 9),
    ],
)
def test_each_key_fact_is_found_on_its_page(fact: str, value: str, page: int) -> None:
    assert _facts(fact).get(value) == {page}


@pytest.mark.parametrize(
    ("fact", "page"),
    [
        ("price", 5),
        ("price_per_sqft", 5),
        ("price_per_sqm", 5),
        ("size", 4),
        ("configuration", 4),
        ("possession", 7),
        ("rera", 8),
        ("permit", 8),
        ("payment_plan", 6),
        ("rental_yield", 9),
        ("roi", 9),
    ],
)
def test_no_fact_is_read_where_the_brochure_does_not_state_it(fact: str, page: int) -> None:
    """The service charge per sq.ft (p.9) is no price per sq.ft, a yoga studio no unit, a
    handover with no date no possession date."""
    pages = set().union(*_facts(fact).values())
    assert pages == {page}


def test_a_fact_carries_the_sentence_it_was_read_in() -> None:
    (fact,) = [c for c in _chunks() if c.fact == "possession" and c.value == "Q4 2026"]
    assert fact.text == "Expected handover: Q4 2026."
    (price,) = [c for c in _chunks() if c.fact == "price" and c.value == "AED 2,450,000"]
    assert "2A-2806" in price.text and "priced at AED 2,450,000" in price.text


def test_table_rows_are_joined_with_their_header() -> None:
    rows = [(c.page, c.text) for c in _chunks() if c.kind is ChunkKind.TABLE]
    assert (
        6,
        "Milestone: On booking | Payment: 10% | Due: On signing the reservation form",
    ) in rows
    assert (6, "Milestone: On handover | Payment: 40% | Due: On handover of the keys") in rows
    assert (
        5,
        "Unit: 2A-2806 | Type: 2A | Floor: 28 | Price: AED 2,450,000 | Price per sq.ft: AED 1,960"
        " | Price per sq.m: AED 21,097",
    ) in rows
    assert [p for p, _ in rows].count(6) == 6  # the six milestones, not the header
    assert {p for p, _ in rows} == {4, 5, 6}


def test_text_passages_leave_tables_and_page_footers_out() -> None:
    texts = [c for c in _chunks() if c.kind is ChunkKind.TEXT]
    assert {c.page for c in texts} == set(PAGES)
    joined = "\n".join(c.text for c in texts)
    assert "On signing the reservation form" not in joined  # a table cell: a row chunk
    assert "| page" not in joined  # "Marina Residences | page 3" on every page
    assert "(cid:" not in joined and "•" not in joined
    assert "Dubai Marina Metro Station: 5 minutes on foot" in joined
    assert all(len(c.text) <= MAX_CHARS for c in texts)


def test_chunk_ids_sort_by_page_then_facts_tables_text() -> None:
    chunks = _chunks()
    ids = [c.chunk_id for c in chunks]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for chunk in chunks:
        match = re.fullmatch(r"p(\d{3})-(fact|table|text)-(\d{2})", chunk.chunk_id)
        assert match, chunk.chunk_id
        assert int(match[1]) == chunk.page and match[2] == chunk.kind.value
        assert (chunk.tenant_id, chunk.brochure_id, chunk.property_id) == (
            IDS["tenant_id"],
            IDS["brochure_id"],
            IDS["property_id"],
        )
        assert chunk.title == "Marina Residences brochure"
        assert (chunk.fact is not None) == (chunk.kind is ChunkKind.FACT)
    assert "p008-fact-01" in ids


def test_progress_is_reported_page_by_page() -> None:
    seen: list[tuple[int, int]] = []
    extract(
        sample_brochure(), title="t", progress=lambda page, pages: seen.append((page, pages)), **IDS
    )
    assert seen == [(page, 12) for page in range(1, 13)]


@pytest.mark.parametrize(
    ("pdf", "reason", "words"),
    [
        (corrupt_pdf, "corrupt", "not a readable PDF"),
        (lambda: sample_brochure()[:4000], "corrupt", "not a readable PDF"),
        (lambda: b"", "corrupt", "not a PDF"),
        (lambda: b"<html>not found</html>", "corrupt", "not a PDF"),
        (encrypted_pdf, "encrypted", "password"),
        (textless_pdf, "no_text", "no text"),
    ],
    ids=["corrupt", "truncated", "empty", "html", "encrypted", "scanned"],
)
def test_an_unreadable_pdf_is_a_typed_error_that_says_why(
    pdf: object, reason: str, words: str
) -> None:
    assert callable(pdf)
    with pytest.raises(BrochureUnreadable, match=words) as raised:
        extract(pdf(), title="t", **IDS)
    assert raised.value.reason == reason


def test_a_pdf_that_only_forbids_copying_is_read_as_any_viewer_reads_it() -> None:
    """Owner-password "protection" asks no password to open; only a user password locks."""
    chunks = extract(restricted_pdf(), title="Marina Residences brochure", **IDS)
    assert [c.text for c in chunks] == [c.text for c in _chunks()]


def test_long_text_is_cut_into_overlapping_passages_at_sentences() -> None:
    sentence = "The tower has a view of the sea from every one of its {} floors."
    paragraph = " ".join(sentence.format(n) for n in range(40))
    parts = passages([paragraph, "A short closing paragraph."])
    assert len(parts) >= 3
    assert all(len(p) <= MAX_CHARS for p in parts)
    for before, after in itertools.pairwise(parts):
        last = sentences(before.replace("\n", " "))[-1]
        assert after.startswith(last)  # the overlap
    assert parts[-1].endswith("A short closing paragraph.")
    assert all(sentence.format(n) in " ".join(parts) for n in range(40))


def test_sentences_do_not_split_at_abbreviations() -> None:
    text = "Prices start at Rs. 80 lakh for a 2 BHK. Approx. 5% is due on booking. Book now!"
    assert sentences(text) == [
        "Prices start at Rs. 80 lakh for a 2 BHK.",
        "Approx. 5% is due on booking.",
        "Book now!",
    ]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Possession: Dec 2027", [Fact("possession", "Dec 2027")]),
        ("Handover expected in Q2 2028.", [Fact("possession", "Q2 2028")]),
        ("MahaRERA Registration No. P51800012345", [Fact("rera", "P51800012345")]),
        (
            "RERA No.: PRM/KA/RERA/1251/446/PR/171014/000287",
            [Fact("rera", "PRM/KA/RERA/1251/446/PR/171014/000287")],
        ),
        (
            "3 BHK apartments starting from ₹1.2 Cr",
            [Fact("price", "₹1.2 Cr"), Fact("configuration", "3 BHK")],
        ),
        ("Price: AED 1,850/sq.ft", [Fact("price_per_sqft", "AED 1,850/sq.ft")]),
        ("Carpet area 1,050 sq. ft.", [Fact("size", "1,050 sq. ft")]),
        (
            "Pay 50/50 with a post-handover payment plan over 3 years.",
            [Fact("payment_plan", "50/50; post-handover payment plan")],
        ),
        ("Units on floors 12/14 are sold out.", []),
        ("The lobby has a yoga studio and a gym.", []),
        ("An annual rent of AED 90,000 is typical.", [Fact("rent", "AED 90,000")]),
        ("The rental yield is around 7.5% a year.", [Fact("rental_yield", "7.5%")]),
    ],
)
def test_facts_in_the_ways_brochures_print_them(sentence: str, expected: list[Fact]) -> None:
    assert sentence_facts(sentence) == expected


def test_table_cells_are_read_with_their_header() -> None:
    assert cell_facts("Price (AED)", "2,450,000") == [Fact("price", "AED 2,450,000")]
    assert cell_facts("Rate per sq.ft", "AED 1,960") == [
        Fact("price_per_sqft", "AED 1,960 per sq.ft")
    ]
    assert cell_facts("Bedrooms", "3") == [Fact("configuration", "3 bedrooms")]
    assert cell_facts("Unit type", "Studio") == [Fact("configuration", "Studio")]
    assert cell_facts("Possession", "Q1 2027") == [Fact("possession", "Q1 2027")]
    assert cell_facts("Floor", "28") == []


def test_a_table_of_one_row_has_no_header_to_join() -> None:
    assert table_rows([("Total", "100%")]) == [("Total | 100%", [("", "Total"), ("", "100%")])]
    assert table_rows([("Milestone", "Payment"), ("On booking", ""), ("", "")]) == [
        ("Milestone: On booking", [("Milestone", "On booking")])
    ]
