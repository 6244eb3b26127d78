"""Probe handlers for the stream pollers and schedules of tests/functions/template.yaml.

Each function id loads its own copy of this module; tests read what it saw from `SEEN`, keyed by
table name, and steer it with an item's `behaviour` attribute:
"fail" fails every time, "fail_once" only on its first delivery.
"""

import threading
import time

SEEN: dict[str, list[dict]] = {}
TICKS: list[dict] = []
_lock = threading.Lock()
# Notified on every tick, so tests wait for runs rather than sleep.
CHANGED = threading.Condition(_lock)
_failed_once: set[str] = set()
_active = 0
MAX_ACTIVE = 0


def _table(record: dict) -> str:
    return record["eventSourceARN"].split(":table/", 1)[1].split("/", 1)[0]


def _behaviour(record: dict) -> str:
    image = record["dynamodb"].get("NewImage") or {}
    return image.get("behaviour", {}).get("S", "ok")


def _fails(record: dict) -> bool:
    behaviour = _behaviour(record)
    if behaviour == "fail_once":
        with _lock:
            if record["eventID"] in _failed_once:
                return False
            _failed_once.add(record["eventID"])
            return True
    return behaviour == "fail"


def _seen(event: dict) -> None:
    with _lock:
        SEEN.setdefault(_table(event["Records"][0]), []).append(event)


def record(event, context):
    """Accepts every batch."""
    _seen(event)


def report_failures(event, context):
    """ReportBatchItemFailures: names every failing record."""
    _seen(event)
    failures = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if _fails(r)]
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}


def raise_on_poison(event, context):
    """Raises when any record of the batch fails."""
    _seen(event)
    poisoned = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"] if _fails(r)]
    if poisoned:
        raise ValueError(f"poison records {poisoned}")


def tick(event, context):
    """Counts runs; holds each a moment so overlapping runs would show in MAX_ACTIVE."""
    global _active, MAX_ACTIVE
    with _lock:
        _active += 1
        MAX_ACTIVE = max(MAX_ACTIVE, _active)
        TICKS.append(event)
        count = len(TICKS)
        CHANGED.notify_all()
    time.sleep(0.01)
    with _lock:
        _active -= 1
    return {"ticks": count, "function": context.function_name}


def broken_tick(event, context):
    raise RuntimeError("the schedule broke")
