"""A message's Timeline write runs beside Powertools' completion, and is done when the
handler returns."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from leadbot.domain import TimelineEntry, TimelineKind
from leadbot.services.inbound import record, timeline_in_background

ENTRY = TimelineEntry(kind=TimelineKind.EVENT, at=datetime(2026, 11, 22, tzinfo=UTC), text="x")


class _Timeline:
    def __init__(self) -> None:
        self.go = threading.Event()
        self.written: list[tuple[str, dict[str, Any], bool]] = []

    def append_streams(self, tenant_id: str, streams: dict[str, Any]) -> None:
        # Waits for the caller to carry on: only a write in the background lets it.
        self.written.append((tenant_id, dict(streams), self.go.wait(timeout=5)))


def test_inside_the_block_the_write_runs_beside_the_caller_and_ends_with_the_block() -> None:
    timeline = _Timeline()
    repos: Any = SimpleNamespace(timeline=timeline)
    with timeline_in_background():
        record(repos, "demo", "L1", [ENTRY])
        timeline.go.set()  # the caller goes on (Powertools' UpdateItem) while the write runs
    assert timeline.written == [("demo", {"L1": [ENTRY]}, True)]


def test_outside_a_block_the_write_is_done_before_record_returns() -> None:
    timeline = _Timeline()
    timeline.go.set()
    repos: Any = SimpleNamespace(timeline=timeline)
    record(repos, "demo", "L1", [ENTRY])
    assert timeline.written == [("demo", {"L1": [ENTRY]}, True)]
