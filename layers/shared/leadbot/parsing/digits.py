"""Digits in any script to ASCII, so that one set of number patterns serves every language."""

from __future__ import annotations

import re

_TABLE = str.maketrans(
    {
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian ۰-۹
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic ٠-٩
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
        # Bidi marks that phones and RTL keyboards slip between digits. ZWNJ (U+200C) stays:
        # Persian words need it.
        **dict.fromkeys("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    }
)
# The Arabic comma is a thousands separator only between digits; elsewhere it is punctuation.
_ARABIC_COMMA = re.compile(r"(?<=[0-9])\u060c(?=[0-9])")


def normalize_digits(text: str) -> str:
    """Return `text` with Persian/Arabic digits and separators in ASCII and bidi marks removed."""
    text = text.translate(_TABLE)
    return _ARABIC_COMMA.sub(",", text) if "\u060c" in text else text
