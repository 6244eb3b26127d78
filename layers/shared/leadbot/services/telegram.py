"""The Telegram webhook use case: verify the tenant's secret, parse, process each update once."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from leadbot.channels.telegram import (
    TelegramClient,
    Update,
    ValidationError,
    parse_update,
    to_inbound,
)
from leadbot.config import settings
from leadbot.domain import EventKind, InboundEvent, LeadConflict, Tenant, TenantNotFound
from leadbot.services import admin
from leadbot.services.catalog import catalog_urls, public_base_url
from leadbot.services.errors import BadRequest, PayloadTooLarge, RetryLater, Unauthorized
from leadbot.services.inbound import handle_event, timeline_in_background
from leadbot.services.runtime import dynamodb_client, http_client, repositories, secret

MAX_BODY_BYTES = 1024 * 1024
SECRET_HEADER = "x-telegram-bot-api-secret-token"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def accept_update(
    tenant_id: str,
    headers: Mapping[str, str] | None,
    body: str | None,
    base64_encoded: bool = False,
) -> tuple[Tenant, Update]:
    """Verify and parse a webhook call: Unauthorized 401, PayloadTooLarge 413, BadRequest 400."""
    raw = _raw_body(body, base64_encoded)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body over 1 MB")
    tenant = _verified_tenant(tenant_id, headers or {})
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
    unless PUBLIC_API_URL says otherwise.
    """
    event = to_inbound(tenant.tenant_id, update, datetime.now(UTC))
    if event is None:
        return {"ignored": True}
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    process, config = _idempotent_process()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        with timeline_in_background():  # the Timeline write overlaps Powertools' completion
            result: dict[str, Any] = process(
                event=event, link_base=public_base_url(request_context)
            )
    except IdempotencyAlreadyInProgressError:
        raise RetryLater(f"update {update['update_id']} is being processed") from None
    except LeadConflict:
        # Nothing was sent and the idempotency record is released: Telegram's redelivery is safe.
        raise RetryLater(f"update {update['update_id']} kept conflicting; retry") from None
    return result


def _process(event: InboundEvent, link_base: str = "") -> dict[str, Any]:
    repos = repositories()
    tenant = repos.tenants.get(event.tenant_id)
    messenger = telegram_client(tenant)
    if event.kind is EventKind.SET_ADMIN:
        return admin.register_admin_chat(tenant, event, repos, messenger)
    links = catalog_urls(tenant.tenant_id, link_base)
    result = handle_event(event, tenant, repos, messenger, catalog_url=links)
    return {
        "lead_id": result.lead_id,
        "sent": [d.status.value for d in result.deliveries],
        "alerts": result.alerts_sent,
    }


@cache
def _idempotent_process() -> tuple[Any, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    s = settings()
    store = DynamoDBPersistenceLayer(table_name=s.idempotency_table, boto3_client=dynamodb_client())
    config = IdempotencyConfig(
        event_key_jmespath="[tenant_id, channel, event_id]",
        expires_after_seconds=s.idempotency_seconds,
    )
    process = idempotent_function(
        data_keyword_argument="event", persistence_store=store, config=config
    )(_process)
    return process, config


def telegram_client(tenant: Tenant) -> TelegramClient:
    return _client(tenant.telegram_bot_token_param)


@cache
def _client(token_param: str) -> TelegramClient:
    return TelegramClient(
        secret(token_param), http=http_client(), base_url=settings().telegram_api_base
    )


def _raw_body(body: str | None, base64_encoded: bool) -> bytes:
    if body is None:
        raise BadRequest("empty body")
    if not base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("body is not valid base64") from None


def _verified_tenant(tenant_id: str, headers: Mapping[str, str]) -> Tenant:
    given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER), "")
    if not TENANT_ID.fullmatch(tenant_id) or not given:
        raise Unauthorized("unknown tenant or bad secret token")
    try:
        tenant = repositories().tenants.get(tenant_id)
    except TenantNotFound:
        raise Unauthorized("unknown tenant or bad secret token") from None
    expected = secret(tenant.telegram_secret_param) if tenant.telegram_secret_param else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("unknown tenant or bad secret token")
    return tenant


def reset() -> None:
    _idempotent_process.cache_clear()
    _client.cache_clear()
