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
from .models import Deal, DealEvent, EmailFailure, ExceptionRequest, Notification, Role, one_line

logger = logging.getLogger(__name__)


def _managers(deal: Deal, *, exclude=None):
    users = get_user_model().objects.filter(
        memberships__team_id=deal.team_id, memberships__role=Role.MANAGER, is_active=True
    )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.distinct())


def _deliver(recipients, deal: Deal, event: DealEvent | None, subject: str, message: str) -> None:
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
    mails = [(subject, body, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in recipients if u.email]
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


def level_changed(*, deal: Deal, before: Level, after: Level, event: DealEvent) -> None:
    # Only a deal getting worse is news; a retraction that moves it back up is not an alarm.
    if after not in ALERT_LEVELS or LEVEL_RANK[after] <= LEVEL_RANK[before]:
        return
    message = f"{deal.title} ({deal.customer}) is now at {after.label}: {event.summary}"
    _deliver(
        _managers(deal, exclude=event.actor),
        deal,
        event,
        f"[Walkaway] {deal.title}: {after.label}",
        message,
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
    )


def exception_decided(*, request: ExceptionRequest, event: DealEvent) -> None:
    deal = request.deal
    verdict = request.get_status_display().lower()
    message = f"Your request on {deal.title} was {verdict}: {event.summary}"
    recipients = [] if request.requested_by_id == event.actor_id else [request.requested_by]
    _deliver(recipients, deal, event, f"[Walkaway] Request {verdict}: {deal.title}", message)
