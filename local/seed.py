"""The demo agencies of the local stack and the tests: ids and secrets are a public contract."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace

from leadbot.domain import Catalog, Tenant
from leadbot.services.runtime import Repositories

DEMO_TENANT_ID = "demo"
DEMO_TELEGRAM_SECRET = "demo-telegram-secret"
DEMO_ADMIN_CHAT = "900000001"
DEMO_BOT_TOKEN = "100000001:demo-bot-token"
# LINK_SIGNING_KEY_PARAM of the local stack (template.yaml with Env=local) and of the tests.
LINK_SIGNING_KEY_PARAM = "/leadbot/local/link-signing-key"
DEMO_CATALOGS = (
    Catalog(
        catalog_id="marina-residences",
        title="🏙 Marina Residences brochure",
        url="https://demo-agency.example/brochures/marina-residences.pdf",
    ),
    Catalog(
        catalog_id="price-list",
        title="💰 Price list 2026",
        url="https://demo-agency.example/brochures/price-list-2026.pdf",
    ),
)


def _param(tenant_id: str, name: str) -> str:
    return f"/leadbot/local/tenants/{tenant_id}/{name}"


def demo_tenant(dashboard_url: str = "") -> Tenant:
    return Tenant(
        tenant_id=DEMO_TENANT_ID,
        name="Demo Realty",
        currency="AED",
        phone_region="AE",
        timezone="Asia/Dubai",
        admin_chats=(DEMO_ADMIN_CHAT,),
        dashboard_url=dashboard_url,
        telegram_bot_token_param=_param(DEMO_TENANT_ID, "telegram_bot_token"),
        telegram_secret_param=_param(DEMO_TENANT_ID, "telegram_webhook_secret"),
        catalogs=DEMO_CATALOGS,
    )


def demo_secrets(stored: Mapping[str, str] | None = None) -> dict[str, str]:
    """What SSM holds in AWS, for the file-backed secrets of the local stack.

    The link-signing key is generated, once: a key already in `stored` is kept, so links sent
    before a restart still open.
    """
    key = (stored or {}).get(LINK_SIGNING_KEY_PARAM) or secrets.token_urlsafe(32)
    return {
        _param(DEMO_TENANT_ID, "telegram_bot_token"): DEMO_BOT_TOKEN,
        _param(DEMO_TENANT_ID, "telegram_webhook_secret"): DEMO_TELEGRAM_SECRET,
        LINK_SIGNING_KEY_PARAM: key,
    }


def seed(repos: Repositories, dashboard_url: str = "") -> None:
    """Create the demo tenant unless it exists (restarts keep admins registered since).

    A demo tenant made before catalogs existed gets the demo catalogs.
    """
    from leadbot.domain import TenantNotFound

    try:
        tenant = repos.tenants.get(DEMO_TENANT_ID)
    except TenantNotFound:
        repos.tenants.put(demo_tenant(dashboard_url))
        return
    if not tenant.catalogs:
        repos.tenants.put(replace(tenant, catalogs=DEMO_CATALOGS))
