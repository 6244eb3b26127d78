"""The demo agencies of the local stack and the tests: ids and secrets are a public contract."""

from __future__ import annotations

from leadbot.domain import Tenant
from leadbot.services.runtime import Repositories

DEMO_TENANT_ID = "demo"
DEMO_TELEGRAM_SECRET = "demo-telegram-secret"
DEMO_ADMIN_CHAT = "900000001"
DEMO_BOT_TOKEN = "100000001:demo-bot-token"


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
    )


def demo_secrets() -> dict[str, str]:
    """What SSM holds in AWS, for the file-backed secrets of the local stack."""
    return {
        _param(DEMO_TENANT_ID, "telegram_bot_token"): DEMO_BOT_TOKEN,
        _param(DEMO_TENANT_ID, "telegram_webhook_secret"): DEMO_TELEGRAM_SECRET,
    }


def seed(repos: Repositories, dashboard_url: str = "") -> None:
    """Create the demo tenant unless it exists (restarts keep admins registered since)."""
    from leadbot.domain import TenantNotFound

    try:
        repos.tenants.get(DEMO_TENANT_ID)
    except TenantNotFound:
        repos.tenants.put(demo_tenant(dashboard_url))
