"""Test helpers for WhatsApp: Meta-shaped webhook bodies, signed calls, the fake Graph API."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from leadbot.channels.whatsapp.signature import sign
from leadbot.services import whatsapp
from local.fake_whatsapp import FakeWhatsApp
from local.gateway import lambda_context, proxy_event
from local.seed import (
    DEMO_WHATSAPP_ACCESS_TOKEN,
    DEMO_WHATSAPP_APP_SECRET,
    DEMO_WHATSAPP_PHONE_NUMBER_ID,
    DEMO_WHATSAPP_VERIFY_TOKEN,
)
from tests.support import InProcessStack

_WAMIDS = itertools.count(1)


def wamid() -> str:
    return f"wamid.TEST{next(_WAMIDS):012d}=="


def body(
    *messages: dict[str, Any],
    statuses: tuple[dict[str, Any], ...] = (),
    number: str = DEMO_WHATSAPP_PHONE_NUMBER_ID,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One webhook body with one change, as Meta posts it."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "971800000001", "phone_number_id": number},
    }
    senders = dict.fromkeys((m["from"] for m in messages), "")
    senders.update(names or {})
    if senders:
        value["contacts"] = [
            {"profile": {"name": name}, "wa_id": wa_id} for wa_id, name in senders.items()
        ]
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


@dataclass
class WhatsAppLead:
    """One person writing to the demo agency's WhatsApp number."""

    wa_id: str = "971501234567"
    name: str = "Sara Ahmadi"

    def _message(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {
            "from": self.wa_id,
            "id": wamid(),
            "timestamp": str(int(time.time())),
            "type": kind,
            **fields,
        }

    def text(self, text: str) -> dict[str, Any]:
        return self._message("text", text={"body": text})

    def press(self, choice_id: str, title: str = "…") -> dict[str, Any]:
        """A reply button (≤ 3 choices) or list row (more): both carry the id we sent."""
        reply = {"id": choice_id, "title": title}
        return self._message(
            "interactive", interactive={"type": "button_reply", "button_reply": reply}
        )

    def pick(self, choice_id: str, title: str = "…") -> dict[str, Any]:
        reply = {"id": choice_id, "title": title}
        return self._message("interactive", interactive={"type": "list_reply", "list_reply": reply})

    def voice(self, media_id: str = "1") -> dict[str, Any]:
        """A voice note; `media_id` names media the fake Graph API keeps (put_media)."""
        audio = {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True}
        return self._message("audio", audio=audio)

    def body(self, *messages: dict[str, Any]) -> dict[str, Any]:
        return body(*messages, names={self.wa_id: self.name})

    def qualification(self, first: str = "Hi") -> list[dict[str, Any]]:
        """A whole journey up to the consent question (its answer is the caller's)."""
        return [
            self.body(self.text(first)),
            self.body(self.press("goal:buy")),
            self.body(self.text("2.5M AED")),
            self.body(self.pick("property_type:apartment")),
            self.body(self.text("Dubai Marina")),
            self.body(self.pick("timeline:3m")),
            self.body(self.pick("bedrooms:2")),
            self.body(self.press("payment:cash")),
        ]


@dataclass
class WhatsAppStack:
    """The WhatsApp webhook in-process over the test stack's tables; Meta's API faked."""

    stack: InProcessStack
    fake: FakeWhatsApp = field(default_factory=FakeWhatsApp)

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        handler = self.stack.handler("/whatsapp")
        response: dict[str, Any] = handler(event, lambda_context("WebhookWhatsAppFunction"))
        return response

    def post(
        self,
        payload: dict[str, Any] | str | bytes,
        secret: str | None = DEMO_WHATSAPP_APP_SECRET,
        signature: str | None = None,
    ) -> dict[str, Any]:
        raw = (
            payload
            if isinstance(payload, bytes)
            else (payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
        )
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        elif secret is not None:
            headers["X-Hub-Signature-256"] = sign(secret, raw)
        return self.call(proxy_event("/whatsapp", "POST", "/whatsapp", headers.items(), raw))

    def get(self, **query: str) -> dict[str, Any]:
        return self.call(
            proxy_event("/whatsapp", "GET", "/whatsapp", [], b"", query=urlencode(query))
        )

    def subscribe(self, token: str = DEMO_WHATSAPP_VERIFY_TOKEN) -> dict[str, Any]:
        return self.get(
            **{"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
        )

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """Messages sent (read receipts left out), newest last."""
        return [
            c
            for c in self.fake.outbox()
            if "to" in c["payload"] and (to is None or c["payload"]["to"] == to)
        ]

    def receipts(self) -> list[str]:
        return [
            c["payload"]["message_id"]
            for c in self.fake.outbox()
            if c["payload"].get("status") == "read"
        ]

    def last_text(self, to: str) -> str:
        payload = self.sent(to)[-1]["payload"]
        if payload["type"] == "interactive":
            text: str = payload["interactive"]["body"]["text"]
            return text
        text = payload["text"]["body"]
        return text


def fake_transport(fake: FakeWhatsApp) -> httpx.MockTransport:
    """The fake Graph API behind httpx: requests and answers in Meta's JSON wire format."""

    def handle(request: httpx.Request) -> httpx.Response:
        _, version, number, _ = request.url.path.rsplit("/", 3)
        payload = json.loads(request.content or b"{}")
        status, answer = fake.handle(version, number, request.headers.get("Authorization"), payload)
        return httpx.Response(status, json=answer)

    return httpx.MockTransport(handle)


def use_fake_whatsapp(stack: InProcessStack) -> Iterator[WhatsAppStack]:
    """Point the WhatsApp client at an in-process fake Graph API for the test."""
    fake = FakeWhatsApp({DEMO_WHATSAPP_PHONE_NUMBER_ID: DEMO_WHATSAPP_ACCESS_TOKEN})
    original = whatsapp.http_client
    client = httpx.Client(transport=fake_transport(fake))
    whatsapp.http_client = lambda: client  # type: ignore[assignment]
    whatsapp.reset()
    try:
        yield WhatsAppStack(stack=stack, fake=fake)
    finally:
        whatsapp.http_client = original  # type: ignore[assignment]
        whatsapp.reset()
