"""Ways to reach a person as sheets and agents write them: emails, LinkedIn profiles, languages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from leadbot.domain import Language
from leadbot.parsing.language import language_from_code

_EMAIL = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}$")
_LINKEDIN_PATH = re.compile(r"^/(in|pub)/([^/?#]+)")
_LANGUAGE_NAMES = {
    "english": Language.EN,
    "persian": Language.FA,
    "farsi": Language.FA,
    "فارسی": Language.FA,
    "arabic": Language.AR,
    "العربية": Language.AR,
    "russian": Language.RU,
    "русский": Language.RU,
}


def parse_email(text: str) -> str | None:
    """The address in lower case (mailboxes are case-blind in practice), or None if not one."""
    candidate = text.strip().removeprefix("mailto:").strip().lower()
    return candidate if _EMAIL.match(candidate) else None


def parse_linkedin(text: str) -> str | None:
    """A LinkedIn profile URL as `linkedin.com/in/<slug>`, whatever the scheme, country
    subdomain, query or trailing slash; None unless it is a profile link."""
    raw = text.strip()
    if not raw:
        return None
    parts = urlsplit(raw if "//" in raw else f"https://{raw}")
    host = (parts.hostname or "").lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        return None
    found = _LINKEDIN_PATH.match(parts.path)
    if found is None:
        return None
    kind, slug = found.groups()
    return f"linkedin.com/{kind}/{slug.lower()}"


def parse_language(text: str) -> Language | None:
    """A language by code ("fa", "ru-RU") or by name ("Farsi", "Русский")."""
    cleaned = text.strip()
    return _LANGUAGE_NAMES.get(cleaned.casefold()) or language_from_code(cleaned)
