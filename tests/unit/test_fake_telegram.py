"""The fake Telegram Bot API: wire format, validation like the real API, fault injection."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest

from local.fake_telegram import FakeTelegram

TOKEN = "123456789:AAE-secret-part"


@pytest.fixture
def tg() -> FakeTelegram:
    return FakeTelegram()


def test_send_message_returns_a_message(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "Buy", "callback_data": "intent:buy"}]]}
    status, body = tg.handle(
        TOKEN, "sendMessage", {"chat_id": 42, "text": "hi", "reply_markup": markup}
    )
    assert status == 200
    assert body["ok"] is True
    msg = body["result"]
    assert msg["message_id"] == 1
    assert msg["chat"] == {"id": 42, "type": "private"}
    assert msg["text"] == "hi"
    assert msg["from"] == {"id": 123456789, "is_bot": True, "first_name": "LeadBot"}
    assert isinstance(msg["date"], int)
    assert msg["reply_markup"] == markup


def test_message_ids_increase_per_chat(tg: FakeTelegram) -> None:
    ids = [tg.handle(TOKEN, "sendMessage", {"chat_id": c, "text": "x"}) for c in (1, "1", 2, 1)]
    assert [body["result"]["message_id"] for _, body in ids] == [1, 2, 1, 3]


def test_form_style_markup_string_is_parsed_and_echoed(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = tg.handle(
        TOKEN, "sendMessage", {"chat_id": "7", "text": "x", "reply_markup": json.dumps(markup)}
    )
    assert status == 200
    assert body["result"]["reply_markup"] == markup
    assert body["result"]["chat"]["id"] == 7


def test_records_calls_with_masked_token_and_normalised_chat(tg: FakeTelegram) -> None:
    tg.handle(TOKEN, "sendMessage", {"chat_id": 42, "text": "one"})
    tg.handle(TOKEN, "answerCallbackQuery", {"callback_query_id": "q1"})
    calls = tg.outbox()
    assert [c["method"] for c in calls] == ["sendMessage", "answerCallbackQuery"]
    first = calls[0]
    assert first["token"] == "123456…"
    assert TOKEN not in json.dumps(calls)
    assert first["chat_id"] == "42"
    assert first["payload"] == {"chat_id": 42, "text": "one"}  # kept as received
    assert datetime.fromisoformat(first["at"]).tzinfo is not None
    calls[0]["payload"]["text"] = "mutated"
    assert tg.outbox()[0]["payload"]["text"] == "one"
    tg.clear()
    assert tg.outbox() == []


@pytest.mark.parametrize(
    ("method", "payload", "expected"),
    [
        ("answerCallbackQuery", {"callback_query_id": "1"}, {"ok": True, "result": True}),
        (
            "setWebhook",
            {"url": "https://x/telegram/t1"},
            {"ok": True, "result": True, "description": "Webhook was set"},
        ),
        ("deleteWebhook", {}, {"ok": True, "result": True, "description": "Webhook was deleted"}),
    ],
)
def test_simple_methods_return_true(
    tg: FakeTelegram, method: str, payload: dict[str, object], expected: dict[str, object]
) -> None:
    assert tg.handle(TOKEN, method, payload) == (200, expected)


def test_get_me_and_webhook_info(tg: FakeTelegram) -> None:
    status, me = tg.handle(TOKEN, "getMe", {})
    assert status == 200
    assert me["result"]["is_bot"] is True
    assert me["result"]["id"] == 123456789
    tg.handle(TOKEN, "setWebhook", {"url": "https://example.test/telegram/t1"})
    _, info = tg.handle(TOKEN, "getWebhookInfo", {})
    assert info["result"]["url"] == "https://example.test/telegram/t1"
    assert info["result"]["pending_update_count"] == 0
    tg.handle(TOKEN, "deleteWebhook", {})
    assert tg.handle(TOKEN, "getWebhookInfo", {})[1]["result"]["url"] == ""


def test_edit_methods_return_a_message(tg: FakeTelegram) -> None:
    status, body = tg.handle(
        TOKEN, "editMessageText", {"chat_id": 5, "message_id": 3, "text": "edited"}
    )
    assert status == 200
    assert body["result"]["message_id"] == 3
    assert body["result"]["text"] == "edited"
    assert "edit_date" in body["result"]
    status, body = tg.handle(
        TOKEN,
        "editMessageReplyMarkup",
        {"chat_id": 5, "message_id": "3", "reply_markup": {"inline_keyboard": []}},
    )
    assert status == 200
    assert body["result"]["reply_markup"] == {"inline_keyboard": []}


def test_unknown_method_is_404(tg: FakeTelegram) -> None:
    assert tg.handle(TOKEN, "sendTelepathy", {}) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        ({"chat_id": 1}, "Bad Request: message text is empty"),
        ({"chat_id": 1, "text": ""}, "Bad Request: message text is empty"),
        ({"text": "hello"}, "Bad Request: chat_id is empty"),
        ({"chat_id": 1, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            {
                "chat_id": 1,
                "text": "x",
                # 33 characters but 66 bytes: the limit counts UTF-8 bytes.
                "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "ب" * 33}]]},
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "b", "url": "/c/relative"}]]},
            },
            "Bad Request: inline keyboard button URL '/c/relative' is invalid: Wrong HTTP URL",
        ),
        (
            {
                "chat_id": 1,
                "text": "x",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "b", "url": "http://localhost:8080/c/t"}]]
                },
            },
            "Bad Request: inline keyboard button URL 'http://localhost:8080/c/t' is invalid: "
            "Wrong HTTP URL",
        ),
    ],
)
def test_send_message_validation(
    tg: FakeTelegram, payload: dict[str, object], description: str
) -> None:
    assert tg.handle(TOKEN, "sendMessage", payload) == (
        400,
        {"ok": False, "error_code": 400, "description": description},
    )


def test_url_buttons_with_a_real_host_are_accepted(tg: FakeTelegram) -> None:
    for url in ("https://demo-agency.example/b.pdf", "http://127.0.0.1:8080/c/t", "tg://resolve"):
        markup = {"inline_keyboard": [[{"text": "b", "url": url}]]}
        status, _ = tg.handle(
            TOKEN, "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup}
        )
        assert status == 200, url


def test_limits_are_inclusive(tg: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "b", "callback_data": "ب" * 32}]]}  # 64 bytes
    status, _ = tg.handle(TOKEN, "sendMessage", {"chat_id": 1, "text": "x" * 4096})
    assert status == 200
    status, _ = tg.handle(TOKEN, "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": markup})
    assert status == 200


def test_failed_calls_are_recorded_with_status(tg: FakeTelegram) -> None:
    tg.handle(TOKEN, "sendMessage", {"chat_id": 1})
    assert tg.outbox()[-1]["status"] == 400


def test_fault_for_one_chat(tg: FakeTelegram) -> None:
    tg.fail_next("42", 403, "Forbidden: bot was blocked by the user")
    assert tg.handle(TOKEN, "sendMessage", {"chat_id": 7, "text": "x"})[0] == 200
    assert tg.handle(TOKEN, "sendMessage", {"chat_id": 42, "text": "x"}) == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    assert tg.handle(TOKEN, "sendMessage", {"chat_id": 42, "text": "x"})[0] == 200


def test_fault_429_carries_retry_after_and_counts_down(tg: FakeTelegram) -> None:
    tg.fail_next(None, 429, "Too Many Requests: retry after 3", retry_after=3, times=2)
    for chat in (1, 2):
        status, body = tg.handle(TOKEN, "sendMessage", {"chat_id": chat, "text": "x"})
        assert status == 429
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        }
    assert tg.handle(TOKEN, "sendMessage", {"chat_id": 1, "text": "x"})[0] == 200
    assert [c["status"] for c in tg.outbox()] == [429, 429, 200]


def test_fault_matches_int_and_str_chat_ids(tg: FakeTelegram) -> None:
    tg.fail_next("42", 403, "Forbidden: bot was blocked by the user")
    assert tg.handle(TOKEN, "sendMessage", {"chat_id": 42, "text": "x"})[0] == 403


def test_clear_drops_pending_faults(tg: FakeTelegram) -> None:
    tg.fail_next(None, 500, "Internal Server Error")
    tg.clear()
    assert tg.handle(TOKEN, "getMe", {})[0] == 200


def test_fail_next_rejects_nonsense(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError):
        tg.fail_next(None, 200, "not an error")
    with pytest.raises(ValueError):
        tg.fail_next(None, 403, "x", times=0)


def test_thread_safe_message_ids(tg: FakeTelegram) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(50):
            _, body = tg.handle(TOKEN, "sendMessage", {"chat_id": 9, "text": "x"})
            with lock:
                ids.append(body["result"]["message_id"])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(1, 401))
    assert len(tg.outbox()) == 400


def test_send_photo_by_url_answers_a_photo_message_with_its_caption(tg: FakeTelegram) -> None:
    photo = "https://demo.example/p/1.jpg"
    status, body = tg.handle(TOKEN, "sendPhoto", {"chat_id": 42, "photo": photo, "caption": "2BR"})
    assert status == 200
    message = body["result"]
    assert message["caption"] == "2BR" and "text" not in message
    assert [size["width"] for size in message["photo"]] == [90, 320, 800]
    assert message["photo"][0]["file_id"] != message["photo"][1]["file_id"]


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        ({"chat_id": 42}, "Bad Request: there is no photo in the request"),
        ({"chat_id": 42, "photo": "ftp://x/1.jpg"}, "Bad Request: wrong HTTP URL specified"),
        (
            {"chat_id": 42, "photo": "https://demo.example/1.jpg", "caption": "x" * 1025},
            "Bad Request: message caption is too long",
        ),
    ],
)
def test_send_photo_refuses_what_telegram_refuses(
    tg: FakeTelegram, payload: dict[str, object], description: str
) -> None:
    status, body = tg.handle(TOKEN, "sendPhoto", payload)
    assert (status, body["description"]) == (400, description)


def test_a_file_a_user_sent_is_served_by_get_file_and_its_path(tg: FakeTelegram) -> None:
    voice = b"OggS\x00\x02" + bytes(range(256))
    sent = tg.put_file(voice, "audio/ogg")
    assert set(sent) == {"file_id", "file_unique_id", "file_size"}
    assert sent["file_size"] == len(voice)
    status, body = tg.handle(TOKEN, "getFile", {"file_id": sent["file_id"]})
    assert status == 200
    found = body["result"]
    assert found == {**sent, "file_path": "voice/file_1.oga"}
    assert tg.download(TOKEN, found["file_path"]) == (200, "application/octet-stream", voice)
    assert tg.download(TOKEN, "voice/file_9.oga")[0] == 404
    assert [c["method"] for c in tg.outbox()] == ["getFile", "download", "download"]
    assert TOKEN not in json.dumps(tg.outbox())


def test_get_file_refuses_unknown_ids_and_files_over_20_mb(tg: FakeTelegram) -> None:
    assert tg.handle(TOKEN, "getFile", {"file_id": "nope"}) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
    )
    assert tg.handle(TOKEN, "getFile", {})[1]["description"] == "Bad Request: file_id not specified"
    big = tg.put_file(b"\x00" * (20 * 1024 * 1024 + 1), "audio/mpeg")
    status, body = tg.handle(TOKEN, "getFile", {"file_id": big["file_id"]})
    assert (status, body["description"]) == (400, "Bad Request: file is too big")


def test_set_webhook_is_checked_as_telegram_checks_it_and_reported_by_get_webhook_info(
    tg: FakeTelegram,
) -> None:
    def set_webhook(**payload: object) -> tuple[int, dict[str, object]]:
        return tg.handle(TOKEN, "setWebhook", payload)

    assert set_webhook(url="http://example.test/telegram/t1")[1]["description"] == (
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    )
    assert set_webhook(url="https://example.test:8080/t")[0] == 400
    assert set_webhook(url="https://example.test/t", secret_token="no spaces")[1][
        "description"
    ] == ("Bad Request: secret token contains unallowed characters")
    assert set_webhook(url="https://example.test/t", secret_token="x" * 257)[0] == 400
    assert set_webhook(url="https://example.test/t", allowed_updates="[not json")[0] == 400
    assert tg.handle(TOKEN, "getWebhookInfo", {})[1]["result"]["url"] == ""  # none was set

    status, body = set_webhook(
        url="https://example.test/telegram/t1",
        secret_token="A-z_09" * 10,
        allowed_updates=["message", "callback_query", "my_chat_member", "no_such_kind"],
    )
    assert (status, body["description"]) == (200, "Webhook was set")
    again = set_webhook(
        url="https://example.test/telegram/t1",
        secret_token="A-z_09" * 10,
        allowed_updates=["message", "callback_query", "my_chat_member"],
    )
    assert again[1]["description"] == "Webhook is already set"
    info = tg.handle(TOKEN, "getWebhookInfo", {})[1]["result"]
    assert info["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    assert (info["max_connections"], info["pending_update_count"]) == (40, 0)
    assert "secret_token" not in info and "last_error_message" not in info
    assert tg.webhook(TOKEN)["secret_token"] == "A-z_09" * 10  # type: ignore[index]

    tg.webhook_trouble(TOKEN, pending=5, error="Wrong response from the webhook: 401")
    info = tg.handle(TOKEN, "getWebhookInfo", {})[1]["result"]
    assert info["pending_update_count"] == 5
    assert info["last_error_message"] == "Wrong response from the webhook: 401"
    assert isinstance(info["last_error_date"], int)
    set_webhook(url="https://example.test/telegram/t1", drop_pending_updates=True)
    assert tg.handle(TOKEN, "getWebhookInfo", {})[1]["result"]["pending_update_count"] == 0
    assert set_webhook(url="")[1]["description"] == "Webhook was deleted"


def test_a_revoked_token_is_unauthorized_for_every_method(tg: FakeTelegram) -> None:
    tg.revoke(TOKEN)

    assert tg.handle(TOKEN, "getWebhookInfo", {}) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert tg.handle("987654321:AAE-other", "getMe", {})[0] == 200
