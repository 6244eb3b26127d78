"""GET /c/{token} in-process on moto and DynamoDB Local: counted views, redirects, and 404s."""

from __future__ import annotations

import base64
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from pynamodb.exceptions import PutError
from ulid import ULID

from leadbot.config import settings
from leadbot.domain import Channel, Language, Lead, LeadNotFound, Tenant, TimelineKind
from leadbot.i18n import t
from leadbot.links import CatalogLink, encode_link
from leadbot.services.catalog import signing_key
from local.seed import DEMO_CATALOGS
from tests.support import InProcessStack, Updates

MARINA, PRICES = DEMO_CATALOGS


def _lead(stack: InProcessStack, chat_id: int, tenant_id: str = "demo") -> Lead:
    key = stack.repos.identities.key(tenant_id, Channel.TELEGRAM, str(chat_id))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return stack.repos.leads.get(tenant_id, lead_id)


def _buttons(stack: InProcessStack, chat_id: int) -> list[dict[str, str]]:
    """The URL buttons of the last message to the lead that had any."""
    for call in reversed(stack.sent(chat_id)):
        rows = call["payload"].get("reply_markup", {}).get("inline_keyboard", [])
        buttons = [button for row in rows for button in row if "url" in button]
        if buttons:
            return buttons
    raise AssertionError(f"no URL buttons were sent to {chat_id}")


def _header(response: dict[str, Any], name: str) -> str:
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    values: list[str] = headers.get(name.lower(), [])
    assert len(values) == 1, (name, response)
    return values[0]


def _token(link: CatalogLink) -> str:
    return encode_link(signing_key(), link)


# Given a lead who qualified, when it opens the catalog buttons it was sent,
# then each request counts one view and redirects to that brochure.
def test_each_open_of_a_catalog_link_counts_one_view_and_redirects(stack: InProcessStack) -> None:
    chat = 700_000_201
    stack.qualify(Updates(chat))
    before = _lead(stack, chat)
    buttons = _buttons(stack, chat)
    assert [b["text"] for b in buttons] == [MARINA.title, PRICES.title]
    # No PUBLIC_API_URL: the links point where the webhook call came in (host and stage).
    assert all(b["url"].startswith("https://127.0.0.1/local/c/") for b in buttons)
    assert all(len(b["url"].rsplit("/", 1)[1]) <= 100 for b in buttons)

    response = stack.open_link(buttons[0]["url"])
    assert response["statusCode"] == 302
    assert _header(response, "Location") == MARINA.url
    assert _header(response, "Cache-Control") == "no-store"
    after = _lead(stack, chat)
    assert (after.catalog_views, after.messages_count) == (1, before.messages_count)
    assert after.version == (before.version or 0) + 1
    assert after.last_catalog_view_at is not None and after.last_catalog_view_at > before.updated_at
    assert after.updated_at == after.last_catalog_view_at

    assert _header(stack.open_link(buttons[0]["url"]), "Location") == MARINA.url
    assert _header(stack.open_link(buttons[1]["url"]), "Location") == PRICES.url
    assert _lead(stack, chat).catalog_views == 3
    views = [
        e.detail
        for e in stack.repos.timeline.history("demo", after.lead_id)
        if e.kind is TimelineKind.EVENT and e.text == "catalog_view"
    ]
    assert views == [{"catalog_id": c.catalog_id} for c in (MARINA, MARINA, PRICES)]


def test_the_webhooks_next_save_never_writes_over_a_counted_view(stack: InProcessStack) -> None:
    chat = 700_000_202
    lead = Updates(chat)
    stack.qualify(lead)
    stack.open_link(_buttons(stack, chat)[0]["url"])
    assert stack.post(lead.text("When can I see it?"))["statusCode"] == 200
    saved = _lead(stack, chat)
    assert (saved.catalog_views, saved.messages_count) == (1, 10)


def test_asking_for_the_brochure_later_offers_the_links_again(stack: InProcessStack) -> None:
    chat = 700_000_203
    lead = Updates(chat)
    stack.qualify(lead)
    stack.post(lead.text("Can you send me the brochure again?"))
    assert stack.last_text(chat) == t("catalog.offer", Language.EN)
    assert stack.open_link(_buttons(stack, chat)[1]["url"])["statusCode"] == 302
    assert _lead(stack, chat).catalog_views == 1


def test_links_use_the_public_api_url_when_it_is_set(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_API_URL", "https://api.demo-agency.example/")
    settings.cache_clear()
    chat = 700_000_204
    stack.qualify(Updates(chat))
    url = _buttons(stack, chat)[0]["url"]
    assert url.startswith("https://api.demo-agency.example/c/")
    assert stack.open_link(url)["statusCode"] == 302


@pytest.mark.parametrize(
    ("method", "agent"),
    [
        ("HEAD", "curl/8.5.0"),
        ("GET", "TelegramBot (like TwitterBot)"),
        ("GET", "WhatsApp/2.24.1 A"),
        ("GET", "facebookexternalhit/1.1"),
    ],
)
def test_link_checkers_and_preview_bots_are_answered_but_not_counted(
    stack: InProcessStack, method: str, agent: str
) -> None:
    chat = 700_000_205
    stack.qualify(Updates(chat))
    response = stack.open_link(_buttons(stack, chat)[0]["url"], method, {"User-Agent": agent})
    assert response["statusCode"] == 302
    assert _header(response, "Location") == MARINA.url
    assert _lead(stack, chat).catalog_views == 0


def _flip(token: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _refused(stack: InProcessStack, lead: Lead, case: str) -> str:
    """A token of `case`'s kind, for `lead` where it takes a lead."""
    own = CatalogLink(tenant_id="demo", lead_id=lead.lead_id, catalog_id=MARINA.catalog_id)
    if case == "garbage":
        return "not-a-token"
    if case == "tampered-lead":
        return _flip(_token(own), 5)
    if case == "tampered-signature":
        return _flip(_token(own), -1)
    if case == "truncated":
        return _token(own)[:-4]
    if case == "other-key":
        return encode_link(b"another deployment's key!", own)
    if case == "forged-tenant":
        # Demo's token with its tenant bytes rewritten to name "palm": same MAC, other tenant.
        raw = base64.urlsafe_b64decode(_token(own) + "==")
        forged = raw[:18] + b"palm" + raw[22:]
        return base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    if case == "other-tenant":
        # Signed for palm, which has the same catalogs but not this lead.
        return _token(replace(own, tenant_id="palm"))
    if case == "unknown-lead":
        return _token(replace(own, lead_id=str(ULID())))
    if case == "unknown-catalog":
        return _token(replace(own, catalog_id="penthouses"))
    if case == "unknown-tenant":
        return _token(replace(own, tenant_id="nobody"))
    if case == "inactive-tenant":
        return _token(replace(own, tenant_id="closed"))
    raise AssertionError(case)


REFUSED = [
    "garbage",
    "tampered-lead",
    "tampered-signature",
    "truncated",
    "other-key",
    "forged-tenant",
    "other-tenant",
    "unknown-lead",
    "unknown-catalog",
    "unknown-tenant",
    "inactive-tenant",
]


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_link_is_a_404_and_counts_nothing(stack: InProcessStack, case: str) -> None:
    demo = stack.repos.tenants.get("demo")
    stack.repos.tenants.put(Tenant(tenant_id="palm", name="Palm Realty", catalogs=demo.catalogs))
    stack.repos.tenants.put(
        Tenant(tenant_id="closed", name="Closed Realty", catalogs=demo.catalogs, active=False)
    )
    chat = 700_000_206
    stack.post(Updates(chat).text("/start"))
    before = _lead(stack, chat)
    token = _refused(stack, before, case)

    response = stack.open_link(token)
    assert response["statusCode"] == 404
    assert response["body"] == t("catalog.link_invalid", Language.EN)
    assert _header(response, "Content-Type").startswith("text/plain")
    assert _header(response, "Cache-Control") == "no-store"
    assert "Location" not in (response.get("multiValueHeaders") or {})
    after = _lead(stack, chat)
    assert (after.catalog_views, after.version) == (0, before.version)
    for tenant_id in ("palm", "closed"):  # nothing was created for another tenant either
        with pytest.raises(LeadNotFound):
            stack.repos.leads.get(tenant_id, before.lead_id)
    events = [e for e in stack.repos.timeline.history("demo", before.lead_id) if e.kind == "event"]
    assert events == []


def test_a_404_speaks_the_browsers_language(stack: InProcessStack) -> None:
    response = stack.open_link("bad", headers={"Accept-Language": "de-DE,fa;q=0.8,en;q=0.5"})
    assert response["body"] == t("catalog.link_invalid", Language.FA)


def test_an_unknown_lead_is_not_created_by_its_link(stack: InProcessStack) -> None:
    lead_id = str(ULID())
    link = CatalogLink(tenant_id="demo", lead_id=lead_id, catalog_id=MARINA.catalog_id)
    assert stack.open_link(_token(link))["statusCode"] == 404
    with pytest.raises(LeadNotFound):
        stack.repos.leads.get("demo", lead_id)


def test_a_timeline_outage_after_counting_still_redirects_and_counts_once(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chat = 700_000_207
    stack.post(Updates(chat).text("/start"))
    lead = _lead(stack, chat)

    def refuse(*_: object) -> None:
        raise PutError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(stack.repos.timeline, "_write", refuse)
    link = CatalogLink(tenant_id="demo", lead_id=lead.lead_id, catalog_id=PRICES.catalog_id)
    with caplog.at_level(logging.ERROR):
        response = stack.open_link(_token(link))
    assert response["statusCode"] == 302
    assert _lead(stack, chat).catalog_views == 1
    assert any(r.getMessage().startswith("timeline write failed") for r in caplog.records)


def test_clicks_racing_with_messages_lose_no_count(ddblocal_stack: InProcessStack) -> None:
    """Counter ADDs and the webhook's versioned saves interleave; neither overwrites the other."""
    stack = ddblocal_stack
    chat = 700_000_208
    lead = Updates(chat)
    stack.qualify(lead)
    url = _buttons(stack, chat)[0]["url"]
    messages = [lead.text(f"question {n}") for n in range(10)]
    clicks = 12

    def message(update: dict[str, Any]) -> None:
        # A message that lost every optimistic-locking race is refused with 503 and
        # redelivered, as Telegram does.
        while (status := stack.post(update)["statusCode"]) != 200:
            assert status == 503

    def click(_: int) -> int:
        status: int = stack.open_link(url)["statusCode"]
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = [pool.submit(message, update) for update in messages]
        opened = [pool.submit(click, n) for n in range(clicks)]
        for future in sent:
            future.result()
        assert [future.result() for future in opened] == [302] * clicks

    saved = _lead(stack, chat)
    assert (saved.catalog_views, saved.messages_count) == (clicks, 9 + len(messages))
    views = [e for e in stack.repos.timeline.history("demo", saved.lead_id) if e.kind == "event"]
    assert sum(e.text == "catalog_view" for e in views) == clicks
