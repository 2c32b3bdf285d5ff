"""concession_retract: a mistake is undone by a new, negative entry with a reason (rule 5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
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
    assert_fragment,
    field_error,
    long_deal,
    page,
    rows,
    words,
)


def url(deal, concession):
    return reverse("concession_retract", args=[deal.pk, concession.pk])


@pytest.fixture
def given(deal, give):
    """A 300 give on the 10,000 / 9,000 deal."""
    return give(deal, "300", description="Free delivery").concession


def reason_id(concession) -> str:
    return f"id_retract{concession.pk}_reason"


def test_the_form_asks_for_a_reason(client, owner, deal, given):
    client.force_login(owner)
    response = client.get(url(deal, given))
    assert response.status_code == 200
    body = page(response)
    assert f'<label for="{reason_id(given)}">Reason</label>' in body
    assert f'id="{reason_id(given)}"' in body
    assert ">Retract concession</button>" in body
    assert "Price discount of $300.00: Free delivery" in words(response)


def test_a_get_changes_nothing(client, owner, deal, given):
    client.force_login(owner)
    before = rows()
    client.get(url(deal, given))
    client.get(url(deal, given), **HTMX)
    assert rows() == before


def test_an_htmx_get_gets_the_form_fragment_only(client, owner, deal, given):
    client.force_login(owner)
    response = client.get(url(deal, given), **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<form action="')
    assert ">Retract concession</button>" in page(response)


def test_it_retracts_with_a_negative_entry_and_returns_to_the_deal_page(client, owner, deal, given):
    client.force_login(owner)
    response = client.post(url(deal, given), {"reason": "Typed the wrong deal"})
    assert_back_on_deal_page(response, deal)
    retraction = Concession.objects.get(retracts=given)
    assert retraction.amount == Decimal("-300.00")
    assert retraction.reason == "Typed the wrong deal"
    assert retraction.created_by == owner
    event = DealEvent.objects.get(kind=DealEvent.Kind.CONCESSION_RETRACTED)
    assert (event.concession, event.actor) == (retraction, owner)
    deal.refresh_from_db()
    assert deal.conceded == Decimal("0.00")
    # The original stays in the ledger (rule 5).
    assert Concession.objects.filter(pk=given.pk, amount=Decimal("300.00")).exists()
    followed = client.get(response.headers["Location"])
    assert "Retracted $300.00." in words(followed)


def test_an_htmx_retraction_updates_every_part_of_the_desk(client, owner, deal, given, give):
    give(deal, "500")
    client.force_login(owner)
    response = client.post(url(deal, given), {"reason": "Never agreed"}, **HTMX)
    assert_desk_update(response)
    text = words(response)
    assert "Retracted $300.00." in text
    assert "Caution : $500.00 left before your floor." in text
    assert "Undoes an earlier concession. Reason: Never agreed" in text
    assert "Retracted." in text
    # The retracted give offers no second retraction.
    assert f'href="{url(deal, given)}"' not in page(response)


def test_a_retraction_can_bring_the_level_back_down(client, owner, deal, give):
    big = give(deal, "850").concession
    client.force_login(owner)
    client.post(url(deal, big), {"reason": "Withdrawn"})
    deal.refresh_from_db()
    assert deal.level == "on_track"
    assert DealEvent.objects.filter(kind=DealEvent.Kind.LEVEL_CHANGED).count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_retraction_without_a_reason_is_refused_next_to_the_field(
    client, owner, deal, given, reason, htmx
):
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal, given), {"reason": reason}, **(HTMX if htmx else {}))
    assert response.status_code == 422
    assert "required" in field_error(response, reason_id(given))
    assert rows() == before
    if htmx:
        assert_fragment(response)
        assert response.headers["HX-Retarget"] == f"#retract-slot-{given.pk}"


def test_a_concession_is_retracted_once(client, owner, deal, given):
    client.force_login(owner)
    client.post(url(deal, given), {"reason": "Mistake"})
    before = rows()
    response = client.post(url(deal, given), {"reason": "Mistake again"}, **HTMX)
    assert response.status_code == 409
    assert "This concession has already been retracted." in words(response)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.conceded == Decimal("0.00")


def test_a_retraction_cannot_be_retracted(client, owner, deal, given):
    retraction = services.concession_retract(concession=given, user=owner, reason="Mistake")
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal, retraction), {"reason": "Undo the undo"})
    assert response.status_code == 422
    assert "A retraction cannot itself be retracted." in words(response)
    assert rows() == before


def test_a_closed_deal_takes_no_retraction(client, owner, deal, given):
    services.deal_win(deal=deal, user=owner)
    client.force_login(owner)
    before = rows()
    response = client.post(url(deal, given), {"reason": "Too late"}, **HTMX)
    assert response.status_code == 409
    assert "no longer open" in words(response)
    assert rows() == before


def test_a_concession_of_another_deal_gets_404(client, owner, deal, given, make_deal, give):
    other = make_deal(title="Other deal")
    client.force_login(owner)
    assert client.get(url(other, given)).status_code == 404
    assert client.post(url(other, given), {"reason": "Wrong door"}).status_code == 404
    assert Concession.objects.count() == 1


@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404_and_nothing_is_stored(
    client, request, deal, given, persona
):
    client.force_login(request.getfixturevalue(persona))
    before = rows()
    assert client.get(url(deal, given)).status_code == 404
    assert client.post(url(deal, given), {"reason": "Mine now"}).status_code == 404
    assert client.post(url(deal, given), {"reason": "Mine now"}, **HTMX).status_code == 404
    assert rows() == before


def test_the_teams_manager_can_retract(client, manager, deal, given):
    client.force_login(manager)
    response = client.post(url(deal, given), {"reason": "Not approved"}, **HTMX)
    assert response.status_code == 200
    assert Concession.objects.get(retracts=given).created_by == manager


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_is_stored(client, deal, given):
    before = rows()
    response = client.post(url(deal, given), {"reason": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")
    assert rows() == before


def test_user_text_is_shown_escaped(client, owner, deal, give):
    nasty = give(deal, "100", description=NASTY).concession
    client.force_login(owner)
    assert_escaped(client.get(url(deal, nasty)))
    assert_escaped(client.post(url(deal, nasty), {"reason": NASTY}, **HTMX))
    assert Concession.objects.get(retracts=nasty).reason == NASTY


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_only_get_and_post_are_allowed(client, owner, deal, given, method):
    client.force_login(owner)
    before = rows()
    assert getattr(client, method)(url(deal, given)).status_code == 405
    assert rows() == before


@pytest.mark.parametrize("n", SIZES)
def test_retracting_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    gives = Concession.objects.filter(deal=deal, retracts=None, retraction=None)
    latest, previous = gives.order_by("-id")[:2]
    client.force_login(owner)
    with django_assert_max_num_queries(5):
        assert client.get(url(deal, latest), **HTMX).status_code == 200
    with django_assert_max_num_queries(20):
        response = client.post(url(deal, latest), {"reason": "Mistake"}, **HTMX)
    assert response.status_code == 200
    # One more since issue 15: the write reads its team's webhook endpoints (the outbox).
    with django_assert_max_num_queries(14):
        assert client.post(url(deal, previous), {"reason": "Mistake"}).status_code == 302
    with django_assert_max_num_queries(5):
        assert client.post(url(deal, previous), {"reason": ""}, **HTMX).status_code == 422
