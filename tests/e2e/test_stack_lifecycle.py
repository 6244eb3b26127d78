"""The local stack as people run it: beside another, Ctrl-C, restarted on the same data."""

from __future__ import annotations

import json
import signal
import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest

from leadbot.domain import Language
from leadbot.i18n import t
from local import auth
from local.seed import DEMO_TELEGRAM_SECRET, DEV_TOKEN_KEY_PARAM, LINK_SIGNING_KEY_PARAM
from tests import web
from tests.e2e.conftest import start_stack, stop_stack
from tests.support import Updates

pytestmark = pytest.mark.e2e
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}


def _last_reply(url: str, chat: int) -> str:
    calls = web.get(f"{url}/_local/outbox").json()
    texts = [c["payload"]["text"] for c in calls if c.get("chat_id") == str(chat)]
    return str(texts[-1])


def _port_open(endpoint: str) -> bool:
    parsed = urlparse(endpoint)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parsed.hostname or "127.0.0.1", parsed.port or 80)) == 0


def test_a_second_stack_runs_beside_the_first_stops_on_ctrl_c_and_keeps_its_data(
    local_stack: str, tmp_path: Path
) -> None:
    process, url = start_stack(tmp_path)
    assert url != local_stack
    assert web.get(f"{local_stack}/_local/health").status_code == 200
    dynamodb = json.loads((tmp_path / "stack.json").read_text())["dynamodb"]
    link_key = json.loads((tmp_path / "secrets.json").read_text())[LINK_SIGNING_KEY_PARAM]
    token = web.get(f"{url}/_local/tokens").json()["agent"]
    lead = Updates(810_000_001)
    try:
        web.post(f"{url}/telegram/demo", json=lead.text("/start"), headers=HEADERS)
        assert "Demo Realty" in _last_reply(url, 810_000_001)
    finally:
        assert stop_stack(process, signal.SIGINT) == 0
    assert not _port_open(dynamodb), "Ctrl-C must stop DynamoDB Local too"

    process, url = start_stack(tmp_path)
    try:
        web.post(f"{url}/telegram/demo", json=lead.text("hmm"), headers=HEADERS)
        # The lead survived the restart: it is asked its pending question again, not welcomed.
        assert _last_reply(url, 810_000_001).startswith(t("goal.hint", Language.EN))
        # So did the link-signing key: catalog links sent before the restart still open.
        secrets = json.loads((tmp_path / "secrets.json").read_text())
        assert secrets[LINK_SIGNING_KEY_PARAM] == link_key
        # And the dev-token key: tokens handed out before the restart still verify.
        claims = auth.verify(token, secrets[DEV_TOKEN_KEY_PARAM].encode(), datetime.now(UTC))
        assert claims["email"] == "agent@demo.example"
    finally:
        stop_stack(process)
