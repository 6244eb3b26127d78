"""A small WhatsApp Cloud API client over httpx: sends, templates, read receipts, media, the 24 h
rule.

Errors come back as `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`;
`send` turns them into a `Delivery` (never an exception), as the Telegram client does.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from leadbot.channels.whatsapp.render import render
from leadbot.domain import (
    ChannelBlocked,
    ChannelError,
    Delivery,
    DeliveryStatus,
    Language,
    Outbound,
)
from leadbot.i18n import t
from leadbot.metrics import channel_error

# Free-form messages are allowed only this long after the lead's last message to us.
SERVICE_WINDOW = timedelta(hours=24)
# 131026: undeliverable (not on WhatsApp, blocked us, app too old): the lead is unreachable here.
_BLOCKED = frozenset({131026})
# 4 / 80007: app and account call limits; 130429: throughput; 131048: spam; 131056: pair limit.
_RATE_LIMITED = frozenset({4, 80007, 130429, 131048, 131056})
REENGAGEMENT_REQUIRED = 131047  # more than 24 h since the lead wrote: templates only
# The Cloud API's default throughput per business number, in messages per second.
BULK_PER_SECOND = 80.0


class OutsideWindow(ChannelError):
    """Free text for a lead who last wrote more than 24 h ago; send an approved template."""

    def __init__(self, message: str = "outside the 24-hour customer service window") -> None:
        super().__init__(message, code=REENGAGEMENT_REQUIRED, retryable=False)


class RateLimited(ChannelError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message, code=code, retryable=True)


class MediaTooBig(ChannelError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=None, retryable=False)


@dataclass(frozen=True)
class MediaInfo:
    """What Graph says of a media id: where to download it (with the token) and what it is."""

    url: str
    mime_type: str
    sha256: str | None
    file_size: int | None


def can_send_free_text(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether free-form text may go out now: strictly within 24 h of the lead's last message."""
    return last_inbound_at is not None and now - last_inbound_at < SERVICE_WINDOW


def require_window(last_inbound_at: datetime | None, now: datetime) -> None:
    """Raise OutsideWindow unless free text is allowed (for callers such as follow-ups)."""
    if not can_send_free_text(last_inbound_at, now):
        raise OutsideWindow()


def _refusal(response: httpx.Response, body: object, what: str) -> ChannelError:
    """The typed error for a refused call, from Graph's error envelope when there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = int(error.get("code") or response.status_code)
    message = f"{what}: ({code}) {error.get('message') or response.reason_phrase}"
    if code in _BLOCKED:
        return ChannelBlocked(message, code=code)
    if code in _RATE_LIMITED:
        return RateLimited(message, code)
    if code == REENGAGEMENT_REQUIRED:
        return OutsideWindow(message)
    return ChannelError(message, code=code, retryable=response.status_code >= 500)


class WhatsAppClient:
    """One business number's client; `http` is shared so connections stay warm."""

    def __init__(
        self,
        phone_number_id: str,
        access_token: str,
        *,
        http: httpx.Client,
        base_url: str = "https://graph.facebook.com",
        version: str = "v21.0",
        list_button: str = "Choose",
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/{version}/{phone_number_id}/messages"
        self._graph = f"{base_url.rstrip('/')}/{version}"
        self._phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._http = http
        self._list_button = list_button

    def call(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one payload to the messages endpoint; its JSON answer or a typed ChannelError."""
        return self._graph_json("messages", "POST", self._url, json=payload)

    def upload(self, data: bytes, mime_type: str, filename: str = "file") -> str:
        """Upload media (an image, a brochure PDF, ...) for a later send; its media id."""
        form = {"messaging_product": "whatsapp", "type": mime_type}
        answer = self._graph_json(
            "media",
            "POST",
            f"{self._graph}/{self._phone_number_id}/media",
            data=form,
            files={"file": (filename, data, mime_type)},
        )
        media_id = answer.get("id")
        if not media_id:
            raise ChannelError("media: upload answered without an id", retryable=True)
        return str(media_id)

    def media_info(self, media_id: str) -> MediaInfo:
        """Where to download a media id (uploaded, or from a lead's message) and what it is."""
        answer = self._graph_json("media", "GET", self._media_url(media_id), params=self._owner())
        if not answer.get("url"):
            raise ChannelError(f"media: no url for {media_id}", retryable=True)
        size = answer.get("file_size")
        return MediaInfo(
            url=str(answer["url"]),
            mime_type=str(answer.get("mime_type") or "application/octet-stream"),
            sha256=str(answer["sha256"]) if answer.get("sha256") else None,
            file_size=int(size) if size is not None else None,
        )

    def download(self, media_id: str, max_bytes: int | None = None) -> bytes:
        """A media id's bytes, checked against the sha256 Graph gives for them; MediaTooBig
        when Graph says they are over `max_bytes` (nothing is downloaded then)."""
        info = self.media_info(media_id)
        if max_bytes is not None and (info.file_size or 0) > max_bytes:
            raise MediaTooBig(f"media: {info.file_size} bytes is over {max_bytes}")
        response = self._request("media", "GET", info.url)
        if not response.is_success:
            try:
                body = response.json()
            except ValueError:
                body = None  # the CDN's refusals need not be Graph JSON
            raise _refusal(response, body, "media")
        if info.sha256 and hashlib.sha256(response.content).hexdigest() != info.sha256:
            # A truncated or corrupted transfer; fetching again may well succeed.
            raise ChannelError(f"media: {media_id} does not match its sha256", retryable=True)
        if max_bytes is not None and len(response.content) > max_bytes:
            raise MediaTooBig(f"media: {len(response.content)} bytes is over {max_bytes}")
        return response.content

    def delete_media(self, media_id: str) -> None:
        """Delete media from Graph (it would otherwise keep it for 30 days)."""
        answer = self._graph_json(
            "media", "DELETE", self._media_url(media_id), params=self._owner()
        )
        if answer.get("success") is not True:
            raise ChannelError(f"media: {media_id} was not deleted", retryable=True)

    def _media_url(self, media_id: str) -> str:
        return f"{self._graph}/{media_id}"

    def _owner(self) -> dict[str, str]:
        # Graph then acts only on media of this business number.
        return {"phone_number_id": self._phone_number_id}

    def _graph_json(self, what: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One Graph call's JSON answer, or the typed ChannelError its error describes."""
        return self._json(self._request(what, method, url, **kwargs), what)

    def _request(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{what}: {type(exc).__name__}", retryable=True) from None

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise ChannelError(
                f"{what}: HTTP {response.status_code} without JSON",
                code=response.status_code,
                retryable=response.status_code >= 500,
            ) from None
        if response.is_success and isinstance(body, dict) and "error" not in body:
            return body
        raise _refusal(response, body, what)

    def send(self, to: str, outbound: Outbound, language: Language | None = None) -> Delivery:
        """Send one outbound (in parts if long); failures become a Delivery, not a crash.

        `language` words the button that opens a list of choices (English without it)."""
        button = t("whatsapp.list_button", language) if language else self._list_button
        return self._deliver(render(to, outbound, list_button=button))

    def send_template(
        self, to: str, name: str, language: str, parameters: Sequence[str] = ()
    ) -> Delivery:
        """Send an approved template; `parameters` fill its body's {{1}}, {{2}}, ... in order."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if parameters:
            values = [{"type": "text", "text": value} for value in parameters]
            template["components"] = [{"type": "body", "parameters": values}]
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        }
        return self._deliver([payload])

    def acknowledge(self, receipt_id: str) -> None:
        """Mark the lead's message (its id) as read: blue ticks, as a person reading it would
        give. Failing to is cosmetic, so errors are swallowed."""
        payload = {"messaging_product": "whatsapp", "status": "read", "message_id": receipt_id}
        with contextlib.suppress(ChannelError):
            self.call(payload)

    def _deliver(self, payloads: list[dict[str, Any]]) -> Delivery:
        """The payloads sent in turn; a refusal becomes the Delivery (and a ChannelErrors
        metric by code), never a crash."""
        delivery = self._post_all(payloads)
        if delivery.status is not DeliveryStatus.SENT:
            channel_error("whatsapp", delivery.error_code)
        return delivery

    def _post_all(self, payloads: list[dict[str, Any]]) -> Delivery:
        message_id: str | None = None
        try:
            for payload in payloads:
                messages = self.call(payload).get("messages") or [{}]
                message_id = str(messages[0].get("id") or "") or None
        except ChannelBlocked as exc:
            return Delivery(status=DeliveryStatus.BLOCKED, error=str(exc), error_code=exc.code)
        except RateLimited as exc:
            return Delivery(
                status=DeliveryStatus.RATE_LIMITED,
                error=str(exc),
                error_code=exc.code,
                retryable=True,
            )
        except ChannelError as exc:
            return Delivery(
                status=DeliveryStatus.FAILED,
                error=str(exc),
                error_code=exc.code,
                retryable=exc.retryable,
            )
        return Delivery(status=DeliveryStatus.SENT, message_id=message_id)
