"""The one clock every use case takes `now` from: real UTC time, shifted on the local stack.

In AWS nothing shifts it. The local stack (`POST /_local/clock`) moves it forward so that a
person can see a lead go quiet for two hours without waiting; its functions run in the
stack's own process, so they all read the same shift. Tests pass `now` in instead.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)


def now() -> datetime:
    """The time as the functions see it (tz-aware UTC)."""
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    """How far the clock is ahead of real time (zero but on a local stack that moved it)."""
    return _offset


def set_offset(value: timedelta) -> None:
    """Local stack only: the functions of this process see real time plus `value`."""
    global _offset
    with _lock:
        _offset = value
