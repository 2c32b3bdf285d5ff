"""concession_preview: the "what if" shown while the amount is typed. It writes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.money import TOO_LARGE

from .desk import HTMX, SIZES, STRANGERS, assert_fragment, long_deal, page, rows, words


def url(deal):
    return reverse("concession_preview", args=[deal.pk])


def preview(response) -> str:
    match = re.search(r'<p id="preview"[^>]*>(.*?)</p>', page(response), re.S)
    assert match, "no preview on the page"
    return " ".join(match.group(1).split())


def test_it_shows_the_level_room_used_and_room_left_after_the_amount(client, owner, deal, give):
    give(deal, "300")
    client.force_login(owner)
    response = client.get(url(deal), {"amount": "560"}, **HTMX)
    assert response.status_code == 200
    assert preview(response) == (
        "After this: 86% of room used · Danger · $140.00 left before your floor"
    )
    assert 'class="preview level-danger"' in page(response)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1", "0% of room used · On track · $999.00 left before your floor"),
        ("500", "50% of room used · Caution · $500.00 left before your floor"),
        ("1,000.00", "100% of room used · At your floor · $0.00 left before your floor"),
        ("1000.01", "100% of room used · Below floor · $0.01 below your walk-away floor"),
        ("1500", "150% of room used · Below floor · $500.00 below your walk-away floor"),
    ],
)
def test_the_preview_follows_the_levels_exactly(client, owner, deal, amount, expected):
    client.force_login(owner)
    assert preview(client.get(url(deal), {"amount": amount}, **HTMX)) == f"After this: {expected}"


def test_a_euro_deal_previews_in_euros(client, owner, make_deal):
    deal = make_deal(currency="EUR", opening_price=Decimal("2000"), floor=Decimal("1000"))
    client.force_login(owner)
    response = client.get(url(deal), {"amount": "250"}, **HTMX)
    assert preview(response).endswith("€750.00 left before your floor")


def test_the_preview_writes_nothing(client, owner, deal, give):
    give(deal, "100")
    client.force_login(owner)
    before = rows()
    for amount in ("100", "5000", "abc", ""):
        client.get(url(deal), {"amount": amount}, **HTMX)
        client.get(url(deal), {"amount": amount})
    assert rows() == before
    deal.refresh_from_db()
    assert deal.conceded == Decimal("100.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount greater than zero."),
        ("-5", "Enter a positive amount."),
        ("NaN", "Enter an amount such as 1250.00."),
        ("Infinity", "Enter an amount such as 1250.00."),
        ("1.0001", "Use at most two decimal places."),
        (
            "1.001",
            "“1.001” reads two ways: 1,001.00 or 1.00. "
            "Type it as 1,001.00 or as 1.00, with two decimal places.",
        ),
        (str(10**15), TOO_LARGE),
        ("ten", "Enter an amount such as 1250.00."),
        ("9" * 500, TOO_LARGE),
    ],
)
def test_an_amount_that_is_not_money_says_why(client, owner, deal, amount, message):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": amount}, **HTMX)
    assert response.status_code == 200
    assert preview(response) == message


@pytest.mark.parametrize("amount", ["", "   "])
def test_an_empty_amount_previews_nothing(client, owner, deal, amount):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": amount}, **HTMX)
    assert response.status_code == 200
    assert preview(response) == ""


def test_an_htmx_request_gets_the_preview_fragment_only(client, owner, deal):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": "100"}, **HTMX)
    assert_fragment(response)
    assert page(response).strip().startswith('<p id="preview"')
    # ... and the gauge's drawing out of band, with the ghost of the amount being typed.
    assert page(response).strip().endswith("</div>")
    assert '<div id="meter-visual" class="meter-visual" hx-swap-oob="true">' in page(response)


def test_the_gauge_shows_a_ghost_of_the_amount_in_the_level_it_reaches(client, owner, deal):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": "850"}, **HTMX)
    assert '<rect class="meter-ghost level-danger" x="0" y="0" width="85.0"' in page(response)


def test_the_threshold_marks_are_labelled(client, owner, make_deal):
    deal = make_deal(target_price=Decimal("9700"))
    client.force_login(owner)
    shown = page(client.get(reverse("deal_detail", args=[deal.pk])))
    for label, x in (("Target", "30.0%"), ("Caution", "50%"), ("Danger", "80%"), ("Floor", "100%")):
        assert re.search(rf'x="{re.escape(x)}"[^>]*>{label}</text>', shown), label


def test_without_javascript_the_whole_page_shows_the_preview_and_keeps_the_amount(
    client, owner, deal
):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": "560"})
    assert response.status_code == 200
    assert "<html" in page(response)
    assert preview(response).startswith("After this: 56% of room used · Caution")
    assert re.search(r'name="amount" id="id_amount"[^>]*value="560"', page(response), re.S)
    assert "Log concession" in words(response)


def test_the_amount_input_asks_for_the_preview_as_it_is_typed(client, owner, deal):
    client.force_login(owner)
    body = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert f'hx-get="{url(deal)}"' in body
    assert 'hx-target="#preview"' in body


def test_user_text_in_the_amount_is_shown_escaped(client, owner, deal):
    client.force_login(owner)
    response = client.get(url(deal), {"amount": '<img src=x onerror=alert(1)> hx-get="/x"'})
    assert "<img src=x" not in page(response)
    assert 'hx-get="/x"' not in page(response)
    assert "&lt;img" in page(response)


@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404(client, request, deal, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(deal), {"amount": "100"}, **HTMX).status_code == 404
    assert client.get(url(deal), {"amount": "100"}).status_code == 404


def test_the_teams_manager_gets_the_preview(client, manager, deal):
    client.force_login(manager)
    response = client.get(url(deal), {"amount": "100"}, **HTMX)
    assert preview(response).startswith("After this: 10% of room used")


def test_an_anonymous_visitor_is_sent_to_log_in(client, deal):
    response = client.get(url(deal), {"amount": "100"}, **HTMX)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_is_allowed(client, owner, deal, method):
    client.force_login(owner)
    before = rows()
    assert getattr(client, method)(url(deal), {"amount": "100"}).status_code == 405
    assert rows() == before


@pytest.mark.parametrize("n", SIZES)
def test_the_preview_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(4):
        response = client.get(url(deal), {"amount": "10"}, **HTMX)
    assert preview(response).startswith("After this: 0% of room used · On track")
    with django_assert_max_num_queries(11):
        assert client.get(url(deal), {"amount": "10"}).status_code == 200
