"""Issue 14 in a real browser: a manager invites a rep, who joins from the emailed link, logs a
concession into Danger; the manager hears of it exactly once, decides the request on a card
with its context without a comment, and reads the dashboard's charts. And a forgotten password
is reset from "Forgot your password?"."""

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

TITLE = "Folding cartons for Birch & Co"
NEW_PASSWORD = "Corrugated-Box-2026"


def emailed_path(mail) -> str:
    (link,) = re.findall(r"https?://[^/\s]+(/\S+)", mail.body)
    return link


def nav(page):
    return page.get_by_role("navigation", name="Main")


def test_a_manager_invites_a_rep_who_joins_and_is_reviewed(make_page, mailoutbox):
    from deals.models import Notification

    manager = make_page()
    log_in(manager, "manager")
    nav(manager).get_by_role("link", name="Team").click()
    expect(manager.get_by_role("heading", name="Team", level=1)).to_be_visible()
    assert_no_serious_violations(manager, "the team page")
    manager.get_by_label("Email", exact=True).fill("nina@example.com")
    manager.get_by_label("Role", exact=True).select_option(label="Rep")
    manager.get_by_role("button", name="Invite").click()
    expect(manager.get_by_text("Invitation sent to nina@example.com.")).to_be_visible()
    invitation = [m for m in mailoutbox if "nina@example.com" in m.to]
    assert len(invitation) == 1
    assert invitation[0].body.count("https://walkaway.example.com/join/") == 1

    rep = make_page()
    rep.goto(emailed_path(invitation[0]))
    expect(rep.get_by_role("heading", name=re.compile("^Join"))).to_be_visible()
    assert_no_serious_violations(rep, "the invitation page")
    rep.get_by_label("Username").fill("nina")
    rep.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    rep.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    rep.get_by_role("button", name="Join team").click()
    expect(rep.get_by_role("heading", name="Deals", exact=True)).to_be_visible()
    expect(rep.locator(".whoami")).to_have_text("nina")

    create_deal(rep, TITLE, opening="10000", floor="9000")
    log_concession(rep, "850", "Free die-cutting", "A 12-month order")
    room_used(rep, 85)
    expect(rep.locator("#status")).to_contain_text("Danger")

    nav(manager).get_by_role("link", name=re.compile(r"^Notifications")).click()
    about_the_deal = manager.locator(".notification").filter(has_text=TITLE)
    expect(about_the_deal).to_have_count(1)
    expect(about_the_deal).to_contain_text("is in Danger")
    assert Notification.objects.filter(user__username="manager", deal__title=TITLE).count() == 1
    assert_no_serious_violations(manager, "the notifications page")
    about_the_deal.get_by_role("button", name="Mark read").click()
    expect(manager.locator(".notification").filter(has_text=TITLE)).not_to_have_class(
        re.compile("is-unread")
    )

    fill_concession(rep, "200", "Another 2% off", "Their logo on our case study")
    concession_form(rep).get_by_role("button", name="Log concession").click()
    refusal = rep.get_by_role("alert").filter(has_text="below your walk-away floor")
    refusal.get_by_role("button", name="Ask for approval").click()
    expect(rep.locator("#pending-requests")).to_contain_text("Waiting for approval")
    rep.goto("/")
    expect(rep.get_by_role("row").filter(has_text=TITLE)).to_contain_text("Waiting for approval")

    nav(manager).get_by_role("link", name=re.compile(r"^Approvals")).click()
    card = manager.locator(".request-card").filter(has_text=TITLE)
    for label, figure in (
        ("Opening price", "$10,000.00"),
        ("Walk-away floor", "$9,000.00"),
        ("Net now", "$9,150.00"),
        ("Room used", "85%"),
    ):
        expect(card.locator(f"div:has(> dt:text-is('{label}')) > dd")).to_contain_text(figure)
    expect(card.locator(".latest-concessions")).to_contain_text("A 12-month order")
    expect(card.locator(".rep-record")).to_contain_text("1 exception asked, 0 granted")
    assert_no_serious_violations(manager, "the approvals page with context")
    card.get_by_role("button", name="Approve").click()
    decided = manager.locator(".request-card").filter(has_text=TITLE)
    expect(decided.locator(".verdict")).to_have_text("Approved")

    nav(manager).get_by_role("link", name="Dashboard").click()
    expect(manager.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    charts = manager.locator("svg[role=img]")
    expect(charts).to_have_count(6)
    for name in ("Room used per rep", "Concession kinds by cost", "Deals entering each level"):
        expect(manager.get_by_role("img", name=re.compile(name))).to_be_visible()
    assert_no_serious_violations(manager, "the dashboard with charts")
    manager.get_by_text("Period and filters").click()
    manager.get_by_label("Period").select_option(label="Last 6 months")
    manager.get_by_role("button", name="Apply filters").click()
    expect(manager).to_have_url(re.compile(r"period=182"))
    expect(charts).to_have_count(6)


def test_the_dashboard_fits_a_phone(make_page):
    phone = make_page(viewport={"width": 375, "height": 740})
    log_in(phone, "manager")
    phone.goto("/dashboard/")
    expect(phone.get_by_role("img", name=re.compile("Room used per rep"))).to_be_visible()
    overflow = phone.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the dashboard is {overflow}px wider than a 375px phone"
    # The first screen shows the figures, not a wall of filters.
    top = phone.locator("#charts-heading").bounding_box()["y"]
    assert top < 740, f"the charts start {top}px down, below the first screen"


def test_a_forgotten_password_is_reset_by_email(page, mailoutbox):
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    assert_no_serious_violations(page, "the password reset page")
    page.get_by_label("Email").fill("rep@example.com")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    (mail,) = [m for m in mailoutbox if "rep@example.com" in m.to]
    page.goto(emailed_path(mail))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    assert_no_serious_violations(page, "the new password page")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    log_in(page, "rep", NEW_PASSWORD)
