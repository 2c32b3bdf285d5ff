"""Forms: the shape of what people type. The rules themselves live in the services; the forms
only turn text into values and carry the services' messages back next to the right field."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.forms.renderers import TemplatesSetting
from django.utils import timezone

from .erosion import Level
from .models import ConcessionKind, DealStatus, LostReason, one_line
from .money import TOO_LARGE, MoneyError, currency_codes, currency_label, read_amount
from .services import TEXT_LIMIT, TITLE_LIMIT, DomainError

COMMON_CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "NOK", "DKK"]


class Renderer(TemplatesSetting):
    """Fields drawn as {{ form.x.as_field_group }} use templates/forms/field.html: label, the
    "(optional)" mark, errors and help, tied together for screen readers."""

    field_template_name = "forms/field.html"


def shown(field: forms.Field, *, wide: bool = False, hide_optional: bool = False):
    """How a field's group is drawn: across the form (`wide`), or without "(optional)" where
    the label or the help already says what leaving it empty does."""
    field.wide = wide
    field.hide_optional = hide_optional
    return field


class MoneyField(forms.CharField):
    """Money as typed ("12,500.00" in en_US, "12.500,00" in de_DE), read in the person's
    locale to a Decimal that the services then check by their own rules."""

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        # "5%" reads as a share of this (a deal's opening price), when a form sets it.
        self.percent_of = None
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > 40:
            raise forms.ValidationError(TOO_LARGE)
        try:
            # In the person's locale (the request's), strictly; "40k", "€48,000" and "5%" too.
            return read_amount(value, allow_zero=self.allow_zero, percent_of=self.percent_of)
        except MoneyError as e:
            raise forms.ValidationError(str(e)) from None


class TextField(forms.CharField):
    """Any text at all, "<" and ">" included; NUL is refused because no database stores it."""

    def __init__(self, *, limit: int = TEXT_LIMIT, **kwargs):
        super().__init__(max_length=limit, **kwargs)

    def validate(self, value):
        super().validate(value)
        if "\x00" in (value or ""):
            raise forms.ValidationError("This text contains a character that cannot be stored.")


class LineField(TextField):
    """Text shown on one line (a title, a customer): line breaks and control characters are
    folded to spaces, so what is stored is what a list row or an email subject can show."""

    def __init__(self, **kwargs):
        kwargs.setdefault("limit", TITLE_LIMIT)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if "\x00" in value:
            return value  # refused by validate(), with its own message
        return one_line(value)


class DomainForm(forms.Form):
    """A form that can show a service's DomainError next to the field it concerns, and that
    ties each input to its help and errors for screen readers.

    Several forms share a page, so each form class gets its own id prefix (`id_prefix`).
    """

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self._describe()

    def full_clean(self):
        super().full_clean()
        self._describe()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._describe()

    def add_domain_error(self, error: DomainError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)

    def _describe(self) -> None:
        errors = getattr(self, "_errors", None) or {}
        for name, field in self.fields.items():
            auto_id = self[name].auto_id
            ids = []
            if name in errors:
                ids.append(f"{auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            else:
                field.widget.attrs.pop("aria-invalid", None)
            if field.help_text:
                ids.append(f"{auto_id}-help")
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            else:
                field.widget.attrs.pop("aria-describedby", None)


def _currency_choices():
    rest = sorted(currency_codes() - set(COMMON_CURRENCIES))
    # "EUR — Euro": a code alone says little to someone who has not memorised ISO 4217.
    return [(c, currency_label(c)) for c in COMMON_CURRENCIES + rest]


class DealForm(DomainForm):
    title = LineField(label="Title")
    customer = LineField(label="Customer")
    team = shown(forms.ChoiceField(label="Team", required=False), hide_optional=True)
    currency = forms.ChoiceField(label="Currency", choices=())
    opening_price = MoneyField(label="Opening price")
    floor = MoneyField(
        label="Walk-away floor",
        allow_zero=True,
        help_text="The lowest net price you will accept. Decide it now, before you talk price.",
    )
    cost = shown(
        MoneyField(
            label="Cost to deliver",
            allow_zero=True,
            required=False,
            help_text="Optional; shows margin.",
        ),
        hide_optional=True,
    )

    target_price = MoneyField(
        label="Target price",
        required=False,
        help_text="Where you aim to land: above the floor, at most the opening price.",
    )
    best_alternative = TextField(
        label="Best alternative",
        required=False,
        help_text="What you will do if you walk away.",
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = list(teams)
        self.fields["team"].choices = [(str(t.pk), t.name) for t in self.teams]
        self.fields["currency"].choices = _currency_choices()
        self.fields["currency"].initial = settings.WALKAWAY_DEFAULT_CURRENCY
        if len(self.teams) <= 1:
            self.fields["team"].widget = forms.HiddenInput()

    def clean_team(self):
        value = self.cleaned_data.get("team")
        by_pk = {str(t.pk): t for t in self.teams}
        if not self.teams:
            raise forms.ValidationError("You are not in a team yet; ask an administrator.")
        if not value and len(self.teams) == 1:
            return self.teams[0]
        if value not in by_pk:
            raise forms.ValidationError("Choose one of your teams.")
        return by_pk[value]

    def clean(self):
        data = super().clean()
        opening, floor = data.get("opening_price"), data.get("floor")
        if opening is not None and floor is not None and floor >= opening:
            self.add_error("floor", "The walk-away floor must be below the opening price.")
        return data


class DealEditForm(DomainForm):
    """What describes a deal, edited on its page by its owner or a manager (deal_update)."""

    id_prefix = "id_edit"
    title = LineField(label="Title")
    customer = LineField(label="Customer")
    cost = shown(
        MoneyField(
            label="Cost to deliver",
            allow_zero=True,
            required=False,
            help_text="Optional; shows margin. Leave empty if unknown.",
        ),
        hide_optional=True,
    )


def new_form_key() -> str:
    return uuid.uuid4().hex


class ConcessionForm(DomainForm):
    kind = forms.ChoiceField(label="Kind", choices=ConcessionKind.choices)
    amount = MoneyField(label="Amount")
    description = shown(TextField(label="What you gave"), wide=True)
    got_in_return = shown(
        TextField(
            label="What you got in return",
            required=False,
            help_text="A longer contract, a bigger order, a faster signature, a reference…",
        ),
        wide=True,
    )
    # The one-time key (rule 8): a resubmitted form carries the same key and logs nothing new.
    form_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    # The planned step this give follows ("Log this step"); empty: off plan.
    plan_step = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, opening_price=None, **kwargs):
        super().__init__(*args, **kwargs)
        # "5%": five percent of the deal's opening price.
        self.fields["amount"].percent_of = opening_price
        if not self.is_bound:
            self.initial.setdefault("form_key", new_form_key())


class ExceptionRequestForm(ConcessionForm):
    id_prefix = "id_exception"
    note = TextField(label="Note for your manager", required=False)


class CorrectForm(ConcessionForm):
    """A concession's author fixes a typo in one step ("Save correction")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["form_key"]
        del self.fields["plan_step"]


class ComebackForm(DomainForm):
    """The customer came back: when, what they offered, a note ("Reopen deal")."""

    id_prefix = "id_comeback"
    # Empty: today (the form fills today in; the service defaults to it too).
    came_back_on = shown(
        forms.DateField(
            label="Came back on",
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        ),
        hide_optional=True,
    )
    offer = MoneyField(label="Their offer", required=False)
    note = TextField(label="Note", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("came_back_on", timezone.localdate())


class RetractForm(DomainForm):
    id_prefix = "id_retract"
    reason = TextField(label="Reason")


class WinForm(DomainForm):
    id_prefix = "id_win"
    final_price = shown(
        MoneyField(
            label="Final price", required=False, help_text="Leave empty to use the current net."
        ),
        hide_optional=True,
    )


class LoseForm(DomainForm):
    id_prefix = "id_lose"
    reason = forms.ChoiceField(label="Reason", choices=[("", "Choose…"), *LostReason.choices])
    note = TextField(label="Note", required=False)


class WalkAwayForm(DomainForm):
    id_prefix = "id_walk"
    reason = TextField(label="Reason")


class FloorForm(DomainForm):
    id_prefix = "id_floor"
    new_floor = MoneyField(label="New floor", allow_zero=True)
    reason = TextField(label="Reason", required=False)


class PlanForm(DomainForm):
    """The plan's own fields; its steps are a formset of StepForm beside it."""

    id_prefix = "id_plan"
    target_price = MoneyField(label="Target price", required=False)
    best_alternative = TextField(label="Best alternative", required=False)
    things_to_ask = shown(
        TextField(label="Things to ask for", required=False, help_text="One per line."),
        wide=True,
    )
    reason = shown(TextField(label="Reason for the change", required=False), wide=True)


class StepForm(DomainForm):
    """One planned step; labels of their own, so that they never collide with the concession
    form's on the same page."""

    kind = forms.ChoiceField(label="Step kind", choices=ConcessionKind.choices)
    amount = MoneyField(label="Step amount")
    give = TextField(label="What you would give")
    ask = TextField(label="What you ask in return")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_%s")
        super().__init__(*args, **kwargs)


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove step"


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=0, can_delete=True, max_num=30, validate_max=True
)


CLOSED = "closed"
ALL = "all"

SORTS = [("recent", "Last change"), ("room", "Room used"), ("net", "Net")]


class DealFilterForm(forms.Form):
    """The deals list's search, filters and order; unknown values are ignored rather than
    shown as errors. Open deals come first; closed ones are behind the status filter."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            (DealStatus.OPEN, "Open"),
            (CLOSED, "Closed"),
            (ALL, "All"),
            *[(v, label) for v, label in DealStatus.choices if v != DealStatus.OPEN],
        ],
    )
    level = forms.ChoiceField(
        label="Level", required=False, choices=[("", "Any level"), *Level.choices]
    )
    owner = forms.TypedChoiceField(label="Owner", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is None:
            # Only managers choose an owner; a rep's list is theirs.
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [("", "Anyone")] + [
                (str(u.pk), _person(u)) for u in owners
            ]


class BoundedLogin:
    """Django's login forms leave the username's length to the browser. A longer one would reach
    django-axes, whose log of attempts cannot store more than 255 characters (a 500 on
    PostgreSQL); no account has a name longer than the user model allows (150), so it is a
    wrong login like any other, and it never reaches authenticate() or axes. The password is
    bounded too, so that nobody can make the server hash megabytes."""

    PASSWORD_LIMIT = 4096

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password") or ""
        if (
            len(username) > self.fields["username"].max_length
            or len(password) > self.PASSWORD_LIMIT
        ):
            raise self.get_invalid_login_error()
        return super().clean()


class LoginForm(BoundedLogin, AuthenticationForm):
    """The app's login page (/accounts/login/)."""


class AdminLoginForm(BoundedLogin, AdminAuthenticationForm):
    """The admin's login page (/admin/login/), bounded the same way."""


class ReassignForm(DomainForm):
    """Rule 11: a manager hands a deal to another active member of its team."""

    id_prefix = "id_reassign"
    new_owner = forms.ChoiceField(label="New owner", choices=())

    def __init__(self, *args, candidates=(), current_owner_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_owner"].choices = [("", "Choose…")] + [
            (str(u.pk), _person(u)) for u in candidates if u.pk != current_owner_id
        ]
        self.fields["new_owner"].error_messages.update(
            {
                "required": "Choose the new owner.",
                "invalid_choice": "Choose an active member of this deal's team.",
            }
        )


def _person(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()
