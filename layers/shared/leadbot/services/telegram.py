"""The Telegram webhook use case: verify the tenant's secret, parse, process each update once."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from leadbot import clock
from leadbot.channels.telegram import (
    TelegramClient,
    Update,
    ValidationError,
    parse_update,
    to_inbound,
    webhook_answer,
)
from leadbot.config import settings
from leadbot.domain import EventKind, InboundEvent, Tenant, TenantNotFound
from leadbot.services.answers import answerer
from leadbot.services.catalog import catalog_urls, public_base_url
from leadbot.services.errors import BadRequest, Unauthorized
from leadbot.services.inbound import handle_event
from leadbot.services.runtime import fresh_secret, http_client, repositories, secret
from leadbot.services.voice import transcribing
from leadbot.services.webhooks import header, raw_body, run_once

SECRET_HEADER = "x-telegram-bot-api-secret-token"
# The outcome's key for the Bot API method the webhook answers with, for Telegram to run.
WEBHOOK_ANSWER = "webhook_answer"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def accept_update(
    tenant_id: str,
    headers: Mapping[str, str] | None,
    body: str | None,
    base64_encoded: bool = False,
) -> tuple[Tenant, Update]:
    """Verify and parse a webhook call: Unauthorized 401, PayloadTooLarge 413, BadRequest 400."""
    raw = raw_body(body, base64_encoded)
    tenant = _verified_tenant(tenant_id, header(headers, SECRET_HEADER))
    try:
        return tenant, parse_update(raw)
    except ValidationError as exc:
        raise BadRequest(f"not a Telegram Update: {exc.error_count()} error(s)") from None


def process_update(
    tenant: Tenant,
    update: Update,
    lambda_context: Any = None,
    request_context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Handle one verified update exactly once per update_id (Powertools idempotency).

    `request_context` is the API Gateway event's: catalog links point back at the API it names
    unless PUBLIC_API_URL says otherwise. A pressed button's answerCallbackQuery comes back
    under WEBHOOK_ANSWER, for the handler to answer the webhook with: Telegram runs it, so the
    button stops spinning once the update is handled, one Bot API call fewer per press.
    """
    if not tenant.active:
        # Disabled by ops: acknowledged (Telegram would retry otherwise), nothing done.
        return {"ignored": True, "reason": "tenant disabled"}
    event = to_inbound(tenant.tenant_id, update, clock.now())
    if event is None:
        return {"ignored": True}
    answer = {WEBHOOK_ANSWER: webhook_answer(event.receipt_id)} if event.receipt_id else {}
    link_base = public_base_url(request_context)
    event = replace(event, receipt_id="")
    return run_once(_process, event, lambda_context, link_base=link_base) | answer


def _process(event: InboundEvent, link_base: str = "") -> dict[str, Any]:
    repos = repositories()
    tenant = repos.tenants.get(event.tenant_id)
    messenger = telegram_client(tenant)
    if event.kind is EventKind.SET_ADMIN:
        from leadbot.services import admin  # once per agency admin, not on a cold start

        return admin.register_admin_chat(tenant, event, repos, messenger)
    links = catalog_urls(tenant.tenant_id, link_base)
    voice = transcribing(lambda note, limit: messenger.download_file(note.media_id, limit))
    result = handle_event(
        event,
        tenant,
        repos,
        messenger,
        catalog_url=links,
        prepare=voice,
        answerer=answerer(repos),
    )
    return {
        "lead_id": result.lead_id,
        "sent": [d.status.value for d in result.deliveries],
        "alerts": result.alerts_sent,
    }


def telegram_client(tenant: Tenant) -> TelegramClient:
    # By the token's value (cached 5 minutes by the secrets reader): a rotated token is used
    # from then on, without waiting for this Lambda to be recycled.
    return _client(secret(tenant.telegram_bot_token_param))


def bot_client(token: str) -> TelegramClient:
    """A bot's client by its token (ops: setWebhook, getWebhookInfo), over the same HTTP."""
    return _client(token)


@cache
def _client(token: str) -> TelegramClient:
    return TelegramClient(token, http=http_client(), base_url=settings().telegram_api_base)


def _verified_tenant(tenant_id: str, given: str) -> Tenant:
    if not TENANT_ID.fullmatch(tenant_id) or not given:
        raise Unauthorized("unknown tenant or bad secret token")
    try:
        tenant = repositories().tenants.get(tenant_id)
    except TenantNotFound:
        raise Unauthorized("unknown tenant or bad secret token") from None
    param = tenant.telegram_secret_param
    expected = secret(param) if param else ""
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        return tenant
    # Just rotated (`leadbot.admin tenant rotate-secret`)? The cached value may be the old one.
    fresh = fresh_secret(param) if param else None
    if fresh and hmac.compare_digest(given.encode(), fresh.encode()):
        return tenant
    raise Unauthorized("unknown tenant or bad secret token")


def reset() -> None:
    _client.cache_clear()
