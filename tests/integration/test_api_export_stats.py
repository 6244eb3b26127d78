"""/api/leads/export and /api/stats through the API function in-process, on moto and DDB Local."""

from __future__ import annotations

import base64
import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from leadbot.services import runtime
from leadbot.services.exports import HEADERS
from leadbot.store.exports import LINK_SECONDS
from local.exports import exports_endpoint
from local.gateway import LocalRequest, lambda_context
from tests.support import (
    AGENT,
    OTHER_TENANT_AGENT,
    InProcessStack,
    LeadsStream,
    Updates,
    api_call,
    api_response,
    score_update_handler,
)

HOT, WARM, COLD, PERSIAN, SNEAKY = 710_200_001, 710_200_002, 710_200_003, 710_200_004, 710_200_005
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INJECTION = '=HYPERLINK("http://evil.example","x")'


def _score_everything(stream: LeadsStream) -> None:
    for _ in range(3):
        records = stream.changed()
        if records:
            score_update_handler()({"Records": records}, lambda_context("ScoreUpdateFunction"))


@pytest.fixture
def board(stack: InProcessStack) -> InProcessStack:
    """Hana qualified (hot, a phone), Wale from the expo (warm), three cold: Cem, سارا, and a
    lead whose name is a spreadsheet formula."""
    stream = LeadsStream()
    for update in Updates(HOT, first_name="Hana").qualification(phone="+971 50 555 0101"):
        stack.post(update)
    wale = Updates(WARM, first_name="Wale")
    for update in (wale.text("/start qr_expo"), wale.press("goal:rent"), wale.text("90k AED")):
        stack.post(update)
    for chat, name in ((COLD, "Cem"), (PERSIAN, "سارا"), (SNEAKY, INJECTION)):
        stack.post(Updates(chat, first_name=name).text("/start"))
    _score_everything(stream)
    return stack


def _headers(response: dict[str, Any]) -> dict[str, str]:
    multi = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    return {**(response.get("headers") or {}), **multi}


def _csv(query: str = "", claims: dict[str, str] = AGENT) -> tuple[dict[str, str], list[list[str]]]:
    response = api_response("GET", "/api/leads/export", claims, query=query)
    assert response["statusCode"] == 200, response.get("body")
    assert not response.get("isBase64Encoded")
    body: str = response["body"]
    assert body.startswith("\ufeff")
    return _headers(response), list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def test_csv_export_has_every_lead_hottest_first(board: InProcessStack) -> None:
    headers, rows = _csv("format=csv")
    today = datetime.now(UTC).date().isoformat()
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == f'attachment; filename="leads-demo-{today}.csv"'
    assert rows[0] == list(HEADERS)
    by_name = {r[1]: dict(zip(HEADERS, r, strict=True)) for r in rows[1:]}
    assert [r[1] for r in rows[1:3]] == ["Hana", "Wale"]
    assert set(by_name) == {"Hana", "Wale", "Cem", "سارا", "'" + INJECTION}
    scores = [int(r[HEADERS.index("Score")]) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    hana = by_name["Hana"]
    assert hana["Phone"] == "'+971505550101"  # a leading + would be a formula too
    assert (hana["Budget amount"], hana["Budget currency"]) == ("2500000", "AED")
    assert (hana["Temperature"], hana["Grade"], hana["Status"]) == ("hot", "B", "qualified")
    assert hana["Messages"] == "9" and hana["Created at (UTC)"].endswith("Z")
    assert by_name["Wale"]["Source"] == "expo"


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("temperature=warm", ["Wale"]),
        ("status=qualified", ["Hana"]),
        ("q=han", ["Hana"]),
        ("q=%D8%B3%D8%A7%D8%B1%D8%A7", ["سارا"]),
        ("created_to=2000-01-01T00:00:00Z", []),
    ],
)
def test_export_applies_the_board_filters(
    board: InProcessStack, query: str, names: list[str]
) -> None:
    _, rows = _csv(query)
    assert [r[1] for r in rows[1:]] == names


def test_xlsx_export_has_the_same_rows(board: InProcessStack) -> None:
    from openpyxl import load_workbook

    response = api_response("GET", "/api/leads/export", AGENT, query="format=xlsx")
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert _headers(response)["Content-Type"] == XLSX
    assert _headers(response)["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(base64.b64decode(response["body"]))).active
    assert sheet is not None
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    _, text_rows = _csv()
    assert rows[0] == list(HEADERS)
    assert [r[0] for r in rows[1:]] == [r[0] for r in text_rows[1:]]  # same leads, same order
    sneaky = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == INJECTION)
    assert sneaky[1].data_type == "s"  # text, never a formula
    hana = next(r for r in rows if r[1] == "Hana")
    assert hana[3] == "+971505550101" and hana[HEADERS.index("Score")] == 69


def test_a_bad_format_is_400_and_no_claims_401(board: InProcessStack) -> None:
    assert api_call("GET", "/api/leads/export", AGENT, query="format=pdf")[0] == 400
    for path in ("/api/leads/export", "/api/stats"):
        status, body = api_call("GET", path, None)
        assert (status, body["message"]) == (401, "no verified tenant and role")


def test_another_agency_exports_and_counts_none_of_these_leads(board: InProcessStack) -> None:
    _, rows = _csv(claims=OTHER_TENANT_AGENT)
    assert rows == [list(HEADERS)]
    status, stats = api_call("GET", "/api/stats", OTHER_TENANT_AGENT)
    assert status == 200 and stats["funnel"]["conversations"] == 0


def test_stats_of_a_small_board(board: InProcessStack) -> None:
    status, stats = api_call("GET", "/api/stats", AGENT)
    assert status == 200, stats
    assert stats["funnel"] == {
        "conversations": 5,
        "qualified": 1,
        "broker_requested": 0,
        "viewing_scheduled": 0,
        "won": 0,
    }
    assert stats["temperatures"] == {"burning": 0, "hot": 1, "warm": 1, "cold": 3}
    assert stats["sources"] == {"direct": 4, "expo": 1}
    assert stats["speed_to_lead"] == {
        "with_phone": 1,
        "handled": 0,
        "no_action_yet": 1,
        "median_minutes": None,
        "within_5_minutes": None,
    }
    assert stats["followups"] == {}

    _, page = api_call("GET", "/api/leads", AGENT, query="q=hana")
    hana = page["items"][0]["lead_id"]
    assert api_call("PATCH", f"/api/leads/{hana}", AGENT, body={"status": "contacted"})[0] == 200
    _, stats = api_call("GET", "/api/stats", AGENT)
    speed = stats["speed_to_lead"]
    assert (speed["handled"], speed["no_action_yet"], speed["within_5_minutes"]) == (1, 0, 1.0)
    assert 0 <= speed["median_minutes"] < 5
    assert stats["funnel"]["broker_requested"] == 1  # contacted is past broker_requested

    _, later = api_call("GET", "/api/stats", AGENT, query="from=2999-01-01T00:00:00Z")
    assert later["funnel"]["conversations"] == 0


def _force_link(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    monkeypatch.setenv("EXPORT_INLINE_MAX_BYTES", "100")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()


def test_a_big_export_without_storage_is_413(
    board: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    _force_link(monkeypatch)
    status, body = api_call("GET", "/api/leads/export", AGENT)
    assert status == 413 and "too large" in body["message"]


def test_a_big_export_goes_to_s3_behind_a_presigned_link(
    board: InProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("DYNAMODB_ENDPOINT"):
        pytest.skip("S3 is moto's; DynamoDB Local has no S3 beside it")
    _, inline = _csv()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="leadbot-exports-test")
    _force_link(monkeypatch, EXPORTS_BUCKET="leadbot-exports-test")
    status, link = api_call("GET", "/api/leads/export", AGENT, query="format=csv")
    assert status == 200, link
    assert (link["rows"], link["expires_in"]) == (5, LINK_SECONDS)
    url = urlsplit(link["download_url"])
    assert parse_qs(url.query)["X-Amz-Expires"] == [str(LINK_SECONDS)]
    key = url.path.split("/leadbot-exports-test/", 1)[-1].lstrip("/")
    assert key.startswith("exports/demo/") and key.endswith(link["filename"])
    stored = s3.get_object(Bucket="leadbot-exports-test", Key=key)
    assert stored["ContentDisposition"] == f'attachment; filename="{link["filename"]}"'
    text = stored["Body"].read().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == inline


def test_a_big_export_on_the_local_stack_is_served_from_its_folder(
    board: InProcessStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    base = "http://127.0.0.1:8080/_local/exports"
    _force_link(monkeypatch, EXPORTS_DIR=str(folder), EXPORTS_URL_BASE=base)
    status, link = api_call("GET", "/api/leads/export", AGENT, query="format=xlsx")
    assert status == 200, link
    assert link["download_url"].startswith(base + "/")
    rest = link["download_url"].removeprefix("http://127.0.0.1:8080/_local/exports")
    served = exports_endpoint(folder)(LocalRequest("GET", rest, {}, b""))
    assert served.status == 200 and served.content_type == XLSX
    assert served.raw is not None and served.raw.startswith(b"PK")
    assert exports_endpoint(folder)(LocalRequest("GET", "/nope/x.xlsx", {}, b"")).status == 404
