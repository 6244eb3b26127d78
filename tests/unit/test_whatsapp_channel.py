"""The WhatsApp channel without I/O: webhook bodies, signatures, rendering, the 24-hour rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from leadbot.channels.whatsapp import (
    OutsideWindow,
    Received,
    StatusUpdate,
    Unrouted,
    ValidationError,
    can_send_free_text,
    choice_for_number,
    parse_body,
    phone_number_ids,
    render,
    require_window,
    to_items,
    valid_signature,
    verification_challenge,
)
from leadbot.channels.whatsapp.render import MAX_TEXT, numbered
from leadbot.channels.whatsapp.signature import sign
from leadbot.domain import Channel, ChannelError, Choice, EventKind, InboundEvent, Link, Outbound
from tests.support import EVENTS

NUMBER = "100000000000001"
TENANTS = {NUMBER: "demo"}
WA_ID = "971501234567"
SECRET = "demo-app-secret"
SENT_AT = datetime.fromtimestamp(1795000000, tz=UTC)


def _raw(name: str) -> bytes:
    return (EVENTS / f"whatsapp_{name}.json").read_bytes()


def _items(name: str) -> list[Received | StatusUpdate | Unrouted]:
    return to_items(parse_body(_raw(name)), TENANTS)


def _event(name: str) -> InboundEvent:
    (item,) = _items(name)
    assert isinstance(item, Received)
    assert item.phone_number_id == NUMBER
    return item.event


# --- normalise ----------------------------------------------------------------------------


def test_a_text_names_the_lead_from_the_profile_and_keys_it_by_wa_id() -> None:
    event = _event("text")
    assert event.kind is EventKind.TEXT
    assert event.text == "Hello, I saw your ad"
    assert (event.tenant_id, event.channel) == ("demo", Channel.WHATSAPP)
    assert (event.external_id, event.name) == (WA_ID, "Sara Ahmadi")
    assert event.event_id == "wamid.HBgMOTcxNTAxMjM0NTY3FQIAEhgUM0E000001AA=="
    assert event.at == SENT_AT


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("button_reply", "goal:buy"),
        ("list_reply", "property_type:villa"),
        ("button", "followup:yes"),
    ],
)
def test_buttons_and_list_rows_come_back_as_the_choice_value_like_telegram(
    name: str, payload: str
) -> None:
    event = _event(name)
    assert (event.kind, event.payload) == (EventKind.CHOICE, payload)


def test_a_legacy_button_without_payload_is_read_as_its_text() -> None:
    body = json.loads(_raw("button"))
    del body["entry"][0]["changes"][0]["value"]["messages"][0]["button"]["payload"]
    (item,) = to_items(parse_body(json.dumps(body)), TENANTS)
    assert isinstance(item, Received)
    assert (item.event.kind, item.event.text) == (EventKind.TEXT, "Yes, call me")


def test_a_voice_note_goes_the_voice_way() -> None:
    event = _event("audio")
    assert (event.kind, event.media_id, event.media_type) == (
        EventKind.VOICE,
        "1234567890123456",
        "audio/ogg; codecs=opus",
    )


def test_a_location_reads_as_coordinates_as_on_telegram() -> None:
    event = _event("location")
    assert (event.kind, event.text) == (EventKind.LOCATION, "📍 25.08054,55.14034")


def test_a_shared_card_of_someone_else_is_a_contact_but_not_the_leads_own() -> None:
    event = _event("contacts")
    assert event.kind is EventKind.CONTACT
    assert event.contact_phone == "+971 50 765 4321"
    assert event.contact_is_own is False


def test_the_leads_own_card_counts_as_theirs() -> None:
    body = json.loads(_raw("contacts"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["contacts"][0]["phones"][0]["wa_id"] = WA_ID
    (item,) = to_items(parse_body(json.dumps(body)), TENANTS)
    assert isinstance(item, Received) and item.event.contact_is_own is True


def test_a_photo_is_unsupported_but_its_caption_is_kept() -> None:
    event = _event("image")
    assert (event.kind, event.text) == (EventKind.UNSUPPORTED, "Is this one still available?")


def test_a_message_type_whatsapp_cannot_pass_on_is_unsupported() -> None:
    event = _event("unsupported")
    assert (event.kind, event.text) == (EventKind.UNSUPPORTED, "")


@pytest.mark.parametrize("name", ["reaction", "system"])
def test_reactions_and_system_notices_get_no_reply(name: str) -> None:
    assert _items(name) == []


def test_a_statuses_only_body_gives_delivery_updates_and_no_messages() -> None:
    delivered, failed = _items("statuses")
    assert isinstance(delivered, StatusUpdate) and isinstance(failed, StatusUpdate)
    assert (delivered.status, delivered.error_code, delivered.recipient_id) == (
        "delivered",
        None,
        WA_ID,
    )
    assert delivered.at == SENT_AT + timedelta(seconds=100)
    assert (failed.status, failed.error_code) == ("failed", 131047)
    assert failed.error_title == "Re-engagement message"
    assert failed.message_id.startswith("wamid.")


def test_two_messages_and_a_second_entry_are_all_read_in_order() -> None:
    items = _items("two_messages")
    events = [item.event for item in items if isinstance(item, Received)]
    assert [(e.external_id, e.name, e.text) for e in events] == [
        (WA_ID, "Sara Ahmadi", "Hi"),
        (WA_ID, "Sara Ahmadi", "I want to buy"),
        ("971507654321", "Omar", "Salam"),
    ]
    assert len({e.event_id for e in events}) == 3


def test_a_number_no_tenant_owns_is_reported_not_acted_on() -> None:
    body = parse_body(_raw("two_messages"))
    assert phone_number_ids(body) == [NUMBER]
    assert to_items(body, {}) == [
        Unrouted(phone_number_id=NUMBER, messages=2, statuses=0),
        Unrouted(phone_number_id=NUMBER, messages=1, statuses=0),
    ]


def test_unknown_fields_and_changes_without_metadata_are_ignored() -> None:
    body = json.loads(_raw("text"))
    body["entry"][0]["changes"].append(
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
    )
    body["entry"][0]["changes"][0]["value"]["messages"][0]["brand_new_field"] = {"x": 1}
    items = to_items(parse_body(json.dumps(body)), TENANTS)
    assert [type(item) for item in items] == [Received]


def test_a_body_that_is_not_a_webhook_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_body(b'{"entry": []}')
    with pytest.raises(ValidationError):
        parse_body(b'{"object": "whatsapp_business_account", "entry": [{"changes": [{}]}]}')


FIXTURE_KINDS: dict[str, list[EventKind | str]] = {
    "whatsapp_text": [EventKind.TEXT],
    "whatsapp_button_reply": [EventKind.CHOICE],
    "whatsapp_list_reply": [EventKind.CHOICE],
    "whatsapp_button": [EventKind.CHOICE],
    "whatsapp_audio": [EventKind.VOICE],
    "whatsapp_location": [EventKind.LOCATION],
    "whatsapp_contacts": [EventKind.CONTACT],
    "whatsapp_image": [EventKind.UNSUPPORTED],
    "whatsapp_unsupported": [EventKind.UNSUPPORTED],
    "whatsapp_reaction": [],
    "whatsapp_system": [],
    "whatsapp_statuses": ["delivered", "failed"],
    "whatsapp_two_messages": [EventKind.TEXT] * 3,
}


def test_every_fixture_has_expected_items() -> None:
    assert {p.stem for p in EVENTS.glob("whatsapp_*.json")} == set(FIXTURE_KINDS)


@pytest.mark.parametrize(("name", "expected"), FIXTURE_KINDS.items())
def test_each_fixture_gives_its_items(name: str, expected: list[EventKind | str]) -> None:
    items = _items(name.removeprefix("whatsapp_"))
    got = [i.event.kind if isinstance(i, Received) else getattr(i, "status", i) for i in items]
    assert got == expected


# --- signature and subscription -----------------------------------------------------------


def test_the_signature_of_the_raw_body_passes() -> None:
    raw = _raw("text")
    assert valid_signature(SECRET, raw, sign(SECRET, raw))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "sha256=" + "0" * 64,
        sign("another-app-secret", b"{}"),
    ],
)
def test_a_missing_or_wrong_signature_fails(header: str | None) -> None:
    assert not valid_signature(SECRET, b"{}", header)


def test_a_re_serialised_body_no_longer_matches_its_signature() -> None:
    raw = _raw("text")
    again = json.dumps(json.loads(raw)).encode()
    assert not valid_signature(SECRET, again, sign(SECRET, raw))


def test_no_app_secret_accepts_nothing() -> None:
    assert not valid_signature("", b"{}", sign("", b"{}"))


def test_subscription_with_our_verify_token_echoes_the_challenge() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "demo-verify-token",
        "hub.challenge": "42",
    }
    assert verification_challenge(query, "demo-verify-token") == "42"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "demo-verify-token", "hub.challenge": "4"},
        {"hub.mode": "subscribe", "hub.challenge": "42"},
        {"hub.mode": "subscribe", "hub.verify_token": "demo-verify-token"},
        {},
    ],
)
def test_any_other_subscription_request_gets_no_challenge(query: dict[str, str]) -> None:
    assert verification_challenge(query, "demo-verify-token") is None


# --- render -------------------------------------------------------------------------------


def _choices(count: int, label: str = "Option") -> tuple[Choice, ...]:
    return tuple(Choice(label=f"{label} {n}", value=f"pick:{n}") for n in range(1, count + 1))


def test_three_choices_become_reply_buttons_carrying_the_values() -> None:
    (payload,) = render(WA_ID, Outbound(text="Buy or rent?", choices=_choices(3)))
    assert payload["messaging_product"] == "whatsapp" and payload["to"] == WA_ID
    interactive = payload["interactive"]
    assert (interactive["type"], interactive["body"]["text"]) == ("button", "Buy or rent?")
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": f"pick:{n}", "title": f"Option {n}"} for n in (1, 2, 3)
    ]


def test_a_25_char_button_title_is_shortened_with_an_ellipsis() -> None:
    choice = Choice(label="Cash or off-plan payments", value="payment:offplan")
    assert len(choice.label) == 25
    (payload,) = render(WA_ID, Outbound(text="How?", choices=(choice,)))
    title = payload["interactive"]["action"]["buttons"][0]["reply"]["title"]
    assert title == "Cash or off-plan pa…" and len(title) == 20


def test_four_choices_become_a_list_with_short_row_titles_and_the_full_label_below() -> None:
    choices = (*_choices(3), Choice(label="A villa with a private pool", value="villa"))
    (payload,) = render(WA_ID, Outbound(text="Which?", choices=choices), list_button="Choose")
    interactive = payload["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Choose"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == ["pick:1", "pick:2", "pick:3", "villa"]
    assert rows[-1]["title"] == "A villa with a private…" and len(rows[-1]["title"]) <= 24
    assert rows[-1]["description"] == "A villa with a private pool"
    assert "description" not in rows[0]


def test_eleven_choices_become_numbered_text_and_a_typed_number_maps_back() -> None:
    choices = _choices(11)
    (payload,) = render(WA_ID, Outbound(text="Which area?", choices=choices))
    assert payload["type"] == "text"
    assert payload["text"]["body"] == numbered("Which area?", choices)
    assert "\n2. Option 2\n" in payload["text"]["body"]
    assert payload["text"]["body"].endswith("11. Option 11")
    assert choice_for_number("2", choices) == "pick:2"
    assert choice_for_number(" 11. ", choices) == "pick:11"
    assert choice_for_number("٢", choices) == "pick:2"  # Arabic-Indic digits as typed in ar
    assert choice_for_number("۳", choices) == "pick:3"  # Persian digits as typed in fa
    for reply in ("0", "12", "two", "", "2 bedrooms"):
        assert choice_for_number(reply, choices) is None


def test_links_are_written_out_with_a_preview() -> None:
    link = Link(label="Marina brochure", url="https://demo.example/l/abc")
    (payload,) = render(WA_ID, Outbound(text="Here you are:", links=(link,)))
    assert payload["text"] == {
        "body": "Here you are:\n\nMarina brochure: https://demo.example/l/abc",
        "preview_url": True,
    }


def test_a_share_phone_request_is_plain_text_on_whatsapp() -> None:
    outbound = Outbound(text="May an agent call you?", request_contact="📱 Share my number")
    (payload,) = render(WA_ID, outbound)
    assert payload["type"] == "text"
    assert payload["text"]["body"] == "May an agent call you?"


def test_a_long_text_is_split_and_the_buttons_ride_on_a_short_last_part() -> None:
    text = ("Sea-view flat in Dubai Marina, 2 bedrooms.\n" * 300)[:10_000]
    payloads = render(WA_ID, Outbound(text=text, choices=_choices(2)))
    assert [p["type"] for p in payloads[:-1]] == ["text"] * (len(payloads) - 1)
    assert all(len(p["text"]["body"]) <= MAX_TEXT for p in payloads[:-1])
    last = payloads[-1]
    assert last["type"] == "interactive" and len(last["interactive"]["body"]["text"]) <= 1024
    words = [p["text"]["body"] for p in payloads[:-1]] + [last["interactive"]["body"]["text"]]
    assert " ".join(words).split() == text.split()


# --- the 24-hour window -------------------------------------------------------------------

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ago", "allowed"),
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), False),
    ],
)
def test_free_text_only_strictly_within_24_hours_of_the_last_message(
    ago: timedelta, allowed: bool
) -> None:
    assert can_send_free_text(NOW - ago, NOW) is allowed


def test_a_lead_who_never_wrote_cannot_get_free_text() -> None:
    assert can_send_free_text(None, NOW) is False


def test_outside_the_window_callers_get_a_typed_channel_error() -> None:
    require_window(NOW - timedelta(hours=1), NOW)
    with pytest.raises(OutsideWindow) as raised:
        require_window(NOW - timedelta(days=2), NOW)
    assert isinstance(raised.value, ChannelError) and raised.value.code == 131047


PHOTO = "https://demo.example/p/marina-2br.jpg"


def test_an_image_heads_a_reply_button_message() -> None:
    outbound = Outbound(text="Marina 2BR, AED 1.9M", choices=_choices(3), image=PHOTO)
    (payload,) = render(WA_ID, outbound)
    interactive = payload["interactive"]
    assert interactive["header"] == {"type": "image", "image": {"link": PHOTO}}
    assert (interactive["type"], interactive["body"]["text"]) == ("button", "Marina 2BR, AED 1.9M")


def test_an_image_with_plain_text_is_one_captioned_image_message() -> None:
    (payload,) = render(WA_ID, Outbound(text="Marina 2BR, AED 1.9M", image=PHOTO))
    assert payload["type"] == "image"
    assert payload["image"] == {"link": PHOTO, "caption": "Marina 2BR, AED 1.9M"}


def test_a_list_cannot_carry_an_image_so_the_image_goes_first() -> None:
    image, listed = render(WA_ID, Outbound(text="Which one?", choices=_choices(5), image=PHOTO))
    assert image["type"] == "image" and "caption" not in image["image"]
    assert listed["interactive"]["type"] == "list" and "header" not in listed["interactive"]


def test_a_text_too_long_for_a_caption_follows_an_uncaptioned_image() -> None:
    text = ("Sea view. " * 150).strip()
    image, message = render(WA_ID, Outbound(text=text, image=PHOTO))
    assert image["image"] == {"link": PHOTO}
    assert message["text"]["body"] == text
