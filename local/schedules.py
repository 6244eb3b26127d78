"""EventBridge schedules, locally: each Schedule event invokes its function every rate."""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadbot import clock
from local.gateway import (
    ACCOUNT_ID,
    REGION,
    LocalEndpoint,
    LocalRequest,
    LocalResponse,
    lambda_context,
    load_handler,
)
from local.template import ScheduleEvent


def _log(message: str) -> None:
    print(f"[schedules] {message}", file=sys.stderr, flush=True)


def rule_arn(schedule: ScheduleEvent) -> str:
    return (
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/"
        f"leadbot-local-{schedule.function_id}{schedule.event_name}"
    )


def scheduled_event(schedule: ScheduleEvent, at: datetime) -> dict[str, Any]:
    """What EventBridge sends the function when the rule fires at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn(schedule)],
        "detail": {},
    }


class ScheduleRunner:
    """One Schedule event: a timer thread, and runs on demand; never two runs at once."""

    def __init__(self, schedule: ScheduleEvent, repo_root: Path) -> None:
        self.schedule = schedule
        self.repo_root = repo_root
        self._running = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_at: float | None = None
        self._stats_lock = threading.Lock()
        self._stats: dict[str, Any] = {
            "runs": 0,
            "failures": 0,
            "skipped": 0,
            "last_run_at": None,
            "last_error": None,
        }

    @property
    def key(self) -> str:
        return f"{self.schedule.function_id}/{self.schedule.event_name}"

    @property
    def timed(self) -> bool:
        return self.schedule.enabled and self.schedule.rate is not None

    def start(self) -> None:
        if self._thread is not None or not self.timed:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{self.key}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the timer, after the run in flight if any. Idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_now(self) -> object:
        """Invoke once, waiting for a run in flight to end first; the handler's result or raise."""
        with self._running:
            return self._invoke()

    def status(self) -> dict[str, Any]:
        with self._stats_lock:
            stats = dict(self._stats)
        next_at = self._next_at
        return {
            "function": self.schedule.function_id,
            "event": self.schedule.event_name,
            "schedule": self.schedule.expression,
            "enabled": self.schedule.enabled,
            # cron(...) and disabled schedules run only when asked to.
            "timer": self.timed and self._thread is not None,
            "next_run_in_s": None if next_at is None else max(0.0, next_at - time.monotonic()),
            **stats,
        }

    def _loop(self) -> None:
        assert self.schedule.rate is not None
        period = self.schedule.rate.total_seconds()
        self._next_at = time.monotonic() + period
        while not self._stop.wait(max(0.0, self._next_at - time.monotonic())):
            # A run still in flight (one asked for by hand) makes this tick a no-op.
            if self._running.acquire(blocking=False):
                try:
                    self._invoke()
                except Exception:
                    pass  # logged and counted by _invoke; the next tick runs as usual
                finally:
                    self._running.release()
            else:
                self._count(skipped=1)
                _log(f"{self.key}: skipped a tick, the previous run is still going")
            # Fixed rate; ticks missed while a run overran are skipped, not bunched up.
            self._next_at += period
            now = time.monotonic()
            if self._next_at < now:
                missed = int((now - self._next_at) // period) + 1
                self._next_at += missed * period
        self._next_at = None

    def _invoke(self) -> object:
        schedule = self.schedule
        now = clock.now()  # EventBridge's time, as the functions see it (POST /_local/clock)
        event = scheduled_event(schedule, now) if schedule.input is None else schedule.input
        self._count(runs=1)
        with self._stats_lock:
            self._stats["last_run_at"] = now.isoformat(timespec="seconds")
        try:
            handler = load_handler(self.repo_root, schedule)
            return handler(event, lambda_context(schedule.function_id))
        except Exception as exc:
            self._count(failures=1)
            with self._stats_lock:
                self._stats["last_error"] = f"{type(exc).__name__}: {exc}"
            _log(f"{self.key} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            raise

    def _count(self, **values: int) -> None:
        with self._stats_lock:
            for name, value in values.items():
                self._stats[name] += value


class Schedules:
    """Every Schedule event of a template."""

    def __init__(self, schedules: Iterable[ScheduleEvent], repo_root: Path) -> None:
        self.runners = {
            (s.function_id, s.event_name): ScheduleRunner(s, repo_root) for s in schedules
        }

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.request_stop()
        for runner in self.runners.values():
            runner.stop()

    def status(self) -> list[dict[str, Any]]:
        return [runner.status() for runner in self.runners.values()]

    def endpoints(self) -> dict[str, LocalEndpoint]:
        """GET /_local/schedules, POST /_local/schedules/{FunctionLogicalId}/{EventName}, and
        POST /_local/schedules/{function}/run (every Schedule event of the function)."""
        return {"schedules": self._endpoint}

    def of_function(self, function: str) -> list[ScheduleRunner]:
        """The runners of a function named by its logical id (GhostSweepFunction) or by its
        code's folder (ghost_sweep)."""
        return [
            runner
            for (function_id, _), runner in self.runners.items()
            if function in (function_id, Path(runner.schedule.code_uri).name)
        ]

    def _endpoint(self, request: LocalRequest) -> LocalResponse:
        if request.path == "":
            if request.method != "GET":
                return LocalResponse(405, allow="GET")
            return LocalResponse(200, {"schedules": self.status()})
        function_id, _, event_name = request.path.removeprefix("/").partition("/")
        if event_name == "run" and (function_id, event_name) not in self.runners:
            return self._run_function(request, function_id)
        runner = self.runners.get((function_id, event_name))
        if runner is None:
            return LocalResponse(
                404, {"message": f"no Schedule event {event_name!r} of {function_id!r}"}
            )
        if request.method != "POST":
            return LocalResponse(405, allow="POST")
        try:
            result = runner.run_now()
        except Exception as exc:
            # As Lambda's Invoke API reports an unhandled error, with a gateway-style status.
            body = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            return LocalResponse(502, body)
        _log(f"{runner.key} ran on demand: {_brief(result)}")
        return LocalResponse(200, result)

    def _run_function(self, request: LocalRequest, function: str) -> LocalResponse:
        runners = self.of_function(function)
        if not runners:
            return LocalResponse(404, {"message": f"{function!r} has no Schedule event"})
        if request.method != "POST":
            return LocalResponse(405, allow="POST")
        functions = sorted({runner.schedule.function_id for runner in runners})
        if len(functions) > 1:
            message = f"{function!r} is the code of {', '.join(functions)}: name one"
            return LocalResponse(400, {"message": message})
        ran: list[dict[str, Any]] = []
        for runner in runners:
            at = clock.now().isoformat(timespec="seconds")
            try:
                result = runner.run_now()
            except Exception as exc:
                error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
                ran.append({"event": runner.schedule.event_name, "at": at, **error})
                body = {"function": runner.schedule.function_id, "ran": ran}
                return LocalResponse(502, body)
            _log(f"{runner.key} ran on demand at {at} (functions' clock): {_brief(result)}")
            ran.append({"event": runner.schedule.event_name, "at": at, "result": result})
        return LocalResponse(200, {"function": runners[0].schedule.function_id, "ran": ran})


def _brief(result: object) -> str:
    text = json.dumps(result, default=str)
    return text if len(text) <= 300 else text[:297] + "..."
