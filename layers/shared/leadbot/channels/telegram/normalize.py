"""Telegram Update → InboundEvent; None for what the bot deliberately ignores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadbot.channels.telegram.models import Message, Update, User
from leadbot.domain import Channel, EventKind, InboundEvent

# my_chat_member statuses meaning the user blocked the bot (private chats) or let it back.
_BLOCKED = frozenset({"kicked", "left"})
_COMMANDS = {
    "/start": EventKind.START,
    "/stop": EventKind.STOP,
    "/language": EventKind.LANGUAGE,
    "/set_admin": EventKind.SET_ADMIN,
}


# The update kinds to_inbound reads: a bot's webhook asks Telegram for these only
# (setWebhook's allowed_updates), so nothing else costs an invocation.
HANDLED_UPDATES = ("message", "callback_query", "my_chat_member")


def to_inbound(tenant_id: str, update: Update, now: datetime) -> InboundEvent | None:
    """The channel-neutral event of an update; private chats only."""
    base: dict[str, Any] = {
        "tenant_id": tenant_id,
        "channel": Channel.TELEGRAM,
        "event_id": str(update["update_id"]),
    }
    if "message" in update:
        message = update["message"]
        sender = message.get("from")
        if message["chat"]["type"] != "private" or sender is None:
            return None
        return InboundEvent(
            **base, **_sender(sender), at=_at(message["date"]), **_message_fields(message)
        )
    if "callback_query" in update:
        query = update["callback_query"]
        if "message" in query and query["message"]["chat"]["type"] != "private":
            return None
        return InboundEvent(
            **base,
            **_sender(query["from"]),
            at=now,
            kind=EventKind.CHOICE,
            payload=query.get("data") or "",
            receipt_id=query["id"],
        )
    if "my_chat_member" in update:
        member = update["my_chat_member"]
        if member["chat"]["type"] != "private":
            return None
        blocked = member["new_chat_member"]["status"] in _BLOCKED
        return InboundEvent(
            **base,
            **_sender(member["from"]),
            at=_at(member["date"]),
            kind=EventKind.BLOCKED if blocked else EventKind.UNBLOCKED,
        )
    return None


def _sender(user: User) -> dict[str, Any]:
    names = (user.get("first_name", ""), user.get("last_name", ""))
    return {
        "external_id": str(user["id"]),
        "name": " ".join(part for part in names if part),
        "username": user.get("username", ""),
        "language_hint": user.get("language_code"),
    }


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _message_fields(message: Message) -> dict[str, Any]:
    if "text" in message:
        text = message["text"].strip()
        if text.startswith("/"):
            command, _, argument = text.partition(" ")
            kind = _COMMANDS.get(command.split("@", 1)[0].lower())
            if kind is not None:
                return {"kind": kind, "text": text, "payload": argument.strip()[:128]}
        return {"kind": EventKind.TEXT, "text": text}
    if "contact" in message:
        contact = message["contact"]
        # Only the sender's own card counts: anyone can forward someone else's contact.
        sender = message.get("from")
        own = sender is not None and contact.get("user_id") == sender["id"]
        return {
            "kind": EventKind.CONTACT,
            "contact_phone": contact["phone_number"],
            "contact_is_own": own,
        }
    if "voice" in message or "audio" in message:
        audio = message.get("voice") or message["audio"]
        return {
            "kind": EventKind.VOICE,
            "media_id": audio["file_id"],
            "media_type": audio.get("mime_type", ""),
            "media_size": audio.get("file_size"),
        }
    if "location" in message:
        loc = message["location"]
        return {
            "kind": EventKind.LOCATION,
            "text": f"📍 {loc['latitude']:.5f},{loc['longitude']:.5f}",
        }
    return {"kind": EventKind.UNSUPPORTED, "text": message.get("caption", "")}
