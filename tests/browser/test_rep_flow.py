"""The rep's negotiation desk in a real browser, with htmx doing the updates in place."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import (
    concession_form,
    create_deal,
    duplicate_ids,
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


def no_reload_since_marked(page) -> bool:
    return page.evaluate("window.__marker") == 1


def test_a_rep_negotiates_down_to_the_floor_and_walks_away_without_a_page_reload(page):
    log_in(page, "rep")
    create_deal(page, "Press upgrade for Acme", opening="10000", floor="9000")
    page.evaluate("window.__marker = 1")
    room_used(page, 0)
    level_is(page, "On track")
    expect(status(page)).to_contain_text("$1,000.00 left before your floor")

    # The preview answers "what if" while typing, and nothing is logged by it.
    amount = concession_form(page).get_by_label("Amount")
    amount.fill("500")
    expect(page.locator("#preview")).to_have_text(
        re.compile(r"After this: 50% of room used .* Caution")
    )
    expect(page.locator("#concessions")).to_contain_text("No concessions yet")
    room_used(page, 0)

    log_concession(page, "500", "5% off the list price", "A two-year contract")
    room_used(page, 50)
    level_is(page, "Caution")
    expect(status(page)).to_contain_text("$500.00 left before your floor")
    # Ready for the next give: the amount has focus and the form is blank again.
    expect(amount).to_be_focused()
    expect(amount).to_have_value("")
    expect(concession_form(page).get_by_label("What you gave")).to_have_value("")
    expect(concession_form(page).get_by_label("What you got in return")).to_have_value("")
    expect(page.locator("#preview")).to_have_text("")

    log_concession(page, "300", "Free installation", "Signature this week")
    room_used(page, 80)
    level_is(page, "Danger")

    log_concession(page, "100", "Free training day")
    room_used(page, 90)
    level_is(page, "Danger")
    expect(page.locator("#concessions .concession")).to_have_count(3)
    # Each log put its concession and events on top of the lists the page already had.
    expect(page.locator("#concessions .concession .gave")).to_have_text(
        ["Free training day", "Free installation", "5% off the list price"]
    )
    expect(page.locator("#concession-count")).to_have_text("(3)")
    expect(page.locator("#history .event").first).to_contain_text("Free training day")
    expect(page.locator("#history .event").nth(1)).to_contain_text("Level changed")
    expect(page.locator("#floor-panel")).to_contain_text("Locked since the first concession")

    # Past the floor: refused, with the two ways on.
    fill_concession(page, "250", "Another 2.5% off")
    concession_form(page).get_by_role("button", name="Log concession").click()
    refusal = page.get_by_role("alert").filter(has_text="below your walk-away floor")
    expect(refusal).to_contain_text("$150.00 below your walk-away floor")
    expect(refusal.get_by_role("button", name="Walk away")).to_be_visible()
    # The button that was pressed is gone; focus goes to the explanation, not the page top.
    expect(refusal).to_be_focused()
    room_used(page, 90)
    assert duplicate_ids(page) == []

    refusal.get_by_role("button", name="Ask for approval").click()
    pending = page.locator("#pending-requests")
    expect(pending).to_contain_text("Waiting for approval")
    expect(pending).to_contain_text("$250.00")
    expect(refusal).to_have_count(0)
    room_used(page, 90)

    # Undo the free training day: a retraction, not an edit.
    row = page.locator("#concessions .concession:not(.is-retraction)").filter(
        has_text="Free training day"
    )
    row.get_by_role("link", name="Retract").click()
    row.get_by_label("Reason").fill("Logged on the wrong deal")
    row.get_by_role("button", name="Retract concession").click()
    room_used(page, 80)
    expect(row).to_contain_text("Retracted.")
    retraction = page.locator("#concessions .concession.is-retraction")
    expect(retraction).to_contain_text("Logged on the wrong deal")

    form = walk_away_form(page)
    form.get_by_label("Reason").fill("They want 15% off; we cannot")
    form.get_by_role("button", name="Walk away").click()
    # Closing asks to confirm first, saying what will be recorded.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Walk away at a net of $9,200.00?")
    expect(page.locator("#deal-meta")).to_contain_text("Open")
    dialog.get_by_role("button", name="Confirm").click()
    expect(outcome(page)).to_contain_text("You walked away at a net of $9,200.00")
    expect(page.locator("#deal-meta")).to_contain_text("Walked away")
    expect(concession_form(page)).to_have_count(0)
    expect(outcome(page).get_by_role("heading", name="Outcome")).to_be_focused()

    comeback = outcome(page).get_by_role("form", name="Customer came back")
    comeback.get_by_label("Their offer").fill("9,400")
    comeback.get_by_label("Note").fill("They called back after the competitor's quote fell through")
    comeback.get_by_role("button", name="Reopen deal").click()
    expect(page.locator("#deal-meta")).to_contain_text("Came back")
    expect(outcome(page)).to_contain_text("offering $9,400.00")
    expect(page.locator("#deal-meta")).to_contain_text("Open")
    expect(concession_form(page).get_by_label("Amount")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Customer came back:")

    assert no_reload_since_marked(page), "an htmx step reloaded the whole page"
    assert duplicate_ids(page) == []
