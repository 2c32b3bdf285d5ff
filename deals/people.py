"""The team's people, run from the app (issue 14): invitations, roles, removals, settings.

Every write here is a keyword-only service in one transaction, like deals/services.py. None of
them touches a deal, so none writes a DealEvent; who did what to a team is kept as a TeamChange.
Rights are checked with a fresh read of the memberships (services.is_manager_of), never with a
page's `request.access`.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from .models import Invitation, Membership, Profile, Role, Team, TeamChange, is_staff_user
from .services import DomainError, InvalidValue, NotAllowed, is_manager_of

logger = logging.getLogger(__name__)

INVITATION_GONE = (
    "This invitation link has expired or was already used. Ask your manager for a new one."
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_team_manager(user, team: Team) -> None:
    if not (is_staff_user(user) or is_manager_of(user, team.pk)):
        raise NotAllowed("Only a manager of the team may do this.")


def _record(team: Team, kind: str, actor, subject: str, summary: str) -> None:
    TeamChange.objects.create(team=team, kind=kind, actor=actor, subject=subject, summary=summary)


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    # The one-time link, absolute (settings.SITE_URL); only the email and this object hold it.
    link: str


def invite_create(*, team: Team, user, email: str, role: str) -> SentInvitation:
    """A one-time link, valid for settings.WALKAWAY_INVITATION_DAYS, emailed to `email` once
    the invitation is committed."""
    email = (email or "").strip()
    if not email or "@" not in email:
        raise InvalidValue("Enter an email address.", field="email")
    if role not in Role.values:
        raise InvalidValue("Choose Rep or Manager.", field="role")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _require_team_manager(user, team)
        if Membership.objects.filter(team=team, user__email__iexact=email).exists():
            raise InvalidValue("This person is already in the team.", field="email")
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            token_hash=_hash(token),
            invited_by=user,
            expires_at=timezone.now() + timedelta(days=settings.WALKAWAY_INVITATION_DAYS),
        )
        _record(
            team,
            TeamChange.Kind.INVITED,
            user,
            email,
            f"{user.get_username()} invited {email} as {Role(role).label}.",
        )
        link = settings.SITE_URL + reverse("invite_accept", args=[token])
        days = settings.WALKAWAY_INVITATION_DAYS
        body = (
            f"{user.get_username()} invites you to join {team.name} on Walkaway as "
            f"{Role(role).label.lower()}.\n\nChoose your username and password here (the link "
            f"works once, for {days} day{'' if days == 1 else 's'}):\n{link}\n"
        )
        transaction.on_commit(lambda: _send_invitation(team, email, body))
    return SentInvitation(invitation=invitation, link=link)


def _send_invitation(team: Team, email: str, body: str) -> None:
    # After the commit: a mail server that is down is logged, never an error page for the
    # manager; the invitation stands and may be sent again.
    try:
        send_mail(f"[Walkaway] Join {team.name}", body, settings.DEFAULT_FROM_EMAIL, [email])
    except Exception:
        logger.exception("Could not send the invitation to %s for team %s", email, team.pk)


def invitation_for(token: str) -> Invitation | None:
    """The invitation a link names, while it may still be accepted; None otherwise."""
    return (
        Invitation.objects.select_related("team")
        .filter(token_hash=_hash(token or ""), accepted_at__isnull=True)
        .filter(expires_at__gt=timezone.now())
        .first()
    )


def invite_accept(*, token: str, username: str, password: str):
    """Make the invitee's account with the password they chose, in the team with the role they
    were invited to; the link works once."""
    username = (username or "").strip()
    users = get_user_model()
    if not username:
        raise InvalidValue("Choose a username.", field="username")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(token_hash=_hash(token or ""), accepted_at__isnull=True)
            .filter(expires_at__gt=timezone.now())
            .first()
        )
        if invitation is None:
            raise DomainError(INVITATION_GONE)
        if users.objects.filter(username__iexact=username).exists():
            raise InvalidValue("This username is taken; choose another.", field="username")
        candidate = users(username=username, email=invitation.email)
        try:
            validate_password(password, candidate)
        except ValidationError as invalid:
            raise InvalidValue(" ".join(invalid.messages), field="new_password1") from None
        candidate.set_password(password)
        try:
            with transaction.atomic():
                candidate.save()
        except IntegrityError:
            raise InvalidValue(
                "This username is taken; choose another.", field="username"
            ) from None
        Membership.objects.create(user=candidate, team=invitation.team, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = candidate
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _record(
            invitation.team,
            TeamChange.Kind.JOINED,
            candidate,
            username,
            f"{username} ({invitation.email}) joined as {Role(invitation.role).label}.",
        )
    return candidate


def _lock_membership(membership: Membership, user) -> Membership:
    locked = (
        Membership.objects.select_for_update()
        .select_related("team", "user")
        .filter(pk=membership.pk)
        .first()
    )
    if locked is None:
        raise DomainError("This person is no longer in the team.")
    _require_team_manager(user, locked.team)
    return locked


def _other_managers(membership: Membership) -> bool:
    return (
        Membership.objects.select_for_update()
        .filter(team_id=membership.team_id, role=Role.MANAGER, user__is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_role_change(*, membership: Membership, user, role: str) -> Membership:
    if role not in Role.values:
        raise InvalidValue("Choose Rep or Manager.", field="role")
    with transaction.atomic():
        locked = _lock_membership(membership, user)
        if locked.role == role:
            return locked
        if locked.role == Role.MANAGER and not _other_managers(locked):
            raise DomainError("A team needs a manager: make someone else manager first.")
        before = locked.get_role_display()
        locked.role = role
        locked.save(update_fields=["role"])
        _record(
            locked.team,
            TeamChange.Kind.ROLE_CHANGED,
            user,
            locked.user.get_username(),
            f"{user.get_username()} changed {locked.user.get_username()}'s role from {before} "
            f"to {locked.get_role_display()}.",
        )
    return locked


def membership_remove(*, membership: Membership, user) -> Membership:
    """Take a person out of the team. Their deals stay in the team, visible to its managers,
    until reassigned (services.deal_reassign); the person no longer sees them (rule 11)."""
    with transaction.atomic():
        locked = _lock_membership(membership, user)
        if locked.role == Role.MANAGER and not _other_managers(locked):
            raise DomainError("A team needs a manager: make someone else manager first.")
        locked.delete()
        _record(
            locked.team,
            TeamChange.Kind.REMOVED,
            user,
            locked.user.get_username(),
            f"{user.get_username()} removed {locked.user.get_username()} from the team.",
        )
    return locked


def settings_save(
    *,
    user,
    name: str,
    email: str,
    locale: str,
    time_zone: str,
    alerts: dict[str, bool],
) -> Profile:
    """The person's own settings: name and email on the account, the rest on their Profile."""
    name = " ".join((name or "").split())
    email = (email or "").strip()
    if len(name) > 150:
        raise InvalidValue("Keep this under 150 characters.", field="name")
    with transaction.atomic():
        account = get_user_model().objects.select_for_update().get(pk=user.pk)
        account.first_name, account.last_name, account.email = name, "", email
        account.save(update_fields=["first_name", "last_name", "email"])
        profile, _ = Profile.objects.select_for_update().get_or_create(user=account)
        profile.locale = locale
        profile.time_zone = time_zone
        for field, wanted in alerts.items():
            if not field.startswith("alert_"):
                raise InvalidValue("Unknown alert choice.")
            setattr(profile, field, bool(wanted))
        profile.save()
    user.first_name, user.last_name, user.email = account.first_name, "", account.email
    return profile
