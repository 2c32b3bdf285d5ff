"""Steps a person takes in the browser, shared by the browser tests."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

for _module in ("playwright", "axe_playwright_python"):
    if importlib.util.find_spec(_module) is None:
        _reason = f"browser tests need {_module}: pip install -e '.[test]'"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {_reason}", pytrace=False)
        pytest.skip(_reason, allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

DEMO_PASSWORD = "walkaway"


def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Through the real login page, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()


def create_deal(
    page: Page, title: str, *, opening: str = "10000", floor: str = "9000", customer: str = "Acme"
) -> None:
    page.get_by_role("link", name="New deal").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Customer").fill(customer)
    page.get_by_label("Currency").select_option("USD")
    page.get_by_label("Opening price").fill(opening)
    page.get_by_label("Walk-away floor").fill(floor)
    page.get_by_role("button", name="Create deal").click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def meter(page: Page):
    return page.get_by_role("meter", name="Room used")


def status(page: Page):
    """The deal's live region (the page has others: messages, connection status)."""
    return page.locator("#status")


def concession_form(page: Page):
    return page.locator("#concession-form")


def fill_concession(
    page: Page, amount: str, gave: str, got: str = "", kind: str = "Price discount"
) -> None:
    form = concession_form(page)
    # A freshly swapped form is wired to htmx a moment after it appears (the settle delay);
    # typing before that sends no preview request, so wait until htmx has processed the field.
    page.wait_for_function(
        """() => {
            if (!window.htmx) return true;
            const field = document.querySelector("#concession-form [name=amount]");
            const data = field && field["htmx-internal-data"];
            return Boolean(data && data.initHash);
        }"""
    )
    form.get_by_label("Kind").select_option(label=kind)
    form.get_by_label("Amount").fill(amount)
    form.get_by_label("What you gave").fill(gave)
    form.get_by_label("What you got in return").fill(got)


def log_concession(page: Page, amount: str, gave: str, got: str = "") -> None:
    """Submit one concession. With htmx the answer swaps the form, so wait for its outcome (the
    meter) before typing the next one, or the typing lands in the form being replaced."""
    fill_concession(page, amount, gave, got)
    concession_form(page).get_by_role("button", name="Log concession").click()


def outcome(page: Page):
    return page.locator("#outcome")


def walk_away_form(page: Page):
    return (
        outcome(page)
        .locator("form")
        .filter(has=page.get_by_role("button", name="Walk away", exact=True))
    )


def room_used(page: Page, percent: int) -> None:
    """The gauge shows `percent`, and htmx has finished with the answer that set it. Its settle
    step (20 ms later) moves focus to the autofocus field, Amount after a log: typing into
    another field before then would land in Amount. Polled from Playwright, not the page, so
    it also works with JavaScript off."""
    expect(meter(page)).to_have_attribute("aria-valuenow", str(percent))
    expect(page.locator(".htmx-swapping, .htmx-settling")).to_have_count(0)


def level_is(page: Page, words: str) -> None:
    expect(status(page)).to_contain_text(re.compile(rf"\b{re.escape(words)}\b"))


BLOCKING_IMPACTS = {"serious", "critical"}


def assert_no_serious_violations(page: Page, where: str) -> None:
    """axe-core on the page as it is now; "minor" and "moderate" findings do not fail a test."""
    if not _timers_run(page):
        pytest.fail(
            f"axe cannot check {where}: JavaScript is off in this page, so axe would wait "
            "forever. Check the same page in a context with JavaScript on."
        )
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(
            f"    {', '.join(map(str, n['target']))}: {n['html'][:160]}" for n in v["nodes"]
        )
        for v in blocking
    )
    assert not blocking, f"axe found serious problems on {where}:\n{report}"


def _timers_run(page: Page) -> bool:
    """axe.run waits on timers, and page.evaluate has no timeout: with JavaScript off (timers
    never fire) it would hang the whole run instead of failing."""
    page.evaluate("() => { window.__tick = false; setTimeout(() => { window.__tick = true; }); }")
    try:
        page.wait_for_function("() => window.__tick === true", timeout=5_000)
    except PlaywrightTimeoutError:
        return False
    return True


def duplicate_ids(page: Page) -> list[str]:
    """Ids used more than once: an out-of-band swap that added instead of replaced shows here."""
    return page.evaluate(
        """() => {
            const seen = new Map();
            for (const el of document.querySelectorAll("[id]")) {
                seen.set(el.id, (seen.get(el.id) || 0) + 1);
            }
            return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
        }"""
    )
