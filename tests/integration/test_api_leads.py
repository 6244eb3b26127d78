"""/api/leads through the API function in-process, with claims as API Gateway passes them."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from leadbot.api import openapi_json
from leadbot.domain import Channel
from local.gateway import lambda_context
from tests.support import (
    ADMIN,
    AGENT,
    OTHER_TENANT_AGENT,
    REPO,
    InProcessStack,
    LeadsStream,
    Updates,
    api_call,
)

HOT, WARM, COLD = 710_100_001, 710_100_002, 710_100_003


def _lead_id(stack: InProcessStack, chat: int) -> str:
    key = stack.repos.identities.key("demo", Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


@pytest.fixture
def board(stack: InProcessStack) -> InProcessStack:
    """Three leads: Hana qualified (hot), Wale answered two questions (warm), Cem said hi (cold)."""
    stream = LeadsStream()
    hana = Updates(HOT, first_name="Hana")
    for update in hana.qualification(phone="+971 50 555 0101"):
        stack.post(update)
    wale = Updates(WARM, first_name="Wale")
    for update in (wale.text("/start qr_expo"), wale.press("goal:rent"), wale.text("90k AED")):
        stack.post(update)
    stack.post(Updates(COLD, first_name="Cem").text("/start"))
    stream.score_changes()
    return stack


def test_without_verified_claims_every_route_is_401(board: InProcessStack) -> None:
    lead_id = _lead_id(board, HOT)
    for method, path in (
        ("GET", "/api/leads"),
        ("GET", f"/api/leads/{lead_id}"),
        ("PATCH", f"/api/leads/{lead_id}"),
        ("GET", f"/api/leads/{lead_id}/timeline"),
    ):
        status, body = api_call(
            method, path, None, body={"note": "x"} if method == "PATCH" else None
        )
        assert (status, body["message"]) == (401, "no verified tenant and role"), path
    for claims in ({"custom:tenant_id": "demo"}, {**AGENT, "custom:role": "owner"}):
        assert api_call("GET", "/api/leads", claims)[0] == 401


def test_the_board_lists_leads_hottest_first(board: InProcessStack) -> None:
    status, page = api_call("GET", "/api/leads", AGENT)
    assert status == 200
    names = [(i["name"], i["score"], i["temperature"]) for i in page["items"]]
    assert names == [("Hana", 69, "hot"), ("Wale", 41, "warm"), ("Cem", 21, "cold")]
    hana = page["items"][0]
    assert hana["phone"] == "+971505550101" and hana["grade"] == "B"
    assert hana["budget"] == {"amount": "2500000", "currency": "AED"}
    assert hana["engagement"] == {"qr_scans": 0, "catalog_views": 0, "messages": 9, "voice": 0}
    assert page["items"][1]["source"] == "expo"


def test_pages_follow_the_cursor_to_the_end(board: InProcessStack) -> None:
    seen, cursor = [], None
    for _ in range(5):
        status, page = api_call(
            "GET", "/api/leads", AGENT, query="limit=1" + (f"&cursor={cursor}" if cursor else "")
        )
        assert status == 200 and len(page["items"]) <= 1
        seen += [i["name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Hana", "Wale", "Cem"]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("temperature=warm", ["Wale"]),
        ("status=qualified", ["Hana"]),
        ("source=expo", ["Wale"]),
        ("language=en", ["Hana", "Wale", "Cem"]),
        ("q=han", ["Hana"]),  # any case, part of the name
        ("q=555%200101", ["Hana"]),  # digits of the phone, however typed
        ("q=nobody", []),
        ("created_from=2000-01-01T00:00:00Z&temperature=cold", ["Cem"]),
        ("created_to=2000-01-01T00:00:00Z", []),
    ],
)
def test_filters_and_search(board: InProcessStack, query: str, names: list[str]) -> None:
    status, page = api_call("GET", "/api/leads", AGENT, query=query)
    assert status == 200, page
    assert [i["name"] for i in page["items"]] == names


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "temperature=tepid",
        "status=maybe",
        "created_from=yesterday",
        "cursor=not-a-cursor",
        "cursor=" + "eyJ4IjogMX0",  # {"x": 1}: valid base64 JSON, not a key
    ],
)
def test_bad_queries_are_400_with_a_message(board: InProcessStack, query: str) -> None:
    status, body = api_call("GET", "/api/leads", AGENT, query=query)
    assert status == 400 and body["message"]


def test_another_tenants_cursor_and_leads_are_out_of_reach(board: InProcessStack) -> None:
    _, page = api_call("GET", "/api/leads", AGENT, query="limit=1")
    cursor = page["next_cursor"]
    status, body = api_call("GET", "/api/leads", OTHER_TENANT_AGENT, query=f"cursor={cursor}")
    assert (status, body["message"]) == (400, "cursor is not valid")
    status, theirs = api_call("GET", "/api/leads", OTHER_TENANT_AGENT)
    assert (status, theirs["items"]) == (200, [])

    lead_id = _lead_id(board, HOT)
    for method, path, body_ in (
        ("GET", f"/api/leads/{lead_id}", None),
        ("GET", f"/api/leads/{lead_id}/timeline", None),
        ("PATCH", f"/api/leads/{lead_id}", {"status": "lost", "lost_reason": "stolen"}),
    ):
        status, answer = api_call(method, path, OTHER_TENANT_AGENT, body=body_)
        assert (status, answer["message"]) == (404, "no such lead"), path
    assert api_call("GET", f"/api/leads/{lead_id}", AGENT)[1]["status"] == "qualified"


def test_one_lead_in_detail(board: InProcessStack) -> None:
    lead_id = _lead_id(board, HOT)
    status, lead = api_call("GET", f"/api/leads/{lead_id}", AGENT)
    assert status == 200
    assert (lead["name"], lead["score"], lead["status"]) == ("Hana", 69, "qualified")
    assert (lead["timeline"], lead["bedrooms"], lead["payment_method"]) == ("3m", "2", "cash")
    breakdown = lead["score_breakdown"]
    assert (breakdown["engagement"], breakdown["qualification"], breakdown["recency"]) == (
        9,
        40,
        20,
    )
    assert lead["phone_captured_at"] is not None and lead["opted_out"] is False


@pytest.mark.parametrize("lead_id", ["01BX5ZZKBKACTAV9WEVGEMMVRZ", "not-a-ulid"])
def test_unknown_or_malformed_ids(board: InProcessStack, lead_id: str) -> None:
    status, body = api_call("GET", f"/api/leads/{lead_id}", AGENT)
    assert status == (404 if lead_id.startswith("01") else 400), body


def test_the_timeline_newest_first_in_pages(board: InProcessStack) -> None:
    lead_id = _lead_id(board, WARM)
    status, page = api_call("GET", f"/api/leads/{lead_id}/timeline", AGENT, query="limit=2")
    assert status == 200 and len(page["items"]) == 2 and page["next_cursor"]
    everything: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        _, page = api_call("GET", f"/api/leads/{lead_id}/timeline", AGENT, query=query)
        everything += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    times = [datetime.fromisoformat(item["at"]) for item in everything]
    assert times == sorted(times, reverse=True)
    inbound = [i["text"] for i in everything if i["kind"] == "inbound"]
    assert inbound == ["90k AED", "", "/start qr_expo"]  # the button press has no text
    assert all(i["status"] == "sent" for i in everything if i["kind"] == "outbound")


def test_moving_a_lead_along_the_pipeline_and_noting_it(board: InProcessStack) -> None:
    lead_id = _lead_id(board, HOT)
    path = f"/api/leads/{lead_id}"
    status, lead = api_call(
        "PATCH", path, AGENT, body={"status": "contacted", "note": "Called, likes villas"}
    )
    assert (status, lead["status"]) == (200, "contacted")
    status, lead = api_call(
        "PATCH", path, ADMIN, body={"status": "lost", "lost_reason": "bought elsewhere"}
    )
    assert (status, lead["status"], lead["lost_reason"]) == (200, "lost", "bought elsewhere")
    _, page = api_call("GET", f"{path}/timeline", AGENT, query="limit=3")
    events = [(i["text"], i["detail"]) for i in page["items"] if i["kind"] == "event"]
    assert events[:3] == [
        (
            "status_changed",
            {
                "from": "contacted",
                "to": "lost",
                "by": "admin@demo.example",
                "lost_reason": "bought elsewhere",
            },
        ),
        ("note", {"by": "agent@demo.example", "note": "Called, likes villas"}),
        ("status_changed", {"from": "qualified", "to": "contacted", "by": "agent@demo.example"}),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "lost"}, "a lost lead needs a lost_reason"),
        ({"status": "won", "lost_reason": "x"}, "lost_reason goes with status lost"),
        ({}, "nothing to change: give a status, broker_id, a note or bot_paused"),
        ({"note": "   "}, "a note cannot be empty"),
        ({"status": "promoted"}, "the request is not valid"),
        ({"note": "x" * 4001}, "the request is not valid"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(
    board: InProcessStack, body: dict[str, Any], message: str
) -> None:
    lead_id = _lead_id(board, HOT)
    before = api_call("GET", f"/api/leads/{lead_id}", AGENT)[1]
    status, answer = api_call("PATCH", f"/api/leads/{lead_id}", AGENT, body=body)
    assert (status, answer["message"]) == (400, message)
    assert api_call("GET", f"/api/leads/{lead_id}", AGENT)[1] == before


def test_the_served_openapi_is_the_committed_one(board: InProcessStack) -> None:
    committed = (REPO / "openapi.json").read_text(encoding="utf-8")
    assert openapi_json() == committed, "openapi.json drifted: run `make openapi`"
    status, served = api_call("GET", "/api/openapi.json", AGENT)
    assert status == 200 and served == json.loads(committed)
    assert set(served["paths"]) >= {
        "/api/leads",
        "/api/leads/{lead_id}",
        "/api/leads/{lead_id}/timeline",
    }


def test_an_agent_takes_over_the_bot_stays_silent_until_handed_back(
    board: InProcessStack,
) -> None:
    lead_id = _lead_id(board, WARM)
    path = f"/api/leads/{lead_id}"
    status, sent = api_call("POST", f"{path}/messages", AGENT, body={"text": "Hi Wale, Sara here"})
    assert (status, sent["status"], sent["bot_paused"]) == (200, "sent", True)
    assert board.last_text(WARM) == "Hi Wale, Sara here"
    assert api_call("GET", path, AGENT)[1]["bot_paused"] is True

    replies = len(board.sent(WARM))
    wale = Updates(WARM, first_name="Wale")
    board.post(wale.text("Great, call me at 5"))
    assert len(board.sent(WARM)) == replies  # the bot said nothing
    assert api_call("GET", path, AGENT)[1]["engagement"]["messages"] == 4  # but it counted

    status, lead = api_call("PATCH", path, AGENT, body={"bot_paused": False})
    assert (status, lead["bot_paused"]) == (200, False)
    board.post(wale.press("property_type:villa"))
    assert len(board.sent(WARM)) == replies + 1  # the bot is back

    _, page = api_call("GET", f"{path}/timeline", AGENT, query="limit=10")
    kinds = [(i["kind"], i["text"], i["detail"].get("by")) for i in reversed(page["items"])]
    taken = kinds.index(("event", "bot_paused", "agent@demo.example"))
    assert kinds[taken + 1] == ("outbound", "Hi Wale, Sara here", "agent@demo.example")
    assert ("event", "bot_resumed", "agent@demo.example") in kinds[taken + 2 :]


def test_agent_messages_are_refused_when_they_cannot_go(board: InProcessStack) -> None:
    lead_id = _lead_id(board, COLD)
    path = f"/api/leads/{lead_id}/messages"
    assert api_call("POST", path, None, body={"text": "hi"})[0] == 401
    assert api_call("POST", path, OTHER_TENANT_AGENT, body={"text": "hi"})[0] == 404
    assert api_call("POST", path, AGENT, body={"text": ""})[0] == 400
    assert api_call("POST", path, AGENT, body={"text": "   "})[1]["message"] == (
        "a message cannot be empty"
    )
    board.post(Updates(COLD).text("/stop"))
    status, body = api_call("POST", path, AGENT, body={"text": "please reconsider"})
    assert (status, body["message"]) == (
        409,
        "the lead opted out: no messages until it writes again",
    )


def test_bodies_that_are_not_json_are_refused_before_anything_reads_them(
    board: InProcessStack,
) -> None:
    from leadbot.api import handle
    from local.gateway import proxy_event

    lead_id = _lead_id(board, HOT)
    path = f"/api/leads/{lead_id}"
    for content_type, body, expected in (
        ("multipart/form-data", b'{"note": "x"}', 415),
        ("application/json", b"\xdf\x0f\xa0,", 400),
        ("application/json", b'{"note": ', 400),
    ):
        event = proxy_event(
            "/api/leads/{lead_id}",
            "PATCH",
            path,
            [("Content-Type", content_type)],
            body,
            params={"lead_id": lead_id},
        )
        event["requestContext"]["authorizer"] = {"claims": dict(AGENT)}
        answer = handle(event, lambda_context("ApiFunction"))
        assert answer["statusCode"] == expected, (content_type, body)
        assert json.loads(answer["body"])["message"]


def test_requests_served_at_once_in_one_process_each_get_their_own_answer(
    board: InProcessStack,
) -> None:
    # The local stack calls the API function from many threads, as the dashboard fires its
    # requests together; Powertools resolves one event at a time per process, as in Lambda.
    lead_id = _lead_id(board, HOT)
    calls = [
        ("GET", f"/api/leads/{lead_id}/timeline", "limit=100"),
        ("GET", "/api/leads", "limit=2"),
        ("GET", f"/api/leads/{lead_id}", ""),
    ] * 20

    def call(spec: tuple[str, str, str]) -> tuple[str, int, dict[str, Any]]:
        method, path, query = spec
        status, body = api_call(method, path, AGENT, query=query)
        return path, status, body

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(call, calls))
    for path, status, body in answers:
        assert status == 200, (path, body)
        if path.endswith("/timeline"):
            assert len(body["items"]) > 2 and "next_cursor" in body
        elif path == "/api/leads":
            assert len(body["items"]) == 2
        else:
            assert body["lead_id"] == lead_id
