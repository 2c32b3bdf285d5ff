"""Issue 13 in a real browser, at 375 by 812 (a phone) and 1280 by 800, item by item: the desk's
first screen and the new entry in it (2), the money typed the person's way (1), the gauge's ghost
and labelled marks (3), one message per action (4), the refusal's three ways on and closing
through the dialog (5), correcting and editing (6), the comeback (7), the waterfall (8), the deals
list (9) and the copy (10)."""

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
    meter,
    outcome,
    room_used,
    status,
)

pytestmark = pytest.mark.browser

SIZES = [
    pytest.param({"width": 375, "height": 812}, id="phone"),
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
]


def log_button(page):
    return concession_form(page).get_by_role("button", name="Log concession")


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
    # Item 2: after a log the new entry is visible without scrolling.
    entry = status(page).locator(".logged-entry")
    expect(entry).to_contain_text("Logged $800.00 (Price discount): A discount · Nothing in return")
    # Where the page stands after the log (focus is back in Amount): the entry, and what the
    # next log needs, without scrolling.
    for part in (entry, meter(page), form.get_by_label("Amount"), log_button(page)):
        in_first_screen(page, part, size["height"])
    # Item 4: the page load's "Deal created" went with the action that followed it.
    expect(page.locator("#messages")).to_be_empty()

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


def close_through_the_dialog(page, button: str) -> None:
    outcome(page).get_by_role("button", name=button, exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()


@pytest.mark.parametrize("size", SIZES)
def test_a_typo_is_corrected_in_one_step_and_the_details_are_edited(page, size):
    """Item 6."""
    page.set_viewport_size(size)
    log_in(page, "rep")
    create_deal(page, "Press upgrade for Acme", opening="10000", floor="9000")
    fill_concession(page, "150", "Two training days", kind="Free service")
    concession_form(page).get_by_role("button", name="Log concession").click()
    room_used(page, 15)
    # The kind chosen last is kept for the next log.
    expect(concession_form(page).get_by_label("Kind")).to_have_value("free_service")

    # The author corrects the typo from its row: one step, one correction in the history.
    row = page.locator("#concession-items > li").first
    row.get_by_role("link", name="Correct").click()
    correction = row.locator(".correct-form")
    correction.get_by_label("Amount").fill("100")
    correction.get_by_role("button", name="Save correction").click()
    room_used(page, 10)
    expect(status(page)).to_contain_text("Corrected $150.00 to $100.00.")
    history = page.locator("#history-items > li")
    expect(history.first).to_contain_text("Concession corrected")
    expect(history.first).to_contain_text("$150.00")
    expect(history.first).to_contain_text("$100.00")
    # Created, logged, corrected: no separate retraction and no second "logged".
    expect(history).to_have_count(3)
    expect(page.locator("#figures")).to_contain_text("$100.00")

    # Title, customer and cost are edited from the deal page, each change kept as an event.
    deal_page = page.url
    page.locator("#deal-meta").get_by_role("link", name="Edit details").click()
    expect(page.locator("#edit-slot").get_by_role("form", name="Edit details")).to_be_visible()
    assert page.url == deal_page
    page.get_by_label("Title").fill("Press upgrade, phase two")
    page.get_by_label("Customer").fill("Acme Print")
    page.get_by_label("Cost to deliver").fill("6000")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1, name="Press upgrade, phase two")).to_be_visible()
    expect(page.locator("#deal-meta")).to_contain_text("Acme Print")
    expect(page.locator("#figures")).to_contain_text("Margin")
    expect(page.locator("#history")).to_contain_text("Press upgrade, phase two")
    expect(page.locator("#history")).to_contain_text("Acme Print")


@pytest.mark.parametrize("size", SIZES)
def test_a_walked_away_customer_comes_back_with_an_offer(page, size):
    """Item 7."""
    page.set_viewport_size(size)
    log_in(page, "rep")
    create_deal(page, "Labels for Acme", opening="10000", floor="9000")
    log_concession(page, "600", "A discount")
    room_used(page, 60)
    outcome(page).get_by_label("Reason").last.fill("They want the floor and more")
    close_through_the_dialog(page, "Walk away")
    expect(status(page)).to_contain_text("Walked away")
    assert_no_serious_violations(page, f"a walked-away deal at {size['width']} px")

    back = page.locator("#outcome form").filter(has=page.get_by_role("button", name="Reopen deal"))
    # "Came back on" is today unless changed; a day before the walk-away would be refused.
    expect(back.get_by_label("Came back on")).not_to_have_value("")
    back.get_by_label("Their offer").fill("9,600")
    back.get_by_label("Note").fill("They called after the tender fell through")
    back.get_by_role("button", name="Reopen deal").click()
    came_back = page.locator("#outcome .comeback-note")
    expect(came_back).to_contain_text("The customer came back on")
    expect(came_back).to_contain_text(", offering $9,600.00.")
    expect(came_back).to_contain_text("They called after the tender fell through")
    expect(page.locator("#deal-meta")).to_contain_text("Came back")
    expect(page.locator("#history-items > li").first).to_contain_text("Customer came back")
    # Reopened: the desk takes concessions again.
    expect(concession_form(page).get_by_role("button", name="Log concession")).to_be_visible()


CHART_GEOMETRY = """() => {
    const svg = document.querySelector("#chart svg.waterfall");
    const frame = svg.getBoundingClientRect();
    const box = (el) => { const r = el.getBoundingClientRect();
        return {x: r.x, y: r.y, right: r.right, bottom: r.bottom}; };
    // The drawn size: the font size times the chart's scale (the slanted names are rotated).
    const px = (el) => { const m = el.getScreenCTM();
        return parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b); };
    return {
        frame: box(svg),
        texts: [...svg.querySelectorAll("text")].map((t) => ({
            text: t.textContent, cls: t.getAttribute("class"), px: px(t), ...box(t)})),
        bars: [...svg.querySelectorAll("rect")].map(box),
    };
}"""


def overlaps(a, b) -> bool:
    across = a["x"] < b["right"] and b["x"] < a["right"]
    return across and a["y"] < b["bottom"] and b["y"] < a["bottom"]


@pytest.mark.parametrize("size", SIZES)
def test_the_waterfall_names_its_steps_and_reads_on_the_screen(page, size):
    """Item 8."""
    page.set_viewport_size(size)
    log_in(page, "rep")
    create_deal(page, "Press upgrade for Acme", opening="40000", floor="38000")
    gives = [
        ("800", "A discount", "Price discount"),
        ("300", "Two training days", "Free service"),
        ("200", "Sixty-day terms", "Payment terms"),
    ]
    for used, (amount, gave, kind) in zip((40, 55, 65), gives, strict=True):
        fill_concession(page, amount, gave, kind=kind)
        concession_form(page).get_by_role("button", name="Log concession").click()
        room_used(page, used)

    chart = page.locator("#chart")
    # Steps named by kind under their bars, and in full on focus and in the text alternative.
    for name in ("Opening", "Discount", "Service", "Terms", "Net"):
        expect(chart.locator("text.axis", has_text=name)).to_have_count(1)
    expect(chart.locator(".chart-text")).to_contain_text(
        "1. Price discount: $800.00, A discount; 2. Free service: $300.00, Two training days"
    )
    # The keyboard reaches each step from the form before it, and the step says what it is.
    concession_form(page).get_by_role("button", name="Log concession").focus()
    page.keyboard.press("Tab")
    expect(chart.locator(".bar").first).to_be_focused()
    page.keyboard.press("Tab")
    focused = chart.locator(".bar-give").first
    expect(focused).to_be_focused()
    expect(focused).to_have_attribute("aria-label", "1. Price discount: $800.00, A discount")

    drawn = page.evaluate(CHART_GEOMETRY)
    frame = drawn["frame"]
    for t in drawn["texts"]:
        # Nothing clipped: every label inside the chart.
        assert t["x"] >= frame["x"] - 1 and t["right"] <= frame["right"] + 1, t
        assert t["y"] >= frame["y"] - 1 and t["bottom"] <= frame["bottom"] + 1, t
        # Readable: no text drawn smaller than 10 CSS pixels, a phone included.
        assert t["px"] >= 10, t
    for t in drawn["texts"]:
        if t["cls"] in ("floor-label", "value"):
            # The floor's label and the amounts are clear of every bar.
            assert not any(overlaps(t, bar) for bar in drawn["bars"]), t


@pytest.mark.parametrize("size", SIZES)
def test_the_copy_says_each_thing_once_and_plainly(make_page, size):
    """Item 10."""
    page = make_page(viewport=size)
    log_in(page, "rep")
    page.get_by_role("link", name="New deal").click()
    expect(page.get_by_label("Currency").locator("option", has_text="EUR — Euro")).to_have_count(1)
    page.go_back()
    create_deal(page, "Press upgrade for Acme", opening="10000", floor="9000")
    history = page.locator("#history")
    expect(history).not_to_contain_text("Deal created: Deal created")
    log_concession(page, "300", "A discount")
    room_used(page, 30)
    row = page.locator("#concession-items > li").first
    expect(row).to_contain_text("Nothing in return")
    expect(row).not_to_contain_text("In return: nothing in return")

    # A request waiting for a manager was asked "just now", never "0 minutes ago".
    log_concession(page, "900", "A bigger discount")
    refusal = page.get_by_role("alert").filter(has_text="below your walk-away floor")
    refusal.get_by_label("Note for your manager").fill("A three-year contract")
    refusal.get_by_role("button", name="Ask for approval").click()
    pending = page.locator("#pending-requests")
    expect(pending).to_contain_text("just now")
    expect(page.locator("main")).not_to_contain_text("0 minutes ago")
    # Times carry at most three fraction digits, as the HTML standard allows.
    for value in page.locator("time").evaluate_all("ts => ts.map(t => t.dateTime)"):
        fraction = value.split(".", 1)[1] if "." in value else ""
        assert len(fraction.split("+")[0].split("-")[0].rstrip("Z")) <= 3, value

    outcome(page).get_by_label("Reason").last.fill("Too far apart")
    close_through_the_dialog(page, "Walk away")
    expect(status(page)).to_contain_text("Walked away")
    expect(page.locator("main")).not_to_contain_text("This deal is walked away")

    # The dashboard's scrolling tables are reached by the keyboard.
    manager = make_page(viewport=size)
    log_in(manager, "manager")
    manager.get_by_role("link", name="Dashboard").first.click()
    wraps = manager.locator(".table-wrap")
    assert wraps.count() >= 2
    for i in range(wraps.count()):
        expect(wraps.nth(i)).to_have_attribute("tabindex", "0")
    wraps.first.focus()
    expect(wraps.first).to_be_focused()
    assert_no_serious_violations(manager, f"the dashboard at {size['width']} px")


def room_column(page) -> list[float]:
    cells = page.locator("#deal-table tbody td[data-label='Room used']").all_inner_texts()
    return [float(c.strip().rstrip("%").replace(",", "")) for c in cells]


@pytest.mark.parametrize("size", SIZES)
def test_the_deals_list_sorts_and_filters_by_owner_for_a_manager(make_page, size):
    """Item 9, beyond the search: sort by room used, filter by owner; a rep's rows name no
    owner."""
    rep = make_page(viewport=size)
    log_in(rep, "rep")
    expect(rep.locator("#deal-table thead")).not_to_contain_text("Owner")
    expect(rep.locator("#deal-table tbody tr").first).to_be_visible()

    manager = make_page(viewport=size)
    log_in(manager, "manager")
    table = manager.locator("#deal-table")
    expect(table.locator("thead")).to_contain_text("Owner")
    manager.get_by_label("Sort by").select_option(label="Room used")
    expect(manager).to_have_url(re.compile(r"sort=room"))
    expect(table.locator("tbody tr").first).to_be_visible()
    used = room_column(manager)
    assert len(used) >= 2 and used == sorted(used, reverse=True), used

    manager.get_by_label("Owner").select_option(label="Sam Patel (rep2)")
    expect(manager).to_have_url(re.compile(r"owner=\d+"))
    owners = table.locator("tbody td[data-label='Owner']")
    expect(owners.first).to_have_text("rep2")
    assert set(owners.all_inner_texts()) == {"rep2"}
    assert_no_serious_violations(manager, f"the filtered deals list at {size['width']} px")
