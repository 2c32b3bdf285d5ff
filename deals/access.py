"""Who a person is to Walkaway, read once per request: `request.access`.

Pages, `Deal.objects.visible_to(access)`, the navigation and templates ask this object; none of
them reads memberships again. Services do not trust it: they decide under the deal's row lock
with a fresh read (services.can_act_on), since a page's access may be a request old.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .models import Role, Team
from .money import activate_locale, deactivate_locale, usable_locale


@dataclass(frozen=True)
class Access:
    user_id: int | None
    active: bool
    staff: bool
    # Every team the person belongs to, and the subset they manage.
    teams: frozenset[int]
    managed: frozenset[int]
    # (locale, time zone) as the person chose them on their Settings page; "" where they did not.
    profile: tuple[str, str] = ("", "")

    @classmethod
    def of(cls, user) -> Access:
        """One query for a signed-in, active person (memberships and profile); none for anyone
        else."""
        if user is None or not user.is_authenticated or not user.is_active:
            return NOBODY
        # One row per membership (or one empty row), each carrying the person's profile.
        rows = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .values_list(
                "memberships__team_id", "memberships__role", "profile__locale", "profile__time_zone"
            )
        )
        teams, managed = set(), set()
        profile = ("", "")
        for team_id, role, locale, time_zone in rows:
            profile = (locale or "", time_zone or "")
            if team_id is None:
                continue
            teams.add(team_id)
            if role == Role.MANAGER:
                managed.add(team_id)
        return cls(
            user_id=user.pk,
            active=True,
            # A deactivated account keeps the flag but no rights (handled above).
            staff=bool(user.is_staff or user.is_superuser),
            teams=frozenset(teams),
            managed=frozenset(managed),
            profile=profile,
        )

    @property
    def locale(self) -> str:
        """How this person reads and writes money: their Profile's locale, or WALKAWAY_LOCALE."""
        return usable_locale(self.profile[0])

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None and self.active

    @property
    def manages_any(self) -> bool:
        """May open the manager's pages (dashboard, approvals, exports)."""
        return self.signed_in and (self.staff or bool(self.managed))

    def manages(self, team_id: int) -> bool:
        """A manager's rights on the team: floors, exceptions, every deal of it."""
        return self.signed_in and (self.staff or team_id in self.managed)

    def may_act_on(self, deal) -> bool:
        """Owners act on their deals while they are in its team (rule 11); managers of the
        team on every deal of it."""
        if not self.signed_in:
            return False
        owns = deal.owner_id == self.user_id and deal.team_id in self.teams
        return owns or self.manages(deal.team_id)

    def creatable_teams(self):
        """The teams this person may create deals in: their own, or every team for staff."""
        if not self.signed_in:
            return Team.objects.none()
        if self.staff:
            return Team.objects.all()
        return Team.objects.filter(pk__in=sorted(self.teams))


NOBODY = Access(user_id=None, active=False, staff=False, teams=frozenset(), managed=frozenset())


class TimeZoneMiddleware:
    """Shows times in the person's chosen time zone (Settings); the TIME_ZONE setting for
    anyone who chose none, or a zone this machine does not know."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        access = getattr(request, "access", None)
        chosen = access.profile[1] if access is not None and access.signed_in else ""
        zone = _zone(chosen)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _zone(name: str):
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class AccessMiddleware:
    """Puts `request.access` beside `request.user`, read on first use: a page that never asks
    (the login page, static files) pays nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: Access.of(request.user))
        # Money on this request is read and shown in the person's locale (read when first needed).
        token = activate_locale(lambda: request.access.locale)
        try:
            return self.get_response(request)
        finally:
            deactivate_locale(token)
