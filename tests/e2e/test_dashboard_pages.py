"""The dashboard's listings, deals, brokers, analytics and editable settings in a real browser
(Debian's Chromium, Playwright) on a local stack of this module's own. Every figure the pages
show is checked against the API's answer; screenshots go to test-artifacts/; a console error
fails a test."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from local.sample_brochure import corrupt_pdf, sample_brochure
from local.seed import DEMO_BROCHURE_ID, DEMO_BROKERS
from tests import web
from tests.e2e import test_dashboard as dashboard
from tests.e2e.test_dashboard import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    _overflows,
    _settle,
    _unlabelled_controls,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MARINA = "01KE6P4YM0VS00000000000001"  # the seeded listing with the ingested sample brochure


# The browser, and a stack of this module's own with its tokens: test_dashboard's fixtures.
browser = dashboard.browser
dashboard_stack = dashboard.dashboard_stack
tokens = dashboard.tokens


@pytest.fixture(scope="module")
def stack(dashboard_stack: str) -> str:
    return dashboard_stack


Open = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any, stack: str) -> Iterator[Open]:
    """Sign in as a demo user in a fresh context and open `path`; console errors fail the test."""
    from playwright.sync_api import expect

    contexts: list[Any] = []
    errors: list[str] = []

    def open_as(user: str, path: str, viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(base_url=stack, viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        # A 5xx is the API failing, whatever the page makes of it.
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 500 else None
            ),
        )
        page.goto("/")
        page.locator(f'button[data-user="{user}"]').click()
        expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
        if path != "/":
            page.goto(path)
        return page

    yield open_as
    for context in contexts:
        context.close()
    # The 409 and 400 the tests provoke are the API's answers, which Chromium logs as failed
    # loads whatever the page does with them; anything else is a fault of the page.
    expected = re.compile(r"status of (400 \(Bad Request\)|409 \(Conflict\))")
    assert [e for e in errors if not expected.search(e)] == [], "the browser logged errors"


def _call(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    response = web.request(method, f"{url}{path}", headers={"Authorization": token}, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _lead(url: str, token: str, name: str, phone: str, source: str) -> str:
    created = _call(
        url, token, "POST", "/api/leads", {"name": name, "phone": phone, "source": source}
    )
    lead_id: str = created["lead"]["lead_id"]
    return lead_id


def _amount(text: str) -> str:
    """2450000.00 as the dashboard shows it: grouped, without a zero fraction."""
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}"
    return grouped if not fraction.strip("0") else f"{grouped}.{fraction}"


def test_a_deal_on_a_lead_shows_the_commission_the_api_computed(
    open_page: Open, stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    admin = tokens["admin"]
    lead_id = _lead(stack, admin, "Deal Maker", "+971501112233", "expo-2026")
    settings = _call(stack, admin, "GET", "/api/settings")
    broker = DEMO_BROKERS[0]
    page = open_page("agent", f"/leads/{lead_id}")
    page.get_by_role("link", name="Record a deal with this lead").click()
    expect(page.locator(".chosen-lead")).to_contain_text("Deal Maker")
    page.get_by_label("Value").fill("2450000")
    page.locator("select[name=broker_id]").select_option(label=broker.name)
    page.get_by_label("Broker commission rate").fill("0.025")
    expect(page.locator("#rate-help")).to_have_text("2.5% of the value")
    assert _unlabelled_controls(page) == []
    page.get_by_role("button", name="Record deal").click()
    recorded = page.locator(".recorded")
    expect(recorded).to_contain_text("Deal recorded")

    [deal] = [
        d for d in _call(stack, admin, "GET", "/api/deals")["items"] if d["lead_id"] == lead_id
    ]
    # The API's figures, checked here against the rule (2.5% of the value; the platform's
    # share of that), and shown by the page exactly as the API answered them.
    broker_share = Decimal("2450000") * Decimal("0.025")
    platform_share = (broker_share * Decimal(settings["platform_commission_rate"])).quantize(
        Decimal("0.01")
    )
    assert Decimal(deal["broker_commission"]) == broker_share
    assert Decimal(deal["platform_commission"]) == platform_share
    assert deal["broker_id"] == broker.broker_id
    currency = deal["currency"]
    expect(recorded.locator('[data-figure="broker_commission"]')).to_have_text(
        f"{_amount(deal['broker_commission'])} {currency}"
    )
    expect(recorded.locator('[data-figure="platform_commission"]')).to_have_text(
        f"{_amount(deal['platform_commission'])} {currency}"
    )
    row = page.locator(f'tr[data-deal-id="{deal["deal_id"]}"]')
    expect(row).to_contain_text("Deal Maker")
    expect(row.locator(".broker-commission")).to_contain_text(
        f"{_amount(deal['broker_commission'])} {currency} (2.5%)"
    )
    expect(row).to_contain_text(broker.name)

    # Won: the status changes through the API and the lead's Timeline says so.
    row.get_by_label("Status of the deal").select_option("won")
    row.get_by_role("button", name="Update").click()
    expect(row.locator("select")).to_have_attribute("data-status", "won")
    assert _call(stack, admin, "GET", f"/api/deals/{deal['deal_id']}")["status"] == "won"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "deals.png"), full_page=True)
    page.goto(f"/leads/{lead_id}")
    expect(page.locator(".transcript")).to_contain_text("deal", ignore_case=True)


def test_an_admin_adds_a_listing_edits_its_units_meets_a_conflict_and_uploads_a_brochure(
    open_page: Open, stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    admin = tokens["admin"]
    page = open_page("admin", "/listings")
    expect(page.locator("table.listings tbody tr")).to_have_count(6)  # the seeded ones
    page.get_by_role("button", name="Add a listing").click()
    form = page.locator("form.edit-form")
    form.get_by_label("Title").fill("Creek Harbour 3BR")
    form.get_by_label("Area").fill("Dubai Creek Harbour")
    form.get_by_label("Type").select_option("apartment")
    form.get_by_label("Bedrooms").select_option("3")
    form.get_by_label("Price").fill("3100000")
    form.get_by_label("Units available").fill("9")
    assert _unlabelled_controls(page) == []
    form.get_by_role("button", name="Add listing").click()
    expect(page.locator("p.note")).to_contain_text("Added Creek Harbour 3BR: 9 units")
    row = page.locator("table.listings tbody tr", has_text="Creek Harbour 3BR")
    expect(row.locator(".units")).to_have_text("9")
    [listing] = [
        p
        for p in _call(stack, admin, "GET", "/api/properties")["items"]
        if p["title"] == "Creek Harbour 3BR"
    ]
    assert (listing["units_available"], listing["bedrooms"], listing["price"]["amount"]) == (
        9,
        "3",
        "3100000.00",
    )
    path = f"/api/properties/{listing['property_id']}"

    # Units change; only what changed is sent, with the version read.
    row.get_by_role("button", name="Edit Creek Harbour 3BR").click()
    form.get_by_label("Units available").fill("4")
    form.get_by_role("button", name="Save changes").click()
    expect(row.locator(".units")).to_have_text("4")
    saved = _call(stack, admin, "GET", path)
    assert (saved["units_available"], saved["version"]) == (4, 2)

    # Someone else changes it while the form is open: the save is refused, clearly.
    row.get_by_role("button", name="Edit Creek Harbour 3BR").click()
    _call(stack, admin, "PATCH", path, {"units_available": 7})
    form.get_by_label("Units available").fill("3")
    form.get_by_role("button", name="Save changes").click()
    conflict = form.locator(".conflict")
    expect(conflict).to_contain_text("someone changed this listing after you opened it")
    assert _call(stack, admin, "GET", path)["units_available"] == 7
    conflict.get_by_role("button", name="Load the latest version").click()
    expect(form.get_by_label("Units available")).to_have_value("7")
    form.get_by_label("Units available").fill("3")
    form.get_by_role("button", name="Save changes").click()
    expect(row.locator(".units")).to_have_text("3")
    assert _call(stack, admin, "GET", path)["units_available"] == 3

    # A brochure: uploaded with progress to the presigned URL, then read in the background (as
    # S3's event has the function read it in AWS); the open panel shows it read, page count and
    # all, without a reload.
    row.get_by_role("button", name="Brochures of Creek Harbour 3BR").click()
    panel = page.locator("section.panel", has_text="Brochures of Creek Harbour 3BR")
    expect(panel).to_contain_text("No brochure yet")
    panel.get_by_label("PDF brochure").set_input_files(
        files=[{"name": "creek.pdf", "mimeType": "application/pdf", "buffer": sample_brochure()}]
    )
    panel.get_by_role("button", name="Upload").click()
    expect(panel.get_by_role("status")).to_contain_text("Uploaded brochure")
    expect(panel.locator("progress")).to_have_attribute("value", "100")
    brochure_ids = _call(stack, admin, "GET", path)["brochure_ids"]
    assert len(brochure_ids) == 1
    read = panel.locator(f'[data-brochure-id="{brochure_ids[0]}"]')
    expect(read).to_contain_text("Read: “Creek Harbour 3BR”, 12 pages", timeout=60_000)
    [state] = _call(stack, admin, "GET", f"{path}/brochures")["items"]
    assert (state["ingested"], state["pages"], state["unreadable_reason"]) == (True, 12, None)
    expect(read).to_contain_text(f"{state['chunks']} passages the bot answers from")

    # A damaged PDF: the panel says it could not be read, and why, instead of waiting forever.
    panel.get_by_label("PDF brochure").set_input_files(
        files=[{"name": "broken.pdf", "mimeType": "application/pdf", "buffer": corrupt_pdf()}]
    )
    panel.get_by_role("button", name="Upload").click()
    expect(panel.locator("li[data-brochure-id]")).to_have_count(2)
    brochure_ids = _call(stack, admin, "GET", path)["brochure_ids"]
    assert len(brochure_ids) == 2
    broken = panel.locator(f'[data-brochure-id="{brochure_ids[1]}"]')
    expect(broken).to_contain_text(
        "Could not be read: the file is not a readable PDF", timeout=60_000
    )
    assert _call(stack, admin, "GET", f"{path}/brochures")["items"][1]["chunks"] == 0
    expect(row.locator('[data-label="Brochures"]')).to_have_text("2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "listings.png"), full_page=True)

    # The seeded brochure was read: its pages are the bot's to answer from.
    page.locator(f'tr[data-property-id="{MARINA}"]').get_by_role(
        "button", name=re.compile("^Brochures")
    ).click()
    expect(page.locator(f'[data-brochure-id="{DEMO_BROCHURE_ID}"]')).to_contain_text("12 pages")

    # Archived: kept, shown under Archived.
    page.get_by_role("button", name="Archive Creek Harbour 3BR").click()
    expect(page.locator("p.note")).to_contain_text("Archived Creek Harbour 3BR")
    assert _call(stack, admin, "GET", path)["status"] == "archived"
    page.get_by_label("Status").select_option("archived")
    expect(page.locator("table.listings tbody tr")).to_have_count(1)


def test_brokers_are_added_marked_away_and_deactivated(
    open_page: Open, stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    page = open_page("admin", "/brokers")
    page.get_by_role("button", name="Add a broker").click()
    page.get_by_label("Name").fill("Rania Haddad")
    page.get_by_label("Phone").fill("050 765 4321")
    page.get_by_label("Email").fill("rania@demo-agency.example")
    page.get_by_role("button", name="Add broker").click()
    row = page.locator("table.brokers tbody tr", has_text="Rania Haddad")
    expect(row.locator(".state")).to_have_text("Available")
    row.get_by_role("button", name="Mark away Rania Haddad").click()
    expect(row.locator(".state")).to_have_text("Away")
    row.get_by_role("button", name="Deactivate Rania Haddad").click()
    expect(row.locator(".state")).to_have_text("Inactive")
    [broker] = [
        b
        for b in _call(stack, tokens["admin"], "GET", "/api/brokers")["items"]
        if b["name"] == "Rania Haddad"
    ]
    assert (broker["phone"], broker["away"], broker["active"]) == ("+971507654321", True, False)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "brokers.png"), full_page=True)
    # Agents read the list, without the admins' buttons.
    agent = open_page("agent", "/brokers")
    expect(agent.locator("table.brokers tbody tr", has_text="Rania Haddad")).to_have_count(1)
    expect(agent.get_by_role("button", name="Add a broker")).to_have_count(0)


def test_analytics_charts_show_the_apis_figures(
    open_page: Open, stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    admin = tokens["admin"]
    for n, source in enumerate(["billboard", "billboard", "instagram"]):
        _lead(stack, admin, f"Analytics {n}", f"+97150222{n:04d}", source)
    lead_id = _lead(stack, admin, "Analytics Buyer", "+971502229999", "instagram")
    deal = _call(stack, admin, "POST", "/api/deals", {"lead_id": lead_id, "value": "1250000.50"})
    _call(stack, admin, "PATCH", f"/api/deals/{deal['deal_id']}", {"status": "won"})
    _call(stack, admin, "PATCH", f"/api/leads/{lead_id}", {"status": "won"})
    _settle(stack)
    stats = _call(stack, admin, "GET", "/api/stats")
    revenue = _call(stack, admin, "GET", "/api/deals/revenue")["items"]
    assert stats["sources"]["billboard"] >= 2 and stats["funnel"]["won"] >= 1

    page = open_page("agent", "/analytics")
    funnel = page.locator('[data-chart="funnel"] .chart-table')
    labels = {
        "conversations": "Conversations",
        "qualified": "Qualified",
        "broker_requested": "Broker requested",
        "viewing_scheduled": "Viewing scheduled",
        "won": "Won",
    }
    for key, label in labels.items():
        expect(funnel.locator(f'tr[data-label="{label}"] td')).to_have_text(
            re.compile(rf"^{stats['funnel'][key]}( \(\d+%\))?$")
        )
    temperatures = page.locator('[data-chart="temperatures"] .chart-table')
    for name in ("burning", "hot", "warm", "cold"):
        expect(temperatures.locator("tr", has_text=name).locator("td")).to_have_text(
            str(stats["temperatures"].get(name, 0))
        )
    sources = page.locator('[data-chart="sources"] .chart-table')
    for name, count in stats["sources"].items():
        expect(sources.locator(f'tr[data-label="{name}"] td')).to_have_text(str(count))
    speed = page.locator('[data-chart="speed"]')
    expect(speed.locator('[data-figure="with_phone"]')).to_have_text(
        str(stats["speed_to_lead"]["with_phone"])
    )
    expect(speed.locator('[data-figure="handled"]')).to_have_text(
        str(stats["speed_to_lead"]["handled"])
    )
    # The funnel's picture carries its numbers for screen readers too.
    label = page.locator('[data-chart="funnel"] svg').get_attribute("aria-label") or ""
    assert f"Conversations {stats['funnel']['conversations']}" in label

    this_month = datetime.now(UTC).strftime("%Y-%m")
    [month] = [m for m in revenue if m["month"] == this_month]
    [totals] = month["totals"]
    won = _call(stack, admin, "GET", "/api/deals?status=won")["items"]
    assert Decimal(totals["value"]) == sum(Decimal(d["value"]) for d in won)
    assert Decimal("1250000.50") in {Decimal(d["value"]) for d in won}
    row = page.locator(f'table.revenue tr[data-month="{this_month}"]')
    expect(row.locator('[data-label="Value"]')).to_have_text(_amount(totals["value"]))
    expect(row.locator('[data-label="Broker commission"]')).to_have_text(
        _amount(totals["broker_commission"])
    )
    expect(row.locator('[data-label="Deals"]')).to_have_text(str(totals["deals"]))
    expect(page.locator('[data-chart="revenue"] svg rect')).to_have_count(len(revenue))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analytics.png"), full_page=True)


def test_an_admin_changes_the_scarcity_threshold_and_issues_an_admin_code(
    open_page: Open, stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    admin = tokens["admin"]
    before = _call(stack, admin, "GET", "/api/settings")
    page = open_page("admin", "/settings")
    threshold = page.get_by_label("Scarcity threshold (units)")
    expect(threshold).to_have_value(str(before["scarcity_threshold"]))
    assert _unlabelled_controls(page) == []
    wanted = before["scarcity_threshold"] + 2
    threshold.fill(str(wanted))
    expect(page.locator(".save-bar [role=status]")).to_have_text("1 unsaved change")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".save-bar [role=status]")).to_have_text("Saved: scarcity threshold.")
    after = _call(stack, admin, "GET", "/api/settings")
    assert after["scarcity_threshold"] == wanted
    assert {k: v for k, v in after.items() if k != "scarcity_threshold"} == {
        k: v for k, v in before.items() if k != "scarcity_threshold"
    }
    page.reload()
    expect(page.get_by_label("Scarcity threshold (units)")).to_have_value(str(wanted))

    # The API's refusal is shown next to the form, and nothing is saved.
    page.get_by_label("Quiet hours until (0–23)").fill(str(before["quiet_hours_start"]))
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".save-bar .error")).to_contain_text(
        "quiet_hours_start and quiet_hours_end must be different hours"
    )
    assert (
        _call(stack, admin, "GET", "/api/settings")["quiet_hours_end"] == before["quiet_hours_end"]
    )
    page.get_by_role("button", name="Discard changes").click()

    page.get_by_role("button", name="Issue a one-time admin code").click()
    code = page.locator(".admin-code")
    expect(code).to_have_text(re.compile(r"^/set_admin \S{6,}$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "settings.png"), full_page=True)


@pytest.mark.parametrize("path", ["/listings", "/deals", "/brokers", "/analytics", "/settings"])
def test_each_page_fits_a_phone(open_page: Open, path: str) -> None:
    from playwright.sync_api import expect

    page = open_page("admin", path, viewport=PHONE)
    expect(page.locator(".loading")).to_have_count(0)
    expect(page.locator("h1")).to_be_visible()
    assert not _overflows(page), f"{path} is wider than a 375 px phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{path.strip('/')}-phone.png"), full_page=True)
