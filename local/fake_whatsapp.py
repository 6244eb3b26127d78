"""An in-memory fake of the WhatsApp Cloud API messages and media endpoints, in their wire format.

Answers `POST /{version}/{phone_number_id}/messages` as Graph does: a send gets
`{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}`, a
read receipt `{"success": true}`, and a refusal `{"error": {"message", "type", "code",
"error_data", "fbtrace_id"}}`. It checks the Bearer token of each registered number and the
limits a real send would break (3 buttons, 20-character titles, 10 list rows, ...), so code
that passes here does not fail on them against Meta.

Media follows Graph too: `POST /{version}/{phone_number_id}/media` (multipart `messaging_product`,
`type`, `file`) answers `{"id"}` within each type's size limit, `GET /{version}/{media_id}` the
`{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}` whose `url` serves the
bytes to the same Bearer token, and `DELETE /{version}/{media_id}` `{"success": true}`.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlsplit

MAX_TEXT = 4096
MAX_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_SECTION_TITLE = 24
MAX_LIST_BUTTON = 20
_FBTRACE = "AfakeTraceIdForLocalUse"

_MB = 1024 * 1024
# Cloud API's supported media types and their upload limits (stickers: animated ones' limit).
MEDIA_LIMITS: dict[str, int] = {
    "audio/aac": 16 * _MB,
    "audio/amr": 16 * _MB,
    "audio/mp4": 16 * _MB,
    "audio/mpeg": 16 * _MB,
    "audio/ogg": 16 * _MB,
    "image/jpeg": 5 * _MB,
    "image/png": 5 * _MB,
    "image/webp": 500 * 1024,
    "video/3gpp": 16 * _MB,
    "video/mp4": 16 * _MB,
    "text/plain": 100 * _MB,
    "application/pdf": 100 * _MB,
    "application/msword": 100 * _MB,
    "application/vnd.ms-excel": 100 * _MB,
    "application/vnd.ms-powerpoint": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * _MB,
}
MAX_MEDIA_BYTES = max(MEDIA_LIMITS.values())
# Media ids are numeric strings, like the ones Graph and inbound webhooks carry.
_FIRST_MEDIA_ID = 1_000_000_000_000_000

Response = tuple[int, dict[str, Any]]
# (HTTP status, Content-Type, body) of a media download.
RawResponse = tuple[int, str, bytes]


@dataclass
class _Fault:
    to: str | None
    code: int
    message: str
    remaining: int


@dataclass(frozen=True)
class _Media:
    id: str
    data: bytes
    mime_type: str
    sha256: str
    # The business number it was uploaded to; None for inbound media a test put in place,
    # which any registered number's token may read.
    owner: str | None


class _Invalid(Exception):
    """A payload Graph would refuse; carries its error code and details."""

    def __init__(self, details: str, code: int = 131009) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def error_body(
    code: int, message: str, details: str = "", subcode: int | None = None
) -> dict[str, Any]:
    """Graph's error envelope."""
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = _FBTRACE
    return {"error": error}


def mask_token(token: str) -> str:
    return token[:6] + "…"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeWhatsApp:
    """Thread-safe, in-memory messages endpoint for registered business numbers."""

    def __init__(self, numbers: dict[str, str] | None = None) -> None:
        """`numbers` maps phone_number_id → the access token allowed to send from it."""
        self._lock = threading.Lock()
        self._numbers = dict(numbers or {})
        self._calls: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._sent = 0
        self._media: dict[str, _Media] = {}
        self._media_ids = 0

    # -- test and dashboard controls -------------------------------------------------------

    def register(self, phone_number_id: str, access_token: str) -> None:
        with self._lock:
            self._numbers[phone_number_id] = access_token

    def fail_next(self, to: str | None, code: int, message: str, times: int = 1) -> None:
        """Make the next `times` sends to `to` (anyone when None) fail with this Graph error."""
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(to, code, message, times))

    def outbox(self) -> list[dict[str, Any]]:
        """Every recorded call, newest last (deep copies, safe to mutate)."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def clear(self) -> None:
        """Forget recorded calls and pending faults; message ids keep counting, media stays."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self, version: str, phone_number_id: str, authorization: str | None, payload: object
    ) -> Response:
        """Answer one POST to the messages endpoint: (HTTP status, JSON body)."""
        body = payload if isinstance(payload, dict) else {}
        to = str(body["to"]) if body.get("to") is not None else None
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            record: dict[str, Any] = {
                "channel": "whatsapp",
                "method": "messages",
                "version": version,
                "phone_number_id": phone_number_id,
                "token": mask_token(token),
                "chat_id": to,
                "payload": copy.deepcopy(payload),
                "at": _now_iso(),
            }
            self._calls.append(record)
            status, answer = self._answer(phone_number_id, token, payload, to)
            record["status"] = status
            # The wamid a status webhook would name, so a test can play Meta's statuses back.
            record["message_id"] = (answer.get("messages") or [{}])[0].get("id")
            return status, copy.deepcopy(answer)

    def _answer(self, number: str, token: str, payload: object, to: str | None) -> Response:
        if not token:
            return 401, error_body(
                2500, "An active access token must be used to query information."
            )
        if number not in self._numbers:
            return 400, error_body(
                100,
                f"Unsupported post request. Object with ID '{number}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                subcode=33,
            )
        if token != self._numbers[number]:
            return 401, error_body(190, "Invalid OAuth access token - Cannot parse access token")
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            return 400, error_body(100, "(#100) The parameter messaging_product is required.")
        if payload.get("status") == "read":
            if not payload.get("message_id"):
                return 400, error_body(100, "(#100) The parameter message_id is required.")
            return 200, {"success": True}
        if not to:
            return 400, error_body(100, "(#100) The parameter to is required.")
        fault = self._take_fault(to)
        if fault is not None:
            return 400, error_body(fault.code, fault.message)
        try:
            _check(payload)
        except _Invalid as exc:
            return 400, error_body(
                exc.code, f"(#{exc.code}) Parameter value is not valid", exc.details
            )
        self._sent += 1
        wamid = "wamid." + base64.b64encode(f"{number}:{to}:{self._sent}".encode()).decode()
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": "".join(ch for ch in to if ch.isdigit())}],
            "messages": [{"id": wamid}],
        }
        if payload.get("type") == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return 200, answer

    # -- media -----------------------------------------------------------------------------

    def put_media(self, data: bytes, mime_type: str, phone_number_id: str | None = None) -> str:
        """Store media as if a lead had sent it (a voice note, a photo): its id, for a webhook
        body to name. Recorded like an upload, without checking Graph's upload limits."""
        with self._lock:
            media = self._store(data, mime_type, phone_number_id)
            self._record("media", None, phone_number_id, None, _media_payload(media), 200)
            return media.id

    def upload(
        self,
        version: str,
        phone_number_id: str,
        authorization: str | None,
        content_type: str,
        body: bytes,
    ) -> Response:
        """Answer one POST to `/{version}/{phone_number_id}/media` (a multipart/form-data body
        with `messaging_product`, `type` and `file`)."""
        token = _token(authorization)
        fields, file = _form(content_type, body)
        with self._lock:
            status, answer = self._upload(phone_number_id, token, fields, file)
            size = None if file is None else len(file)
            described = {"type": fields.get("type"), "bytes": size, "id": answer.get("id")}
            self._record("media", version, phone_number_id, token, {"media": described}, status)
            return status, copy.deepcopy(answer)

    def retrieve(
        self,
        version: str,
        media_id: str,
        authorization: str | None,
        phone_number_id: str | None,
        download_base: str,
    ) -> Response:
        """Answer `GET /{version}/{media_id}`: what it is and where to download it
        (`<download_base>/<id>/download`)."""
        with self._lock:
            media = self._find(media_id, _token(authorization), phone_number_id, "get")
            if not isinstance(media, _Media):
                return media
            return 200, {
                "messaging_product": "whatsapp",
                "url": f"{download_base.rstrip('/')}/{media.id}/download",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
            }

    def delete_media(
        self, version: str, media_id: str, authorization: str | None, phone_number_id: str | None
    ) -> Response:
        """Answer `DELETE /{version}/{media_id}`: `{"success": true}` once it is gone."""
        token = _token(authorization)
        with self._lock:
            found = self._find(media_id, token, phone_number_id, "delete")
            described: dict[str, Any] = {"id": media_id}
            if isinstance(found, _Media):
                del self._media[found.id]
                described.update(type=found.mime_type, bytes=len(found.data))
                status, answer = 200, {"success": True}
            else:
                status, answer = found
            self._record(
                "media_delete", version, phone_number_id, token, {"media": described}, status
            )
            return status, copy.deepcopy(answer)

    def download(self, media_id: str, authorization: str | None) -> RawResponse:
        """Serve a media URL: the bytes to a token that may read them; 401 without one, 404 for
        media that does not exist (or not for this token)."""
        token = _token(authorization)
        with self._lock:
            media = self._media.get(media_id)
            if not token or token not in self._numbers.values():
                body = error_body(190, "Invalid OAuth access token - Cannot parse access token")
                return 401, "application/json", _json(body)
            if media is None or not self._may_read(media, token):
                return 404, "application/json", _json(error_body(100, "Media not found"))
            return 200, media.mime_type, media.data

    def _upload(
        self, number: str, token: str, fields: dict[str, str], file: bytes | None
    ) -> Response:
        refused = self._check_number(number, token, "post")
        if refused is not None:
            return refused
        if fields.get("messaging_product") != "whatsapp":
            return 400, error_body(100, "(#100) The parameter messaging_product is required.")
        if file is None:
            return 400, error_body(100, "(#100) The parameter file is required.")
        mime = fields.get("type", "")
        if not mime:
            return 400, error_body(100, "(#100) The parameter type is required.")
        limit = MEDIA_LIMITS.get(_base_type(mime))
        if limit is None:
            return 400, error_body(
                100,
                "(#100) Param file must be a file with one of the following types: "
                f"{', '.join(sorted(MEDIA_LIMITS))}. Received file of type '{mime}'.",
            )
        if len(file) > limit:
            return 400, error_body(
                131053,
                "(#131053) Media upload error",
                f"{_base_type(mime)} files must be at most {limit} bytes; got {len(file)}",
            )
        return 200, {"id": self._store(file, mime, number).id}

    def _store(self, data: bytes, mime_type: str, owner: str | None) -> _Media:
        self._media_ids += 1
        media_id = str(_FIRST_MEDIA_ID + self._media_ids)
        sha256 = hashlib.sha256(data).hexdigest()
        self._media[media_id] = _Media(media_id, data, mime_type, sha256, owner)
        return self._media[media_id]

    def _find(self, media_id: str, token: str, number: str | None, verb: str) -> _Media | Response:
        """The media this token may reach (from `number` when given), else Graph's refusal."""
        if not token:
            return _no_token()
        if token not in self._numbers.values():
            return _bad_token()
        media = self._media.get(media_id)
        if (
            media is None
            or not self._may_read(media, token)
            or (number is not None and media.owner is not None and media.owner != number)
        ):
            return _no_object(media_id, verb)
        return media

    def _may_read(self, media: _Media, token: str) -> bool:
        return media.owner is None or self._numbers.get(media.owner) == token

    def _check_number(self, number: str, token: str, verb: str) -> Response | None:
        if not token:
            return _no_token()
        if number not in self._numbers:
            return _no_object(number, verb)
        if token != self._numbers[number]:
            return _bad_token()
        return None

    def _record(
        self,
        method: str,
        version: str | None,
        number: str | None,
        token: str | None,
        payload: dict[str, Any],
        status: int,
    ) -> None:
        # No "to" in payload: readers take records with one for messages sent to a lead.
        self._calls.append(
            {
                "channel": "whatsapp",
                "method": method,
                "version": version,
                "phone_number_id": number,
                "token": None if token is None else mask_token(token),
                "chat_id": None,
                "payload": payload,
                "at": _now_iso(),
                "status": status,
                "message_id": None,
            }
        )

    def _take_fault(self, to: str) -> _Fault | None:
        for fault in self._faults:
            if fault.to is None or fault.to == to:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None


def _token(authorization: str | None) -> str:
    return (authorization or "").removeprefix("Bearer ").strip()


def _no_token() -> Response:
    return 401, error_body(2500, "An active access token must be used to query information.")


def _bad_token() -> Response:
    return 401, error_body(190, "Invalid OAuth access token - Cannot parse access token")


def _no_object(object_id: str, verb: str) -> Response:
    return 400, error_body(
        100,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _base_type(mime: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return mime.split(";", 1)[0].strip().lower()


def _media_payload(media: _Media) -> dict[str, Any]:
    return {"media": {"type": media.mime_type, "bytes": len(media.data), "id": media.id}}


def _form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """A multipart/form-data body's text fields and its `file` part (None when absent)."""
    if _base_type(content_type) != "multipart/form-data":
        return {}, None
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return {}, None
    fields: dict[str, str] = {}
    file: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(data, bytes):
            continue
        if name == "file":
            file = data
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, file


def _check(payload: dict[str, Any]) -> None:
    """Raise _Invalid for what Graph refuses in a message of the types the bot sends."""
    kind = payload.get("type", "text")
    if kind == "text":
        body = (payload.get("text") or {}).get("body")
        _length("Text body", body, 1, MAX_TEXT)
    elif kind == "image":
        _check_image(payload.get("image"), "Image")
    elif kind == "interactive":
        _check_interactive(payload.get("interactive") or {})
    elif kind == "template":
        template = payload.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            raise _Invalid("Template name and language code are required", code=100)
    else:
        raise _Invalid(f"Message type {kind!r} is not supported by this fake", code=100)


def _check_image(image: object, what: str) -> None:
    """An image object: exactly one of an uploaded media `id` or an http(s) `link`."""
    if not isinstance(image, dict) or bool(image.get("id")) == bool(image.get("link")):
        raise _Invalid(f"{what} must have exactly one of id or link", code=100)
    link = image.get("link")
    if link is not None and urlsplit(str(link)).scheme not in ("http", "https"):
        raise _Invalid(f"{what} link must be an http(s) URL", code=100)
    if "caption" in image:
        _length("Caption", image["caption"], 1, MAX_BODY)


def _check_interactive(interactive: dict[str, Any]) -> None:
    _length("Body text", (interactive.get("body") or {}).get("text"), 1, MAX_BODY)
    action = interactive.get("action") or {}
    header = interactive.get("header")
    if header is not None:
        # Reply-button messages may lead with media; list messages only with text.
        kinds = ("text", "image") if interactive.get("type") == "button" else ("text",)
        if not isinstance(header, dict) or header.get("type") not in kinds:
            raise _Invalid(f"Header type must be one of {', '.join(kinds)}", code=100)
        if header["type"] == "image":
            _check_image(header.get("image"), "Header image")
        else:
            _length("Header text", header.get("text"), 1, 60)
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= MAX_BUTTONS:
            raise _Invalid(f"Buttons count is invalid. Min: 1, Max: {MAX_BUTTONS}")
        replies = [b.get("reply") or {} for b in buttons]
        for reply in replies:
            _length("Button title", reply.get("title"), 1, MAX_BUTTON_TITLE)
            _length("Button id", reply.get("id"), 1, 256)
        if len({r.get("id") for r in replies}) != len(replies):
            raise _Invalid("Button ids must be unique")
        if len({r.get("title") for r in replies}) != len(replies):
            raise _Invalid("Button titles must be unique")
    elif interactive.get("type") == "list":
        _length("Button text", action.get("button"), 1, MAX_LIST_BUTTON)
        sections = action.get("sections") or []
        if not sections:
            raise _Invalid("Sections count is invalid. Min: 1, Max: 10")
        rows = [row for section in sections for row in section.get("rows") or []]
        if not 1 <= len(rows) <= MAX_ROWS:
            raise _Invalid(f"Total row count exceed max allowed count: {MAX_ROWS}")
        for section in sections:
            if len(sections) > 1 or "title" in section:
                _length("Section title", section.get("title"), 1, MAX_SECTION_TITLE)
        for row in rows:
            _length("Row title", row.get("title"), 1, MAX_ROW_TITLE)
            _length("Row id", row.get("id"), 1, 200)
            if "description" in row:
                _length("Row description", row.get("description"), 0, MAX_ROW_DESCRIPTION)
        if len({row.get("id") for row in rows}) != len(rows):
            raise _Invalid("Row ids must be unique")
    else:
        raise _Invalid(f"Interactive type {interactive.get('type')!r} is not supported", code=100)


def _length(what: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise _Invalid(f"{what} length invalid. Min length: {low}, Max length: {high}")
