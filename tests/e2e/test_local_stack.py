"""`python -m local` over HTTP: qualifications in four languages, the admin alert, catalog links."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from leadbot.domain import Language
from leadbot.i18n import t
from local.seed import DEMO_ADMIN_CHAT, DEMO_CATALOGS, DEMO_TELEGRAM_SECRET
from local.template import load_template, schedules, stream_sources
from tests import web
from tests.e2e.conftest import stack_env
from tests.support import Updates

pytestmark = pytest.mark.e2e

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}

# language_code, the steps (press a button, type, share a contact), the phone as E.164
JOURNEYS: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "en": (
        "en",
        [
            ("type", "/start qr_expo_en"),
            ("press", "goal:buy"),
            ("type", "2.5M AED"),
            ("press", "property_type:apartment"),
            ("type", "Dubai Marina"),
            ("press", "timeline:3m"),
            ("type", "2"),
            ("press", "payment:mortgage"),
            ("contact", "971501234567"),
        ],
        "+971501234567",
    ),
    "fa": (
        "fa",
        [
            ("type", "/start qr_expo_fa"),
            ("type", "خرید"),
            ("type", "۳ میلیارد تومان"),
            ("press", "property_type:villa"),
            ("type", "جمیرا"),
            ("type", "۱"),
            ("type", "۳ خوابه"),
            ("press", "payment:cash"),
            ("type", "+98 912 123 4567"),
        ],
        "+989121234567",
    ),
    "ar": (
        "ar",
        [
            ("type", "/start qr_expo_ar"),
            ("press", "goal:invest"),
            ("type", "2.5 مليون درهم"),
            ("type", "شقة"),
            ("type", "الخليج التجاري"),
            ("press", "timeline:now"),
            ("press", "bedrooms:1"),
            ("type", "تقسيط"),
            ("type", "٠٥٠١٢٣٤٥٦٧"),
        ],
        "+971501234567",
    ),
    "ru": (
        "ru",
        [
            ("type", "/start qr_expo_ru"),
            ("type", "аренда"),
            ("type", "15 тыс AED"),
            ("press", "property_type:apartment"),
            ("type", "Даунтаун"),
            ("type", "позже"),
            ("type", "студия"),
            ("press", "payment:cash"),
            ("type", "+7 912 345-67-89"),
        ],
        "+79123456789",
    ),
}

QUESTIONS = [
    "goal",
    "budget",
    "property_type",
    "location",
    "timeline",
    "bedrooms",
    "payment",
    "contact",
]
# What the payment answer brings before the contact question: the demo agency's listings that
# fit, as cards (en and ar: the two Dubai Marina apartments for sale within 2.5M; fa: the two
# villas for sale, a toman budget being compared with no AED price), or the market message (ru:
# no rental within 15k).
CARDS = {"en": 2, "fa": 2, "ar": 2, "ru": 0}


def _send(url: str, update: dict[str, Any]) -> None:
    response = web.post(f"{url}/telegram/demo", json=update, headers=HEADERS)
    assert response.status_code == 200, response.text


def _outbox(url: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = web.get(f"{url}/_local/outbox").json()
    return data


def _said(call: dict[str, Any]) -> str:
    """A message's text, or a photo's caption (a listing card with its picture)."""
    payload = call["payload"]
    text: str = payload["text"] if call["method"] == "sendMessage" else payload["caption"]
    return text


@pytest.mark.parametrize("language", list(JOURNEYS))
def test_a_whole_qualification_over_http_ends_with_the_admin_alert(
    local_stack: str, language: str
) -> None:
    code, steps, phone = JOURNEYS[language]
    chat = 800_000_000 + list(JOURNEYS).index(language)
    lead = Updates(chat, first_name=f"Lead-{language}", language_code=code)
    for kind, value in steps:
        if kind == "press":
            _send(local_stack, lead.press(value))
        elif kind == "contact":
            _send(local_stack, lead.contact(value))
        else:
            _send(local_stack, lead.text(value))

    outbox = _outbox(local_stack)
    calls = [c for c in outbox if c.get("chat_id") == str(chat)]
    to_lead = [_said(c) for c in calls]
    offer = to_lead[7 : 7 + (CARDS[language] or 1)]
    questions = [*to_lead[:7], *to_lead[7 + len(offer) : -2]]
    # The demo agency's catalogs follow the thanks.
    assert len(to_lead) == len(steps) + 1 + len(offer)
    # Every answer was understood: each reply asks the next question, none re-asks with a hint.
    for reply, question in zip(questions, QUESTIONS, strict=True):
        assert t(f"{question}.ask", Language(language)) in reply
    if CARDS[language]:
        assert offer[0].startswith(t("value.intro", Language(language)))
        assert all(card.startswith(("✨", "🏠")) for card in offer)
        # Each seeded listing has a photo: its card is one sendPhoto, captioned, with 4 buttons.
        for card in calls[7 : 7 + len(offer)]:
            assert (card["method"], card["status"]) == ("sendPhoto", 200)
            assert card["payload"]["photo"].startswith("https://demo-agency.example/photos/")
            rows = card["payload"]["reply_markup"]["inline_keyboard"]
            assert sum(len(row) for row in rows) == 4
    else:
        assert offer == [t("value.none", Language(language))]
    name = f"Lead-{language}"
    assert to_lead[-2] == t("contact.thanks", Language(language), name=name, phone=phone)
    lang = Language(language)
    assert to_lead[-1] == f"{t('catalog.offer', lang)}\n\n{t('handoff.offer', lang)}"
    # The Hot Lead Alert names the source; a burning alert (scoring, a moment later) does not.
    alerts = [
        c["payload"]["text"]
        for c in outbox
        if c.get("chat_id") == DEMO_ADMIN_CHAT and f"expo_{language}" in c["payload"]["text"]
    ]
    assert len(alerts) == 1
    assert f"Lead-{language}" in alerts[0]
    assert phone in alerts[0]


def test_health_lists_the_template_routes(local_stack: str) -> None:
    health = web.get(f"{local_stack}/_local/health").json()
    assert "POST /telegram/{tenant_id}" in health["routes"]
    assert {"GET /c/{token}", "HEAD /c/{token}"} <= set(health["routes"])


def _stored_lead(stack_dir: Path, chat: int) -> dict[str, Any]:
    """The lead's item as the stack's DynamoDB Local holds it."""
    running = json.loads((stack_dir / "stack.json").read_text())
    client = boto3.client(
        "dynamodb",
        endpoint_url=running["dynamodb"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    identity = client.get_item(
        TableName="leadbot-local-Identities", Key={"pk": {"S": f"demo#telegram#{chat}"}}
    )["Item"]
    key = {"tenant_id": {"S": "demo"}, "lead_id": identity["lead_id"]}
    item: dict[str, Any] = client.get_item(
        TableName="leadbot-local-Leads", Key=key, ConsistentRead=True
    )["Item"]
    return item


def test_the_catalog_button_opens_the_brochure_and_counts_one_view(
    local_stack: str, stack_dir: Path
) -> None:
    chat = 800_000_060
    lead = Updates(chat, first_name="Catalog Reader")
    for update in (
        lead.text("/start"),
        lead.press("goal:buy"),
        lead.text("4M"),
        lead.press("property_type:villa"),
        lead.text("Arabian Ranches"),
        lead.press("timeline:now"),
        lead.press("bedrooms:4+"),
        lead.press("payment:cash"),
        lead.contact("971507778899"),
    ):
        _send(local_stack, update)
    offer = [c for c in _outbox(local_stack) if c.get("chat_id") == str(chat)][-1]
    connect, *buttons = [
        b for row in offer["payload"]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert connect["callback_data"] == "handoff"  # the broker's button, then the catalogs
    assert [b["text"] for b in buttons] == [c.title for c in DEMO_CATALOGS]
    url = buttons[0]["url"]
    assert url.startswith(f"{local_stack}/c/")

    assert httpx.head(url, timeout=5).status_code == 302  # a link checker: not a view
    response = web.get(url, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == DEMO_CATALOGS[0].url
    assert response.headers["cache-control"] == "no-store"
    assert _stored_lead(stack_dir, chat)["catalog_views"] == {"N": "1"}

    # The view counts in the score: 69 (hot) + 2 makes the lead burning, and the admin hears.
    for _ in range(2):  # the changes, then what scoring them wrote
        assert httpx.post(f"{local_stack}/_local/streams/wait", timeout=60).status_code == 200
    stored = _stored_lead(stack_dir, chat)
    assert (stored["score"]["N"], stored["temperature"]["S"]) == ("71", "burning")
    alert = [c for c in _outbox(local_stack) if c.get("chat_id") == DEMO_ADMIN_CHAT][-1]
    assert "71/100" in alert["payload"]["text"]

    forged = web.get(url[:-1] + ("B" if url[-1] != "B" else "C"))
    assert forged.status_code == 404
    assert _stored_lead(stack_dir, chat)["catalog_views"] == {"N": "1"}


def test_streams_and_schedules_are_the_templates(local_stack: str) -> None:
    template = load_template()
    streams = web.get(f"{local_stack}/_local/streams").json()["streams"]
    assert [(s["function"], s["event"]) for s in streams] == [
        (s.function_id, s.event_name) for s in stream_sources(template)
    ]
    waited = httpx.post(f"{local_stack}/_local/streams/wait", timeout=60)
    assert waited.status_code == 200
    assert isinstance(web.get(f"{local_stack}/_local/dlq").json(), dict)
    listed = web.get(f"{local_stack}/_local/schedules").json()["schedules"]
    assert [(s["function"], s["event"]) for s in listed] == [
        (s.function_id, s.event_name) for s in schedules(template)
    ]
    unknown = web.post(f"{local_stack}/_local/schedules/NoSuchFunction/Nope")
    assert unknown.status_code == 404


def test_a_bad_secret_is_refused_over_http(local_stack: str) -> None:
    response = web.post(
        f"{local_stack}/telegram/demo",
        json=Updates(800_000_099).text("hi"),
        headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
    )
    assert response.status_code == 401


def test_an_admin_registers_with_a_code_from_the_cli_and_gets_alerts(
    local_stack: str, stack_dir: Path
) -> None:
    issued = subprocess.run(
        [sys.executable, "-m", "local", "admin-code", "--tenant", "demo"],
        env=stack_env(stack_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    command = next(line for line in issued.stdout.splitlines() if line.startswith("/set_admin "))
    admin = Updates(800_000_050, first_name="Agency Boss")
    _send(local_stack, admin.text(command))
    _send(local_stack, Updates(800_000_051).text(command))  # the code works once only
    replies = {
        c["chat_id"]: c["payload"]["text"]
        for c in _outbox(local_stack)
        if c.get("chat_id") in ("800000050", "800000051")
    }
    assert replies["800000050"] == t("admin.registered", Language.EN, agency="Demo Realty")
    assert replies["800000051"] == t("admin.refused", Language.EN)

    lead = Updates(800_000_052, first_name="Late Lead")
    for update in (
        lead.text("/start"),
        lead.press("goal:rent"),
        lead.text("90k"),
        lead.press("property_type:land"),
        lead.text("Al Quoz"),
        lead.press("timeline:later"),
        lead.press("payment:cash"),
        lead.contact("971509998877"),
    ):
        _send(local_stack, update)
    sent = [c for c in _outbox(local_stack) if c["method"] == "sendMessage"]
    alerted = {c["chat_id"] for c in sent if "Late Lead" in c["payload"]["text"]}
    assert {DEMO_ADMIN_CHAT, "800000050"} <= alerted


def test_rescore_scores_the_stacks_leads_and_is_safe_to_run_twice(
    local_stack: str, stack_dir: Path
) -> None:
    _send(local_stack, Updates(800_000_070).text("/start qr_rescore"))
    for _ in range(2):
        assert httpx.post(f"{local_stack}/_local/streams/wait", timeout=60).status_code == 200

    def rescore() -> tuple[str, dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "local", "rescore", "--tenant", "demo"],
            env=stack_env(stack_dir),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stderr, json.loads(done.stdout.splitlines()[-1])

    progress, first = rescore()
    assert "demo  [" in progress and "100%" in progress
    assert first["leads"] >= 1
    _, second = rescore()
    assert second["leads"] == first["leads"]
    assert set(second["outcomes"]) == {"unchanged"}  # the stream had scored them all already
    assert _stored_lead(stack_dir, 800_000_070)["score"]["N"] == "24"


def test_reindex_followups_finds_the_stacks_leads_placed_already(
    local_stack: str, stack_dir: Path
) -> None:
    _send(local_stack, Updates(800_000_071).text("/start"))
    done = subprocess.run(
        [sys.executable, "-m", "local", "reindex-followups", "--all"],
        env=stack_env(stack_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert "demo  [" in done.stderr and "100%" in done.stderr
    # Every write places a lead itself: nothing the stack stored is out of place.
    assert report["leads"] >= 1 and report["leads"] == report["unchanged"]
