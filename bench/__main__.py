"""`make bench`: one run against DynamoDB Local and the fake Bot API, printing every figure.

Cold start runs in a Lambda-like venv (python + boto3 + the layer's requirements only), so
developer tools installed beside the code do not inflate or hide import costs.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from botocore.client import BaseClient

from local.__main__ import LocalStack
from local.gateway import LambdaContext, lambda_context, load_handler, proxy_event
from local.seed import DEMO_TELEGRAM_SECRET
from local.template import api_routes

REPO = Path(__file__).resolve().parent.parent
LAMBDA_VENV = REPO / ".tools" / "lambda-venv"
COLD_RUNS = 21
DATABASE_WARMUP_LEADS = 100
WARM_MESSAGES = 300
LEADS, PER_LEAD, CONCURRENCY = 100, 10, 100
DECAY_LEADS, DECAY_DUE = 100_000, 1_000
GHOST_LEADS, GHOST_DUE, GHOST_TENANTS = 100_000, 1_000, 10
SCORE_BATCH = 100
IMPORT_ROWS = 1_000
API_LEADS, API_REQUESTS = 10_000, 200
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}


def say(text: str) -> None:
    # Straight to the terminal: the functions' EMF metric lines go to sys.stdout, which the
    # stack parts point at /dev/null (metrics stay on and flushed, as Lambda runs them).
    print(text, file=sys.__stdout__, flush=True)


def lambda_python() -> Path:
    """python3.12 with only what the layer holds (boto3 included), built once, then reused."""
    python = LAMBDA_VENV / "bin" / "python"
    stamp = LAMBDA_VENV / ".installed"
    requirements = REPO / "layers/shared/requirements.txt"
    wanted = requirements.read_text()
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    say(f"  building the Lambda-like venv in {LAMBDA_VENV} (once)…")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(LAMBDA_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return python


# -- DynamoDB requests, counted where every client (pynamodb's and boto3's) makes them ----------

_calls: Counter[str] = Counter()
_original_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]


def _counting_api_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    if self.meta.service_model.service_name == "dynamodb":
        _calls[operation] += 1
    return _original_api_call(self, operation, params)


@contextmanager
def counting() -> Iterator[Counter[str]]:
    BaseClient._make_api_call = _counting_api_call  # type: ignore[attr-defined]
    _calls.clear()
    try:
        yield _calls
    finally:
        BaseClient._make_api_call = _original_api_call  # type: ignore[attr-defined]


# -- Telegram updates -------------------------------------------------------------------------

_update_ids = iter(range(10_000_000, 99_999_999))


def message(chat: int, **fields: Any) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": f"Lead{chat}", "language_code": "en"}
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": user,
            **fields,
        },
    }


def press(chat: int, data: str) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": f"Lead{chat}"}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": user,
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}},
            "chat_instance": "1",
            "data": data,
        },
    }


def apigw(update: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(update).encode()
    path = "/telegram/demo"
    params = {"tenant_id": "demo"}
    return proxy_event("/telegram/{tenant_id}", "POST", path, HEADERS.items(), body, params=params)


def context() -> LambdaContext:
    return lambda_context("WebhookTelegramFunction")


# -- WhatsApp messages (the same conversation, as Meta posts it) -------------------------------

_wamids = iter(range(10_000_000, 99_999_999))


def wa_message(wa_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    message_id = f"wamid.BENCH{next(_wamids)}=="
    return {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(int(time.time())),
        "type": kind,
        **fields,
    }


def wa_text(wa_id: str, text: str) -> dict[str, Any]:
    return wa_message(wa_id, "text", text={"body": text})


def wa_press(wa_id: str, choice: str) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": choice, "title": "…"}}
    return wa_message(wa_id, "interactive", interactive=reply)


def wa_apigw(*messages: dict[str, Any]) -> dict[str, Any]:
    from leadbot.channels.whatsapp.signature import sign
    from local.seed import DEMO_WHATSAPP_APP_SECRET, DEMO_WHATSAPP_PHONE_NUMBER_ID

    senders = dict.fromkeys(m["from"] for m in messages)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "971800000001",
            "phone_number_id": DEMO_WHATSAPP_PHONE_NUMBER_ID,
        },
        "contacts": [{"profile": {"name": f"Lead{w}"}, "wa_id": w} for w in senders],
        "messages": list(messages),
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(DEMO_WHATSAPP_APP_SECRET, raw),
    }
    return proxy_event("/whatsapp", "POST", "/whatsapp", headers.items(), raw)


def wa_context() -> LambdaContext:
    return lambda_context("WebhookWhatsAppFunction")


# -- the figures --------------------------------------------------------------------------------


def warm_database(handler: Callable[..., Any], leads: int = DATABASE_WARMUP_LEADS) -> float:
    """Serve a first /start and an answer for `leads` leads in-process; return the seconds.

    DynamoDB Local is a JVM: its first few hundred writes run interpreted, two to three times
    slower than later ones. AWS's DynamoDB has no such warm-up, so the cold-start figure warms
    the database first and then measures only what a fresh Lambda process pays.
    """
    started = time.perf_counter()
    for chat in range(640_000_000, 640_000_000 + leads):
        for update in (message(chat, text="/start qr_warmup"), press(chat, "goal:buy")):
            response = handler(apigw(update), context())
            assert response["statusCode"] == 200, response
    return time.perf_counter() - started


def cold_start(python: Path, stack: LocalStack) -> dict[str, float]:
    """Median wall and CPU time of fresh processes, floor and webhook interleaved."""
    import resource

    # Fresh bytecode for our modules, as `make build` ships it (pip compiled the packages).
    # Timestamp-checked here, so later edits of the source are still picked up.
    subprocess.run(
        [
            str(python),
            "-m",
            "compileall",
            "-q",
            str(REPO / "layers/shared/leadbot"),
            str(REPO / "functions/webhook_telegram"),
        ],
        check=True,
        capture_output=True,
    )

    env = {**os.environ, "PYTHONPATH": str(REPO / "layers/shared"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONHOME", None)
    table = os.environ["TENANTS_TABLE"]
    wall: dict[str, list[float]] = {"floor": [], "webhook": []}
    cpu: dict[str, list[float]] = {"floor": [], "webhook": []}
    imports: dict[str, list[float]] = {"floor": [], "webhook": []}
    # The first round only warms the OS file cache, as a re-used Lambda host would have it.
    for run in range(COLD_RUNS + 1):
        for mode in ("floor", "webhook"):
            chat = 600_000_000 + run * 10 + (mode == "webhook")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            out = subprocess.run(
                [
                    str(python),
                    str(REPO / "bench/cold_start.py"),
                    mode,
                    stack.ddb.endpoint,
                    table,
                    str(chat),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = (time.perf_counter() - started) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if out.returncode != 0:
                raise RuntimeError(f"cold start ({mode}) failed:\n{out.stderr[-2000:]}")
            if run:
                wall[mode].append(elapsed)
                last = out.stdout.splitlines()[-1]  # after the EMF metric lines
                imports[mode].append(json.loads(last)["import_ms"])
                cpu[mode].append(
                    (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
                )
    medians = {
        f"{kind}_{mode}": statistics.median(samples[mode])
        for kind, samples in (("wall", wall), ("cpu", cpu), ("import", imports))
        for mode in wall
    }
    medians["ratio"] = medians["wall_webhook"] / medians["wall_floor"]
    medians["cpu_ratio"] = medians["cpu_webhook"] / medians["cpu_floor"]
    return medians


def per_message(handler: Callable[..., Any], stack: LocalStack) -> list[tuple[str, int, int, str]]:
    chat = 610_000_001
    script: list[tuple[str, dict[str, Any]]] = [
        ("first /start (creates the lead)", message(chat, text="/start qr_bench")),
        ("button press (goal)", press(chat, "goal:buy")),
        ("typed answer (budget)", message(chat, text="2.5M AED")),
        ("button press (type)", press(chat, "property_type:apartment")),
        ("typed answer (area)", message(chat, text="Dubai Marina")),
        ("voice note", message(chat, voice={"file_id": "x", "duration": 2})),
        ("button press (timeline)", press(chat, "timeline:now")),
        ("typed answer (bedrooms)", message(chat, text="2")),
        ("button press (payment)", press(chat, "payment:cash")),
        ("phone (+ Hot Lead Alert)", message(chat, text="+971 50 123 4567")),
        ("question after qualifying", message(chat, text="Is there a pool?")),
    ]
    repeat = script[2][1]
    script.append(("redelivered update (dropped)", repeat))
    # A container that has not met this lead yet (another Lambda instance took the earlier
    # messages) reads its identity and the lead first.
    script.append(("message to a fresh container", message(chat, text="and a gym?")))
    rows = []
    for name, update in script:
        if name == "message to a fresh container":
            from leadbot.services import runtime, telegram

            runtime.reset()
            telegram.reset()
        sent_before = len(stack.fake.outbox())
        with counting() as calls:
            response = handler(apigw(update), context())
        assert response["statusCode"] == 200, response
        http_calls = len(stack.fake.outbox()) - sent_before
        detail = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        rows.append((name, sum(calls.values()), http_calls, detail))
    return rows


def per_message_whatsapp(
    handler: Callable[..., Any], stack: LocalStack
) -> list[tuple[str, int, int, str]]:
    """The rows of `per_message`, over WhatsApp: HTTP calls count the read receipt too."""
    wa = "971500000001"
    script: list[tuple[str, dict[str, Any]]] = [
        ("first /start (creates the lead)", wa_text(wa, "start qr_bench")),
        ("button press (goal)", wa_press(wa, "goal:buy")),
        ("typed answer (budget)", wa_text(wa, "2.5M AED")),
        ("button press (type)", wa_press(wa, "property_type:apartment")),
        ("typed answer (area)", wa_text(wa, "Dubai Marina")),
        ("voice note", wa_message(wa, "audio", audio={"id": "1", "voice": True})),
        ("button press (timeline)", wa_press(wa, "timeline:now")),
        ("typed answer (bedrooms)", wa_text(wa, "2")),
        ("button press (payment)", wa_press(wa, "payment:cash")),
        ("phone (+ Hot Lead Alert)", wa_press(wa, "contact:this")),
        ("question after qualifying", wa_text(wa, "Is there a pool?")),
    ]
    script.append(("redelivered update (dropped)", script[2][1]))
    script.append(("message to a fresh container", wa_text(wa, "and a gym?")))
    rows = []
    for name, message_ in script:
        if name == "message to a fresh container":
            from leadbot.services import runtime, telegram, whatsapp

            runtime.reset()
            telegram.reset()
            whatsapp.reset()
        sent_before = len(stack.fake.outbox()) + len(stack.fake_whatsapp.outbox())
        with counting() as calls:
            response = handler(wa_apigw(message_), wa_context())
        assert response["statusCode"] == 200, response
        http_calls = len(stack.fake.outbox()) + len(stack.fake_whatsapp.outbox()) - sent_before
        detail = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        rows.append((name, sum(calls.values()), http_calls, detail))
    return rows


def warm_latency(handler: Callable[..., Any]) -> dict[str, float]:
    answers: list[Callable[[int], dict[str, Any]]] = [
        lambda c: message(c, text="/start"),
        lambda c: press(c, "goal:buy"),
        lambda c: message(c, text="800k"),
        lambda c: press(c, "property_type:villa"),
        lambda c: message(c, text="Arabian Ranches"),
        lambda c: press(c, "timeline:3m"),
        lambda c: message(c, text="3 bedrooms"),
        lambda c: press(c, "payment:mortgage"),
        lambda c: message(c, text="+971501112233"),
        lambda c: message(c, text="thanks!"),
    ]
    events = [
        apigw(answers[index % len(answers)](620_000_000 + index // len(answers)))
        for index in range(WARM_MESSAGES)
    ]
    return _latency(handler, events, context())


def warm_latency_whatsapp(handler: Callable[..., Any]) -> dict[str, float]:
    answers: list[Callable[[str], dict[str, Any]]] = [
        lambda w: wa_text(w, "Hi"),
        lambda w: wa_press(w, "goal:buy"),
        lambda w: wa_text(w, "800k"),
        lambda w: wa_press(w, "property_type:villa"),
        lambda w: wa_text(w, "Arabian Ranches"),
        lambda w: wa_press(w, "timeline:3m"),
        lambda w: wa_text(w, "3 bedrooms"),
        lambda w: wa_press(w, "payment:mortgage"),
        lambda w: wa_press(w, "contact:this"),
        lambda w: wa_text(w, "thanks!"),
    ]
    events = [
        wa_apigw(answers[index % len(answers)](str(971_560_000_000 + index // len(answers))))
        for index in range(WARM_MESSAGES)
    ]
    return _latency(handler, events, wa_context())


def _latency(
    handler: Callable[..., Any], events: list[dict[str, Any]], ctx: LambdaContext
) -> dict[str, float]:
    durations = []
    for event in events:
        started = time.perf_counter()
        response = handler(event, ctx)
        durations.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response
    durations.sort()
    return {
        "p50_ms": statistics.median(durations),
        "p95_ms": durations[int(len(durations) * 0.95) - 1],
        "max_ms": durations[-1],
    }


def concurrency(stack: LocalStack) -> dict[str, Any]:
    """100 leads × 10 messages, all in flight at once over HTTP; redelivered like Telegram does."""
    updates = [
        (chat, message(chat, text=f"message {n}"))
        for chat in range(630_000_000, 630_000_000 + LEADS)
        for n in range(PER_LEAD)
    ]
    random.Random(7).shuffle(updates)
    retries = Counter[int]()
    lock = threading.Lock()
    client = httpx.Client(
        base_url=stack.gateway.url, timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)
    )

    def deliver(item: tuple[int, dict[str, Any]]) -> int:
        for attempt in range(20):
            try:
                status = client.post("/telegram/demo", json=item[1], headers=HEADERS).status_code
            except httpx.TransportError:
                status = 0  # Telegram redelivers after a failed connection too
            if status == 200:
                return attempt
            with lock:
                retries[status] += 1
            time.sleep(0.05 * (attempt + 1))
        return -1

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        outcomes = list(pool.map(deliver, updates))
    elapsed = time.perf_counter() - started
    from leadbot.domain import Channel
    from leadbot.services.runtime import repositories

    repos = repositories()
    counts = []
    for chat in range(630_000_000, 630_000_000 + LEADS):
        key = repos.identities.key("demo", Channel.TELEGRAM, str(chat))
        lead_id = repos.identities.lead_id(key)
        counts.append(repos.leads.get("demo", lead_id).messages_count if lead_id else 0)
    return {
        "messages": len(updates),
        "undelivered": outcomes.count(-1),
        "redeliveries": dict(retries),
        "seconds": elapsed,
        "per_second": len(updates) / elapsed,
        "lost_updates": LEADS * PER_LEAD - sum(counts),
        "leads_with_exact_count": sum(c == PER_LEAD for c in counts),
    }


def report_cold(python: Path, handler: Callable[..., Any], stack: LocalStack) -> None:
    say(f"\n1. Cold start (fresh process; median of {COLD_RUNS})")
    seconds = warm_database(handler)
    say(
        f"   DynamoDB Local's JVM warmed first, as AWS's DynamoDB always is: "
        f"{DATABASE_WARMUP_LEADS} leads × 2 messages in {seconds:.1f} s"
    )
    cold = cold_start(python, stack)
    say("                                             wall        cpu")
    for label, mode in (
        ("floor: python + boto3 + one GetItem    ", "floor"),
        ("webhook_telegram: import + first /start", "webhook"),
    ):
        say(
            f"   {label} {cold[f'wall_{mode}']:6.0f} ms  {cold[f'cpu_{mode}']:6.0f} ms"
            f"   (imports {cold[f'import_{mode}']:.0f} ms)"
        )
    say(
        f"   ratio (wall) {cold['ratio']:.2f}   (target ≤ 1.5); ratio (cpu) {cold['cpu_ratio']:.2f}"
    )


def report_messages(
    handler: Callable[..., Any], wa_handler: Callable[..., Any], stack: LocalStack
) -> None:
    say("\n2. Per message: DynamoDB requests and outbound HTTP calls (targets ≤ 6 and 1)")
    say(f"   {'':32} {'Telegram':>12}   {'WhatsApp':>12}")
    telegram = per_message(handler, stack)
    whatsapp = per_message_whatsapp(wa_handler, stack)
    for (name, ddb, http, detail), (_, wa_ddb, wa_http, wa_detail) in zip(
        telegram, whatsapp, strict=True
    ):
        say(f"   {name:32} ddb {ddb:2} http {http}   ddb {wa_ddb:2} http {wa_http}")
        say(f"   {'':32} [{detail}]  [{wa_detail}]")
    say("   WhatsApp's extra HTTP call is the read receipt, sent while the reply is worked out;")
    say("   Telegram runs a press's answerCallbackQuery itself: the webhook answers with it.")


def report_warm(handler: Callable[..., Any], wa_handler: Callable[..., Any]) -> None:
    say(f"\n3. Warm handler time over {WARM_MESSAGES} messages (in-process; target p95 ≤ 60 ms)")
    for label, warm in (
        ("Telegram", warm_latency(handler)),
        ("WhatsApp", warm_latency_whatsapp(wa_handler)),
    ):
        say(
            f"   {label:9} p50 {warm['p50_ms']:.1f} ms   p95 {warm['p95_ms']:.1f} ms   "
            f"max {warm['max_ms']:.1f} ms"
        )


def report_concurrency(stack: LocalStack) -> None:
    say(f"\n4. {LEADS * PER_LEAD} messages from {LEADS} concurrent leads over HTTP")
    result = concurrency(stack)
    say(
        f"   {result['messages']} messages in {result['seconds']:.1f} s "
        f"({result['per_second']:.0f}/s); redelivered after a non-200: "
        f"{result['redeliveries'] or 'none'}; undelivered {result['undelivered']}"
    )
    say(
        f"   lost updates: {result['lost_updates']}   leads whose messages_count is "
        f"exactly {PER_LEAD}: {result['leads_with_exact_count']}/{LEADS}"
    )


class LeadsStreamReader:
    """The Leads table's real stream on DynamoDB Local, read as Lambda's poller reads it: only
    what is written after the reader is made."""

    def __init__(self, endpoint: str, table: str) -> None:
        import boto3

        from local.streams import lambda_record

        self._lambda_record = lambda_record
        ddb = boto3.client("dynamodb", endpoint_url=endpoint)
        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint)
        self.arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self._shards = [
            s["ShardId"] for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]
        ]
        self._seen = dict.fromkeys(self._shards, -1)
        self._iterators = {shard: self._oldest(shard) for shard in self._shards}
        self._read()  # skip what is already there

    def _oldest(self, shard: str) -> str:
        iterator: str = self._streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return iterator

    def _read(self) -> list[dict[str, Any]]:
        records = []
        for shard in self._shards:
            while True:
                try:
                    page = self._streams.get_records(
                        ShardIterator=self._iterators[shard], Limit=1000
                    )
                except self._streams.exceptions.TrimmedDataAccessException:
                    # DynamoDB Local: an iterator taken on an empty shard goes stale once
                    # records arrive (its sequence numbers are shared by all tables).
                    self._iterators[shard] = self._oldest(shard)
                    continue
                self._iterators[shard] = page["NextShardIterator"]
                fresh = [
                    r
                    for r in page["Records"]
                    if int(r["dynamodb"]["SequenceNumber"]) > self._seen[shard]
                ]
                if not page["Records"]:
                    break
                for r in fresh:
                    self._seen[shard] = int(r["dynamodb"]["SequenceNumber"])
                records += [self._lambda_record(r, self.arn) for r in fresh]
        return records

    def take_all(self, quiet_s: float = 2.0) -> list[dict[str, Any]]:
        """Every record written so far: read until the stream has been quiet for `quiet_s`."""
        records: list[dict[str, Any]] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s:
            fresh = self._read()
            if fresh:
                records += fresh
                quiet_since = time.monotonic()
        return records

    def take(self, count: int) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while len(records) < count and time.monotonic() < deadline:
            records += self._read()
        if len(records) != count:
            raise RuntimeError(f"expected {count} stream records, got {len(records)}")
        return records


WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def score_batches(handler: Callable[..., Any], stack: LocalStack) -> list[dict[str, Any]]:
    """Batches of SCORE_BATCH real stream records through score_update, as Lambda sends them."""
    from local.gateway import load_handler as load
    from local.template import stream_sources

    source = next(
        s for s in stream_sources(stack.template) if s.function_id == "ScoreUpdateFunction"
    )
    score_update = load(REPO, source)
    reader = LeadsStreamReader(stack.ddb.endpoint, stack.names["LeadsTable"])
    chats = range(640_000_000, 640_000_000 + SCORE_BATCH)
    steps: list[tuple[str, Callable[[int], dict[str, Any]] | None]] = [
        ("new leads (INSERT, first score)", lambda c: message(c, text="/start")),
        ("the score writes' own changes", None),
        ("a message each (score +1)", lambda c: message(c, text="not sure yet")),
        ("the score writes' own changes", None),
        ("an answer each (score +6, cold → warm)", lambda c: press(c, "goal:buy")),
        ("the score writes' own changes", None),
    ]
    rows = []
    for name, update in steps:
        if update is not None:
            for chat in chats:
                assert handler(apigw(update(chat)), context())["statusCode"] == 200
        records = reader.take(SCORE_BATCH)
        with counting() as calls:
            started = time.perf_counter()
            response = score_update({"Records": records}, lambda_context("ScoreUpdateFunction", 60))
            elapsed = time.perf_counter() - started
        assert response == {"batchItemFailures": []}, response
        writes = sum(n for op, n in calls.items() if op in WRITES)
        rows.append(
            {
                "name": name,
                "records": len(records),
                "per_second": len(records) / elapsed,
                "writes_per_record": writes / len(records),
                "requests": dict(calls),
            }
        )
    return rows


def report_cost(handler: Callable[..., Any], stack: LocalStack) -> None:
    from bench.cost import CONVERSATIONS, conversation_figures, per_thousand
    from local.gateway import load_handler as load
    from local.template import stream_sources

    say(f"\n11. Cost of 1,000 conversations in AWS, from {CONVERSATIONS} measured here")
    source = next(
        s for s in stream_sources(stack.template) if s.function_id == "ScoreUpdateFunction"
    )
    reader = LeadsStreamReader(stack.ddb.endpoint, stack.names["LeadsTable"])
    figures = conversation_figures(
        handler,
        load(REPO, source),
        reader,
        stack,
        apigw,
        context,
        message,
        press,
        lambda_context("ScoreUpdateFunction", 60),
    )
    say(
        f"   a conversation: {figures['messages']:.0f} messages, webhook p50 "
        f"{figures['webhook_ms_p50']:.1f} ms, {figures['webhook_requests']:.1f} DynamoDB "
        f"requests + {figures['score_requests']:.1f} by score_update over "
        f"{figures['score_records']:.1f} stream records; {figures['write_units']:.1f} WRU, "
        f"{figures['read_units']:.1f} RRU; {figures['stored_bytes'] / 1000:.1f} KB stored; "
        f"{figures['prompt_tokens']:.0f} + {figures['completion_tokens']:.0f} LLM tokens"
    )
    total = 0.0
    for item, quantity, usd in per_thousand(figures):
        total += usd
        say(f"   {item:28} {quantity:42} ${usd:8.4f}")
    say(f"   {'total per 1,000 conversations':71} ${total:8.4f}")


def report_scoring(handler: Callable[..., Any], stack: LocalStack) -> None:
    say(f"\n5. score_update: batches of {SCORE_BATCH} records from the real Leads stream")
    say("   (target: 1 DynamoDB write per record whose score changes, 0 otherwise)")
    for row in score_batches(handler, stack):
        requests = ", ".join(f"{op} {n}" for op, n in sorted(row["requests"].items()))
        say(
            f"   {row['name']:40} {row['per_second']:6.0f} records/s   "
            f"writes/record {row['writes_per_record']:.2f}   [{requests}]"
        )


def write_scored_leads(tenant_id: str, count: int, last_seen: Callable[[int], timedelta]) -> float:
    """`count` scored leads written straight to the Leads table; lead n was last seen
    `last_seen(n)` ago and scored then. Seconds taken."""
    from ulid import ULID

    from leadbot.services.runtime import _tables
    from leadbot.store import score_key
    from leadbot.store.scores import shard

    model = _tables().leads
    client = _tables().client()
    now = datetime.now(UTC)
    breakdown = json.dumps({"engagement": 1, "qualification": 0, "recency": 20, "rules": []})

    def lead(n: int) -> dict[str, Any]:
        lead_id = str(ULID())
        last = now - last_seen(n)
        item = model(
            tenant_id,
            lead_id,
            channel="telegram",
            external_id=str(n),
            name=f"Bench Lead {n}",
            stage="goal",
            status="qualifying",
            messages_count=1,
            created_at=last,
            updated_at=last,
            last_inbound_at=last,
            version=1,
            score=21,
            score_key=score_key(21, last),
            temperature="cold",
            grade="D",
            score_breakdown=breakdown,
            scored_at=last,
            rescore_shard=shard(lead_id),
            rescore_due_at=(last + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        )
        return {"PutRequest": {"Item": item.serialize()}}

    def write(first: int) -> None:
        requests = [lead(n) for n in range(first, min(first + 25, count))]
        while requests:
            left = client.batch_write_item(RequestItems={model.Meta.table_name: requests})
            requests = left.get("UnprocessedItems", {}).get(model.Meta.table_name, [])

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        for done, _ in enumerate(pool.map(write, range(0, count, 25)), start=1):
            if done % 800 == 0:
                say(f"   … {done * 25:,} leads written")
    return time.perf_counter() - started


def decay_reads() -> dict[str, Any]:
    """An hourly decay run over DECAY_LEADS scored leads of which DECAY_DUE are due."""
    from leadbot.services import scores
    from leadbot.services.runtime import repositories

    now = datetime.now(UTC)
    due_every = DECAY_LEADS // DECAY_DUE
    # Due: last seen 2 h ago, scored then (recency 20) and due to drop an hour ago.
    # The rest: seen 10 minutes ago, due in 50 minutes (in the index, not yet due).
    loaded = write_scored_leads(
        "decay-bench",
        DECAY_LEADS,
        lambda n: timedelta(hours=2) if n % due_every == 0 else timedelta(minutes=10),
    )
    started = time.perf_counter()
    with counting() as calls:
        report = scores.decay(repositories(), lambda tenant: None, now)  # type: ignore[arg-type,return-value]
    return {
        "leads": DECAY_LEADS,
        "due": DECAY_DUE,
        "rescored": report.leads,
        "items_read": report.items_read,
        "ratio": report.items_read / DECAY_DUE,
        "requests": dict(calls),
        "outcomes": {k.value: v for k, v in report.outcomes.items()},
        "seconds": time.perf_counter() - started,
        "load_seconds": loaded,
    }


def report_decay() -> None:
    say(f"\n6. Hourly decay run: {DECAY_LEADS:,} scored leads, {DECAY_DUE:,} due")
    result = decay_reads()
    say(
        f"   rescored {result['rescored']:,} in {result['seconds']:.1f} s; items read "
        f"{result['items_read']:,} ÷ due {result['due']:,} = {result['ratio']:.3f} "
        "(target ≤ 1.05)"
    )
    requests = ", ".join(f"{op} {n}" for op, n in sorted(result["requests"].items()))
    say(f"   DynamoDB requests: {requests}; outcomes {result['outcomes']}")
    say(f"   (writing the {DECAY_LEADS:,} leads took {result['load_seconds']:.0f} s)")


def api_list(stack: LocalStack) -> dict[str, Any]:
    """GET /api/leads on a tenant of API_LEADS leads: requests per page, latency over HTTP."""
    from local.auth import apigw_claims, id_claims
    from local.gateway import load_handler as load
    from local.seed import DEMO_USERS

    loaded = write_scored_leads("demo", API_LEADS, lambda n: timedelta(minutes=n % 600))
    # In-process, every DynamoDB request of one page counted, as Cognito's claims arrive.
    route = next(r for r in api_routes(stack.template) if r.path == "/api/leads")
    handler = load(REPO, route)
    claims = apigw_claims(id_claims(DEMO_USERS["agent"], datetime.now(UTC)))
    event = proxy_event(route.path, "GET", route.path, [], b"", query="limit=50")
    event["requestContext"]["authorizer"] = {"claims": claims}
    handler(event, lambda_context("ApiFunction"))  # warm
    with counting() as calls:
        response = handler(event, lambda_context("ApiFunction"))
    assert response["statusCode"] == 200, response
    page_requests = dict(calls)
    # Over HTTP through the local gateway (token checked), walking pages as the board scrolls.
    token = httpx.get(f"{stack.gateway.url}/_local/tokens").json()["agent"]
    client = httpx.Client(base_url=stack.gateway.url, headers={"Authorization": token})
    durations, cursor = [], None
    for _ in range(API_REQUESTS):
        params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        answer = client.get("/api/leads", params=params)
        durations.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
        cursor = answer.json()["next_cursor"]
    durations.sort()
    return {
        "load_seconds": loaded,
        "page_requests": page_requests,
        "p50_ms": statistics.median(durations),
        "p95_ms": durations[int(len(durations) * 0.95) - 1],
    }


def report_api(stack: LocalStack) -> None:
    say(f"\n7. GET /api/leads: a tenant of {API_LEADS:,} leads, pages of 50")
    result = api_list(stack)
    requests = ", ".join(f"{op} {n}" for op, n in sorted(result["page_requests"].items()))
    say(f"   DynamoDB requests for one page: {requests}   (target: 1 query)")
    say(
        f"   over HTTP, {API_REQUESTS} pages: p50 {result['p50_ms']:.1f} ms   "
        f"p95 {result['p95_ms']:.1f} ms   (writing the leads took {result['load_seconds']:.0f} s)"
    )


def import_sheet(stack: LocalStack) -> dict[str, Any]:
    """POST /api/leads/import of IMPORT_ROWS new people, then the same file again (all merged):
    wall time and DynamoDB requests per row, in-process as API Gateway calls the function."""
    from local.auth import apigw_claims, id_claims
    from local.gateway import load_handler as load
    from local.seed import DEMO_USERS

    lines = ["Full name,Mobile,E-mail,Notes"]
    lines += [
        f"Guest {n},+97150{n:07d},guest{n}@expo.example,{'met at the stand' if n % 4 == 0 else ''}"
        for n in range(1, IMPORT_ROWS + 1)
    ]
    body = json.dumps({"csv": "\n".join(lines) + "\n", "source": "bench-expo"}).encode()
    route = next(r for r in api_routes(stack.template) if r.path == "/api/leads/import")
    handler = load(REPO, route)
    claims = apigw_claims(id_claims(DEMO_USERS["demo2_agent"], datetime.now(UTC)))
    headers = [("Content-Type", "application/json")]
    runs = {}
    for run in ("first", "again"):
        event = proxy_event(route.path, "POST", route.path, headers, body)
        event["requestContext"]["authorizer"] = {"claims": claims}
        with counting() as calls:
            started = time.perf_counter()
            response = handler(event, lambda_context("ApiFunction"))
            seconds = time.perf_counter() - started
        assert response["statusCode"] == 200, response
        report = json.loads(response["body"])
        runs[run] = {
            "seconds": seconds,
            "requests": dict(calls),
            "outcome": {k: report[k] for k in ("created", "merged", "failed")},
        }
    return runs


def report_import(stack: LocalStack) -> None:
    say(f"\n8. POST /api/leads/import: {IMPORT_ROWS:,} rows of new people, then the same again")
    for run, result in import_sheet(stack).items():
        per_row = sum(result["requests"].values()) / IMPORT_ROWS
        requests = ", ".join(f"{op} {n}" for op, n in sorted(result["requests"].items()))
        say(
            f"   {run}: {result['seconds']:.1f} s ({IMPORT_ROWS / result['seconds']:.0f} rows/s), "
            f"{per_row:.2f} DynamoDB requests/row ({requests}); {result['outcome']}"
        )


def write_quiet_leads(tenant_ids: list[str], count: int, due: int, now: datetime) -> float:
    """`count` leads with a phone, spread over the tenants, written straight to the Leads table
    (BatchWriteItem, 8 threads) with the followups_due attributes every save derives: `due` of
    them quiet for 3 hours, the rest for under 2 (in the index, not yet due). Seconds taken."""
    from ulid import ULID

    from leadbot.domain import Channel, Language, Lead, LeadStatus, Stage
    from leadbot.followups import pending_followup
    from leadbot.services.runtime import _tables
    from leadbot.store.repositories import _item, followup_index
    from local.seed import demo_tenant

    tenant = demo_tenant()  # the bench agencies' settings: a 2-hour delay, Dubai's quiet hours

    model = _tables().leads
    client = _tables().client()
    due_every = count // due

    def lead(n: int) -> dict[str, Any]:
        quiet = timedelta(hours=3) if n % due_every == 0 else timedelta(minutes=n % 110)
        last = now - quiet
        domain = Lead(
            # By n // due_every: the due leads (every due_every-th) spread over the agencies too.
            tenant_id=tenant_ids[(n // due_every) % len(tenant_ids)],
            lead_id=str(ULID()),
            channel=Channel.TELEGRAM,
            external_id=str(900_000_000 + n),
            name=f"Bench Lead {n}",
            language=Language.EN,
            stage=Stage.ENGAGEMENT,
            status=LeadStatus.QUALIFIED,
            phone=f"+9715{n:08d}",
            messages_count=9,
            created_at=last - timedelta(minutes=10),
            updated_at=last,
            last_inbound_at=last,
            phone_captured_at=last,
        )
        index = followup_index(domain, pending_followup(domain, tenant))
        data = {**_item(domain), **index, "version": 1}
        item = model(**{k: v for k, v in data.items() if v is not None})
        return {"PutRequest": {"Item": item.serialize()}}

    def write(first: int) -> None:
        requests = [lead(n) for n in range(first, min(first + 25, count))]
        while requests:
            left = client.batch_write_item(RequestItems={model.Meta.table_name: requests})
            requests = left.get("UnprocessedItems", {}).get(model.Meta.table_name, [])

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        for done, _ in enumerate(pool.map(write, range(0, count, 25)), start=1):
            if done % 400 == 0:
                rate = done * 25 / (time.perf_counter() - started)
                say(f"   … {done * 25:,} leads written ({rate:,.0f}/s)")
    return time.perf_counter() - started


def ghost_sweep_figures(stack: LocalStack) -> dict[str, Any]:
    """One sweep over GHOST_LEADS leads with a pending follow-up, GHOST_DUE of them due, sent
    over HTTP to the local fake Bot API, paced as in AWS (25/s per agency bot)."""
    from dataclasses import replace

    from leadbot.channels.telegram.client import BULK_PER_SECOND
    from leadbot.services import followups
    from leadbot.services.runtime import repositories
    from local.seed import demo_tenant

    repos = repositories()
    tenant_ids = [f"ghost-bench-{n}" for n in range(GHOST_TENANTS)]
    for tenant_id in tenant_ids:
        repos.tenants.put(replace(demo_tenant(), tenant_id=tenant_id, admin_chats=()))
    # Noon in Dubai (the leads' +971 phones): outside quiet hours whenever the bench runs.
    now = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    loaded = write_quiet_leads(tenant_ids, GHOST_LEADS, GHOST_DUE, now)
    stack.fake.clear()
    say(f"   sweeping ({GHOST_DUE:,} due over {GHOST_TENANTS} agencies)…")
    started = time.perf_counter()
    with counting() as calls:
        report = followups.ghost_sweep(repos, now)
    seconds = time.perf_counter() - started
    sends = [c for c in stack.fake.outbox() if c["method"] == "sendMessage"]
    return {
        "report": report.as_dict(),
        "ratio": report.items_read / GHOST_DUE,
        "seconds": seconds,
        "sends": len(sends),
        "chats": len({c["chat_id"] for c in sends}),
        "requests": dict(calls),
        "load_seconds": loaded,
        # Sends of one agency are paced; agencies go side by side.
        "pacing_floor_s": (GHOST_DUE / GHOST_TENANTS - 1) / BULK_PER_SECOND,
    }


def report_ghost(stack: LocalStack) -> None:
    say(f"\n10. Ghost sweep: {GHOST_LEADS:,} leads with a pending follow-up, {GHOST_DUE:,} due")
    result = ghost_sweep_figures(stack)
    report = result["report"]
    say(
        f"   items read {report['items_read']:,} ÷ due {GHOST_DUE:,} = {result['ratio']:.3f} "
        f"(target ≤ 1.05); {report['queries']} queries"
    )
    say(
        f"   {result['sends']:,} check-ins to {result['chats']:,} chats "
        f"in {result['seconds']:.1f} s "
        f"({result['sends'] / result['seconds']:.0f}/s; pacing alone needs "
        f"{result['pacing_floor_s']:.1f} s at 25/s per agency bot); outcomes "
        f"sent {report['sent']}, failed {report['failed']}, blocked {report['blocked']}, "
        f"skipped {report['skipped']}, lost {report['lost']}"
    )
    requests = ", ".join(f"{op} {n}" for op, n in sorted(result["requests"].items()))
    per_lead = sum(result["requests"].values()) / max(result["sends"], 1)
    say(f"   DynamoDB requests: {requests} ({per_lead:.2f} per follow-up)")
    say(f"   (writing the {GHOST_LEADS:,} leads took {result['load_seconds']:.0f} s)")


PARTS = (
    "cold",
    "messages",
    "warm",
    "concurrency",
    "scoring",
    "decay",
    "api",
    "import",
    "retrieval",
    "cost",
    "ghost",
    "dashboard",
)
STACK_PARTS = set(PARTS) - {"retrieval"}  # retrieval is pure: it needs no local stack


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", choices=PARTS, help="run only these (default: all)")
    parts = set(parser.parse_args(argv).parts or PARTS)
    say("LeadBot bench — DynamoDB Local + fake Telegram Bot API on this machine")
    if parts & STACK_PARTS:
        run_stack_parts(parts)
    if "retrieval" in parts:
        from bench.retrieval import report_retrieval

        report_retrieval(say)
    return 0


def run_stack_parts(parts: set[str]) -> None:
    with (
        open(os.devnull, "w") as emf,
        contextlib.redirect_stdout(emf),
        tempfile.TemporaryDirectory(prefix="leadbot-bench-") as data,
    ):
        # No stream pollers or schedules: they would score behind the figures' backs.
        # Offline (no OpenAI key): voice notes get the ask to type, as in every earlier run.
        stack = LocalStack(
            port=0,
            data=Path(data),
            ddb_port=None,
            telegram_api=None,
            background=False,
            openai=False,
        )
        stack.start()
        try:
            route = next(r for r in api_routes(stack.template) if r.path.startswith("/telegram"))
            handler = load_handler(REPO, route)
            wa_route = next(r for r in api_routes(stack.template) if r.path == "/whatsapp")
            wa_handler = load_handler(REPO, wa_route)

            if "cold" in parts:
                report_cold(lambda_python(), handler, stack)
            if "messages" in parts:
                report_messages(handler, wa_handler, stack)
            if "warm" in parts:
                report_warm(handler, wa_handler)
            if "concurrency" in parts:
                report_concurrency(stack)
            if "scoring" in parts:
                report_scoring(handler, stack)
            if "decay" in parts:
                report_decay()
            if "api" in parts:
                report_api(stack)
            if "import" in parts:
                report_import(stack)
            if "cost" in parts:
                report_cost(handler, stack)
            if "ghost" in parts:
                report_ghost(stack)
            if "dashboard" in parts:
                from bench.dashboard import report_dashboard

                dist = REPO / "dashboard" / "dist"
                leads = lambda tenant, n: write_scored_leads(  # noqa: E731
                    tenant, n, lambda i: timedelta(minutes=i % 600)
                )
                report_dashboard(stack.gateway.url, dist, leads, say)
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
