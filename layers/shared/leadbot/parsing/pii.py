"""Personal data out of what a lead wrote before it leaves for a language model (DESIGN.md §5).

`redact` replaces emails with EMAIL, phone numbers with PHONE, IBANs (checked by their mod-97
digits) and long digit runs (passport, ID, card and account numbers) with NUMBER, in digits of
any script. It keeps what a question about
a property needs: prices (2,500,000 · 2 500 000 · 2.5M · ۳ میلیارد · 2500000000), sizes, ranges
such as 1250-1400 sq.ft, years and dates. Known gaps, in favour of prices: a number of 7–8 plain
digits (a local number without its area code) and a "round" one ending in 000 are kept.

Apply it to the lead's words only, never to brochure passages, whose permit and RERA numbers
are what leads ask about.
"""

from __future__ import annotations

import re
import unicodedata

EMAIL = "[email]"
PHONE = "[phone]"
NUMBER = "[number]"

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# An IBAN as written or grouped in fours: country, two check digits, 11-30 letters and digits.
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{1,4}){3,8}(?![\w])")
# Passport and ID numbers with a letter prefix: N1234567, AB1234567.
_LETTERED_ID = re.compile(r"(?<!\w)[A-Za-z]{1,2}\d{6,9}(?!\w)")
# What people put between the digits of a phone number, bidi marks that phones and RTL
# keyboards slip in among them included. Not the comma: that groups thousands of a price.
_SEP = r"[ \t\u00a0\u202f().\-/\u2010-\u2015\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]"
# `\d` is any script's decimal digit (Arabic-Indic, Persian, Devanagari, ...).
_RUN = re.compile(rf"(?:\+|\(\+?)?\d(?:{_SEP}*\d)*")
_DIGIT = re.compile(r"\d")
_NON_DIGIT = re.compile(r"\D")
# Thousands grouped by spaces or dots, ending in 000: an amount (2 500 000), not a phone.
_AMOUNT = re.compile(r"[1-9]\d{0,2}(?:([ .\u00a0\u202f])\d{3})(?:\1\d{3})*")
_DATE = re.compile(
    r"\d{4}([./-])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"  # 2026-01-05
    r"|(?:0?[1-9]|[12]\d|3[01])([./-])(?:0?[1-9]|1[0-2])\2(?:\d{4}|\d{2})"  # 05/01/2026
    r"|(?:0?[1-9]|1[0-2])([./-])(?:0?[1-9]|[12]\d|3[01])\3\d{4}"  # 01/05/2026
)
# Two numbers and a dash between: a range (1250-1400 sq.ft, 2025-2026), not a local number.
_RANGE = re.compile(r"[1-9]\d{0,6}\s*[-\u2010-\u2015]\s*[1-9]\d{0,6}")


def redact(text: str) -> str:
    """`text` with emails, phone numbers and long digit runs replaced by placeholders."""
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN.sub(_iban_replacement, text)
    text = _LETTERED_ID.sub(NUMBER, text)
    return _RUN.sub(_digits_replacement, text)


def scrub(text: str) -> str:
    """`text` with the personal data `redact` finds removed outright: for searching, where a
    placeholder would be one more word to match."""
    redacted = redact(text)
    for placeholder in (EMAIL, PHONE, NUMBER):
        redacted = redacted.replace(placeholder, " ")
    return " ".join(redacted.split())


def _iban_replacement(found: re.Match[str]) -> str:
    """The longest start of the match that passes the check (a grouped IBAN may be followed by
    a short word the pattern took for a group), the rest kept."""
    groups = found.group().split(" ")
    for end in range(len(groups), 0, -1):
        if is_iban(" ".join(groups[:end])):
            return " ".join([NUMBER, *groups[end:]])
    return found.group()


def is_iban(text: str) -> bool:
    """ISO 13616's check: the country and check digits moved to the end, letters as 10-35,
    the number leaves 1 when divided by 97."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isascii() or not compact.isalnum():
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _digits_replacement(found: re.Match[str]) -> str:
    run = found.group()
    placeholder = _classify(run)
    if placeholder is None:
        return run
    # A bracket opened before the number but closed after it stays balanced.
    opened = run.startswith("(") and run.count("(") > run.count(")")
    return ("(" if opened else "") + placeholder


def _classify(run: str) -> str | None:
    """The placeholder for a run of digits and separators, or None to keep it."""
    digits = "".join(str(unicodedata.digit(d)) for d in _DIGIT.findall(run))
    if len(digits) < 7:
        return None
    international = run.lstrip("(").startswith("+") or digits.startswith("00")
    if international:
        return PHONE if len(digits) <= 17 else NUMBER
    if len(digits) > 12:  # longer than any phone written without its +: a card, an ID
        return NUMBER
    plain = _ascii(run).removeprefix("(")  # "(2500000 AED)": the bracket is not the number's
    if _AMOUNT.fullmatch(plain) and plain.endswith("000"):
        return None
    if _DATE.fullmatch(plain) or _RANGE.fullmatch(plain):
        return None
    if _NON_DIGIT.search(plain) is None:  # digits only, nothing between them
        if digits.startswith("0") and len(digits) >= 9:
            return PHONE  # a local mobile number: 0501234567, 09123456789
        if len(digits) < 9 or digits.endswith("000"):
            return None  # a budget (2500000, 2500000000 rials): IDs are not round
        return NUMBER
    return PHONE


def _ascii(run: str) -> str:
    """The run with its digits in ASCII, one character for one, separators as they are."""
    return _DIGIT.sub(lambda d: str(unicodedata.digit(d.group())), run)
