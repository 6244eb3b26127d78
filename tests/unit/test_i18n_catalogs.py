"""Every catalog mirrors en.json: same keys, same placeholders, short buttons, the right script."""

from __future__ import annotations

import pytest

from leadbot.domain import Language
from leadbot.i18n import MissingMessage, catalog, placeholders, t

CHOICE_PREFIXES = (
    "goal.",
    "property_type.",
    "timeline.",
    "bedrooms.",
    "payment.",
    "unit.",
    "listing.button.",
)
MAX_LABEL = 20  # button labels must fit a phone screen (Telegram/WhatsApp)

ARABIC_YEH, ARABIC_KAF = "\u064a", "\u0643"  # ي ك
PERSIAN_YEH, PERSIAN_KEHEH = "\u06cc", "\u06a9"  # ی ک

LANGUAGES = list(Language)


def _is_choice_label(key: str) -> bool:
    return key.startswith(CHOICE_PREFIXES) and not key.endswith((".ask", ".hint"))


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_same_keys_as_english(lang: Language) -> None:
    en, other = catalog(Language.EN), catalog(lang)
    assert set(other) - set(en) == set(), "keys not in en.json"
    assert set(en) - set(other) == set(), "keys missing from the catalog"


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_same_key_order_as_english(lang: Language) -> None:
    assert list(catalog(lang)) == list(catalog(Language.EN))


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_same_placeholders_as_english(lang: Language) -> None:
    en = catalog(Language.EN)
    wrong = {
        key: (sorted(placeholders(value)), sorted(placeholders(en[key])))
        for key, value in catalog(lang).items()
        if key in en and placeholders(value) != placeholders(en[key])
    }
    assert wrong == {}


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_no_empty_values(lang: Language) -> None:
    empty = [key for key, value in catalog(lang).items() if not value.strip()]
    assert empty == []


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_choice_labels_fit_a_button(lang: Language) -> None:
    labels = {key: value for key, value in catalog(lang).items() if _is_choice_label(key)}
    assert labels, "no choice labels found"
    too_long = {key: value for key, value in labels.items() if len(value) > MAX_LABEL}
    assert too_long == {}


def test_language_names_are_endonyms_in_every_catalog() -> None:
    en = catalog(Language.EN)
    names = {key: value for key, value in en.items() if key.startswith("language.name.")}
    assert set(names) == {f"language.name.{lang.value}" for lang in Language}
    for lang in Language:
        assert {key: catalog(lang)[key] for key in names} == names


def test_t_fills_placeholders() -> None:
    for lang in Language:
        text = t("welcome", lang, agency="Palm Realty")
        assert "Palm Realty" in text
        assert "{agency}" not in text


def test_t_returns_template_without_kwargs() -> None:
    assert t("alert.none", Language.EN) == catalog(Language.EN)["alert.none"]


def test_t_fills_every_placeholder_of_the_alert() -> None:
    values = {name: f"<{name}>" for name in placeholders(catalog(Language.EN)["alert.hot_lead"])}
    for lang in Language:
        text = t("alert.hot_lead", lang, **values)
        assert all(value in text for value in values.values())
        assert "{" not in text


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_t_raises_for_an_unknown_key(lang: Language) -> None:
    with pytest.raises(MissingMessage):
        t("no.such.key", lang)


def test_missing_message_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        t("no.such.key", Language.EN)


def _with_letters(lang: Language, letters: tuple[str, ...]) -> dict[str, str]:
    """Values holding any of `letters`, except the endonyms (fa.json names العربية with ي)."""
    return {
        key: value
        for key, value in catalog(lang).items()
        if not key.startswith("language.name.") and any(letter in value for letter in letters)
    }


def test_persian_uses_persian_letters() -> None:
    wrong = _with_letters(Language.FA, (ARABIC_YEH, ARABIC_KAF))
    assert wrong == {}, "use ی (U+06CC) and ک (U+06A9) in Persian"


def test_arabic_uses_arabic_letters() -> None:
    wrong = _with_letters(Language.AR, (PERSIAN_YEH, PERSIAN_KEHEH))
    assert wrong == {}, "use ي (U+064A) and ك (U+0643) in Arabic"


def test_endonyms_use_their_own_letters() -> None:
    en = catalog(Language.EN)
    assert not {ARABIC_YEH, ARABIC_KAF} & set(en["language.name.fa"])
    assert not {PERSIAN_YEH, PERSIAN_KEHEH} & set(en["language.name.ar"])


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_language_changed_names_its_own_language(lang: Language) -> None:
    own_name = catalog(lang)[f"language.name.{lang.value}"]
    assert own_name.casefold() in catalog(lang)["language.changed"].casefold()
