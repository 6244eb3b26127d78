"""Typed answers in any catalog language: choice synonyms, numbers, stop words, catalog requests,
questions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TypeVar

from leadbot.domain import Bedrooms, Goal, PaymentMethod, PropertyType, Timeline
from leadbot.parsing.digits import normalize_digits

E = TypeVar("E", bound=StrEnum)

# Words a lead may type instead of pressing a button; matched as whole words, lower-cased.
SYNONYMS: Mapping[type[StrEnum], Mapping[StrEnum, tuple[str, ...]]] = {
    Goal: {
        Goal.BUY: (
            "buy",
            "purchase",
            "own",
            "خرید",
            "بخرم",
            "شراء",
            "اشتري",
            "أشتري",
            "شراء عقار",
            "купить",
            "покупка",
            "куплю",
        ),
        Goal.RENT: (
            "rent",
            "lease",
            "rental",
            "اجاره",
            "رهن",
            "إيجار",
            "ايجار",
            "استئجار",
            "аренда",
            "арендовать",
            "снять",
        ),
        Goal.INVEST: (
            "invest",
            "investment",
            "investor",
            "roi",
            "سرمایه",
            "سرمایه گذاری",
            "سرمایه‌گذاری",
            "استثمار",
            "للاستثمار",
            "инвестиции",
            "инвестировать",
            "инвестиция",
        ),
    },
    PropertyType: {
        PropertyType.APARTMENT: (
            "apartment",
            "flat",
            "condo",
            "آپارتمان",
            "شقة",
            "شقه",
            "квартира",
            "апартаменты",
        ),
        PropertyType.VILLA: ("villa", "house", "ویلا", "خانه", "فيلا", "вилла", "дом"),
        PropertyType.TOWNHOUSE: (
            "townhouse",
            "town house",
            "تاون هاوس",
            "تاون‌هاوس",
            "تاون هاوس",
            "таунхаус",
        ),
        PropertyType.PENTHOUSE: ("penthouse", "پنت هاوس", "پنت‌هاوس", "بنتهاوس", "пентхаус"),
        PropertyType.OFFICE: ("office", "commercial", "دفتر", "اداری", "مكتب", "تجاري", "офис"),
        PropertyType.LAND: ("land", "plot", "زمین", "أرض", "ارض", "قطعة أرض", "участок", "земля"),
    },
    Timeline: {
        Timeline.NOW: (
            "now",
            "asap",
            "urgent",
            "this month",
            "immediately",
            "فوری",
            "همین الان",
            "الان",
            "الآن",
            "فورا",
            "فوراً",
            "сейчас",
            "срочно",
        ),
        Timeline.MONTHS_3: (
            "1-3 months",
            "1–3 months",
            "3 months",
            "soon",
            "سه ماه",
            "۳ ماه",
            "3 أشهر",
            "ثلاثة أشهر",
            "3 месяца",
            "скоро",
        ),
        Timeline.MONTHS_6: (
            "3-6 months",
            "3–6 months",
            "6 months",
            "شش ماه",
            "6 أشهر",
            "ستة أشهر",
            "6 месяцев",
            "полгода",
        ),
        Timeline.LATER: (
            "later",
            "just looking",
            "browsing",
            "next year",
            "بعدا",
            "بعداً",
            "فعلا نه",
            "لاحقا",
            "لاحقاً",
            "أتصفح",
            "позже",
            "просто смотрю",
        ),
    },
    PaymentMethod: {
        PaymentMethod.CASH: (
            "cash",
            "نقد",
            "نقدی",
            "كاش",
            "نقدا",
            "نقداً",
            "наличные",
            "наличными",
            "кэш",
        ),
        PaymentMethod.MORTGAGE: (
            "mortgage",
            "loan",
            "bank",
            "finance",
            "وام",
            "رهن بانکی",
            "تمويل",
            "رهن عقاري",
            "قرض",
            "ипотека",
            "кредит",
        ),
        PaymentMethod.INSTALLMENTS: (
            "installments",
            "installment",
            "payment plan",
            "plan",
            "قسط",
            "اقساط",
            "اقساطی",
            "أقساط",
            "تقسيط",
            "خطة دفع",
            "рассрочка",
            "план оплаты",
        ),
    },
}

STOP_WORDS = frozenset(
    {
        "stop",
        "unsubscribe",
        "توقف",
        "لغو",
        "لغو عضویت",
        "إيقاف",
        "ايقاف",
        "الغاء",
        "إلغاء",
        "стоп",
        "отписаться",
        "хватит",
    }
)

# Typed (WhatsApp has no /start button) to opt back in after a stop word; also a new lead's
# first word, and "start qr_expo" in a QR code's pre-filled message carries its source.
START_WORDS = frozenset({"start", "/start", "شروع", "ابدأ", "ابدا", "بدء", "старт", "начать"})

# A typed "yes" to a yes-or-no question (whether an agent may call the lead's WhatsApp number).
YES_WORDS = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "sure",
        "ok",
        "okay",
        "بله",
        "بلی",
        "آره",
        "اره",
        "باشه",
        "حتما",
        "نعم",
        "أجل",
        "اجل",
        "حسنا",
        "حسناً",
        "أكيد",
        "اكيد",
        "да",
        "конечно",
        "хорошо",
        "ок",
    }
)

# A typed request for a broker, in each catalog language: the whole message, as with YES_WORDS.
CONNECT_WORDS = frozenset(
    {
        *("connect", "connect me", "broker", "call me", "agent please"),
        *("وصل", "وصلم کن", "وصل کن", "اتصال", "تماس بگیرید", "مشاور"),
        *("تواصل", "اتصال", "وصلني", "صلني", "اتصل بي", "وسيط"),
        *("связаться", "свяжите", "свяжите меня", "соедините", "позвоните", "брокер"),
    }
)

# Stems of "catalog" and "brochure" in each language, found anywhere in a message, so that
# inflections (каталоги, брошюру) and the Arabic article (الكتالوج, البروشور) match too.
CATALOG_WORDS = (
    "catalog",
    "brochure",
    "price list",
    "pdf",
    "کاتالوگ",
    "بروشور",  # Persian and Arabic alike
    "لیست قیمت",
    "كتالوج",
    "كاتالوج",
    "كتيب",
    "قائمة الأسعار",
    "каталог",
    "брошюр",
    "буклет",
    "прайс",
)

_BEDROOM_WORDS: Mapping[Bedrooms, tuple[str, ...]] = {
    Bedrooms.STUDIO: ("studio", "استودیو", "ستوديو", "студия"),
}
_NUMBER = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """Lower-cased, digits in ASCII, emoji and punctuation at the edges trimmed, spaces folded."""
    text = normalize_digits(text).casefold().replace("ي", "ی").replace("ك", "ک")
    text = _SPACES.sub(" ", text).strip()
    return text.strip(" .!?,;:()[]«»\"'…-–—")


def _fold(word: str) -> str:
    return word.casefold().replace("ي", "ی").replace("ك", "ک")


def match_option(
    text: str, options: Sequence[E], labels: Mapping[E, str] | None = None
) -> E | None:
    """The option a typed answer names: its number, its label, or a synonym in any language."""
    answer = clean(text)
    if not answer:
        return None
    if answer.isdigit():
        index = int(answer)
        return options[index - 1] if 1 <= index <= len(options) else None
    for option in options:
        if labels and clean(labels[option]) == answer:
            return option
    synonyms = SYNONYMS.get(type(options[0]), {})
    padded = f" {answer} "
    for option in options:
        words = (option.value, *synonyms.get(option, ()))
        if any(f" {_fold(word)} " in padded or _fold(word) == answer for word in words):
            return option
    return None


def parse_bedrooms(text: str) -> Bedrooms | None:
    """Bedrooms from '2', '2 bedrooms', '2BHK', '۲ خوابه', 'studio', '5+'."""
    answer = clean(text)
    if any(_fold(word) in answer for word in _BEDROOM_WORDS[Bedrooms.STUDIO]):
        return Bedrooms.STUDIO
    found = _NUMBER.search(answer)
    if found is None:
        return None
    count = int(found.group())
    if count == 0:
        return Bedrooms.STUDIO
    if count >= 4:
        return Bedrooms.FOUR_PLUS if count <= 20 else None
    return Bedrooms(str(count))


_FOLDED_STOP_WORDS = frozenset(_fold(word) for word in STOP_WORDS)


def is_stop_word(text: str) -> bool:
    return clean(text) in _FOLDED_STOP_WORDS


_FOLDED_START_WORDS = frozenset(_fold(word) for word in START_WORDS)
_FOLDED_YES_WORDS = frozenset(_fold(word) for word in YES_WORDS)


def start_payload(text: str) -> str | None:
    """The one token after a start word ("" for none: "START", "start qr_expo"), or None if
    `text` is not a start command ("start looking for a villa" is a message, not a command)."""
    word, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if clean(word) not in _FOLDED_START_WORDS or " " in rest:
        return None
    return rest


def is_yes(text: str) -> bool:
    return clean(text) in _FOLDED_YES_WORDS


_FOLDED_CONNECT_WORDS = frozenset(_fold(word) for word in CONNECT_WORDS)


def is_connect(text: str) -> bool:
    """CONNECT and its equivalents: the lead asks for a broker in so many words."""
    return clean(text) in _FOLDED_CONNECT_WORDS


_FOLDED_CATALOG_WORDS = tuple(_fold(word) for word in CATALOG_WORDS)


def asks_for_catalog(text: str) -> bool:
    """Whether a message asks for the agency's catalog or brochure, in any catalog language."""
    answer = clean(text)
    return any(word in answer for word in _FOLDED_CATALOG_WORDS)


# Words a question starts with, per catalog language. Kept short on purpose: words that also
# start plain statements are left out (Persian من "I", ما "we"; Arabic ما as "not").
QUESTION_WORDS = frozenset(
    {
        *("what", "where", "when", "which", "who", "why", "how"),
        *("is", "are", "does", "do", "can", "could", "will", "would"),
        *("چه", "چی", "چرا", "کجا", "کی", "کدام", "کدوم", "چطور", "چگونه", "چند", "چقدر", "آیا"),
        *("هل", "ماذا", "متى", "أين", "اين", "كيف", "كم", "لماذا"),
        *("что", "где", "когда", "как", "какой", "какая", "какие", "сколько", "почему", "кто"),
    }
)
# Words that ask wherever they stand: Persian puts the question word late ("قیمتش چقدره"),
# Russian marks a question with ли ("Есть ли парковка").
QUESTION_WORDS_ANYWHERE = frozenset({"چقدر", "چقدره", "کجا", "کجاست", "آیا", "ли"})
_FOLDED_QUESTION_WORDS = frozenset(_fold(word) for word in QUESTION_WORDS)
_FOLDED_ANYWHERE = frozenset(_fold(word) for word in QUESTION_WORDS_ANYWHERE)
# A question may follow a greeting or thanks: "Thanks. When is the handover?"
_SENTENCES = re.compile(r"[.!,;:،؛…\n]+")
_WORD = re.compile(r"\w+")


def is_question(text: str) -> bool:
    """Whether a message asks something: a question mark (Latin or Arabic), a sentence that
    starts with a question word of any catalog language, or a word that asks anywhere."""
    return "?" in text or "؟" in text or is_worded_as_question(text)


def is_worded_as_question(text: str) -> bool:
    """Whether a message asks by its words, whatever its punctuation: "2 bedrooms?" does not,
    "how much is a 2 bedroom" does."""
    for sentence in _SENTENCES.split(normalize_digits(text)):
        words = _WORD.findall(_fold(sentence))
        if words and (words[0] in _FOLDED_QUESTION_WORDS or _FOLDED_ANYWHERE.intersection(words)):
            return True
    return False
