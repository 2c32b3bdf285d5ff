"""Settings: every person's page (/settings/), with its "API tokens" section; and, for
managers, the team's webhooks (/settings/webhooks/) with every delivery attempt.

The profile part (name, email, locale, time zone, alerts) is views/people.py's.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..api.webhooks import managed_endpoints
from ..forms import DomainForm, TextField
from ..integrations import ApiToken, WebhookAttempt
from ..models import Team
from ..shapes import ALL_EVENT_TYPES, EVENT_TYPES
from . import people as people_views
from .dashboard import manager_required

SETTINGS = "deals/settings.html"
WEBHOOKS = "deals/webhooks.html"
ATTEMPTS_SHOWN = 20


class TokenForm(DomainForm):
    id_prefix = "id_token"
    name = TextField(label="Token name", limit=100)


def _see_other(name: str, *args) -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse(name, args=args))
    response.status_code = 303
    return response


def _settings_page(
    request, *, form=None, settings_form=None, new_token: str = "", status: int = 200
):
    """The whole Settings page: the person's profile and alerts, then their API tokens."""
    context = {
        "nav": "settings",
        **people_views.profile_context(request, settings_form),
        "tokens": ApiToken.objects.filter(user=request.user),
        "token_form": form or TokenForm(),
        "new_token": new_token,
    }
    return render(request, SETTINGS, context, status=status)


@require_http_methods(["GET", "POST"])
def settings_page(request):
    if request.method == "POST":
        return people_views.settings_save(
            request,
            draw=lambda form, status: _settings_page(request, settings_form=form, status=status),
        )
    return _settings_page(request)


@require_POST
def api_token_create(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            _, raw = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except services.DomainError as e:
            form.add_domain_error(e)
        else:
            # Shown in this answer only: it is never stored, so it can never be shown again.
            return _settings_page(request, new_token=raw, status=201)
    return _settings_page(request, form=form, status=422)


@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(user=request.user, token=token)
    messages.success(request, f"Token \u201c{token.name}\u201d revoked.")
    return _see_other("settings")


# Webhooks (managers) ---------------------------------------------------------------------------


class WebhookForm(DomainForm):
    id_prefix = "id_webhook"
    url = forms.CharField(label="Endpoint URL", max_length=500)
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.none(), empty_label=None)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(t, t) for t in ALL_EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(ALL_EVENT_TYPES),
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


def _managed_teams(access):
    return Team.objects.all() if access.staff else Team.objects.filter(pk__in=access.managed)


def _webhooks_page(request, *, form=None, created=None, secret: str = "", status: int = 200):
    endpoints = list(managed_endpoints(request.access).select_related("team"))
    for endpoint in endpoints:
        endpoint.recent = _attempts(endpoint)[:ATTEMPTS_SHOWN]
    context = {
        "nav": "settings",
        "endpoints": endpoints,
        "form": form or WebhookForm(teams=_managed_teams(request.access)),
        "created": created,
        "secret": secret,
    }
    return render(request, WEBHOOKS, context, status=status)


def _attempts(endpoint):
    rows = WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
    rows = rows.select_related("delivery__event").order_by("-pk")
    return [_row(a) for a in rows]


def _row(attempt: WebhookAttempt) -> dict:
    return {"attempt": attempt, "type": EVENT_TYPES.get(attempt.delivery.event.kind, "")}


@require_http_methods(["GET", "POST"])
@manager_required
def webhooks_page(request):
    if request.method == "GET":
        return _webhooks_page(request)
    form = WebhookForm(request.POST, teams=_managed_teams(request.access))
    if form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = services.webhook_register(
                user=request.user, team=data["team"], url=data["url"], events=data["events"]
            )
        except services.DomainError as e:
            form.add_domain_error(e)
        else:
            return _webhooks_page(request, created=endpoint, secret=secret, status=201)
    return _webhooks_page(request, form=form, status=422)


def _endpoint(request, pk: int):
    endpoint = managed_endpoints(request.access).select_related("team").filter(pk=pk).first()
    if endpoint is None:
        raise Http404
    return endpoint


@require_GET
@manager_required
def webhook_detail(request, pk: int):
    endpoint = _endpoint(request, pk)
    context = {"nav": "settings", "endpoint": endpoint, "attempts": _attempts(endpoint)[:500]}
    return render(request, "deals/webhook_detail.html", context)


@require_POST
@manager_required
def webhook_disable(request, pk: int):
    endpoint = _endpoint(request, pk)
    services.webhook_disable(user=request.user, endpoint=endpoint)
    messages.success(request, f"Webhook to {endpoint.url} switched off.")
    return _see_other("webhooks")
