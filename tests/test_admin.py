"""The Django admin: staff configure teams and look at everything; the ledger stays read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deals import services
from deals.models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    FloorChange,
    Membership,
    Notification,
    Role,
    Team,
)

READ_ONLY = [Concession, DealEvent, ExceptionRequest, FloorChange, Notification]
EVERY_MODEL = [Team, Membership, Deal, *READ_ONLY]


def url(model, action, *args):
    return reverse(f"admin:deals_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def history(deal, give, manager):
    """One deal with a row in every table: gives, a retraction, a request, a floor change, and
    the manager's notification that the deal reached danger."""
    give(deal, "300", got="Two-year term")
    retracted = give(deal, "100").concession
    services.concession_retract(concession=retracted, user=deal.owner, reason="Logged by mistake")
    give(deal, "550")
    services.exception_request(
        deal=deal, user=deal.owner, kind="free_service", amount="400", description="Free training"
    )
    services.floor_change(deal=deal, user=manager, new_floor="8800", reason="Cheaper paper")
    deal.refresh_from_db()
    return deal


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(
        username="root", password="walkaway-test-pw", email="root@example.com"
    )


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda m: m.__name__)
def test_a_superuser_can_open_the_changelist_of_every_model(client, superuser, history, model):
    client.force_login(superuser)
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count() > 0


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda m: m.__name__)
def test_staff_without_permissions_can_still_look_at_every_model(client, staff, history, model):
    client.force_login(staff)
    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()
    change = client.get(url(model, "change", model.objects.first().pk))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_every_change_page_of_the_ledger_renders_read_only(client, superuser, history, model):
    client.force_login(superuser)
    for obj in model.objects.all():
        response = client.get(url(model, "change", obj.pk))
        assert response.status_code == 200
        assert 'name="_save"' not in response.content.decode()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_the_ledger_cannot_be_added_to_through_the_admin(client, superuser, history, model):
    client.force_login(superuser)
    before = model.objects.count()
    assert client.get(url(model, "add")).status_code == 403
    assert client.post(url(model, "add"), {"amount": "1.00"}).status_code == 403
    assert model.objects.count() == before


def test_a_concession_cannot_be_changed_through_the_admin(client, superuser, history):
    client.force_login(superuser)
    concession = history.concessions.first()
    response = client.post(
        url(Concession, "change", concession.pk),
        {"kind": "other", "amount": "1.00", "description": "Rewritten"},
    )
    assert response.status_code == 403
    concession.refresh_from_db()
    assert (concession.amount, concession.description) == (Decimal("300.00"), "Discount")


def test_an_event_cannot_be_changed_through_the_admin(client, superuser, history):
    client.force_login(superuser)
    event = history.events.get(kind=DealEvent.Kind.CREATED)
    response = client.post(url(DealEvent, "change", event.pk), {"summary": "Rewritten"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.summary.startswith("Opening price")


def test_an_exception_request_cannot_be_decided_through_the_admin(client, superuser, history):
    client.force_login(superuser)
    request = history.exception_requests.get()
    response = client.post(
        url(ExceptionRequest, "change", request.pk), {"status": "approved", "comment": "ok"}
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == ExceptionRequest.Status.PENDING


@pytest.mark.parametrize("model", [*READ_ONLY, Deal], ids=lambda m: m.__name__)
def test_nothing_in_the_ledger_can_be_deleted_through_the_admin(client, superuser, history, model):
    client.force_login(superuser)
    obj = model.objects.first()
    before = model.objects.count()
    assert client.get(url(model, "delete", obj.pk)).status_code == 403
    assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    client.post(
        url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert model.objects.count() == before


def test_a_deal_cannot_be_added_through_the_admin(client, superuser, team):
    client.force_login(superuser)
    assert client.get(url(Deal, "add")).status_code == 403
    assert Deal.objects.count() == 0


def test_staff_may_rename_a_deal_but_not_touch_its_money(client, superuser, history):
    client.force_login(superuser)
    response = client.post(
        url(Deal, "change", history.pk),
        {
            "title": "ERP roll-out, phase 2",
            "customer": history.customer,
            "cost": "7000.00",
            "owner": history.owner_id,
            "floor": "1.00",
            "conceded": "0.00",
            "level": "on_track",
            "status": "won",
        },
    )
    assert response.status_code == 302
    deal = Deal.objects.get(pk=history.pk)
    assert (deal.title, deal.cost) == ("ERP roll-out, phase 2", Decimal("7000.00"))
    assert (deal.floor, deal.conceded, deal.level, deal.status) == (
        history.floor,
        history.conceded,
        history.level,
        Deal.Status.OPEN,
    )


def test_a_negative_cost_is_refused_with_a_message(client, superuser, deal):
    client.force_login(superuser)
    response = client.post(
        url(Deal, "change", deal.pk),
        {"title": deal.title, "customer": deal.customer, "cost": "-5.00", "owner": deal.owner_id},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    deal.refresh_from_db()
    assert deal.cost is None


def test_a_manager_can_be_added_to_a_team_through_the_team_page(
    client, superuser, team, django_user_model
):
    client.force_login(superuser)
    newcomer = django_user_model.objects.create_user(username="nina", password="x")
    response = client.post(
        url(Team, "change", team.pk),
        {
            "name": team.name,
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": newcomer.pk,
            "memberships-0-role": Role.MANAGER,
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, team=team).role == Role.MANAGER


def test_a_signed_in_rep_is_sent_to_the_admin_login(client, owner):
    client.force_login(owner)
    response = client.get(url(Deal, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_anonymous_visitor_is_sent_to_a_login_page(client, db):
    response = client.get(url(Concession, "changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert "next=" in response["Location"]


@pytest.mark.parametrize("model", [Deal, DealEvent, Concession], ids=lambda m: m.__name__)
def test_a_changelist_costs_the_same_queries_however_many_rows_it_shows(
    client, superuser, make_deal, give, model
):
    client.force_login(superuser)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(model, "changelist")).status_code == 200
        return len(ctx.captured_queries)

    give(make_deal(), "100", got="A reference")
    few = queries()
    for i in range(4):
        deal = make_deal(title=f"Deal {i}")
        give(deal, "100")
        give(deal, "200")
    assert queries() == few
