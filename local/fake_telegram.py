"""An in-memory fake of the Telegram Bot API that records calls and answers in its wire format."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

BOT_FIRST_NAME = "LeadBot"
BOT_USERNAME = "LeadBotLocalBot"
# Used when the token does not start with "<bot id>:" as real tokens do.
DEFAULT_BOT_ID = 1_000_000_001
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
# Bots may download files up to this size; getFile refuses bigger ones.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Where Telegram keeps files of each type, and the extension it gives them.
_FILE_PLACES = {
    "audio/ogg": ("voice", "oga"),
    "audio/mpeg": ("music", "mp3"),
    "audio/mp4": ("music", "m4a"),
    "image/jpeg": ("photos", "jpg"),
}

Response = tuple[int, dict[str, Any]]
# setWebhook's secret_token: 1-256 characters, only these.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Update kinds allowed_updates may name (Bot API 7.x); others are dropped, as Telegram does.
_UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


@dataclass
class _Fault:
    chat_id: str | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass(frozen=True)
class _File:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str


class _BadRequest(Exception):
    """Raised by a method implementation to answer 400 with Telegram's description."""


def mask_token(token: str) -> str:
    return token[:6] + "…"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _chat_key(chat_id: object) -> str | None:
    if chat_id is None or chat_id == "":
        return None
    return str(chat_id).strip()


def _chat_object(chat_id: str) -> dict[str, Any]:
    # Numeric ids come back as integers, "@channel" names as they were sent.
    try:
        ident: int | str = int(chat_id)
    except ValueError:
        ident = chat_id
    return {"id": ident, "type": "private"}


def _bot_id(token: str) -> int:
    prefix, sep, _ = token.partition(":")
    return int(prefix) if sep and prefix.isdigit() else DEFAULT_BOT_ID


def _bot_user(token: str) -> dict[str, Any]:
    return {"id": _bot_id(token), "is_bot": True, "first_name": BOT_FIRST_NAME}


def _error(error_code: int, description: str, retry_after: int | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": error_code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return error_code, body


def _parse_markup(raw: object) -> dict[str, Any] | None:
    """reply_markup arrives as an object (JSON bodies) or as a JSON string (form bodies)."""
    if raw is None or raw == "":
        return None
    markup: object = raw
    if isinstance(raw, str):
        try:
            markup = json.loads(raw)
        except ValueError:
            raise _BadRequest(
                "Bad Request: can't parse reply keyboard markup JSON object"
            ) from None
    if not isinstance(markup, dict):
        raise _BadRequest("Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and len(str(data).encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise _BadRequest("Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url") if isinstance(button, dict) else None
            if url is not None and not _valid_button_url(str(url)):
                raise _BadRequest(
                    f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                )
    return markup


def _valid_button_url(url: str) -> bool:
    """As Telegram judges URL buttons: http(s) or tg, and a host with a dot (no "localhost")."""
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return bool(parts.netloc)
    return parts.scheme in ("http", "https") and "." in (parts.hostname or "")


def _check_text(text: object) -> str:
    if text is None or str(text).strip() == "":
        raise _BadRequest("Bad Request: message text is empty")
    value = str(text)
    if len(value) > MAX_TEXT_LENGTH:
        raise _BadRequest("Bad Request: message is too long")
    return value


def _message_id(raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise _BadRequest("Bad Request: message identifier is not specified") from None


class FakeTelegram:
    """Thread-safe, in-memory Bot API: records every call, newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._next_message_id: dict[str, int] = {}
        self._webhooks: dict[str, str] = {}
        self._hooks: dict[str, dict[str, Any]] = {}  # setWebhook's other parameters, per bot
        self._revoked: set[str] = set()
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, _File] = {}

    # -- test and dashboard controls -------------------------------------------------------

    def fail_next(
        self,
        chat_id: str | None,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls for `chat_id` (any chat when None) fail with this error."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if not 400 <= error_code <= 599:
            raise ValueError("error_code must be an HTTP error status (400-599)")
        fault = _Fault(_chat_key(chat_id), error_code, description, retry_after, times)
        with self._lock:
            self._faults.append(fault)

    def revoke(self, token: str) -> None:
        """As BotFather's /revoke: every later call with this token is 401 Unauthorized."""
        with self._lock:
            self._revoked.add(token)

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates to return, as if a user had just written to the bot."""
        with self._lock:
            self._updates.append(copy.deepcopy(update))

    def put_file(self, data: bytes, mime_type: str = "audio/ogg") -> dict[str, Any]:
        """Keep a file as if a user had sent it to the bot (a voice note): the fields of its
        Bot API File an update carries (`file_id`, `file_unique_id`, `file_size`), for getFile
        and the file download to serve. Any bot may read it, as any test bot's token may."""
        base = mime_type.split(";", 1)[0].strip().lower()
        folder, extension = _FILE_PLACES.get(base, ("documents", "bin"))
        with self._lock:
            number = len(self._files) + 1
            unique = hashlib.sha256(data + str(number).encode()).hexdigest()[:16]
            stored = _File(
                file_id=f"AwACAgIAAxkBAAI{unique}",
                file_unique_id=f"AgAD{unique[:8]}",
                file_path=f"{folder}/file_{number}.{extension}",
                data=bytes(data),
                mime_type=base,
            )
            self._files[stored.file_id] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }

    def download(self, token: str, file_path: str) -> tuple[int, str, bytes]:
        """Serve `GET /file/bot<token>/<file_path>`: (HTTP status, Content-Type, body)."""
        with self._lock:
            found = next((f for f in self._files.values() if f.file_path == file_path), None)
            record: dict[str, Any] = {
                "method": "download",
                "token": mask_token(token),
                "chat_id": None,
                "payload": {"file_path": file_path},
                "at": _now_iso(),
            }
            self._calls.append(record)
            if found is None or ":" not in token:
                record["status"] = 404
                body = {"ok": False, "error_code": 404, "description": "Not Found"}
                return 404, "application/json", json.dumps(body).encode()
            record["status"] = 200
            return 200, "application/octet-stream", found.data

    def outbox(self) -> list[dict[str, Any]]:
        """Every recorded call, newest last (deep copies, safe to mutate)."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def clear(self) -> None:
        """Forget recorded calls and pending faults; message ids keep increasing like Telegram's."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()

    # -- the API ---------------------------------------------------------------------------

    def handle(self, token: str, method: str, payload: dict[str, Any]) -> Response:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        chat = _chat_key(payload.get("chat_id"))
        with self._lock:
            record: dict[str, Any] = {
                "method": method,
                "token": mask_token(token),
                "chat_id": chat,
                "payload": copy.deepcopy(payload),
                "at": _now_iso(),
            }
            self._calls.append(record)
            fault = self._take_fault(chat)
            if token in self._revoked:
                status, body = _error(401, "Unauthorized")
            elif fault is not None:
                status, body = _error(fault.error_code, fault.description, fault.retry_after)
            else:
                status, body = self._dispatch(token, method, payload, chat)
            record["status"] = status
            result = body.get("result")
            if isinstance(result, dict) and "message_id" in result:
                # The sent message's id, as the bot got it back: a press on its buttons names it.
                record["message_id"] = result["message_id"]
            return status, copy.deepcopy(body)

    def _take_fault(self, chat: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.chat_id is None or fault.chat_id == chat:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _dispatch(
        self, token: str, method: str, payload: dict[str, Any], chat: str | None
    ) -> Response:
        # Telegram treats method names case-insensitively.
        name = method.lower()
        try:
            if name == "sendmessage":
                return 200, {"ok": True, "result": self._send_message(token, payload, chat)}
            if name == "sendphoto":
                return 200, {"ok": True, "result": self._send_photo(token, payload, chat)}
            if name in ("editmessagetext", "editmessagereplymarkup"):
                result = self._edit_message(token, name, payload, chat)
                return 200, {"ok": True, "result": result}
            if name in ("answercallbackquery", "sendchataction", "deletemessage"):
                return 200, {"ok": True, "result": True}
            if name == "setwebhook":
                return 200, self._set_webhook(token, payload)
            if name == "deletewebhook":
                self._webhooks.pop(token, None)
                self._hooks.pop(token, None)
                return 200, {"ok": True, "result": True, "description": "Webhook was deleted"}
            if name == "getwebhookinfo":
                return 200, {"ok": True, "result": self._webhook_info(token)}
            if name == "getfile":
                return 200, {"ok": True, "result": self._get_file(payload)}
            if name == "getme":
                me = {
                    **_bot_user(token),
                    "username": BOT_USERNAME,
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                }
                return 200, {"ok": True, "result": me}
            if name == "getupdates":
                if self._webhooks.get(token):
                    return _error(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
                # An offset confirms every update below it, as the real API does.
                offset = int(payload.get("offset") or 0)
                self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
                return 200, {"ok": True, "result": copy.deepcopy(self._updates)}
        except _BadRequest as exc:
            return _error(400, str(exc))
        return _error(404, "Not Found: method not found")

    def _set_webhook(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """setWebhook as Telegram checks it: an HTTPS URL on 443, 80, 88 or 8443; a secret
        token of 1-256 characters A-Z a-z 0-9 _ -; allowed_updates a list of update kinds;
        max_connections 1-100. An empty URL removes the webhook."""
        url = str(payload.get("url") or "")
        if not url:
            had = self._webhooks.pop(token, None)
            self._hooks.pop(token, None)
            said = "Webhook was deleted" if had else "Webhook is already deleted"
            return {"ok": True, "result": True, "description": said}
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _BadRequest("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in (80, 88, 443, 8443):
            raise _BadRequest(
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = payload.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _BadRequest("Bad Request: secret token contains unallowed characters")
        allowed = payload.get("allowed_updates")
        if isinstance(allowed, str):  # form-encoded callers send it JSON-serialized
            try:
                allowed = json.loads(allowed)
            except ValueError:
                raise _BadRequest("Bad Request: can't parse allowed updates JSON object") from None
        if allowed is not None and (
            not isinstance(allowed, list) or not all(isinstance(k, str) for k in allowed)
        ):
            raise _BadRequest("Bad Request: can't parse allowed updates JSON object")
        connections = int(payload.get("max_connections") or 40)
        if not 1 <= connections <= 100:
            raise _BadRequest("Bad Request: bad webhook: max_connections must be between 1 and 100")
        hook = {
            "url": url,
            "secret_token": None if secret is None else str(secret),
            "allowed_updates": [k for k in allowed if k in _UPDATE_KINDS] if allowed else None,
            "max_connections": connections,
        }
        previous = self._hooks.get(token, {})
        same = self._webhooks.get(token) == url and all(
            previous.get(k) == v for k, v in hook.items()
        )
        self._webhooks[token] = url
        self._hooks[token] = {
            **hook,
            "pending": 0 if payload.get("drop_pending_updates") else previous.get("pending", 0),
            "last_error_date": previous.get("last_error_date"),
            "last_error_message": previous.get("last_error_message"),
        }
        said = "Webhook is already set" if same else "Webhook was set"
        return {"ok": True, "result": True, "description": said}

    def _webhook_info(self, token: str) -> dict[str, Any]:
        hook = self._hooks.get(token)
        info: dict[str, Any] = {
            "url": self._webhooks.get(token, ""),
            "has_custom_certificate": False,
            "pending_update_count": int(hook.get("pending", 0)) if hook else 0,
        }
        if hook is None or not info["url"]:
            return info
        if hook.get("last_error_date"):
            info["last_error_date"] = hook["last_error_date"]
            info["last_error_message"] = hook["last_error_message"]
        info["max_connections"] = hook["max_connections"]
        info["ip_address"] = "149.154.167.220"
        if hook.get("allowed_updates"):
            info["allowed_updates"] = list(hook["allowed_updates"])
        return info

    def webhook(self, token: str) -> dict[str, Any] | None:
        """What setWebhook stored for the bot (url, secret_token, allowed_updates…), or None."""
        with self._lock:
            hook = self._hooks.get(token)
            return copy.deepcopy(hook) if hook is not None else None

    def webhook_trouble(self, token: str, pending: int, error: str | None = None) -> None:
        """As if Telegram could not deliver to the bot's webhook: `pending` updates wait, and
        getWebhookInfo reports `error` as the last one (now)."""
        with self._lock:
            hook = self._hooks.setdefault(token, {"max_connections": 40, "allowed_updates": None})
            hook["pending"] = pending
            hook["last_error_date"] = int(time.time()) if error else None
            hook["last_error_message"] = error

    def _get_file(self, payload: dict[str, Any]) -> dict[str, Any]:
        file_id = str(payload.get("file_id") or "")
        if not file_id:
            raise _BadRequest("Bad Request: file_id not specified")
        found = self._files.get(file_id)
        if found is None:
            raise _BadRequest("Bad Request: invalid file_id")
        if len(found.data) > MAX_DOWNLOAD_BYTES:
            raise _BadRequest("Bad Request: file is too big")
        return {
            "file_id": found.file_id,
            "file_unique_id": found.file_unique_id,
            "file_size": len(found.data),
            "file_path": found.file_path,
        }

    def _send_message(
        self, token: str, payload: dict[str, Any], chat: str | None
    ) -> dict[str, Any]:
        if chat is None:
            raise _BadRequest("Bad Request: chat_id is empty")
        text = _check_text(payload.get("text"))
        return self._message(token, chat, {"text": text}, payload.get("reply_markup"))

    def _send_photo(self, token: str, payload: dict[str, Any], chat: str | None) -> dict[str, Any]:
        """sendPhoto by URL or file_id; the photo is not fetched, its sizes are made up."""
        if chat is None:
            raise _BadRequest("Bad Request: chat_id is empty")
        photo = str(payload.get("photo") or "")
        if not photo:
            raise _BadRequest("Bad Request: there is no photo in the request")
        if "://" in photo and not _valid_button_url(photo):
            raise _BadRequest("Bad Request: wrong HTTP URL specified")
        caption = str(payload.get("caption") or "")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _BadRequest("Bad Request: message caption is too long")
        unique = hashlib.sha256(photo.encode()).hexdigest()[:16]
        sizes = [
            {
                "file_id": f"AgAC{unique}{w}",
                "file_unique_id": f"AQAD{unique}{w}",
                "width": w,
                "height": w * 3 // 4,
            }
            for w in (90, 320, 800)
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._message(token, chat, fields, payload.get("reply_markup"))

    def _message(
        self, token: str, chat: str, fields: dict[str, Any], raw_markup: object
    ) -> dict[str, Any]:
        markup = _parse_markup(raw_markup)
        message_id = self._next_message_id.get(chat, 0) + 1
        self._next_message_id[chat] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": _bot_user(token),
            "chat": _chat_object(chat),
            "date": int(time.time()),
            **fields,
        }
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _edit_message(
        self, token: str, name: str, payload: dict[str, Any], chat: str | None
    ) -> dict[str, Any] | bool:
        text = _check_text(payload.get("text")) if name == "editmessagetext" else None
        markup = _parse_markup(payload.get("reply_markup"))
        if payload.get("inline_message_id"):
            # Inline messages are not the bot's own, so Telegram answers just true.
            return True
        if chat is None:
            raise _BadRequest("Bad Request: chat_id is empty")
        now = int(time.time())
        message: dict[str, Any] = {
            "message_id": _message_id(payload.get("message_id")),
            "from": _bot_user(token),
            "chat": _chat_object(chat),
            "date": now,
            "edit_date": now,
        }
        if text is not None:
            message["text"] = text
        if markup is not None:
            message["reply_markup"] = markup
        return message
