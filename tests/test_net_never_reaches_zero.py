"""Rule 10 (issue 11, finding 2): an approved exception never takes the net to zero or below,
and no amount or sum can overflow its column (DecimalField(max_digits=14, decimal_places=2)).
The form and the service refuse with a message that says why; the database holds
`conceded >= 0` and `conceded < opening_price` as well."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse

from deals import services
from deals.forms import ExceptionRequestForm
from deals.models import Concession, Deal, ExceptionRequest

from .conftest import require_postgres
from .desk import HTMX, give_key, rows, words

MAX = "999999999999.99"


def ask(deal, amount, user=None, **extra):
    return services.exception_request(
        deal=deal,
        user=user or deal.owner,
        kind="price_discount",
        amount=amount,
        description="Deep discount",
        **extra,
    )


def posted(amount) -> dict:
    return {
        "kind": "price_discount",
        "amount": amount,
        "description": "Deep discount",
        "got_in_return": "",
        "note": "",
        "form_key": give_key(),
    }


@pytest.fixture
def small_deal(make_deal):
    """Opening 1,000, floor 900."""
    return make_deal(opening_price="1000", floor="900")


def test_an_exception_larger_than_the_net_is_refused_and_says_why(small_deal):
    before = rows()
    with pytest.raises(services.InvalidValue, match="net price to zero or below") as refused:
        ask(small_deal, "5000")
    assert refused.value.field == "amount"
    assert "$1,000.00" in refused.value.message
    assert rows() == before


def test_an_exception_of_exactly_the_net_is_refused_too(small_deal):
    with pytest.raises(services.InvalidValue, match="zero or below"):
        ask(small_deal, "1000")


def test_an_exception_just_short_of_the_net_may_be_asked_and_approved(small_deal, manager):
    request = ask(small_deal, "999.99")
    services.exception_approve(exception_request=request, user=manager, comment="Strategic")
    small_deal.refresh_from_db()
    assert small_deal.net == Decimal("0.01")


def test_a_request_stored_before_the_rule_cannot_be_approved_and_says_why(
    small_deal, manager, client
):
    # As an older version would have stored it: for more than the whole net.
    request = ExceptionRequest.objects.create(
        deal=small_deal,
        requested_by=small_deal.owner,
        kind="price_discount",
        amount=Decimal("5000.00"),
        description="From before rule 10",
        conceded_at_request=Decimal("0.00"),
        floor_at_request=small_deal.floor,
        shortfall=Decimal("4900.00"),
    )
    with pytest.raises(services.InvalidValue, match="zero or below"):
        services.exception_approve(exception_request=request, user=manager, comment="OK")
    client.force_login(manager)
    response = client.post(
        reverse("exception_approve", args=[request.pk]), {"comment": "OK"}, **HTMX
    )
    assert response.status_code == 422
    assert "zero or below" in words(response)
    request.refresh_from_db()
    assert request.status == ExceptionRequest.Status.PENDING
    assert not Concession.objects.filter(exception_request=request).exists()


def test_on_a_floor_of_zero_a_concession_may_not_give_the_deal_away(make_deal, give):
    deal = make_deal(opening_price="1000", floor="0")
    with pytest.raises(services.InvalidValue, match="zero or below"):
        give(deal, "1000")
    assert give(deal, "999.99").created


# The column's limits ---------------------------------------------------------------------------


@pytest.fixture
def huge_deal(make_deal, give, manager):
    """The largest opening price there is, at its floor and then below it through an approval."""
    deal = make_deal(opening_price=MAX, floor="999999999000.00")
    give(deal, "999.99")
    request = ask(deal, "500")
    services.exception_approve(exception_request=request, user=manager, comment="Strategic")
    deal.refresh_from_db()
    assert deal.net < deal.floor
    return deal


def test_a_request_near_the_column_s_maximum_is_refused_not_an_overflow(huge_deal):
    with pytest.raises(services.InvalidValue, match="zero or below"):
        ask(huge_deal, MAX)


def test_over_http_a_near_maximum_request_below_the_floor_is_a_422_with_a_message(
    client, huge_deal
):
    client.force_login(huge_deal.owner)
    before = rows()
    response = client.post(reverse("exception_request", args=[huge_deal.pk]), posted(MAX), **HTMX)
    assert response.status_code == 422
    assert "zero or below" in words(response)
    assert rows() == before


def test_over_http_an_amount_past_the_column_is_refused_with_its_limit(client, small_deal):
    client.force_login(small_deal.owner)
    response = client.post(
        reverse("exception_request", args=[small_deal.pk]),
        posted("1000000000000.00"),
        **HTMX,
    )
    assert response.status_code == 422
    assert "The most an amount can be is 999,999,999,999.99" in words(response)


def test_the_form_refuses_an_amount_past_the_column_and_says_its_limit():
    form = ExceptionRequestForm(posted("1000000000000"))
    assert not form.is_valid()
    assert form.errors["amount"] == [
        "That amount is too large. The most an amount can be is 999,999,999,999.99."
    ]


# The database ----------------------------------------------------------------------------------


def _write(deal, **values):
    with transaction.atomic():
        Deal.objects.filter(pk=deal.pk).update(version=F("version") + 1, **values)


def test_the_database_refuses_a_negative_total(deal):
    with pytest.raises(IntegrityError):
        _write(deal, conceded=Decimal("-1.00"))


@pytest.mark.parametrize("conceded", ["10000.00", "15000.00"])
def test_the_database_refuses_a_net_of_zero_or_below(deal, conceded):
    with pytest.raises(IntegrityError):
        _write(deal, conceded=Decimal(conceded))


def test_mark_won_on_a_deal_stored_at_a_net_below_zero_is_refused_not_a_500(client, small_deal):
    # Only a database from before rule 10 holds such a deal (check_ledger lists it).
    require_postgres()
    with connection.cursor() as cursor:
        # The test's transaction is rolled back afterwards, constraint included.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE deals_deal DROP CONSTRAINT deal_net_positive")
        cursor.execute(
            "UPDATE deals_deal SET conceded = 5000, version = version + 1 WHERE id = %s",
            [small_deal.pk],
        )
    client.force_login(small_deal.owner)
    response = client.post(reverse("deal_win", args=[small_deal.pk]), {"final_price": ""}, **HTMX)
    assert response.status_code == 422
    assert "enter a final price above zero" in words(response)
    small_deal.refresh_from_db()
    assert small_deal.status == Deal.Status.OPEN
