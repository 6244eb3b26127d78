"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) on its own local
stack: sign-in, a Persian Telegram lead turning hot live on the board, its lead page, export,
roles, and the phone layout. Screenshots go to test-artifacts/; a console error fails a test."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from local.fake_openai import fake_voice_note
from local.seed import DEMO_BROKERS, DEMO_TELEGRAM_SECRET
from tests import web
from tests.e2e.conftest import start_stack, stop_stack
from tests.support import REPO, Updates

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
BUILD = REPO / "dashboard" / "dist" / "index.html"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Long enough for a webhook, the stream poller, scoring and the board's next refresh (3 s)
# on a busy 2-core machine.
LIVE_MS = 45_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}

# A Persian lead from a billboard's QR code, through to its phone number (DESIGN.md §6).
CHAT = 870_000_001
NAME = "شیرین"
PHONE_E164 = "+989121234567"
FIRST_STEPS = [("type", "/start qr_billboard_fa"), ("type", "خرید")]
LAST_STEPS = [
    ("type", "۳ میلیارد تومان"),
    ("press", "property_type:villa"),
    ("type", "جمیرا"),
    ("type", "۱"),
    ("type", "۳ خوابه"),
    ("press", "payment:cash"),
    ("type", "+98 912 123 4567"),
]
SPOKEN = "ویلا با استخر خصوصی می‌خواهم"


@pytest.fixture(scope="module")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stack of its own: the board's order is this module's leads and the seed's alone."""
    if not BUILD.is_file():
        pytest.fail("the dashboard is not built: run `make dashboard`")
    process, url = start_stack(tmp_path_factory.mktemp("dashboard-stack"))
    try:
        yield url
    finally:
        stop_stack(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def tokens(dashboard_stack: str) -> dict[str, str]:
    found: dict[str, str] = web.get(f"{dashboard_stack}/_local/tokens").json()
    return found


SignIn = Callable[..., Any]


@pytest.fixture
def sign_in(browser: Any, dashboard_stack: str) -> Iterator[SignIn]:
    """Open the dashboard in a fresh browser context and sign in as a demo user; every page
    is watched for console errors and uncaught exceptions, which fail the test."""
    from playwright.sync_api import expect

    contexts: list[Any] = []
    errors: list[str] = []

    def open_as(user: str, viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(
            base_url=dashboard_stack, viewport=viewport, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        # Which call failed: Chromium's console line names only the status.
        page.on(
            "response",
            lambda r: (
                errors.append(f"{r.status} {r.request.method} {r.url} {r.request.post_data}")
                if r.status >= 400
                else None
            ),
        )
        page.goto("/")
        expect(page.get_by_role("heading", name="Sign in to LeadBot")).to_be_visible()
        page.locator(f'button[data-user="{user}"]').click()
        expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert errors == [], f"the browser logged errors: {errors}"


def _send(url: str, lead: Updates, steps: list[tuple[str, str]]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET}
    for kind, value in steps:
        update = lead.press(value) if kind == "press" else lead.text(value)
        response = web.post(f"{url}/telegram/demo", json=update, headers=headers)
        assert response.status_code == 200, response.text


def _settle(url: str) -> None:
    """Everything written so far is scored (the changes, then what scoring them wrote)."""
    for _ in range(2):
        assert web.post(f"{url}/_local/streams/wait?timeout=60").status_code == 200


def _api(url: str, token: str, path: str) -> Any:
    response = web.get(f"{url}{path}", headers={"Authorization": token})
    assert response.status_code == 200, response.text
    return response.json()


def _unlabelled_controls(page: Any) -> list[str]:
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
            .map((el) => el.outerHTML)"""
    )
    return found


def _overflows(page: Any) -> bool:
    wide: bool = page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    return wide


def test_a_telegram_lead_turns_hot_on_the_board_and_an_admin_works_it(
    sign_in: SignIn, dashboard_stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    url = dashboard_stack
    ARTIFACTS.mkdir(exist_ok=True)
    page = sign_in("admin")
    assert _unlabelled_controls(page) == []
    rows = page.locator("table.leads tbody tr")

    # The lead's first messages: it shows up on the open board, not yet hot.
    lead = Updates(CHAT, first_name=NAME, language_code="fa")
    _send(url, lead, FIRST_STEPS)
    mine = rows.filter(has_text=NAME)
    expect(mine).to_have_count(1, timeout=LIVE_MS)
    early = mine.locator("[data-temperature]").get_attribute("data-temperature")
    assert early in ("cold", "warm")

    # The rest of the qualification, a voice note and the catalogs it was sent: hot or
    # burning, it moves to the top of the board without a reload.
    _send(url, lead, LAST_STEPS)
    voice = web.post(
        f"{url}/_local/telegram/files",
        content=fake_voice_note(SPOKEN),
        headers={"Content-Type": "audio/ogg"},
    ).json()
    response = web.post(
        f"{url}/telegram/demo",
        json=lead.voice(voice),
        headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_TELEGRAM_SECRET},
    )
    assert response.status_code == 200
    outbox = web.get(f"{url}/_local/outbox", params={"channel": "telegram"}).json()
    links = [
        button["url"]
        for call in outbox
        if call.get("chat_id") == str(CHAT)
        for row in call["payload"].get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
        if "/c/" in button.get("url", "")
    ]
    assert links, "the bot sent the lead its catalogs"
    for link in links:
        assert web.get(link, follow_redirects=False).status_code == 302
    _settle(url)
    expect(rows.first).to_contain_text(NAME, timeout=LIVE_MS)
    top = rows.first.locator("[data-temperature]")
    expect(top).to_have_attribute("data-temperature", re.compile("^(hot|burning)$"))
    expect(rows.first).to_contain_text(PHONE_E164)
    expect(rows.first).to_contain_text("فارسی")
    expect(rows.first).to_contain_text("billboard_fa")
    board = _api(url, tokens["admin"], "/api/leads")["items"]
    assert board[0]["name"] == NAME
    assert all(board[0]["score"] >= other["score"] for other in board if other["score"])
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

    # Its page: the transcript reads right to left, with the voice note's transcript.
    rows.first.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Why (hot|burning)$"))).to_be_visible()
    answer = page.locator(".message.inbound .text", has_text="جمیرا")
    expect(answer).to_have_count(1)
    assert answer.evaluate("el => getComputedStyle(el).direction") == "rtl"
    bot_reply = page.locator(".message.outbound .text").first
    assert bot_reply.evaluate("el => getComputedStyle(el).direction") == "rtl"
    spoken = page.locator(".message.inbound", has_text=SPOKEN)
    expect(spoken).to_contain_text("Voice note (transcript)")
    assert spoken.locator(".text").evaluate("el => getComputedStyle(el).direction") == "rtl"
    heading = page.get_by_role("heading", name="Conversation")
    assert heading.evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert _unlabelled_controls(page) == []

    # Assign a broker, then move the lead to viewing_scheduled.
    broker = DEMO_BROKERS[0]
    page.get_by_label("Assign to").select_option(label=broker.name)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".assigned-broker")).to_have_text(broker.name)
    page.get_by_label("Move to").select_option("viewing_scheduled")
    page.get_by_role("button", name="Update status").click()
    expect(page.locator(".status-pill")).to_have_text("Viewing scheduled")
    expect(page.locator(".transcript")).to_contain_text(f"Assigned to {broker.name}")
    expect(page.locator(".transcript")).to_contain_text("Status Assigned → Viewing scheduled")
    lead_id = page.url.rsplit("/", 1)[-1]
    stored = _api(url, tokens["admin"], f"/api/leads/{lead_id}")
    assert (stored["status"], stored["broker_id"]) == ("viewing_scheduled", broker.broker_id)
    page.screenshot(path=str(ARTIFACTS / "lead.png"), full_page=True)

    # Back on the board, the CSV export downloads the lead with its phone.
    page.get_by_role("link", name="Leads", exact=True).click()
    expect(rows.first).to_contain_text(NAME)
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    saved = ARTIFACTS / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".csv"
    table = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    exported = [row for row in table if row["Name"] == NAME]
    assert len(exported) == 1
    # A cell starting with + would be a formula to a spreadsheet: the export neutralises it.
    assert exported[0]["Phone"] == f"'{PHONE_E164}"
    assert (exported[0]["Status"], exported[0]["Broker ID"]) == (
        "viewing_scheduled",
        broker.broker_id,
    )
    assert exported[0]["Temperature"] in ("hot", "burning")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export XLSX").click()
    workbook = ARTIFACTS / download.value.suggested_filename
    download.value.save_as(workbook)
    assert workbook.suffix == ".xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(workbook, read_only=True).active
    assert sheet is not None
    assert [row[1] for row in sheet.iter_rows(values_only=True) if row[1] == NAME] == [NAME]
    _settle(url)


def test_an_agent_cannot_open_settings_but_an_admin_can(
    sign_in: SignIn, dashboard_stack: str, tokens: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    agent = sign_in("agent")
    nav = agent.get_by_role("navigation", name="Main")
    for page in ("Leads", "Listings", "Deals", "Brokers", "Analytics", "Try the bot"):
        expect(nav.get_by_role("link", name=page, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    agent.goto("/settings")
    expect(agent.get_by_role("alert")).to_contain_text("Settings are for your agency's admins")
    expect(agent.locator("form.settings-form")).to_have_count(0)
    # The refusal is the API's, not only the page's.
    refused = web.get(f"{dashboard_stack}/api/settings", headers={"Authorization": tokens["agent"]})
    assert refused.status_code == 403

    admin = sign_in("admin")
    admin.get_by_role("link", name="Settings").click()
    settings = _api(dashboard_stack, tokens["admin"], "/api/settings")
    expect(admin.get_by_label("Broker commission rate (of a deal's value)")).to_have_value(
        settings["broker_commission_rate"]
    )


def test_the_board_and_a_lead_fit_a_phone(sign_in: SignIn, dashboard_stack: str) -> None:
    from playwright.sync_api import expect

    lead = Updates(CHAT + 1, first_name="Phone Reader", language_code="en")
    _send(dashboard_stack, lead, [("type", "/start"), ("press", "goal:rent")])
    ARTIFACTS.mkdir(exist_ok=True)
    page = sign_in("agent", viewport=PHONE)
    row = page.locator("table.leads tbody tr", has_text="Phone Reader")
    expect(row).to_have_count(1, timeout=LIVE_MS)
    assert not _overflows(page)
    page.screenshot(path=str(ARTIFACTS / "board-phone.png"), full_page=True)
    # By keyboard: the skip link comes first and lands on the content; a lead opens with
    # Enter, and its page starts at its content.
    page.reload()
    expect(row).to_have_count(1)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    row.get_by_role("link", name="Phone Reader").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Phone Reader")).to_be_visible()
    expect(page.locator("main")).to_be_focused()
    expect(page.locator(".message.inbound").first).to_contain_text("/start")
    expect(page.locator(".message.inbound").nth(1)).to_contain_text("Pressed a button: goal:rent")
    assert not _overflows(page)
    page.screenshot(path=str(ARTIFACTS / "lead-phone.png"), full_page=True)
