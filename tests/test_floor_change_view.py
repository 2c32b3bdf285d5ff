"""floor_change: the owner may move the floor until the first concession; then only a manager,
with a reason (rule 2). Every change is kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services
from deals.models import DealEvent, FloorChange

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
    field_error,
    long_deal,
    page,
    rows,
    words,
)


def url(deal):
    return reverse("floor_change", args=[deal.pk])


def test_the_owner_moves_the_floor_before_the_first_concession(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), {"new_floor": "8,500", "reason": ""})
    assert_back_on_deal_page(response, deal)
    deal.refresh_from_db()
    assert deal.floor == Decimal("8500.00")
    change = FloorChange.objects.get(deal=deal)
    assert (change.old_floor, change.new_floor, change.changed_by) == (
        Decimal("9000.00"),
        Decimal("8500.00"),
        owner,
    )
    event = DealEvent.objects.get(kind=DealEvent.Kind.FLOOR_CHANGED)
    assert event.actor == owner
    followed = client.get(response.headers["Location"])
    assert "Walk-away floor is now $8,500.00." in words(followed)


def test_the_page_offers_the_owner_the_floor_form_until_the_first_concession(
    client, owner, deal, give
):
    client.force_login(owner)
    before = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert ">Change floor</button>" in before
    assert ">New floor" in before
    give(deal, "100")
    after = client.get(reverse("deal_detail", args=[deal.pk]))
    assert ">Change floor</button>" not in page(after)
    assert "Locked since the first concession" in words(after)


def test_after_a_concession_the_owner_is_refused(client, owner, deal, give):
    give(deal, "100")
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), {"new_floor": "8500", "reason": "Please"}, **HTMX)
    assert response.status_code == 409
    assert "The floor is locked once a concession is logged; ask a manager to change it." in (
        words(response)
    )
    assert rows() == before
    deal.refresh_from_db()
    assert deal.floor == Decimal("9000.00")


def test_after_a_concession_the_manager_changes_it_with_a_reason(client, manager, deal, give):
    give(deal, "600")
    client.force_login(manager)
    response = client.post(url(deal), {"new_floor": "8000", "reason": "Bigger order"}, **HTMX)
    assert_desk_update(response)
    text = words(response)
    assert "Walk-away floor is now $8,000.00." in text
    assert "On track : $1,400.00 left before your floor." in text
    assert 'aria-valuenow="30"' in page(response)
    change = FloorChange.objects.get()
    assert (change.reason, change.changed_by) == ("Bigger order", manager)
    # The level moved with the floor, and that is written down too.
    assert DealEvent.objects.filter(kind=DealEvent.Kind.LEVEL_CHANGED).count() == 2


def test_the_manager_must_give_a_reason_once_the_floor_is_locked(client, manager, deal, give):
    give(deal, "100")
    client.force_login(manager)
    before = rows()
    response = client.post(url(deal), {"new_floor": "8000", "reason": ""}, **HTMX)
    assert response.status_code == 422
    assert "Reason is required." in field_error(response, "id_floor_reason")
    assert rows() == before


@pytest.mark.parametrize(
    ("new_floor", "message"),
    [
        ("10000", "The walk-away floor must be below the opening price ($10,000.00)."),
        ("12000", "The walk-away floor must be below the opening price ($10,000.00)."),
        ("9000", "That is the floor already."),
        ("-1", "Enter a positive amount."),
        ("NaN", "Enter an amount such as 1250.00."),
        ("Infinity", "Enter an amount such as 1250.00."),
        ("8500.5555", "Use at most two decimal places."),
        (str(10**15), "That amount is too large."),
        ("eight thousand", "Enter an amount such as 1250.00."),
        ("", "This field is required."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_floor_that_cannot_be_gets_a_message_next_to_the_field(
    client, owner, deal, new_floor, message, htmx
):
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), {"new_floor": new_floor}, **(HTMX if htmx else {}))
    assert response.status_code == 422
    assert_field_in_error(response, "id_floor_new_floor", message)
    assert rows() == before
    if htmx:
        assert_fragment(response)
        assert response.headers["HX-Retarget"] == "#floor-panel"
        assert page(response).lstrip().startswith('<section id="floor-panel"')


def test_a_floor_above_the_net_is_refused(client, manager, deal, give):
    give(deal, "600")
    client.force_login(manager)
    response = client.post(url(deal), {"new_floor": "9500", "reason": "Margin"})
    assert response.status_code == 422
    assert "The new floor would be above the current net price ($9,400.00)." in field_error(
        response, "id_floor_new_floor"
    )


def test_a_floor_of_zero_is_allowed(client, owner, deal):
    client.force_login(owner)
    client.post(url(deal), {"new_floor": "0"})
    deal.refresh_from_db()
    assert deal.floor == Decimal("0.00")


def test_a_closed_deal_keeps_its_floor(client, owner, deal):
    services.deal_lose(deal=deal, user=owner, reason="timing")
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal), {"new_floor": "8000"}, **HTMX)
    assert response.status_code == 409
    assert "This deal is lost; it is no longer open." in words(response)
    assert rows() == before


def test_a_get_shows_the_deal_page_and_changes_nothing(client, owner, deal):
    client.force_login(owner)
    before = rows()
    response = client.get(url(deal))
    assert response.status_code == 200
    assert "<html" in page(response)
    assert ">Change floor</button>" in page(response)
    assert rows() == before


def test_an_htmx_get_gets_the_floor_panel_only(client, owner, deal):
    client.force_login(owner)
    response = client.get(url(deal), **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="floor-panel"')


@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404_and_nothing_is_stored(
    client, request, deal, persona
):
    client.force_login(request.getfixturevalue(persona))
    before = rows()
    assert client.get(url(deal)).status_code == 404
    assert client.post(url(deal), {"new_floor": "1"}).status_code == 404
    assert client.post(url(deal), {"new_floor": "1"}, **HTMX).status_code == 404
    assert rows() == before


def test_user_text_is_shown_escaped(client, manager, deal, give):
    give(deal, "100")
    client.force_login(manager)
    response = client.post(url(deal), {"new_floor": "8000", "reason": NASTY}, **HTMX)
    assert response.status_code == 200
    assert_escaped(response)
    assert FloorChange.objects.get().reason == NASTY


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_stored(client, deal):
    before = rows()
    response = client.post(url(deal), {"new_floor": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")
    assert rows() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_only_get_and_post_are_allowed(client, owner, deal, method):
    client.force_login(owner)
    assert getattr(client, method)(url(deal)).status_code == 405


@pytest.mark.parametrize("n", SIZES)
def test_changing_the_floor_costs_the_same_queries_however_long_the_ledger(
    client, manager, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    client.force_login(manager)
    with django_assert_max_num_queries(9):
        assert client.get(url(deal), **HTMX).status_code == 200
    with django_assert_max_num_queries(21):
        response = client.post(url(deal), {"new_floor": "10", "reason": "Volume"}, **HTMX)
    assert response.status_code == 200
    # One more since issue 15: the write reads its team's webhook endpoints (the outbox).
    with django_assert_max_num_queries(14):
        response = client.post(url(deal), {"new_floor": "20", "reason": "Volume"})
    assert response.status_code == 302
    with django_assert_max_num_queries(16):
        assert client.post(url(deal), {"new_floor": "20", "reason": "x"}, **HTMX).status_code == 422
    assert FloorChange.objects.filter(deal=deal).count() == 2
