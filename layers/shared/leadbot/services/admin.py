"""Admin use cases: one-time codes for `/set_admin`, registering admin chats, seeding tenants."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from leadbot import clock
from leadbot.domain import InboundEvent, Outbound, Tenant, TimelineEntry, TimelineKind
from leadbot.i18n import t
from leadbot.services.inbound import Messenger, record
from leadbot.services.runtime import Repositories
from leadbot.store import ADMIN_STREAM

ADMIN_CODE_TTL = timedelta(hours=24)


def issue_admin_code(
    repos: Repositories, tenant_id: str, now: datetime | None = None
) -> tuple[str, datetime]:
    """A fresh one-time code for `/set_admin`; only its hash is stored."""
    repos.tenants.get(tenant_id)  # TenantNotFound for a typo, before a code is printed
    code = secrets.token_urlsafe(9)
    expires = repos.identities.put_admin_code(tenant_id, code, now or clock.now(), ADMIN_CODE_TTL)
    return code, expires


def register_admin_chat(
    tenant: Tenant, event: InboundEvent, repos: Repositories, messenger: Messenger
) -> dict[str, Any]:
    """`/set_admin <code>`: a valid unused code makes this chat an admin chat; else a refusal."""
    lang = tenant.admin_language
    code = event.payload.strip()
    accepted = bool(code) and repos.identities.consume_admin_code(
        tenant.tenant_id, code, clock.now()
    )
    if accepted:
        repos.tenants.add_admin_chat(tenant.tenant_id, event.external_id)
        reply = t("admin.registered", lang, agency=tenant.name)
    else:
        reply = t("admin.usage" if not code else "admin.refused", lang)
    delivery = messenger.send(event.external_id, Outbound(text=reply))
    outcome = "admin_registered" if accepted else "admin_refused"
    record(
        repos,
        tenant.tenant_id,
        ADMIN_STREAM,
        [
            TimelineEntry(
                kind=TimelineKind.EVENT,
                at=event.at,
                channel=event.channel,
                text=outcome,
                detail={
                    "chat_id": event.external_id,
                    "name": event.name,
                    "username": event.username,
                },
                status=delivery.status,
            )
        ],
    )
    return {"admin": outcome}
