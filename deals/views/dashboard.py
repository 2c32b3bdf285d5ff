"""The manager's dashboard and its CSV exports.

Every figure comes from deals/reports.py over Deal.objects.managed_by(access): the teams the
manager manages (staff: all). The views only read the filter form and hand it over.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import dashboard_charts, export, reports
from ..erosion import Level
from ..models import Deal, DealStatus

PERIOD_DAYS = 90
ANY_STATUS = "any"
CUSTOM = "custom"
# The one period control (issue 14): presets, in days back from today, and a custom range.
PERIOD_PRESETS = [
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("182", "Last 6 months"),
    ("365", "Last 12 months"),
    (CUSTOM, "Custom range"),
]


def manager_required(view):
    """Reps get 403 on the manager's pages: the pages' existence is no secret, their data is."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.access.manages_any:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    """The deal list's filter (also what the exports select) and the figures' period.

    A value that does not parse is shown as an error and that one filter is left out, so a
    stale bookmark still opens the dashboard.
    """

    rep = forms.TypedChoiceField(label="Rep", required=False, coerce=int, empty_value=None)
    level = forms.ChoiceField(
        label="Level", required=False, choices=[("", "Any level"), *Level.choices]
    )
    # Open first: it is what the list shows when no status was chosen.
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[*DealStatus.choices, (ANY_STATUS, "Any status")],
    )
    date_field = forms.ChoiceField(
        label="Dates apply to",
        required=False,
        choices=[
            (reports.DateField.CREATED, "Created"),
            (reports.DateField.ACTIVITY, "Last activity"),
        ],
    )
    date_from = forms.DateField(label="From", required=False, widget=DateInput)
    date_to = forms.DateField(label="To", required=False, widget=DateInput)
    period = forms.ChoiceField(label="Period", required=False, choices=PERIOD_PRESETS)
    period_from = forms.DateField(label="From", required=False, widget=DateInput)
    period_to = forms.DateField(label="To", required=False, widget=DateInput)

    def __init__(self, *args, reps=(), **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Every filter may be left empty; saying so on each would be noise.
            field.hide_optional = True
        self.fields["rep"].choices = [("", "Every rep"), *((str(pk), name) for pk, name in reps)]

    def clean(self):
        data = super().clean()
        for start, end in (("date_from", "date_to"), ("period_from", "period_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, "The end date must not be before the start date.")
                data.pop(end, None)
        return data

    def _value(self, name):
        # Errors leave that field out of cleaned_data; the filter is then simply not applied.
        return getattr(self, "cleaned_data", {}).get(name)

    def deal_filters(self) -> reports.DealFilters:
        status = self._value("status") or DealStatus.OPEN
        return reports.DealFilters(
            rep_id=self._value("rep"),
            level=self._value("level") or "",
            status="" if status == ANY_STATUS else status,
            date_field=self._value("date_field") or reports.DateField.CREATED,
            date_from=self._value("date_from"),
            date_to=self._value("date_to"),
        )

    def chosen_period(self) -> reports.Period:
        """A preset counts back from today; a custom range (or dates typed without choosing
        "Custom range", as older links carry) uses its dates, each defaulting as before."""
        preset = self._value("period") or ""
        if preset and preset != CUSTOM:
            end = timezone.localdate()
            return reports.Period(start=reports.days_before(end, int(preset) - 1), end=end)
        end = self._value("period_to") or timezone.localdate()
        start = self._value("period_from") or reports.days_before(end, PERIOD_DAYS - 1)
        return reports.Period(start=start, end=max(start, end))


def _filter_form(request, managed) -> DashboardFilterForm:
    # The owners of the managed deals, read from the deals' side: one pass over the team's
    # deals, rather than one probe of the deals per user.
    reps = managed.order_by("owner__username").values_list("owner_id", "owner__username").distinct()
    form = DashboardFilterForm(request.GET, reps=list(reps))
    form.is_valid()
    return form


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@require_GET
@manager_required
def dashboard(request):
    managed = Deal.objects.managed_by(request.access)
    form = _filter_form(request, managed)
    deals = reports.filter_deals(managed, form.deal_filters())
    page = Paginator(reports.deals_by_room_used(deals), settings.WALKAWAY_DEALS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "dashboard",
        "form": form,
        "page": page,
        "query": _query_without(request, "page"),
    }
    if request.htmx and request.htmx.target == "deal-table":
        # Paging through the list needs none of the figures.
        return render(request, "deals/dashboard.html#deal-table", context)
    period = form.chosen_period()
    period_deals = period.deals(managed)
    context.update(
        level_counts=reports.open_level_counts(managed),
        period=period,
        reps=reports.rep_figures(period_deals),
        planning=reports.plan_figures(period_deals),
        walk_aways=reports.walk_away_figures(period_deals),
        charts=dashboard_charts.build(managed, period),
    )
    template = "deals/dashboard.html" + ("#dashboard-body" if request.htmx else "")
    return render(request, template, context)


def _export_filename(kind: str) -> str:
    return f"walkaway-{kind}-{timezone.localdate():%Y-%m-%d}.csv"


@require_GET
@manager_required
def export_deals(request):
    """The dashboard's current deal filter as CSV, one row per deal."""
    managed = Deal.objects.managed_by(request.access)
    deals = reports.filter_deals(managed, _filter_form(request, managed).deal_filters())
    return export.deals_csv(deals, _export_filename("deals"))


@require_GET
@manager_required
def export_concessions(request):
    """Every concession of the deals the dashboard's current filter selects."""
    managed = Deal.objects.managed_by(request.access)
    deals = reports.filter_deals(managed, _filter_form(request, managed).deal_filters())
    return export.concessions_csv(deals, _export_filename("concessions"))
