"""The WhatsApp client against the fake Graph API, and the fake's own refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from leadbot.channels.whatsapp import WhatsAppClient
from leadbot.domain import Choice, DeliveryStatus, Outbound
from local.fake_whatsapp import FakeWhatsApp

NUMBER = "100000000000001"
TOKEN = "demo-whatsapp-access-token"
LEAD = "971501234567"


def fake_transport(fake: FakeWhatsApp) -> httpx.MockTransport:
    """The fake behind httpx, as Graph's /{version}/{phone_number_id}/messages."""

    def handle(request: httpx.Request) -> httpx.Response:
        _, version, number, _ = request.url.path.split("/")
        status, body = fake.handle(
            version, number, request.headers.get("Authorization"), json.loads(request.content)
        )
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


@pytest.fixture
def fake() -> FakeWhatsApp:
    return FakeWhatsApp({NUMBER: TOKEN})


@pytest.fixture
def http(fake: FakeWhatsApp) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake_transport(fake)) as client:
        yield client


def _client(http: httpx.Client, token: str = TOKEN, number: str = NUMBER) -> WhatsAppClient:
    return WhatsAppClient(number, token, http=http)


def test_a_send_is_sent_with_the_wamid_graph_returns(
    fake: FakeWhatsApp, http: httpx.Client
) -> None:
    choices = (Choice(label="Buy", value="goal:buy"), Choice(label="Rent", value="goal:rent"))
    delivery = _client(http).send(LEAD, Outbound(text="Buy or rent?", choices=choices))
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.message_id is not None and delivery.message_id.startswith("wamid.")
    (call,) = fake.outbox()
    assert (call["channel"], call["chat_id"], call["status"]) == ("whatsapp", LEAD, 200)
    assert call["version"] == "v21.0" and call["phone_number_id"] == NUMBER
    assert call["payload"]["interactive"]["type"] == "button"


def test_every_rendered_part_is_sent_and_the_last_id_kept(
    fake: FakeWhatsApp, http: httpx.Client
) -> None:
    delivery = _client(http).send(LEAD, Outbound(text="word " * 2000))
    assert len(fake.outbox()) == 3
    assert delivery.status is DeliveryStatus.SENT
    assert delivery.message_id == fake.outbox()[-1]["message_id"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (131026, DeliveryStatus.BLOCKED),
        (130429, DeliveryStatus.RATE_LIMITED),
        (131056, DeliveryStatus.RATE_LIMITED),
        (131047, DeliveryStatus.FAILED),
        (131000, DeliveryStatus.FAILED),
    ],
)
def test_graph_errors_become_delivery_statuses_not_crashes(
    fake: FakeWhatsApp, http: httpx.Client, code: int, status: DeliveryStatus
) -> None:
    fake.fail_next(LEAD, code, f"({code}) refused")
    delivery = _client(http).send(LEAD, Outbound(text="Still looking?"))
    assert (delivery.status, delivery.error_code) == (status, code)
    assert delivery.message_id is None and f"({code})" in (delivery.error or "")


def test_a_wrong_access_token_fails_the_delivery(http: httpx.Client) -> None:
    delivery = _client(http, token="stolen").send(LEAD, Outbound(text="Hi"))
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, 190)


def test_a_network_failure_fails_the_delivery() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as http:
        delivery = _client(http).send(LEAD, Outbound(text="Hi"))
    assert delivery.status is DeliveryStatus.FAILED and delivery.error_code is None


def test_a_template_goes_out_with_its_language_and_parameters(
    fake: FakeWhatsApp, http: httpx.Client
) -> None:
    delivery = _client(http).send_template(LEAD, "lead_followup", "ar", ["Sara", "Demo Realty"])
    assert delivery.status is DeliveryStatus.SENT
    template = fake.outbox()[-1]["payload"]["template"]
    assert template == {
        "name": "lead_followup",
        "language": {"code": "ar"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Sara"},
                    {"type": "text", "text": "Demo Realty"},
                ],
            }
        ],
    }


def test_acknowledging_marks_read_sends_the_read_receipt_and_swallows_failures(
    fake: FakeWhatsApp, http: httpx.Client
) -> None:
    _client(http).acknowledge("wamid.INBOUND")
    _client(http, token="stolen").acknowledge("wamid.INBOUND")
    ok, refused = fake.outbox()
    assert ok["payload"] == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.INBOUND",
    }
    assert (ok["status"], refused["status"]) == (200, 401)


# --- the fake refuses what Graph refuses --------------------------------------------------


def _send(fake: FakeWhatsApp, payload: dict[str, object]) -> tuple[int, dict[str, object]]:
    body = {"messaging_product": "whatsapp", "to": LEAD, **payload}
    return fake.handle("v21.0", NUMBER, f"Bearer {TOKEN}", body)


def _buttons(*titles: str) -> dict[str, object]:
    buttons = [
        {"type": "reply", "reply": {"id": f"b{n}", "title": t}} for n, t in enumerate(titles)
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "Pick"}, "action": {"buttons": buttons}},
    }


def test_the_fake_answers_a_send_in_graphs_shape(fake: FakeWhatsApp) -> None:
    status, body = _send(fake, {"type": "text", "text": {"body": "Hi"}})
    assert status == 200
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": LEAD, "wa_id": LEAD}]


@pytest.mark.parametrize(
    "payload",
    [
        _buttons("A", "B", "C", "D"),
        _buttons("A title of 21 chars.."),
        _buttons("Same", "Same"),
        {"type": "text", "text": {"body": ""}},
        {"type": "text", "text": {"body": "x" * 4097}},
        {"type": "template", "template": {"name": "x"}},
    ],
)
def test_the_fake_refuses_payloads_graph_would_refuse(
    fake: FakeWhatsApp, payload: dict[str, object]
) -> None:
    status, body = _send(fake, payload)
    assert status == 400
    error = body["error"]
    assert isinstance(error, dict) and {"message", "type", "code", "fbtrace_id"} <= set(error)


def test_the_fake_refuses_a_list_of_eleven_rows(fake: FakeWhatsApp) -> None:
    rows = [{"id": f"r{n}", "title": f"Row {n}"} for n in range(11)]
    interactive = {
        "type": "list",
        "body": {"text": "Pick"},
        "action": {"button": "Choose", "sections": [{"rows": rows}]},
    }
    status, _ = _send(fake, {"type": "interactive", "interactive": interactive})
    assert status == 400
    interactive["action"]["sections"][0]["rows"] = rows[:10]  # type: ignore[index]
    assert _send(fake, {"type": "interactive", "interactive": interactive})[0] == 200


def test_the_fake_knows_only_its_registered_numbers_and_their_tokens(fake: FakeWhatsApp) -> None:
    text = {"messaging_product": "whatsapp", "to": LEAD, "type": "text", "text": {"body": "Hi"}}
    unknown = fake.handle("v21.0", "999", f"Bearer {TOKEN}", text)
    assert unknown[0] == 400 and unknown[1]["error"]["code"] == 100
    assert fake.handle("v21.0", NUMBER, None, text)[0] == 401
    assert fake.handle("v21.0", NUMBER, "Bearer nope", text)[1]["error"]["code"] == 190


PHOTO = "https://demo.example/p/marina-2br.jpg"


@pytest.mark.parametrize("count", [0, 2, 5])
def test_graph_accepts_a_listing_with_its_picture_however_it_is_rendered(
    fake: FakeWhatsApp, http: httpx.Client, count: int
) -> None:
    choices = tuple(Choice(label=f"Option {n}", value=f"o:{n}") for n in range(count))
    outbound = Outbound(text="Marina 2BR, AED 1.9M", choices=choices, image=PHOTO)
    delivery = _client(http).send(LEAD, outbound)
    assert delivery.status is DeliveryStatus.SENT
    assert [c["status"] for c in fake.outbox()] == [200] * len(fake.outbox())
    assert any(PHOTO in json.dumps(c["payload"]) for c in fake.outbox())


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "image", "image": {}}, "exactly one of id or link"),
        ({"type": "image", "image": {"id": "1", "link": PHOTO}}, "exactly one of id or link"),
        ({"type": "image", "image": {"link": "file:///etc/passwd"}}, "http(s) URL"),
        ({"type": "image", "image": {"link": PHOTO, "caption": "x" * 1025}}, "Caption length"),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "header": {"type": "image", "image": {"link": PHOTO}},
                    "body": {"text": "Which?"},
                    "action": {
                        "button": "Choose",
                        "sections": [{"rows": [{"id": "a", "title": "A"}]}],
                    },
                },
            },
            "Header type must be one of text",
        ),
    ],
)
def test_graph_refuses_images_it_would_refuse(
    fake: FakeWhatsApp, message: dict[str, object], error: str
) -> None:
    payload = {"messaging_product": "whatsapp", "to": LEAD, **message}
    status, body = fake.handle("v21.0", NUMBER, f"Bearer {TOKEN}", payload)
    assert status == 400 and error in body["error"]["error_data"]["details"]
