"""The fake WhatsApp Graph API over the local gateway, and the outbox both channels share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadbot.channels.whatsapp import WhatsAppClient
from leadbot.domain import Choice, DeliveryStatus, Outbound
from local.fake_telegram import FakeTelegram
from local.fake_whatsapp import FakeWhatsApp
from local.gateway import LocalGateway

NUMBER = "100000000000001"
TOKEN = "demo-whatsapp-access-token"
BOT_TOKEN = "123456789:AAE-secret-part"
LEAD = "971501234567"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[LocalGateway]:
    fake = FakeWhatsApp({NUMBER: TOKEN})
    with LocalGateway([], tmp_path, FakeTelegram(), fake_whatsapp=fake, port=0) as gw:
        yield gw


@pytest.fixture
def client(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c


def _whatsapp(gateway: LocalGateway, http: httpx.Client) -> WhatsAppClient:
    return WhatsAppClient(NUMBER, TOKEN, http=http, base_url=gateway.whatsapp_api_base)


def test_a_whatsapp_client_sends_through_the_gateway_and_lands_in_the_outbox(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    choices = tuple(Choice(label=f"Area {n}", value=f"area:{n}") for n in range(5))
    delivery = _whatsapp(gateway, client).send(LEAD, Outbound(text="Where?", choices=choices))
    assert delivery.status is DeliveryStatus.SENT
    (record,) = client.get("/_local/outbox").json()
    assert (record["channel"], record["method"], record["chat_id"]) == (
        "whatsapp",
        "messages",
        LEAD,
    )
    assert record["message_id"] == delivery.message_id
    assert record["payload"]["interactive"]["type"] == "list"


def test_the_outbox_keeps_telegrams_records_and_adds_a_channel_to_each(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    client.post(f"/_local/telegram/bot{BOT_TOKEN}/sendMessage", json={"chat_id": 42, "text": "tg"})
    _whatsapp(gateway, client).send(LEAD, Outbound(text="wa"))
    both = client.get("/_local/outbox").json()
    assert [r["channel"] for r in both] == ["telegram", "whatsapp"]
    telegram = both[0]
    assert {"method", "token", "chat_id", "payload", "at", "status"} <= set(telegram)
    assert (telegram["method"], telegram["payload"]["text"]) == ("sendMessage", "tg")
    only = client.get("/_local/outbox", params={"channel": "whatsapp"}).json()
    assert [r["payload"]["text"]["body"] for r in only] == ["wa"]
    assert [r["chat_id"] for r in client.get("/_local/outbox?channel=telegram").json()] == ["42"]
    assert client.get("/_local/outbox?channel=sms").status_code == 400
    assert client.delete("/_local/outbox").status_code == 204
    assert client.get("/_local/outbox").json() == []


def test_the_fake_checks_the_bearer_token_and_the_payload(client: httpx.Client) -> None:
    url = f"/_local/whatsapp/v21.0/{NUMBER}/messages"
    text = {"messaging_product": "whatsapp", "to": LEAD, "type": "text", "text": {"body": "Hi"}}
    assert client.post(url, json=text).status_code == 401
    wrong = client.post(url, json=text, headers={"Authorization": "Bearer nope"})
    assert wrong.json()["error"]["code"] == 190
    ok = client.post(url, json=text, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json()["messages"][0]["id"].startswith("wamid.")
    empty = {**text, "text": {"body": ""}}
    refused = client.post(url, json=empty, headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 131009
    assert client.get(url).status_code == 405


def test_a_fault_set_over_http_fails_the_next_send(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    fault = {"to": LEAD, "code": 131047, "message": "(#131047) Re-engagement message"}
    assert client.post("/_local/whatsapp/faults", json=fault).status_code == 204
    late = _whatsapp(gateway, client).send(LEAD, Outbound(text="Still there?"))
    assert (late.status, late.error_code) == (DeliveryStatus.FAILED, 131047)
    again = _whatsapp(gateway, client).send(LEAD, Outbound(text="Still there?"))
    assert again.status is DeliveryStatus.SENT
    assert client.post("/_local/whatsapp/faults", json={"code": "x"}).status_code == 400
