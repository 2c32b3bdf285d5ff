"""Issue 11, finding 6: a resubmitted exception request sends nothing, and says what happened
to the first submission (sent, approved, rejected, and when)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from deals import services
from deals.models import DealEvent, ExceptionRequest, Notification


def ask(deal, user, key="ask-1"):
    return services.exception_ask(
        deal=deal,
        user=user,
        kind="price_discount",
        amount="300",
        description="Extra off",
        form_key=key,
    )


@pytest.fixture
def first(deal, owner, give):
    give(deal, "900")
    return ask(deal, owner)


def at(request, **fields):
    moment = timezone.make_aware(dt.datetime(2026, 11, 27, 14, 5))
    ExceptionRequest.objects.filter(pk=request.pk).update(created_at=moment, **fields)
    request.refresh_from_db()
    return moment


def test_the_first_submission_is_sent(first):
    assert first.created
    assert services.resubmission_message(first) == "Sent to your manager for approval."


def test_a_resubmission_sends_nothing_and_returns_the_first_request(first, deal, owner):
    events, notes = DealEvent.objects.count(), Notification.objects.count()
    again = ask(deal, owner)
    assert not again.created
    assert again.request == first.request
    assert (DealEvent.objects.count(), Notification.objects.count()) == (events, notes)
    assert ExceptionRequest.objects.count() == 1


def test_a_resubmission_of_a_pending_request_says_it_is_still_waiting(first, deal, owner):
    at(first.request)
    again = ask(deal, owner)
    assert services.resubmission_message(again) == (
        "Already sent on 27 November 2026, 14:05; still waiting for a decision."
    )


def test_a_resubmission_after_a_rejection_says_who_rejected_it_when_and_why(
    first, deal, owner, manager
):
    services.exception_reject(exception_request=first.request, user=manager, comment="Too deep")
    ExceptionRequest.objects.filter(pk=first.request.pk).update(
        decided_at=timezone.make_aware(dt.datetime(2026, 11, 28, 9, 30))
    )
    again = ask(deal, owner)
    assert not again.created
    assert services.resubmission_message(again) == (
        "Already rejected by maria on 28 November 2026, 09:30: Too deep"
    )


def test_a_resubmission_after_an_approval_says_who_approved_it_and_when(
    first, deal, owner, manager
):
    services.exception_approve(exception_request=first.request, user=manager, comment="Fine")
    ExceptionRequest.objects.filter(pk=first.request.pk).update(
        decided_at=timezone.make_aware(dt.datetime(2026, 11, 28, 9, 30))
    )
    again = ask(deal, owner)
    assert services.resubmission_message(again) == (
        "Already approved by maria on 28 November 2026, 09:30."
    )


def test_exception_request_still_returns_the_request_for_its_callers(deal, owner, give):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Extra off"
    )
    assert isinstance(request, ExceptionRequest)


def test_over_http_a_resubmission_after_a_rejection_says_so_not_sent(
    client, first, deal, owner, manager
):
    from django.urls import reverse

    services.exception_reject(exception_request=first.request, user=manager, comment="Too deep")
    client.force_login(owner)
    response = client.post(
        reverse("exception_request", args=[deal.pk]),
        {
            "kind": "price_discount",
            "amount": "300",
            "description": "Extra off",
            "got_in_return": "",
            "note": "",
            "form_key": "ask-1",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Sent to your manager for approval." not in text
    assert "Already rejected by maria on" in text
