"""Who hears about what: in-app notifications and email.

Notifications are rows written in the caller's transaction, so they exist exactly when the
change does. Email leaves only after that transaction commits: a rolled-back change never mails
anyone, and a mail server that is down is logged, never allowed to undo a concession or break
the page.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from .erosion import ALERT_LEVELS, LEVEL_RANK, Level
from .models import (
    AlertKind,
    Deal,
    DealEvent,
    DealLevelAlerted,
    EmailFailure,
    ExceptionRequest,
    Notification,
    Profile,
    Role,
    one_line,
)

# Profile's field for each kind of alert; a person without a profile hears of every kind, by
# email too (the fields' defaults).
CHOICE_FIELDS = {
    AlertKind.EXCEPTIONS: "alert_exceptions",
    AlertKind.LEVELS: "alert_levels",
    AlertKind.OUTCOMES: "alert_outcomes",
    AlertKind.DECISIONS: "alert_decisions",
}

logger = logging.getLogger(__name__)


def _managers(deal: Deal, *, exclude=None):
    users = get_user_model().objects.filter(
        memberships__team_id=deal.team_id, memberships__role=Role.MANAGER, is_active=True
    )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.distinct())


def _choices(recipients, kind: AlertKind) -> tuple[list, set[int]]:
    """Who of `recipients` wants this kind of alert, and which of them by email: one query."""
    field = CHOICE_FIELDS[kind]
    chosen = {
        user_id: (wants, email)
        for user_id, wants, email in Profile.objects.filter(
            user_id__in=[u.pk for u in recipients]
        ).values_list("user_id", field, "alert_email")
    }
    wanted = [u for u in recipients if chosen.get(u.pk, (True, True))[0]]
    by_email = {u.pk for u in wanted if chosen.get(u.pk, (True, True))[1]}
    return wanted, by_email


def _deliver(
    recipients,
    deal: Deal,
    event: DealEvent | None,
    subject: str,
    message: str,
    *,
    kind: AlertKind,
) -> None:
    if not recipients:
        return
    recipients, by_email = _choices(recipients, kind)
    if not recipients:
        return
    Notification.objects.bulk_create(
        [Notification(user=u, deal=deal, event=event, message=message) for u in recipients]
    )
    # Read away from the app, so absolute (SITE_URL is checked at start-up).
    link = settings.SITE_URL + reverse("deal_detail", args=[deal.pk])
    body = f"{message}\n\nOpen the deal: {link}\n"
    # A subject is one header line: a line break in it (a title stored before issue 11) would
    # make Django refuse the whole email.
    subject = one_line(subject)
    mails = [
        (subject, body, settings.DEFAULT_FROM_EMAIL, [u.email])
        for u in recipients
        if u.email and u.pk in by_email
    ]
    if mails:
        transaction.on_commit(lambda: _send(mails, deal.pk))


def _send(mails, deal_id: int) -> None:
    try:
        send_mass_mail(mails, fail_silently=False)
    except Exception as error:
        # The change is committed and the in-app notification exists; a mail outage must not
        # turn into an error page for the person who made the change. Staff see it in the
        # admin (Email failures), with the deal it was about.
        logger.exception("Could not send %d alert email(s) for deal %s", len(mails), deal_id)
        _record_failure(mails, deal_id, error)


def _record_failure(mails, deal_id: int, error: Exception) -> None:
    try:
        EmailFailure.objects.create(
            deal_id=deal_id,
            subject=mails[0][0],
            recipients=", ".join(address for mail in mails for address in mail[3]),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
    except Exception:
        # The database may be what is failing; the log above still names the deal.
        logger.exception("Could not record the failed alert email(s) for deal %s", deal_id)


LEVEL_NEWS = {Level.DANGER: "is in Danger", Level.AT_FLOOR: "has reached its walk-away floor"}


def level_changed(*, deal: Deal, before: Level, after: Level, event: DealEvent) -> None:
    """A deal entering Danger or At your floor, once per deal and level (issue 14): moving
    back and forth across a line is not news the second time. Called under the deal's lock."""
    # Only a deal getting worse is news; a retraction that moves it back up is not an alarm.
    if after not in ALERT_LEVELS or LEVEL_RANK[after] <= LEVEL_RANK[before]:
        return
    if DealLevelAlerted.objects.filter(deal=deal, level=after.value).exists():
        return
    DealLevelAlerted.objects.create(deal=deal, level=after.value)
    message = f"{deal.title} ({deal.customer}) {LEVEL_NEWS[after]} ({after.label}): {event.summary}"
    _deliver(
        _managers(deal, exclude=event.actor),
        deal,
        event,
        f"[Walkaway] {deal.title}: {after.label}",
        message,
        kind=AlertKind.LEVELS,
    )


def walked_away(*, deal: Deal, event: DealEvent) -> None:
    _deliver(
        _managers(deal, exclude=event.actor),
        deal,
        event,
        f"[Walkaway] Walked away: {deal.title}",
        f"{event.actor.get_username()} walked away from {deal.title} ({deal.customer}): "
        f"{event.summary}",
        kind=AlertKind.OUTCOMES,
    )


def came_back(*, deal: Deal, event: DealEvent) -> None:
    _deliver(
        _managers(deal, exclude=event.actor),
        deal,
        event,
        f"[Walkaway] Customer came back: {deal.title}",
        f"{deal.customer} came back to {deal.title}: {event.summary}",
        kind=AlertKind.OUTCOMES,
    )


def _staff(*, exclude=None):
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(is_superuser=True))
    )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users)


def deciders(request: ExceptionRequest) -> list:
    """Who decides a request (rule 11): the team's other managers; when the one asking is the
    team's only manager, staff. Never the person who asked."""
    return _managers(request.deal, exclude=request.requested_by) or _staff(
        exclude=request.requested_by
    )


def exception_requested(*, request: ExceptionRequest, event: DealEvent) -> None:
    deal = request.deal
    message = (
        f"{request.requested_by.get_username()} asks for approval on {deal.title} "
        f"({deal.customer}): {event.summary}"
    )
    _deliver(
        deciders(request),
        deal,
        event,
        f"[Walkaway] Approval requested: {deal.title}",
        message,
        kind=AlertKind.EXCEPTIONS,
    )


def exception_decided(*, request: ExceptionRequest, event: DealEvent) -> None:
    deal = request.deal
    verdict = request.get_status_display().lower()
    message = f"Your request on {deal.title} was {verdict}: {event.summary}"
    recipients = [] if request.requested_by_id == event.actor_id else [request.requested_by]
    _deliver(
        recipients,
        deal,
        event,
        f"[Walkaway] Request {verdict}: {deal.title}",
        message,
        kind=AlertKind.DECISIONS,
    )
