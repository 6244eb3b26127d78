"""`python -m local` over HTTP: the demo users' dev tokens, the second tenant, public routes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from local import auth
from local.seed import (
    DEMO2_TELEGRAM_SECRET,
    DEMO_TELEGRAM_SECRET,
    DEMO_USERS,
    DEV_TOKEN_KEY_PARAM,
)
from tests import web
from tests.support import Updates

pytestmark = pytest.mark.e2e


def _key(stack_dir: Path) -> bytes:
    secrets = json.loads((stack_dir / "secrets.json").read_text())
    key: str = secrets[DEV_TOKEN_KEY_PARAM]
    return key.encode()


def test_local_tokens_are_the_demo_users_signed_by_the_stack(
    local_stack: str, stack_dir: Path
) -> None:
    response = web.get(f"{local_stack}/_local/tokens")
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"admin", "agent", "demo2_agent", "demo2_admin"}
    now = datetime.now(UTC)
    seen = {}
    for name, token in tokens.items():
        claims = auth.verify(token, _key(stack_dir), now)
        seen[name] = (
            claims["email"],
            claims["custom:tenant_id"],
            claims["custom:role"],
            claims["sub"],
        )
        assert claims["exp"] - now.timestamp() > 29 * 86400
    assert seen == {
        name: (user.email, user.tenant_id, user.role, user.sub) for name, user in DEMO_USERS.items()
    }
    assert seen["admin"][1:3] == ("demo", "admin")
    assert seen["agent"][1:3] == ("demo", "agent")
    assert seen["demo2_agent"][1:3] == ("demo2", "agent")
    assert seen["demo2_admin"][1:3] == ("demo2", "admin")


def test_the_stack_verifies_only_its_own_tokens(local_stack: str, stack_dir: Path) -> None:
    tokens = web.get(f"{local_stack}/_local/tokens").json()
    with pytest.raises(auth.InvalidToken):
        auth.verify(tokens["admin"], b"some other stack's key", datetime.now(UTC))


def _replies(url: str, chat: int) -> list[str]:
    outbox = web.get(f"{url}/_local/outbox").json()
    return [
        call["payload"]["text"]
        for call in outbox
        if call["method"] == "sendMessage" and str(call["payload"]["chat_id"]) == str(chat)
    ]


def test_the_second_tenant_has_its_own_bot_and_secret(local_stack: str) -> None:
    chat = 820_000_001
    url = f"{local_stack}/telegram/demo2"
    start = Updates(chat).text("/start")
    wrong = web.post(
        url, json=start, headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}
    )
    assert wrong.status_code == 401
    right = web.post(
        url, json=start, headers={"X-Telegram-Bot-Api-Secret-Token": DEMO2_TELEGRAM_SECRET}
    )
    assert right.status_code == 200
    assert any("Second Demo Homes" in text for text in _replies(local_stack, chat))


def test_the_webhook_and_catalog_links_need_no_token(local_stack: str) -> None:
    chat = 820_000_002
    response = web.post(
        f"{local_stack}/telegram/demo",
        json=Updates(chat).text("/start"),
        headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET},
    )
    assert response.status_code == 200
    assert _replies(local_stack, chat)
    # A bad link is the function's own 404, not the authorizer's 401.
    for method in ("GET", "HEAD"):
        link = web.request(method, f"{local_stack}/c/not-a-token")
        assert link.status_code == 404
        assert link.headers["Content-Type"].startswith("text/plain")


def test_agents_work_their_leads_over_http_and_only_their_tenants(local_stack: str) -> None:
    tokens = web.get(f"{local_stack}/_local/tokens").json()
    chat = 800_000_090
    lead = Updates(chat, first_name="Board Walker")
    for update in lead.qualification(phone="+971 50 909 0909"):
        response = web.post(
            f"{local_stack}/telegram/demo",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET},
        )
        assert response.status_code == 200
    for _ in range(2):  # the changes, then what scoring them wrote
        assert httpx.post(f"{local_stack}/_local/streams/wait", timeout=60).status_code == 200

    def api(method: str, path: str, token: str | None, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return web.request(method, f"{local_stack}{path}", headers=headers, **kw)  # type: ignore[arg-type]

    assert api("GET", "/api/leads", None).status_code == 401
    board = api("GET", "/api/leads", tokens["agent"], params={"q": "Board Walker"}).json()
    [mine] = board["items"]
    assert (mine["phone"], mine["status"], mine["temperature"]) == (
        "+971509090909",
        "qualified",
        "hot",
    )
    lead_path = f"/api/leads/{mine['lead_id']}"
    assert api("GET", lead_path, tokens["agent"]).json()["score_breakdown"]["qualification"] == 40

    # The other agency's agent sees none of it, by list, by id, or by changing it.
    assert (
        api("GET", "/api/leads", tokens["demo2_agent"], params={"q": "Board"}).json()["items"] == []
    )
    for method, path, body in (
        ("GET", lead_path, None),
        ("GET", f"{lead_path}/timeline", None),
        ("PATCH", lead_path, {"status": "lost", "lost_reason": "poached"}),
    ):
        answer = api(method, path, tokens["demo2_agent"], json=body)
        assert answer.status_code == 404, path

    changed = api("PATCH", lead_path, tokens["agent"], json={"status": "contacted"})
    assert (changed.status_code, changed.json()["status"]) == (200, "contacted")
    spec = api("GET", "/api/openapi.json", tokens["agent"]).json()
    assert "/api/leads/{lead_id}/timeline" in spec["paths"]
