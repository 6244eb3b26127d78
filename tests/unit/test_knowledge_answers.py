"""Answers from retrieved passages: extractive ones cite the right page; grounded ones keep only
pages they were given, and fall back to extractive when the model fails."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from leadbot.domain.enums import Language
from leadbot.integrations.llm import Completion, LLMError
from leadbot.knowledge.answer import (
    MAX_ANSWER_CHARS,
    cited,
    extractive_answer,
    grounded_answer,
    prompt,
    system_prompt,
)
from leadbot.knowledge.bm25 import Index
from leadbot.knowledge.retrieve import PassageKind, retrieve
from tests.unit.test_knowledge_retrieval import CHUNKS, LISTINGS, chunk

FACT, TEXT = CHUNKS[3].kind, CHUNKS[0].kind


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build(CHUNKS)


@dataclass
class ScriptedModel:
    """A test double of our own ChatModel Protocol (not of OpenAI's API): answers as scripted
    and records what it was asked."""

    reply: str | None = None
    error: LLMError | None = None
    calls: list[tuple[str, str, float]] = field(default_factory=list)

    def complete(self, system: str, user: str, *, timeout_s: float) -> Completion:
        self.calls.append((system, user, timeout_s))
        if self.error is not None:
            raise self.error
        assert self.reply is not None
        return Completion(
            text=self.reply, model="scripted", prompt_tokens=120, completion_tokens=30
        )


# -- extractive ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "page", "says"),
    [
        ("What's the price per sq.ft?", 5, "AED 1,960 per sq.ft"),
        ("what's the possession date?", 7, "Q4 2026"),
        ("RERA number?", 8, "2145"),
        ("Какая доходность от аренды?", 9, "7.2%"),
        ("who is the developer?", 10, "Demo Developments"),
        ("هل يوجد مسبح؟", 3, "pool"),
    ],
)
def test_extractive_answer_cites_the_page_it_reads(
    index: Index, question: str, page: int, says: str
) -> None:
    answer = extractive_answer(question, retrieve(question, index, LISTINGS))
    assert answer is not None and not answer.grounded
    assert says in answer.text
    assert [c.page for c in answer.citations] == [page]
    assert answer.citations[0].title == "Marina Residences brochure"
    assert len(answer.text) <= MAX_ANSWER_CHARS


def test_extractive_answer_of_nothing_is_none() -> None:
    assert extractive_answer("anything?", []) is None


def test_a_fact_answer_carries_its_value_and_context() -> None:
    fact = chunk(7, FACT, "Keys are handed over", fact="possession", value="Q4 2026")
    answer = extractive_answer("when is handover?", retrieve("handover?", Index.build([fact])))
    assert answer is not None and answer.text == "Keys are handed over: Q4 2026"


def test_a_long_text_passage_is_cut_to_its_best_sentences() -> None:
    filler = "The lobby is finished in pale stone with bronze details. " * 8
    text = filler + "Residents have a 25-metre infinity pool on the roof. " + filler
    passages = retrieve("is there a pool?", Index.build([chunk(3, TEXT, text)]))
    answer = extractive_answer("is there a pool?", passages)
    assert answer is not None
    assert answer.text.startswith("Residents have a 25-metre infinity pool")
    assert len(answer.text) <= MAX_ANSWER_CHARS


def test_an_area_is_given_in_the_unit_asked_for(index: Index) -> None:
    answer = extractive_answer("what's the size in sq.m?", retrieve("size in sq.m?", index))
    assert answer is not None and "1,250 sq.ft (≈ 116 sq.m)" in answer.text


def test_table_rows_of_one_page_answer_together(index: Index) -> None:
    question = "payment milestones on booking and handover"
    passages = retrieve(question, index, k=5)
    assert passages[0].kind is PassageKind.TABLE
    answer = extractive_answer(question, passages)
    assert answer is not None and "On booking" in answer.text and "On handover" in answer.text
    assert [c.page for c in answer.citations] == [6]


def test_a_listing_answer_cites_the_listing_without_a_page() -> None:
    question = "price of the Palm Jumeirah villa?"
    answer = extractive_answer(question, retrieve(question, None, LISTINGS))
    assert answer is not None and "AED 12,500,000" in answer.text
    assert "units available: 2" in answer.text
    assert answer.citations[0].source_id == LISTINGS[1].property_id
    assert answer.citations[0].page is None


# -- grounded -----------------------------------------------------------------------------


def test_the_prompt_holds_only_the_passages_labelled_with_their_pages(index: Index) -> None:
    passages = retrieve("is there a payment plan?", index)
    model = ScriptedModel(reply="Yes: a 60/40 plan (p.6).")
    grounded_answer("is there a payment plan?", passages, model, language=Language.FA)
    system, user, timeout = model.calls[0]
    assert timeout == 6.0
    assert "Persian" in system and "ONLY" in system and "UNKNOWN" in system
    assert user.startswith("Passages:\n[Brochure p.6] Payment plan: 60/40")
    assert user.endswith("Question: is there a payment plan?")
    assert user.count("[Brochure p.") == len(passages)
    assert "Amenities" not in user  # nothing but what was retrieved


def test_grounded_answer_keeps_only_pages_it_was_given(index: Index) -> None:
    passages = retrieve("is there a payment plan?", index)
    given = {p.page for p in passages}
    model = ScriptedModel(
        reply="Yes, a 60/40 construction-linked plan (p.6), with 40% on handover (p. 6, 12)."
    )
    result = grounded_answer("is there a payment plan?", passages, model, timeout_s=2.0)
    assert result.answer is not None and result.answer.grounded and not result.fell_back
    assert [c.page for c in result.answer.citations] == [6]
    assert 12 not in given
    assert result.answer.text == "Yes, a 60/40 construction-linked plan, with 40% on handover."
    assert result.completion is not None and result.completion.prompt_tokens == 120
    assert model.calls[0][2] == 2.0


def test_the_passages_own_labels_echoed_by_the_model_are_read_and_removed(index: Index) -> None:
    passages = retrieve("is there a payment plan?", index)
    model = ScriptedModel(reply="Yes, a 60/40 construction-linked plan. [Brochure p.6]")
    result = grounded_answer("is there a payment plan?", passages, model, timeout_s=2.0)
    assert result.answer is not None and [c.page for c in result.answer.citations] == [6]
    assert result.answer.text == "Yes, a 60/40 construction-linked plan."


def test_an_answer_citing_no_given_page_falls_back_to_extractive(index: Index) -> None:
    passages = retrieve("RERA number?", index)
    result = grounded_answer("RERA number?", passages, ScriptedModel(reply="It is 2145 (p.99)."))
    assert result.fell_back and result.answer is not None and not result.answer.grounded
    assert [c.page for c in result.answer.citations] == [8]
    assert result.completion is not None  # its tokens were spent: the caller logs them


def test_llm_error_falls_back_to_the_extractive_answer(index: Index) -> None:
    passages = retrieve("what's the possession date?", index)
    model = ScriptedModel(error=LLMError("timed out"))
    result = grounded_answer("what's the possession date?", passages, model)
    assert result.fell_back and result.completion is None
    assert result.answer == extractive_answer("what's the possession date?", passages)


def test_the_model_saying_it_does_not_know_is_no_answer(index: Index) -> None:
    passages = retrieve("is there a gym?", index)
    result = grounded_answer("is there a gym?", passages, ScriptedModel(reply="UNKNOWN"))
    assert result.answer is None and not result.fell_back


def test_no_passages_never_calls_the_model() -> None:
    model = ScriptedModel(reply="made up (p.1)")
    assert grounded_answer("anything?", [], model).answer is None
    assert model.calls == []


def test_listings_are_labelled_and_cited_by_number() -> None:
    passages = retrieve("how much?", None, LISTINGS)
    user = prompt("how much?", passages)
    assert "[Listing L1]" in user and "[Listing L3]" in user
    citations = cited("The villa is AED 12,500,000 (L2); the studio (L3) and (L9).", passages)
    assert [c.source_id for c in citations] == [
        passages[1].citation.source_id,
        passages[2].citation.source_id,
    ]


def test_citations_are_read_in_any_digits_and_forms(index: Index) -> None:
    passages = retrieve("price per sq.ft", index) + retrieve("payment plan", index)
    assert {5, 6} <= {p.page for p in passages}
    found = cited("... (p.۵) ... (pp. 5–6) ... [page 6] ... (p.77)", passages)
    assert sorted({c.page for c in found if c.page}) == [5, 6]


def test_system_prompt_without_a_language_asks_for_the_questions_own() -> None:
    assert "language the question is written in" in system_prompt()
