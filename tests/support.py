"""Test helpers: real-shaped API Gateway events and Telegram updates, an in-process stack."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient

from leadbot import clock
from leadbot.services import runtime, telegram
from leadbot.services.runtime import Repositories
from local.fake_telegram import FakeTelegram
from local.gateway import lambda_context, load_handler, proxy_event
from local.seed import DEMO_TELEGRAM_SECRET
from local.template import api_routes, load_template

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"
# A handler's module is in sys.modules before it has finished loading: threads wait for it.
_LOADING = threading.Lock()


def move_clock_to(at: datetime) -> None:
    """The functions' clock (leadbot.clock) reads `at` now, and runs on from there."""
    clock.set_offset(at - datetime.now(UTC))


def daytime_in_dubai() -> datetime:
    """10:00 in Dubai tomorrow (06:00 UTC): the demo leads' +971 phones are hours away from
    their quiet hours (21:00-09:00) then, whenever the tests run."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    return tomorrow.replace(hour=6, minute=0, second=0, microsecond=0)


def quiet_hours_out_of_the_way(repos: Repositories, tenant_id: str = "demo") -> None:
    """The tenant's quiet hours moved to a single hour half a day from now in Dubai, for tests
    that must run on real time: the next few hours are never quiet."""
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    hour = (datetime.now(ZoneInfo("Asia/Dubai")).hour + 12) % 24
    tenant = repos.tenants.get(tenant_id, consistent=True)
    repos.tenants.put(replace(tenant, quiet_hours_start=hour, quiet_hours_end=(hour + 1) % 24))


def event_payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def apigw_event(
    tenant_id: str, body: str | bytes, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event for POST /telegram/{tenant_id}."""
    raw = body if isinstance(body, bytes) else body.encode()
    return proxy_event(
        "/telegram/{tenant_id}",
        "POST",
        f"/telegram/{tenant_id}",
        (headers or {}).items(),
        raw,
        params={"tenant_id": tenant_id},
        source_ip="149.154.167.220",  # one of Telegram's webhook senders
    )


def link_event(
    token: str, method: str = "GET", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway REST proxy event for GET (or HEAD) /c/{token}, as a phone's browser sends."""
    browser = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"}
    return proxy_event(
        "/c/{token}",
        method,
        f"/c/{token}",
        {**browser, **(headers or {})}.items(),
        b"",
        params={"token": token},
        source_ip="203.0.113.7",
    )


class Updates:
    """Builds Telegram updates for one private chat, with increasing update ids."""

    _next_id = 500_000_000

    def __init__(self, chat_id: int, first_name: str = "Sara", language_code: str | None = "en"):
        self.chat_id = chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": first_name}
        if language_code:
            self.user["language_code"] = language_code

    @classmethod
    def new_id(cls) -> int:
        cls._next_id += 1
        return cls._next_id

    def _message(self, **fields: Any) -> dict[str, Any]:
        message = {
            "message_id": self.new_id() % 100_000,
            "from": self.user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.user["first_name"]},
            "date": int(time.time()),
            **fields,
        }
        return {"update_id": self.new_id(), "message": message}

    def text(self, text: str) -> dict[str, Any]:
        return self._message(text=text)

    def voice(self, file: dict[str, Any], duration: int = 4) -> dict[str, Any]:
        """A voice note: `file` is the File the fake Bot API keeps (FakeTelegram.put_file)."""
        return self._message(voice={**file, "duration": duration, "mime_type": "audio/ogg"})

    def contact(self, phone: str, user_id: int | None = None) -> dict[str, Any]:
        owner = self.chat_id if user_id is None else user_id
        contact = {"phone_number": phone, "first_name": "Sara", "user_id": owner}
        return self._message(contact=contact)

    def qualification(self, phone: str = "+971 50 123 4567") -> list[dict[str, Any]]:
        """A whole journey, from /start to a phone number: a qualified lead."""
        return [
            self.text("/start"),
            self.press("goal:buy"),
            self.text("2.5M AED"),
            self.press("property_type:apartment"),
            self.text("Dubai Marina"),
            self.press("timeline:3m"),
            self.press("bedrooms:2"),
            self.press("payment:cash"),
            self.contact(phone),
        ]

    def press(self, data: str) -> dict[str, Any]:
        return {
            "update_id": self.new_id(),
            "callback_query": {
                "id": str(self.new_id()),
                "from": self.user,
                "message": {
                    "message_id": 1,
                    "chat": {"id": self.chat_id, "type": "private"},
                    "date": int(time.time()),
                    "text": "…",
                },
                "chat_instance": "1",
                "data": data,
            },
        }

    def blocked(self) -> dict[str, Any]:
        bot = {"id": 1, "is_bot": True, "first_name": "LeadBot"}
        return {
            "update_id": self.new_id(),
            "my_chat_member": {
                "chat": {"id": self.chat_id, "type": "private"},
                "from": self.user,
                "date": int(time.time()),
                "old_chat_member": {"user": bot, "status": "member"},
                "new_chat_member": {"user": bot, "status": "kicked", "until_date": 0},
            },
        }


@dataclass
class InProcessStack:
    """The webhook function called in-process with real-shaped events; Telegram faked over httpx."""

    fake: FakeTelegram
    tenant_id: str = "demo"

    @property
    def repos(self) -> Repositories:
        return runtime.repositories()

    def handler(self, path: str = "/telegram/{tenant_id}") -> Any:
        route = next(r for r in api_routes(load_template()) if r.path == path)
        with _LOADING:
            return load_handler(REPO, route)

    def post(
        self, update: dict[str, Any] | str | bytes, secret: str | None = DEMO_TELEGRAM_SECRET
    ) -> dict[str, Any]:
        body = update if isinstance(update, str | bytes) else json.dumps(update)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        response: dict[str, Any] = self.handler()(
            apigw_event(self.tenant_id, body, headers), lambda_context("WebhookTelegramFunction")
        )
        return response

    def open_link(
        self, url_or_token: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """The API function's answer to a lead opening a catalog link (its URL or its token)."""
        token = url_or_token.rsplit("/c/", 1)[-1]
        response: dict[str, Any] = self.handler("/c/{token}")(
            link_event(token, method, headers), lambda_context("ApiFunction")
        )
        return response

    def qualify(self, lead: Updates) -> None:
        for update in lead.qualification():
            assert self.post(update)["statusCode"] == 200

    def sent(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """The messages the bot sent: texts and photos (a listing's card with its picture)."""
        calls = [c for c in self.fake.outbox() if c["method"] in ("sendMessage", "sendPhoto")]
        if chat_id is None:
            return calls
        return [c for c in calls if str(c["payload"]["chat_id"]) == str(chat_id)]

    def last_text(self, chat_id: int | str) -> str:
        return text_of(self.sent(chat_id)[-1])


def text_of(call: dict[str, Any]) -> str:
    """What a lead reads of a sent message: its text, or a photo's caption."""
    payload = call["payload"]
    text: str = payload["text"] if call["method"] == "sendMessage" else payload.get("caption", "")
    return text


def fake_transport(fake: FakeTelegram) -> httpx.MockTransport:
    """The fake Bot API behind httpx: requests and responses in Telegram's JSON wire format."""

    def handle(request: httpx.Request) -> httpx.Response:
        if "/file/bot" in request.url.path:  # a file download: /file/bot<token>/<file_path>
            _, _, rest = request.url.path.partition("/file/bot")
            token, _, file_path = rest.partition("/")
            status, content_type, data = fake.download(token, file_path)
            return httpx.Response(status, content=data, headers={"Content-Type": content_type})
        _, _, rest = request.url.path.partition("/bot")
        token, _, method = rest.partition("/")
        payload = json.loads(request.content or b"{}")
        status, body = fake.handle(token, method, payload)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def use_fake_telegram(fake: FakeTelegram) -> Iterator[None]:
    """Point the bot's HTTP client at the fake (in-process) for the duration of a test."""
    original = telegram.http_client
    client = httpx.Client(transport=fake_transport(fake))
    telegram.http_client = lambda: client  # type: ignore[assignment]
    telegram.reset()
    try:
        yield
    finally:
        telegram.http_client = original  # type: ignore[assignment]
        telegram.reset()


class LeadsStream:
    """Leads table changes as Lambda's DynamoDB stream records, for calling score_update
    in-process: `changed()` gives a record for every lead whose item changed since last asked."""

    key = "lead_id"

    def __init__(self, tenant_id: str = "demo") -> None:
        import boto3

        from leadbot.config import settings

        s = settings()
        self._client = boto3.client(
            "dynamodb", region_name=s.region, endpoint_url=s.dynamodb_endpoint
        )
        self._table = self._table_name(s)
        self._tenant_id = tenant_id
        self._images: dict[str, dict[str, Any]] = {}
        self._sequence = 100

    @staticmethod
    def _table_name(s: Any) -> str:
        name: str = s.leads_table
        return name

    def item(self, lead_id: str) -> dict[str, Any]:
        """The lead's item as stored now, in DynamoDB JSON."""
        key = {"tenant_id": {"S": self._tenant_id}, self.key: {"S": lead_id}}
        found: dict[str, Any] = self._client.get_item(
            TableName=self._table, Key=key, ConsistentRead=True
        )["Item"]
        return found

    def changed(self) -> list[dict[str, Any]]:
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": {"S": self._tenant_id}},
            ConsistentRead=True,
        )["Items"]
        records = []
        for item in items:
            lead_id = item[self.key]["S"]
            old = self._images.get(lead_id)
            if old != item:
                records.append(self.record(old, item))
                self._images[lead_id] = item
        return records

    def score_changes(self) -> None:
        """Feed every change to score_update until nothing changes (scores write their own)."""
        for _ in range(3):
            records = self.changed()
            if records:
                score_update_handler()({"Records": records}, lambda_context("ScoreUpdateFunction"))

    def record(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
        """One stream record (NEW_AND_OLD_IMAGES) in Lambda's event format."""
        self._sequence += 1
        image = new if new is not None else old
        assert image is not None
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": time.time(),
            "Keys": {"tenant_id": image["tenant_id"], self.key: image[self.key]},
            "SequenceNumber": str(self._sequence),
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            change["NewImage"] = new
        if old is not None:
            change["OldImage"] = old
        name = "INSERT" if old is None else "MODIFY" if new is not None else "REMOVE"
        return {
            "eventID": f"e{self._sequence}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": change,
            "eventSourceARN": f"arn:aws:dynamodb:us-east-1:000000000000:table/{self._table}"
            "/stream/2026-11-21T00:00:00.000",
        }


class DealsStream(LeadsStream):
    """The Deals table's changes as its stream's records (NEW_AND_OLD_IMAGES)."""

    key = "deal_id"

    @staticmethod
    def _table_name(s: Any) -> str:
        name: str = s.deals_table
        return name


def score_update_handler() -> Any:
    from local.template import load_template

    template = load_template()
    code_uri = template["Resources"]["ScoreUpdateFunction"]["Properties"]["CodeUri"]
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_update_app", REPO / code_uri / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


AGENT = {
    "sub": "u-agent",
    "email": "agent@demo.example",
    "custom:tenant_id": "demo",
    "custom:role": "agent",
}
ADMIN = {
    "sub": "u-admin",
    "email": "admin@demo.example",
    "custom:tenant_id": "demo",
    "custom:role": "admin",
}
OTHER_TENANT_AGENT = {
    "sub": "u-demo2",
    "email": "agent@demo2.example",
    "custom:tenant_id": "demo2",
    "custom:role": "agent",
}


def api_call(
    method: str,
    path: str,
    claims: dict[str, str] | None,
    body: Any = None,
    query: str = "",
) -> tuple[int, Any]:
    """Call the API function in-process as API Gateway would after its Cognito authorizer:
    the route matched from template.yaml, the verified claims in the request context."""
    response = api_response(method, path, claims, body, query)
    text = response.get("body") or ""
    is_json = "json" in str(response.get("headers", {}).get("Content-Type", "")) or text[:1] in "{["
    return response["statusCode"], json.loads(text) if is_json and text else text


def api_response(
    method: str,
    path: str,
    claims: dict[str, str] | None,
    body: Any = None,
    query: str = "",
) -> dict[str, Any]:
    """As api_call, but the function's whole proxy response (headers, isBase64Encoded)."""
    from local.gateway import match_path

    # The most literal template wins (/api/leads/export over /api/leads/{lead_id}), as in AWS.
    matches = sorted(
        (
            (route, params)
            for route in api_routes(load_template())
            if route.method == method and (params := match_path(route.path, path)) is not None
        ),
        key=lambda found: len(found[1]),
    )
    if not matches:
        raise AssertionError(f"no route {method} {path} in template.yaml")
    route, params = matches[0]
    raw = b"" if body is None else json.dumps(body).encode()
    event = proxy_event(
        route.path,
        method,
        path,
        [("Content-Type", "application/json")],
        raw,
        params=params,
        query=query,
    )
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": dict(claims)}
    response: dict[str, Any] = load_handler(REPO, route)(event, lambda_context(route.function_id))
    return response


@contextmanager
def dynamodb_requests() -> Iterator[Counter[str]]:
    """Every DynamoDB request made meanwhile, by operation."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return original(self, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", counting)
        yield calls


def strings(value: Any) -> Iterator[str]:
    """Every string in a DynamoDB JSON item: keys, values, sets, lists and maps, all the way."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)


def every_string() -> dict[str, list[str]]:
    """Table → every string of every item, for each table template.yaml declares."""
    from leadbot.config import settings
    from local.template import local_table_names

    prefix = settings().leads_table.rsplit("-", 1)[0]
    import boto3

    client = boto3.client(
        "dynamodb", region_name="us-east-1", endpoint_url=settings().dynamodb_endpoint
    )
    found: dict[str, list[str]] = {}
    for logical_id, name in local_table_names(prefix, load_template()).items():
        items = []
        for page in client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items += page["Items"]
        found[logical_id] = [s for item in items for s in strings(item)]
    return found
