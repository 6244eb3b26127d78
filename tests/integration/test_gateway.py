"""The local API gateway over real HTTP, with throwaway handlers written into tmp_path."""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.fake_telegram import FakeTelegram
from local.gateway import MAX_BODY_BYTES, LocalGateway, LocalRequest, LocalResponse, match_path
from local.template import Route
from tests import web

TOKEN = "123456789:AAE-secret-part"

HANDLER_SOURCE = '''
"""Throwaway handlers for the gateway tests."""
import base64
import json
import os

import httpx

import helper  # a module beside app.py, importable as in Lambda

LOADS = helper.count_load()


def echo(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "event": event,
            "context": {
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "invoked_function_arn": context.invoked_function_arn,
                "aws_request_id": context.aws_request_id,
                "remaining": context.get_remaining_time_in_millis(),
            },
            "loads": LOADS,
        }),
    }


def custom(event, context):
    return {
        "statusCode": 201,
        "headers": {"X-One": "1", "X-Both": "single", "Content-Type": "text/plain"},
        "multiValueHeaders": {"X-Both": ["a", "b"], "Set-Cookie": ["c1=1", "c2=2"]},
        "body": "created",
        "isBase64Encoded": False,
    }


def binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/octet-stream"},
        "body": base64.b64encode(bytes(range(256))).decode(),
        "isBase64Encoded": True,
    }


def crash(event, context):
    raise RuntimeError("boom")


def malformed(event, context):
    return "not a proxy response"


def bot(event, context):
    # Calls back into the same server, as the real webhook does through its Telegram client.
    base = os.environ["TEST_TELEGRAM_API_BASE"]
    answer = httpx.post(
        f"{base}/bot{event['pathParameters']['tenant_id']}:tok/sendMessage",
        json={"chat_id": 5, "text": "hello from the handler"},
    )
    return {"statusCode": 200, "body": answer.text}
'''

HELPER_SOURCE = '''
"""Counts how often app.py is imported."""
_loads = 0


def count_load():
    global _loads
    _loads += 1
    return _loads
'''


def _routes() -> list[Route]:
    def route(method: str, path: str, fn: str) -> Route:
        return Route(method, path, fn.capitalize() + "Function", "fn/", f"app.{fn}")

    return [
        route("POST", "/telegram/{tenant_id}", "echo"),
        route("GET", "/items/{item_id}/parts/{part}", "echo"),
        route("GET", "/files/{proxy+}", "echo"),
        route("GET", "/custom", "custom"),
        route("GET", "/binary", "binary"),
        route("POST", "/crash", "crash"),
        route("GET", "/malformed", "malformed"),
        route("POST", "/bot/{tenant_id}", "bot"),
    ]


@pytest.fixture(scope="module")
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake: FakeTelegram) -> Iterator[LocalGateway]:
    root = tmp_path_factory.mktemp("repo")
    (root / "fn").mkdir()
    (root / "fn" / "app.py").write_text(textwrap.dedent(HANDLER_SOURCE), encoding="utf-8")
    (root / "fn" / "helper.py").write_text(textwrap.dedent(HELPER_SOURCE), encoding="utf-8")
    extra = {"tokens": lambda: {"t1": "secret"}}
    with (
        LocalGateway(_routes(), root, fake, extra, port=0) as gw,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setenv("TEST_TELEGRAM_API_BASE", gw.telegram_api_base)
        yield gw


@pytest.fixture
def client(gateway: LocalGateway, fake: FakeTelegram) -> Iterator[httpx.Client]:
    fake.clear()
    with httpx.Client(base_url=gateway.url, timeout=10) as c:
        yield c


def _echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_match_path() -> None:
    assert match_path("/telegram/{tenant_id}", "/telegram/t1") == {"tenant_id": "t1"}
    assert match_path("/telegram/{tenant_id}", "/telegram/a%20b") == {"tenant_id": "a b"}
    assert match_path("/telegram/{tenant_id}", "/telegram/t1/x") is None
    assert match_path("/telegram/{tenant_id}", "/telegram/") is None
    assert match_path("/telegram/{tenant_id}", "/telegram") is None
    assert match_path("/files/{proxy+}", "/files/a/b.txt") == {"proxy": "a/b.txt"}
    assert match_path("/custom", "/custom") == {}


def test_event_shape(client: httpx.Client, gateway: LocalGateway) -> None:
    response = client.post(
        "/telegram/t-1?a=1&b=2&b=3",
        content=b'{"update_id": 1}',
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": "s3cret",
            "User-Agent": "pytest-agent",
        },
    )
    data = _echo(response)
    event = data["event"]
    assert event["resource"] == "/telegram/{tenant_id}"
    assert event["path"] == "/telegram/t-1"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"tenant_id": "t-1"}
    assert event["headers"]["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
    assert event["multiValueHeaders"]["X-Telegram-Bot-Api-Secret-Token"] == ["s3cret"]
    assert event["queryStringParameters"] == {"a": "1", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1"], "b": ["2", "3"]}
    assert event["stageVariables"] is None
    assert event["body"] == '{"update_id": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["accountId"] == "000000000000"
    assert ctx["apiId"] == "local"
    assert ctx["stage"] == "local"
    assert ctx["resourcePath"] == "/telegram/{tenant_id}"
    assert ctx["httpMethod"] == "POST"
    assert ctx["path"] == "/telegram/t-1"
    assert len(ctx["requestId"]) == 36
    assert isinstance(ctx["requestTimeEpoch"], int)
    assert ctx["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "pytest-agent"}
    lambda_ctx = data["context"]
    assert lambda_ctx["function_name"] == "EchoFunction"
    assert lambda_ctx["aws_request_id"] == ctx["requestId"]
    assert lambda_ctx["invoked_function_arn"].endswith(":function:EchoFunction")
    assert lambda_ctx["memory_limit_in_mb"] == 128
    assert 0 < lambda_ctx["remaining"] <= 30_000


def test_empty_query_and_body_are_none(client: httpx.Client) -> None:
    event = _echo(client.get("/items/i1/parts/p2"))["event"]
    assert event["pathParameters"] == {"item_id": "i1", "part": "p2"}
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_greedy_path_parameter(client: httpx.Client) -> None:
    event = _echo(client.get("/files/a/b/c.txt"))["event"]
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_binary_body_is_base64(client: httpx.Client) -> None:
    raw = bytes(range(256))
    event = _echo(client.post("/telegram/t1", content=raw))["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_utf8_body_stays_text(client: httpx.Client) -> None:
    text = '{"text": "سلام"}'
    event = _echo(client.post("/telegram/t1", content=text.encode()))["event"]
    assert event["isBase64Encoded"] is False
    assert event["body"] == text


def test_module_is_loaded_once(client: httpx.Client) -> None:
    loads = {_echo(client.post("/telegram/t1"))["loads"] for _ in range(3)}
    loads.add(_echo(client.get("/items/a/parts/b"))["loads"])
    assert loads == {1}


def test_response_mapping(client: httpx.Client) -> None:
    response = client.get("/custom")
    assert response.status_code == 201
    assert response.text == "created"
    assert response.headers["X-One"] == "1"
    assert response.headers.get_list("X-Both") == ["a", "b"]
    assert response.headers.get_list("Set-Cookie") == ["c1=1", "c2=2"]
    assert response.headers["Content-Type"] == "text/plain"


def test_base64_response_is_decoded(client: httpx.Client) -> None:
    response = client.get("/binary")
    assert response.status_code == 200
    assert response.content == bytes(range(256))


def test_unknown_path_is_404_and_wrong_method_403(client: httpx.Client) -> None:
    for response, status in ((client.get("/nowhere"), 404), (client.get("/telegram/t1"), 403)):
        assert response.status_code == status
        assert response.json() == {"message": "Missing Authentication Token"}
    assert client.post("/telegram/t1/extra").status_code == 404


def test_handler_exception_is_502(client: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    response = client.post("/crash", json={})
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err
    assert "Traceback" in err


def test_malformed_proxy_response_is_502(client: httpx.Client) -> None:
    response = client.get("/malformed")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_body_over_the_cap_is_413(client: httpx.Client) -> None:
    response = client.post("/telegram/t1", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    # The oversized request did not reach the handler, and the server still answers.
    assert _echo(client.post("/telegram/t1", content=b"ok"))["event"]["body"] == "ok"


def test_health(client: httpx.Client) -> None:
    response = client.get("/_local/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "POST /telegram/{tenant_id}" in body["routes"]
    assert len(body["routes"]) == len(_routes())


def test_extra_endpoint(client: httpx.Client) -> None:
    assert client.get("/_local/tokens").json() == {"t1": "secret"}
    assert client.get("/_local/nothing").status_code == 404


def test_extra_cannot_shadow_builtins(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="health"):
        LocalGateway([], tmp_path, FakeTelegram(), {"health": dict})


def test_bot_api_json_and_outbox(client: httpx.Client) -> None:
    markup = {"inline_keyboard": [[{"text": "Buy", "callback_data": "buy"}]]}
    response = client.post(
        f"/_local/telegram/bot{TOKEN}/sendMessage",
        json={"chat_id": 42, "text": "hello", "reply_markup": markup},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["result"]["chat"]["id"] == 42
    assert body["result"]["reply_markup"] == markup
    outbox = client.get("/_local/outbox").json()
    assert len(outbox) == 1
    assert outbox[0]["method"] == "sendMessage"
    assert outbox[0]["token"] == "123456…"
    assert outbox[0]["payload"]["text"] == "hello"
    assert client.delete("/_local/outbox").status_code == 204
    assert client.get("/_local/outbox").json() == []


def test_bot_api_form_and_get(client: httpx.Client) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    response = client.post(
        f"/_local/telegram/bot{TOKEN}/sendMessage",
        data={"chat_id": "77", "text": "form hello", "reply_markup": markup},
    )
    assert response.status_code == 200
    assert response.json()["result"]["text"] == "form hello"
    assert response.json()["result"]["chat"]["id"] == 77
    response = client.get(f"/_local/telegram/bot{TOKEN}/getMe")
    assert response.json()["result"]["is_bot"] is True
    response = client.get(f"/_local/telegram/bot{TOKEN}/sendMessage?chat_id=1&text=q")
    assert response.json()["result"]["text"] == "q"
    payloads = [c["payload"] for c in client.get("/_local/outbox").json()]
    assert payloads[0]["chat_id"] == "77"


def test_bot_api_multipart(client: httpx.Client) -> None:
    response = client.post(
        f"/_local/telegram/bot{TOKEN}/sendMessage",
        data={"chat_id": "8", "text": "multi"},
        files={"document": ("a.txt", b"abc", "text/plain")},
    )
    assert response.status_code == 200
    assert response.json()["result"]["text"] == "multi"


def test_bot_api_errors_over_http(client: httpx.Client) -> None:
    response = client.post(f"/_local/telegram/bot{TOKEN}/sendMessage", json={"chat_id": 1})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    response = client.post(f"/_local/telegram/bot{TOKEN}/noSuchMethod", json={})
    assert response.status_code == 404
    assert response.json()["description"] == "Not Found: method not found"
    bad_json = client.post(
        f"/_local/telegram/bot{TOKEN}/sendMessage",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400


def test_faults_over_http(client: httpx.Client) -> None:
    fault = {"chat_id": "42", "error_code": 429, "description": None, "retry_after": 7}
    assert client.post("/_local/telegram/faults", json=fault).status_code == 204
    url = f"/_local/telegram/bot{TOKEN}/sendMessage"
    response = client.post(url, json={"chat_id": 42, "text": "x"})
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert client.post(url, json={"chat_id": 42, "text": "x"}).status_code == 200

    blocked = {
        "chat_id": None,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
        "times": 2,
    }
    assert client.post("/_local/telegram/faults", json=blocked).status_code == 204
    statuses = [client.post(url, json={"chat_id": c, "text": "x"}).status_code for c in (1, 2, 3)]
    assert statuses == [403, 403, 200]

    assert client.post("/_local/telegram/faults", json={"error_code": "x"}).status_code == 400
    assert client.post("/_local/telegram/faults", content=b"nope").status_code == 400


def test_handler_calls_back_into_the_gateway(client: httpx.Client) -> None:
    response = client.post("/bot/999")
    assert response.status_code == 200
    assert response.json()["result"]["text"] == "hello from the handler"
    outbox = client.get("/_local/outbox").json()
    assert outbox[-1]["token"] == "999:to…"
    assert outbox[-1]["chat_id"] == "5"


def test_port_zero_picks_a_free_port(tmp_path: Path) -> None:
    gw = LocalGateway([], tmp_path, FakeTelegram(), port=0)
    try:
        gw.start()
        assert gw.port > 0
        assert gw.url == f"http://127.0.0.1:{gw.port}"
        assert web.get(f"{gw.url}/_local/health").json() == {"status": "ok", "routes": []}
    finally:
        gw.stop()
    gw.stop()  # idempotent


def test_chunked_request_body(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"update_id": '
        yield b"2}"

    event = _echo(client.post("/telegram/t1", content=chunks()))["event"]
    assert event["body"] == '{"update_id": 2}'


def test_verbose_logs_one_line_per_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with LocalGateway([], tmp_path, FakeTelegram(), verbose=True) as gw:
        web.get(f"{gw.url}/_local/health")
        web.get(f"{gw.url}/nowhere")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[gateway]")]
    assert lines[0].startswith("[gateway] GET /_local/health -> 200")
    assert lines[1].startswith("[gateway] GET /nowhere -> 404")


def test_an_endpoint_may_take_bodies_over_the_cap_and_only_it(tmp_path: Path) -> None:
    """Uploads go to S3 in AWS, not through API Gateway: its 10 MB cap is not theirs."""
    received: list[int] = []

    def upload(request: LocalRequest) -> LocalResponse:
        received.append(len(request.body))
        return LocalResponse(200, {"type": request.headers.get("content-type")})

    big = b"x" * (MAX_BODY_BYTES + 1)
    endpoints = {"uploads": upload, "other": upload}
    limits = {"uploads": MAX_BODY_BYTES + 10}
    with (
        LocalGateway(
            _routes()[:1], tmp_path, FakeTelegram(), endpoints=endpoints, body_limits=limits
        ) as gw,
        httpx.Client(base_url=gw.url, timeout=30) as client,
    ):
        answer = client.put(
            "/_local/uploads/t", content=big, headers={"Content-Type": "application/pdf"}
        )
        assert (answer.status_code, answer.json()) == (200, {"type": "application/pdf"})
        assert client.put("/_local/uploads/t", content=big + b"x" * 10).status_code == 413
        assert client.put("/_local/other/t", content=big).status_code == 413
        assert client.post("/telegram/t1", content=big).status_code == 413
    assert received == [MAX_BODY_BYTES + 1]
    with pytest.raises(ValueError, match="nothing"):
        LocalGateway([], tmp_path, FakeTelegram(), body_limits={"nothing": 1})
