"""Text to search terms: one normalisation and tokenisation for Latin, Arabic-script and Cyrillic,
shared by the index (brochure chunks, listings) and the questions, so both sides always agree."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from leadbot.parsing.digits import normalize_digits

# Arabic and Persian spell the same word with different letters (yeh, kaf, teh marbuta, hamza
# seats); leads type either on either keyboard. Folding them to one form makes "قيمة" = "قیمت"
# stems meet and lets an Arabic question find a Persian brochure's word and back.
_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # ي → ی
        "\u0649": "\u06cc",  # ى → ی
        "\u0626": "\u06cc",  # ئ → ی
        "\u0643": "\u06a9",  # ك → ک
        "\u0629": "\u0647",  # ة → ه
        "\u06c0": "\u0647",  # ۀ → ه
        "\u0623": "\u0627",  # أ → ا
        "\u0625": "\u0627",  # إ → ا
        "\u0622": "\u0627",  # آ → ا
        "\u0671": "\u0627",  # ٱ → ا
        "\u0624": "\u0648",  # ؤ → و
        "\u0621": None,  # a lone hamza carries no meaning for search
        "\u0640": None,  # tatweel (kashida) only stretches a word
        # ZWNJ separates a Persian prefix or plural from its word ("واحد‌ها"); leads type a space
        # or nothing instead, so it becomes a space and the parts are terms of their own.
        "\u200c": " ",
        "\u200d": None,
        "ё": "е",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "²": "2",
        "\u2019": "'",
    }
)
# Arabic short-vowel marks, shadda, sukun and the superscript alef: optional in writing.
_MARKS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
# Thousands separators between digit groups go, so "2,450,000" and "2450000" are one term.
_THOUSANDS = re.compile(r"(?<=\d)[,'’](?=\d{3}(?!\d))")
# Terms: a number (with a decimal part), or a run of letters. Digits and letters are split
# ("3BHK" → "3", "bhk"; "Q4" → "q", "4") so a number typed apart or together means the same.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+")


def normalize(text: str) -> str:
    """`text` folded for search: digits in ASCII, one case, one spelling of Arabic-script
    letters, no diacritics, no thousands separators."""
    text = normalize_digits(text)
    text = unicodedata.normalize("NFKC", text).translate(_LETTERS)
    text = _MARKS.sub("", text)
    if any("\u0300" <= c <= "\u036f" for c in unicodedata.normalize("NFD", text)):
        # Latin accents ("café", "résidence"): dropped, as leads often leave them out.
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if not "\u0300" <= c <= "\u036f"
        )
        text = unicodedata.normalize("NFC", text)
    return _THOUSANDS.sub("", text.casefold())


def words(text: str) -> list[str]:
    """The normalised words and numbers of `text`, in order, unstemmed."""
    found = _TOKEN.findall(normalize(text))
    # A decimal comma ("2,5 млн") reads as a point; thousands commas are already gone.
    return [w.replace(",", ".") if w[0].isdigit() else w for w in found]


def tokens(text: str) -> list[str]:
    """The search terms of `text`, in order: normalised words, stemmed, stop words kept (the
    phrase matcher needs them; `content` drops them)."""
    return [stem(w) for w in words(text)]


def content(terms: list[str]) -> list[str]:
    """`terms` without stop words."""
    return [t for t in terms if t not in STOP_TERMS]


def script(word: str) -> str:
    """'digits', 'latin', 'arabic' (Arabic and Persian), 'cyrillic' or 'other' by the word's
    first character."""
    if word[0].isdigit():
        return "digits"
    code = ord(word[0])
    if code < 0x0250:
        return "latin"
    if 0x0400 <= code <= 0x052F:
        return "cyrillic"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    return "other"


# -- light stemmers: one per script, the same on both sides, so over-stemming costs little ---------

# Russian case and number endings, longest first.
_RU_ENDINGS = (
    "остью",
    "иями",
    "ость",
    "ости",
    "ями",
    "ами",
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ией",
    "ий",
    "ый",
    "ой",
    "ей",
    "ая",
    "яя",
    "ое",
    "ее",
    "ые",
    "ие",
    "ую",
    "юю",
    "ом",
    "ем",
    "ам",
    "ям",
    "ах",
    "ях",
    "ов",
    "ев",
    "ия",
    "ии",
    "ию",
    "ть",
    "а",
    "я",
    "о",
    "е",
    "ы",
    "и",
    "у",
    "ю",
    "ь",
    "й",
)
_AR_PREFIXES = ("وال", "بال", "کال", "فال", "لل", "ال")
_AR_SUFFIXES = ("هایی", "های", "ها", "ات", "ان", "ون", "ین", "یه", "ه", "ی", "ش")
_EN_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", ""))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem of one normalised word (numbers unchanged)."""
    if word[0].isdigit():
        return word
    kind = script(word)
    if kind == "latin":
        return _stem_latin(word)
    if kind == "cyrillic":
        return _stem_cyrillic(word)
    if kind == "arabic":
        return _stem_arabic(word)
    return word


def _stem_latin(word: str) -> str:
    if len(word) <= 3:
        return word
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, replacement in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + replacement
            break
    # "price", "priced", "prices" all end up "pric".
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _stem_cyrillic(word: str) -> str:
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)]
    return word


def _stem_arabic(word: str) -> str:
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    for suffix in _AR_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


# -- stop words: question scaffolding in each catalog language, which carries no content --------

_STOP_WORDS = """
a an the is are was were be been am do does did can could will would shall should may might
i me my we our you your it its this that these those there here what which who whom whose how
when where why of to in on at for from with by about as and or but if so not no yes any some
please tell know want like get give let us have has had much many more most very just also
there's what's it's is there are there hi hello hey thanks thank kindly s t d ll re ve
come comes coming came go goes
и в во на с со по о об от до за из к ко у а но или ли не ни же бы то это этот эта эти тот
та те что как какой какая какие каков какова где когда кто чем чему ли есть мне меня мы вы
вас ваш ваша у вас пожалуйста скажите подскажите можно ли а также здравствуйте привет спасибо
он она оно они его ее их там тут здесь так уже еще
و در به از که این آن را با برای تا یا هم اما اگر چه چی چیه کدام کی آیا است هست هستند بود
می من ما شما او آنها ها های یک لطفا لطفاً بگویید بگید سلام ممنون مرسی دارد دارند داره
خواهم میخواهم بدانم
في من على الى إلى عن مع هل ما ماذا هو هي هذا هذه ذلك تلك التي الذي أن ان إن او أو ثم لا
نعم كل بعض انا أنا نحن انت أنت انتم لكم لي عندكم عند يوجد هناك يكون كان من فضلك لو سمحت
مرحبا شكرا اريد أريد اعرف أعرف
"""
STOP_TERMS: frozenset[str] = frozenset(tokens(_STOP_WORDS))
