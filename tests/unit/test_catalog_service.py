"""Catalog-link helpers without I/O: the public base URL, preview bots, the 404's language."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadbot.config import settings
from leadbot.domain import Language
from leadbot.i18n import t
from leadbot.services.catalog import (
    catalog_urls,
    is_link_preview,
    link_invalid_text,
    public_base_url,
)

EXECUTE_API = {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "prod"}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "TENANTS",
        "IDENTITIES",
        "LEADS",
        "TIMELINE",
        "IDEMPOTENCY",
        "BROKERS",
        "DEALS",
        "PROPERTIES",
        "KNOWLEDGE",
    ):
        monkeypatch.setenv(f"{name}_TABLE", name.title())
    monkeypatch.delenv("PUBLIC_API_URL", raising=False)
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_without_public_api_url_links_use_the_events_host_and_stage() -> None:
    assert public_base_url(EXECUTE_API) == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    assert public_base_url({"domainName": "x.example"}) == ""
    assert public_base_url(None) == ""
    assert catalog_urls("demo", "") is None  # no address, no links


def test_public_api_url_wins_without_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_API_URL", "https://api.demo-agency.example/leads/")
    settings.cache_clear()
    assert public_base_url(EXECUTE_API) == "https://api.demo-agency.example/leads"


def test_the_signing_key_parameter_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBOT_ENV", "prod")
    monkeypatch.delenv("LINK_SIGNING_KEY_PARAM", raising=False)
    settings.cache_clear()
    assert settings().signing_key_param == "/leadbot/prod/link-signing-key"
    monkeypatch.setenv("LINK_SIGNING_KEY_PARAM", "/custom/key")
    settings.cache_clear()
    assert settings().signing_key_param == "/custom/key"


@pytest.mark.parametrize(
    ("agent", "preview"),
    [
        ("TelegramBot (like TwitterBot)", True),
        ("WhatsApp/2.23.20.0", True),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", True),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile", False),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Telegram-iOS", False),
        ("", False),
        (None, False),
    ],
)
def test_link_preview_bots_are_told_apart_from_browsers(agent: str | None, preview: bool) -> None:
    assert is_link_preview(agent) is preview


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", Language.RU),
        ("de-DE, ar;q=0.7", Language.AR),
        ("FA", Language.FA),
        ("de, fr", Language.EN),
        ("", Language.EN),
        (None, Language.EN),
    ],
)
def test_the_404_text_is_in_the_first_language_we_speak(
    accept: str | None, language: Language
) -> None:
    assert link_invalid_text(accept) == t("catalog.link_invalid", language)
