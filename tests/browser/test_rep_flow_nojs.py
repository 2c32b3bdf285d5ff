"""The rep's desk with JavaScript off: every form posts and comes back to the deal page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import (
    concession_form,
    create_deal,
    fill_concession,
    level_is,
    log_concession,
    log_in,
    outcome,
    room_used,
    status,
    walk_away_form,
)

pytestmark = pytest.mark.browser


def test_without_javascript_a_rep_can_still_negotiate_ask_retract_and_walk_away(nojs_page):
    page = nojs_page
    log_in(page, "rep")
    create_deal(page, "Folding line for Acme", opening="10000", floor="9000")
    deal_url = page.url
    assert re.search(r"/deals/\d+/$", deal_url), deal_url
    room_used(page, 0)

    log_concession(page, "500", "5% off the list price", "A two-year contract")
    expect(page).to_have_url(deal_url)
    room_used(page, 50)
    level_is(page, "Caution")
    expect(page.get_by_text("Logged $500.00.")).to_be_visible()

    log_concession(page, "300", "Free installation", "Signature this week")
    expect(page).to_have_url(deal_url)
    room_used(page, 80)
    level_is(page, "Danger")

    log_concession(page, "100", "Free training day")
    room_used(page, 90)
    expect(status(page)).to_contain_text("$100.00 left before your floor")

    fill_concession(page, "250", "Another 2.5% off")
    concession_form(page).get_by_role("button", name="Log concession").click()
    refusal = page.get_by_role("alert").filter(has_text="below your walk-away floor")
    expect(refusal).to_contain_text("$150.00 below your walk-away floor")
    refusal.get_by_role("button", name="Ask for approval").click()
    expect(page).to_have_url(deal_url)
    expect(page.locator("#pending-requests")).to_contain_text("Waiting for approval")
    expect(page.locator("#pending-requests")).to_contain_text("$250.00")
    room_used(page, 90)

    # Without htmx, "Retract" is a link to its own page.
    row = page.locator("#concessions .concession:not(.is-retraction)").filter(
        has_text="Free training day"
    )
    row.get_by_role("link", name="Retract").click()
    expect(page.get_by_role("heading", name="Retract concession")).to_be_visible()
    page.get_by_label("Reason").fill("Logged on the wrong deal")
    page.get_by_role("button", name="Retract concession").click()
    expect(page).to_have_url(deal_url)
    room_used(page, 80)
    expect(row).to_contain_text("Retracted.")

    form = walk_away_form(page)
    form.get_by_label("Reason").fill("They want 15% off; we cannot")
    form.get_by_role("button", name="Walk away").click()
    # Without JavaScript closing asks on a page of its own.
    expect(page.get_by_role("heading", name="Walk away?")).to_be_visible()
    expect(page.get_by_text("You will walk away at a net of $9,200.00.")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(deal_url)
    expect(outcome(page)).to_contain_text("You walked away at a net of $9,200.00")

    outcome(page).get_by_role("button", name="Reopen deal").click()
    expect(page).to_have_url(deal_url)
    expect(page.locator("#deal-meta")).to_contain_text("Came back")
    expect(concession_form(page).get_by_label("Amount")).to_be_visible()
