"""Issue 13 in a real browser, at 375 by 812 (a phone) and 1280 by 800: the desk's first screen, the
money typed the person's way, the gauge's ghost and labelled marks, the refusal's three ways on,
closing through the dialog, and the deals list's search."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .pages import (
    concession_form,
    create_deal,
    fill_concession,
    log_concession,
    log_in,
    meter,
    room_used,
    status,
)

pytestmark = pytest.mark.browser

SIZES = [
    pytest.param({"width": 375, "height": 812}, id="phone"),
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
]


def in_first_screen(page, locator, height: int) -> None:
    box = locator.bounding_box()
    assert box is not None, "not drawn"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{locator} is at {box['y']:.0f}..{box['y'] + box['height']:.0f}, "
        f"outside the first {height}px"
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_desk_through_a_negotiation(page, size):
    page.set_viewport_size(size)
    log_in(page, "rep")
    create_deal(page, "Press upgrade for Acme", opening="40000", floor="38000")
    page.reload()  # the first screen of the page as it is opened, without "Deal created"
    # Item 2: the gauge, the status, Amount and "Log concession" are in the first screen.
    form = concession_form(page)
    for part in (
        meter(page),
        status(page),
        form.get_by_label("Amount"),
        form.get_by_role("button", name="Log concession"),
    ):
        in_first_screen(page, part, size["height"])

    # Item 1: an amount that reads two ways is refused, naming both readings.
    fill_concession(page, "1.600", "A discount")
    expect(page.locator("#preview")).to_contain_text("1,600.00 or 1.60")
    # Item 1 and 3: "5%" becomes its amount, shown before anything is logged, and on the gauge.
    fill_concession(page, "2%", "A discount")
    expect(page.locator("#preview")).to_contain_text("That is $800.00. After this: 40%")
    expect(page.locator("#meter-visual .meter-ghost")).to_have_attribute("width", "40.0")
    for label in ("Caution", "Danger", "Floor"):
        expect(page.locator("#meter-visual .mark-label", has_text=label)).to_have_count(1)
    form.get_by_role("button", name="Log concession").click()
    room_used(page, 40)
    # After a log the new entry is visible without scrolling: the status says what was logged.
    expect(status(page)).to_contain_text("Logged $800.00")
    in_first_screen(page, status(page), size["height"])

    # Item 5: the refusal's third way on, "Log what fits".
    log_concession(page, "5k", "A bigger discount")
    refusal = page.get_by_role("alert").filter(has_text="below your walk-away floor")
    expect(refusal.get_by_role("button", name="Log what fits")).to_be_visible()
    # Item 4: one message per action: the refusal replaced "Logged".
    expect(status(page)).not_to_contain_text("Logged")
    refusal.get_by_role("button", name="Log what fits").click()
    room_used(page, 100)

    # Item 5: closing asks to confirm, in a dialog, saying what will be recorded.
    page.locator("#outcome").get_by_role("button", name="Mark won").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("won at the current net, $38,000.00")
    dialog.get_by_role("button", name="Confirm").click()
    # Item 4: the closed deal's status names its outcome.
    expect(status(page)).to_contain_text("Won at $38,000.00")

    # Item 9: the deals list searches, and keeps closed deals behind the filter.
    page.get_by_role("link", name="Deals", exact=True).first.click()
    page.get_by_label("Search").fill("Press upgrade")
    page.get_by_label("Status").select_option("closed")
    row = page.locator("#deal-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Won at $38,000.00")
