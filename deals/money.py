"""Money in, money out: parsing rules and the way amounts are shown to people."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.core import get_global
from babel.numbers import format_currency, get_territory_currencies
from django.conf import settings

CENT = Decimal("0.01")
# DecimalField(max_digits=14, decimal_places=2): twelve digits before the point.
MAX_MONEY = Decimal("999999999999.99")
TOO_LARGE = "That amount is too large. The most an amount can be is 999,999,999,999.99."
_PLAIN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")


class MoneyError(ValueError):
    """A value that cannot be an amount of money; the message is meant for people."""


def parse_money(
    value: object, *, allow_zero: bool = False, allow_negative: bool = False
) -> Decimal:
    """A finite Decimal with at most two decimal places and at most twelve digits before the point.

    Floats are refused outright: a float has already lost the cents it claims to hold.
    """
    if isinstance(value, float | bool):
        raise MoneyError("Enter an amount such as 1250.00.")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        text = str(value).strip()
        # Commas are thousands separators only: "12,50" (a decimal comma) must not become 1250.
        if "," in text:
            if not _GROUPED.fullmatch(text):
                raise MoneyError("Enter an amount such as 1,250.00.")
            text = text.replace(",", "")
        # Plain digits only: Decimal would also read "1e3", "NaN" and "_1_000" as numbers.
        if not _PLAIN.fullmatch(text):
            raise MoneyError("Enter an amount such as 1250.00.")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MoneyError("Enter an amount such as 1250.00.") from None
    else:
        raise MoneyError("Enter an amount such as 1250.00.")
    if not amount.is_finite():
        raise MoneyError("Enter an amount such as 1250.00.")
    # copy_abs, unlike abs(), ignores the context: "1e999999999" must be "too large", not a crash.
    if amount.copy_abs() > MAX_MONEY:
        raise MoneyError(TOO_LARGE)
    if amount.quantize(CENT) != amount:
        raise MoneyError("Use at most two decimal places.")
    if amount < 0 and not allow_negative:
        raise MoneyError("Enter a positive amount.")
    if amount == 0 and not allow_zero:
        raise MoneyError("Enter an amount greater than zero.")
    # Adding zero turns a typed "-0" into 0.00, so no one is ever shown "-$0.00".
    return amount.quantize(CENT) + 0


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes that some country uses as legal tender today, per Babel's CLDR data.

    Historical codes (DEM), metals (XAU) and test codes (XTS, XXX) are not money a deal is
    priced in.
    """
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(
            get_territory_currencies(territory, start_date=today, tender=True, non_tender=False)
        )
    return frozenset(codes)


def is_currency(code: str) -> bool:
    return code in currency_codes()


def format_money(amount: Decimal | None, currency: str) -> str:
    """ "$12,500.00": Babel's currency formatting in the configured locale, from the Decimal."""
    if amount is None:
        return ""
    # A page shows the same few amounts many times and Babel takes tens of microseconds each.
    # str(amount) is part of the key because equal Decimals can print differently (0 and -0).
    return _format_money(amount, str(amount), currency, settings.WALKAWAY_LOCALE)


@lru_cache(maxsize=4096, typed=True)
def _format_money(amount: Decimal, text: str, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)
