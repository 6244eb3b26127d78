"""Phone numbers as leads type or share them, to E.164."""

from __future__ import annotations

import re

from leadbot.parsing.digits import normalize_digits

# What people put in a phone number; spaces but not newlines, so lines stay apart.
_RUN = re.compile(r"(?:\+|\(\+?)?[0-9][0-9 \t\u00a0().\-\u2010-\u2015]*[0-9]")
_NON_DIGIT = re.compile(r"[^0-9]")


def parse_phone(text: str, default_region: str) -> str | None:
    """Return the phone number in `text` as E.164, or None unless it is a valid number."""
    # Imported here: its metadata is heavy and most users of leadbot.parsing never need it.
    import phonenumbers

    runs = _RUN.findall(normalize_digits(text))
    if not runs:
        return None
    # A short label ("my number is") may surround the phone; the longest run of digits is it.
    run = max(runs, key=lambda r: len(_NON_DIGIT.sub("", r)))
    digits = _NON_DIGIT.sub("", run)
    if not 7 <= len(digits) <= 17:  # E.164 allows 15, plus a "00" prefix
        return None
    if "+" in run:
        candidates = ["+" + digits]
    elif digits.startswith("00"):
        candidates = ["+" + digits[2:]]
    else:
        # Telegram contact cards carry international numbers without the "+".
        candidates = [digits, "+" + digits]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, default_region.upper() or None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return e164
    return None


def phone_time_zone(phone: str) -> str | None:
    """The IANA time zone an E.164 number belongs to: the first phonenumbers names for it
    (a mobile number can span a country's zones), or None when it names none."""
    import phonenumbers
    from phonenumbers import timezone

    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None
    zones = timezone.time_zones_for_number(number)
    first = zones[0] if zones else None
    return None if first in (None, timezone.UNKNOWN_TIMEZONE) else first
