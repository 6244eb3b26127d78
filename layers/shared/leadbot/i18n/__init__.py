"""Message catalogs (en, fa, ar, ru) and `t(key, lang, **kw)`: no user-facing string in code."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Formatter

from leadbot.domain import Language

_CATALOGS = Path(__file__).with_name("catalogs")


class MissingMessage(KeyError):
    """A key is missing from a catalog: a bug the catalog test catches before it ships."""


@cache
def catalog(lang: Language) -> dict[str, str]:
    with (_CATALOGS / f"{lang.value}.json").open(encoding="utf-8") as f:
        data: dict[str, str] = json.load(f)
    return data


def t(key: str, lang: Language, **kw: object) -> str:
    """The message `key` in `lang`, with placeholders filled."""
    try:
        template = catalog(lang)[key]
    except KeyError:
        raise MissingMessage(f"{key!r} is missing from the {lang.value} catalog") from None
    return template.format(**kw) if kw else template


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field}
