"""The local stack's clock: `POST /_local/clock {"advance_s": N}` moves the time every function
of the stack sees (leadbot.clock) N seconds forward, so a lead can go quiet for two hours in a
second. The shift is kept in `.local/clock.json`: data written in shifted time stays in the
past after a restart."""

from __future__ import annotations

import json
import math
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadbot import clock
from local.gateway import LocalEndpoint, LocalRequest, LocalResponse


def _log(message: str) -> None:
    print(f"[clock] {message}", file=sys.stderr, flush=True)


class LocalClock:
    def __init__(self, state: Path) -> None:
        self._state = state
        self._lock = threading.Lock()

    def load(self) -> None:
        """Apply the shift kept from an earlier run (none: real time)."""
        offset = 0.0
        if self._state.exists():
            offset = float(json.loads(self._state.read_text()).get("offset_s", 0))
        clock.set_offset(timedelta(seconds=offset))
        if offset:
            _log(f"functions see real time + {offset:g} s (kept in {self._state})")

    def advance(self, seconds: float) -> dict[str, Any]:
        with self._lock:
            offset = clock.offset() + timedelta(seconds=seconds)
            clock.set_offset(offset)
            self._state.parent.mkdir(parents=True, exist_ok=True)
            self._state.write_text(json.dumps({"offset_s": offset.total_seconds()}))
        answer = {"advanced_s": seconds, **self.status()}
        ahead = answer["offset_s"]
        _log(f"advanced {seconds:g} s: functions now see {answer['now']} ({ahead:g} s ahead)")
        return answer

    def status(self) -> dict[str, Any]:
        return {
            "now": clock.now().isoformat(timespec="seconds"),
            "real_now": datetime.now(UTC).isoformat(timespec="seconds"),
            "offset_s": clock.offset().total_seconds(),
        }

    def endpoints(self) -> dict[str, LocalEndpoint]:
        """GET /_local/clock, POST /_local/clock {"advance_s": N}."""
        return {"clock": self._endpoint}

    def _endpoint(self, request: LocalRequest) -> LocalResponse:
        if request.path not in ("", "/"):
            return LocalResponse(404, {"message": "no such clock route"})
        if request.method == "GET":
            return LocalResponse(200, self.status())
        if request.method != "POST":
            return LocalResponse(405, allow="GET, POST")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return LocalResponse(400, {"message": 'body must be JSON: {"advance_s": N}'})
        seconds = body.get("advance_s") if isinstance(body, dict) else None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            return LocalResponse(
                400,
                {"message": "advance_s must be a number of seconds, 0 or more (never back)"},
            )
        return LocalResponse(200, self.advance(float(seconds)))
