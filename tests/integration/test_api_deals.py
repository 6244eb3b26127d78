"""/api/deals through the API function in-process: commissions exact, tenants apart, revenue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from leadbot.domain import Channel
from local.seed import DEMO2_TELEGRAM_SECRET, DEMO_TELEGRAM_SECRET
from tests.support import ADMIN, AGENT, OTHER_TENANT_AGENT, InProcessStack, Updates, api_call

NOBODY = "01BX5ZZKBKACTAV9WEVGEMMVRZ"
BROKER = {"name": "Rana Haddad", "phone": "+971505550199", "email": "rana@demo.example"}


def _lead(stack: InProcessStack, chat: int, tenant_id: str = "demo") -> str:
    stack.tenant_id = tenant_id
    secret = DEMO2_TELEGRAM_SECRET if tenant_id == "demo2" else DEMO_TELEGRAM_SECRET
    assert stack.post(Updates(chat).text("/start"), secret=secret)["statusCode"] == 200
    stack.tenant_id = "demo"
    key = stack.repos.identities.key(tenant_id, Channel.TELEGRAM, str(chat))
    lead_id = stack.repos.identities.lead_id(key)
    assert lead_id is not None
    return lead_id


@pytest.fixture
def desk(stack: InProcessStack) -> dict[str, str]:
    """A lead and a broker of demo, and a lead of demo2."""
    status, broker = api_call("POST", "/api/brokers", ADMIN, body=BROKER)
    assert status == 201
    return {
        "lead": _lead(stack, 720_100_001),
        "broker": broker["broker_id"],
        "their_lead": _lead(stack, 720_100_002, tenant_id="demo2"),
    }


def _deal(desk: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"lead_id": desk["lead"], "value": "2500000.00", "broker_id": desk["broker"], **fields}
    status, deal = api_call("POST", "/api/deals", AGENT, body=body)
    assert status == 201, deal
    return dict(deal)


def test_without_verified_claims_every_route_is_401(stack: InProcessStack) -> None:
    for method, path in (
        ("GET", "/api/deals"),
        ("POST", "/api/deals"),
        ("GET", "/api/deals/revenue"),
        ("GET", f"/api/deals/{NOBODY}"),
        ("PATCH", f"/api/deals/{NOBODY}"),
    ):
        body = {"status": "won"} if method == "PATCH" else None
        if method == "POST":
            body = {"lead_id": NOBODY, "value": "1"}
        status, answer = api_call(method, path, None, body=body)
        assert (status, answer["message"]) == (401, "no verified tenant and role"), path


def test_a_deal_with_the_default_commissions(desk: dict[str, str]) -> None:
    deal = _deal(desk, unknown="ignored")
    assert {k: deal[k] for k in ("status", "currency", "value", "closed_at")} == {
        "status": "open",
        "currency": "AED",  # the agency's currency
        "value": "2500000.00",
        "closed_at": None,
    }
    assert (deal["broker_commission_rate"], deal["platform_commission_rate"]) == ("0.02", "0.25")
    assert (deal["broker_commission"], deal["platform_commission"]) == ("50000.00", "12500.00")
    assert (deal["lead_id"], deal["broker_id"]) == (desk["lead"], desk["broker"])
    assert api_call("GET", f"/api/deals/{deal['deal_id']}", ADMIN) == (200, deal)


def test_rates_from_the_tenant_and_a_deals_own_broker_rate(
    stack: InProcessStack, desk: dict[str, str]
) -> None:
    tenant = stack.repos.tenants.get("demo")
    stack.repos.tenants.put(
        replace(
            tenant,
            broker_commission_rate=Decimal("0.025"),
            platform_commission_rate=Decimal("0.3"),
        )
    )
    stack.repos.tenants.forget("demo")
    deal = _deal(desk, value="1234567.89")
    # 1234567.89 × 0.025 = 30864.19725 → 30864.20; × 0.3 = 9259.26
    assert (deal["broker_commission"], deal["platform_commission"]) == ("30864.20", "9259.26")
    own = _deal(desk, value="80000000", currency="INR", broker_commission_rate="0.01")
    assert (own["currency"], own["value"], own["broker_commission_rate"]) == (
        "INR",
        "80000000.00",
        "0.01",
    )
    assert (own["broker_commission"], own["platform_commission"]) == ("800000.00", "240000.00")


def test_winning_a_deal_records_when_and_tells_the_leads_timeline(
    desk: dict[str, str],
) -> None:
    deal = _deal(desk)
    path = f"/api/deals/{deal['deal_id']}"
    status, won = api_call("PATCH", path, AGENT, body={"status": "won", "value": "2600000"})
    assert status == 200, won
    assert (won["status"], won["value"]) == ("won", "2600000.00")
    assert (won["broker_commission"], won["platform_commission"]) == ("52000.00", "13000.00")
    closed = datetime.fromisoformat(won["closed_at"])
    assert abs((datetime.now(UTC) - closed).total_seconds()) < 60
    _, page = api_call("GET", f"/api/leads/{desk['lead']}/timeline", AGENT, query="limit=1")
    assert page["items"][0]["text"] == "deal_won"
    assert page["items"][0]["detail"] == {
        "deal_id": deal["deal_id"],
        "value": "2600000.00",
        "currency": "AED",
        "by": "agent@demo.example",
    }
    status, reopened = api_call("PATCH", path, AGENT, body={"status": "open"})
    assert (status, reopened["closed_at"]) == (200, None)
    status, lost = api_call("PATCH", path, AGENT, body={"status": "lost", "broker_id": None})
    assert (status, lost["status"], lost["broker_id"]) == (200, "lost", None)
    assert lost["closed_at"] is not None


def test_lists_filter_by_status_broker_and_month(desk: dict[str, str]) -> None:
    first = _deal(desk, value="100")
    second = _deal(desk, value="200", broker_id=None)
    api_call("PATCH", f"/api/deals/{second['deal_id']}", AGENT, body={"status": "won"})
    this_month = datetime.now(UTC).strftime("%Y-%m")

    def ids(query: str) -> list[str]:
        status, page = api_call("GET", "/api/deals", AGENT, query=query)
        assert status == 200, page
        return [d["deal_id"] for d in page["items"]]

    assert ids("") == [second["deal_id"], first["deal_id"]]  # newest first
    assert ids("status=won") == [second["deal_id"]]
    assert ids("status=open") == [first["deal_id"]]
    assert ids(f"broker_id={desk['broker']}") == [first["deal_id"]]
    assert ids(f"month={this_month}") == [second["deal_id"], first["deal_id"]]
    assert ids("month=2020-01") == []
    _, page = api_call("GET", "/api/deals", AGENT, query="limit=1")
    assert page["next_cursor"]
    _, rest = api_call("GET", "/api/deals", AGENT, query=f"limit=1&cursor={page['next_cursor']}")
    assert [d["deal_id"] for d in rest["items"]] == [first["deal_id"]]


def test_monthly_revenue_per_currency(desk: dict[str, str]) -> None:
    for value, currency in (
        ("2500000.00", "AED"),
        ("1000000.01", "AED"),
        ("80000000", "INR"),
        ("999", "AED"),  # stays open: not revenue
    ):
        deal = _deal(desk, value=value, currency=currency)
        if value != "999":
            api_call("PATCH", f"/api/deals/{deal['deal_id']}", AGENT, body={"status": "won"})
    status, report = api_call("GET", "/api/deals/revenue", ADMIN)
    assert status == 200, report
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert report == {
        "items": [
            {
                "month": this_month,
                "totals": [
                    {
                        "currency": "AED",
                        "deals": 2,
                        "value": "3500000.01",
                        "broker_commission": "70000.00",  # 50000.00 + 20000.00
                        "platform_commission": "17500.00",
                        # 20000.0002 rounds to 20000.00 before the platform's share
                    },
                    {
                        "currency": "INR",
                        "deals": 1,
                        "value": "80000000.00",
                        "broker_commission": "1600000.00",
                        "platform_commission": "400000.00",
                    },
                ],
            }
        ]
    }
    assert api_call("GET", "/api/deals/revenue", AGENT, query="until=2020-12")[1] == {"items": []}
    assert api_call("GET", "/api/deals/revenue", OTHER_TENANT_AGENT)[1] == {"items": []}
    status, answer = api_call("GET", "/api/deals/revenue", AGENT, query="since=2026-13")
    assert status == 400, answer


def test_another_tenant_cannot_list_read_or_change_deals(desk: dict[str, str]) -> None:
    deal = _deal(desk)
    path = f"/api/deals/{deal['deal_id']}"
    assert api_call("GET", "/api/deals", OTHER_TENANT_AGENT) == (
        200,
        {"items": [], "next_cursor": None},
    )
    assert api_call("GET", path, OTHER_TENANT_AGENT) == (404, {"message": "no such deal"})
    status, answer = api_call("PATCH", path, OTHER_TENANT_AGENT, body={"status": "won"})
    assert (status, answer["message"]) == (404, "no such deal")
    assert api_call("GET", path, AGENT)[1]["status"] == "open"
    # nor open deals on demo's leads or with demo's brokers, nor demo on theirs
    theirs = {"lead_id": desk["lead"], "value": "1"}
    status, answer = api_call("POST", "/api/deals", OTHER_TENANT_AGENT, body=theirs)
    assert (status, answer["message"]) == (404, "no such lead")
    mine_with_their_broker = {"lead_id": desk["their_lead"], "value": "1"}
    status, _ = api_call(
        "POST",
        "/api/deals",
        OTHER_TENANT_AGENT,
        body={**mine_with_their_broker, "broker_id": desk["broker"]},
    )
    assert status == 404
    status, answer = api_call(
        "POST", "/api/deals", AGENT, body={"lead_id": desk["their_lead"], "value": "1"}
    )
    assert (status, answer["message"]) == (404, "no such lead")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"value": "100", "lead_id": NOBODY}, 404, "no such lead"),
        ({"value": "100", "broker_id": NOBODY}, 404, "no such broker"),
        ({"value": 2500000.5}, 400, "the request is not valid"),  # a float, not a string
        ({"value": "-1"}, 400, "the request is not valid"),
        ({"value": "10.505"}, 400, "value has more decimals than AED has"),
        ({"value": "10.5", "currency": "JPY"}, 400, "value has more decimals than JPY has"),
        ({"value": "100", "currency": "aed"}, 400, "the request is not valid"),
        ({"value": "100", "broker_commission_rate": "1.5"}, 400, "the request is not valid"),
        ({"value": "100", "broker_commission_rate": "0.02%"}, 400, "the request is not valid"),
        ({}, 400, "the request is not valid"),
    ],
)
def test_bad_deals(desk: dict[str, str], body: dict[str, Any], status: int, message: str) -> None:
    full = {"lead_id": desk["lead"], **body}
    got, answer = api_call("POST", "/api/deals", AGENT, body=full)
    assert (got, answer["message"]) == (status, message)
    assert api_call("GET", "/api/deals", AGENT)[1]["items"] == []


def test_an_inactive_broker_gets_no_new_deals_but_keeps_old_ones(desk: dict[str, str]) -> None:
    old = _deal(desk)
    api_call("DELETE", f"/api/brokers/{desk['broker']}", ADMIN)
    status, answer = api_call(
        "POST",
        "/api/deals",
        AGENT,
        body={"lead_id": desk["lead"], "value": "1", "broker_id": desk["broker"]},
    )
    assert (status, answer["message"]) == (400, "the broker is not active")
    assert api_call("GET", f"/api/deals/{old['deal_id']}", AGENT)[1]["broker_id"] == desk["broker"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "nothing to change"),
        ({"status": None}, "status cannot be empty"),
        ({"currency": "USD"}, "currency goes with a value"),
        ({"status": "pending"}, "the request is not valid"),
        ({"value": "1.001"}, "value has more decimals than AED has"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(
    desk: dict[str, str], body: dict[str, Any], message: str
) -> None:
    deal = _deal(desk)
    path = f"/api/deals/{deal['deal_id']}"
    status, answer = api_call("PATCH", path, AGENT, body=body)
    assert status == 400 and answer["message"].startswith(message), answer
    assert api_call("GET", path, AGENT) == (200, deal)


@pytest.mark.parametrize(("deal_id", "status"), [(NOBODY, 404), ("not-a-ulid", 400)])
def test_unknown_or_malformed_ids(stack: InProcessStack, deal_id: str, status: int) -> None:
    assert api_call("GET", f"/api/deals/{deal_id}", AGENT)[0] == status
    assert api_call("PATCH", f"/api/deals/{deal_id}", AGENT, body={"status": "won"})[0] == status
