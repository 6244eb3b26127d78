"""The fake OpenAI: OpenAI's wire format and errors, and answers that come only from what it is
given, the same every time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.fake_openai import (
    NO_ANSWER,
    Answer,
    FakeOpenAI,
    fake_voice_note,
    grounded_answer,
    openai_endpoint,
    question_in,
    transcript_of,
)
from local.gateway import LocalRequest

KEY = "sk-unit-0123456789"
AUTH = f"Bearer {KEY}"


def _chat(fake: FakeOpenAI, body: object, authorization: str | None = AUTH) -> Answer:
    return fake.chat(authorization, json.dumps(body).encode())


def _ask(user: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": user}],
        "temperature": 0,
        **extra,
    }


def _error(answer: Answer) -> dict[str, Any]:
    assert answer.body is not None
    error: dict[str, Any] = answer.body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_a_completion_in_openai_s_shape() -> None:
    fake = FakeOpenAI([KEY])
    answer = _chat(fake, _ask("[p.2] Two pools and a gym. Kids club.\nQuestion: is there a gym?"))
    assert answer.status == 200
    assert answer.headers["x-request-id"].startswith("req_")
    body = answer.body
    assert body is not None
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "Two pools and a gym. [p.2]"
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # "Two pools and a gym. [p.2]": Two, pools, and, a, gym, ., [, p, ., 2, ]
    assert usage["completion_tokens"] == 11


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        # The passage sharing most words wins; ties go to the earlier one.
        (
            "[Brochure p.4] Prices start at AED 1.2M for a studio. Views vary.\n"
            "[Brochure p.9] The payment plan is 20% on booking and 80% on handover.\n"
            "Question: what is the payment plan?",
            "The payment plan is 20% on booking and 80% on handover. [Brochure p.9]",
        ),
        # Numbered passages running over two lines; the question on its own line at the end.
        (
            "Passages:\n1. [Listing p.1] Marina Residences has 3 units left\nat AED 2.45M each!"
            " Book now.\n2. [Listing p.2] Parking: one bay per unit.\n\nHow many units are left?",
            "Marina Residences has 3 units left at AED 2.45M each! [Listing p.1]",
        ),
        # Plurals meet singulars; the label counts as words too.
        (
            "[Floor plans p.6] Typical layouts from 650 sq.ft. More inside.\n"
            "[Amenities p.7] A pool.\nQuestion: Do you have floor plans?",
            "Typical layouts from 650 sq.ft. [Floor plans p.6]",
        ),
        # Any script: an Arabic question over an Arabic passage.
        (
            "[كتيب ص.5] خطة الدفع ٦٠/٤٠ متاحة. التفاصيل لدى الوكيل.\n"
            "[كتيب ص.2] المسبح في الطابق الأول.\nQuestion: هل توجد خطة الدفع؟",
            "خطة الدفع ٦٠/٤٠ متاحة. [كتيب ص.5]",
        ),
        ("[p.1] The tower has 40 floors.\nQuestion: do you allow pets?", NO_ANSWER),
        ("Question: what is the price?", NO_ANSWER),
    ],
)
def test_the_answer_is_the_best_sentence_of_the_best_passage_with_its_label(
    user: str, expected: str
) -> None:
    assert grounded_answer([user], user) == expected
    fake = FakeOpenAI([KEY])
    answers = {_chat(fake, _ask(user)).body["choices"][0]["message"]["content"] for _ in range(3)}  # type: ignore[index]
    assert answers == {expected}


def test_the_answer_is_the_sentence_of_the_passage_that_matches_the_question() -> None:
    user = (
        "[Brochure p.12] Frequently asked questions. Can foreigners buy? Yes. "
        "Dubai Marina is a freehold area. Pets are welcome.\nQuestion: is it freehold?"
    )
    assert grounded_answer([user], user) == "Dubai Marina is a freehold area. [Brochure p.12]"


def test_passages_may_come_in_the_system_message() -> None:
    fake = FakeOpenAI([KEY])
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Use these:\n[Brochure p.12] RERA permit 71234. Valid."},
            {"role": "user", "content": [{"type": "text", "text": "What is the RERA permit?"}]},
        ],
    }
    content = _chat(fake, body).body["choices"][0]["message"]["content"]  # type: ignore[index]
    assert content == "RERA permit 71234. [Brochure p.12]"


def test_the_question_is_what_follows_question_else_the_text_outside_passages() -> None:
    assert question_in("[p.1] a b c\nQuestion: the view?\n") == "the view?"
    assert question_in("[p.1] a b c\n\nIs it furnished?") == "Is it furnished?"


def test_max_tokens_cut_the_answer_short() -> None:
    fake = FakeOpenAI([KEY])
    user = "[p.2] Two pools and a gym. Kids club.\nQuestion: gym?"
    body = _chat(fake, _ask(user, max_completion_tokens=4)).body
    assert body is not None
    assert body["choices"][0]["message"]["content"] == "Two pools and a"
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 4


def test_keys_are_checked_before_anything_else() -> None:
    fake = FakeOpenAI([KEY])
    missing = fake.chat(None, b"not even json")
    assert missing.status == 401
    assert _error(missing)["message"].startswith("You didn't provide an API key")
    wrong = _chat(fake, {}, "Bearer sk-wrong-123456789")
    assert wrong.status == 401
    error = _error(wrong)
    assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "sk-wrong-123456789" not in error["message"]


@pytest.mark.parametrize(
    ("body", "status", "param", "code"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, 400, None, None),
        ({"model": "gpt-99", "messages": []}, 404, None, "model_not_found"),
        ({"model": "gpt-4o-mini"}, 400, "messages", "missing_required_parameter"),
        ({"model": "gpt-4o-mini", "messages": []}, 400, "messages", "empty_array"),
        ({"model": "gpt-4o-mini", "messages": "hi"}, 400, "messages", "invalid_type"),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "boss", "content": "x"}]},
            400,
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o-mini", "messages": [{"role": "user"}]},
            400,
            "messages[0].content",
            "missing_required_parameter",
        ),
        (_ask("x", temperature=3), 400, "temperature", "decimal_above_max_value"),
        (_ask("x", temperature=-1), 400, "temperature", "decimal_below_min_value"),
        (_ask("x", temperature="0"), 400, "temperature", "invalid_type"),
        (_ask("x", max_tokens=0), 400, "max_tokens", "integer_below_min_value"),
    ],
)
def test_invalid_requests_are_refused_as_openai_refuses_them(
    body: dict[str, Any], status: int, param: str | None, code: str | None
) -> None:
    answer = _chat(FakeOpenAI([KEY]), body)
    assert answer.status == status
    error = _error(answer)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_faults_answer_in_openai_s_envelope_once_each() -> None:
    fake = FakeOpenAI([KEY])
    fake.fail_next(429, endpoint="chat")
    fake.fail_next(503, endpoint="transcriptions")
    limited = _chat(fake, _ask("[p.1] x.\nQuestion: x"))
    assert limited.status == 429
    assert limited.headers["retry-after"] == "20"
    assert (_error(limited)["type"], _error(limited)["code"]) == ("requests", "rate_limit_exceeded")
    assert _chat(fake, _ask("[p.1] x.\nQuestion: x")).status == 200
    down = fake.transcribe(AUTH, *_form(fake_voice_note("hello")))
    assert down.status == 503 and _error(down)["type"] == "server_error"
    assert [r["status"] for r in fake.requests()] == [429, 200, 503]
    with pytest.raises(ValueError):
        fake.fail_next(200)


def _form(
    audio: bytes, filename: str = "voice.ogg", fields: dict[str, str] | None = None
) -> tuple[str, bytes]:
    boundary = "----fakeboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in {"model": "gpt-4o-mini-transcribe", **(fields or {})}.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: audio/ogg\r\n\r\n".encode()
        + audio
        + b"\r\n"
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode()


def test_a_transcript_is_the_text_after_the_last_nul() -> None:
    fake = FakeOpenAI([KEY])
    answer = fake.transcribe(AUTH, *_form(fake_voice_note("سلام، یک آپارتمان می‌خواهم")))
    assert answer.status == 200
    assert answer.body is not None
    assert answer.body["text"] == "سلام، یک آپارتمان می‌خواهم"
    assert answer.body["usage"]["type"] == "tokens"
    as_text = fake.transcribe(
        AUTH, *_form(fake_voice_note("hi"), fields={"response_format": "text"})
    )
    assert (as_text.status, as_text.text) == (200, "hi\n")
    assert transcript_of(b"OggS" + bytes(range(256))) == ""  # noise is silence
    assert transcript_of(b"OggS no nul byte at all") == ""


@pytest.mark.parametrize(
    ("audio", "filename", "fields", "param"),
    [
        (fake_voice_note("hi"), "voice.aac", {}, None),  # OpenAI reads the format by extension
        (b"plain text, no audio header\x00hi", "voice.ogg", {}, "file"),
        (fake_voice_note("hi"), "voice.ogg", {"model": "gpt-4o-mini"}, "model"),
    ],
)
def test_audio_openai_cannot_read_is_refused(
    audio: bytes, filename: str, fields: dict[str, str], param: str | None
) -> None:
    answer = FakeOpenAI([KEY]).transcribe(AUTH, *_form(audio, filename, fields))
    assert answer.status == 400
    assert _error(answer)["param"] == param


def test_the_gateway_endpoint_routes_and_steers_the_fake() -> None:
    fake = FakeOpenAI([KEY])
    serve = openai_endpoint(fake)
    headers = {"authorization": AUTH, "content-type": "application/json"}
    body = json.dumps(_ask("[p.1] Sea view. Nice.\nQuestion: view?")).encode()
    answered = serve(LocalRequest("POST", "/v1/chat/completions", {}, body, headers))
    assert answered.status == 200
    assert dict(answered.headers)["x-request-id"].startswith("req_")
    missing = serve(LocalRequest("POST", "/v1/embeddings", {}, b"{}", headers))
    assert missing.status == 404
    assert missing.body == {
        "error": {
            "message": "Invalid URL (POST /v1/embeddings)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    fault = json.dumps({"status": 500, "endpoint": "chat"}).encode()
    assert serve(LocalRequest("POST", "/faults", {}, fault)).status == 204
    assert serve(LocalRequest("POST", "/v1/chat/completions", {}, body, headers)).status == 500
    bad = json.dumps({"status": "soon"}).encode()
    assert serve(LocalRequest("POST", "/faults", {}, bad)).status == 400
    seen = serve(LocalRequest("GET", "/requests", {}, b""))
    assert isinstance(seen.body, list)
    assert [r["status"] for r in seen.body] == [200, 500]  # an unknown URL is not OpenAI's
    assert serve(LocalRequest("DELETE", "/requests", {}, b"")).status == 204
    assert fake.requests() == []
