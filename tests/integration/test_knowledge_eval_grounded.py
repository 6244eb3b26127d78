"""The brochure Q&A evaluation (`make eval`) with grounded answers: the product's OpenAI adapter
(the real SDK) over HTTP to the local fake OpenAI API must meet the same targets."""

from __future__ import annotations

from bench.knowledge_eval import (
    TARGET_CITATION_ACCURACY,
    TARGET_HIT_AT_3,
    evaluate,
    fake_openai_model,
    load_questions,
    sample_index,
)


def test_grounded_answers_through_the_fake_openai_api_meet_the_targets() -> None:
    questions, unanswerable = load_questions()
    with fake_openai_model() as model:
        report = evaluate(sample_index(), questions, unanswerable, model=model)
    misses = [o.question.text for o in report.outcomes if not o.cited_right]
    assert report.hit_at_3 >= TARGET_HIT_AT_3
    assert report.citation_accuracy >= TARGET_CITATION_ACCURACY, misses
    # Every grounded answer cited a page it was given: none fell back to an uncited reply.
    assert all(o.cited for o in report.outcomes), misses
