"""Telegram files over the local gateway: a voice note a test puts in place, then the Bot API's
getFile and file URL serving it to the bot's client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadbot.channels.telegram import TelegramClient
from leadbot.channels.telegram.client import FileTooBig
from leadbot.domain import ChannelError
from local.fake_openai import fake_voice_note
from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway
from local.seed import DEMO_BOT_TOKEN
from tests import web

NOTE = fake_voice_note("Is the villa still available?")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[LocalGateway]:
    with LocalGateway([], tmp_path, FakeTelegram(), port=0) as gw:
        yield gw


def test_a_voice_note_put_in_place_is_fetched_as_telegram_serves_bots(
    gateway: LocalGateway,
) -> None:
    put = web.post(
        f"{gateway.url}/_local/telegram/files", content=NOTE, headers={"Content-Type": "audio/ogg"}
    )
    assert put.status_code == 200
    sent = put.json()
    assert sent["file_size"] == len(NOTE)

    found = web.post(
        f"{gateway.telegram_api_base}/bot{DEMO_BOT_TOKEN}/getFile",
        json={"file_id": sent["file_id"]},
    ).json()
    assert found["ok"] and found["result"]["file_path"] == "voice/file_1.oga"
    url = f"{gateway.telegram_api_base}/file/bot{DEMO_BOT_TOKEN}/voice/file_1.oga"
    assert web.get(url).content == NOTE
    assert web.get(url.replace("file_1", "file_2")).status_code == 404
    assert web.post(url).status_code == 405

    with httpx.Client() as http:
        client = TelegramClient(DEMO_BOT_TOKEN, http=http, base_url=gateway.telegram_api_base)
        assert client.download_file(sent["file_id"]) == NOTE
        with pytest.raises(FileTooBig):
            client.download_file(sent["file_id"], max_bytes=10)
        with pytest.raises(ChannelError, match="invalid file_id"):
            client.download_file("AwACAgIAAxkBAAIgone")
    methods = [r["method"] for r in web.get(f"{gateway.url}/_local/outbox").json()]
    assert methods == [
        "getFile",
        "download",
        "download",
        "getFile",
        "download",
        "getFile",
        "getFile",
    ]


def test_an_empty_file_is_refused(gateway: LocalGateway) -> None:
    assert web.post(f"{gateway.url}/_local/telegram/files", content=b"").status_code == 400
