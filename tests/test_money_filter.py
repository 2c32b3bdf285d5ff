"""The `money` and `percent` template filters: how the desk shows amounts and room used."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import engines


def render(source: str, **context) -> str:
    template = engines["django"].from_string("{% load walkaway %}" + source)
    return template.render(context)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("4200.00"), "USD", "$4,200.00"),
        (Decimal("0.00"), "USD", "$0.00"),
        (Decimal("-300.00"), "USD", "-$300.00"),
        (Decimal("12500.50"), "EUR", "€12,500.50"),
        (Decimal("999999999999.99"), "GBP", "£999,999,999,999.99"),
        (Decimal("1500000"), "JPY", "¥1,500,000"),
    ],
)
def test_money_shows_the_amount_in_the_deals_currency(amount, currency, shown):
    assert render("{{ amount|money:currency }}", amount=amount, currency=currency) == shown


def test_money_shows_nothing_for_an_unknown_amount():
    assert render("[{{ amount|money:'USD' }}]", amount=None) == "[]"


def test_money_follows_the_configured_locale(settings):
    settings.WALKAWAY_LOCALE = "de_DE"
    assert render("{{ amount|money:'EUR' }}", amount=Decimal("1234.5")) == "1.234,50\xa0€"


@pytest.mark.parametrize(
    ("room_used", "shown"),
    [
        (Decimal("0"), "0%"),
        (Decimal("49.5"), "50%"),
        (Decimal("49.49"), "49%"),
        (Decimal("85.5"), "86%"),
        (Decimal("120"), "120%"),
    ],
)
def test_percent_rounds_half_up_for_people(room_used, shown):
    assert render("{{ value|percent }}", value=room_used) == shown


def test_percent_shows_nothing_for_an_unknown_value():
    assert render("[{{ value|percent }}]", value=None) == "[]"
