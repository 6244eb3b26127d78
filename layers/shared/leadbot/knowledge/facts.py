"""Key facts of a brochure found by patterns in its sentences and table cells (pure): price,
price per sq.ft / sq.m, size, configuration, possession date, RERA and permit numbers, payment
plan, rental yield, ROI, service charge, rent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The names of FACT chunks (Chunk.fact); retrieval matches questions to them.
PRICE = "price"
PRICE_PER_SQFT = "price_per_sqft"
PRICE_PER_SQM = "price_per_sqm"
SIZE = "size"
CONFIGURATION = "configuration"
POSSESSION = "possession"
RERA = "rera"
PERMIT = "permit"
PAYMENT_PLAN = "payment_plan"
RENTAL_YIELD = "rental_yield"
ROI = "roi"
SERVICE_CHARGE = "service_charge"
RENT = "rent"
FACTS = (
    PRICE,
    PRICE_PER_SQFT,
    PRICE_PER_SQM,
    SIZE,
    CONFIGURATION,
    POSSESSION,
    RERA,
    PERMIT,
    PAYMENT_PLAN,
    RENTAL_YIELD,
    ROI,
    SERVICE_CHARGE,
    RENT,
)


@dataclass(frozen=True, slots=True)
class Fact:
    fact: str  # one of FACTS
    value: str  # as printed: "AED 1,960 per sq.ft", "Q4 2026", "2 BHK"


_CURRENCY = r"(?:AED|USD|US\$|INR|Rs\.?|₹|\$|€|£|EUR|GBP|SAR|QAR|OMR|KWD|BHD|Dhs?\.?)"
_AMOUNT = r"\d{1,3}(?:[,.]\d{2,3})*(?:\.\d+)?|\d+(?:\.\d+)?"
_MAGNITUDE = r"(?:million|mn|m|bn|billion|k|crores?|cr|lakhs?|lacs?|L)\b"
_MONEY = re.compile(
    rf"{_CURRENCY}\s?(?:{_AMOUNT})(?:\s?{_MAGNITUDE})?"
    rf"|(?:{_AMOUNT})\s?(?:{_MAGNITUDE}\s?)?(?:AED|USD|INR|dirhams?)\b"
    rf"|(?:{_AMOUNT})\s?(?:crores?|cr|lakhs?|lacs?)\b",
    re.IGNORECASE,
)
_SQFT = r"(?:sq\.?\s?ft\.?|sqft|sft|square\s+f(?:ee|oo)t)"
_SQM = r"(?:sq\.?\s?m(?:tr?s?)?\b\.?|sqm\b|square\s+met(?:re|er)s?|m²|m2\b)"
_PER_SQFT = re.compile(rf"^\s?(?:per|/|a|an)\s?{_SQFT}|^\s?psf\b", re.IGNORECASE)
_PER_SQM = re.compile(rf"^\s?(?:per|/|a)\s?{_SQM}", re.IGNORECASE)
_AREA = re.compile(rf"(?<![\w,.])(\d[\d,]*(?:\.\d+)?)\s?({_SQFT}|{_SQM})", re.IGNORECASE)
_PRICE_WORDS = re.compile(
    r"\b(?:price[ds]?|priced|pricing|cost[s]?|starting|starts|from|value|worth|only|for)\b",
    re.IGNORECASE,
)
_NOT_A_PRICE = re.compile(
    r"\b(?:rent(?:s|al|ed)?|lease|service\s+charges?|maintenance|fees?|deposit|income|"
    r"investment|salary|loan|mortgage|dld|commission|registration)\b",
    re.IGNORECASE,
)
_SERVICE = re.compile(r"\b(?:service|maintenance)\s+charges?\b", re.IGNORECASE)
_RENT = re.compile(r"\b(?:rent(?:s|al)?|lease)\b", re.IGNORECASE)
_CONFIGURATION = re.compile(
    r"\b\d\s?(?:BHK|RK)\b|\b\d(?:\s|-)?(?:bed(?:room)?s?|BR)\b"
    r"|\bstudio\s+(?:apartment|unit|flat|home|residence)s?\b",
    re.IGNORECASE,
)
_LAYOUT_HEADER = re.compile(r"\b(?:type|configuration|bedrooms?|layout|unit)\b", re.IGNORECASE)
_SPLIT = re.compile(r"^([1-9]\d)\s?/\s?([1-9]\d)$")
_DATE = (
    r"(?:Q[1-4]|H[12])\s?'?\d{2,4}"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s\d{4}"
    r"|(?:end|mid|early|late)\s(?:of\s)?\d{4}|\b(?:19|20)\d{2}\b"
)
_POSSESSION = re.compile(
    rf"\b(?:possession|hand(?:ing|ed)?[\s-]?over|completion|delivery|ready\s+(?:by|in|to\s+move))"
    rf"\b[^.;]{{0,40}}?\b({_DATE})",
    re.IGNORECASE,
)
_RERA = re.compile(r"RERA")
_PERMIT = re.compile(r"\b(?:permit|trakheesi)\b", re.IGNORECASE)
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.-]*\d[A-Za-z0-9/.-]*")
_PLAN = re.compile(
    r"\b(?:[1-9]\d)\s?/\s?(?:[1-9]\d)\b(?=[^.]*\b(?:plan|payment|pay|handover|construction))"
    r"|\b(?:construction|possession|completion)[\s-]linked(?:\s+payment)?(?:\s+plan)?"
    r"|\bpost[\s-]handover(?:\s+payment)?(?:\s+plan)?"
    r"|\(?\b(?:CLP|PLP)\b\)?"
    r"|\bflexi(?:ble)?\s+payment\s+plan|\binterest[\s-]free\s+instal(?:l)?ments?",
    re.IGNORECASE,
)
_PERCENT_AFTER = re.compile(r"[^.;%]{0,40}?(\d+(?:\.\d+)?\s?%)")
_YIELD = re.compile(r"\byield\b", re.IGNORECASE)
_ROI = re.compile(r"\b(?:ROI|return\s+on\s+investment)\b", re.IGNORECASE)


def sentence_facts(sentence: str) -> list[Fact]:
    """The facts a sentence of running text states."""
    found: list[Fact] = []
    found += _money_facts(sentence)
    found += [Fact(SIZE, m.group(0).strip()) for m in _AREA.finditer(sentence)]
    found += [Fact(CONFIGURATION, m.group(0)) for m in _CONFIGURATION.finditer(sentence)]
    found += [Fact(POSSESSION, m.group(1)) for m in _POSSESSION.finditer(sentence)]
    found += _reference_facts(sentence, _RERA, RERA, inclusive=True)
    found += _reference_facts(sentence, _PERMIT, PERMIT, inclusive=False)
    plan = _payment_plan(sentence)
    if plan:
        found.append(Fact(PAYMENT_PLAN, plan))
    found += _percent_facts(sentence, _YIELD, RENTAL_YIELD)
    found += _percent_facts(sentence, _ROI, ROI)
    return _unique(found)


def cell_facts(header: str, value: str) -> list[Fact]:
    """The facts of one table cell, read with its column's header ("Price per sq.ft" over
    "AED 1,960"); the currency may be in the header only ("Price (AED)")."""
    if not value:
        return []
    heading = header.lower()
    currency = re.search(_CURRENCY, header, re.IGNORECASE)
    money = value if _MONEY.search(value) or not currency else f"{currency.group(0)} {value}"
    per_sqft = re.search(rf"(?:per|/)\s?{_SQFT}|psf", heading)
    per_sqm = re.search(rf"(?:per|/)\s?{_SQM}", heading)
    has_number = re.search(r"\d", value)
    if has_number and per_sqft:
        return [Fact(PRICE_PER_SQFT, _per(money, "sq.ft", _PER_SQFT))]
    if has_number and per_sqm:
        return [Fact(PRICE_PER_SQM, _per(money, "sq.m", _PER_SQM))]
    if (
        has_number
        and re.search(r"\b(?:price|cost)\b", heading)
        and not _NOT_A_PRICE.search(heading)
    ):
        return [Fact(PRICE, money)]
    if has_number and re.search(r"\b(?:service|maintenance)\b", heading):
        return [Fact(SERVICE_CHARGE, money)]
    facts = sentence_facts(value)
    if _LAYOUT_HEADER.search(header) and re.fullmatch(r"(?i)studio|\d\s?BR", value):
        facts.append(Fact(CONFIGURATION, value))
    elif re.search(r"\bbed(?:room)?s?\b", heading) and re.fullmatch(r"\d", value):
        facts.append(Fact(CONFIGURATION, f"{value} bedrooms"))
    if (
        re.search(r"\b(?:area|size|sq)", heading)
        and has_number
        and not any(f.fact == SIZE for f in facts)
    ):
        facts.append(Fact(SIZE, value))
    if re.search(r"\b(?:possession|handover|completion)\b", heading) and re.search(_DATE, value):
        facts.append(Fact(POSSESSION, value))
    return _unique(facts)


def _money_facts(sentence: str) -> Iterator[Fact]:
    for match in _MONEY.finditer(sentence):
        if not re.search(r"\d", match.group(0)):
            continue
        value = match.group(0).strip()
        after = sentence[match.end() :]
        before = sentence[max(0, match.start() - 50) : match.start()]
        per_sqft = _PER_SQFT.match(after)
        per_sqm = _PER_SQM.match(after)
        if _SERVICE.search(before):
            unit = per_sqft or per_sqm
            yield Fact(SERVICE_CHARGE, value + (unit.group(0).rstrip() if unit else ""))
        elif per_sqft:
            yield Fact(PRICE_PER_SQFT, value + per_sqft.group(0).rstrip())
        elif per_sqm:
            yield Fact(PRICE_PER_SQM, value + per_sqm.group(0).rstrip())
        elif _RENT.search(before):
            yield Fact(RENT, value)
        elif _PRICE_WORDS.search(before) and not _NOT_A_PRICE.search(before[-30:]):
            yield Fact(PRICE, value)


def _per(money: str, unit: str, pattern: re.Pattern[str]) -> str:
    money = money.strip()
    tail = _MONEY.search(money)
    if tail and pattern.match(money[tail.end() :]):
        return money
    return f"{money} per {unit}"


def _reference_facts(
    sentence: str, keyword: re.Pattern[str], fact: str, *, inclusive: bool
) -> list[Fact]:
    """The first number-like token at or after each keyword (within 50 characters):
    "RERA project number 2189", "MahaRERA No. P51800012345", "permit number (Trakheesi): 71..."."""
    found = []
    for match in keyword.finditer(sentence):
        start = match.start() if inclusive else match.end()
        window = sentence[start : match.end() + 50]
        if inclusive:  # "PRM/KA/RERA/1251/446" is one token holding the keyword itself
            token_start = sentence.rfind(" ", 0, match.start()) + 1
            window = sentence[token_start : match.end() + 50]
        for token in _REFERENCE.finditer(window):
            text = token.group(0).rstrip(".-/")
            if sum(c.isdigit() for c in text) >= 3:
                found.append(Fact(fact, text))
                break
    return found


def _payment_plan(sentence: str) -> str | None:
    """The payment plan a sentence names, as one phrase: "60/40 construction-linked payment
    plan (CLP)"; matches close to each other are one phrase."""
    spans = [
        (m.start(), m.end())
        for m in _PLAN.finditer(sentence)
        if not (split := _SPLIT.match(m.group(0))) or int(split[1]) + int(split[2]) == 100
    ]
    if not spans:
        return None
    phrases: list[tuple[int, int]] = [spans[0]]
    for start, end in spans[1:]:
        gap = sentence[phrases[-1][1] : start]
        if len(gap) <= 3 and not gap.strip(" (-"):
            phrases[-1] = (phrases[-1][0], end)
        else:
            phrases.append((start, end))
    return "; ".join(sentence[s:e].strip() for s, e in phrases)


def _percent_facts(sentence: str, keyword: re.Pattern[str], fact: str) -> list[Fact]:
    found = []
    for match in keyword.finditer(sentence):
        percent = _PERCENT_AFTER.match(sentence, match.end())
        if percent:
            found.append(Fact(fact, percent.group(1)))
    return found


def _unique(facts: list[Fact]) -> list[Fact]:
    # "AED 21,097 per sq.m." at a sentence's end is the same fact as in the table.
    return list(dict.fromkeys(Fact(f.fact, f.value.strip().rstrip(".")) for f in facts))
