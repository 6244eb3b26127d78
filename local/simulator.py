"""POST /_local/simulator/{tenant}/updates: the dashboard's "Try the bot" as a Telegram lead."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

import httpx

from local.auth import ExpiredToken, InvalidToken
from local.gateway import LocalEndpoint, LocalRequest, LocalResponse
from local.telegram_poll import method_answered

if TYPE_CHECKING:
    from leadbot.domain import Tenant

# What the dashboard's config.json advertises on the local stack (and only there).
UPDATES_URL: Final = "/_local/simulator/{tenant}/updates"
OUTBOX_URL: Final = "/_local/outbox"
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"

# (tenant id, raw update, webhook secret) -> the webhook's HTTP status and body.
Deliver = Callable[[str, bytes, str], tuple[int, bytes]]


@dataclass(frozen=True)
class Simulator:
    """Forwards a dashboard user's Telegram update to their own agency's webhook with the
    agency's secret, so the browser never holds it; answers what the bot sent that chat.

    `verify_token` gives a dashboard id token's claims (API Gateway's shape) or raises
    InvalidToken; `webhook_secret` the agency's webhook secret, None if it has no bot;
    `deliver` posts to the real webhook route; `outbox` is the fake Bot API's records."""

    verify_token: Callable[[str], Mapping[str, str]]
    webhook_secret: Callable[[str], str | None]
    deliver: Deliver
    outbox: Callable[[], list[dict[str, Any]]]

    def endpoint(self) -> LocalEndpoint:
        return self._serve

    def _serve(self, request: LocalRequest) -> LocalResponse:
        tenant, _, rest = unquote(request.path).strip("/").partition("/")
        if not tenant or rest != "updates":
            return LocalResponse(404, {"message": "POST /_local/simulator/{tenant}/updates"})
        if request.method != "POST":
            return LocalResponse(405, allow="POST")
        refused = self._refused(tenant, request.headers.get("authorization"))
        if refused is not None:
            return refused
        try:
            update = json.loads(request.body)
        except ValueError:
            return LocalResponse(400, {"message": "the body is not JSON"})
        if not isinstance(update, dict) or not _is_int(update.get("update_id")):
            return LocalResponse(400, {"message": "not a Telegram Update: update_id missing"})
        secret = self.webhook_secret(tenant)
        if not secret:
            return LocalResponse(409, {"message": "the agency has no Telegram bot connected"})
        chat_id = chat_of(update)
        before = len(self._for_chat(chat_id))
        status, raw = self.deliver(tenant, request.body, secret)
        answer = _json_or_text(raw)
        if not 200 <= status < 300:
            message = f"the webhook answered {status}"
            return LocalResponse(502, {"message": message, "status": status, "answer": answer})
        sent = self._for_chat(chat_id)[before:]
        return LocalResponse(
            200, {"status": status, "answer": answer, "chat_id": chat_id, "sent": sent}
        )

    def _refused(self, tenant: str, authorization: str | None) -> LocalResponse | None:
        """The dashboard user's token must name this agency, as the API's routes require."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token:
            return LocalResponse(401, {"message": "Unauthorized"})
        try:
            claims = self.verify_token(token)
        except ExpiredToken:
            return LocalResponse(401, {"message": "The incoming token has expired"})
        except InvalidToken:
            return LocalResponse(401, {"message": "Unauthorized"})
        if claims.get("custom:tenant_id") != tenant:
            # Another agency's bot is not there for this user, as another tenant's lead is a 404.
            return LocalResponse(404, {"message": "no such agency"})
        return None

    def _for_chat(self, chat_id: str | None) -> list[dict[str, Any]]:
        if chat_id is None:
            return []
        return [
            record
            for record in self.outbox()
            if record.get("channel", "telegram") == "telegram"
            and str(record.get("chat_id")) == chat_id
        ]


def chat_of(update: Mapping[str, Any]) -> str | None:
    """The private chat an update comes from: the lead's chat with the bot (None for a body
    of another shape, which the webhook refuses itself)."""
    for kind in ("message", "edited_message"):
        ident = _field(update, kind, "chat", "id")
        if ident is not None:
            return str(ident)
    ident = _field(update, "callback_query", "message", "chat", "id")
    if ident is None:
        ident = _field(update, "callback_query", "from", "id")
    return None if ident is None else str(ident)


def _field(value: object, *path: str) -> object:
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def deliver_as_telegram(gateway_url: str, telegram_api: str) -> Deliver:
    """Deliver an update to the agency's webhook route on `gateway_url` as Telegram does, and
    run the Bot API method the webhook answers with (a pressed button's answerCallbackQuery)
    on `telegram_api` with the agency's bot token, as Telegram's servers run it."""

    def deliver(tenant_id: str, update: bytes, secret: str) -> tuple[int, bytes]:
        response = httpx.post(
            f"{gateway_url}/telegram/{tenant_id}",
            content=update,
            headers={"Content-Type": "application/json", SECRET_HEADER: secret},
            timeout=60,
        )
        answer = method_answered(response.status_code, response.content)
        token = tenant_bot_token(tenant_id) if answer is not None else None
        if answer is not None and token:
            method, parameters = answer
            httpx.post(f"{telegram_api}/bot{token}/{method}", json=parameters, timeout=10)
        return response.status_code, response.content

    return deliver


def tenant_webhook_secret(tenant_id: str) -> str | None:
    """The agency's Telegram webhook secret as the webhook reads it (the functions' secrets)."""
    return _tenant_secret(tenant_id, lambda tenant: tenant.telegram_secret_param)


def tenant_bot_token(tenant_id: str) -> str | None:
    """The agency's Telegram bot token, as the functions read it."""
    return _tenant_secret(tenant_id, lambda tenant: tenant.telegram_bot_token_param)


def _tenant_secret(tenant_id: str, param: Callable[[Tenant], str | None]) -> str | None:
    from leadbot.domain import TenantNotFound
    from leadbot.services.runtime import repositories, secret

    try:
        name = param(repositories().tenants.get(tenant_id))
    except TenantNotFound:
        return None
    return secret(name) if name else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_or_text(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
