"""An in-memory fake of the WhatsApp Cloud API messages endpoint, in its wire format.

Answers `POST /{version}/{phone_number_id}/messages` as Graph does: a send gets
`{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}`, a
read receipt `{"success": true}`, and a refusal `{"error": {"message", "type", "code",
"error_data", "fbtrace_id"}}`. It checks the Bearer token of each registered number and the
limits a real send would break (3 buttons, 20-character titles, 10 list rows, ...), so code
that passes here does not fail on them against Meta.
"""

from __future__ import annotations

import base64
import copy
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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

Response = tuple[int, dict[str, Any]]


@dataclass
class _Fault:
    to: str | None
    code: int
    message: str
    remaining: int


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
        """Forget recorded calls and pending faults; message ids keep counting."""
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

    def _take_fault(self, to: str) -> _Fault | None:
        for fault in self._faults:
            if fault.to is None or fault.to == to:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None


def _check(payload: dict[str, Any]) -> None:
    """Raise _Invalid for what Graph refuses in a message of the types the bot sends."""
    kind = payload.get("type", "text")
    if kind == "text":
        body = (payload.get("text") or {}).get("body")
        _length("Text body", body, 1, MAX_TEXT)
    elif kind == "interactive":
        _check_interactive(payload.get("interactive") or {})
    elif kind == "template":
        template = payload.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            raise _Invalid("Template name and language code are required", code=100)
    else:
        raise _Invalid(f"Message type {kind!r} is not supported by this fake", code=100)


def _check_interactive(interactive: dict[str, Any]) -> None:
    _length("Body text", (interactive.get("body") or {}).get("text"), 1, MAX_BODY)
    action = interactive.get("action") or {}
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
