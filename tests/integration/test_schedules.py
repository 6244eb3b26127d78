"""Schedules invoke the probe handlers with EventBridge's scheduled event, on time and on demand."""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType

import pytest

from local.fake_telegram import FakeTelegram
from local.gateway import LocalGateway, load_handler
from local.schedules import Schedules
from local.template import ScheduleEvent, load_template, schedules
from tests import web
from tests.support import REPO

TEMPLATE = load_template(REPO / "tests" / "functions" / "template.yaml")


def _schedule(function_id: str, event_name: str) -> ScheduleEvent:
    return next(
        s for s in schedules(TEMPLATE) if (s.function_id, s.event_name) == (function_id, event_name)
    )


def probe(schedule: ScheduleEvent) -> ModuleType:
    return sys.modules[load_handler(REPO, schedule).__module__]


def _wait_for_ticks(module: ModuleType, count: int) -> None:
    with module.CHANGED:
        assert module.CHANGED.wait_for(lambda: len(module.TICKS) >= count, timeout=10)


@pytest.fixture
def tick() -> ModuleType:
    module = probe(_schedule("TickFunction", "EveryMinute"))
    with module.CHANGED:
        module.TICKS.clear()
        module.MAX_ACTIVE = 0
    return module


@pytest.fixture
def routes() -> Iterator[tuple[str, Schedules]]:
    every = Schedules(schedules(TEMPLATE), REPO)
    with LocalGateway([], REPO, FakeTelegram(), endpoints=every.endpoints()) as gateway:
        yield gateway.url, every


def test_a_schedule_fires_every_rate_with_eventbridges_event(tick: ModuleType) -> None:
    fast = dataclasses.replace(
        _schedule("TickFunction", "EveryMinute"), rate=timedelta(milliseconds=20)
    )
    runner = Schedules([fast], REPO)
    runner.start()
    try:
        _wait_for_ticks(tick, 3)
    finally:
        runner.stop()
    event = tick.TICKS[0]
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["version"] == "0"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/leadbot-local-TickFunctionEveryMinute"
    ]
    assert event["time"].endswith("Z") and len(event["time"]) == len("2026-01-01T00:00:00Z")
    assert len({e["id"] for e in tick.TICKS}) == len(tick.TICKS)
    status = runner.status()[0]
    assert status["runs"] >= 3 and status["failures"] == 0


def test_timer_and_manual_runs_of_one_schedule_never_overlap(tick: ModuleType) -> None:
    fast = dataclasses.replace(
        _schedule("TickFunction", "EveryMinute"), rate=timedelta(milliseconds=5)
    )
    every = Schedules([fast], REPO)
    runner = every.runners["TickFunction", "EveryMinute"]
    every.start()
    try:
        threads = [threading.Thread(target=runner.run_now) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _wait_for_ticks(tick, 10)
    finally:
        every.stop()
    assert tick.MAX_ACTIVE == 1


def test_the_routes_list_and_run_schedules(routes: tuple[str, Schedules], tick: ModuleType) -> None:
    url, _ = routes
    listed = web.get(f"{url}/_local/schedules").json()["schedules"]
    by_key = {(s["function"], s["event"]): s for s in listed}
    assert by_key["TickFunction", "EveryMinute"]["schedule"] == "rate(1 minute)"
    assert by_key["TickFunction", "Nightly"]["timer"] is False  # cron: on demand only

    ran = web.post(f"{url}/_local/schedules/TickFunction/EveryMinute")
    assert ran.status_code == 200
    assert ran.json() == {"ticks": 1, "function": "TickFunction"}
    assert tick.TICKS[-1]["detail-type"] == "Scheduled Event"

    # Input replaces the scheduled event, as EventBridge does; disabled ones still run by hand.
    assert web.post(f"{url}/_local/schedules/TickFunction/Custom").status_code == 200
    assert tick.TICKS[-1] == {"job": "custom"}

    broken = web.post(f"{url}/_local/schedules/BrokenFunction/Hourly")
    assert broken.status_code == 502
    assert broken.json() == {"errorMessage": "the schedule broke", "errorType": "RuntimeError"}

    missing = web.post(f"{url}/_local/schedules/TickFunction/Nope")
    assert missing.status_code == 404
    assert web.post(f"{url}/_local/schedules/Nope").status_code == 404
    wrong = web.get(f"{url}/_local/schedules/TickFunction/EveryMinute")
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")
    assert web.get(f"{url}/_local/health").json()["status"] == "ok"


def test_run_invokes_every_schedule_of_a_function_by_id_or_folder(
    routes: tuple[str, Schedules], tick: ModuleType, capfd: pytest.CaptureFixture[str]
) -> None:
    url, _ = routes
    before = len(tick.TICKS)
    ran = web.post(f"{url}/_local/schedules/TickFunction/run")
    assert ran.status_code == 200
    answer = ran.json()
    assert answer["function"] == "TickFunction"
    assert [r["event"] for r in answer["ran"]] == ["EveryMinute", "Nightly", "Custom"]
    assert all(r["result"]["function"] == "TickFunction" for r in answer["ran"][:2])
    assert len(tick.TICKS) == before + 3
    assert "TickFunction/EveryMinute ran on demand" in capfd.readouterr().err
    # Both probe functions share one folder: naming it is ambiguous here (not in template.yaml).
    shared = web.post(f"{url}/_local/schedules/probe/run")
    assert shared.status_code == 400 and "name one" in shared.json()["message"]
    real = Schedules(schedules(load_template()), REPO)
    assert [r.key for r in real.of_function("ghost_sweep")] == [
        "GhostSweepFunction/Sweep",
        "GhostSweepFunction/HandoffSla",
    ]

    broken = web.post(f"{url}/_local/schedules/BrokenFunction/run")
    assert broken.status_code == 502
    assert broken.json()["ran"][0]["errorMessage"] == "the schedule broke"
    assert web.post(f"{url}/_local/schedules/Nope/run").status_code == 404
    wrong = web.get(f"{url}/_local/schedules/TickFunction/run")
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "POST")


def test_scheduled_events_carry_the_functions_clock(
    routes: tuple[str, Schedules], tick: ModuleType
) -> None:
    from datetime import UTC, datetime

    from leadbot import clock

    url, _ = routes
    clock.set_offset(timedelta(days=2))
    try:
        web.post(f"{url}/_local/schedules/TickFunction/EveryMinute")
    finally:
        clock.set_offset(timedelta(0))
    fired = datetime.fromisoformat(tick.TICKS[-1]["time"].replace("Z", "+00:00"))
    assert fired - datetime.now(UTC) > timedelta(days=1, hours=23)
