"""Rule 11 (issue 11, finding 7): nobody approves or rejects their own exception request; a
request by a team's only manager goes to staff, who may decide it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deals import services
from deals.models import Concession, ExceptionRequest, Membership, Notification, Role

from .desk import HTMX, words


@pytest.fixture
def own_request(deal, manager, give):
    """The team's only manager asks, on the rep's deal, for 300 with 100 of room left."""
    give(deal, "900")
    return services.exception_request(
        deal=deal, user=manager, kind="price_discount", amount="300", description="Extra off"
    )


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_a_manager_cannot_decide_their_own_request(own_request, manager, decide):
    with pytest.raises(services.OwnRequest, match="cannot decide your own request"):
        if decide == "approve":
            services.exception_approve(exception_request=own_request, user=manager, comment="Me")
        else:
            services.exception_reject(exception_request=own_request, user=manager, comment="Me")
    own_request.refresh_from_db()
    assert own_request.status == ExceptionRequest.Status.PENDING
    assert not Concession.objects.filter(exception_request=own_request).exists()


def test_staff_who_asked_cannot_decide_it_either(deal, staff, give):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=staff, kind="price_discount", amount="300", description="Extra off"
    )
    with pytest.raises(services.OwnRequest):
        services.exception_approve(exception_request=request, user=staff, comment="Me")


def test_the_only_manager_s_request_goes_to_staff_and_staff_may_approve_it(
    deal, manager, staff, give, django_capture_on_commit_callbacks, mailoutbox
):
    give(deal, "900")
    with django_capture_on_commit_callbacks(execute=True):
        request = services.exception_request(
            deal=deal, user=manager, kind="price_discount", amount="300", description="Extra off"
        )
    assert list(
        Notification.objects.filter(event__exception_request=request).values_list(
            "user__username", flat=True
        )
    ) == ["sam"]
    assert [m.to for m in mailoutbox] == [["sam@example.com"]]
    concession = services.exception_approve(exception_request=request, user=staff, comment="OK")
    assert concession.exception_request == request


def test_with_a_second_manager_the_request_goes_to_them_not_to_staff(
    deal, manager, staff, give, django_user_model, team
):
    mona = django_user_model.objects.create_user(username="mona", password="pw-mona-123")
    Membership.objects.create(user=mona, team=team, role=Role.MANAGER)
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=manager, kind="price_discount", amount="300", description="Extra off"
    )
    told = Notification.objects.filter(event__exception_request=request)
    assert list(told.values_list("user__username", flat=True)) == ["mona"]
    services.exception_reject(exception_request=request, user=mona, comment="No")


def test_the_approvals_page_does_not_offer_a_manager_their_own_request(
    client, own_request, manager, staff
):
    client.force_login(manager)
    assert f'id="request-{own_request.pk}"' not in client.get(reverse("approvals")).content.decode()
    client.force_login(staff)
    assert f'id="request-{own_request.pk}"' in client.get(reverse("approvals")).content.decode()


def test_the_navigation_counts_only_requests_the_person_may_decide(
    client, own_request, manager, staff
):
    client.force_login(manager)
    assert 'aria-label="1 pending"' not in client.get(reverse("deal_list")).content.decode()
    client.force_login(staff)
    assert 'aria-label="1 pending"' in client.get(reverse("deal_list")).content.decode()


@pytest.mark.parametrize("decide", ["exception_approve", "exception_reject"])
def test_posting_a_decision_on_one_s_own_request_is_refused_with_the_reason(
    client, own_request, manager, decide
):
    client.force_login(manager)
    response = client.post(
        reverse(decide, args=[own_request.pk]), {"comment": "Approving myself"}, **HTMX
    )
    assert response.status_code == 409
    assert "cannot decide your own request" in words(response)
    own_request.refresh_from_db()
    assert own_request.status == ExceptionRequest.Status.PENDING
