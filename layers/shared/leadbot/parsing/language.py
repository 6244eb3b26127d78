"""Which of the bot's languages a text or a client language code stands for."""

from __future__ import annotations

from leadbot.domain import Language

# Letters Arabic does not use (and Persian digits): any of them makes Arabic script Persian.
_PERSIAN_MARKS = frozenset("پچژگکی۰۱۲۳۴۵۶۷۸۹")

_CODES = {
    "en": Language.EN,
    "eng": Language.EN,
    "fa": Language.FA,
    "fas": Language.FA,
    "per": Language.FA,
    "pes": Language.FA,
    "ar": Language.AR,
    "ara": Language.AR,
    "ru": Language.RU,
    "rus": Language.RU,
}


def detect_script_language(text: str) -> Language | None:
    """Guess the language from the script most letters are in; None when there are no letters."""
    # Insertion order breaks ties: Latin creeps into any text (brands, units), so it comes last.
    counts = {Language.RU: 0, Language.AR: 0, Language.EN: 0}
    for char in text:
        if not char.isalpha():
            continue
        code = ord(char)
        if 0x0400 <= code <= 0x052F:
            counts[Language.RU] += 1
        elif (
            0x0600 <= code <= 0x06FF
            or 0x0750 <= code <= 0x077F
            or 0xFB50 <= code <= 0xFDFF
            or 0xFE70 <= code <= 0xFEFF
        ):
            counts[Language.AR] += 1
        elif code < 0x0250:
            counts[Language.EN] += 1
    best = max(counts, key=counts.__getitem__)
    if counts[best] == 0:
        return None
    if best is Language.AR and not _PERSIAN_MARKS.isdisjoint(text):
        return Language.FA
    return best


def language_from_code(code: str | None) -> Language | None:
    """Map an IETF tag such as 'fa-IR' or 'en_US' to a Language by its primary subtag."""
    if not code:
        return None
    return _CODES.get(code.strip().replace("_", "-").split("-", 1)[0].lower())
