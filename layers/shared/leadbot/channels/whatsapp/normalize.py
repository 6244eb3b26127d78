"""A WhatsApp webhook body → the messages for the engine and the statuses of ours, in order.

One body may hold several entries, each several changes, each several messages and statuses;
the order Meta wrote them is kept. What each message type becomes, and why:

- text → TEXT; interactive `button_reply` / `list_reply` → CHOICE whose payload is the id we
  sent, i.e. the choice value, exactly as Telegram's callback data, so the engine is unchanged;
  the legacy `button` (a template's quick reply) → CHOICE on its payload, TEXT without one.
- audio (voice notes are `audio` with `voice: true`; `voice` is read too) → VOICE with the
  media id and MIME type, for the service to download and transcribe.
- location → LOCATION with the same "📍 lat,lon" text as Telegram; contacts → CONTACT with the
  first shared number, `contact_is_own` only when that number is the sender's own wa_id.
- image, video, document, sticker and `unsupported` (polls, view-once, ...) → UNSUPPORTED with
  the caption as text: the person sent something and expects an answer, as on Telegram.
- request_welcome (a user opening the chat for the first time) → START.
- reaction and system (number or identity changed) are dropped: nobody expects a reply to a
  👍 or to a notice they did not write. Unknown future types are UNSUPPORTED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadbot.channels.whatsapp.models import Body, Contact, Error, Message, Status
from leadbot.domain import Channel, EventKind, InboundEvent

_IGNORED = frozenset({"reaction", "system"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """An inbound message for the engine and the business number it reached (replies go out
    from that number; the webhook routes it to a tenant before building the event)."""

    phone_number_id: str
    event: InboundEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """What became of one message we sent; it never starts a conversation or a reply."""

    phone_number_id: str
    message_id: str
    recipient_id: str
    status: str  # sent, delivered, read, failed (deleted on old numbers)
    at: datetime
    error_code: int | None = None
    error_title: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrouted:
    """A change for a business number no tenant owns: acknowledged and logged, never acted on."""

    phone_number_id: str
    messages: int
    statuses: int


Item = Received | StatusUpdate | Unrouted


def phone_number_ids(body: Body) -> list[str]:
    """The business numbers a body speaks for, in order, once each (to look tenants up)."""
    found = (
        change["value"]["metadata"]["phone_number_id"]
        for entry in body.get("entry", [])
        for change in entry.get("changes", [])
        if "metadata" in change["value"]
    )
    return list(dict.fromkeys(found))


def to_items(body: Body, tenants: Mapping[str, str]) -> list[Item]:
    """Every message and status of the body in order; `tenants` maps phone_number_id → tenant.

    A change without `metadata` is not about messages (template reviews and the like) and
    yields nothing.
    """
    items: list[Item] = []
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            value = change["value"]
            if "metadata" not in value:
                continue
            number = value["metadata"]["phone_number_id"]
            messages, statuses = value.get("messages", []), value.get("statuses", [])
            tenant_id = tenants.get(number)
            if tenant_id is None:
                if messages or statuses:
                    items.append(
                        Unrouted(
                            phone_number_id=number,
                            messages=len(messages),
                            statuses=len(statuses),
                        )
                    )
                continue
            names = _names(value.get("contacts", []))
            for message in messages:
                event = to_inbound(tenant_id, message, names.get(message["from"], ""))
                if event is not None:
                    items.append(Received(phone_number_id=number, event=event))
            items.extend(_status(number, status) for status in statuses)
    return items


def to_inbound(tenant_id: str, message: Message, name: str = "") -> InboundEvent | None:
    """The channel-neutral event of one message; None for what the bot deliberately ignores."""
    kind = message["type"]
    if kind in _IGNORED:
        return None
    return InboundEvent(
        tenant_id=tenant_id,
        channel=Channel.WHATSAPP,
        event_id=message["id"],
        external_id=message["from"],
        receipt_id=message["id"],  # marked read once taken in
        # WhatsApp vouches for the number: the contact stage asks for consent to call it.
        sender_phone=f"+{message['from']}",
        name=name,
        at=_at(message["timestamp"]),
        **_fields(message),
    )


def _fields(message: Message) -> dict[str, Any]:
    kind = message["type"]
    if kind == "text" and "text" in message:
        return {"kind": EventKind.TEXT, "text": message["text"]["body"].strip()}
    if kind == "interactive" and "interactive" in message:
        interactive = message["interactive"]
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if reply is not None:
            return {"kind": EventKind.CHOICE, "payload": reply["id"]}
    if kind == "button" and "button" in message:
        button = message["button"]
        if button.get("payload"):
            return {"kind": EventKind.CHOICE, "payload": button["payload"]}
        return {"kind": EventKind.TEXT, "text": button.get("text", "").strip()}
    if kind in ("audio", "voice"):
        audio = message.get("audio") or message.get("voice") or {}
        return {
            "kind": EventKind.VOICE,
            "media_id": audio.get("id", ""),
            "media_type": audio.get("mime_type", ""),
        }
    if kind == "location" and "location" in message:
        loc = message["location"]
        return {
            "kind": EventKind.LOCATION,
            "text": f"📍 {loc['latitude']:.5f},{loc['longitude']:.5f}",
        }
    if kind == "contacts":
        phones = [p for c in message.get("contacts", []) for p in c.get("phones", [])]
        phone = next((p for p in phones if p.get("phone") or p.get("wa_id")), None)
        if phone is not None:
            # Only the sender's own card counts: anyone can share someone else's contact.
            return {
                "kind": EventKind.CONTACT,
                "contact_phone": phone.get("phone") or phone.get("wa_id"),
                "contact_is_own": phone.get("wa_id") == message["from"],
            }
    if kind == "request_welcome":
        return {"kind": EventKind.START}
    media = (message.get("image"), message.get("video"), message.get("document"))
    caption = next((m.get("caption", "") for m in media if m is not None), "")
    return {"kind": EventKind.UNSUPPORTED, "text": caption.strip()}


def _names(contacts: list[Contact]) -> dict[str, str]:
    return {
        c["wa_id"]: c.get("profile", {}).get("name", "").strip() for c in contacts if "wa_id" in c
    }


def _status(number: str, status: Status) -> StatusUpdate:
    error: Error | None = next(iter(status.get("errors", [])), None)
    return StatusUpdate(
        phone_number_id=number,
        message_id=status["id"],
        recipient_id=status.get("recipient_id", ""),
        status=status["status"],
        at=_at(status["timestamp"]),
        error_code=None if error is None else error["code"],
        error_title="" if error is None else error.get("title") or error.get("message", ""),
    )


def _at(timestamp: str | int) -> datetime:
    return datetime.fromtimestamp(int(timestamp), tz=UTC)
