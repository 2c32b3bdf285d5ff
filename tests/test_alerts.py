"""Who hears about what (deals/alerts.py): notifications are written with the change; email
leaves only after the change commits, and a mail outage never undoes the change."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from deals import alerts, services
from deals.models import Concession, DealEvent, Membership, Notification, Role


class BrokenBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


@pytest.fixture
def second_manager(django_user_model, team):
    user = django_user_model.objects.create_user(
        username="mona", password="x", email="mona@example.com"
    )
    Membership.objects.create(user=user, team=team, role=Role.MANAGER)
    return user


def notified(**filters):
    return sorted(Notification.objects.filter(**filters).values_list("user__username", flat=True))


def recipients(mailoutbox):
    return sorted(address for mail in mailoutbox for address in mail.to)


@pytest.mark.parametrize(
    ("amount", "label"), [("800", "Danger"), ("1000", "At your floor")], ids=["danger", "at_floor"]
)
def test_entering_an_alert_level_notifies_every_manager_of_the_team(
    deal,
    give,
    manager,
    second_manager,
    other_manager,
    django_capture_on_commit_callbacks,
    mailoutbox,
    amount,
    label,
):
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, amount)
    change = DealEvent.objects.get(deal=deal, kind=DealEvent.Kind.LEVEL_CHANGED)
    assert notified() == ["maria", "mona"]
    for note in Notification.objects.all():
        assert note.deal == deal
        assert note.event == change
        assert label in note.message
        assert note.read_at is None
    assert recipients(mailoutbox) == ["maria@example.com", "mona@example.com"]
    assert len(mailoutbox) == 2
    for mail in mailoutbox:
        assert mail.subject == f"[Walkaway] ERP roll-out: {label}"
        # Read in a mail client, away from the app: the link carries the site's address.
        assert f"https://walkaway.example.com/deals/{deal.pk}/" in mail.body


def test_the_email_waits_for_the_commit(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks() as callbacks:
        give(deal, "800")
        # The notification is part of the change; the email is not sent yet.
        assert notified() == ["maria"]
        assert mailoutbox == []
    assert len(callbacks) == 1
    assert mailoutbox == []
    callbacks[0]()
    assert recipients(mailoutbox) == ["maria@example.com"]


@pytest.mark.parametrize(
    "amount", ["100", "500", "799.99"], ids=["on_track", "caution", "a-cent-short-of-danger"]
)
def test_levels_below_danger_alert_nobody(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox, amount
):
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, amount)
    assert notified() == []
    assert mailoutbox == []


def test_no_alert_while_the_level_stays_the_same(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    give(deal, "800")
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, "100")
    deal.refresh_from_db()
    assert deal.level == "danger"
    assert notified() == []
    assert mailoutbox == []


def test_moving_back_up_from_the_floor_to_danger_is_not_an_alarm(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    give(deal, "800")
    last = give(deal, "200").concession
    Notification.objects.all().delete()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.concession_retract(concession=last, user=deal.owner, reason="Typo")
    deal.refresh_from_db()
    assert deal.level == "danger"
    assert notified() == []
    assert mailoutbox == []


def test_a_manager_is_not_told_about_their_own_move(
    deal, manager, second_manager, give, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, "800", user=manager)
    assert notified() == ["mona"]
    assert recipients(mailoutbox) == ["mona@example.com"]


def test_inactive_managers_and_managers_of_other_teams_are_not_told(
    deal, give, manager, other_manager, django_capture_on_commit_callbacks, mailoutbox
):
    manager.is_active = False
    manager.save()
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, "800")
    assert notified() == []
    assert mailoutbox == []


def test_a_manager_without_an_email_address_still_gets_the_notification(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    manager.email = ""
    manager.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        give(deal, "800")
    assert notified() == ["maria"]
    assert callbacks == []
    assert mailoutbox == []


def test_a_floor_change_into_danger_alerts_the_other_managers(
    deal, owner, give, manager, second_manager, django_capture_on_commit_callbacks, mailoutbox
):
    give(deal, "600")
    with django_capture_on_commit_callbacks(execute=True):
        services.floor_change(deal=deal, user=manager, new_floor="9300", reason="Costs went up")
    assert notified() == ["mona"]
    assert recipients(mailoutbox) == ["mona@example.com"]


def test_an_exception_request_notifies_the_managers(
    deal, owner, give, manager, second_manager, django_capture_on_commit_callbacks, mailoutbox
):
    give(deal, "900")
    with django_capture_on_commit_callbacks(execute=True):
        request = services.exception_request(
            deal=deal, user=owner, kind="price_discount", amount="300", description="Extra off"
        )
    event = DealEvent.objects.get(kind=DealEvent.Kind.EXCEPTION_REQUESTED)
    assert notified(event=event) == ["maria", "mona"]
    assert notified(user=owner) == []
    for note in Notification.objects.filter(event=event):
        assert note.message.startswith("olivia asks for approval on ERP roll-out")
        assert "$200.00 below the walk-away floor" in note.message
    assert recipients(mailoutbox) == ["maria@example.com", "mona@example.com"]
    assert {m.subject for m in mailoutbox} == {"[Walkaway] Approval requested: ERP roll-out"}
    assert request.status == "pending"


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_a_decision_notifies_the_rep_who_asked(
    deal, owner, give, manager, django_capture_on_commit_callbacks, mailoutbox, decision
):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Extra off"
    )
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        if decision == "approved":
            services.exception_approve(exception_request=request, user=manager, comment="Fine.")
        else:
            services.exception_reject(exception_request=request, user=manager, comment="No.")
    [note] = Notification.objects.filter(user=owner)
    assert note.message.startswith(f"Your request on ERP roll-out was {decision}")
    assert note.event.kind == f"exception_{decision}"
    assert notified(user=manager) == []
    assert recipients(mailoutbox) == ["olivia@example.com"]
    assert mailoutbox[0].subject == f"[Walkaway] Request {decision}: ERP roll-out"


def test_nothing_is_sent_for_a_change_that_is_rolled_back(
    deal,
    give,
    manager,
    second_manager,
    monkeypatch,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    give(deal, "700")
    real = alerts.level_changed
    written = []

    def alert_then_fail(**kwargs):
        real(**kwargs)
        written.append(Notification.objects.count())
        raise RuntimeError("fails after the alert was queued")

    # The floor move takes 700 of 800 into Danger; the alert is queued, then the change fails.
    monkeypatch.setattr(alerts, "level_changed", alert_then_fail)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        services.floor_change(deal=deal, user=manager, new_floor="9200", reason="Costs")
    assert written == [1]  # mona was told, inside the transaction that then failed
    assert callbacks == []
    assert mailoutbox == []
    assert Notification.objects.count() == 0
    deal.refresh_from_db()
    assert deal.floor == Decimal("9000.00")


def test_a_broken_mail_server_neither_loses_the_concession_nor_breaks_the_request(
    deal, give, manager, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    with (
        caplog.at_level(logging.ERROR, logger="deals.alerts"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        result = give(deal, "800")
    assert len(callbacks) == 1
    assert result.created
    assert Concession.objects.filter(pk=result.concession.pk).exists()
    deal.refresh_from_db()
    assert deal.conceded == Decimal("800.00")
    assert notified() == ["maria"]
    [record] = [r for r in caplog.records if r.name == "deals.alerts"]
    assert record.levelno == logging.ERROR
    assert "Could not send 1 alert email(s) for deal" in record.getMessage()
    assert record.exc_info[0] is ConnectionRefusedError


# Issue 14: alerts that matter ------------------------------------------------------------------


def test_a_deal_alerts_once_per_level_however_often_it_crosses_back(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        first = give(deal, "800").concession
        services.concession_retract(concession=first, user=deal.owner, reason="Typo")
        give(deal, "850")
    assert Notification.objects.filter(user=manager).count() == 1
    assert len(mailoutbox) == 1
    (note,) = Notification.objects.filter(user=manager)
    assert "is in Danger (Danger)" in note.message
    assert "is now at" not in note.message


def test_walk_aways_and_comebacks_notify_the_managers(deal, manager, owner):
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    services.deal_come_back(deal=deal, user=owner)
    messages = list(Notification.objects.filter(user=manager).values_list("message", flat=True))
    assert len(messages) == 2
    assert any("olivia walked away from ERP roll-out" in m for m in messages)
    assert any("came back to ERP roll-out" in m for m in messages)
    assert not Notification.objects.filter(user=owner).exists()


def test_each_person_chooses_which_alerts_and_whether_by_email(
    deal, give, manager, second_manager, django_capture_on_commit_callbacks, mailoutbox
):
    from deals.models import Profile

    Profile.objects.create(user=manager, alert_levels=False)
    Profile.objects.create(user=second_manager, alert_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, "800")
    assert notified() == ["mona"]
    assert mailoutbox == []
