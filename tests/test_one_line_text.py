"""Issue 11, finding 4: a title, a customer, an email subject is one line. Line breaks and
control characters are folded to spaces before they are stored, so no rep can keep a deal out
of the manager's inbox; an email that still cannot be sent is logged with its deal and kept
for staff, and the in-app notification stands."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.core.mail import BadHeaderError
from django.urls import reverse

from deals import services
from deals.forms import DealForm
from deals.models import Deal, EmailFailure, Notification, one_line

NEWLINE_TITLE = "ERP roll-out\r\nBcc: everyone@example.com"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ERP\nroll-out", "ERP roll-out"),
        ("ERP\r\nroll-out", "ERP roll-out"),
        ("ERP\troll-out\x0b\x0c", "ERP roll-out"),
        ("ERP\u2028roll\u2029out\x85", "ERP roll out"),
        ("  ERP \x1b[31m roll-out ", "ERP [31m roll-out"),
        ("Café <b>&</b>", "Café <b>&</b>"),
    ],
)
def test_one_line_folds_breaks_and_control_characters_to_single_spaces(typed, stored):
    assert one_line(typed) == stored


def test_a_new_deal_s_title_and_customer_are_stored_on_one_line(make_deal):
    deal = make_deal(title=NEWLINE_TITLE, customer="Inkwell\nPrint")
    deal.refresh_from_db()
    assert deal.title == "ERP roll-out Bcc: everyone@example.com"
    assert deal.customer == "Inkwell Print"


def test_a_rename_is_stored_on_one_line_too(deal, owner):
    services.deal_update(deal=deal, user=owner, title="Phase\n2", customer="A\rB")
    deal.refresh_from_db()
    assert (deal.title, deal.customer) == ("Phase 2", "A B")


def test_a_title_of_only_line_breaks_is_refused_as_empty(make_deal):
    with pytest.raises(services.InvalidValue, match="Title is required"):
        make_deal(title="\n\r\n\t")


def test_the_new_deal_form_folds_what_it_is_given():
    form = DealForm({"title": "A\nB", "customer": "C\r\nD"})
    form.is_valid()
    assert form.cleaned_data["title"] == "A B"
    assert form.cleaned_data["customer"] == "C D"


def test_over_http_a_title_with_a_newline_is_stored_on_one_line(client, owner, team):
    client.force_login(owner)
    response = client.post(
        reverse("deal_create"),
        {
            "title": NEWLINE_TITLE,
            "customer": "Inkwell",
            "currency": "USD",
            "opening_price": "10000",
            "floor": "9000",
        },
    )
    assert response.status_code == 302
    assert Deal.objects.get().title == "ERP roll-out Bcc: everyone@example.com"


def test_the_admin_rename_folds_a_newline_too(client, deal, django_user_model):
    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(root)
    response = client.post(
        reverse("admin:deals_deal_change", args=[deal.pk]),
        {"title": "A\r\nB", "customer": deal.customer, "cost": "", "owner": deal.owner_id},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "A B"


def _store_title_as_before_issue_11(deal, title):
    # A title stored by an older version, which kept line breaks as typed.
    from django.db.models import F

    Deal.objects.filter(pk=deal.pk).update(title=title, version=F("version") + 1)
    deal.refresh_from_db()


def test_the_alert_for_a_deal_with_an_old_multiline_title_is_still_sent(
    deal, give, manager, django_capture_on_commit_callbacks, mailoutbox
):
    _store_title_as_before_issue_11(deal, NEWLINE_TITLE)
    with django_capture_on_commit_callbacks(execute=True):
        give(deal, "800")
    [mail] = mailoutbox
    assert mail.subject == "[Walkaway] ERP roll-out Bcc: everyone@example.com: Danger"
    assert mail.to == ["maria@example.com"]
    assert not EmailFailure.objects.exists()


class HeaderRefusingBackend:
    """What Django does with a header it cannot send, for every message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise BadHeaderError("Header values can't contain newlines")


def test_an_email_that_cannot_be_sent_is_logged_with_its_deal_and_kept_for_staff(
    deal, give, manager, settings, django_capture_on_commit_callbacks, caplog, client
):
    settings.EMAIL_BACKEND = f"{__name__}.HeaderRefusingBackend"
    with (
        caplog.at_level(logging.ERROR, logger="deals.alerts"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = give(deal, "800")
    assert result.created
    deal.refresh_from_db()
    assert deal.conceded == Decimal("800.00")
    # The notification in the app stands.
    assert Notification.objects.filter(user=manager, deal=deal).count() == 1
    [record] = [r for r in caplog.records if r.name == "deals.alerts"]
    assert f"for deal {deal.pk}" in record.getMessage()
    [failure] = EmailFailure.objects.all()
    assert failure.deal == deal
    assert failure.recipients == "maria@example.com"
    assert "BadHeaderError" in failure.error
    assert failure.subject == "[Walkaway] ERP roll-out: Danger"

    root = type(manager).objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(root)
    listing = client.get(reverse("admin:deals_emailfailure_changelist"))
    assert listing.status_code == 200
    assert "maria@example.com" in listing.content.decode()
    change = reverse("admin:deals_emailfailure_change", args=[failure.pk])
    assert client.post(change, {"error": "edited"}).status_code == 403
