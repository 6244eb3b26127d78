"""Answers from retrieved passages, with the pages they come from: extractive (the best passage,
shortened; works offline) and grounded (a language model words an answer from the passages only,
citing pages, which are checked against the passages it was given)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from leadbot.domain.enums import Language
from leadbot.domain.knowledge import Answer, Citation
from leadbot.integrations.llm import ChatModel, Completion, LLMError
from leadbot.knowledge.expand import Query, expand, index_terms
from leadbot.knowledge.retrieve import SQFT_PER_SQM, Passage, PassageKind
from leadbot.knowledge.text import normalize
from leadbot.parsing.digits import normalize_digits

MAX_ANSWER_CHARS = 300
MAX_PASSAGE_CHARS = 1_200  # per passage in a prompt: bounds tokens whatever a chunk holds
UNKNOWN = "UNKNOWN"

_LANGUAGE_NAMES = {
    Language.EN: "English",
    Language.FA: "Persian (Farsi)",
    Language.AR: "Arabic",
    Language.RU: "Russian",
}

SYSTEM_PROMPT = """\
You answer a property buyer's question for a real-estate agency, using ONLY the passages given.
Each passage starts with its source in square brackets: a brochure page [Brochure p.N] or a \
listing [Listing LN].
Rules:
1. Use only what the passages state. Never add a price, date, number, availability, promise or \
opinion that is not in them, and never guess.
2. {language}
3. Be brief: one to three sentences, plain text.
4. Cite the source of every fact right after it as (p.N) for a brochure page or (LN) for a \
listing, exactly as the passages are labelled.
5. If the passages do not answer the question, reply with exactly: UNKNOWN"""


# -- extractive: works offline ------------------------------------------------------------


def extractive_answer(question: str, passages: Sequence[Passage]) -> Answer | None:
    """The best passage, shortened to a sentence or two (≤ 300 characters), with its citation;
    for a fact, its text with the value; for table rows, the best row and its neighbours on the
    same page; None when there is nothing to say."""
    if not passages:
        return None
    best = passages[0]
    query = expand(question)
    if best.kind is PassageKind.LISTING:
        used = [p for p in passages if p.kind is PassageKind.LISTING][:3]
        text = "\n".join(_listing_summary(p.text) for p in used)
        return Answer(text=_shorten(text), citations=_citations(used))
    if best.kind is PassageKind.TABLE:
        rows = [
            p
            for p in passages
            if p.kind is PassageKind.TABLE and p.citation == best.citation and p is not best
        ]
        text = best.text
        for row in rows:
            if len(text) + 2 + len(row.text) > MAX_ANSWER_CHARS:
                break
            text += "; " + row.text
        return Answer(text=_shorten(_with_units(text, query)), citations=_citations([best]))
    if best.kind is PassageKind.FACT:
        text = best.text
        value = best.chunk.value if best.chunk else None
        if value and not _states(text, value):
            text = f"{text.rstrip('. ')}: {value}"
        return Answer(text=_shorten(_with_units(text, query)), citations=_citations([best]))
    text = _best_sentences(best.text, query)
    return Answer(text=_shorten(_with_units(text, query)), citations=_citations([best]))


def _states(text: str, value: str) -> bool:
    """Whether `text` already gives `value` ("Price per sq.ft: AED 1,850" gives "AED 1,850 per
    sq.ft"): every number of the value is in it."""
    numbers = set(_DIGITS.findall(normalize(value)))
    return (bool(numbers) and numbers <= set(_DIGITS.findall(normalize(text)))) or normalize(
        value
    ) in normalize(text)


_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def _citations(passages: Sequence[Passage]) -> tuple[Citation, ...]:
    return tuple(dict.fromkeys(p.citation for p in passages))


def _listing_summary(text: str) -> str:
    """A listing passage without its description: the fields the Properties table vouches for."""
    fields, _, _ = text.partition(". ")
    return fields.rstrip(".")


_SENTENCE = re.compile(r"(?<=[.!?؟。])\s+|\n+")


def _best_sentences(text: str, query: Query) -> str:
    """The sentence of `text` that matches the question best, and the next one when it fits."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    if len(sentences) <= 1:
        return text.strip()

    def matched(sentence: str) -> int:
        terms = set(index_terms(sentence))
        return sum(1 for slot in query.slots if terms.intersection(slot.terms))

    scores = [matched(s) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    chosen = sentences[best]
    if best + 1 < len(sentences) and len(chosen) + 1 + len(sentences[best + 1]) <= (
        MAX_ANSWER_CHARS
    ):
        chosen += " " + sentences[best + 1]
    return chosen


def _shorten(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


_SQFT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:sq\.?\s*ft\.?|sqft|square\s+feet)", re.I)
_SQM = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:sq\.?\s*m\b\.?|sqm|square\s+met(?:er|re)s?|m²)", re.I)


def _with_units(text: str, query: Query) -> str:
    """An area in the unit the lead asked in, when the passage gives only the other one:
    "1,250 sq.ft" answers "how many sq.m?" as "1,250 sq.ft (≈ 116 sq.m)"."""
    wants_sqm, wants_sqft = "sqm" in query.concepts, "sqft" in query.concepts
    if wants_sqm and not wants_sqft and not _SQM.search(text):
        return _SQFT.sub(lambda m: _convert(m, SQFT_PER_SQM, "sq.m", divide=True), text, count=1)
    if wants_sqft and not wants_sqm and not _SQFT.search(text):
        return _SQM.sub(lambda m: _convert(m, SQFT_PER_SQM, "sq.ft", divide=False), text, count=1)
    return text


def _convert(match: re.Match[str], factor: Decimal, unit: str, *, divide: bool) -> str:
    try:
        number = Decimal(match.group(1).replace(",", ""))
    except InvalidOperation:
        return match.group(0)
    converted = number / factor if divide else number * factor
    rounded = converted.quantize(Decimal(1), ROUND_HALF_UP)
    return f"{match.group(0)} (≈ {int(rounded):,} {unit})"


# -- grounded: a language model words it, from the passages only ---------------------------


@dataclass(frozen=True, slots=True)
class Grounded:
    """What `grounded_answer` found. `answer` is None when the passages do not answer the
    question (the caller says so and logs a knowledge gap). `completion` is the model's reply
    when one came back (its token usage is the caller's to log, even when it was not used);
    `fell_back` says the extractive answer stands in (model error, or no valid citation)."""

    answer: Answer | None
    completion: Completion | None
    fell_back: bool = False


def prompt(question: str, passages: Sequence[Passage]) -> str:
    """The user message: the passages, each labelled with its source, then the question. Only
    these passages reach the model; `question` must already be free of personal data."""
    blocks = [f"[{_label(p, passages)}] {_clip(p.text)}" for p in passages]
    return "Passages:\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"


def system_prompt(language: Language | None = None) -> str:
    if language is None:
        rule = "Answer in the language the question is written in."
    else:
        rule = f"Answer in {_LANGUAGE_NAMES[language]}, the language of the question."
    return SYSTEM_PROMPT.format(language=rule)


def grounded_answer(
    question: str,
    passages: Sequence[Passage],
    model: ChatModel,
    timeout_s: float = 6.0,
    *,
    language: Language | None = None,
) -> Grounded:
    """The model's answer from `passages` only, with the pages it cited among them (a page it
    names that was not given is dropped, never shown). On LLMError, or when the reply cites
    nothing it was given, the extractive answer stands in."""
    if not passages:
        return Grounded(answer=None, completion=None)
    try:
        completion = model.complete(
            system_prompt(language), prompt(question, passages), timeout_s=timeout_s
        )
    except LLMError:
        return Grounded(
            answer=extractive_answer(question, passages), completion=None, fell_back=True
        )
    reply = completion.text.strip()
    if not reply or reply.strip(" .\"'`").upper() == UNKNOWN:
        return Grounded(answer=None, completion=completion)
    citations = cited(reply, passages)
    if not citations:
        # An answer that names no source it was given cannot be shown as grounded.
        fallback = extractive_answer(question, passages)
        return Grounded(answer=fallback, completion=completion, fell_back=True)
    text = _strip_markers(reply)
    return Grounded(
        answer=Answer(text=text, citations=citations, grounded=True), completion=completion
    )


def _label(passage: Passage, passages: Sequence[Passage]) -> str:
    if passage.kind is PassageKind.LISTING:
        return f"Listing L{_listing_number(passage, passages)}"
    return f"Brochure p.{passage.page}"


def _listing_number(passage: Passage, passages: Sequence[Passage]) -> int:
    listings = [p for p in passages if p.kind is PassageKind.LISTING]
    return listings.index(passage) + 1


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_PASSAGE_CHARS else text[: MAX_PASSAGE_CHARS - 1] + "…"


# "(p.8)", "(p. 8, 9)", "(pp. 8–9)", "(page 8)", "(L1)", "(p.8; L2)", "[p.8]", "[Brochure p.8]".
_GROUP = re.compile(r"[(\[]([^()\[\]]{1,60})[)\]]")
_PAGE_LIST = re.compile(
    r"\b(?:pp?\.?|pages?)\s*(\d+(?:\s*(?:,|and|&|-|–)\s*(?:pp?\.?\s*)?\d+)*)", re.I
)
_LISTING_REF = re.compile(r"\bL\s?(\d+)\b")
_NUMBER = re.compile(r"\d+")
# Models also echo the passages' own labels: "[Brochure p.8]", "[Listing L1]".
_MARKER = re.compile(
    r"\s*[(\[]\s*(?:(?:brochure|listing)\s+)?(?:(?:pp?\.?|pages?)\s*\d|L\s?\d)[^()\[\]]{0,56}[)\]]",
    re.I,
)


def cited(reply: str, passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """The sources `reply` cites that were among `passages`, in the order first cited."""
    by_page: dict[int, Citation] = {}
    listings: list[Citation] = []
    for passage in passages:
        if passage.kind is PassageKind.LISTING:
            listings.append(passage.citation)
        elif passage.page is not None:
            by_page.setdefault(passage.page, passage.citation)
    found: list[Citation] = []
    for group in _GROUP.findall(normalize_digits(reply)):
        for pages in _PAGE_LIST.findall(group):
            for number in _NUMBER.findall(pages):
                citation = by_page.get(int(number))
                if citation is not None:
                    found.append(citation)
        for number in _LISTING_REF.findall(group):
            position = int(number) - 1
            if 0 <= position < len(listings):
                found.append(listings[position])
    return tuple(dict.fromkeys(found))


def _strip_markers(reply: str) -> str:
    """The reply without its "(p.8)" markers: the conversation shows citations in the lead's
    language ("Brochure p.8") itself."""
    text = _MARKER.sub("", reply)
    return re.sub(r"\s+([.,;:!?؟،])", r"\1", text).strip()
