"""Money in and out (DOMAIN.md, Money): Decimal from strings, cents only, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deals.money import MAX_MONEY, TOO_LARGE, MoneyError, format_money, is_currency, parse_money

PURE = settings(max_examples=200, deadline=None)

cents = st.integers(min_value=1, max_value=99999999999999).map(lambda c: Decimal(c).scaleb(-2))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1250", "1250.00"),
        ("1250.5", "1250.50"),
        ("1,250.00", "1250.00"),
        ("12,500", "12500.00"),
        ("1,234,567.89", "1234567.89"),
        ("  99.99 ", "99.99"),
        ("0.01", "0.01"),
        ("999999999999.99", "999999999999.99"),
        (7, "7.00"),
        (Decimal("3.1"), "3.10"),
    ],
)
def test_it_parses_amounts_as_people_type_them(typed, expected):
    amount = parse_money(typed)
    assert type(amount) is Decimal
    assert amount == Decimal(expected)
    # Quantized to cents on the way in, so it is stored and shown as typed money.
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "Enter an amount greater than zero."),
        ("0.00", "Enter an amount greater than zero."),
        ("-5", "Enter a positive amount."),
        ("NaN", "Enter an amount such as 1250.00."),
        ("-NaN", "Enter an amount such as 1250.00."),
        ("sNaN", "Enter an amount such as 1250.00."),
        ("Infinity", "Enter an amount such as 1250.00."),
        ("-Infinity", "Enter an amount such as 1250.00."),
        ("inf", "Enter an amount such as 1250.00."),
        ("1.005", "Use at most two decimal places."),
        ("0.001", "Use at most two decimal places."),
        (10**15, TOO_LARGE),
        (str(10**15), TOO_LARGE),
        ("1000000000000", TOO_LARGE),
        ("1e400", "Enter an amount such as 1250.00."),
        ("abc", "Enter an amount such as 1250.00."),
        ("", "Enter an amount such as 1250.00."),
        ("12.50 USD", "Enter an amount such as 1250.00."),
        ("$12.50", "Enter an amount such as 1250.00."),
        (None, "Enter an amount such as 1250.00."),
        (1.5, "Enter an amount such as 1250.00."),
        (True, "Enter an amount such as 1250.00."),
        ([1], "Enter an amount such as 1250.00."),
    ],
)
def test_it_refuses_what_cannot_be_an_amount_with_a_message_for_people(typed, message):
    with pytest.raises(MoneyError) as refused:
        parse_money(typed)
    assert str(refused.value) == message


@pytest.mark.parametrize("typed", ["12,50", "1,5", "1,2,3", ",5", "1,0000", "1,000,00"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused_not_guessed(typed):
    # "12,50" is twelve and a half to half the world; reading it as 1250 would be a silent 100x.
    with pytest.raises(MoneyError, match=r"1,250\.00"):
        parse_money(typed)


def test_zero_and_negative_are_allowed_only_when_asked_for():
    assert parse_money("0", allow_zero=True) == 0
    assert parse_money("-12.5", allow_negative=True) == Decimal("-12.50")
    with pytest.raises(MoneyError):
        parse_money("-12.5", allow_zero=True)
    with pytest.raises(MoneyError):
        parse_money("0", allow_negative=True)


def test_a_typed_minus_zero_is_plain_zero():
    zero = parse_money("-0", allow_zero=True)
    assert not zero.is_signed()
    assert format_money(zero, "USD") == "$0.00"


@PURE
@given(amount=cents)
def test_every_amount_in_cents_round_trips_through_its_text(amount):
    parsed = parse_money(str(amount))
    assert parsed == amount
    assert type(parsed) is Decimal
    assert parsed <= MAX_MONEY


@PURE
@given(amount=cents)
def test_every_amount_round_trips_through_its_display(amount):
    shown = format_money(amount, "USD")
    assert shown.startswith("$")
    assert parse_money(shown[1:]) == amount


@PURE
@given(amount=st.floats(allow_nan=True, allow_infinity=True))
def test_it_refuses_every_float(amount):
    with pytest.raises(MoneyError):
        parse_money(amount)


@PURE
@given(
    whole=st.integers(min_value=0, max_value=10**6),
    fraction=st.integers(min_value=1, max_value=999).filter(lambda f: f % 10 != 0),
)
def test_it_refuses_any_third_decimal_place(whole, fraction):
    with pytest.raises(MoneyError, match="two decimal places"):
        parse_money(f"{whole}.{fraction:03d}")


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("12500", "USD", "$12,500.00"),
        ("0.5", "USD", "$0.50"),
        ("12500", "EUR", "€12,500.00"),
        ("-100", "USD", "-$100.00"),
    ],
)
def test_it_shows_money_in_the_deals_currency(amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown


def test_it_shows_nothing_for_an_unknown_amount():
    assert format_money(None, "USD") == ""


def test_it_follows_the_configured_locale(settings):
    settings.WALKAWAY_LOCALE = "de_DE"
    assert format_money(Decimal("12500"), "EUR") == "12.500,00\xa0€"


@pytest.mark.parametrize(("code", "known"), [("USD", True), ("EUR", True), ("XYZ", False)])
def test_it_knows_iso_currency_codes(code, known):
    assert is_currency(code) is known


def test_currency_codes_are_case_sensitive_so_callers_normalise_them():
    assert not is_currency("usd")
    assert not is_currency("")


@pytest.mark.parametrize("text", ["1e3", "1E3", "1_000", "0x10", "١٢٣", "12.5.1", "+-1"])
def test_it_refuses_numbers_that_are_not_written_as_plain_amounts(text):
    with pytest.raises(MoneyError):
        parse_money(text)
