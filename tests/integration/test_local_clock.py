"""The local stack's clock and on-demand schedules over HTTP: a person moves the functions'
time two hours on and runs the ghost sweep now, instead of waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadbot import clock
from leadbot.domain import Language
from leadbot.i18n import t
from local.clock import LocalClock
from local.gateway import LocalGateway
from local.schedules import Schedules
from local.template import load_template, schedules
from tests import web
from tests.support import REPO, InProcessStack, Updates, quiet_hours_out_of_the_way


@pytest.fixture
def local(stack: InProcessStack, tmp_path: Path) -> Iterator[tuple[str, InProcessStack]]:
    every = Schedules(schedules(load_template()), REPO)
    local_clock = LocalClock(tmp_path / "clock.json")
    local_clock.load()
    endpoints = {**every.endpoints(), **local_clock.endpoints()}
    try:
        with LocalGateway([], REPO, stack.fake, endpoints=endpoints) as gateway:
            yield gateway.url, stack
    finally:
        clock.set_offset(timedelta(0))


def test_advancing_the_clock_and_running_the_sweep_sends_the_check_in(
    local: tuple[str, InProcessStack], capfd: pytest.CaptureFixture[str]
) -> None:
    url, stack = local
    quiet_hours_out_of_the_way(stack.repos)
    stack.qualify(Updates(7100))
    stack.fake.clear()
    shown = web.get(f"{url}/_local/clock").json()
    assert shown["offset_s"] == 0
    assert abs(datetime.fromisoformat(shown["now"]) - datetime.now(UTC)) < timedelta(seconds=5)

    quiet = web.post(f"{url}/_local/schedules/GhostSweepFunction/run").json()
    assert quiet["ran"][0]["event"] == "Sweep" and quiet["ran"][0]["result"]["due"] == 0

    moved = web.post(f"{url}/_local/clock", json={"advance_s": 7200})
    assert moved.status_code == 200
    assert (moved.json()["advanced_s"], moved.json()["offset_s"]) == (7200, 7200)
    assert "[clock] advanced 7200 s" in capfd.readouterr().err

    ran = web.post(f"{url}/_local/schedules/ghost_sweep/run")
    assert ran.status_code == 200
    assert ran.json()["ran"][0]["result"]["sent"] == 1
    assert "GhostSweepFunction/Sweep ran on demand" in capfd.readouterr().err
    check_in = t("followup.ghost", Language.EN, name="Sara", agency="Demo Realty")
    assert [m["payload"]["text"] for m in stack.sent(7100)] == [check_in]
    again = web.post(f"{url}/_local/schedules/ghost_sweep/run").json()
    assert again["ran"][0]["result"]["due"] == 0


@pytest.mark.parametrize(
    "body", [{"advance_s": -1}, {"advance_s": "7200"}, {"advance_s": True}, {}]
)
def test_the_clock_only_moves_forward_by_a_number_of_seconds(
    local: tuple[str, InProcessStack], body: dict[str, object]
) -> None:
    url, _ = local
    refused = web.post(f"{url}/_local/clock", json=body)
    assert refused.status_code == 400 and "advance_s" in refused.json()["message"]
    assert web.get(f"{url}/_local/clock").json()["offset_s"] == 0
    assert web.delete(f"{url}/_local/clock").status_code == 405


def test_the_shift_survives_a_restart(tmp_path: Path) -> None:
    try:
        LocalClock(tmp_path / "clock.json").advance(90)
        clock.set_offset(timedelta(0))  # a new process
        LocalClock(tmp_path / "clock.json").load()
        assert clock.offset() == timedelta(seconds=90)
    finally:
        clock.set_offset(timedelta(0))
