"""httpx over urllib3: the channel clients keep httpx's API on the HTTP stack botocore loads.

httpx's own transport imports httpcore and h11 on the first client, ~40 ms of every webhook
cold start for a few small JSON calls per message; urllib3 is in the process already (boto3).
Errors come out as httpx's, so callers catch `httpx.HTTPError` as with any transport.
"""

from __future__ import annotations

from typing import Any

import certifi
import httpx
import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

# Set by urllib3 once it has decoded the body; passing them on would make httpx decode again.
_DECODED = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class Urllib3Transport(httpx.BaseTransport):
    """One connection pool per process; no retries or redirects (the clients decide)."""

    def __init__(self, *, verify: bool = True, max_connections: int = 10) -> None:
        # The CA bundle httpx would use (certifi), read when the first TLS connection opens.
        options: dict[str, Any] = (
            {"ca_certs": certifi.where()} if verify else {"cert_reqs": "CERT_NONE"}
        )
        self._pool = urllib3.PoolManager(maxsize=max_connections, retries=False, **options)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = request.extensions.get("timeout", {})
        timeout = urllib3.Timeout(connect=limits.get("connect"), read=limits.get("read"))
        try:
            answer = self._pool.request(
                request.method,
                str(request.url),
                body=request.read() or None,
                headers=dict(request.headers.multi_items()),
                timeout=timeout,
                redirect=False,
                retries=False,
            )
        except MaxRetryError as exc:  # urllib3 wraps some errors even without retries
            raise _as_httpx(exc.reason or exc, request) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise _as_httpx(exc, request) from exc
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _DECODED]
        return httpx.Response(answer.status, headers=headers, content=answer.data, request=request)

    def close(self) -> None:
        self._pool.clear()


def _as_httpx(error: BaseException, request: httpx.Request) -> httpx.TransportError:
    message = str(error)
    # NewConnectionError subclasses ConnectTimeoutError in urllib3: ask it first.
    if isinstance(error, NewConnectionError):
        return httpx.ConnectError(message, request=request)
    if isinstance(error, ConnectTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(error, ReadTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(error, ProtocolError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.TransportError(message, request=request)
