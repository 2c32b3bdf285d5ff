from decimal import Decimal

from django import template

from deals.erosion import format_percent
from deals.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """{{ deal.net|money:deal.currency }} -> "$12,500.00"."""
    return format_money(amount, currency)


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format_percent(value)
