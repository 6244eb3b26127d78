"""The WhatsApp webhook use case: Meta's subscription check, then every message once, in order.

One callback URL serves every agency's business number: a body is routed by the
`phone_number_id` its changes name, and its signature must hold under the app secret of every
agency it routes to (DESIGN.md §9). Messages run through the same conversation as Telegram's;
statuses only update the delivery of the message they name, in Timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from leadbot.channels.whatsapp import (
    Body,
    OutsideWindow,
    Received,
    StatusUpdate,
    Unrouted,
    ValidationError,
    WhatsAppClient,
    can_send_free_text,
    parse_body,
    phone_number_ids,
    to_items,
    valid_signature,
    verification_challenge,
)
from leadbot.channels.whatsapp.signature import SIGNATURE_HEADER
from leadbot.config import settings
from leadbot.domain import (
    Channel,
    Delivery,
    DeliveryStatus,
    InboundEvent,
    Lead,
    Outbound,
    Tenant,
    TenantNotFound,
    WhatsAppTemplate,
)
from leadbot.services.answers import answerer
from leadbot.services.catalog import catalog_urls, public_base_url
from leadbot.services.errors import BadRequest, Forbidden, Unauthorized
from leadbot.services.inbound import Messenger, handle_event
from leadbot.services.runtime import fresh_secret, http_client, repositories, secret
from leadbot.services.voice import transcribing
from leadbot.services.webhooks import header, raw_body, run_once

log = logging.getLogger(__name__)


def verify_subscription(query: Mapping[str, str] | None) -> str:
    """GET /whatsapp: the `hub.challenge` to echo when Meta subscribes with an agency's verify
    token; Forbidden (403) for anything else."""
    query = query or {}
    token = query.get("hub.verify_token") or ""
    tenant_id = repositories().tenants.by_verify_token(token) if token else None
    tenant = _tenant(tenant_id) if tenant_id else None
    param = tenant.whatsapp_verify_token_param if tenant else ""
    challenge = verification_challenge(query, secret(param) if param else "")
    if challenge is None:
        raise Forbidden("not a subscription request with a known verify token")
    return challenge


@dataclass(frozen=True)
class Accepted:
    """A signed body and the agencies it speaks for, by business number."""

    body: Body
    tenants: Mapping[str, Tenant] = field(default_factory=dict)


def accept_body(
    headers: Mapping[str, str] | None, body: str | None, base64_encoded: bool = False
) -> Accepted:
    """Read, parse and authenticate a POST: 413 over 1 MB, 401 without a signature or when it
    fails any routed agency's app secret, 400 when it is not a webhook body.

    A body naming only numbers no agency owns cannot be checked (no secret to check it with)
    and is acknowledged without acting on it: Meta would otherwise retry it for days.
    """
    raw = raw_body(body, base64_encoded)
    signature = header(headers, SIGNATURE_HEADER)
    if not signature:
        raise Unauthorized("no X-Hub-Signature-256")
    try:
        parsed = parse_body(raw)
    except ValidationError as exc:
        raise BadRequest(f"not a WhatsApp webhook body: {exc.error_count()} error(s)") from None
    tenants: dict[str, Tenant] = {}
    for number in phone_number_ids(parsed):
        tenant_id = repositories().tenants.by_whatsapp_number(number)
        tenant = _tenant(tenant_id) if tenant_id else None
        if tenant is not None and tenant.active:
            tenants[number] = tenant
    for tenant in {t.tenant_id: t for t in tenants.values()}.values():
        param = tenant.whatsapp_app_secret_param
        if valid_signature(secret(param) if param else "", raw, signature):
            continue
        # Just rotated (`leadbot.admin tenant rotate-secret`)? The cached value may be the old.
        fresh = fresh_secret(param) if param else None
        if not fresh or not valid_signature(fresh, raw, signature):
            raise Unauthorized("signature does not match the app secret")
    return Accepted(body=parsed, tenants=tenants)


def process_body(
    accepted: Accepted,
    lambda_context: Any = None,
    request_context: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Every message once (Powertools idempotency per message id: Meta retries), every status,
    in the order of the body; counts of each for the log.

    A message that cannot be handled now (RetryLater) fails the whole call, so Meta redelivers
    the body; the messages handled before it are not handled twice.
    """
    routes = {number: tenant.tenant_id for number, tenant in accepted.tenants.items()}
    counts = {"messages": 0, "statuses": 0, "unrouted": 0}
    link_base = public_base_url(request_context)
    for item in to_items(accepted.body, routes):
        if isinstance(item, Received):
            run_once(_process, item.event, lambda_context, link_base=link_base)
            counts["messages"] += 1
        elif isinstance(item, StatusUpdate):
            record_status(accepted.tenants[item.phone_number_id], item)
            counts["statuses"] += 1
        elif isinstance(item, Unrouted):
            log.warning(
                "WhatsApp number not routed to any agency",
                extra={
                    "phone_number_id": item.phone_number_id,
                    "messages": item.messages,
                    "statuses": item.statuses,
                },
            )
            counts["unrouted"] += 1
    return counts


def record_status(tenant: Tenant, status: StatusUpdate) -> bool:
    """What Meta says became of a message we sent, onto that message's Timeline entry."""
    stored = repositories().timeline.update_delivery(
        tenant.tenant_id,
        Channel.WHATSAPP,
        status.message_id,
        _DELIVERY.get(status.status, DeliveryStatus.FAILED),
        status.at,
        error=status.error_title,
        error_code=status.error_code,
    )
    if not stored:
        log.info(
            "status for no known message, or older than what is stored",
            extra={"message_id": status.message_id, "status": status.status},
        )
    return stored


_DELIVERY = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def reach(tenant: Tenant, lead: Lead, outbound: Outbound, now: datetime) -> Delivery:
    """Send to a WhatsApp lead outside a conversation (an agent's message, a follow-up):
    free text within 24 h of the lead's last message, else the agency's approved template in
    the lead's language; OutsideWindow when there is none to send."""
    return reach_lead(tenant, lead, outbound, now)[0]


def reach_lead(
    tenant: Tenant, lead: Lead, outbound: Outbound, now: datetime
) -> tuple[Delivery, WhatsAppTemplate | None]:
    """As `reach`, also saying which approved template went instead of `outbound` (None: the
    text itself), for the record."""
    client = whatsapp_client(tenant)
    language = lead.language or tenant.default_language
    if can_send_free_text(lead.last_inbound_at, now):
        return client.send(lead.external_id, outbound, language), None
    template = tenant.whatsapp_template(language)
    if template is None:
        raise OutsideWindow()
    values = {"name": lead.name or "", "agency": tenant.name}
    parameters = [values.get(name, "") for name in template.parameters]
    sent = client.send_template(lead.external_id, template.name, template.code, parameters)
    return sent, template


def _process(event: InboundEvent, link_base: str = "") -> dict[str, Any]:
    repos = repositories()
    tenant = repos.tenants.get(event.tenant_id)
    client = whatsapp_client(tenant)
    result = handle_event(
        event,
        tenant,
        repos,
        client,
        catalog_url=catalog_urls(tenant.tenant_id, link_base),
        alerter=lambda: _admin_messenger(tenant),
        prepare=transcribing(lambda note, limit: client.download(note.media_id, max_bytes=limit)),
        answerer=answerer(repos),
    )
    return {
        "lead_id": result.lead_id,
        "sent": [d.status.value for d in result.deliveries],
        "alerts": result.alerts_sent,
    }


def _admin_messenger(tenant: Tenant) -> Messenger | None:
    """Hot lead alerts reach admins on Telegram, where they registered with /set_admin."""
    if not tenant.telegram_bot_token_param:
        return None
    from leadbot.services.telegram import telegram_client

    return telegram_client(tenant)


def whatsapp_client(tenant: Tenant) -> WhatsAppClient:
    # By the token's value (cached 5 minutes by the secrets reader): a rotated access token is
    # used from then on, without waiting for this Lambda to be recycled.
    return _client(tenant.whatsapp_phone_number_id, secret(tenant.whatsapp_token_param))


@cache
def _client(phone_number_id: str, token: str) -> WhatsAppClient:
    s = settings()
    return WhatsAppClient(
        phone_number_id,
        token,
        http=http_client(),
        base_url=s.whatsapp_api_base,
        version=s.whatsapp_api_version,
    )


def _tenant(tenant_id: str) -> Tenant | None:
    try:
        return repositories().tenants.get(tenant_id)
    except TenantNotFound:
        return None


def reset() -> None:
    _client.cache_clear()
