"""Outbound → WhatsApp Cloud API message payloads, within its limits.

Choices become up to 3 reply buttons, else a list of up to 10 rows, else numbered text that
the lead answers by typing a number: `choice_for_number` maps that reply back to the choice's
value, so the engine sees the same CHOICE as from a button. WhatsApp has no URL buttons outside
approved templates, so links are written out as text; nor a share-phone button, and it needs
none: the sender's number is already known (its wa_id), so `request_contact` is just the text.
An image (a listing's photo) leads the message: a reply-button message's header, else an image
message captioned with the text when it fits.
"""

from __future__ import annotations

from typing import Any

from leadbot.channels.telegram.render import split_text
from leadbot.domain import Choice, Link, Outbound

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024  # also an image caption's limit
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
ELLIPSIS = "…"

Payload = dict[str, Any]


def render(to: str, outbound: Outbound, *, list_button: str = "Choose") -> list[Payload]:
    """One payload per message to send, in order; the choices ride on the last one.

    `list_button` labels the button that opens a list (the caller knows the lead's language).
    """
    payloads = _payloads(to, outbound, list_button)
    return _with_image(to, payloads, outbound.image) if outbound.image else payloads


def _payloads(to: str, outbound: Outbound, list_button: str) -> list[Payload]:
    text = _with_links(outbound.text, outbound.links)
    choices = outbound.choices
    if len(choices) > MAX_ROWS:
        text = numbered(text, choices)
        choices = ()
    if not choices:
        return [_text(to, part, bool(outbound.links)) for part in split_text(text, MAX_TEXT)]
    # An interactive body holds 1024 characters; what comes before goes as plain text.
    parts = split_text(text, MAX_TEXT)
    tail = split_text(parts.pop(), MAX_INTERACTIVE_BODY)
    body = tail.pop()
    leading = [_text(to, part, bool(outbound.links)) for part in [*parts, *tail]]
    action = _buttons(choices) if len(choices) <= MAX_BUTTONS else _list(choices, list_button)
    interactive = {"type": action.pop("type"), "body": {"text": body}, "action": action}
    return [*leading, {**_envelope(to), "type": "interactive", "interactive": interactive}]


def _with_image(to: str, payloads: list[Payload], link: str) -> list[Payload]:
    """The picture leads: as the header of a lone button message, else as an image message
    whose caption is the first text when that fits 1024 characters, else before the text."""
    first = payloads[0]
    interactive = first.get("interactive") or {}
    if len(payloads) == 1 and interactive.get("type") == "button":
        header = {"type": "image", "image": {"link": link}}
        return [{**first, "interactive": {"header": header, **interactive}}]
    image: Payload = {"link": link}
    rest = payloads
    if first["type"] == "text" and 0 < len(first["text"]["body"]) <= MAX_INTERACTIVE_BODY:
        image["caption"] = first["text"]["body"]
        rest = payloads[1:]
    return [{**_envelope(to), "type": "image", "image": image}, *rest]


def numbered(text: str, choices: tuple[Choice, ...]) -> str:
    """The text followed by "1. label" lines, for more choices than a list message holds."""
    lines = [f"{number}. {choice.label}" for number, choice in enumerate(choices, start=1)]
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def choice_for_number(reply: str, choices: tuple[Choice, ...]) -> str | None:
    """The value of the choice a typed number picks ("2", " 2. ", Arabic-Indic "٢"), else None.

    The webhook calls this on a TEXT reply to a numbered question and, on a match, hands the
    engine a CHOICE with this value, as if a button had been pressed.
    """
    cleaned = reply.strip().rstrip(".)").strip()
    if not cleaned.isdecimal():
        return None
    number = int(cleaned)  # int() reads every script's decimal digits
    return choices[number - 1].value if 1 <= number <= len(choices) else None


def shorten(label: str, limit: int) -> str:
    """`label` cut to `limit` characters, an ellipsis marking the cut."""
    label = label.strip()
    return label if len(label) <= limit else label[: limit - 1].rstrip() + ELLIPSIS


def _envelope(to: str) -> Payload:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def _text(to: str, body: str, preview_url: bool) -> Payload:
    return {**_envelope(to), "type": "text", "text": {"body": body, "preview_url": preview_url}}


def _with_links(text: str, links: tuple[Link, ...]) -> str:
    lines = [f"{link.label}: {link.url}" for link in links]
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def _buttons(choices: tuple[Choice, ...]) -> Payload:
    buttons = [
        {"type": "reply", "reply": {"id": c.value, "title": shorten(c.label, MAX_BUTTON_TITLE)}}
        for c in choices
    ]
    return {"type": "button", "buttons": buttons}


def _list(choices: tuple[Choice, ...], button: str) -> Payload:
    rows: list[Payload] = []
    for choice in choices:
        row: Payload = {"id": choice.value, "title": shorten(choice.label, MAX_ROW_TITLE)}
        if row["title"] != choice.label.strip():
            # The whole label still reaches the lead, in the row's second line.
            row["description"] = shorten(choice.label, MAX_ROW_DESCRIPTION)
        rows.append(row)
    return {
        "type": "list",
        "button": shorten(button, MAX_LIST_BUTTON),
        "sections": [{"rows": rows}],
    }
