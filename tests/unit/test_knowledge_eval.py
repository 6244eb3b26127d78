"""The brochure Q&A evaluation (`make eval`), offline: the sample brochure is made and read in
memory, and retrieval and extractive answers must meet the issue's targets."""

from __future__ import annotations

from bench.knowledge_eval import (
    TARGET_CITATION_ACCURACY,
    TARGET_HIT_AT_3,
    evaluate,
    load_questions,
    sample_index,
)


def test_the_evaluation_set_is_thirty_questions_in_every_language_and_kind() -> None:
    questions, unanswerable = load_questions()
    assert len(questions) == 30
    assert {q.language for q in questions} == {"en", "fa", "ar", "ru"}
    assert {q.kind for q in questions} == {"fact", "table", "text"}
    assert all(q.pages for q in questions) and unanswerable


def test_offline_answers_meet_the_targets() -> None:
    questions, unanswerable = load_questions()
    report = evaluate(sample_index(), questions, unanswerable)
    misses = [o.question.text for o in report.outcomes if not o.hit_at_3 or not o.cited_right]
    assert report.hit_at_3 >= TARGET_HIT_AT_3, misses
    assert report.citation_accuracy >= TARGET_CITATION_ACCURACY, misses
    assert all(said_nothing for _, said_nothing in report.abstained), report.abstained
    assert report.meets_targets
