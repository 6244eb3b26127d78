"""The chat simulator's route on the local gateway: a dashboard user's Telegram updates reach
their own agency's real webhook with the agency's secret, and the bot's answers come back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from leadbot.domain import Channel
from local import auth
from local.fake_telegram import mask_token
from local.gateway import LocalGateway
from local.seed import DEMO_BOT_TOKEN, DEMO_TELEGRAM_SECRET, DEMO_USERS
from local.simulator import Simulator, chat_of, deliver_as_telegram, tenant_webhook_secret
from local.template import api_routes, load_template
from tests.support import REPO, InProcessStack, Updates

KEY = b"simulator-test-signing-key-0123456789"
CHAT = 7_100_000_123


@pytest.fixture
def gateway(stack: InProcessStack) -> Iterator[LocalGateway]:
    routes = [r for r in api_routes(load_template()) if r.path == "/telegram/{tenant_id}"]
    holder: list[LocalGateway] = []

    def deliver(tenant_id: str, update: bytes, secret: str) -> tuple[int, bytes]:
        gw = holder[0]
        return deliver_as_telegram(gw.url, gw.telegram_api_base)(tenant_id, update, secret)

    def verify(token: str) -> dict[str, str]:
        return auth.apigw_claims(auth.verify(token, KEY, datetime.now(UTC)))

    simulator = Simulator(verify, tenant_webhook_secret, deliver, lambda: holder[0].outbox())
    gw = LocalGateway(
        routes,
        REPO,
        stack.fake,
        endpoints={"simulator": simulator.endpoint()},
        verify_token=verify,
        port=0,
    )
    holder.append(gw)
    with gw:
        yield gw


def _token(user: str) -> str:
    return auth.mint(auth.id_claims(DEMO_USERS[user], datetime.now(UTC)), KEY)


def _simulate(gw: LocalGateway, update: dict[str, Any], user: str = "agent") -> httpx.Response:
    return httpx.post(
        f"{gw.url}/_local/simulator/demo/updates",
        json=update,
        headers={"Authorization": _token(user)},
        timeout=30,
    )


def _texts(sent: list[dict[str, Any]]) -> list[str]:
    return [r["payload"].get("text", "") for r in sent if r["method"] == "sendMessage"]


def test_a_simulated_lead_qualifies_through_the_real_webhook(
    gateway: LocalGateway, stack: InProcessStack
) -> None:
    lead = Updates(CHAT, first_name="Sim", language_code="en")
    started = _simulate(gateway, lead.text("/start"))
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == 200 and body["answer"] == {"ok": True}
    assert body["chat_id"] == str(CHAT)
    # The bot's greeting with its goal buttons, as the fake Bot API recorded it (with the id
    # Telegram gave the message, which a press on its buttons names).
    keyboards = [r for r in body["sent"] if "reply_markup" in r["payload"]]
    greeting = [r for r in keyboards if "inline_keyboard" in r["payload"]["reply_markup"]]
    assert greeting, body["sent"]
    buttons = [b for row in greeting[-1]["payload"]["reply_markup"]["inline_keyboard"] for b in row]
    assert any(b.get("callback_data") == "goal:buy" for b in buttons)
    assert isinstance(greeting[-1]["message_id"], int)
    assert all(r["chat_id"] == str(CHAT) for r in body["sent"])

    press = lead.press("goal:buy")
    calls_before = len(gateway.outbox("telegram"))
    pressed = _simulate(gateway, press).json()
    # The webhook answers the press with answerCallbackQuery, which the simulator runs with the
    # demo bot's token as Telegram's servers would (it names no chat), then the budget question.
    assert pressed["answer"] == {
        "method": "answerCallbackQuery",
        "callback_query_id": press["callback_query"]["id"],
    }
    calls = gateway.outbox("telegram")[calls_before:]
    answers = [c for c in calls if c["method"] == "answerCallbackQuery"]
    assert [c["payload"] for c in answers] == [{"callback_query_id": press["callback_query"]["id"]}]
    assert answers[0]["token"] == mask_token(DEMO_BOT_TOKEN)
    assert _texts(pressed["sent"]), pressed
    budget = _simulate(gateway, lead.text("2.5M AED")).json()
    assert _texts(budget["sent"])

    # A lead of the agency, with the goal and budget the simulated chat gave.
    repos = stack.repos
    key = repos.identities.key("demo", Channel.TELEGRAM, str(CHAT))
    lead_id = repos.identities.lead_id(key, consistent=True)
    assert lead_id is not None
    saved = repos.leads.get("demo", lead_id)
    assert saved.budget is not None and saved.budget.amount == Decimal("2500000")
    # The outbox, filtered to the simulated chat, holds exactly what the simulator answered.
    outbox = httpx.get(f"{gateway.url}/_local/outbox", params={"chat_id": str(CHAT)}).json()
    answered = body["sent"] + pressed["sent"] + budget["sent"]
    assert [r["payload"] for r in outbox] == [r["payload"] for r in answered]
    # Nothing the browser gets back carries the webhook secret.
    for response in (started, _simulate(gateway, lead.text("hi"))):
        assert DEMO_TELEGRAM_SECRET not in response.text


def test_the_token_must_name_the_agency(gateway: LocalGateway) -> None:
    update = Updates(CHAT + 1).text("/start")
    url = f"{gateway.url}/_local/simulator/demo/updates"
    assert httpx.post(url, json=update).status_code == 401
    assert httpx.post(url, json=update, headers={"Authorization": "nope"}).status_code == 401
    # An agent of demo2 cannot drive demo's bot: as with another tenant's lead, a 404.
    other = httpx.post(url, json=update, headers={"Authorization": _token("demo2_agent")})
    assert other.status_code == 404
    assert httpx.get(f"{gateway.url}/_local/outbox", params={"chat_id": str(CHAT + 1)}).json() == []


def test_bad_requests_are_refused_before_the_webhook(gateway: LocalGateway) -> None:
    headers = {"Authorization": _token("admin")}
    url = f"{gateway.url}/_local/simulator/demo/updates"
    assert httpx.get(url, headers=headers).status_code == 405
    assert httpx.post(url, content=b"{", headers=headers).status_code == 400
    assert httpx.post(url, json={"message": {}}, headers=headers).status_code == 400
    assert httpx.post(url, json=[1], headers=headers).status_code == 400
    elsewhere = f"{gateway.url}/_local/simulator/demo/other"
    assert httpx.post(elsewhere, json={}, headers=headers).status_code == 404
    # An update the webhook itself refuses (not a Telegram Update) is a 502 naming its answer.
    refused = httpx.post(url, json={"update_id": 5, "message": "x"}, headers=headers)
    assert refused.status_code == 502
    assert refused.json()["status"] == 400


def test_chat_of_reads_each_update_kind() -> None:
    lead = Updates(42)
    assert chat_of(lead.text("hi")) == "42"
    assert chat_of(lead.press("goal:buy")) == "42"
    assert chat_of(lead.contact("+971501234567")) == "42"
    assert chat_of({"update_id": 1}) is None
