"""Lambda's DynamoDB event source mappings, locally: stream pollers, DLQs, checkpoints."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from local.gateway import (
    ACCOUNT_ID,
    REGION,
    LambdaHandler,
    LocalEndpoint,
    LocalRequest,
    LocalResponse,
    lambda_context,
    load_handler,
)
from local.template import StreamSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# Lambda polls each shard four times a second.
POLL_INTERVAL_S = 0.25
RETRY_BACKOFF_S = 0.5
MAX_BACKOFF_S = 5.0
# Look for new shards (a rolled-over shard, a re-enabled stream) at least this often.
REFRESH_INTERVAL_S = 10.0
WAIT_TIMEOUT_S = 30.0
RETRIES_EXHAUSTED = "RetryAttemptsExhausted"

Record = dict[str, Any]


def _log(message: str) -> None:
    print(f"[streams] {message}", file=sys.stderr, flush=True)


def _wire(value: Any) -> Any:
    """boto3's parsed stream record back in Lambda's JSON: bytes as base64, times as epoch."""
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def lambda_record(raw: Mapping[str, Any], stream_arn: str) -> Record:
    """One GetRecords record as Lambda passes it to a function (it adds eventSourceARN)."""
    record: Record = _wire(dict(raw))
    record["eventSourceARN"] = stream_arn
    return record


def _sequence(record: Record) -> str:
    sequence: str = record["dynamodb"]["SequenceNumber"]
    return sequence


def _arrival(record: Record) -> str:
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    when = datetime.now(UTC) if created is None else datetime.fromtimestamp(created, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Parked:
    """One message of a dead-letter queue: its JSON body and SQS's bookkeeping."""

    message_id: str
    body: Any  # what GET /_local/dlq shows: the parsed JSON, or the text as sent
    text: str  # the body as SQS hands it out
    visible_at: float = 0.0
    receipt: str | None = None
    receives: int = 0


class DeadLetters:
    """In-memory on-failure destinations: what Lambda would send to each SQS queue or SNS topic,
    and what functions send to those queues themselves (local.fake_sqs serves them as SQS)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._parked: dict[str, list[_Parked]] = {}
        self._clock = clock

    def park(self, destination: str, failure: dict[str, Any]) -> None:
        self.send(destination, json.dumps(failure))

    def send(self, destination: str, text: str) -> str:
        """Add a message (its body as sent); its message id."""
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        message = _Parked(str(uuid.uuid4()), body, text)
        with self._lock:
            self._parked.setdefault(destination, []).append(message)
        return message.message_id

    def receive(
        self, destination: str, max_messages: int, visibility_s: float
    ) -> list[tuple[str, str, str]]:
        """Up to `max_messages` visible messages as (message id, receipt handle, body), hidden
        for `visibility_s` seconds; a new receipt handle each time, as SQS does."""
        now = self._clock()
        taken: list[tuple[str, str, str]] = []
        with self._lock:
            for message in self._parked.get(destination, []):
                if len(taken) >= max_messages:
                    break
                if message.visible_at > now:
                    continue
                message.visible_at = now + visibility_s
                message.receipt = secrets.token_urlsafe(24)
                message.receives += 1
                taken.append((message.message_id, message.receipt, message.text))
        return taken

    def delete(self, destination: str, receipt: str) -> bool:
        """Remove the message last received with `receipt`; False if none was."""
        with self._lock:
            messages = self._parked.get(destination, [])
            for i, message in enumerate(messages):
                if message.receipt == receipt:
                    del messages[i]
                    if not messages:
                        del self._parked[destination]
                    return True
        return False

    def counts(self, destination: str) -> tuple[int, int]:
        """(visible, received and not yet visible again) messages of the destination."""
        now = self._clock()
        with self._lock:
            messages = self._parked.get(destination, [])
            hidden = sum(1 for m in messages if m.visible_at > now)
            return len(messages) - hidden, hidden

    def snapshot(self) -> dict[str, list[Any]]:
        with self._lock:
            return {name: [m.body for m in items] for name, items in self._parked.items() if items}

    def clear(self, destination: str | None = None) -> None:
        with self._lock:
            if destination is None:
                self._parked.clear()
            else:
                self._parked.pop(destination, None)


class Checkpoints:
    """Where each source stopped reading, in a JSON file, so a restart resumes like Lambda does.

    Without a file (tests), a new poller starts from its StartingPosition.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            try:
                self._data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                _log(f"ignoring unreadable checkpoints in {path}")

    def get(self, key: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._data.get(key, {}))

    def put(self, key: str, stream_arn: str, shards: Mapping[str, str | None]) -> None:
        """`shards`: shard id -> last processed sequence number, None once fully processed."""
        if self.path is None:
            return
        with self._lock:
            self._data[key] = {"stream_arn": stream_arn, "shards": dict(shards)}
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self._data, indent=2), encoding="utf-8")
            os.replace(temporary, self.path)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    # Open when a LATEST mapping started: read from the tip, not the beginning.
    from_latest: bool = False
    iterator: str | None = None
    # The stream has no more records for this shard (it is closed and read to its end).
    closed: bool = False
    # Closed and every record processed: its children may start.
    finished: bool = False
    pending: list[Record] = field(default_factory=list)
    pending_since: float = 0.0
    last_read: str | None = None
    last_done: str | None = None


@dataclass(frozen=True)
class _Outcome:
    """How one invocation went: all done, done up to `failed_from`, or failed as a whole."""

    ok: bool
    failed_from: int | None = None
    error: str | None = None
    function_error: str | None = None
    request_id: str = ""


class _Stopped(Exception):
    """The poller is stopping: leave the batch unprocessed (a restart delivers it again)."""


class StreamPoller:
    """One DynamoDB event source mapping: reads a table's stream and invokes the function."""

    def __init__(
        self,
        source: StreamSource,
        table_name: str,
        *,
        endpoint: str,
        repo_root: Path,
        dead_letters: DeadLetters,
        checkpoints: Checkpoints | None = None,
        poll_interval: float = POLL_INTERVAL_S,
        retry_backoff: float = RETRY_BACKOFF_S,
        max_backoff: float = MAX_BACKOFF_S,
    ) -> None:
        self.source = source
        self.table_name = table_name
        self.repo_root = repo_root
        self.dead_letters = dead_letters
        self.checkpoints = checkpoints or Checkpoints(None)
        self.poll_interval = poll_interval
        self.retry_backoff = retry_backoff
        self.max_backoff = max_backoff
        config = Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=10)
        options: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region_name": REGION,
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
            "config": config,
        }
        self._dynamodb: DynamoDBClient = boto3.client("dynamodb", **options)
        self._streams: DynamoDBStreamsClient = boto3.client("dynamodbstreams", **options)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Cycles: one pass over the shards. wait() needs one that started after it and found
        # nothing new.
        self._progress = threading.Condition()
        self._cycles_started = 0
        self._caught_up_cycle = 0
        self._refresh_asked = False
        self._stream_arn: str | None = None
        self._stream_open = True
        self._shards: dict[str, _Shard] = {}
        self._refreshed_at = 0.0
        self._first_refresh = True
        self._stats_lock = threading.Lock()
        self._stats: dict[str, Any] = {
            "records_processed": 0,
            "batches": 0,
            "failed_invocations": 0,
            "records_parked": 0,
            "records_discarded": 0,
            "last_batch_at": None,
            "retrying": None,
            "last_error": None,
            "last_error_at": None,
        }

    @property
    def key(self) -> str:
        return f"{self.source.function_id}/{self.source.event_name}"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None or not self.source.enabled:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"stream-{self.key}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end after the invocation in flight, if any."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait for the loop to end. Idempotent."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._progress:
            self._progress.notify_all()

    def wait(self, timeout: float = WAIT_TIMEOUT_S) -> bool:
        """True once every record written before the call is processed (or parked)."""
        if not self.source.enabled:
            return True
        if self._thread is None:
            return False
        deadline = time.monotonic() + timeout
        with self._progress:
            target = self._cycles_started + 1
            # That cycle also looks for new shards and streams, not only new records.
            self._refresh_asked = True
            self._wake.set()
            while self._caught_up_cycle < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return False
                self._progress.wait(remaining)
        return True

    def status(self) -> dict[str, Any]:
        with self._stats_lock:
            stats = dict(self._stats)
        waiting = sum(len(shard.pending) for shard in list(self._shards.values()))
        running = self._thread is not None and self._thread.is_alive()
        return {
            "function": self.source.function_id,
            "event": self.source.event_name,
            "table": self.source.table_id,
            "table_name": self.table_name,
            "stream_arn": self._stream_arn,
            "state": "polling" if running else "disabled" if not self.source.enabled else "stopped",
            "batch_size": self.source.batch_size,
            "on_failure": self.source.on_failure,
            "shards": len(self._shards),
            "records_waiting": waiting,
            **stats,
        }

    # -- the loop --------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            with self._progress:
                self._cycles_started += 1
                cycle = self._cycles_started
                refresh, self._refresh_asked = self._refresh_asked, False
            try:
                caught_up, busy = self._poll_once(refresh)
                failures = 0
            except _Stopped:
                break
            except Exception as exc:
                failures += 1
                caught_up = busy = False
                self._error(f"reading {self.table_name}'s stream failed: {exc!r}")
                if self._stop.wait(min(self.retry_backoff * 2 ** (failures - 1), self.max_backoff)):
                    break
            if caught_up:
                with self._progress:
                    self._caught_up_cycle = cycle
                    self._progress.notify_all()
            if not busy:  # with records flowing, read on at once
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def _poll_once(self, refresh: bool) -> tuple[bool, bool]:
        """One pass over the readable shards: (caught up, read any records).

        Caught up: the pass found nothing new (records, shards, streams) and nothing waits.
        """
        changed = False
        stale = time.monotonic() - self._refreshed_at > REFRESH_INTERVAL_S
        if refresh or stale or self._stream_arn is None:
            changed = self._refresh()
        if self._stream_arn is None:
            return False, False
        read_any = False
        for shard in self._readable():
            if self._stream_arn is None:
                break  # the stream went away under us
            read_any |= self._read(shard)
            self._deliver_ready(shard)
            if shard.closed and not shard.pending and not shard.finished:
                shard.finished = True
                self._checkpoint()
                changed = True
        if changed or any(not s.finished and s.closed for s in self._shards.values()):
            self._refreshed_at = 0.0  # look for children (or a new stream) on the next pass
        waiting = any(shard.pending for shard in self._shards.values())
        return not (read_any or waiting or changed), read_any

    def _refresh(self) -> bool:
        """Resolve the table's stream and its shards; True when anything new turned up."""
        self._refreshed_at = time.monotonic()
        new = self._stream_arn is not None and self._add_shards()
        if self._stream_arn is None or self._stream_done():
            # A disabled stream read to its end: follow the table to its next one, if any.
            arn = self._latest_stream_arn()
            if arn is not None and arn != self._stream_arn:
                if self._stream_arn is not None:
                    _log(f"{self.key}: {self.table_name} has a new stream {arn}")
                self._stream_arn, self._shards, self._stream_open = arn, {}, True
                self._add_shards()
                new = True
        return new

    def _add_shards(self) -> bool:
        """Track the stream's shards we do not know yet; True if there were any."""
        assert self._stream_arn is not None
        description = self._describe()
        self._stream_open = description.get("StreamStatus") in ("ENABLED", "ENABLING")
        saved = self.checkpoints.get(self.key)
        resumed = saved.get("shards", {}) if saved.get("stream_arn") == self._stream_arn else {}
        new = False
        for raw in description["Shards"]:
            shard_id = raw["ShardId"]
            if shard_id in self._shards:
                continue
            new = True
            shard = _Shard(shard_id, raw.get("ParentShardId"))
            if shard_id in resumed:
                if resumed[shard_id] is None:
                    shard.closed = shard.finished = True
                else:
                    shard.last_read = shard.last_done = resumed[shard_id]
            elif self._first_refresh and self.source.starting_position == "LATEST" and not resumed:
                # LATEST applies to the shards there when the mapping starts: closed ones are
                # history, open ones are read from their tip. Later shards are read whole.
                if "EndingSequenceNumber" in raw["SequenceNumberRange"]:
                    shard.closed = shard.finished = True
                else:
                    shard.from_latest = True
            self._shards[shard_id] = shard
        self._first_refresh = False
        return new

    def _stream_done(self) -> bool:
        return not self._stream_open and all(s.finished for s in self._shards.values())

    def _latest_stream_arn(self) -> str | None:
        try:
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
        except self._dynamodb.exceptions.ResourceNotFoundException:
            self._error(f"table {self.table_name} does not exist (yet)")
            return None
        arn = table.get("LatestStreamArn")
        if arn is None or not table.get("StreamSpecification", {}).get("StreamEnabled"):
            if arn is None:
                self._error(f"table {self.table_name} has no stream")
            return None
        return arn

    def _describe(self) -> dict[str, Any]:
        assert self._stream_arn is not None
        shards: list[Any] = []
        kwargs: dict[str, Any] = {"StreamArn": self._stream_arn}
        while True:
            page = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards += page.get("Shards", [])
            last = page.get("LastEvaluatedShardId")
            if not last:
                return {**page, "Shards": shards}
            kwargs["ExclusiveStartShardId"] = last

    def _readable(self) -> list[_Shard]:
        """Shards to read now: not finished, and their parent (if we know it) finished first."""
        return [
            shard
            for shard in self._shards.values()
            if not shard.finished
            and (shard.parent_id not in self._shards or self._shards[shard.parent_id].finished)
        ]

    def _read(self, shard: _Shard) -> bool:
        """One GetRecords into the shard's buffer; True when it returned records or must retry."""
        if shard.closed:
            return False
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self._streams.get_records(ShardIterator=shard.iterator, Limit=1000)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":
                shard.iterator = None  # a fresh one from where we stopped, at once
                return True
            if code == "TrimmedDataAccessException":
                # DynamoDB Local numbers records with one counter for all tables, so an
                # iterator taken on an empty shard points before the shard's first record and
                # reads as trimmed once that arrives: a fresh TRIM_HORIZON one reads it.
                if shard.last_read is not None:
                    self._error(f"{shard.shard_id}: records after {shard.last_read} were trimmed")
                shard.iterator, shard.last_read = None, None
                return True
            if code == "ResourceNotFoundException":
                self._error(f"the stream of {self.table_name} is gone; looking for a new one")
                self._stream_arn, self._shards = None, {}
                return True
            raise
        shard.from_latest = False  # the iterator now carries the position
        records = [lambda_record(raw, self._stream_arn or "") for raw in response["Records"]]
        if records:
            if not shard.pending:
                shard.pending_since = time.monotonic()
            shard.pending += records
            shard.last_read = _sequence(records[-1])
        shard.iterator = response.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True
        return bool(records)

    def _iterator(self, shard: _Shard) -> str:
        assert self._stream_arn is not None
        kwargs: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": shard.shard_id}
        if shard.last_read is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_read)
        elif shard.from_latest:
            kwargs["ShardIteratorType"] = "LATEST"
        else:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        iterator: str = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator

    # -- delivery --------------------------------------------------------------------------

    def _deliver_ready(self, shard: _Shard) -> None:
        """Invoke for every batch that is full, whose window has passed, or that ends a shard."""
        window = self.source.batching_window_s
        while shard.pending:
            full = len(shard.pending) >= self.source.batch_size
            waited = time.monotonic() - shard.pending_since >= window
            if not (full or waited or shard.closed):
                return
            batch = shard.pending[: self.source.batch_size]
            self._process(shard, batch, retries=0)
            del shard.pending[: len(batch)]
            shard.last_done = _sequence(batch[-1])
            self._checkpoint()

    def _process(self, shard: _Shard, records: list[Record], retries: int) -> None:
        """Deliver until the records are processed or parked; raise _Stopped when stopping."""
        invocations = 0
        while True:
            if self._stop.is_set():
                raise _Stopped
            outcome = self._invoke(records)
            invocations += 1
            if outcome.ok:
                self._count(records_processed=len(records))
                self._set(retrying=None)
                return
            self._count(failed_invocations=1)
            if outcome.failed_from is not None:
                # Lambda checkpoints before the lowest failed record and retries from there.
                self._count(records_processed=outcome.failed_from)
                records = records[outcome.failed_from :]
            elif self.source.bisect_on_error and len(records) > 1:
                # Splitting does not use up a retry; each half is retried on its own.
                half = len(records) // 2
                self._process(shard, records[:half], retries)
                self._process(shard, records[half:], retries)
                return
            retries += 1
            if 0 <= self.source.max_retries < retries:
                self._park(shard, records, invocations, outcome)
                self._set(retrying=None)
                return
            span = f"{_sequence(records[0])}..{_sequence(records[-1])}"
            limit = "" if self.source.max_retries < 0 else f" of {self.source.max_retries}"
            self._set(retrying=f"{span}, retry {retries}{limit}")
            delay = min(self.retry_backoff * 2 ** (retries - 1), self.max_backoff)
            if self._stop.wait(delay):
                raise _Stopped

    def _invoke(self, records: list[Record]) -> _Outcome:
        source = self.source
        context = lambda_context(source.function_id)
        first, last = _sequence(records[0]), _sequence(records[-1])
        self._count(batches=1)
        self._set(last_batch_at=_now_iso())
        try:
            handler: LambdaHandler = load_handler(self.repo_root, source)
            result = handler({"Records": records}, context)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._error(
                f"{self.key} failed on {len(records)} record(s) {first}..{last}: {error}\n"
                + traceback.format_exc().rstrip()
            )
            return _Outcome(
                False, error=error, function_error="Unhandled", request_id=context.aws_request_id
            )
        if not source.report_batch_item_failures:
            return _Outcome(True, request_id=context.aws_request_id)
        outcome = _batch_response(result, records)
        if not outcome.ok:
            where = (
                f"from {_sequence(records[outcome.failed_from])}"
                if outcome.failed_from is not None
                else "the whole batch"
            )
            self._error(
                f"{self.key} reported failures on {first}..{last}; retrying {where}"
                + (f" ({outcome.error})" if outcome.error else "")
            )
        return dataclasses.replace(outcome, request_id=context.aws_request_id)

    def _park(
        self, shard: _Shard, records: list[Record], invocations: int, outcome: _Outcome
    ) -> None:
        first, last = _sequence(records[0]), _sequence(records[-1])
        destination = self.source.on_failure
        if destination is None:
            self._count(records_discarded=len(records))
            self._error(f"{self.key}: retries exhausted, discarding {first}..{last} (no OnFailure)")
            return
        self._count(records_parked=len(records))
        self._error(f"{self.key}: retries exhausted, parking {first}..{last} in {destination}")
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if outcome.function_error is not None:
            response["functionError"] = outcome.function_error
        self.dead_letters.park(
            destination,
            {
                "requestContext": {
                    "requestId": outcome.request_id,
                    "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:"
                    f"{self.source.function_id}",
                    "condition": RETRIES_EXHAUSTED,
                    "approximateInvokeCount": invocations,
                },
                "responseContext": response,
                "version": "1.0",
                "timestamp": _now_iso(),
                "DDBStreamBatchInfo": {
                    "shardId": shard.shard_id,
                    "startSequenceNumber": first,
                    "endSequenceNumber": last,
                    "approximateArrivalOfFirstRecord": _arrival(records[0]),
                    "approximateArrivalOfLastRecord": _arrival(records[-1]),
                    "batchSize": len(records),
                    "streamArn": self._stream_arn,
                },
                # As an S3 destination holds them; SQS and SNS ones carry only the batch info.
                "payload": {"Records": records},
            },
        )

    # -- bookkeeping -----------------------------------------------------------------------

    def _checkpoint(self) -> None:
        if self._stream_arn is None:
            return
        shards = {
            shard.shard_id: None if shard.finished else shard.last_done
            for shard in self._shards.values()
            if shard.finished or shard.last_done is not None
        }
        self.checkpoints.put(self.key, self._stream_arn, shards)

    def _set(self, **values: object) -> None:
        with self._stats_lock:
            self._stats.update(values)

    def _count(self, **values: int) -> None:
        with self._stats_lock:
            for name, value in values.items():
                self._stats[name] += value

    def _error(self, message: str) -> None:
        _log(message)
        with self._stats_lock:
            self._stats["last_error"] = message.splitlines()[0]
            self._stats["last_error_at"] = _now_iso()


def _batch_response(result: object, records: Sequence[Record]) -> _Outcome:
    """Read a ReportBatchItemFailures response the way Lambda does."""
    if result is None:
        return _Outcome(True)
    if not isinstance(result, dict):
        return _Outcome(False, error=f"the response is a {type(result).__name__}, not an object")
    failures = result.get("batchItemFailures")
    if not failures:
        return _Outcome(True)
    if not isinstance(failures, list):
        return _Outcome(False, error="batchItemFailures is not a list")
    positions = {_sequence(record): i for i, record in enumerate(records)}
    failed: list[int] = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        # An empty, missing or unknown identifier fails the whole batch.
        if not isinstance(identifier, str) or identifier not in positions:
            return _Outcome(False, error=f"invalid batch item failure {item!r}")
        failed.append(positions[identifier])
    return _Outcome(False, failed_from=min(failed))


class Streams:
    """Every stream source of a template, with the dead-letter destinations they share."""

    def __init__(
        self,
        sources: Iterable[StreamSource],
        table_names: Mapping[str, str],
        *,
        endpoint: str,
        repo_root: Path,
        checkpoints: Path | None = None,
        poll_interval: float = POLL_INTERVAL_S,
        retry_backoff: float = RETRY_BACKOFF_S,
        max_backoff: float = MAX_BACKOFF_S,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self.dead_letters = dead_letters or DeadLetters()
        store = Checkpoints(checkpoints)
        self.pollers = [
            StreamPoller(
                source,
                table_names[source.table_id],
                endpoint=endpoint,
                repo_root=repo_root,
                dead_letters=self.dead_letters,
                checkpoints=store,
                poll_interval=poll_interval,
                retry_backoff=retry_backoff,
                max_backoff=max_backoff,
            )
            for source in sources
        ]

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller.request_stop()  # all at once, then wait for each
        for poller in self.pollers:
            poller.stop()

    def status(self) -> list[dict[str, Any]]:
        return [poller.status() for poller in self.pollers]

    def wait(self, timeout: float = WAIT_TIMEOUT_S) -> bool:
        """True once every poller has processed everything written before the call."""
        deadline = time.monotonic() + timeout
        results = [False] * len(self.pollers)

        def one(i: int, poller: StreamPoller) -> None:
            results[i] = poller.wait(max(0.0, deadline - time.monotonic()))

        threads = [
            threading.Thread(target=one, args=(i, p), daemon=True)
            for i, p in enumerate(self.pollers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return all(results)

    def endpoints(self) -> dict[str, LocalEndpoint]:
        """GET /_local/streams, POST /_local/streams/wait, GET|DELETE /_local/dlq."""
        return {"streams": self._streams_endpoint, "dlq": self._dlq_endpoint}

    def _streams_endpoint(self, request: LocalRequest) -> LocalResponse:
        if request.path == "":
            if request.method != "GET":
                return LocalResponse(405, allow="GET")
            return LocalResponse(200, {"streams": self.status()})
        if request.path != "/wait":
            return LocalResponse(
                404, {"message": f"no local endpoint /_local/streams{request.path}"}
            )
        if request.method != "POST":
            return LocalResponse(405, allow="POST")
        try:
            timeout = float(request.query.get("timeout", WAIT_TIMEOUT_S))
        except ValueError:
            return LocalResponse(400, {"message": "timeout must be a number of seconds"})
        caught_up = self.wait(timeout)
        return LocalResponse(
            200 if caught_up else 504, {"caught_up": caught_up, "streams": self.status()}
        )

    def _dlq_endpoint(self, request: LocalRequest) -> LocalResponse:
        if request.path != "":
            return LocalResponse(404, {"message": f"no local endpoint /_local/dlq{request.path}"})
        if request.method == "GET":
            return LocalResponse(200, self.dead_letters.snapshot())
        if request.method == "DELETE":
            self.dead_letters.clear(request.query.get("destination"))
            return LocalResponse(204)
        return LocalResponse(405, allow="GET, DELETE")
