"""Issue 13, items 4 and 10: feedback that does not go stale, and the copy and markup fixes."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import DealEvent
from deals.templatetags.walkaway import ago, iso_datetime

from .desk import HTMX, page, words
from .test_deal_detail import status_region


def detail(deal):
    return reverse("deal_detail", args=[deal.pk])


@pytest.mark.parametrize(
    ("close", "said"),
    [
        (
            lambda d, u: services.deal_win(deal=d, user=u, final_price=Decimal("9500")),
            "Won at $9,500.00",
        ),
        (lambda d, u: services.deal_lose(deal=d, user=u, reason="price"), "Lost"),
        (lambda d, u: services.deal_walk_away(deal=d, user=u, reason="No"), "Walked away"),
    ],
    ids=["won", "lost", "walked away"],
)
def test_a_closed_deal_status_names_its_outcome(client, owner, deal, give, close, said):
    give(deal, "800")
    close(deal, owner)
    client.force_login(owner)
    response = client.get(detail(deal))
    assert status_region(response) == said
    assert "left before your floor" not in status_region(response)
    assert "This deal is" not in words(response)


def test_a_refusal_replaces_the_last_logged_message(client, owner, deal, give):
    client.force_login(owner)
    logged = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "100", "description": "A"},
        **HTMX,
    )
    assert "Logged $100.00 (Price discount)" in page(logged)
    refused = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "5000", "description": "B"},
        **HTMX,
    )
    assert refused.status_code == 409
    oob = re.search(r'<div id="status" hx-swap-oob="innerHTML">(.*?)</div>', page(refused), re.S)
    assert oob, "the refusal does not redraw the status region"
    assert "Logged" not in oob.group(1)


def test_the_history_does_not_say_deal_created_twice(client, owner, deal):
    client.force_login(owner)
    assert "Deal created: Deal created" not in words(client.get(detail(deal)))
    assert DealEvent.objects.get(kind="created").summary.startswith("Opening price $10,000.00")


def test_a_give_without_a_get_says_so_once(client, owner, deal, give):
    give(deal, "50", description="Free delivery")
    client.force_login(owner)
    text = words(client.get(detail(deal)))
    assert "Free delivery Nothing in return" in text
    assert "In return: nothing in return" not in text


def test_times_are_never_zero_minutes_ago():
    assert ago(timezone.now()) == "just now"
    assert ago(timezone.now() - timedelta(minutes=5)) == "5\xa0minutes ago"


def test_datetime_attributes_have_at_most_three_fraction_digits(client, owner, deal, give):
    give(deal, "50")
    client.force_login(owner)
    for value in re.findall(r'datetime="([^"]+)"', page(client.get(detail(deal)))):
        fraction = re.search(r"\.(\d+)", value)
        assert fraction is None or len(fraction.group(1)) <= 3, value
    moment = timezone.now().replace(microsecond=123456)
    assert iso_datetime(moment).endswith(".123+00:00")


def test_the_currency_choices_name_each_currency(client, owner):
    client.force_login(owner)
    assert ">EUR — Euro</option>" in page(client.get(reverse("deal_create")))


def test_each_waterfall_step_takes_focus_and_names_its_kind_amount_and_give(
    client, owner, deal, give
):
    give(deal, "250", kind="free_service", description="Two training days")
    client.force_login(owner)
    shown = page(client.get(detail(deal)))
    assert (
        '<g class="bar bar-give" tabindex="0" role="img" '
        'aria-label="1. Free service: $250.00, Two training days">'
    ) in shown


def test_a_log_shows_the_new_entry_in_the_status_region_with_its_correct_link(client, owner, deal):
    client.force_login(owner)
    logged = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "free_service", "amount": "120", "description": "Two training days"},
        **HTMX,
    )
    oob = re.search(r'<div id="status" hx-swap-oob="innerHTML">(.*?)</div>', page(logged), re.S)
    assert oob, "the log does not redraw the status region"
    concession = deal.concessions.get()
    said = " ".join(re.sub(r"<[^>]+>", " ", oob.group(1)).split())
    assert "Logged $120.00 (Free service): Two training days · Nothing in return · Correct" in said
    correct = reverse("concession_correct", args=[deal.pk, concession.pk])
    assert f'<a href="{correct}">Correct</a>' in oob.group(1)


def test_the_new_entry_offers_correct_only_while_it_may_be_corrected(client, owner, deal, settings):
    settings.WALKAWAY_CORRECT_MINUTES = 0
    client.force_login(owner)
    logged = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "80", "description": "A", "got_in_return": "B"},
        **HTMX,
    )
    oob = re.search(r'<div id="status" hx-swap-oob="innerHTML">(.*?)</div>', page(logged), re.S)
    assert "In return: B" in oob.group(1)
    assert ">Correct</a>" not in oob.group(1)


def test_a_resubmitted_log_shows_no_new_entry(client, owner, deal):
    client.force_login(owner)
    form = {"kind": "price_discount", "amount": "80", "description": "A", "form_key": "k1"}
    first = client.post(reverse("concession_log", args=[deal.pk]), form, **HTMX)
    retry = client.post(reverse("concession_log", args=[deal.pk]), form, **HTMX)
    assert "logged-entry" in page(first)
    assert "already logged" in page(retry) and "logged-entry" not in page(retry)


@pytest.mark.parametrize("action", ["log", "refusal"])
def test_an_htmx_action_empties_the_last_page_loads_messages(client, owner, deal, action):
    client.force_login(owner)
    amount = "100" if action == "log" else "5000"
    answer = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": amount, "description": "A"},
        **HTMX,
    )
    assert '<div id="messages" hx-swap-oob="innerHTML"></div>' in page(answer)


def test_the_messages_region_is_on_every_page_even_when_empty(client, owner, deal):
    client.force_login(owner)
    assert '<div id="messages" role="status"></div>' in page(client.get(detail(deal)))


def test_no_template_holds_a_comment_that_django_would_print():
    """{# ... #} is one line only; one that spans lines is drawn on the page as text."""
    from pathlib import Path

    from django.conf import settings

    leaks = []
    for root in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(root).rglob("*.html"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "{#" in line and "#}" not in line.split("{#", 1)[1]:
                    leaks.append(f"{path}:{number}")
    assert not leaks, leaks


def test_no_page_shows_template_syntax(client, owner, manager, deal, give):
    """What a template tag or comment that did not parse leaves behind: text a person reads."""
    give(deal, "100")
    pages = {
        owner: [detail(deal), reverse("deal_list"), reverse("deal_create"), reverse("settings")],
        manager: [reverse("approvals"), reverse("dashboard"), reverse("notifications")],
    }
    for person, urls in pages.items():
        client.force_login(person)
        for path in urls:
            shown = words(client.get(path))
            leaks = [m for m in ("{#", "#}", "{%", "%}", "{{", "}}") if m in shown]
            assert not leaks, (path, leaks)
