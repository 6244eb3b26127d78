"""Leads' questions answered from the demo agency's sample brochure through the Telegram webhook
on moto: offline (extractive, with the page) and through the fake OpenAI API over HTTP
(grounded, the lead's personal data redacted before it leaves); unknown questions become
knowledge gaps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadbot.domain import Channel, Language, Lead, Stage
from leadbot.i18n import t
from leadbot.services import runtime, telegram
from local.fake_openai import BODY_LIMIT, FakeOpenAI, openai_endpoint
from local.gateway import LocalGateway
from local.sample_brochure import SAMPLE_TITLE
from local.seed import DEMO_OPENAI_KEY, OPENAI_KEY_PARAM
from tests.support import AGENT, InProcessStack, Updates, api_call


def _asks(stack: InProcessStack, lead: Updates, question: str) -> list[str]:
    before = len(stack.sent(lead.chat_id))
    assert stack.post(lead.text(question))["statusCode"] == 200
    return [c["payload"].get("text", "") for c in stack.sent(lead.chat_id)[before:]]


def _page(page: int, lang: Language = Language.EN) -> str:
    return t("answer.source.page", lang, title=SAMPLE_TITLE, page=page)


def _gaps() -> list[str]:
    status, body = api_call("GET", "/api/knowledge/gaps", AGENT)
    assert status == 200
    return [gap["question"] for gap in body["items"]]


def test_a_qualified_lead_gets_the_handover_date_with_its_page(stack: InProcessStack) -> None:
    lead = Updates(780_000_001, first_name="Omar")
    stack.qualify(lead)
    (reply,) = _asks(stack, lead, "When is the handover?")
    assert "Q4 2026" in reply and _page(7) in reply
    assert _gaps() == []


def test_a_question_mid_qualification_is_answered_then_the_pending_question_comes_back(
    stack: InProcessStack,
) -> None:
    lead = Updates(780_000_002, language_code="ar")
    for update in (lead.text("/start"), lead.press("goal:buy")):
        stack.post(update)
    replies = "\n".join(_asks(stack, lead, "ما هي خطة الدفع؟"))  # what is the payment plan?
    assert "60/40" in replies and _page(6, Language.AR) in replies
    assert replies.rstrip().endswith(t("budget.ask", Language.AR))  # asked again, last
    assert _lead(stack, lead).stage is Stage.BUDGET


def test_a_question_the_brochure_cannot_answer_is_a_knowledge_gap(stack: InProcessStack) -> None:
    lead = Updates(780_000_003)
    stack.qualify(lead)
    (reply,) = _asks(stack, lead, "Do you accept payment in bitcoin for parking spots?")
    assert reply == t("answer.unknown_agent", Language.EN)
    assert _gaps() == ["Do you accept payment in bitcoin for parking spots?"]


def _lead(stack: InProcessStack, lead: Updates) -> Lead:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(lead.chat_id))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return stack.repos.leads.get("demo", lead_id)


@pytest.fixture
def openai(
    stack: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI([DEMO_OPENAI_KEY])
    with LocalGateway(
        [],
        tmp_path,
        stack.fake,
        endpoints={"openai": openai_endpoint(fake)},
        body_limits={"openai": BODY_LIMIT},
    ) as gateway:
        monkeypatch.setenv("OPENAI_API_BASE", f"{gateway.url}/_local/openai/v1")
        monkeypatch.setenv("OPENAI_KEY_PARAM", OPENAI_KEY_PARAM)
        runtime.reset()
        telegram.reset()
        try:
            yield fake
        finally:
            runtime.reset()
            telegram.reset()


def test_with_a_key_the_model_answers_from_the_pages_it_was_given_and_sees_no_phone(
    stack: InProcessStack, openai: FakeOpenAI
) -> None:
    lead = Updates(780_000_004)
    stack.qualify(lead)
    (reply,) = _asks(stack, lead, "I'm on +971 55 765 4321 - when is the handover?")
    assert _page(7) in reply and "[Brochure" not in reply  # the sources are ours, localized
    (request,) = [r for r in openai.requests() if "chat" in json.dumps(r)]
    sent = json.dumps(request)
    assert "765 4321" not in sent and "7654321" not in sent
    assert "[Brochure p.7]" in sent and "Q4 2026" in sent


def test_when_the_model_fails_the_lead_still_gets_the_offline_answer(
    stack: InProcessStack, openai: FakeOpenAI
) -> None:
    lead = Updates(780_000_005)
    stack.qualify(lead)
    openai.fail_next(status=500, times=5)
    (reply,) = _asks(stack, lead, "What is the RERA number?")
    assert "2189" in reply and _page(8) in reply
