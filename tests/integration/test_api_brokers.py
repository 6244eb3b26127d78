"""/api/brokers through the API function in-process: admins manage, agents read, tenants apart."""

from __future__ import annotations

from typing import Any

import pytest

from local.seed import DEMO_BROKERS
from tests.support import ADMIN, AGENT, OTHER_TENANT_AGENT, InProcessStack, api_call

OTHER_TENANT_ADMIN = {**OTHER_TENANT_AGENT, "custom:role": "admin", "sub": "u-demo2-admin"}
NOBODY = "01BX5ZZKBKACTAV9WEVGEMMVRZ"
RANA = {
    "name": "  Rana   Haddad ",
    "phone": "050 555 0199",  # local to the demo agency's region (AE)
    "email": "rana@demo.example",
    "telegram_chat_id": "900000101",
    "max_open_leads": 20,
    "shoe_size": 42,  # unknown fields are ignored
}


def added(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's brokers but the two the demo agency is seeded with (local.seed)."""
    seeded = {b.broker_id for b in DEMO_BROKERS}
    return [b for b in page["items"] if b["broker_id"] not in seeded]


def _create(body: dict[str, Any] | None = None, claims: dict[str, str] = ADMIN) -> dict[str, Any]:
    status, broker = api_call("POST", "/api/brokers", claims, body=body or RANA)
    assert status == 201, broker
    return dict(broker)


def test_without_verified_claims_every_route_is_401(stack: InProcessStack) -> None:
    for method, path in (
        ("GET", "/api/brokers"),
        ("POST", "/api/brokers"),
        ("GET", f"/api/brokers/{NOBODY}"),
        ("PATCH", f"/api/brokers/{NOBODY}"),
        ("DELETE", f"/api/brokers/{NOBODY}"),
    ):
        body = RANA if method == "POST" else {"away": True} if method == "PATCH" else None
        status, answer = api_call(method, path, None, body=body)
        assert (status, answer["message"]) == (401, "no verified tenant and role"), path


def test_an_admin_adds_a_broker_and_agents_see_it(stack: InProcessStack) -> None:
    broker = _create()
    assert broker["name"] == "Rana Haddad" and broker["phone"] == "+971505550199"
    assert (broker["active"], broker["away"], broker["max_open_leads"]) == (True, False, 20)
    assert broker["telegram_chat_id"] == "900000101" and "shoe_size" not in broker
    status, page = api_call("GET", "/api/brokers", AGENT)
    assert (status, added(page), page["next_cursor"]) == (200, [broker], None)
    assert api_call("GET", f"/api/brokers/{broker['broker_id']}", AGENT) == (200, broker)


def test_agents_cannot_add_change_or_deactivate(stack: InProcessStack) -> None:
    broker_id = _create()["broker_id"]
    path = f"/api/brokers/{broker_id}"
    for method, path_, body in (
        ("POST", "/api/brokers", RANA),
        ("PATCH", path, {"away": True}),
        ("DELETE", path, None),
    ):
        status, answer = api_call(method, path_, AGENT, body=body)
        assert (status, answer["message"]) == (403, "admins only"), method
    assert api_call("GET", path, AGENT)[1]["away"] is False
    assert len(added(api_call("GET", "/api/brokers", ADMIN)[1])) == 1


def test_changing_a_broker(stack: InProcessStack) -> None:
    broker = _create()
    path = f"/api/brokers/{broker['broker_id']}"
    status, changed = api_call(
        "PATCH",
        path,
        ADMIN,
        body={"away": True, "phone": "+971 50 555 0100", "telegram_chat_id": None},
    )
    assert status == 200, changed
    assert (changed["away"], changed["phone"], changed["telegram_chat_id"]) == (
        True,
        "+971505550100",
        None,
    )
    assert changed["max_open_leads"] == 20 and changed["name"] == "Rana Haddad"
    assert api_call("GET", path, AGENT)[1] == changed


def test_deleting_deactivates_and_keeps_the_broker(stack: InProcessStack) -> None:
    broker = _create()
    path = f"/api/brokers/{broker['broker_id']}"
    status, gone = api_call("DELETE", path, ADMIN)
    assert (status, gone["active"]) == (200, False)
    assert api_call("DELETE", path, ADMIN) == (200, gone)  # again: nothing more to do
    status, kept = api_call("GET", path, AGENT)
    assert (status, kept["active"], kept["name"]) == (200, False, "Rana Haddad")
    assert api_call("PATCH", path, ADMIN, body={"active": True})[1]["active"] is True


def test_pages_follow_the_cursor(stack: InProcessStack) -> None:
    for n in range(3):
        _create({**RANA, "name": f"Broker {n}", "email": f"b{n}@demo.example"})
    seen, cursor = [], None
    for _ in range(5):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = api_call("GET", "/api/brokers", AGENT, query=query)
        assert status == 200
        seen += [b["name"] for b in added(page)]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Broker 0", "Broker 1", "Broker 2"]


def test_another_tenant_cannot_list_read_change_or_deactivate(stack: InProcessStack) -> None:
    broker = _create()
    path = f"/api/brokers/{broker['broker_id']}"
    assert api_call("GET", "/api/brokers", OTHER_TENANT_AGENT) == (
        200,
        {"items": [], "next_cursor": None},
    )
    assert api_call("GET", path, OTHER_TENANT_AGENT) == (404, {"message": "no such broker"})
    for method, body in (("PATCH", {"name": "Mine now"}), ("DELETE", None)):
        status, answer = api_call(method, path, OTHER_TENANT_ADMIN, body=body)
        assert (status, answer["message"]) == (404, "no such broker"), method
    assert api_call("GET", path, ADMIN) == (200, broker)
    _, page = api_call("GET", "/api/brokers", ADMIN, query="limit=1")
    _create({**RANA, "name": "Second"})
    _, page = api_call("GET", "/api/brokers", ADMIN, query="limit=1")
    status, answer = api_call(
        "GET", "/api/brokers", OTHER_TENANT_AGENT, query=f"cursor={page['next_cursor']}"
    )
    assert (status, answer["message"]) == (400, "cursor is not valid")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**RANA, "phone": "12"}, "phone is not a valid phone number"),
        ({**RANA, "name": "   "}, "a broker needs a name"),
        ({**RANA, "email": "not-an-email"}, "the request is not valid"),
        ({**RANA, "max_open_leads": -1}, "the request is not valid"),
        ({"name": "No phone", "email": "x@demo.example"}, "the request is not valid"),
    ],
)
def test_bad_brokers_are_400(stack: InProcessStack, body: dict[str, Any], message: str) -> None:
    status, answer = api_call("POST", "/api/brokers", ADMIN, body=body)
    assert (status, answer["message"]) == (400, message)
    assert added(api_call("GET", "/api/brokers", ADMIN)[1]) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "nothing to change"),
        ({"name": None}, "name cannot be empty"),
        ({"active": None}, "active cannot be empty"),
        ({"phone": "not a phone"}, "phone is not a valid phone number"),
        ({"away": "perhaps"}, "the request is not valid"),
    ],
)
def test_bad_changes_are_400_and_change_nothing(
    stack: InProcessStack, body: dict[str, Any], message: str
) -> None:
    broker = _create()
    path = f"/api/brokers/{broker['broker_id']}"
    status, answer = api_call("PATCH", path, ADMIN, body=body)
    assert status == 400 and answer["message"].startswith(message), answer
    assert api_call("GET", path, ADMIN) == (200, broker)


@pytest.mark.parametrize(("broker_id", "status"), [(NOBODY, 404), ("not-a-ulid", 400)])
def test_unknown_or_malformed_ids(stack: InProcessStack, broker_id: str, status: int) -> None:
    assert api_call("GET", f"/api/brokers/{broker_id}", ADMIN)[0] == status
    assert api_call("DELETE", f"/api/brokers/{broker_id}", ADMIN)[0] == status
