"""deal_create: a new deal is born with its walk-away floor (rule 1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deals.models import Deal, DealEvent, Membership, Role

from .desk import (
    HTMX,
    NASTY,
    assert_escaped,
    assert_field_in_error,
    assert_fragment,
    field_error,
    long_deal,
    page,
    rows,
)

URL = reverse("deal_create")


def typed(**changes) -> dict:
    values = {
        "title": "Annual print contract",
        "customer": "Inkwell Print Ltd",
        "currency": "USD",
        "opening_price": "12,500.00",
        "floor": "10000",
        "cost": "",
    }
    values.update(changes)
    return values


def test_the_form_asks_for_the_floor_before_anything_is_conceded(client, owner):
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    body = page(response)
    for label in ("Title", "Customer", "Currency", "Opening price", "Walk-away floor"):
        assert f">{label}</label>" in body
    assert '>Cost to deliver <span class="optional">(optional)</span></label>' not in body
    assert ">Cost to deliver</label>" in body
    assert '<option value="USD" selected>USD — US Dollar</option>' in body
    assert ">Create deal</button>" in body


def test_a_get_changes_nothing(client, owner):
    client.force_login(owner)
    before = rows()
    client.get(URL)
    client.get(URL, **HTMX)
    assert rows() == before


def test_it_creates_the_deal_with_its_floor_and_goes_to_its_page(client, owner, team):
    client.force_login(owner)
    response = client.post(URL, typed(cost="8,000"))
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("deal_detail", args=[deal.pk])
    assert (deal.owner, deal.team, deal.title, deal.customer, deal.currency) == (
        owner,
        team,
        "Annual print contract",
        "Inkwell Print Ltd",
        "USD",
    )
    assert deal.opening_price == Decimal("12500.00")
    assert deal.floor == Decimal("10000.00")
    assert deal.cost == Decimal("8000.00")
    assert deal.conceded == Decimal("0.00")
    event = DealEvent.objects.get(deal=deal)
    assert event.kind == DealEvent.Kind.CREATED
    assert event.actor == owner
    followed = client.get(response.headers["Location"])
    assert "Deal created. Your walk-away floor is set." in page(followed)


def test_an_empty_cost_means_no_cost(client, owner):
    client.force_login(owner)
    client.post(URL, typed())
    assert Deal.objects.get().cost is None


def test_a_floor_of_zero_is_allowed(client, owner):
    client.force_login(owner)
    client.post(URL, typed(floor="0"))
    assert Deal.objects.get().floor == Decimal("0.00")


def test_an_htmx_post_redirects_the_browser_to_the_new_deal(client, owner):
    client.force_login(owner)
    response = client.post(URL, typed(currency="EUR"), **HTMX)
    deal = Deal.objects.get()
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse("deal_detail", args=[deal.pk])
    assert deal.currency == "EUR"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("opening_price", "0", "Enter an amount greater than zero."),
        ("opening_price", "-100", "Enter a positive amount."),
        ("opening_price", "NaN", "Enter an amount such as 1250.00."),
        ("opening_price", "Infinity", "Enter an amount such as 1250.00."),
        ("opening_price", "100.0001", "Use at most two decimal places."),
        ("opening_price", str(10**15), "That amount is too large."),
        ("opening_price", "lots", "Enter an amount such as 1250.00."),
        ("opening_price", "12,50", "Enter an amount such as 1,250.00."),
        ("opening_price", "", "This field is required."),
        ("floor", "-1", "Enter a positive amount."),
        ("floor", "12500", "The walk-away floor must be below the opening price."),
        ("floor", "13000", "The walk-away floor must be below the opening price."),
        ("floor", "", "This field is required."),
        ("cost", "-5", "Enter a positive amount."),
        ("currency", "XXY", "Select a valid choice."),
        ("currency", "", "This field is required."),
        ("title", "", "This field is required."),
        ("title", "x" * 201, "at most 200 characters"),
        ("customer", "", "This field is required."),
        ("title", "nul\x00byte", "This text contains a character that cannot be stored."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_gets_a_message_next_to_the_field_and_stores_nothing(
    client, owner, field, value, message, htmx
):
    client.force_login(owner)
    before = rows()
    response = client.post(URL, typed(**{field: value}), **(HTMX if htmx else {}))
    assert response.status_code == 422
    if field == "team":
        assert message in field_error(response, "id_team")
    else:
        assert_field_in_error(response, f"id_{field}", message)
    assert rows() == before
    if htmx:
        assert_fragment(response)
        assert page(response).lstrip().startswith('<form id="deal-form"')


def test_the_form_keeps_what_was_typed_on_error(client, owner):
    client.force_login(owner)
    response = client.post(
        URL, typed(currency="EUR", floor="13,000.00", cost="9000", title="Spring catalogue")
    )
    body = page(response)
    assert response.status_code == 422
    assert 'value="Spring catalogue"' in body
    assert 'value="Inkwell Print Ltd"' in body
    assert '<option value="EUR" selected>EUR — Euro</option>' in body
    assert 'value="12,500.00"' in body
    assert 'value="13,000.00"' in body
    assert 'value="9000"' in body


def test_an_empty_post_says_what_is_missing(client, owner):
    client.force_login(owner)
    response = client.post(URL, {})
    assert response.status_code == 422
    assert "This field is required." in field_error(response, "id_title")
    assert Deal.objects.count() == 0


def test_user_text_is_kept_escaped_when_the_form_comes_back(client, owner):
    client.force_login(owner)
    response = client.post(URL, typed(title=NASTY, customer=NASTY, floor="999999"))
    assert response.status_code == 422
    assert_escaped(response)


def test_user_text_is_stored_as_typed(client, owner):
    client.force_login(owner)
    client.post(URL, typed(title=NASTY))
    assert Deal.objects.get().title == NASTY


def test_a_user_in_no_team_is_told_so_and_nothing_is_stored(client, django_user_model):
    loner = django_user_model.objects.create_user(username="lone", password="x-1234567890")
    client.force_login(loner)
    assert "You are not in a team yet" in page(client.get(URL))
    response = client.post(URL, typed())
    assert response.status_code == 422
    assert "You are not in a team yet" in page(response)
    assert Deal.objects.count() == 0


def test_a_rep_in_two_teams_chooses_one_of_them(client, owner, other_team):
    Membership.objects.create(user=owner, team=other_team, role=Role.REP)
    client.force_login(owner)
    assert ">Team</label>" in page(client.get(URL))
    refused = client.post(URL, typed())
    assert refused.status_code == 422
    assert "Choose one of your teams." in field_error(refused, "id_team")
    client.post(URL, typed(team=str(other_team.pk)))
    assert Deal.objects.get().team == other_team


def test_a_manager_creates_a_deal_in_their_team(client, manager, team):
    client.force_login(manager)
    assert client.post(URL, typed()).status_code == 302
    deal = Deal.objects.get()
    assert (deal.owner, deal.team) == (manager, team)


def test_a_rep_cannot_create_a_deal_in_another_team(client, owner, other_team):
    client.force_login(owner)
    response = client.post(URL, typed(team=str(other_team.pk)))
    assert response.status_code == 422
    assert "Select a valid choice." in page(response)
    assert Deal.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_stored(client, db):
    response = client.post(URL, typed())
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/deals/new/"
    assert Deal.objects.count() == 0


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_only_get_and_post_are_allowed(client, owner, method):
    client.force_login(owner)
    assert getattr(client, method)(URL).status_code == 405
    assert Deal.objects.count() == 0


@pytest.mark.parametrize("n", [5, 200])
def test_the_form_costs_the_same_queries_whatever_exists(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(5):
        assert client.get(URL).status_code == 200
    # One more since issue 15: the write reads its team's webhook endpoints (the outbox).
    with django_assert_max_num_queries(10):
        assert client.post(URL, typed()).status_code == 302
    with django_assert_max_num_queries(4):
        assert client.post(URL, typed(floor="99999"), **HTMX).status_code == 422
