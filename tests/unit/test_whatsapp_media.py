"""WhatsApp media: the fake Graph API's media endpoints, and the client's calls against them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from leadbot.channels.whatsapp.client import MediaInfo, WhatsAppClient
from leadbot.domain import ChannelError, DeliveryStatus, Outbound
from local.fake_whatsapp import FakeWhatsApp

NUMBER = "100000000000001"
TOKEN = "demo-whatsapp-access-token"
OTHER_NUMBER = "100000000000002"
OTHER_TOKEN = "other-agency-token"
LEAD = "971501234567"
VERSION = "v21.0"
# Graph's download URLs point at Meta's CDN, not at graph.facebook.com.
CDN = "https://lookaside.fbsbx.com/whatsapp_business/attachments"
MB = 1024 * 1024
# Bytes that would break a text-minded multipart parser: CRLFs, a fake boundary, NULs.
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40 + b"\r\n--boundary\r\n\x00\r\n"

_UPLOAD = re.compile(r"^/(v[0-9.]+)/([^/]+)/media$")
_MESSAGES = re.compile(r"^/(v[0-9.]+)/([^/]+)/messages$")
_DOWNLOAD = re.compile(r"^/whatsapp_business/attachments/([^/]+)/download$")
_OBJECT = re.compile(r"^/(v[0-9.]+)/([^/]+)$")


def media_transport(
    fake: FakeWhatsApp, corrupt: Callable[[bytes], bytes] = lambda data: data
) -> httpx.MockTransport:
    """The fake behind httpx, routed by path as Graph and its CDN are; `corrupt` alters what
    the CDN serves."""

    def handle(request: httpx.Request) -> httpx.Response:
        path, auth = request.url.path, request.headers.get("Authorization")
        number = request.url.params.get("phone_number_id")
        if found := _MESSAGES.match(path):
            payload = json.loads(request.content)
            return httpx.Response(200, json=fake.handle(found[1], found[2], auth, payload)[1])
        if found := _UPLOAD.match(path):
            content_type = request.headers.get("Content-Type", "")
            status, body = fake.upload(found[1], found[2], auth, content_type, request.content)
            return httpx.Response(status, json=body)
        if found := _DOWNLOAD.match(path):
            status, content_type, raw = fake.download(found[1], auth)
            raw = corrupt(raw) if status == 200 else raw
            return httpx.Response(status, content=raw, headers={"Content-Type": content_type})
        if (found := _OBJECT.match(path)) and request.method == "GET":
            status, body = fake.retrieve(found[1], found[2], auth, number, CDN)
            return httpx.Response(status, json=body)
        if (found := _OBJECT.match(path)) and request.method == "DELETE":
            status, body = fake.delete_media(found[1], found[2], auth, number)
            return httpx.Response(status, json=body)
        return httpx.Response(404, json={"error": {"message": "no such route", "code": 404}})

    return httpx.MockTransport(handle)


def multipart(
    data: bytes | None, mime: str | None, messaging_product: str | None = "whatsapp"
) -> tuple[str, bytes]:
    """(Content-Type, body) of an upload as a Graph client sends it."""
    fields = {"messaging_product": messaging_product, "type": mime}
    # Without a file the body is still a form (a stray part), as a buggy client would send.
    part = ("file", data) if data is not None else ("other", b"x")
    files = {part[0]: ("upload.bin", part[1], mime or "application/octet-stream")}
    request = httpx.Request(
        "POST",
        "https://graph.facebook.com/",
        data={k: v for k, v in fields.items() if v is not None},
        files=files,
    )
    return request.headers["Content-Type"], request.read()


def upload(
    fake: FakeWhatsApp,
    data: bytes | None,
    mime: str | None,
    token: str | None = TOKEN,
    number: str = NUMBER,
    **form: Any,
) -> tuple[int, dict[str, Any]]:
    content_type, body = multipart(data, mime, **form)
    auth = None if token is None else f"Bearer {token}"
    return fake.upload(VERSION, number, auth, content_type, body)


def retrieve(
    fake: FakeWhatsApp, media_id: str, token: str = TOKEN, number: str | None = None
) -> tuple[int, dict[str, Any]]:
    return fake.retrieve(VERSION, media_id, f"Bearer {token}", number, CDN)


@pytest.fixture
def fake() -> FakeWhatsApp:
    return FakeWhatsApp({NUMBER: TOKEN, OTHER_NUMBER: OTHER_TOKEN})


@pytest.fixture
def http(fake: FakeWhatsApp) -> Iterator[httpx.Client]:
    with httpx.Client(transport=media_transport(fake)) as client:
        yield client


def _client(http: httpx.Client, token: str = TOKEN) -> WhatsAppClient:
    return WhatsAppClient(NUMBER, token, http=http)


# -- the fake Graph API ---------------------------------------------------------------------


def test_an_upload_answers_an_id_whose_url_serves_the_same_bytes(fake: FakeWhatsApp) -> None:
    status, answer = upload(fake, PHOTO, "image/png")
    assert status == 200 and set(answer) == {"id"} and answer["id"].isdigit()
    status, info = retrieve(fake, answer["id"])
    assert status == 200
    assert info == {
        "messaging_product": "whatsapp",
        "url": f"{CDN}/{answer['id']}/download",
        "mime_type": "image/png",
        "sha256": hashlib.sha256(PHOTO).hexdigest(),
        "file_size": len(PHOTO),
        "id": answer["id"],
    }
    assert fake.download(answer["id"], f"Bearer {TOKEN}") == (200, "image/png", PHOTO)


def test_an_upload_is_recorded_without_its_bytes_and_without_a_recipient(
    fake: FakeWhatsApp,
) -> None:
    _, answer = upload(fake, PHOTO, "image/png")
    (record,) = fake.outbox()
    assert (record["channel"], record["method"], record["status"]) == ("whatsapp", "media", 200)
    assert record["payload"] == {
        "media": {"type": "image/png", "bytes": len(PHOTO), "id": answer["id"]}
    }
    assert record["chat_id"] is None and record["token"] == "demo-w…"


@pytest.mark.parametrize(
    ("token", "number", "status", "code"),
    [
        (None, NUMBER, 401, 2500),
        ("not-the-token", NUMBER, 401, 190),
        (OTHER_TOKEN, NUMBER, 401, 190),
        (TOKEN, "999", 400, 100),
    ],
)
def test_an_upload_needs_the_numbers_own_token(
    fake: FakeWhatsApp, token: str | None, number: str, status: int, code: int
) -> None:
    answer = upload(fake, PHOTO, "image/png", token=token, number=number)
    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert fake.outbox()[-1]["payload"]["media"]["id"] is None


@pytest.mark.parametrize(
    ("data", "mime", "form", "needle"),
    [
        (None, "image/png", {}, "parameter file is required"),
        (PHOTO, None, {}, "parameter type is required"),
        (PHOTO, "image/png", {"messaging_product": None}, "messaging_product"),
        (b"<html></html>", "text/html", {}, "Received file of type 'text/html'"),
        (b"x" * (5 * MB + 1), "image/jpeg", {}, "Media upload error"),
        (b"x" * (5 * MB + 1), "image/png", {}, "Media upload error"),
        (b"x" * (500 * 1024 + 1), "image/webp", {}, "Media upload error"),
        (b"x" * (16 * MB + 1), "audio/ogg", {}, "Media upload error"),
        (b"x" * (16 * MB + 1), "video/mp4", {}, "Media upload error"),
        (b"x" * (100 * MB + 1), "application/pdf", {}, "Media upload error"),
    ],
)
def test_graph_refuses_uploads_it_could_not_send(
    fake: FakeWhatsApp, data: bytes | None, mime: str | None, form: dict[str, Any], needle: str
) -> None:
    status, answer = upload(fake, data, mime, **form)
    assert status == 400
    assert needle in answer["error"]["message"]
    assert fake.outbox()[-1]["payload"]["media"]["id"] is None


@pytest.mark.parametrize(
    ("size", "mime"),
    [
        (500 * 1024, "image/webp"),
        (5 * MB, "image/jpeg"),
        (16 * MB, "audio/ogg; codecs=opus"),
        # Documents may be far bigger than photos.
        (6 * MB, "application/pdf"),
    ],
)
def test_uploads_up_to_the_types_limit_are_taken(fake: FakeWhatsApp, size: int, mime: str) -> None:
    status, answer = upload(fake, b"x" * size, mime)
    assert status == 200
    assert retrieve(fake, answer["id"])[1]["file_size"] == size


def test_media_of_one_number_is_out_of_reach_of_another(fake: FakeWhatsApp) -> None:
    _, answer = upload(fake, PHOTO, "image/png")
    status, refused = retrieve(fake, answer["id"], token=OTHER_TOKEN)
    assert (status, refused["error"]["code"]) == (400, 100)
    assert retrieve(fake, answer["id"], number=OTHER_NUMBER)[0] == 400
    assert retrieve(fake, answer["id"], number=NUMBER)[0] == 200
    assert fake.download(answer["id"], f"Bearer {OTHER_TOKEN}")[0] == 404


def test_unknown_media_and_missing_tokens_are_refused_as_graph_does(fake: FakeWhatsApp) -> None:
    status, answer = retrieve(fake, "1234")
    assert (status, answer["error"]["code"], answer["error"]["error_subcode"]) == (400, 100, 33)
    assert answer["error"]["message"].startswith("Unsupported get request.")
    assert fake.retrieve(VERSION, "1234", None, None, CDN)[0] == 401
    _, uploaded = upload(fake, PHOTO, "image/png")
    assert fake.download(uploaded["id"], None)[0] == 401
    assert fake.download("1234", f"Bearer {TOKEN}")[0] == 404


def test_deleted_media_is_gone_and_the_delete_is_recorded(fake: FakeWhatsApp) -> None:
    _, uploaded = upload(fake, PHOTO, "image/png")
    media_id = uploaded["id"]
    assert fake.delete_media(VERSION, media_id, f"Bearer {TOKEN}", None) == (200, {"success": True})
    assert retrieve(fake, media_id)[0] == 400
    assert fake.download(media_id, f"Bearer {TOKEN}")[0] == 404
    again = fake.delete_media(VERSION, media_id, f"Bearer {TOKEN}", None)
    assert again[0] == 400 and "Unsupported delete request" in again[1]["error"]["message"]
    deleted = [r for r in fake.outbox() if r["method"] == "media_delete"]
    assert [r["status"] for r in deleted] == [200, 400]
    assert deleted[0]["payload"] == {
        "media": {"id": media_id, "type": "image/png", "bytes": len(PHOTO)}
    }
    assert all("to" not in r["payload"] for r in fake.outbox())


def test_media_a_lead_sent_is_readable_with_the_business_token(fake: FakeWhatsApp) -> None:
    media_id = fake.put_media(b"OggS voice", "audio/ogg; codecs=opus")
    status, info = retrieve(fake, media_id)
    assert (status, info["mime_type"]) == (200, "audio/ogg; codecs=opus")
    assert fake.download(media_id, f"Bearer {TOKEN}")[2] == b"OggS voice"
    (record,) = fake.outbox()
    assert record["payload"]["media"] == {
        "type": "audio/ogg; codecs=opus",
        "bytes": 10,
        "id": media_id,
    }


# -- the client -----------------------------------------------------------------------------


def test_the_client_round_trips_media_through_upload_info_and_download(
    http: httpx.Client,
) -> None:
    client = _client(http)
    media_id = client.upload(PHOTO, "image/png", filename="flat.png")
    info = client.media_info(media_id)
    assert info == MediaInfo(
        url=f"{CDN}/{media_id}/download",
        mime_type="image/png",
        sha256=hashlib.sha256(PHOTO).hexdigest(),
        file_size=len(PHOTO),
    )
    data = client.download(media_id)
    assert data == PHOTO
    assert hashlib.sha256(data).hexdigest() == info.sha256


def test_a_wrong_token_is_a_channel_error(http: httpx.Client) -> None:
    media_id = _client(http).upload(PHOTO, "image/png")
    wrong = _client(http, token="expired-token")
    with pytest.raises(ChannelError) as upload_error:
        wrong.upload(PHOTO, "image/png")
    assert upload_error.value.code == 190 and not upload_error.value.retryable
    with pytest.raises(ChannelError) as info_error:
        wrong.media_info(media_id)
    assert info_error.value.code == 190


@pytest.mark.parametrize(
    ("data", "mime"),
    [(b"x" * (5 * MB + 1), "image/jpeg"), (b"MZ\x90\x00", "application/x-msdownload")],
)
def test_the_client_raises_when_graph_refuses_an_upload(
    http: httpx.Client, data: bytes, mime: str
) -> None:
    with pytest.raises(ChannelError) as refused:
        _client(http).upload(data, mime)
    assert refused.value.code in (100, 131053) and not refused.value.retryable


def test_deleted_media_cannot_be_looked_up_or_downloaded(http: httpx.Client) -> None:
    client = _client(http)
    media_id = client.upload(PHOTO, "image/png")
    client.delete_media(media_id)
    with pytest.raises(ChannelError) as gone:
        client.media_info(media_id)
    assert gone.value.code == 100
    with pytest.raises(ChannelError):
        client.download(media_id)
    with pytest.raises(ChannelError):
        client.delete_media(media_id)


def test_a_download_that_does_not_match_its_sha256_is_refused(fake: FakeWhatsApp) -> None:
    corrupting = media_transport(fake, corrupt=lambda data: data[:-1])
    with httpx.Client(transport=corrupting) as http:
        client = _client(http)
        media_id = client.upload(PHOTO, "image/png")
        with pytest.raises(ChannelError) as mismatch:
            client.download(media_id)
    assert "sha256" in str(mismatch.value) and mismatch.value.retryable


def test_sends_still_go_out_beside_media(fake: FakeWhatsApp, http: httpx.Client) -> None:
    client = _client(http)
    client.upload(PHOTO, "image/png")
    assert client.send(LEAD, Outbound(text="Here is the flat")).status is DeliveryStatus.SENT
    sent = [r for r in fake.outbox() if "to" in r["payload"]]
    assert [r["payload"]["text"]["body"] for r in sent] == ["Here is the flat"]
