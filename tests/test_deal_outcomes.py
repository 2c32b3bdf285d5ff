"""deal_win, deal_lose, deal_walk_away and deal_come_back: how a negotiation ends, and how a
customer you walked out on comes back."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services
from deals.models import Deal, DealEvent

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

# Each outcome: its URL name, a valid form, and the status it leaves the deal in.
OUTCOMES = {
    "deal_win": ({"final_price": ""}, Deal.Status.WON),
    "deal_lose": ({"reason": "competitor", "note": "Cheaper elsewhere"}, Deal.Status.LOST),
    "deal_walk_away": ({"reason": "They want it below cost"}, Deal.Status.WALKED_AWAY),
    "deal_come_back": ({}, Deal.Status.OPEN),
}


def url(name, deal):
    return reverse(name, args=[deal.pk])


def ready(name, deal):
    """A deal on which `name` can go through: a comeback needs a walk-away first."""
    if name == "deal_come_back":
        services.deal_walk_away(deal=deal, user=deal.owner, reason="Too low")
    deal.refresh_from_db()
    return deal


# Won ---------------------------------------------------------------------------------------------


def test_a_win_without_a_price_is_won_at_the_net(client, owner, deal, give):
    give(deal, "400")
    client.force_login(owner)
    response = client.post(url("deal_win", deal), {"final_price": ""})
    assert_back_on_deal_page(response, deal)
    deal.refresh_from_db()
    assert (deal.status, deal.final_price) == (Deal.Status.WON, Decimal("9600.00"))
    assert deal.closed_at is not None
    event = DealEvent.objects.get(kind=DealEvent.Kind.WON)
    assert (event.actor, event.data) == (owner, {"final_price": "9600.00"})
    followed = client.get(response.headers["Location"])
    assert "Marked won at $9,600.00." in words(followed)
    assert "Won at $9,600.00 No more concessions can be logged." in words(followed)


def test_a_win_at_a_typed_price(client, owner, deal):
    client.force_login(owner)
    client.post(url("deal_win", deal), {"final_price": "9,750.50"})
    deal.refresh_from_db()
    assert deal.final_price == Decimal("9750.50")


def test_a_win_below_the_floor_needs_an_approved_exception(client, owner, deal):
    client.force_login(owner)
    before = rows()
    response = client.post(url("deal_win", deal), {"final_price": "8000"}, **HTMX)
    assert response.status_code == 422
    assert (
        "A final price below the walk-away floor ($9,000.00) needs an approved exception."
        in field_error(response, "id_win_final_price")
    )
    assert rows() == before
    assert_fragment(response)
    assert response.headers["HX-Retarget"] == "#outcome"


def test_a_win_below_the_floor_with_an_approved_exception_is_allowed(
    client, owner, manager, deal, give
):
    give(deal, "900")
    deal.refresh_from_db()
    request = services.exception_request(
        deal=deal, user=owner, kind="other", amount="300", description="Extra seats"
    )
    services.exception_approve(exception_request=request, user=manager, comment="Strategic")
    client.force_login(owner)
    client.post(url("deal_win", deal), {"final_price": ""})
    deal.refresh_from_db()
    assert (deal.status, deal.final_price) == (Deal.Status.WON, Decimal("8800.00"))


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "Enter an amount greater than zero."),
        ("-1", "Enter a positive amount."),
        ("NaN", "Enter an amount such as 1250.00."),
        ("Infinity", "Enter an amount such as 1250.00."),
        ("9500.0001", "Use at most two decimal places."),
        (str(10**15), "That amount is too large."),
        ("a lot", "Enter an amount such as 1250.00."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_final_price_that_is_not_money_is_refused_next_to_the_field(
    client, owner, deal, price, message, htmx
):
    client.force_login(owner)
    before = rows()
    response = client.post(url("deal_win", deal), {"final_price": price}, **(HTMX if htmx else {}))
    assert response.status_code == 422
    assert_field_in_error(response, "id_win_final_price", message)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN


# Lost --------------------------------------------------------------------------------------------


def test_a_loss_keeps_its_reason_and_note(client, owner, deal):
    client.force_login(owner)
    response = client.post(url("deal_lose", deal), {"reason": "no_decision", "note": "Froze"})
    assert_back_on_deal_page(response, deal)
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason, deal.outcome_note) == (
        Deal.Status.LOST,
        "no_decision",
        "Froze",
    )
    assert DealEvent.objects.get(kind=DealEvent.Kind.LOST).data == {"reason": "no_decision"}
    assert "Lost: No decision. Froze" in words(client.get(response.headers["Location"]))


@pytest.mark.parametrize("reason", ["", "because", "won"])
def test_a_loss_needs_one_of_the_reasons(client, owner, deal, reason):
    client.force_login(owner)
    before = rows()
    response = client.post(url("deal_lose", deal), {"reason": reason}, **HTMX)
    assert response.status_code == 422
    assert field_error(response, "id_lose_reason")
    assert rows() == before


# Walked away and came back -----------------------------------------------------------------------


def test_walking_away_remembers_the_net_and_offers_the_comeback(client, owner, deal, give):
    give(deal, "300")
    client.force_login(owner)
    response = client.post(url("deal_walk_away", deal), {"reason": "Below our cost"})
    assert_back_on_deal_page(response, deal)
    deal.refresh_from_db()
    assert (deal.status, deal.walked_away_net, deal.outcome_note) == (
        Deal.Status.WALKED_AWAY,
        Decimal("9700.00"),
        "Below our cost",
    )
    assert DealEvent.objects.filter(kind=DealEvent.Kind.WALKED_AWAY).count() == 1
    followed = client.get(response.headers["Location"])
    assert "You walked away. If the customer comes back, it will be on your terms." in words(
        followed
    )
    assert ">Customer came back</h3>" in page(followed)
    assert ">Reopen deal</button>" in page(followed)
    assert ">Mark won</button>" not in page(followed)


def test_walking_away_needs_a_reason(client, owner, deal):
    client.force_login(owner)
    before = rows()
    response = client.post(url("deal_walk_away", deal), {"reason": "  "}, **HTMX)
    assert response.status_code == 422
    assert "required" in field_error(response, "id_walk_reason")
    assert rows() == before


def test_the_refusal_walks_away_with_its_reason(client, owner, deal, give):
    give(deal, "900")
    client.force_login(owner)
    refused = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "500", "description": "Half off"},
        **HTMX,
    )
    assert refused.status_code == 409
    reason = "The customer wanted Half off ($500.00), $400.00 below our walk-away floor."
    assert f'value="{reason}"' in page(refused)
    client.post(url("deal_walk_away", deal), {"reason": reason}, **HTMX)
    deal.refresh_from_db()
    assert (deal.status, deal.outcome_note) == (Deal.Status.WALKED_AWAY, reason)


def test_the_reason_written_for_a_long_description_can_be_sent_as_it_is(client, owner, deal, give):
    give(deal, "900")
    client.force_login(owner)
    refused = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "other", "amount": "500", "description": "x" * 2000},
        **HTMX,
    )
    assert refused.status_code == 409
    reason = re.search(r'id="id_refusal_reason" required value="([^"]*)"', page(refused)).group(1)
    response = client.post(url("deal_walk_away", deal), {"reason": html.unescape(reason)}, **HTMX)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WALKED_AWAY


def test_a_customer_who_comes_back_reopens_the_deal(client, owner, deal, give):
    give(deal, "300")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    client.force_login(owner)
    response = client.post(url("deal_come_back", deal), **HTMX)
    assert_desk_update(response)
    assert "The customer came back. The deal is open again." in words(response)
    assert "Came back" in words(response)
    assert ">Log concession</button>" in page(response)
    deal.refresh_from_db()
    assert (deal.status, deal.came_back, deal.walked_away_net) == (
        Deal.Status.OPEN,
        True,
        Decimal("9700.00"),
    )
    assert DealEvent.objects.filter(kind=DealEvent.Kind.CAME_BACK).count() == 1


def test_a_comeback_won_at_the_walk_away_net_is_won_on_our_terms(client, owner, deal, give):
    give(deal, "300")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    services.deal_come_back(deal=deal, user=owner)
    client.force_login(owner)
    response = client.post(url("deal_win", deal), {"final_price": "9700"}, **HTMX)
    assert "Won at $9,700.00: won on our terms." in words(response)


def test_only_a_deal_walked_away_from_can_come_back(client, owner, deal):
    client.force_login(owner)
    before = rows()
    response = client.post(url("deal_come_back", deal), **HTMX)
    assert response.status_code == 409
    assert "Only a deal you walked away from can come back." in words(response)
    assert rows() == before
    assert response.headers["HX-Retarget"] == "#outcome"


# Every outcome -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OUTCOMES)
def test_every_outcome_through_htmx_updates_every_part_of_the_desk(client, owner, deal, name):
    form, status = OUTCOMES[name]
    deal = ready(name, deal)
    client.force_login(owner)
    response = client.post(url(name, deal), form, **HTMX)
    assert_desk_update(response)
    deal.refresh_from_db()
    assert deal.status == status


@pytest.mark.parametrize("name", ["deal_win", "deal_lose", "deal_walk_away"])
@pytest.mark.parametrize("closed_by", ["deal_win", "deal_lose", "deal_walk_away"])
def test_a_closed_deal_cannot_be_closed_again(client, owner, deal, name, closed_by):
    client.force_login(owner)
    client.post(url(closed_by, deal), OUTCOMES[closed_by][0])
    before = rows()
    response = client.post(url(name, deal), OUTCOMES[name][0], **HTMX)
    assert response.status_code == 409
    assert "it is no longer open." in words(response)
    assert rows() == before


@pytest.mark.parametrize("name", OUTCOMES)
@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404_and_nothing_changes(
    client, request, deal, name, persona
):
    form, _ = OUTCOMES[name]
    deal = ready(name, deal)
    client.force_login(request.getfixturevalue(persona))
    before = rows()
    assert client.post(url(name, deal), form).status_code == 404
    assert client.post(url(name, deal), form, **HTMX).status_code == 404
    assert rows() == before
    status = deal.status
    deal.refresh_from_db()
    assert deal.status == status


@pytest.mark.parametrize("name", OUTCOMES)
def test_the_teams_manager_can_close_and_reopen_the_deal(client, manager, deal, name):
    form, status = OUTCOMES[name]
    deal = ready(name, deal)
    client.force_login(manager)
    assert_back_on_deal_page(client.post(url(name, deal), form), deal)
    deal.refresh_from_db()
    assert deal.status == status
    assert DealEvent.objects.filter(deal=deal).latest("id").actor == manager


@pytest.mark.parametrize("name", OUTCOMES)
def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, deal, name):
    form, _ = OUTCOMES[name]
    deal = ready(name, deal)
    before = rows()
    response = client.post(url(name, deal), form)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/accounts/login/?next={url(name, deal)}"
    assert rows() == before


@pytest.mark.parametrize("name", OUTCOMES)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, owner, deal, name, method):
    deal = ready(name, deal)
    client.force_login(owner)
    before = rows()
    assert getattr(client, method)(url(name, deal)).status_code == 405
    assert rows() == before


def test_user_text_is_shown_escaped(client, owner, deal):
    client.force_login(owner)
    walked = client.post(url("deal_walk_away", deal), {"reason": NASTY}, **HTMX)
    assert walked.status_code == 200
    assert_escaped(walked)
    services.deal_come_back(deal=deal, user=owner)
    lost = client.post(url("deal_lose", deal), {"reason": "other", "note": NASTY}, **HTMX)
    assert_escaped(lost)
    assert_escaped(client.get(reverse("deal_detail", args=[deal.pk])))


@pytest.mark.parametrize("n", SIZES)
def test_outcomes_cost_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(9):
        response = client.post(url("deal_win", deal), {"final_price": "a lot"}, **HTMX)
    assert response.status_code == 422
    # One more since issue 15 (the write reads its team's webhook endpoints, the outbox), and
    # walking away and coming back tell the team's managers (issue 14): one more each.
    with django_assert_max_num_queries(11):
        response = client.post(url("deal_walk_away", deal), {"reason": "Too low"})
    assert response.status_code == 302
    with django_assert_max_num_queries(17):
        assert client.post(url("deal_come_back", deal), **HTMX).status_code == 200
    with django_assert_max_num_queries(16):
        response = client.post(url("deal_lose", deal), {"reason": "timing"}, **HTMX)
    assert response.status_code == 200
    with django_assert_max_num_queries(13):
        assert client.post(url("deal_come_back", deal), **HTMX).status_code == 409
    deal.refresh_from_db()
    assert deal.status == Deal.Status.LOST
    other = long_deal(make_deal, n, title="Second deal")
    with django_assert_max_num_queries(16):
        assert client.post(url("deal_win", other), {"final_price": ""}, **HTMX).status_code == 200
    with django_assert_max_num_queries(14):
        response = client.post(url("deal_walk_away", other), {"reason": "Late"}, **HTMX)
    assert response.status_code == 409


def test_a_refused_outcome_leaves_the_next_page_with_blank_forms(client, owner, deal):
    # The desk shows the same blank outcome forms to everyone; a refusal must draw its own.
    client.force_login(owner)
    refused = client.post(url("deal_lose", deal), {"reason": "nonsense", "note": "Typed note"})
    assert refused.status_code == 422
    assert "Typed note" in page(refused)
    again = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert "Typed note" not in again
    assert 'aria-invalid="true"' not in again
    assert 'class="errorlist"' not in again


# Issue 13, item 5: closing asks to confirm ---------------------------------------------------


def test_closing_without_javascript_goes_through_a_confirm_page(client, owner, deal, give):
    give(deal, "400")
    client.force_login(owner)
    detail = page(client.get(url("deal_detail", deal)))
    for outcome in ("won", "lost", "walk-away"):
        assert f'action="{reverse("deal_confirm", args=[deal.pk, outcome])}"' in detail
    assert 'id="confirm-dialog"' in detail
    confirm = client.get(reverse("deal_confirm", args=[deal.pk, "won"]), {"final_price": ""})
    assert confirm.status_code == 200
    assert (
        "No final price was typed: the deal will be recorded as won at the current net, $9,600.00."
        in words(confirm)
    )
    assert ">Confirm</button>" in page(confirm)
    assert f'action="{reverse("deal_win", args=[deal.pk])}"' in page(confirm)
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN  # nothing recorded yet
    lost = client.get(reverse("deal_confirm", args=[deal.pk, "lost"]), {"reason": "price"})
    assert "The deal will be recorded as lost. Reason: Price." in words(lost)
    typed = client.get(reverse("deal_confirm", args=[deal.pk, "won"]), {"final_price": "9,700"})
    assert "won at $9,700.00" in words(typed)
    assert '<input type="hidden" name="final_price" value="9,700">' in page(typed)


def test_a_confirm_page_with_a_bad_value_shows_the_form_again(client, owner, deal):
    client.force_login(owner)
    response = client.get(reverse("deal_confirm", args=[deal.pk, "walk-away"]), {"reason": " "})
    assert response.status_code == 422
    assert 'id="id_walk_reason-error"' in page(response)


def test_an_unknown_outcome_has_no_confirm_page(client, owner, deal):
    client.force_login(owner)
    assert client.get(reverse("deal_confirm", args=[deal.pk, "nope"])).status_code == 404
