"""Tenant lifecycle for ops: create an agency with its secrets in SSM, connect its channels,
rotate secrets, disable and enable it, list them (`python -m leadbot.admin tenant …`).

Secret values pass from the caller to the SecretStore and, where a channel needs them, to
Telegram or Meta; they are never logged, never stored in DynamoDB and never in an error's text.
The Tenants item keeps only the parameters' names.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadbot import clock
from leadbot.channels.telegram import TelegramClient
from leadbot.channels.telegram.normalize import HANDLED_UPDATES
from leadbot.channels.whatsapp.signature import sign
from leadbot.domain import (
    ChannelError,
    FlowMode,
    Language,
    Tenant,
    TimelineEntry,
    TimelineKind,
)
from leadbot.domain.settings import check
from leadbot.services.runtime import Repositories, tenant_secret_name
from leadbot.store import ADMIN_STREAM
from leadbot.store.secrets import SecretStore

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # what the Telegram webhook's path accepts
PHONE_NUMBER_ID = re.compile(r"[0-9]{5,20}")  # Meta's ids of business numbers are digits

TelegramFor = Callable[[str], TelegramClient]  # a bot token → its Bot API client


class TenantSetupError(Exception):
    """What ops asked cannot be done as asked; the message says what to do instead."""


class SecretKind(StrEnum):
    TELEGRAM_TOKEN = "telegram-token"
    TELEGRAM_WEBHOOK_SECRET = "telegram-webhook-secret"
    WHATSAPP_TOKEN = "whatsapp-token"
    WHATSAPP_APP_SECRET = "whatsapp-app-secret"
    WHATSAPP_VERIFY_TOKEN = "whatsapp-verify-token"


# Each secret: its parameter's last path segment, and the Tenant field naming the parameter.
SECRETS: dict[SecretKind, tuple[str, str]] = {
    SecretKind.TELEGRAM_TOKEN: ("telegram_bot_token", "telegram_bot_token_param"),
    SecretKind.TELEGRAM_WEBHOOK_SECRET: ("telegram_webhook_secret", "telegram_secret_param"),
    SecretKind.WHATSAPP_TOKEN: ("whatsapp_access_token", "whatsapp_token_param"),
    SecretKind.WHATSAPP_APP_SECRET: ("whatsapp_app_secret", "whatsapp_app_secret_param"),
    SecretKind.WHATSAPP_VERIFY_TOKEN: ("whatsapp_verify_token", "whatsapp_verify_token_param"),
}
# Secrets LeadBot chooses itself (Telegram and Meta take what they are given).
GENERATED = frozenset({SecretKind.TELEGRAM_WEBHOOK_SECRET, SecretKind.WHATSAPP_VERIFY_TOKEN})


def new_secret() -> str:
    """256 bits in Telegram's secret_token alphabet (A-Z a-z 0-9 _ -), fine for Meta too."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewTenant:
    name: str
    languages: tuple[Language, ...]
    flow_mode: FlowMode = FlowMode.GUIDED
    tenant_id: str | None = None
    default_language: Language | None = None
    currency: str | None = None
    timezone: str | None = None
    phone_region: str | None = None
    dashboard_url: str = ""


def slug(name: str) -> str:
    """A tenant id from an agency's name: "Gulf Homes LLC" → "gulf-homes-llc"."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    return "-".join(words)[:63].strip("-")


def _audit(repos: Repositories, tenant_id: str, what: str, by: str, **detail: Any) -> None:
    """The change in the tenant's own Timeline stream: who, what, never a secret's value."""
    entry = TimelineEntry(
        kind=TimelineKind.EVENT,
        at=clock.now(),
        text=what,
        detail={"by": by, **{k: str(v) for k, v in detail.items()}},
    )
    repos.timeline.append(tenant_id, ADMIN_STREAM, [entry])


def create_tenant(
    repos: Repositories,
    store: SecretStore,
    new: NewTenant,
    values: Mapping[SecretKind, str],
    *,
    phone_number_id: str | None = None,
    by: str,
    now: datetime | None = None,
) -> tuple[Tenant, dict[SecretKind, str]]:
    """Store the tenant and put each secret given in SSM under /leadbot/<env>/tenants/<id>/.

    WhatsApp takes the number's id, access token and app secret together (a verify token is
    generated when none is given). The id is claimed first (TenantExists, nothing written, if
    taken); if a secret cannot be stored the tenant is removed again. Returns the tenant and
    the parameter name of each secret stored.
    """
    tenant_id = new.tenant_id or slug(new.name)
    if not TENANT_ID.fullmatch(tenant_id):
        raise TenantSetupError(
            f"tenant id {tenant_id!r}: lower-case letters, digits and dashes, at most 63, "
            "starting with a letter or digit (give --tenant-id)"
        )
    if not new.name.strip():
        raise TenantSetupError("the agency needs a name")
    values = {kind: value for kind, value in values.items() if value}
    whatsapp = {SecretKind.WHATSAPP_TOKEN, SecretKind.WHATSAPP_APP_SECRET} & set(values)
    if whatsapp or phone_number_id:
        missing = [k.value for k in (SecretKind.WHATSAPP_TOKEN, SecretKind.WHATSAPP_APP_SECRET)]
        missing = [m for m in missing if SecretKind(m) not in values]
        if not phone_number_id:
            missing.insert(0, "whatsapp-phone-number-id")
        if missing:
            raise TenantSetupError(f"WhatsApp needs {', '.join(missing)} as well")
        assert phone_number_id is not None
        if not PHONE_NUMBER_ID.fullmatch(phone_number_id):
            raise TenantSetupError(
                f"whatsapp-phone-number-id {phone_number_id!r}: the digits Meta shows as "
                "'Phone number ID' (not the phone number)"
            )
        owner = repos.tenants.by_whatsapp_number(phone_number_id)
        if owner is not None:
            raise TenantSetupError(f"WhatsApp number {phone_number_id} belongs to {owner!r}")
        values.setdefault(SecretKind.WHATSAPP_VERIFY_TOKEN, new_secret())
    elif SecretKind.WHATSAPP_VERIFY_TOKEN in values:
        raise TenantSetupError("a WhatsApp verify token without the number and its credentials")
    names = {kind: tenant_secret_name(tenant_id, SECRETS[kind][0]) for kind in values}
    languages = new.languages
    tenant = Tenant(
        tenant_id=tenant_id,
        name=new.name.strip(),
        languages=languages,
        default_language=new.default_language or languages[0],
        admin_language=new.default_language or languages[0],
        flow_mode=new.flow_mode,
        dashboard_url=new.dashboard_url,
        whatsapp_phone_number_id=phone_number_id or "",
        created_at=now or clock.now(),
    )
    given: dict[str, Any] = {SECRETS[kind][1]: name for kind, name in names.items()}
    for name in ("currency", "timezone", "phone_region"):
        if getattr(new, name):
            given[name] = getattr(new, name)
    tenant = replace(tenant, **given)
    try:
        check(tenant)
    except Exception as exc:
        raise TenantSetupError(str(exc)) from None
    repos.tenants.create(tenant)  # TenantExists before any secret is written
    try:
        for kind, name in names.items():
            store.put(name, values[kind])
    except BaseException:
        repos.tenants.delete(tenant_id)
        raise
    if phone_number_id:
        repos.tenants.route_whatsapp(
            tenant_id, phone_number_id, values[SecretKind.WHATSAPP_VERIFY_TOKEN]
        )
    channels = [
        c
        for c, on in (
            ("telegram", SecretKind.TELEGRAM_TOKEN in values),
            ("whatsapp", bool(phone_number_id)),
        )
        if on
    ]
    _audit(repos, tenant_id, "tenant_created", by, channels=",".join(channels) or "none")
    return tenant, names


# -- Telegram ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConnection:
    """What getWebhookInfo said after setWebhook."""

    url: str
    info: Mapping[str, Any]
    allowed_updates: tuple[str, ...]

    @property
    def url_matches(self) -> bool:
        return self.info.get("url") == self.url

    @property
    def pending_update_count(self) -> int:
        return int(self.info.get("pending_update_count") or 0)

    @property
    def last_error(self) -> str | None:
        message = self.info.get("last_error_message")
        return str(message) if message else None

    @property
    def ok(self) -> bool:
        return self.url_matches

    def as_dict(self) -> dict[str, Any]:
        return {
            "webhook_url": self.url,
            "url_matches": self.url_matches,
            "pending_update_count": self.pending_update_count,
            "last_error_message": self.last_error,
            "last_error_date": self.info.get("last_error_date"),
            "allowed_updates": list(self.info.get("allowed_updates") or self.allowed_updates),
        }


def webhook_url(base_url: str, tenant_id: str) -> str:
    return f"{base_url.rstrip('/')}/telegram/{tenant_id}"


def _tenant(repos: Repositories, tenant_id: str) -> Tenant:
    return repos.tenants.get(tenant_id, consistent=True)


def _stored(store: SecretStore, tenant: Tenant, kind: SecretKind) -> str:
    param = getattr(tenant, SECRETS[kind][1])
    value = store.get(param) if param else None
    if not value:
        raise TenantSetupError(
            f"{tenant.tenant_id} has no {kind.value}: give it with "
            f"`tenant rotate-secret --tenant {tenant.tenant_id} {kind.value}`"
        )
    return value


def connect_telegram(
    repos: Repositories,
    store: SecretStore,
    tenant_id: str,
    base_url: str,
    telegram_for: TelegramFor,
    *,
    by: str,
    drop_pending_updates: bool = False,
) -> TelegramConnection:
    """setWebhook with the tenant's URL, a new secret token (stored first, under the tenant's
    parameter) and the update kinds the bot reads; then getWebhookInfo to confirm.

    If Telegram refuses, the previous secret is put back (the webhook still sends it) and the
    ChannelError is raised.
    """
    tenant = _tenant(repos, tenant_id)
    token = _stored(store, tenant, SecretKind.TELEGRAM_TOKEN)
    client = telegram_for(token)
    url = webhook_url(base_url, tenant_id)
    param = tenant.telegram_secret_param or tenant_secret_name(
        tenant_id, SECRETS[SecretKind.TELEGRAM_WEBHOOK_SECRET][0]
    )
    previous = store.get(param)
    secret_token = new_secret()
    store.put(param, secret_token)
    if param != tenant.telegram_secret_param:
        repos.tenants.set_channel(tenant_id, {"telegram_secret_param": param})
    try:
        client.set_webhook(
            url,
            secret_token=secret_token,
            allowed_updates=HANDLED_UPDATES,
            drop_pending_updates=drop_pending_updates,
        )
    except ChannelError:
        if previous:
            store.put(param, previous)
        raise
    connection = TelegramConnection(url, client.webhook_info(), HANDLED_UPDATES)
    _audit(repos, tenant_id, "telegram_connected", by, url=url)
    return connection


# -- WhatsApp ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request sent to the deployed webhook and what it answered."""

    what: str
    expected: int
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == self.expected and not self.error

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.what,
            "expected": self.expected,
            "status": self.status,
            "ok": self.ok,
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class WhatsAppConnection:
    callback_url: str
    verify_token: str  # to paste into Meta's app dashboard: shown once, on purpose
    probes: tuple[Probe, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.probes)


# (method, url, headers, body) → HTTP status; raises OSError-like errors when unreachable.
# (method, url, headers, body) -> the answer's status and body
Send = Callable[[str, str, Mapping[str, str], bytes], tuple[int, bytes]]


def probe_body(phone_number_id: str) -> bytes:
    """A webhook body as Meta sends it, naming only the agency's number, with no message and
    no status: routed and verified, then nothing to do."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "",
                                "phone_number_id": phone_number_id,
                            },
                            "statuses": [],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def connect_whatsapp(
    repos: Repositories,
    store: SecretStore,
    tenant_id: str,
    base_url: str,
    send: Send,
) -> WhatsAppConnection:
    """The callback URL and verify token to paste into Meta, and the deployed endpoint checked:
    Meta's subscription check answered, a body signed with the app secret taken (200), the
    same body with a wrong signature and unsigned refused (401)."""
    tenant = _tenant(repos, tenant_id)
    if not tenant.active:
        raise TenantSetupError(
            f"{tenant_id} is disabled: its number is not served, so nothing can be checked "
            f"(`tenant enable --tenant {tenant_id}` first)"
        )
    if not tenant.whatsapp_phone_number_id:
        raise TenantSetupError(
            f"{tenant_id} has no WhatsApp number: create the tenant with "
            "--whatsapp-phone-number-id and its credentials"
        )
    verify_token = _stored(store, tenant, SecretKind.WHATSAPP_VERIFY_TOKEN)
    app_secret = _stored(store, tenant, SecretKind.WHATSAPP_APP_SECRET)
    url = f"{base_url.rstrip('/')}/whatsapp"
    body = probe_body(tenant.whatsapp_phone_number_id)
    json_type = {"Content-Type": "application/json"}
    challenge = str(secrets.randbelow(10**9))
    query = f"?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge={challenge}"
    checks: list[tuple[str, str, str, Mapping[str, str], bytes, int]] = [
        ("subscription check with the verify token", "GET", url + query, {}, b"", 200),
        (
            "body signed with the app secret",
            "POST",
            url,
            {**json_type, "X-Hub-Signature-256": sign(app_secret, body)},
            body,
            200,
        ),
        (
            "body signed with another secret",
            "POST",
            url,
            {**json_type, "X-Hub-Signature-256": sign(new_secret(), body)},
            body,
            401,
        ),
        ("unsigned body", "POST", url, json_type, body, 401),
    ]
    probes = []
    for what, method, target, headers, payload, expected in checks:
        try:
            status, answer = send(method, target, headers, payload)
            error = ""
        except Exception as exc:  # unreachable, TLS, timeout: reported, not raised
            status, answer, error = None, b"", type(exc).__name__
        if method == "GET" and status == 200 and answer.strip() != challenge.encode():
            # Something answered (a web page, a proxy), but not Meta's check: Meta would fail.
            error = "hub.challenge not echoed"
        probes.append(Probe(what, expected, status, error))
    return WhatsAppConnection(url, verify_token, tuple(probes))


# -- rotation, enabling, listing --------------------------------------------------------------


@dataclass(frozen=True)
class Rotated:
    kind: SecretKind
    param: str
    telegram: TelegramConnection | None = None
    webhook_info: Mapping[str, Any] | None = None  # what the new bot token's bot reports
    verify_token: str | None = None  # a new verify token, to paste into Meta


def rotate_secret(
    repos: Repositories,
    store: SecretStore,
    tenant_id: str,
    kind: SecretKind,
    value: str | None,
    *,
    by: str,
    base_url: str | None = None,
    telegram_for: TelegramFor | None = None,
) -> Rotated:
    """Replace one secret. The webhook secret is a new setWebhook (connect_telegram); a new bot
    token is tried on Telegram (getWebhookInfo) before it is stored; a new verify token is
    routed and the old one no longer is. Generated secrets need no value."""
    tenant = _tenant(repos, tenant_id)
    if kind is SecretKind.TELEGRAM_WEBHOOK_SECRET:
        if base_url is None or telegram_for is None:
            raise TenantSetupError(
                "rotating the webhook secret calls setWebhook: give the base URL"
            )
        connection = connect_telegram(repos, store, tenant_id, base_url, telegram_for, by=by)
        param = _tenant(repos, tenant_id).telegram_secret_param
        _audit(repos, tenant_id, "secret_rotated", by, secret=kind.value)
        return Rotated(kind, param, telegram=connection)
    if value is None and kind in GENERATED:
        value = new_secret()
    if not value:
        raise TenantSetupError(f"{kind.value}: no new value given")
    attribute = SECRETS[kind][1]
    param = getattr(tenant, attribute) or tenant_secret_name(tenant_id, SECRETS[kind][0])
    info = None
    if kind is SecretKind.TELEGRAM_TOKEN:
        if telegram_for is None:
            raise TenantSetupError("a new bot token is checked on Telegram first")
        info = telegram_for(value).webhook_info()  # ChannelError (401) for a bad token
    if kind.value.startswith("whatsapp-") and not tenant.whatsapp_phone_number_id:
        raise TenantSetupError(f"{tenant_id} has no WhatsApp number")
    previous = store.get(param) if kind is SecretKind.WHATSAPP_VERIFY_TOKEN else None
    store.put(param, value)
    if param != getattr(tenant, attribute):
        repos.tenants.set_channel(tenant_id, {attribute: param})
    if kind is SecretKind.WHATSAPP_VERIFY_TOKEN:
        repos.tenants.route_whatsapp(tenant_id, tenant.whatsapp_phone_number_id, value)
        if previous and previous != value:
            repos.tenants.unroute_whatsapp(tenant_id, verify_token=previous)
    _audit(repos, tenant_id, "secret_rotated", by, secret=kind.value)
    return Rotated(
        kind,
        param,
        webhook_info=info,
        verify_token=value if kind is SecretKind.WHATSAPP_VERIFY_TOKEN else None,
    )


def set_enabled(repos: Repositories, tenant_id: str, enabled: bool, *, by: str) -> bool:
    """Enable or disable the agency; False if it already was so (nothing written)."""
    tenant = _tenant(repos, tenant_id)
    if tenant.active is enabled:
        return False
    repos.tenants.set_channel(tenant_id, {"active": enabled})
    _audit(repos, tenant_id, "tenant_enabled" if enabled else "tenant_disabled", by)
    return True


@dataclass(frozen=True)
class TenantRow:
    tenant_id: str
    name: str
    enabled: bool
    channels: tuple[str, ...]
    created_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "enabled": self.enabled,
            "channels": list(self.channels),
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def channels_of(tenant: Tenant) -> tuple[str, ...]:
    """The channels whose credentials the tenant has (Telegram: token and webhook secret)."""
    found = []
    if tenant.telegram_bot_token_param and tenant.telegram_secret_param:
        found.append("telegram")
    if tenant.whatsapp_phone_number_id and tenant.whatsapp_app_secret_param:
        found.append("whatsapp")
    return tuple(found)


def list_tenants(repos: Repositories) -> list[TenantRow]:
    return [
        TenantRow(t.tenant_id, t.name, t.active, channels_of(t), t.created_at)
        for t in repos.tenants.all()
    ]
