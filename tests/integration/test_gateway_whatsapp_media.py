"""WhatsApp media over the local gateway: inbound media a test puts in place, Graph's media
endpoints, downloads from the URL they give, and the outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadbot.channels.whatsapp.client import WhatsAppClient
from leadbot.domain import ChannelError
from local.fake_telegram import FakeTelegram
from local.fake_whatsapp import FakeWhatsApp
from local.gateway import LocalGateway
from local.seed import DEMO_WHATSAPP_ACCESS_TOKEN, DEMO_WHATSAPP_PHONE_NUMBER_ID
from tests import web

VOICE = b"OggS\x00\x02" + bytes(range(256)) * 8 + b"\r\n\r\n"
AUTH = {"Authorization": f"Bearer {DEMO_WHATSAPP_ACCESS_TOKEN}"}


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[LocalGateway]:
    fake = FakeWhatsApp({DEMO_WHATSAPP_PHONE_NUMBER_ID: DEMO_WHATSAPP_ACCESS_TOKEN})
    with LocalGateway([], tmp_path, FakeTelegram(), fake_whatsapp=fake, port=0) as gw:
        yield gw


@pytest.fixture
def client(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=30) as c:
        yield c


def test_a_voice_note_put_in_place_is_served_back_through_graphs_routes(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    put = client.post(
        "/_local/whatsapp/media",
        content=VOICE,
        headers={"Content-Type": "audio/ogg; codecs=opus"},
    )
    assert put.status_code == 200
    media_id = put.json()["id"]

    info = client.get(f"/_local/whatsapp/v21.0/{media_id}", headers=AUTH)
    assert info.status_code == 200
    assert info.json()["mime_type"] == "audio/ogg; codecs=opus"
    assert info.json()["sha256"] == hashlib.sha256(VOICE).hexdigest()
    url = info.json()["url"]
    assert url == f"{gateway.url}/_local/whatsapp/media/{media_id}/download"

    assert web.get(url).status_code == 401
    download = web.get(url, headers=AUTH)
    assert download.status_code == 200
    assert download.content == VOICE
    assert download.headers["Content-Type"] == "audio/ogg; codecs=opus"

    (record,) = client.get("/_local/outbox", params={"channel": "whatsapp"}).json()
    assert (record["channel"], record["method"]) == ("whatsapp", "media")
    assert record["payload"] == {
        "media": {"type": "audio/ogg; codecs=opus", "bytes": len(VOICE), "id": media_id}
    }
    assert "to" not in record["payload"]


def test_the_client_uploads_downloads_and_deletes_through_the_gateway(
    gateway: LocalGateway, client: httpx.Client
) -> None:
    whatsapp = WhatsAppClient(
        DEMO_WHATSAPP_PHONE_NUMBER_ID,
        DEMO_WHATSAPP_ACCESS_TOKEN,
        http=client,
        base_url=gateway.whatsapp_api_base,
    )
    # A brochure past API Gateway's 10 MB: Graph takes documents up to 100 MB.
    brochure = b"%PDF-1.7\n" + b"\x00\xff" * (6 * 1024 * 1024)
    media_id = whatsapp.upload(brochure, "application/pdf", filename="brochure.pdf")
    assert whatsapp.download(media_id) == brochure
    whatsapp.delete_media(media_id)
    with pytest.raises(ChannelError):
        whatsapp.media_info(media_id)
    methods = [r["method"] for r in client.get("/_local/outbox").json()]
    assert methods == ["media", "media_delete"]


def test_the_media_routes_refuse_what_graph_refuses(client: httpx.Client) -> None:
    assert client.get("/_local/whatsapp/v21.0/42", headers=AUTH).json()["error"]["code"] == 100
    assert client.get("/_local/whatsapp/v21.0/42").status_code == 401
    assert client.get("/_local/whatsapp/media/42/download", headers=AUTH).status_code == 404
    assert client.post("/_local/whatsapp/media", content=b"").status_code == 400
    assert client.get("/_local/whatsapp/media").status_code == 405
    upload = f"/_local/whatsapp/v21.0/{DEMO_WHATSAPP_PHONE_NUMBER_ID}/media"
    assert client.post(upload, headers=AUTH).status_code == 400
    assert client.get(upload, headers=AUTH).status_code == 405
