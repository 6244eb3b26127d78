"""A small Telegram Bot API client over httpx: sends, retries 429, types 403 as blocked, and
downloads the files users send (voice notes)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from leadbot.channels.telegram.render import method, render
from leadbot.domain import (
    ChannelBlocked,
    ChannelError,
    Delivery,
    DeliveryStatus,
    Language,
    Outbound,
)
from leadbot.metrics import channel_error

# Inside a webhook, waiting longer than this for a 429 risks Telegram's own timeout.
MAX_RETRY_WAIT_S = 5.0
MAX_ATTEMPTS = 3
# Messages a bot may send to different chats each second; Telegram starts refusing (429) a
# little above 30, so bulk senders (follow-ups) keep under it.
BULK_PER_SECOND = 25.0
# The Bot API serves bots files of at most 20 MB (getFile refuses bigger ones).
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


class FileTooBig(ChannelError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code=400, retryable=False)


class RateLimited(ChannelError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, code=429, retryable=True)
        self.retry_after = retry_after


class TelegramClient:
    """One bot's client; `http` is shared so connections stay warm across invocations."""

    def __init__(
        self,
        token: str,
        *,
        http: httpx.Client,
        base_url: str = "https://api.telegram.org",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}"
        self._files = f"{base_url.rstrip('/')}/file/bot{token}"
        self._http = http
        self._sleep = sleep

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        """Call a Bot API method; returns its `result` or raises a typed ChannelError."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = self._http.post(f"{self._url}/{method}", json=payload)
            except httpx.HTTPError as exc:
                raise ChannelError(f"{method}: {type(exc).__name__}", retryable=True) from exc
            try:
                body = response.json()
            except ValueError:
                raise ChannelError(
                    f"{method}: HTTP {response.status_code} without JSON",
                    code=response.status_code,
                    retryable=response.status_code >= 500,
                ) from None
            if body.get("ok"):
                return body.get("result")
            code = int(body.get("error_code") or response.status_code)
            description = str(body.get("description") or "")
            if code == 429:
                retry_after = float((body.get("parameters") or {}).get("retry_after") or 1)
                if attempt < MAX_ATTEMPTS and retry_after <= MAX_RETRY_WAIT_S:
                    self._sleep(retry_after)
                    continue
                raise RateLimited(f"{method}: {description}", retry_after)
            if code == 403:
                raise ChannelBlocked(f"{method}: {description}")
            raise ChannelError(f"{method}: {description}", code=code, retryable=code >= 500)
        raise AssertionError("unreachable")  # pragma: no cover

    def set_webhook(
        self,
        url: str,
        *,
        secret_token: str,
        allowed_updates: Sequence[str],
        drop_pending_updates: bool = False,
    ) -> None:
        """Point the bot's updates at `url`; Telegram sends `secret_token` with each one in
        X-Telegram-Bot-Api-Secret-Token. ChannelError if Telegram refuses (a URL that is not
        HTTPS, a revoked token: code 401)."""
        self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": list(allowed_updates),
                "drop_pending_updates": drop_pending_updates,
            },
        )

    def webhook_info(self) -> dict[str, Any]:
        """getWebhookInfo: url, pending_update_count, last_error_date/_message, allowed_updates…"""
        info = self.call("getWebhookInfo", {})
        return dict(info) if isinstance(info, dict) else {}

    def download_file(self, file_id: str, max_bytes: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """A file a user sent (getFile, then its download URL); FileTooBig past `max_bytes`,
        ChannelError when Telegram refuses or the transfer fails."""
        found = self.call("getFile", {"file_id": file_id})
        if not isinstance(found, dict) or not found.get("file_path"):
            raise ChannelError(f"getFile: no file_path for {file_id}", retryable=True)
        if int(found.get("file_size") or 0) > max_bytes:
            raise FileTooBig(f"getFile: {found['file_size']} bytes is over {max_bytes}")
        try:
            response = self._http.get(f"{self._files}/{found['file_path']}")
        except httpx.HTTPError as exc:
            raise ChannelError(f"file: {type(exc).__name__}", retryable=True) from exc
        if not response.is_success:
            raise ChannelError(
                f"file: HTTP {response.status_code}",
                code=response.status_code,
                retryable=response.status_code >= 500,
            )
        if len(response.content) > max_bytes:
            raise FileTooBig(f"file: {len(response.content)} bytes is over {max_bytes}")
        return response.content

    def send(self, chat_id: str, outbound: Outbound, language: Language | None = None) -> Delivery:
        """Send one outbound message (in parts if long); failures become a Delivery, not a crash
        (and a ChannelErrors metric by code).

        Telegram adds no words of its own, so `language` goes unused."""
        delivery = self._send(chat_id, outbound)
        if delivery.status is not DeliveryStatus.SENT:
            channel_error("telegram", delivery.error_code)
        return delivery

    def _send(self, chat_id: str, outbound: Outbound) -> Delivery:
        message_id: str | None = None
        try:
            for payload in render(chat_id, outbound):
                result = self.call(method(payload), payload)
                message_id = str(result.get("message_id")) if isinstance(result, dict) else None
        except ChannelBlocked as exc:
            return Delivery(status=DeliveryStatus.BLOCKED, error=str(exc), error_code=exc.code)
        except RateLimited as exc:
            return Delivery(
                status=DeliveryStatus.RATE_LIMITED, error=str(exc), error_code=429, retryable=True
            )
        except ChannelError as exc:
            return Delivery(
                status=DeliveryStatus.FAILED,
                error=str(exc),
                error_code=exc.code,
                retryable=exc.retryable,
            )
        return Delivery(status=DeliveryStatus.SENT, message_id=message_id)

    def acknowledge(self, receipt_id: str) -> None:
        """Stop the button's spinner by a call; failing to do so is cosmetic, so errors are
        swallowed. The webhook does without it: it answers a press in its HTTP answer
        (render.webhook_answer)."""
        with contextlib.suppress(ChannelError):
            self.call("answerCallbackQuery", {"callback_query_id": receipt_id})
