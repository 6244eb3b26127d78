"""HTTP to a local gateway or stack under test.

Those requests run functions in-process (a sweep, a webhook, a stream batch), which on a busy
2-core CI machine can take well past httpx's 5-second default. Tests assert what comes back,
never how fast (`make bench` measures speed), so every call here waits up to a minute.
"""

from __future__ import annotations

from typing import Any

import httpx

TIMEOUT = httpx.Timeout(60.0)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=TIMEOUT, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, timeout=TIMEOUT, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, timeout=TIMEOUT, **kwargs)


def patch(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.patch(url, timeout=TIMEOUT, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.delete(url, timeout=TIMEOUT, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, timeout=TIMEOUT, **kwargs)
