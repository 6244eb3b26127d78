"""The Telegram channel without I/O: rendering, the Bot API client, normalising updates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from leadbot.channels.telegram import TelegramClient, parse_update, render, to_inbound
from leadbot.channels.telegram.client import FileTooBig
from leadbot.channels.telegram.render import MAX_TEXT, CallbackDataTooLong
from leadbot.conversation import Ctx, step
from leadbot.domain import (
    Catalog,
    Channel,
    ChannelBlocked,
    ChannelError,
    Choice,
    DeliveryStatus,
    EventKind,
    InboundEvent,
    Language,
    Lead,
    Link,
    Outbound,
    Tenant,
)
from local.fake_telegram import FakeTelegram
from tests.support import EVENTS, Updates, event_payload, fake_transport

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TOKEN = "100000001:test-token"
CHAT = "700000001"
GOAL_CHOICES = (
    Choice(label="Buy", value="goal:buy"),
    Choice(label="Rent", value="goal:rent"),
    Choice(label="Invest", value="goal:invest"),
)

# --- render -------------------------------------------------------------------------------


def test_given_a_10000_char_text_when_rendered_then_3_parts_split_between_words() -> None:
    text = ("Sea-view flat in Dubai Marina, 2 bedrooms.\n" * 300)[:10_000]
    payloads = render(CHAT, Outbound(text=text, choices=GOAL_CHOICES))
    assert len(payloads) == 3
    assert all(len(p["text"]) <= MAX_TEXT and p["chat_id"] == CHAT for p in payloads)
    assert " ".join(p["text"] for p in payloads).split() == text.split()
    assert [("reply_markup" in p) for p in payloads] == [False, False, True]


def test_given_a_long_text_with_paragraphs_when_split_then_the_cut_is_at_a_paragraph() -> None:
    first = "word " * 700  # 3,500 chars, then a paragraph break well inside the first window
    parts = render(CHAT, Outbound(text=first.strip() + "\n\n" + "more " * 400))
    assert parts[0]["text"] == first.strip()


def test_choices_render_as_an_inline_keyboard_short_labels_two_per_row() -> None:
    long = Choice(label="Off-plan with a payment plan", value="payment:installments")
    (payload,) = render(CHAT, Outbound(text="Pick one", choices=(*GOAL_CHOICES, long)))
    assert payload["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Buy", "callback_data": "goal:buy"},
                {"text": "Rent", "callback_data": "goal:rent"},
            ],
            [{"text": "Invest", "callback_data": "goal:invest"}],
            [{"text": long.label, "callback_data": "payment:installments"}],
        ]
    }


def test_a_share_phone_button_is_a_one_time_reply_keyboard() -> None:
    (payload,) = render(CHAT, Outbound(text="Your phone?", request_contact="📱 Share my number"))
    assert payload["reply_markup"] == {
        "keyboard": [[{"text": "📱 Share my number", "request_contact": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


def test_remove_keyboard_renders_as_remove_keyboard_and_plain_text_has_no_markup() -> None:
    (removed,) = render(CHAT, Outbound(text="Thanks!", remove_keyboard=True))
    (plain,) = render(CHAT, Outbound(text="Hello"))
    assert removed["reply_markup"] == {"remove_keyboard": True}
    assert plain == {"chat_id": CHAT, "text": "Hello"}


def test_links_render_as_url_buttons_a_row_each_after_the_choices() -> None:
    links = (
        Link(label="Marina Residences brochure", url="https://demo-agency.example/c/abc"),
        Link(label="Price list", url="https://demo-agency.example/c/def"),
    )
    (only_links,) = render(CHAT, Outbound(text="Brochures", links=links))
    assert only_links["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Marina Residences brochure", "url": "https://demo-agency.example/c/abc"}],
            [{"text": "Price list", "url": "https://demo-agency.example/c/def"}],
        ]
    }
    (both,) = render(CHAT, Outbound(text="?", choices=GOAL_CHOICES[:1], links=links[:1]))
    assert both["reply_markup"]["inline_keyboard"] == [
        [{"text": "Buy", "callback_data": "goal:buy"}],
        [{"text": "Marina Residences brochure", "url": "https://demo-agency.example/c/abc"}],
    ]


def test_a_choice_value_over_64_utf8_bytes_is_refused_before_sending() -> None:
    persian = "ب" * 40  # 40 characters, 80 bytes
    with pytest.raises(CallbackDataTooLong):
        render(CHAT, Outbound(text="?", choices=(Choice(label="x", value=persian),)))


def _journey(lang: Language) -> list[Outbound]:
    """Everything the conversation says to one lead who answers every question, in `lang`."""
    brochure = Catalog(catalog_id="marina", title="Marina", url="https://x.example/m.pdf")
    tenant = Tenant(tenant_id="demo", name="Demo Realty", catalogs=(brochure,))
    ctx = Ctx(tenant=tenant, now=NOW, catalog_url=lambda lead, c: f"https://l.example/c/{c}")
    lead = Lead(
        tenant_id="demo",
        lead_id="01LEAD",
        channel=Channel.TELEGRAM,
        external_id=CHAT,
        created_at=NOW,
        updated_at=NOW,
    )
    answers: list[dict[str, Any]] = [
        {"kind": EventKind.START, "payload": "qr_expo", "language_hint": lang.value},
        {"kind": EventKind.LANGUAGE},
        {"kind": EventKind.CHOICE, "payload": "goal:buy"},
        {"kind": EventKind.TEXT, "text": "2500000"},
        {"kind": EventKind.CHOICE, "payload": "property_type:apartment"},
        {"kind": EventKind.TEXT, "text": "Dubai Marina"},
        {"kind": EventKind.CHOICE, "payload": "timeline:3m"},
        {"kind": EventKind.CHOICE, "payload": "bedrooms:2"},
        {"kind": EventKind.CHOICE, "payload": "payment:cash"},
        {"kind": EventKind.CONTACT, "contact_phone": "+971501234567", "contact_is_own": True},
        {"kind": EventKind.STOP},
    ]
    said: list[Outbound] = []
    for i, fields in enumerate(answers):
        event = InboundEvent(
            tenant_id="demo",
            channel=Channel.TELEGRAM,
            event_id=str(i),
            external_id=CHAT,
            at=NOW,
            **fields,
        )
        decision = step(lead, event, ctx)
        lead = decision.lead
        said += decision.outbound
    assert lead.phone == "+971501234567"
    return said


@pytest.mark.parametrize("lang", list(Language))
def test_the_fake_bot_api_accepts_every_message_of_the_conversation(lang: Language) -> None:
    fake = FakeTelegram()
    outbounds = _journey(lang)
    payloads = [p for outbound in outbounds for p in render(CHAT, outbound)]
    answers = [fake.handle(TOKEN, "sendMessage", p) for p in payloads]
    assert [status for status, _ in answers] == [200] * len(payloads)
    assert any(o.choices for o in outbounds) and any(o.request_contact for o in outbounds)
    assert any(o.links for o in outbounds)


# --- client -------------------------------------------------------------------------------


def _client(
    fake_or_handler: FakeTelegram | Callable[[httpx.Request], httpx.Response],
    slept: list[float] | None = None,
) -> TelegramClient:
    transport = (
        fake_transport(fake_or_handler)
        if isinstance(fake_or_handler, FakeTelegram)
        else httpx.MockTransport(fake_or_handler)
    )
    sleep = slept.append if slept is not None else _no_sleep
    return TelegramClient(TOKEN, http=httpx.Client(transport=transport), sleep=sleep)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the client waited {seconds} s")


def test_given_a_429_with_retry_after_1_then_it_waits_1s_and_sends() -> None:
    fake, slept = FakeTelegram(), []
    fake.fail_next(CHAT, 429, "Too Many Requests: retry after 1", retry_after=1)
    delivery = _client(fake, slept).send(CHAT, Outbound(text="Hi"))
    assert slept == [1.0]
    assert delivery.status is DeliveryStatus.SENT and delivery.message_id == "1"
    assert [c["status"] for c in fake.outbox()] == [429, 200]


def test_given_a_429_with_retry_after_30_then_it_does_not_wait_and_reports_rate_limited() -> None:
    fake = FakeTelegram()
    fake.fail_next(CHAT, 429, "Too Many Requests: retry after 30", retry_after=30)
    delivery = _client(fake).send(CHAT, Outbound(text="Hi"))
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.RATE_LIMITED, 429)
    assert len(fake.outbox()) == 1


def test_given_the_user_blocked_the_bot_then_403_is_blocked() -> None:
    fake = FakeTelegram()
    fake.fail_next(CHAT, 403, "Forbidden: bot was blocked by the user", times=2)
    client = _client(fake)
    assert client.send(CHAT, Outbound(text="Hi")).status is DeliveryStatus.BLOCKED
    with pytest.raises(ChannelBlocked):
        client.call("sendMessage", {"chat_id": CHAT, "text": "Hi"})


def test_given_a_bad_request_then_the_delivery_failed_with_code_400() -> None:
    fake = FakeTelegram()
    fake.fail_next(CHAT, 400, "Bad Request: chat not found")
    delivery = _client(fake).send(CHAT, Outbound(text="Hi"))
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, 400)
    assert delivery.error is not None and "chat not found" in delivery.error


def test_given_the_network_fails_then_failed_and_a_retryable_channel_error() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = _client(unreachable)
    assert client.send(CHAT, Outbound(text="Hi")).status is DeliveryStatus.FAILED
    with pytest.raises(ChannelError) as raised:
        client.call("sendMessage", {"chat_id": CHAT, "text": "Hi"})
    assert raised.value.retryable and not isinstance(raised.value, ChannelBlocked)


def test_given_a_gateway_page_instead_of_json_then_the_delivery_failed() -> None:
    client = _client(lambda request: httpx.Response(502, text="<html>Bad Gateway</html>"))
    delivery = client.send(CHAT, Outbound(text="Hi"))
    assert (delivery.status, delivery.error_code) == (DeliveryStatus.FAILED, 502)


def test_a_long_message_is_sent_in_parts_and_the_last_message_id_is_kept() -> None:
    fake = FakeTelegram()
    delivery = _client(fake).send(CHAT, Outbound(text="word " * 2000))
    assert len(fake.outbox()) == 3 and delivery.message_id == "3"


def test_answering_a_button_press_never_raises() -> None:
    fake = FakeTelegram()
    fake.fail_next(None, 400, "Bad Request: query is too old and response timeout expired")
    assert _client(fake).acknowledge("4382bfdwdsb323b2d9") is None
    assert fake.outbox()[0]["method"] == "answerCallbackQuery"

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    _client(unreachable).acknowledge("4382bfdwdsb323b2d9")


def test_a_file_a_user_sent_is_downloaded_with_get_file_and_its_path() -> None:
    fake = FakeTelegram()
    voice = b"OggS\x00\x02" + b"voice" * 100
    sent = fake.put_file(voice, "audio/ogg")
    assert _client(fake).download_file(sent["file_id"]) == voice
    assert [c["method"] for c in fake.outbox()] == ["getFile", "download"]


def test_a_file_over_the_limit_or_unknown_is_a_channel_error_before_any_download() -> None:
    fake = FakeTelegram()
    sent = fake.put_file(b"OggS" + b"x" * 2000, "audio/ogg")
    with pytest.raises(FileTooBig):
        _client(fake).download_file(sent["file_id"], max_bytes=1000)
    with pytest.raises(ChannelError, match="invalid file_id") as unknown:
        _client(fake).download_file("AwACAgIAAxkBAAIgone")
    assert not unknown.value.retryable
    assert [c["method"] for c in fake.outbox()] == ["getFile", "getFile"]


# --- normalize ----------------------------------------------------------------------------

FIXTURE_KINDS: dict[str, EventKind | None] = {
    "telegram_text": EventKind.TEXT,
    "telegram_start_qr": EventKind.START,
    "telegram_callback": EventKind.CHOICE,
    "telegram_contact": EventKind.CONTACT,
    "telegram_voice": EventKind.VOICE,
    "telegram_my_chat_member_kicked": EventKind.BLOCKED,
    "telegram_group_message": None,
    "telegram_channel_post": None,
}


def _inbound(update: dict[str, Any]) -> InboundEvent | None:
    return to_inbound("demo", parse_update(json.dumps(update)), NOW)


def test_every_fixture_has_an_expected_kind() -> None:
    assert {p.stem for p in EVENTS.glob("telegram_*.json")} == set(FIXTURE_KINDS)


@pytest.mark.parametrize(("name", "kind"), FIXTURE_KINDS.items())
def test_each_fixture_maps_to_its_event_kind(name: str, kind: EventKind | None) -> None:
    event = _inbound(event_payload(name))
    assert (event.kind if event else None) is kind
    if event is not None:
        assert (event.tenant_id, event.channel, event.external_id) == (
            "demo",
            Channel.TELEGRAM,
            CHAT,
        )


def test_a_text_message_carries_who_sent_it() -> None:
    event = _inbound(event_payload("telegram_text"))
    assert event is not None
    assert (event.text, event.name, event.username) == ("Hello", "Sara Ahmadi", "sara_a")
    assert (event.event_id, event.at) == ("100000001", datetime.fromtimestamp(1795000000, UTC))


def test_a_button_press_carries_its_data_and_callback_query_id() -> None:
    event = _inbound(event_payload("telegram_callback"))
    assert event is not None
    assert (event.payload, event.receipt_id) == ("goal:buy", "4382bfdwdsb323b2d9")


@pytest.mark.parametrize(
    ("text", "kind", "payload"),
    [
        ("/start qr_expo", EventKind.START, "qr_expo"),
        ("/start@SomeBot qr_x", EventKind.START, "qr_x"),
        ("/start", EventKind.START, ""),
        ("/set_admin abc", EventKind.SET_ADMIN, "abc"),
        ("/stop", EventKind.STOP, ""),
        ("/language", EventKind.LANGUAGE, ""),
        ("/unknown thing", EventKind.TEXT, ""),
    ],
)
def test_commands_become_their_event_kind_with_the_argument(
    text: str, kind: EventKind, payload: str
) -> None:
    event = _inbound(Updates(700_000_001).text(text))
    assert event is not None and (event.kind, event.payload) == (kind, payload)


def test_someone_elses_contact_card_is_not_the_senders_own() -> None:
    chat = Updates(700_000_001)
    own, forwarded = (
        _inbound(chat.contact("+971501234567")),
        _inbound(chat.contact("+971", user_id=5)),
    )
    assert own is not None and forwarded is not None
    assert (own.contact_is_own, forwarded.contact_is_own) == (True, False)
    assert own.contact_phone == "+971501234567"


def test_blocking_and_unblocking_the_bot() -> None:
    blocked = Updates(700_000_001).blocked()
    unblocked = Updates(700_000_001).blocked()
    unblocked["my_chat_member"]["new_chat_member"]["status"] = "member"
    kinds = [e.kind if e else None for e in (_inbound(blocked), _inbound(unblocked))]
    assert kinds == [EventKind.BLOCKED, EventKind.UNBLOCKED]


PHOTO = "https://demo.example/p/marina-2br.jpg"


def test_an_image_with_a_short_text_is_one_photo_captioned_with_it_and_its_buttons() -> None:
    choices = (Choice(label="Interested", value="prop:1:yes"),)
    (payload,) = render(CHAT, Outbound(text="Marina 2BR, AED 1.9M", choices=choices, image=PHOTO))
    assert (payload["photo"], payload["caption"]) == (PHOTO, "Marina 2BR, AED 1.9M")
    assert "text" not in payload and payload["reply_markup"]["inline_keyboard"]


def test_a_text_too_long_for_a_caption_follows_the_photo_with_the_buttons_on_it() -> None:
    text = ("Sea view. " * 150).strip()  # ~1500 characters: a message, not a caption
    choices = (Choice(label="Interested", value="prop:1:yes"),)
    photo, message = render(CHAT, Outbound(text=text, choices=choices, image=PHOTO))
    assert photo == {"chat_id": CHAT, "photo": PHOTO}
    assert message["text"] == text and "reply_markup" in message


def test_the_client_sends_the_photo_with_send_photo_and_keeps_the_last_message_id() -> None:
    fake = FakeTelegram()
    text = "Sea view. " * 150
    delivery = _client(fake).send(CHAT, Outbound(text=text, image=PHOTO))
    assert [(c["method"], c["status"]) for c in fake.outbox()] == [
        ("sendPhoto", 200),
        ("sendMessage", 200),
    ]
    assert delivery.status is DeliveryStatus.SENT and delivery.message_id == "2"


def test_a_voice_note_carries_its_file_for_the_service_to_fetch() -> None:
    event = _inbound(event_payload("telegram_voice"))
    assert event is not None
    assert (event.kind, event.media_id, event.media_type, event.media_size) == (
        EventKind.VOICE,
        "AwACAgIAAxkBAAIBQ",
        "audio/ogg",
        9000,
    )
    assert not event.voice
