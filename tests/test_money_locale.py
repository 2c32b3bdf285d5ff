"""Issue 13, item 1: money is read and shown in each person's locale, strictly; an amount that
another common convention reads differently is refused, naming both readings; "5%" (of the
opening price) and "40k" are accepted, and the preview says what they become."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deals.access import Access
from deals.models import Concession, Profile
from deals.money import MoneyError, person_locale, read_amount

from .desk import HTMX, page


@pytest.mark.parametrize(
    ("typed", "locale", "expected"),
    [
        ("40.000", "de_DE", "40000.00"),
        ("1.600", "de_DE", "1600.00"),
        ("1.600,50", "de_DE", "1600.50"),
        ("1,600", "en_US", "1600.00"),
        ("12,500.00", "en_US", "12500.00"),
        ("1 600,50", "fr_FR", "1600.50"),
        ("€48,000", "en_US", "48000.00"),
        ("40k", "en_US", "40000.00"),
        ("2,5k", "de_DE", "2500.00"),
        # Plain machine amounts (hidden fields, initial values) read the same everywhere.
        ("1250.00", "de_DE", "1250.00"),
        ("1250.5", "fr_FR", "1250.50"),
    ],
)
def test_each_locale_reads_its_own_way_of_writing_amounts(typed, locale, expected):
    assert read_amount(typed, locale=locale) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "locale", "readings"),
    [
        ("40.000", "en_US", ("40,000.00", "40.00")),
        ("1.600", "en_US", ("1,600.00", "1.60")),
        ("1,600", "de_DE", ("1.600,00", "1,60")),
    ],
)
def test_an_amount_that_reads_two_ways_is_refused_naming_both(typed, locale, readings):
    with pytest.raises(MoneyError) as refused:
        read_amount(typed, locale=locale)
    assert readings[0] in str(refused.value)
    assert readings[1] in str(refused.value)


def test_a_percentage_is_of_the_base_and_only_where_there_is_one():
    assert read_amount("5%", locale="en_US", percent_of=Decimal("40000")) == Decimal("2000.00")
    assert read_amount("2,5 %", locale="de_DE", percent_of=Decimal("1000")) == Decimal("25.00")
    with pytest.raises(MoneyError):
        read_amount("5%", locale="en_US")


@pytest.mark.parametrize("typed", ["NaN", "1e3", "12,50", "--5", "five", "%", "k"])
def test_what_is_not_an_amount_is_refused(typed):
    with pytest.raises(MoneyError):
        read_amount(typed, locale="en_US")


def test_a_missing_profile_means_the_setting(owner, settings):
    settings.WALKAWAY_LOCALE = "en_GB"
    assert person_locale(owner) == "en_GB"
    assert Access.of(owner).locale == "en_GB"
    Profile.objects.create(user=owner, locale="de_DE")
    assert person_locale(owner) == "de_DE"
    assert Access.of(owner).locale == "de_DE"


def test_an_unknown_locale_falls_back_to_the_setting(owner):
    Profile.objects.create(user=owner, locale="xx_NOPE")
    assert person_locale(owner) == "en_US"


def test_a_german_rep_logs_and_sees_amounts_the_german_way(client, owner, make_deal):
    Profile.objects.create(user=owner, locale="de_DE")
    deal = make_deal(currency="EUR", opening_price=Decimal("50000"), floor=Decimal("40000"))
    client.force_login(owner)
    response = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "1.600", "description": "Discount"},
    )
    assert response.status_code == 302
    assert Concession.objects.get(deal=deal).amount == Decimal("1600.00")
    shown = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert "48.400,00\xa0€" in shown


def test_an_american_rep_is_refused_the_european_reading(client, owner, deal):
    client.force_login(owner)
    response = client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "1.600", "description": "Discount"},
    )
    assert response.status_code == 422
    assert "1,600.00 or 1.60" in page(response)
    assert not Concession.objects.filter(deal=deal).exists()


def test_the_preview_shows_what_five_percent_and_forty_k_become(client, owner, make_deal):
    deal = make_deal(opening_price=Decimal("50000"), floor=Decimal("40000"))
    client.force_login(owner)
    url = reverse("concession_preview", args=[deal.pk])
    assert "That is $2,500.00. After this: 25% of room used" in " ".join(
        page(client.get(url, {"amount": "5%"}, **HTMX)).split()
    )
    assert "That is $4,000.00." in page(client.get(url, {"amount": "4k"}, **HTMX))


def test_five_percent_logs_five_percent_of_the_opening_price(client, owner, make_deal):
    deal = make_deal(opening_price=Decimal("50000"), floor=Decimal("40000"))
    client.force_login(owner)
    client.post(
        reverse("concession_log", args=[deal.pk]),
        {"kind": "price_discount", "amount": "5%", "description": "Discount"},
    )
    assert Concession.objects.get(deal=deal).amount == Decimal("2500.00")
