"""The plan in a real browser: a rep plans a deal, follows two steps with "Log this step", gives
once off plan, sees the coaching and the plan beside the waterfall; the manager reads plan
against actual on the approval card."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .pages import (
    assert_no_serious_violations,
    concession_form,
    create_deal,
    log_concession,
    log_in,
    room_used,
    status,
)

pytestmark = pytest.mark.browser


def plan_panel(page):
    return page.locator("#plan-panel")


def add_step(page, number: int, kind: str, amount: str, give: str, ask: str) -> None:
    panel = plan_panel(page)
    panel.get_by_role("button", name="Add step").click()
    step = panel.get_by_role("group", name=f"Step {number}")
    expect(step).to_be_visible()
    step.get_by_label("Step kind").select_option(label=kind)
    step.get_by_label("Step amount").fill(amount)
    step.get_by_label("What you would give").fill(give)
    step.get_by_label("What you ask in return").fill(ask)


def log_this_step(page, amount: str) -> None:
    page.get_by_role("link", name="Log this step").click()
    expect(concession_form(page).get_by_label("Amount")).to_have_value(amount)
    concession_form(page).get_by_role("button", name="Log concession").click()


def test_a_rep_plans_follows_the_ladder_strays_off_it_and_the_manager_sees_it(page, browser):
    log_in(page, "rep")
    create_deal(page, "Bindery upgrade for Acme", opening="10000", floor="9000")
    panel = plan_panel(page)
    panel.get_by_label("Target price").fill("9500")
    panel.get_by_label("Best alternative").fill("Sell the slot to Riverside")
    add_step(page, 1, "Price discount", "300", "3% off", "A two-year contract")
    add_step(page, 2, "Free service", "150", "A training day", "A case study")
    panel.get_by_label("Things to ask for").fill("A reference\nLogo on their site")
    panel.get_by_role("button", name="Save plan").click()
    expect(status(page)).to_contain_text("Plan saved.")
    expect(status(page)).to_contain_text("$500.00 above your target")
    expect(page.locator("#next-step")).to_contain_text("$300.00, 3% off")
    assert_no_serious_violations(page, "the deal page with a plan")

    log_this_step(page, "300.00")
    room_used(page, 30)
    expect(page.locator("#next-step")).to_contain_text("$150.00, A training day")
    log_this_step(page, "150.00")
    room_used(page, 45)
    expect(page.locator("#next-step")).to_have_count(0)

    log_concession(page, "400", "Free rush delivery")
    room_used(page, 85)
    expect(status(page)).to_contain_text("That give was off plan.")
    expect(status(page)).to_contain_text("The net is now below your target.")
    expect(status(page)).to_contain_text("$350.00 below your target")
    expect(page.locator("#concessions li").first).to_contain_text("Off plan")
    expect(plan_panel(page)).to_contain_text("2 of 2 planned steps given")
    # The waterfall draws the plan and the target beside the actual steps.
    expect(page.locator("#chart polyline.plan-line")).to_have_count(1)
    expect(page.locator("#chart")).to_contain_text("Target price $9,500.00")
    assert_no_serious_violations(page, "the deal page off plan")

    # Beyond the floor: the rep asks for an exception; the manager sees plan against actual.
    log_concession(page, "300", "Another 3% off")
    page.get_by_role("button", name="Ask for approval").click()
    expect(status(page)).to_contain_text("Sent to your manager for approval.")

    manager = browser.new_context(base_url=page.context.pages[0].url.split("/deals")[0])
    other = manager.new_page()
    log_in(other, "manager")
    other.get_by_role("link", name="Approvals").first.click()
    card = other.locator("article.request-card", has_text="Bindery upgrade for Acme")
    expect(card).to_contain_text(
        "Plan against actual when asked: 2 of 2 planned steps given; conceded $850.00 against "
        "$450.00 planned for those steps ($400.00 more than planned)."
    )
    assert_no_serious_violations(other, "the approvals page with a plan")
    manager.close()
