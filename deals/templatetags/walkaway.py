from datetime import datetime
from decimal import Decimal

from django import forms, template
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

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


@register.simple_tag
def form_field(field, wide=False, hide_optional=False) -> str:
    """{% form_field form.note %}: one labelled field with its help and errors, tied together
    for screen readers (the input's aria-describedby comes from DomainForm).

    A tag rather than an included template: the deal page renders a dozen fields on every
    request, and an include costs a template render and its variable lookups per field.
    """
    key = _shared_key(field, "field", bool(wide), bool(hide_optional))
    if key is None:
        return _form_field(field, wide, hide_optional)
    markup = _shared_markup.get(key)
    if markup is None:
        markup = _shared_markup[key] = _form_field(field, wide, hide_optional)
    return markup


@register.simple_tag
def widget(field) -> str:
    """{% widget filters.status %}: the field's input alone, as {{ filters.status }} draws it."""
    key = _shared_key(field, "widget")
    if key is None:
        return str(field)
    markup = _shared_markup.get(key)
    if markup is None:
        markup = _shared_markup[key] = str(field)
    return markup


# Django draws each widget through a template. A field of a form whose fields never vary
# (`fields_are_fixed`) draws the same markup for the same value: blank, or one of its choices.
# Only such values are kept, so the memo is as small as the forms' choices.
_shared_markup: dict[tuple, str] = {}


def _shared_key(field, *extra) -> tuple | None:
    form = field.form
    if not getattr(form, "fields_are_fixed", False):
        return None
    # A form drawn with ids of its own (one retract form per concession) would add an entry
    # per instance; only the class's own ids are kept.
    if form.auto_id != f"{getattr(form, 'id_prefix', 'id')}_%s":
        return None
    key = (type(form), field.name, field.auto_id, *extra)
    if not form.is_bound:
        return None if field.name in form.initial else (*key, None)
    value = field.value()
    if value is None:
        value = ""  # not sent: drawn as the blank choice
    if field.errors or not isinstance(field.field, forms.ChoiceField) or not isinstance(value, str):
        return None
    if value not in {str(choice) for choice, _ in field.field.choices}:
        return None
    return (*key, value)


def _form_field(field, wide, hide_optional) -> str:
    auto_id = conditional_escape(field.auto_id)
    errors = field.errors
    classes = "field"
    if errors:
        classes += " has-error"
    if wide:
        classes += " wide"
    optional = ""
    if not field.field.required and not hide_optional:
        optional = ' <span class="optional">(optional)</span>'
    error_list = ""
    if errors:
        items = "".join(f"<li>{conditional_escape(e)}</li>" for e in errors)
        error_list = f'<ul class="errorlist" id="{auto_id}-error">{items}</ul>'
    help_text = ""
    if field.help_text:
        help_text = f'<p class="help" id="{auto_id}-help">{conditional_escape(field.help_text)}</p>'
    return mark_safe(  # noqa: S308 - every piece above is escaped or already safe widget HTML
        f'\n<div class="{classes}">\n'
        f'  <label for="{auto_id}">{conditional_escape(field.label)}{optional}</label>\n'
        f"  {error_list}\n"
        f"  {conditional_escape(field)}\n"
        f"  {help_text}\n"
        "</div>\n"
    )


# The deal page shows two timestamps on each of up to forty rows, and Django's |date costs
# tens of microseconds a call. These give the same text as |date:"c" and |date:"M j, Y H:i"
# (the value arrives in local time, as |date's does).
@register.filter(expects_localtime=True)
def iso_datetime(value: datetime | None) -> str:
    """The same as |date:"c"."""
    if not value:
        return ""
    return value.isoformat()


@register.filter(expects_localtime=True)
def short_datetime(value: datetime | None) -> str:
    """The same as |date:"M j, Y H:i": "Nov 27, 2026 03:11"."""
    if not value:
        return ""
    return (
        f"{MONTHS_3[value.month].title()} {value.day}, {value.year:04d} "
        f"{value.hour:02d}:{value.minute:02d}"
    )
