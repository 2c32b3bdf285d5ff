"""Accessibility in a real browser: axe finds nothing serious, the deal page fits a phone, and
the keyboard alone can log a concession."""

from __future__ import annotations

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


def test_the_rep_pages_have_no_serious_accessibility_violations(page):
    page.goto("/accounts/login/")
    assert_no_serious_violations(page, "the login page")

    log_in(page, "rep")
    assert_no_serious_violations(page, "the deals list")

    page.get_by_role("link", name="New deal").click()
    expect(page.get_by_role("heading", name="New deal")).to_be_visible()
    assert_no_serious_violations(page, "the new deal page")

    # The same page with its errors showing.
    page.get_by_role("button", name="Create deal").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    expect(page.get_by_label("Title")).to_be_focused()
    assert_no_serious_violations(page, "the new deal page with errors")

    page.goto("/")
    create_deal(page, "Press upgrade for Acme")
    log_concession(page, "500", "5% off the list price", "A two-year contract")
    room_used(page, 50)
    log_concession(page, "350", "Free installation")
    room_used(page, 85)
    fill_concession(page, "200", "Another discount")
    expect(page.locator("#preview")).to_contain_text("After this:")
    assert_no_serious_violations(page, "the deal page with concessions and a preview")

    concession_form(page).get_by_role("button", name="Log concession").click()
    expect(page.get_by_role("alert").filter(has_text="below your walk-away floor")).to_be_visible()
    assert_no_serious_violations(page, "the deal page showing a refused concession")


def test_the_deal_page_fits_a_phone_without_sideways_scrolling(page):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, "rep")
    create_deal(page, "A deal with a rather long title for a narrow phone screen")
    log_concession(page, "500", "5% off the list price", "A two-year contract")
    room_used(page, 50)

    assert_fits_375(page, "the deal page")
    button = concession_form(page).get_by_role("button", name="Log concession")
    button.scroll_into_view_if_needed()
    expect(button).to_be_visible()
    expect(button).to_be_in_viewport()

    fill_concession(page, "600", "Another discount")
    button.click()
    expect(page.get_by_role("alert").filter(has_text="below your walk-away floor")).to_be_visible()
    assert_fits_375(page, "the deal page with a refused concession")


def assert_fits_375(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{where} is {width}px wide on a 375px screen: it scrolls sideways"


def test_the_keyboard_alone_can_log_a_concession(page):
    log_in(page, "rep")
    create_deal(page, "Press upgrade for Acme")
    amount = concession_form(page).get_by_label("Amount")

    # Tab from the top of the page to the Kind field, then fill the form by keyboard only.
    page.locator("body").focus()
    kind = concession_form(page).get_by_label("Kind")
    for _ in range(40):
        page.keyboard.press("Tab")
        if kind.evaluate("el => el === document.activeElement"):
            break
    expect(kind).to_be_focused()
    page.keyboard.press("ArrowDown")  # the second kind: Free product
    page.keyboard.press("Tab")
    expect(amount).to_be_focused()
    page.keyboard.type("250")
    expect(page.locator("#preview")).to_contain_text("After this: 25% of room used")
    page.keyboard.press("Tab")
    page.keyboard.type("A free spare toner kit")
    page.keyboard.press("Tab")
    page.keyboard.type("A case study")
    page.keyboard.press("Tab")
    expect(concession_form(page).get_by_role("button", name="Log concession")).to_be_focused()
    page.keyboard.press("Enter")

    room_used(page, 25)
    row = page.locator("#concessions .concession")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Free product")
    expect(row).to_contain_text("A free spare toner kit")
    expect(amount).to_be_focused()


@pytest.mark.parametrize(
    "size",
    [{"width": 375, "height": 812}, {"width": 1280, "height": 800}],
    ids=["phone", "desktop"],
)
def test_every_deal_state_approvals_and_the_dashboard_pass_axe(page, size):
    """Issue 13: the deal page in every state (open, won, lost, walked away, came back), the
    confirm dialog and page, approvals and the dashboard, at both sizes."""
    from deals.models import Deal

    page.set_viewport_size(size)
    log_in(page, "manager")
    for status in Deal.Status.values:
        deal = Deal.objects.filter(status=status).order_by("id").first()
        assert deal is not None, f"the demo has no {status} deal"
        page.goto(f"/deals/{deal.pk}/")
        assert_no_serious_violations(page, f"a {status} deal page")
    came_back = Deal.objects.filter(came_back=True, status=Deal.Status.OPEN).first()
    page.goto(f"/deals/{came_back.pk}/")
    assert_no_serious_violations(page, "a deal the customer came back to")
    page.locator("#outcome").get_by_role("button", name="Mark won").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_no_serious_violations(page, "the confirm dialog")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    page.goto(f"/deals/{came_back.pk}/confirm/won/?final_price=")
    assert_no_serious_violations(page, "the confirm page")
    for url, where in (("/approvals/", "approvals"), ("/dashboard/", "the dashboard")):
        page.goto(url)
        assert_no_serious_violations(page, where)
