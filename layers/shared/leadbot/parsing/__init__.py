"""Parsing what leads type: digits in any script, budgets, phones, language by script."""

from leadbot.parsing.budget import parse_budget
from leadbot.parsing.digits import normalize_digits
from leadbot.parsing.language import detect_script_language, language_from_code
from leadbot.parsing.phone import parse_phone

__all__ = [
    "detect_script_language",
    "language_from_code",
    "normalize_digits",
    "parse_budget",
    "parse_phone",
]
