"""The manager's side in a real browser: a rep's request for an exception reaches Approvals, is
approved with a comment that the deal's history keeps, and the dashboard exports its CSV."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import (
    assert_no_serious_violations,
    concession_form,
    create_deal,
    fill_concession,
    log_concession,
    log_in,
    room_used,
)

pytestmark = pytest.mark.browser

TITLE = "Press upgrade for Acme"
COMMENT = "Approved: the three-year term is worth it"


def ask_for_an_exception(page) -> None:
    """The rep's part: 900 of 1,000 room used, then a 250 give that would go 150 below."""
    log_in(page, "rep")
    create_deal(page, TITLE, opening="10000", floor="9000")
    log_concession(page, "500", "5% off the list price", "A two-year contract")
    room_used(page, 50)
    log_concession(page, "400", "Free installation", "Signature this week")
    room_used(page, 90)
    fill_concession(page, "250", "Another 2.5% off", "A three-year term")
    concession_form(page).get_by_role("button", name="Log concession").click()
    refusal = page.get_by_role("alert").filter(has_text="below your walk-away floor")
    refusal.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#pending-requests")).to_contain_text("Waiting for approval")


def test_a_manager_approves_a_reps_request_and_exports_the_deals(make_page):
    ask_for_an_exception(make_page())

    page = make_page()
    log_in(page, "manager")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Approvals")
    ).click()
    expect(page.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    card = page.locator(".request-card").filter(has_text=TITLE)
    expect(card).to_be_visible()
    assert_no_serious_violations(page, "the approvals page")
    expect(card.locator("div:has(> dt:text-is('Rep')) > dd")).to_have_text("rep")
    expect(card).to_contain_text("$250.00")
    expect(card).to_contain_text("$150.00")  # the shortfall below the floor
    card.get_by_label("Comment").fill(COMMENT)
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".request-card").filter(has_text=TITLE)).to_contain_text(
        "Approved: the concession is logged"
    )
    expect(
        page.locator(".request-card").filter(has_text=TITLE).get_by_label("Comment")
    ).to_have_count(0)

    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    room_used(page, 115)
    expect(page.locator("#status")).to_contain_text("Below floor")
    expect(page.locator("#pending-requests")).to_have_count(0)
    history = page.locator("#history")
    expect(history.get_by_role("heading", name="History")).to_be_visible()
    approval = history.locator("li").filter(has_text=COMMENT)
    expect(approval).to_have_count(1)
    expect(approval.locator(".who")).to_contain_text("manager,")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert_no_serious_violations(page, "the dashboard")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    with open(download.path(), encoding="utf-8-sig") as f:
        csv_text = f.read()
    assert TITLE in csv_text
