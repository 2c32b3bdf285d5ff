"""The team's people from the app (issue 14): the manager's Team page (invite, change a role,
remove), the invitee's page that accepts an invitation, and everyone's Settings.

The writes are deals/people.py's services; these views only validate, call one and render.
The Settings page's own part is the partial "profile-settings" of templates/deals/settings.html,
so that other sections (API tokens) can be included beside it.
"""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import people
from ..forms import DomainForm
from ..models import Deal, Invitation, Membership, Profile, Role, Team, TeamChange
from ..services import DomainError, NotAllowed
from .dashboard import manager_required

LOCALES = [
    ("", "As the site (default)"),
    ("en_US", "English (United States)"),
    ("en_GB", "English (United Kingdom)"),
    ("de_DE", "Deutsch (Deutschland)"),
    ("fr_FR", "Français (France)"),
    ("es_ES", "Español (España)"),
    ("it_IT", "Italiano (Italia)"),
    ("nl_NL", "Nederlands (Nederland)"),
]
TIME_ZONES = [("", "As the site (default)")] + [
    (name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())
]
ALERT_FIELDS = ("alert_exceptions", "alert_levels", "alert_outcomes", "alert_decisions")


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


# Team ------------------------------------------------------------------------------------------


class InviteForm(DomainForm):
    id_prefix = "invite"

    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.REP)
    team = forms.TypedChoiceField(label="Team", coerce=int)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [(t.pk, t.name) for t in teams]
        if len(teams) == 1:
            self.fields["team"].initial = teams[0].pk
            self.fields["team"].widget = forms.HiddenInput()


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def _managed_teams(access):
    if access.staff:
        return list(Team.objects.all())
    return list(Team.objects.filter(pk__in=sorted(access.managed)))


def _team_context(request, invite_form=None) -> dict:
    teams = _managed_teams(request.access)
    team_ids = [t.pk for t in teams]
    members = (
        Membership.objects.filter(team_id__in=team_ids)
        .select_related("user", "team")
        .order_by("team__name", "user__username")
    )
    # Open deals whose owner is no longer in the deal's team: to reassign (services.deal_reassign).
    orphans = (
        Deal.objects.filter(team_id__in=team_ids, status=Deal.Status.OPEN)
        .exclude(
            Exists(
                Membership.objects.filter(user_id=OuterRef("owner_id"), team_id=OuterRef("team_id"))
            )
        )
        .select_related("owner", "team")
        .order_by("owner__username", "title")
    )
    pending = (
        Invitation.objects.filter(team_id__in=team_ids, accepted_at__isnull=True)
        .select_related("team")
        .order_by("-created_at")[:50]
    )
    changes = TeamChange.objects.filter(team_id__in=team_ids).order_by("-created_at", "-pk")[:20]
    return {
        "nav": "team",
        "teams": teams,
        "members": members,
        "orphans": orphans,
        "invitations": pending,
        "changes": changes,
        "invite_form": invite_form or InviteForm(teams=teams),
        "role_choices": Role.choices,
        "invitation_days": settings.WALKAWAY_INVITATION_DAYS,
    }


@require_http_methods(["GET"])
@manager_required
def team(request):
    return render(request, "deals/team.html", _team_context(request))


@require_POST
@manager_required
def invite(request):
    teams = _managed_teams(request.access)
    form = InviteForm(request.POST, teams=teams)
    if form.is_valid():
        chosen = next(t for t in teams if t.pk == form.cleaned_data["team"])
        try:
            people.invite_create(
                team=chosen,
                user=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except NotAllowed:
            raise Http404 from None
        except DomainError as refused:
            form.add_domain_error(refused)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return _see_other(reverse("team"))
    return render(request, "deals/team.html", _team_context(request, form), status=422)


def _membership(request, pk: int) -> Membership:
    teams = [t.pk for t in _managed_teams(request.access)]
    return get_object_or_404(
        Membership.objects.select_related("user", "team"), pk=pk, team_id__in=teams
    )


def _refused(request, message: str, status: int = 409):
    """The Team page again, saying why nothing changed."""
    messages.error(request, message)
    return render(request, "deals/team.html", _team_context(request), status=status)


@require_POST
@manager_required
def member_role(request, pk: int):
    membership = _membership(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, "Choose Rep or Manager.", status=422)
    try:
        changed = people.membership_role_change(
            membership=membership, user=request.user, role=form.cleaned_data["role"]
        )
    except NotAllowed:
        raise Http404 from None
    except DomainError as refused:
        return _refused(request, refused.message)
    else:
        messages.success(
            request, f"{changed.user.get_username()} is now {changed.get_role_display()}."
        )
    return _see_other(reverse("team"))


@require_POST
@manager_required
def member_remove(request, pk: int):
    membership = _membership(request, pk)
    try:
        removed = people.membership_remove(membership=membership, user=request.user)
    except NotAllowed:
        raise Http404 from None
    except DomainError as refused:
        return _refused(request, refused.message)
    else:
        messages.success(
            request,
            f"{removed.user.get_username()} was removed from {removed.team.name}. "
            "Their open deals are listed below for reassignment.",
        )
    return _see_other(reverse("team"))


# Accepting an invitation ------------------------------------------------------------------------


class JoinForm(DomainForm):
    id_prefix = "join"

    username = forms.CharField(label="Username", max_length=150)
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="New password confirmation",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", "The two passwords do not match.")
        return data


@login_not_required
@require_http_methods(["GET", "POST"])
def invite_accept(request, token: str):
    invitation = people.invitation_for(token)
    if invitation is None:
        return render(
            request,
            "deals/invite_accept.html",
            {"gone": people.INVITATION_GONE},
            status=410,
        )
    form = JoinForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = people.invite_accept(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["new_password1"],
                )
            except DomainError as refused:
                form.add_domain_error(refused)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome to {invitation.team.name}.")
                return _see_other(reverse("deal_list"))
        status = 422
    context = {"invitation": invitation, "form": form}
    return render(request, "deals/invite_accept.html", context, status=status)


# Settings --------------------------------------------------------------------------------------


class SettingsForm(DomainForm):
    id_prefix = "settings"

    name = forms.CharField(label="Name", max_length=150, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    locale = forms.ChoiceField(label="Locale", choices=LOCALES, required=False)
    time_zone = forms.ChoiceField(label="Time zone", choices=TIME_ZONES, required=False)
    alert_exceptions = forms.BooleanField(label="Exception requests to decide", required=False)
    alert_levels = forms.BooleanField(
        label="Deals entering Danger or At your floor", required=False
    )
    alert_outcomes = forms.BooleanField(label="Walk-aways and comebacks", required=False)
    alert_decisions = forms.BooleanField(label="Decisions on my requests", required=False)
    alert_email = forms.BooleanField(label="Also send my alerts by email", required=False)


def _settings_form(request, data=None) -> SettingsForm:
    profile = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    user = request.user
    initial = {
        "name": user.get_full_name(),
        "email": user.email,
        "locale": profile.locale,
        "time_zone": profile.time_zone,
        "alert_email": profile.alert_email,
        **{name: getattr(profile, name) for name in ALERT_FIELDS},
    }
    return SettingsForm(data, initial=initial)


def profile_context(request, form=None) -> dict:
    """What the Settings page's profile part needs (views/settings.py draws the whole page)."""
    return {"settings_form": form or _settings_form(request)}


def settings_save(request, *, draw):
    """The profile part's POST; `draw(form, status)` answers with the whole Settings page."""
    form = _settings_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            people.settings_save(
                user=request.user,
                name=data["name"],
                email=data["email"],
                locale=data["locale"],
                time_zone=data["time_zone"],
                alerts={name: data[name] for name in (*ALERT_FIELDS, "alert_email")},
            )
        except DomainError as refused:
            form.add_domain_error(refused)
        else:
            messages.success(request, "Settings saved.")
            return _see_other(reverse("settings"))
    return draw(form, 422)
