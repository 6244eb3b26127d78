"""Tracked catalog links: made for the conversation, opened (and counted) by GET /c/{token}."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from leadbot import clock
from leadbot.config import settings
from leadbot.domain import (
    Language,
    LeadNotFound,
    LinkNotFound,
    TenantNotFound,
    TimelineEntry,
    TimelineKind,
)
from leadbot.i18n import t
from leadbot.links import CatalogLink, encode_link, verify_link
from leadbot.services.runtime import repositories, secret
from leadbot.store import TimelineUnavailable

log = logging.getLogger(__name__)

# Fetchers that open a link to draw its preview when a lead pastes it into a chat; their GET is
# not a lead looking at the catalog. Matched case-insensitively anywhere in the User-Agent.
LINK_PREVIEW_AGENTS = (
    "telegrambot",
    "whatsapp",
    "facebookexternalhit",
    "twitterbot",
    "slackbot",
    "discordbot",
    "linkedinbot",
    "skypeuripreview",
)
CATALOG_VIEW = "catalog_view"  # the Timeline event of a counted view


def signing_key() -> bytes:
    """The deployment's link-signing key (SSM SecureString, cached by the secrets reader)."""
    return secret(settings().signing_key_param).encode()


def public_base_url(request_context: Mapping[str, Any] | None) -> str:
    """Where leads reach the API: PUBLIC_API_URL, else the host and stage an event came through.

    The derived address is right for the execute-api domain; a custom domain whose base path
    mapping hides the stage needs PUBLIC_API_URL. "" when neither is known (no links then).
    """
    configured = settings().public_api_url
    if configured:
        return configured.rstrip("/")
    context = request_context or {}
    domain, stage = context.get("domainName"), context.get("stage")
    return f"https://{domain}/{stage}" if domain and stage else ""


def catalog_urls(tenant_id: str, base: str) -> Callable[[str, str], str] | None:
    """The conversation's link maker for one tenant, or None without an address to link to.

    The key is read only when a link is actually made, so ordinary messages cost no secret read.
    """
    if not base:
        return None

    def catalog_url(lead_id: str, catalog_id: str) -> str:
        link = CatalogLink(tenant_id=tenant_id, lead_id=lead_id, catalog_id=catalog_id)
        return f"{base}/c/{encode_link(signing_key(), link)}"

    return catalog_url


def is_link_preview(user_agent: str | None) -> bool:
    agent = (user_agent or "").casefold()
    return any(bot in agent for bot in LINK_PREVIEW_AGENTS)


def open_catalog(token: str, *, count: bool, now: datetime | None = None) -> str:
    """The brochure URL a token opens, after counting a view for its lead when `count`.

    LinkNotFound, counting nothing, if the token is not ours or names a tenant that is gone or
    inactive, a catalog the tenant no longer has, or a lead that does not exist.
    """
    try:
        return _open(token, count, now or clock.now())
    except LinkNotFound as exc:
        log.info("catalog link refused: %s", exc)
        raise


def _open(token: str, count: bool, now: datetime) -> str:
    link = verify_link(signing_key(), token)
    repos = repositories()
    try:
        tenant = repos.tenants.get(link.tenant_id)
    except TenantNotFound:
        raise LinkNotFound(f"unknown tenant {link.tenant_id}") from None
    if not tenant.active:
        raise LinkNotFound(f"inactive tenant {tenant.tenant_id}")
    catalog = tenant.catalog(link.catalog_id)
    if catalog is None:
        raise LinkNotFound(f"{tenant.tenant_id} has no catalog {link.catalog_id}")
    if not count:
        return catalog.url
    try:
        repos.leads.count_catalog_view(tenant.tenant_id, link.lead_id, now)
    except LeadNotFound:
        raise LinkNotFound(f"{tenant.tenant_id} has no lead {link.lead_id}") from None
    entry = TimelineEntry(
        kind=TimelineKind.EVENT,
        at=now,
        text=CATALOG_VIEW,
        detail={"catalog_id": catalog.catalog_id},
    )
    try:
        repos.timeline.append(tenant.tenant_id, link.lead_id, [entry])
    except TimelineUnavailable as exc:
        # The view is counted: failing now would make the lead retry and count it twice.
        log.error(
            "timeline write failed: %s",
            exc,
            extra={"tenant_id": tenant.tenant_id, "lead_id": link.lead_id, "entry": CATALOG_VIEW},
        )
    return catalog.url


def link_invalid_text(accept_language: str | None) -> str:
    """What a browser shows for a bad link, in the first of the lead's languages we speak."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().split("-")[0].casefold()
        language = next((lang for lang in Language if lang.value == code), None)
        if language is not None:
            return t("catalog.link_invalid", language)
    return t("catalog.link_invalid", Language.EN)
