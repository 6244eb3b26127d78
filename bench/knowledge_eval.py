"""`make eval`: brochure Q&A over the sample brochure — retrieval hit@1 / hit@3 and the citation
accuracy of answers, against tests/eval/brochure_questions.json; exits 1 below the targets.

Twice: offline (extractive) answers, as the product answers without an OpenAI key, then grounded
answers through the product's OpenAI adapter talking over HTTP to the local fake OpenAI API
(`evaluate(..., model=...)` takes any ChatModel). Both must meet the targets.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from leadbot.domain.listings import Property
from leadbot.integrations.llm import ChatModel
from leadbot.knowledge.answer import extractive_answer, grounded_answer
from leadbot.knowledge.bm25 import Index
from leadbot.knowledge.retrieve import retrieve

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "tests" / "eval" / "brochure_questions.json"
TARGET_HIT_AT_3 = 0.9
TARGET_CITATION_ACCURACY = 0.9
SAMPLE_BROCHURE_ID = "01KE6P4YM0VS0000000000BR01"


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    language: str
    kind: str
    pages: frozenset[int]


@dataclass(frozen=True, slots=True)
class Outcome:
    question: Question
    retrieved: tuple[int | None, ...]  # pages of the passages, best first
    cited: tuple[int | None, ...]  # pages the answer cites, first shown first

    @property
    def hit_at_1(self) -> bool:
        return bool(self.retrieved) and self.retrieved[0] in self.question.pages

    @property
    def hit_at_3(self) -> bool:
        return any(page in self.question.pages for page in self.retrieved[:3])

    @property
    def cited_right(self) -> bool:
        """The page the lead is shown first is one that answers the question."""
        return bool(self.cited) and self.cited[0] in self.question.pages


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    abstained: list[tuple[str, bool]] = field(default_factory=list)  # (question, said nothing)
    seconds: float = 0.0

    def share(self, attribute: str) -> float:
        if not self.outcomes:
            return 0.0
        return sum(bool(getattr(o, attribute)) for o in self.outcomes) / len(self.outcomes)

    @property
    def hit_at_1(self) -> float:
        return self.share("hit_at_1")

    @property
    def hit_at_3(self) -> float:
        return self.share("hit_at_3")

    @property
    def citation_accuracy(self) -> float:
        return self.share("cited_right")

    @property
    def meets_targets(self) -> bool:
        return (
            self.hit_at_3 >= TARGET_HIT_AT_3
            and self.citation_accuracy >= TARGET_CITATION_ACCURACY
            and all(said_nothing for _, said_nothing in self.abstained)
        )


def load_questions(path: Path = QUESTIONS) -> tuple[list[Question], list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = [
        Question(text=q["q"], language=q["lang"], kind=q["kind"], pages=frozenset(q["pages"]))
        for q in data["questions"]
    ]
    return questions, [q["q"] for q in data["unanswerable"]]


def sample_index() -> Index:
    """The sample brochure, made and read in memory as `python -m leadbot.admin ingest` would."""
    from leadbot.knowledge.ingest import extract
    from local.sample_brochure import SAMPLE_PROPERTY_ID, SAMPLE_TITLE, sample_brochure

    chunks = extract(
        sample_brochure(),
        tenant_id="demo",
        brochure_id=SAMPLE_BROCHURE_ID,
        property_id=SAMPLE_PROPERTY_ID,
        title=SAMPLE_TITLE,
    )
    return Index.build(chunks)


def evaluate(
    index: Index,
    questions: Sequence[Question],
    unanswerable: Sequence[str] = (),
    *,
    listings: Sequence[Property] = (),
    model: ChatModel | None = None,
) -> Report:
    """Retrieve and answer every question. With `model`, answers are grounded (the hook for the
    fake OpenAI server); without, extractive, as the product answers offline."""
    report = Report()
    started = time.perf_counter()
    for question in questions:
        passages = retrieve(question.text, index, listings)
        if model is None:
            answer = extractive_answer(question.text, passages)
        else:
            answer = grounded_answer(question.text, passages, model).answer
        report.outcomes.append(
            Outcome(
                question=question,
                retrieved=tuple(p.page for p in passages),
                cited=tuple(c.page for c in answer.citations) if answer else (),
            )
        )
    for text in unanswerable:
        report.abstained.append((text, retrieve(text, index, listings) == []))
    report.seconds = time.perf_counter() - started
    return report


def print_report(report: Report, label: str = "offline (extractive) answers") -> None:
    print(f"Brochure Q&A evaluation — {len(report.outcomes)} questions, {label}")
    for outcome in report.outcomes:
        q = outcome.question
        marks = "".join(
            "✓" if ok else "✗" for ok in (outcome.hit_at_1, outcome.hit_at_3, outcome.cited_right)
        )
        expected = ",".join(str(p) for p in sorted(q.pages))
        got = ",".join(str(p) for p in outcome.retrieved)
        print(f"  {marks}  [{q.language} {q.kind:5}] p.{expected:<3} got {got:<10} {q.text}")
    for text, said_nothing in report.abstained:
        print(f"  {'✓' if said_nothing else '✗'}    [no answer expected] {text}")
    print(
        f"hit@1 {report.hit_at_1:.2f}   hit@3 {report.hit_at_3:.2f} (target ≥ {TARGET_HIT_AT_3})   "
        f"citation accuracy {report.citation_accuracy:.2f} (target ≥ {TARGET_CITATION_ACCURACY})   "
        f"no answer where none is known {sum(s for _, s in report.abstained)}"
        f"/{len(report.abstained)}   ({report.seconds * 1000:.0f} ms)"
    )


@contextmanager
def fake_openai_model() -> Iterator[ChatModel]:
    """The product's OpenAI adapter (the real SDK) talking over HTTP to the local fake OpenAI
    API in a local gateway, as `make dev` runs it; never the real API."""
    import httpx

    from leadbot.integrations.openai_adapter import OpenAIChat, OpenAIConnection
    from local.fake_openai import BODY_LIMIT, FakeOpenAI, openai_endpoint
    from local.fake_telegram import FakeTelegram
    from local.gateway import LocalGateway

    key = "sk-eval-local-only"
    fake = FakeOpenAI([key])
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalGateway(
            [],
            Path(folder),
            FakeTelegram(),
            endpoints={"openai": openai_endpoint(fake)},
            body_limits={"openai": BODY_LIMIT},
        ) as gateway,
        httpx.Client() as http,
    ):
        connection = OpenAIConnection(
            lambda: key, base_url=f"{gateway.url}/_local/openai/v1", http=http
        )
        yield OpenAIChat(connection, model="gpt-4o-mini", max_tokens=400)


def main() -> int:
    questions, unanswerable = load_questions()
    index = sample_index()
    report = evaluate(index, questions, unanswerable)
    print_report(report)
    print()
    with fake_openai_model() as model:
        grounded = evaluate(index, questions, unanswerable, model=model)
    print_report(grounded, "grounded answers through the fake OpenAI API over HTTP")
    if not (report.meets_targets and grounded.meets_targets):
        print("below target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
