""" "Try the bot" in a real browser: an agent talks to the agency's bot as a Telegram lead through
the dashboard's chat simulator (buttons, typed answers, Persian right to left), and the lead it
makes appears on the board."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_dashboard as dashboard
from tests.e2e.test_dashboard import ARTIFACTS, LIVE_MS, PHONE, SignIn

# The browser, a stack of this module's own and the signed-in page: test_dashboard's fixtures.
browser = dashboard.browser
dashboard_stack = dashboard.dashboard_stack
sign_in = dashboard.sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# The bot answers within a webhook call; a busy 2-core machine may take seconds.
ANSWER_MS = 20_000


def _open_simulator(page: Any, name: str, language: str) -> Any:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Try the bot").click()
    expect(page.get_by_role("heading", name="Try the bot")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Telegram language").select_option(language)
    return page.locator(".sim-chat .sim-bubble.bot")


def test_an_agent_qualifies_a_simulated_lead_and_it_reaches_the_board(sign_in: SignIn) -> None:
    from playwright.sync_api import expect

    page = sign_in("agent")
    bot = _open_simulator(page, "Simulated Sam", "en")
    assert dashboard._unlabelled_controls(page) == []

    page.get_by_role("button", name="Start").click()
    # The greeting asks what the lead is after, with buttons (an inline keyboard).
    buy = page.locator('.sim-chat button[data-callback="goal:buy"]').last
    expect(buy).to_be_visible(timeout=ANSWER_MS)
    answered = bot.count()
    buy.click()
    expect(page.locator(".sim-bubble.lead").last).to_contain_text("Pressed")
    expect(bot).to_have_count(answered + 1, timeout=ANSWER_MS)

    # Typed budget: parsed, and the next question comes with its own buttons.
    message = page.get_by_label("Message to the bot")
    message.fill("2.5M AED")
    message.press("Enter")
    expect(page.locator(".sim-bubble.lead").last).to_contain_text("2.5M AED")
    expect(page.locator('.sim-chat button[data-callback^="property_type:"]').first).to_be_visible(
        timeout=ANSWER_MS
    )
    expect(page.locator(".sim-typing")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "simulator.png"), full_page=True)

    # The conversation survives leaving the page; the lead is on the board like any other.
    page.get_by_role("link", name="Leads", exact=True).click()
    row = page.locator("table.leads tbody tr").filter(has_text="Simulated Sam")
    expect(row).to_have_count(1, timeout=LIVE_MS)
    page.get_by_role("link", name="Try the bot").click()
    expect(page.locator(".sim-bubble.lead").last).to_contain_text("2.5M AED", timeout=ANSWER_MS)


def test_a_persian_lead_reads_right_to_left_on_a_phone(sign_in: SignIn) -> None:
    from playwright.sync_api import expect

    page = sign_in("admin", PHONE)
    bot = _open_simulator(page, "شیرین", "fa")
    page.get_by_role("button", name="New conversation").click()
    page.get_by_role("button", name="Start").click()
    greeting = bot.first.locator(".text")
    expect(greeting).to_be_visible(timeout=ANSWER_MS)
    direction = greeting.evaluate("(el) => getComputedStyle(el).direction")
    assert direction == "rtl", greeting.inner_text()
    buttons = bot.first.locator("button.sim-button")
    assert buttons.count() > 0
    assert buttons.first.evaluate("(el) => getComputedStyle(el).direction") == "rtl"
    assert not dashboard._overflows(page)
