"""A manager's CSV import of deals (deals/imports.py): upload, preview, confirm."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import imports
from ..forms import DomainForm
from ..models import Team
from .dashboard import manager_required

TEMPLATE = "deals/deal_import.html"


class ImportForm(DomainForm):
    id_prefix = "id_import"
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.none(), empty_label=None)
    file = forms.FileField(label="CSV file", required=False)
    # The file's text, carried from the preview to the confirmation.
    csv = forms.CharField(required=False, widget=forms.HiddenInput, max_length=imports.MAX_BYTES)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams

    def text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            if upload.size > imports.MAX_BYTES:
                return "\x00"
            return upload.read().decode("utf-8-sig", "replace")
        return self.cleaned_data.get("csv") or ""


@require_http_methods(["GET", "POST"])
@manager_required
def deal_import(request):
    access = request.access
    teams = Team.objects.all() if access.staff else Team.objects.filter(pk__in=access.managed)
    context = {"nav": "deals", "columns": imports.COLUMNS, "required": imports.REQUIRED}
    if request.method == "GET":
        context["form"] = ImportForm(teams=teams)
        return render(request, TEMPLATE, context)
    form = ImportForm(request.POST, request.FILES, teams=teams)
    context["form"] = form
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=422)
    text = form.text()
    team = form.cleaned_data["team"]
    outcome = imports.run(text, user=request.user, team=team, confirm=form.cleaned_data["confirm"])
    if outcome.written:
        messages.success(request, f"Imported {len(outcome.rows)} deals into {team.name}.")
        response = HttpResponseRedirect(reverse("deal_list"))
        response.status_code = 303
        return response
    context.update(
        outcome=outcome,
        team=team,
        confirm_form=ImportForm(initial={"team": team, "csv": text, "confirm": True}, teams=teams),
    )
    return render(request, TEMPLATE, context, status=200 if outcome.ok else 422)
