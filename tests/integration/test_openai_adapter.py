"""The OpenAI adapter through the official SDK, over HTTP to the fake OpenAI in the local gateway:
answers and their usage, and every failure (bad key, rate limit, outage, timeout) an LLMError."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from leadbot.channels.transport import Urllib3Transport
from leadbot.config import Settings
from leadbot.integrations.llm import LLMError, log_usage
from leadbot.integrations.openai_adapter import (
    OpenAIChat,
    OpenAIConnection,
    OpenAITranscriber,
    from_settings,
)
from local.fake_openai import BODY_LIMIT, NO_ANSWER, FakeOpenAI, fake_voice_note, openai_endpoint
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway

KEY = "sk-test-0123456789abcdef"
SYSTEM = "Answer only from the passages; cite the page label in brackets."
PASSAGES = (
    "[Brochure p.3] Handover is planned for Q4 2026. The towers rise 40 floors.\n"
    "[Brochure p.8] A 60/40 construction-linked payment plan is available. Ask for details.\n"
    "[Brochure p.11] Service charges are AED 18 per sq.ft per year."
)


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI([KEY])


@pytest.fixture
def base_url(fake: FakeOpenAI, tmp_path: Path) -> Iterator[str]:
    with LocalGateway(
        [],
        tmp_path,
        FakeTelegram(),
        endpoints={"openai": openai_endpoint(fake)},
        body_limits={"openai": BODY_LIMIT},
    ) as gateway:
        yield f"{gateway.url}/_local/openai/v1"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    # The transport the functions use (runtime.http_client), so the SDK is tested on it.
    with httpx.Client(transport=Urllib3Transport(verify=False)) as client:
        yield client


def _connection(base_url: str, http: httpx.Client, key: str = KEY) -> OpenAIConnection:
    return OpenAIConnection(lambda: key, base_url=base_url, http=http)


def test_a_grounded_answer_with_its_page_and_token_usage(
    fake: FakeOpenAI, base_url: str, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    chat = OpenAIChat(_connection(base_url, http), model="gpt-4o-mini", max_tokens=300)
    question = f"{PASSAGES}\n\nQuestion: Is there a payment plan?"

    completion = chat.complete(SYSTEM, question, timeout_s=6)

    assert completion.text == (
        "A 60/40 construction-linked payment plan is available. [Brochure p.8]"
    )
    assert completion.model == "gpt-4o-mini"
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    (sent,) = fake.requests()
    assert (sent["endpoint"], sent["status"], sent["temperature"]) == ("chat.completions", 200, 0)
    assert sent["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question},
    ]
    with caplog.at_level(logging.INFO, logger="leadbot"):
        log_usage(completion, "answer", tenant_id="demo")
    (line,) = [r for r in caplog.records if r.getMessage() == "llm usage"]
    assert (line.purpose, line.tenant_id, line.model) == ("answer", "demo", "gpt-4o-mini")  # type: ignore[attr-defined]
    assert line.total_tokens == completion.prompt_tokens + completion.completion_tokens  # type: ignore[attr-defined]


def test_the_same_question_gets_the_same_answer_and_an_unrelated_one_none(
    base_url: str, http: httpx.Client
) -> None:
    chat = OpenAIChat(_connection(base_url, http), model="gpt-4o-mini", max_tokens=300)
    ask = f"{PASSAGES}\n\nQuestion: When is the handover?"
    first = chat.complete(SYSTEM, ask, timeout_s=6)
    assert first.text == "Handover is planned for Q4 2026. [Brochure p.3]"
    assert chat.complete(SYSTEM, ask, timeout_s=6) == first
    unrelated = chat.complete(SYSTEM, f"{PASSAGES}\n\nQuestion: Do you like jazz?", timeout_s=6)
    assert unrelated.text == NO_ANSWER


def test_max_tokens_bounds_the_answer(base_url: str, http: httpx.Client) -> None:
    chat = OpenAIChat(_connection(base_url, http), model="gpt-4o-mini", max_tokens=3)
    completion = chat.complete(SYSTEM, f"{PASSAGES}\nQuestion: payment plan?", timeout_s=6)
    assert (completion.text, completion.completion_tokens) == ("A 60/", 3)


def test_a_wrong_key_is_an_llm_error_naming_openai_s_code(
    fake: FakeOpenAI, base_url: str, http: httpx.Client
) -> None:
    chat = OpenAIChat(
        _connection(base_url, http, "sk-wrong-key-000"), model="gpt-4o-mini", max_tokens=50
    )
    with pytest.raises(LLMError, match="HTTP 401 invalid_api_key") as raised:
        chat.complete(SYSTEM, "Question: price?", timeout_s=6)
    assert "sk-wrong" not in str(raised.value)
    assert [r["status"] for r in fake.requests()] == [401]


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "HTTP 429 rate_limit_exceeded"), (500, "HTTP 500 server_error")]
)
def test_a_rate_limit_or_an_outage_fails_at_once_without_retrying(
    fake: FakeOpenAI, base_url: str, http: httpx.Client, status: int, reason: str
) -> None:
    chat = OpenAIChat(_connection(base_url, http), model="gpt-4o-mini", max_tokens=50)
    fake.fail_next(status)
    started = time.monotonic()
    with pytest.raises(LLMError, match=reason):
        chat.complete(SYSTEM, f"{PASSAGES}\nQuestion: payment plan?", timeout_s=6)
    assert time.monotonic() - started < 2
    assert [r["status"] for r in fake.requests()] == [status]  # one try: the webhook can't wait
    # The fault was one request long: the next is answered.
    assert chat.complete(SYSTEM, f"{PASSAGES}\nQuestion: payment plan?", timeout_s=6).text


def test_a_slow_answer_is_given_up_on_at_the_timeout(
    fake: FakeOpenAI, base_url: str, http: httpx.Client
) -> None:
    chat = OpenAIChat(_connection(base_url, http), model="gpt-4o-mini", max_tokens=50)
    chat.complete(SYSTEM, "warm up: the SDK's import is not what is timed", timeout_s=6)
    fake.fail_next(delay_s=3)
    started = time.monotonic()
    with pytest.raises(LLMError, match="timed out"):
        chat.complete(SYSTEM, f"{PASSAGES}\nQuestion: payment plan?", timeout_s=0.5)
    assert time.monotonic() - started < 1.5


def test_a_voice_note_is_transcribed(fake: FakeOpenAI, base_url: str, http: httpx.Client) -> None:
    transcriber = OpenAITranscriber(_connection(base_url, http), model="gpt-4o-mini-transcribe")
    note = fake_voice_note("Мне нужна вилла на Пальме до 12 миллионов")
    text = transcriber.transcribe(note, "audio/ogg; codecs=opus", timeout_s=8)
    assert text == "Мне нужна вилла на Пальме до 12 миллионов"
    (sent,) = fake.requests()
    assert (sent["filename"], sent["bytes"], sent["model"]) == (
        "voice.ogg",
        len(note),
        "gpt-4o-mini-transcribe",
    )


def test_audio_openai_cannot_read_is_an_llm_error(
    fake: FakeOpenAI, base_url: str, http: httpx.Client
) -> None:
    transcriber = OpenAITranscriber(_connection(base_url, http), model="whisper-1")
    with pytest.raises(LLMError, match="not supported"):
        transcriber.transcribe(b"#!AMR\n\x00hello", "audio/amr", timeout_s=8)
    assert fake.requests() == []  # refused before anything left
    with pytest.raises(LLMError, match="HTTP 400 invalid_value"):
        transcriber.transcribe(b"not audio at all", "audio/ogg", timeout_s=8)


def test_a_missing_key_is_an_llm_error_and_no_key_param_means_offline(
    base_url: str, http: httpx.Client
) -> None:
    def unreadable() -> str:
        raise KeyError("/leadbot/test/openai-api-key")

    chat = OpenAIChat(
        OpenAIConnection(unreadable, base_url=base_url, http=http),
        model="gpt-4o-mini",
        max_tokens=50,
    )
    with pytest.raises(LLMError, match="no OpenAI key: KeyError"):
        chat.complete(SYSTEM, "Question: price?", timeout_s=6)

    tables = {f.name: "t" for f in fields(Settings) if f.name.endswith("_table")}
    assert from_settings(Settings(**tables), lambda name: KEY) is None
    configured = Settings(
        **tables,
        openai_key_param="/leadbot/test/openai-api-key",
        openai_api_base=base_url,
        openai_chat_model="gpt-4.1-mini",
    )
    models = from_settings(configured, {"/leadbot/test/openai-api-key": KEY}.__getitem__, http)
    assert models is not None
    answer = models[0].complete(SYSTEM, f"{PASSAGES}\nQuestion: service charges?", timeout_s=6)
    assert answer.text == "Service charges are AED 18 per sq.ft per year. [Brochure p.11]"
    assert answer.model == "gpt-4.1-mini"
