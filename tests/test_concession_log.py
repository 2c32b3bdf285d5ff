"""concession_log: one give on the deal page (rules 3, 6 and 8), refused below the floor."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from deals import services
from deals.models import Concession, DealEvent

from .desk import (
    HTMX,
    NASTY,
    SIZES,
    STRANGERS,
    assert_back_on_deal_page,
    assert_desk_update,
    assert_escaped,
    assert_field_in_error,
    assert_fragment,
    give_key,
    long_deal,
    page,
    rows,
    words,
)


def url(deal):
    return reverse("concession_log", args=[deal.pk])


def typed(**changes) -> dict:
    values = {
        "kind": "price_discount",
        "amount": "200.00",
        "description": "Five percent off",
        "got_in_return": "A two-year contract",
        "form_key": give_key(),
    }
    values.update(changes)
    return values


def test_it_logs_the_concession_and_returns_to_the_deal_page(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), typed())
    assert_back_on_deal_page(response, deal)
    concession = Concession.objects.get(deal=deal)
    assert concession.amount == Decimal("200.00")
    assert concession.kind == "price_discount"
    assert concession.description == "Five percent off"
    assert concession.got_in_return == "A two-year contract"
    assert concession.created_by == owner
    event = DealEvent.objects.get(deal=deal, kind=DealEvent.Kind.CONCESSION_LOGGED)
    assert event.concession == concession
    assert event.actor == owner
    deal.refresh_from_db()
    assert deal.conceded == Decimal("200.00")
    followed = client.get(response.headers["Location"])
    assert "Logged $200.00. On track: $800.00 left before your floor." in words(followed)


def test_an_amount_with_thousands_separators_is_understood(client, owner, make_deal):
    deal = make_deal(opening_price=Decimal("50000"), floor=Decimal("10000"))
    client.force_login(owner)
    client.post(url(deal), typed(amount="12,345.60"))
    deal.refresh_from_db()
    assert deal.conceded == Decimal("12345.60")


def test_crossing_a_threshold_changes_the_level_and_writes_it_down(client, owner, deal):
    client.force_login(owner)
    client.post(url(deal), typed(amount="850"))
    deal.refresh_from_db()
    assert deal.level == "danger"
    change = DealEvent.objects.get(deal=deal, kind=DealEvent.Kind.LEVEL_CHANGED)
    assert change.data == {"from": "on_track", "to": "danger"}


def test_an_htmx_post_updates_every_part_of_the_desk(client, owner, deal, give):
    give(deal, "100")
    client.force_login(owner)
    response = client.post(url(deal), typed(amount="760"), **HTMX)
    assert_desk_update(response)
    text = words(response)
    # The new entry, then the level and room left (said once, by the status line).
    assert "Logged $760.00 (Price discount): Five percent off" in text
    assert "Danger : $140.00 left before your floor." in text
    assert "Logged $760.00. Danger" not in text
    assert 'aria-valuenow="86"' in page(response)
    assert "Conceded $860.00" in text
    assert "Concessions (2)" in text
    assert "2. Price discount: $760.00, Five percent off" in text
    # A fresh form, with a fresh one-time key, for the next give.
    assert 'name="amount" id="id_amount"' in page(response)
    assert f'value="{typed()["form_key"]}"' not in page(response)


def test_the_owners_exact_remaining_room_is_allowed(client, owner, deal, give):
    give(deal, "400")
    client.force_login(owner)
    response = client.post(url(deal), typed(amount="600"), **HTMX)
    assert response.status_code == 200
    assert "At your floor : $0.00 left before your floor." in words(response)
    deal.refresh_from_db()
    assert deal.level == "at_floor"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_concession_below_the_floor_is_refused_with_the_shortfall_and_two_ways_on(
    client, owner, deal, give, htmx
):
    give(deal, "900")
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), typed(amount="350"), **(HTMX if htmx else {}))
    assert response.status_code == 409
    text = words(response)
    assert "below your walk-away floor" in text
    assert "$250.00 below your walk-away floor" in text
    assert "Only $100.00 is left." in text
    assert ">Walk away</button>" in page(response)
    assert ">Ask for approval</button>" in page(response)
    # Walking away asks to confirm: a confirm page without JavaScript, a dialog with it.
    assert f'action="{reverse("deal_confirm", args=[deal.pk, "walk-away"])}"' in page(response)
    assert f'hx-post="{reverse("deal_walk_away", args=[deal.pk])}"' in page(response)
    # The third way on: log what still fits before the floor.
    assert ">Log what fits</button>" in page(response)
    assert '<input type="hidden" name="amount" value="100.00">' in page(response)
    assert f'action="{reverse("exception_request", args=[deal.pk])}"' in page(response)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.conceded == Decimal("900.00")
    if htmx:
        assert_fragment(response)
        assert response.headers["HX-Retarget"] == "#concession-panel"


def test_the_request_for_approval_carries_what_was_refused(client, owner, deal, give):
    give(deal, "900")
    client.force_login(owner)
    key = give_key()
    response = client.post(
        url(deal), typed(amount="350", description="Free install", form_key=key), **HTMX
    )
    body = page(response)
    ask = body[body.index(reverse("exception_request", args=[deal.pk])) :]
    assert '<input type="hidden" name="amount" value="350.00">' in ask
    assert '<input type="hidden" name="description" value="Free install">' in ask
    assert f'<input type="hidden" name="form_key" value="{key}">' in ask
    # Walking away instead comes with a reason already written down.
    assert (
        'value="The customer wanted Free install ($350.00), $250.00 below our walk-away floor."'
    ) in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "Enter an amount greater than zero."),
        ("amount", "-10", "Enter a positive amount."),
        ("amount", "NaN", "Enter an amount such as 1250.00."),
        ("amount", "Infinity", "Enter an amount such as 1250.00."),
        ("amount", "-Infinity", "Enter an amount such as 1250.00."),
        ("amount", "10.0001", "Use at most two decimal places."),
        ("amount", str(10**15), "That amount is too large."),
        ("amount", "ten dollars", "Enter an amount such as 1250.00."),
        ("amount", "", "This field is required."),
        ("description", "", "This field is required."),
        ("description", "   ", "This field is required."),
        ("description", "x" * 2001, "at most 2000 characters"),
        ("kind", "bribe", "Select a valid choice."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_gets_a_message_next_to_the_field_and_stores_nothing(
    client, owner, deal, field, value, message, htmx
):
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), typed(**{field: value}), **(HTMX if htmx else {}))
    assert response.status_code == 422
    assert_field_in_error(response, f"id_{field}", message)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.conceded == Decimal("0.00")
    if htmx:
        assert_fragment(response)
        assert response.headers["HX-Retarget"] == "#concession-panel"
    else:
        assert "<html" in page(response)


def test_a_bad_amount_keeps_what_was_typed(client, owner, deal):
    client.force_login(owner)
    response = client.post(
        url(deal), typed(amount="12.345", description="Free delivery", kind="free_service"), **HTMX
    )
    body = page(response)
    assert re.search(r'name="amount" id="id_amount"[^>]*value="12.345"', body, re.S)
    assert 'value="Free delivery"' in body
    assert '<option value="free_service" selected>' in body
    assert 'aria-invalid="true"' in body


def test_user_text_is_shown_escaped(client, owner, deal, give):
    client.force_login(owner)
    logged = client.post(url(deal), typed(description=NASTY, got_in_return=NASTY), **HTMX)
    assert logged.status_code == 200
    assert_escaped(logged)
    assert Concession.objects.get().description == NASTY
    give(deal, "700")
    refused = client.post(url(deal), typed(amount="500", description=NASTY), **HTMX)
    assert refused.status_code == 409
    assert_escaped(refused)
    invalid = client.post(url(deal), typed(amount="0", description=NASTY), **HTMX)
    assert invalid.status_code == 422
    assert_escaped(invalid)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_same_form_sent_twice_logs_one_concession(client, owner, deal, htmx):
    client.force_login(owner)
    extra = HTMX if htmx else {}
    form = typed()
    client.post(url(deal), form, **extra)
    again = client.post(url(deal), form, **extra)
    assert Concession.objects.filter(deal=deal).count() == 1
    assert DealEvent.objects.filter(kind=DealEvent.Kind.CONCESSION_LOGGED).count() == 1
    deal.refresh_from_db()
    assert deal.conceded == Decimal("200.00")
    if htmx:
        assert "That concession was already logged; nothing was added." in words(again)
    else:
        assert_back_on_deal_page(again, deal)


def test_a_form_key_that_is_not_a_key_is_refused(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), typed(form_key="x" * 65), **HTMX)
    assert response.status_code == 422
    assert Concession.objects.count() == 0


def test_a_closed_deal_takes_no_more_concessions(client, owner, deal):
    services.deal_lose(deal=deal, user=owner, reason="competitor")
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), typed(), **HTMX)
    assert response.status_code == 409
    assert "Lost Reason: Competitor. No more concessions can be logged." in words(response)
    assert rows() == before


@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404_and_nothing_is_stored(
    client, request, deal, persona
):
    client.force_login(request.getfixturevalue(persona))
    before = rows()
    assert client.post(url(deal), typed()).status_code == 404
    assert client.post(url(deal), typed(), **HTMX).status_code == 404
    assert rows() == before


def test_the_teams_manager_can_log_a_concession(client, manager, deal):
    client.force_login(manager)
    response = client.post(url(deal), typed(), **HTMX)
    assert response.status_code == 200
    assert Concession.objects.get(deal=deal).created_by == manager


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_stored(client, deal):
    before = rows()
    response = client.post(url(deal), typed())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/accounts/login/?next={url(deal)}"
    assert rows() == before


def test_a_post_without_the_csrf_token_is_refused(owner, deal):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    before = rows()
    assert browser.post(url(deal), typed()).status_code == 403
    assert rows() == before


def test_a_post_with_the_csrf_token_goes_through(owner, deal):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    body = page(browser.get(reverse("deal_detail", args=[deal.pk])))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    response = browser.post(url(deal), {**typed(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Concession.objects.count() == 1


def test_htmx_sends_the_csrf_token_the_page_puts_on_the_body(owner, deal):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    body = page(browser.get(reverse("deal_detail", args=[deal.pk])))
    token = re.search(r"<body hx-headers='\{\"x-csrftoken\": \"([^\"]+)\"\}'>", body).group(1)
    response = browser.post(url(deal), typed(), HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200
    assert Concession.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, owner, deal, method):
    client.force_login(owner)
    before = rows()
    assert getattr(client, method)(url(deal)).status_code == 405
    assert rows() == before


@pytest.mark.parametrize("n", SIZES)
def test_logging_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(20):
        assert client.post(url(deal), typed(amount="5"), **HTMX).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.post(url(deal), typed(amount="5")).status_code == 302
    with django_assert_max_num_queries(15):
        assert client.post(url(deal), typed(amount="9999999"), **HTMX).status_code == 409
    with django_assert_max_num_queries(9):
        assert client.post(url(deal), typed(amount="0"), **HTMX).status_code == 422
    assert Concession.objects.filter(deal=deal).count() == n + 3


# From the page: a log answers with the whole desk --------------------------------------------


def test_a_log_from_the_page_answers_with_what_the_page_then_shows(client, owner, deal, give):
    give(deal, "100", got="A reference")
    client.force_login(owner)
    response = client.post(url(deal), typed(amount="760", description="Loyalty discount"), **HTMX)
    assert response.status_code == 200
    body = page(response)
    # The new concession is first in the list, and its events top the history.
    items = re.findall(r'<li class="concession[^"]*" id="concession-(\d+)"', body)
    newest = Concession.objects.filter(deal=deal).latest("id")
    assert items[0] == str(newest.pk)
    assert "Loyalty discount" in words(response)
    # Figures, gauge and status update in the same answer.
    assert 'aria-valuenow="86"' in body
    assert "Logged $760.00 (Price discount): Loyalty discount" in words(response)
    # A fresh form, with a fresh key, for the next give.
    keys = re.findall(r'name="form_key" value="([0-9a-f]+)"', body)
    assert keys and keys[0] != ""


def test_the_first_concession_locks_the_floor_on_the_page(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), typed(amount="10"), **HTMX)
    text = words(response)
    assert "Locked since the first concession" in text
    assert "Change floor" not in text


def test_a_page_that_shows_the_whole_ledger_keeps_showing_it_after_a_log(client, owner, make_deal):
    deal = long_deal(make_deal, 25)
    client.force_login(owner)
    response = client.post(url(deal), typed(amount="5", all="1"), **HTMX)
    assert page(response).count('<li class="concession') == 27
    assert "Show all" not in words(response)


def test_a_refusal_on_the_page_is_cleared_by_the_next_log(client, owner, deal):
    client.force_login(owner)
    refused = client.post(url(deal), typed(amount="5000"), **HTMX)
    assert "below your walk-away floor" in words(refused)
    response = client.post(url(deal), typed(amount="10"), **HTMX)
    assert "Refused" not in words(response)


def test_a_log_from_the_page_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries
):
    for n in SIZES:
        deal = long_deal(make_deal, n)
        client.force_login(owner)
        with django_assert_max_num_queries(24):
            assert client.post(url(deal), typed(amount="5"), **HTMX).status_code == 200
