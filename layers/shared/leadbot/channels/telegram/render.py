"""Outbound → Telegram sendMessage payloads, within the Bot API's limits."""

from __future__ import annotations

from typing import Any

from leadbot.domain import Choice, Link, Outbound

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
# Two short buttons fit a phone's width side by side; longer labels get a row each.
_SHORT_LABEL = 18


class CallbackDataTooLong(ValueError):
    """A choice value exceeds Telegram's 64-byte callback_data limit."""


def render(chat_id: str, outbound: Outbound) -> list[dict[str, Any]]:
    """One sendMessage payload per ≤ 4096-char part; the keyboard rides on the last part.

    With an image, a sendPhoto payload (it has "photo") comes first, its caption the text when
    that fits a caption's 1024 characters."""
    parts = split_text(outbound.text)
    payloads: list[dict[str, Any]] = [{"chat_id": chat_id, "text": part} for part in parts]
    if outbound.image:
        first = payloads[0]
        if len(payloads) == 1 and len(first["text"]) <= MAX_CAPTION:
            payloads = [{"chat_id": chat_id, "photo": outbound.image, "caption": first["text"]}]
        else:
            payloads.insert(0, {"chat_id": chat_id, "photo": outbound.image})
    markup = _markup(outbound)
    if markup is not None:
        payloads[-1]["reply_markup"] = markup
    return payloads


def webhook_answer(callback_query_id: str) -> dict[str, Any]:
    """A pressed button's answerCallbackQuery as the webhook's HTTP answer, which Telegram runs
    itself: the button stops spinning without a Bot API call of ours (nor its result)."""
    return {"method": "answerCallbackQuery", "callback_query_id": callback_query_id}


def method(payload: dict[str, Any]) -> str:
    """The Bot API method that sends a payload `render` made."""
    return "sendPhoto" if "photo" in payload else "sendMessage"


def _markup(outbound: Outbound) -> dict[str, Any] | None:
    """One reply_markup per message: a share-phone keyboard, else inline buttons, else removal."""
    if outbound.request_contact:
        button = {"text": outbound.request_contact, "request_contact": True}
        return {"keyboard": [[button]], "resize_keyboard": True, "one_time_keyboard": True}
    if outbound.choices or outbound.links:
        return {"inline_keyboard": _rows(outbound.choices) + _link_rows(outbound.links)}
    if outbound.remove_keyboard:
        return {"remove_keyboard": True}
    return None


def _rows(choices: tuple[Choice, ...]) -> list[list[dict[str, str]]]:
    rows: list[list[dict[str, str]]] = []
    for choice in choices:
        if len(choice.value.encode()) > MAX_CALLBACK_BYTES:
            raise CallbackDataTooLong(f"callback_data {choice.value!r} is over 64 bytes")
        button = {"text": choice.label, "callback_data": choice.value}
        last = rows[-1] if rows else None
        if (
            last is not None
            and len(last) == 1
            and _short(last[0])
            and len(choice.label) <= _SHORT_LABEL
        ):
            last.append(button)
        else:
            rows.append([button])
    return rows


def _link_rows(links: tuple[Link, ...]) -> list[list[dict[str, str]]]:
    """A row per link: InlineKeyboardButton.url opens the page, nothing comes back to the bot."""
    return [[{"text": link.label, "url": link.url}] for link in links]


def _short(button: dict[str, str]) -> bool:
    return len(button["text"]) <= _SHORT_LABEL


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds `limit`."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        # The strongest boundary in the second half of the window wins; else a hard cut.
        cut = next(
            (at for sep in ("\n\n", "\n", " ") if (at := window.rfind(sep)) > limit // 2), limit
        )
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts
