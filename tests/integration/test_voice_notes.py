"""Voice notes end to end: the webhooks on moto, the fake Bot API, Graph API and OpenAI over HTTP
in the local gateway. A note is downloaded, transcribed, kept in Timeline as its transcript and
answered as if typed, counting the voice bonus; without a key, or when anything fails, the lead
is asked to type, the voice note counted all the same."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from leadbot.domain import Channel, Lead, Stage, TimelineEntry, TimelineKind
from leadbot.i18n import t
from leadbot.services import runtime, telegram, whatsapp
from local.fake_openai import BODY_LIMIT, FakeOpenAI, fake_voice_note, openai_endpoint
from local.fake_whatsapp import FakeWhatsApp
from local.gateway import LocalGateway
from local.seed import (
    DEMO_OPENAI_KEY,
    DEMO_WHATSAPP_ACCESS_TOKEN,
    DEMO_WHATSAPP_PHONE_NUMBER_ID,
    OPENAI_KEY_PARAM,
)
from tests.support import InProcessStack, Updates
from tests.whatsapp_support import WhatsAppLead, WhatsAppStack

SPOKEN = "My budget is 2.5M AED"


@dataclass
class Voices:
    """The in-process stack with every fake it talks to behind one local gateway, over HTTP."""

    stack: InProcessStack
    wa: WhatsAppStack
    openai: FakeOpenAI

    def lead(self, channel: Channel, external_id: str) -> Lead:
        repos = self.stack.repos
        lead_id = repos.identities.lead_id(repos.identities.key("demo", channel, external_id))
        assert lead_id is not None
        return repos.leads.get("demo", lead_id)

    def inbound(self, channel: Channel, external_id: str) -> list[TimelineEntry]:
        lead = self.lead(channel, external_id)
        history = self.stack.repos.timeline.history("demo", lead.lead_id)
        return [e for e in history if e.kind is TimelineKind.INBOUND]


def _gateway_for(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, with_key: bool
) -> Iterator[Voices]:
    openai = FakeOpenAI([DEMO_OPENAI_KEY])
    graph = FakeWhatsApp({DEMO_WHATSAPP_PHONE_NUMBER_ID: DEMO_WHATSAPP_ACCESS_TOKEN})
    with LocalGateway(
        [],
        tmp_path,
        stack.fake,
        fake_whatsapp=graph,
        endpoints={"openai": openai_endpoint(openai)},
        body_limits={"openai": BODY_LIMIT},
    ) as gateway:
        monkeypatch.setenv("TELEGRAM_API_BASE", gateway.telegram_api_base)
        monkeypatch.setenv("WHATSAPP_API_BASE", gateway.whatsapp_api_base)
        monkeypatch.setenv("OPENAI_API_BASE", f"{gateway.url}/_local/openai/v1")
        if with_key:
            monkeypatch.setenv("OPENAI_KEY_PARAM", OPENAI_KEY_PARAM)
        # The functions' own HTTP client, so every call crosses a socket as in AWS.
        monkeypatch.setattr(telegram, "http_client", runtime.http_client)
        monkeypatch.setattr(whatsapp, "http_client", runtime.http_client)
        runtime.reset()
        telegram.reset()
        whatsapp.reset()
        try:
            yield Voices(stack=stack, wa=WhatsAppStack(stack=stack, fake=graph), openai=openai)
        finally:
            runtime.reset()
            telegram.reset()
            whatsapp.reset()


@pytest.fixture
def voices(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Voices]:
    yield from _gateway_for(stack, monkeypatch, tmp_path, with_key=True)


@pytest.fixture
def keyless(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Voices]:
    yield from _gateway_for(stack, monkeypatch, tmp_path, with_key=False)


def _at_budget_on_telegram(voices: Voices, chat_id: int) -> Updates:
    lead = Updates(chat_id)
    for update in (lead.text("/start"), lead.press("goal:buy")):
        assert voices.stack.post(update)["statusCode"] == 200
    return lead


def test_a_telegram_voice_note_is_answered_as_if_typed_and_kept_as_its_transcript(
    voices: Voices,
) -> None:
    stack = voices.stack
    speaker = _at_budget_on_telegram(voices, 710000001)
    typist = _at_budget_on_telegram(voices, 710000002)
    note = stack.fake.put_file(fake_voice_note(SPOKEN), "audio/ogg")

    assert stack.post(speaker.voice(note))["statusCode"] == 200
    stack.post(typist.text(SPOKEN))

    assert stack.last_text(710000001) == stack.last_text(710000002)
    spoken = voices.lead(Channel.TELEGRAM, "710000001")
    typed = voices.lead(Channel.TELEGRAM, "710000002")
    assert spoken.stage is typed.stage is Stage.PROPERTY_TYPE
    assert spoken.budget == typed.budget and spoken.budget is not None
    assert (spoken.voice_count, typed.voice_count) == (1, 0)
    assert spoken.messages_count == typed.messages_count == 3
    last = voices.inbound(Channel.TELEGRAM, "710000001")[-1]
    assert last.text == SPOKEN
    assert (last.detail["kind"], last.detail["transcript"]) == ("voice", "true")
    assert "transcript" not in voices.inbound(Channel.TELEGRAM, "710000002")[-1].detail
    # The bot fetched the file as Telegram serves bots: getFile, then the file URL.
    methods = [c["method"] for c in stack.fake.outbox() if c["method"] in ("getFile", "download")]
    assert methods == ["getFile", "download"]
    (sent,) = voices.openai.requests()
    assert (sent["endpoint"], sent["status"], sent["transcript"]) == (
        "audio.transcriptions",
        200,
        SPOKEN,
    )


def test_a_redelivered_voice_update_is_transcribed_and_counted_once(voices: Voices) -> None:
    stack = voices.stack
    speaker = _at_budget_on_telegram(voices, 710000003)
    update = speaker.voice(stack.fake.put_file(fake_voice_note(SPOKEN)))
    assert stack.post(update)["statusCode"] == 200
    assert stack.post(update)["statusCode"] == 200  # Telegram retries what it thinks failed
    lead = voices.lead(Channel.TELEGRAM, "710000003")
    assert (lead.voice_count, lead.messages_count) == (1, 3)
    assert len(voices.openai.requests()) == 1
    assert len(voices.inbound(Channel.TELEGRAM, "710000003")) == 3


def test_a_whatsapp_voice_note_is_answered_as_if_typed(voices: Voices) -> None:
    wa = voices.wa
    speaker, typist = WhatsAppLead("971501110001"), WhatsAppLead("971501110002")
    for lead in (speaker, typist):
        wa.post(lead.body(lead.text("Hi")))
        wa.post(lead.body(lead.press("goal:buy")))
    media_id = wa.fake.put_media(fake_voice_note(SPOKEN), "audio/ogg; codecs=opus")

    assert wa.post(speaker.body(speaker.voice(media_id)))["statusCode"] == 200
    wa.post(typist.body(typist.text(SPOKEN)))

    assert wa.last_text(speaker.wa_id) == wa.last_text(typist.wa_id)
    spoken = voices.lead(Channel.WHATSAPP, speaker.wa_id)
    assert spoken.stage is Stage.PROPERTY_TYPE and spoken.voice_count == 1
    assert spoken.budget == voices.lead(Channel.WHATSAPP, typist.wa_id).budget
    last = voices.inbound(Channel.WHATSAPP, speaker.wa_id)[-1]
    assert (last.text, last.detail["kind"], last.detail["transcript"]) == (SPOKEN, "voice", "true")
    (sent,) = voices.openai.requests()
    assert (sent["filename"], sent["status"]) == ("voice.ogg", 200)


def test_without_a_key_a_voice_note_gets_the_ask_to_type_and_still_counts(
    keyless: Voices,
) -> None:
    stack, wa = keyless.stack, keyless.wa
    speaker = _at_budget_on_telegram(keyless, 710000004)
    stack.post(speaker.voice(stack.fake.put_file(fake_voice_note(SPOKEN))))
    lead = keyless.lead(Channel.TELEGRAM, "710000004")
    assert (lead.stage, lead.voice_count, lead.budget) == (Stage.BUDGET, 1, None)
    assert stack.last_text(710000004).startswith(t("voice.unsupported", lead.language))
    assert "getFile" not in [c["method"] for c in stack.fake.outbox()]  # nothing downloaded

    wa_lead = WhatsAppLead("971501110003")
    wa.post(wa_lead.body(wa_lead.text("Hi")))
    wa.post(wa_lead.body(wa_lead.voice(wa.fake.put_media(fake_voice_note(SPOKEN), "audio/ogg"))))
    assert keyless.lead(Channel.WHATSAPP, wa_lead.wa_id).voice_count == 1
    assert "voice" in wa.last_text(wa_lead.wa_id).lower()
    assert keyless.openai.requests() == []
    entry = keyless.inbound(Channel.TELEGRAM, "710000004")[-1]
    assert (entry.text, entry.detail["kind"]) == ("", "voice")
    assert "transcript" not in entry.detail


@pytest.mark.parametrize("failure", ["openai_down", "openai_slow", "silence", "file_gone"])
def test_when_a_note_cannot_be_transcribed_the_lead_is_asked_to_type(
    voices: Voices, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    stack = voices.stack
    speaker = _at_budget_on_telegram(voices, 710000005)
    note = stack.fake.put_file(fake_voice_note("" if failure == "silence" else SPOKEN))
    if failure == "openai_down":
        voices.openai.fail_next(500)
    elif failure == "openai_slow":
        monkeypatch.setenv("OPENAI_TRANSCRIBE_TIMEOUT_S", "0.5")
        runtime.reset()
        voices.openai.fail_next(delay_s=3)
    elif failure == "file_gone":
        note = {**note, "file_id": "AwACAgIAAxkBAAIunknown"}
    started = time.monotonic()
    assert stack.post(speaker.voice(note))["statusCode"] == 200
    assert time.monotonic() - started < 2.5  # a slow model does not hold the webhook up
    lead = voices.lead(Channel.TELEGRAM, "710000005")
    assert (lead.stage, lead.voice_count, lead.budget) == (Stage.BUDGET, 1, None)
    assert stack.last_text(710000005).startswith(t("voice.unsupported", lead.language))


def test_a_note_over_the_size_cap_is_not_downloaded(
    voices: Voices, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_MAX_BYTES", "1000")
    runtime.reset()
    stack = voices.stack
    speaker = _at_budget_on_telegram(voices, 710000006)
    note = stack.fake.put_file(fake_voice_note(SPOKEN + " " + "long " * 400))
    stack.post(speaker.voice(note))
    assert voices.lead(Channel.TELEGRAM, "710000006").voice_count == 1
    assert "getFile" not in [c["method"] for c in stack.fake.outbox()]
    assert voices.openai.requests() == []
