"""Money in, money out: parsing rules and the way amounts are shown to people."""

from __future__ import annotations

import re
from contextvars import ContextVar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError, get_global
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_name,
    get_decimal_symbol,
    get_group_symbol,
    get_territory_currencies,
    parse_decimal,
)
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


def format_money(amount: Decimal | None, currency: str, locale: str | None = None) -> str:
    """ "$12,500.00": Babel's currency formatting, from the Decimal, in `locale` or else the
    person's (the request's active locale; WALKAWAY_LOCALE outside a request)."""
    if amount is None:
        return ""
    # A page shows the same few amounts many times and Babel takes tens of microseconds each.
    # str(amount) is part of the key because equal Decimals can print differently (0 and -0).
    return _format_money(amount, str(amount), currency, locale or active_locale())


@lru_cache(maxsize=4096, typed=True)
def _format_money(amount: Decimal, text: str, currency: str, locale: str) -> str:
    return format_currency(amount, currency, locale=locale)


# The person's locale -----------------------------------------------------------------------------
#
# Each person reads and writes money in their own locale (Profile.locale; empty or missing: the
# WALKAWAY_LOCALE setting). AccessMiddleware makes it the request's locale, read lazily on the
# first amount shown or read, so pages without money pay nothing.

_ACTIVE: ContextVar = ContextVar("walkaway_locale", default=None)


def person_locale(user) -> str:
    """The locale `user` chose, or WALKAWAY_LOCALE; one query, none for anyone anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return settings.WALKAWAY_LOCALE
    from .models import Profile

    chosen = Profile.objects.filter(user_id=user.pk).values_list("locale", flat=True).first()
    return usable_locale(chosen)


def usable_locale(code: str | None) -> str:
    """`code` if Babel knows it, else WALKAWAY_LOCALE: a stale choice never breaks a page."""
    if code:
        try:
            Locale.parse(code)
        except (ValueError, UnknownLocaleError):
            return settings.WALKAWAY_LOCALE
        return code
    return settings.WALKAWAY_LOCALE


def active_locale() -> str:
    """The locale of the request being answered (a callable set by the middleware), else
    WALKAWAY_LOCALE (commands, services outside a request)."""
    found = _ACTIVE.get()
    if found is None:
        return settings.WALKAWAY_LOCALE
    return found() if callable(found) else found


def activate_locale(locale_or_callable):
    """Make a locale (or a callable giving it) the active one; returns the token to reset."""
    return _ACTIVE.set(locale_or_callable)


def deactivate_locale(token) -> None:
    _ACTIVE.reset(token)


def example_amount(locale: str) -> str:
    return f"1250{get_decimal_symbol(locale)}00"


def show_decimal(amount: Decimal, locale: str) -> str:
    """An amount without its currency, as the locale writes it: "40,000.00" or "40.000,00"."""
    return format_decimal(amount, format="#,##0.00", locale=locale)


# What a form accepts besides the locale's own way of writing a number: a currency sign, a
# "k" for thousands and a percentage of a base (the opening price).
_SIGNS = "$€£¥₹₩₽₺₪₫₴₦₱฿"
_TYPED = re.compile(r"[0-9.,'\u2019\s\u00a0\u202f]+")
# A plain machine amount ("1250.00", "1250.5"): one dot and at most two digits after it. No
# locale groups digits by one or two, so it reads the same in every locale; hidden fields and
# initial values round-trip through it.
_MACHINE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_ONE_SEPARATOR = re.compile(r"(?P<head>[0-9]+)(?P<sep>[.,])(?P<tail>[0-9]{3})")


def read_amount(
    value: str,
    *,
    locale: str | None = None,
    allow_zero: bool = False,
    percent_of: Decimal | None = None,
) -> Decimal:
    """What a person typed into an amount field, read in their locale (Babel, strict).

    Also accepts a currency sign ("€48,000"), "40k" (thousands) and, when `percent_of` is given,
    "5%" of it. An amount that the other common convention reads differently ("40.000" in
    en_US: 40.00 or 40,000.00) is refused, naming both readings, rather than guessed.
    """
    locale = locale or active_locale()
    example = example_amount(locale)
    text = str(value).strip().strip(_SIGNS).strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:].strip()
    scale = Decimal(1)
    percent = False
    if text[-1:] in ("k", "K"):
        scale, text = Decimal(1000), text[:-1].strip()
    elif text.endswith("%"):
        if percent_of is None:
            raise MoneyError(f"Enter an amount such as {example}.")
        percent, text = True, text[:-1].strip()
    text = text.strip(_SIGNS).strip()
    if not text or not _TYPED.fullmatch(text) or not any(ch.isdigit() for ch in text):
        raise MoneyError(f"Enter an amount such as {example}.")
    number = _read_number(text, locale, example)
    if negative and number:
        raise MoneyError("Enter a positive amount.")
    if percent:
        number = (percent_of * number / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        number = number * scale
    return parse_money(number, allow_zero=allow_zero)


def _read_number(text: str, locale: str, example: str) -> Decimal:
    if _MACHINE.fullmatch(text):
        return Decimal(text)
    group_symbol = get_group_symbol(locale)
    if group_symbol.isspace():
        text = re.sub(r"\s", group_symbol, text)
    # "40.000" in en_US, "1,600" in de_DE: one dot or comma that is not the locale's group
    # symbol, followed by exactly three digits, is how another convention groups thousands.
    found = _ONE_SEPARATOR.fullmatch(text)
    if found and found["sep"] != group_symbol:
        head, tail = found["head"], found["tail"]
        mine = Decimal(f"{head}.{tail}")
        other = Decimal(head + tail)
        raise MoneyError(
            f"“{text}” reads two ways: {show_decimal(other, locale)} or "
            f"{show_decimal(mine, locale)}. Type it as {show_decimal(other, locale)} or as "
            f"{show_decimal(mine, locale)}, with two decimal places."
        )
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        if group_symbol in text:
            # Digits grouped the wrong way: show how this locale groups them.
            example = show_decimal(Decimal(1250), locale)
        raise MoneyError(f"Enter an amount such as {example}.") from None


def currency_label(code: str, locale: str | None = None) -> str:
    """ "EUR — Euro": the code and its name in the person's locale."""
    name = get_currency_name(code, locale=locale or active_locale())
    return code if not name or name == code else f"{code} — {name}"
