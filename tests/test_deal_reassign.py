"""Reassigning a deal (rule 11, issue 11): a manager of the deal's team, or staff, hands it to
another active member of the team, from the deal's "Reassign" page or the admin; an event
says who it went from and to."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deals import services
from deals.access import Access
from deals.models import Deal, DealEvent, Membership, Role

from .desk import HTMX, page, rows, words


def reassign_url(deal):
    return reverse("deal_reassign", args=[deal.pk])


def test_a_manager_hands_the_deal_of_a_rep_who_left_to_a_teammate(
    deal, owner, teammate, manager, team
):
    Membership.objects.filter(user=owner, team=team).delete()
    reassigned = services.deal_reassign(deal=deal, user=manager, new_owner=teammate)
    assert reassigned.owner == teammate
    deal.refresh_from_db()
    assert deal.owner == teammate
    assert deal.version == 2
    event = DealEvent.objects.filter(deal=deal).latest("id")
    assert event.kind == DealEvent.Kind.REASSIGNED
    assert event.actor == manager
    assert event.summary == "Reassigned from olivia to tom."
    assert event.data == {
        "old_owner": owner.pk,
        "old_owner_username": "olivia",
        "new_owner": teammate.pk,
        "new_owner_username": "tom",
    }
    assert services.can_act_on(teammate, deal)
    assert list(Deal.objects.visible_to(Access.of(teammate))) == [deal]


def test_staff_may_reassign_too(deal, teammate, staff):
    services.deal_reassign(deal=deal, user=staff, new_owner=teammate.pk)
    deal.refresh_from_db()
    assert deal.owner == teammate


@pytest.mark.parametrize("who", ["owner", "teammate", "other_manager", "outsider"])
def test_nobody_but_a_manager_of_the_team_or_staff_may_reassign(request, deal, teammate, who):
    user = request.getfixturevalue(who)
    before = rows()
    with pytest.raises(services.NotAllowed):
        services.deal_reassign(deal=deal, user=user, new_owner=teammate)
    assert rows() == before


def test_the_new_owner_must_be_an_active_member_of_the_deal_s_team(
    deal, manager, outsider, teammate, django_user_model
):
    with pytest.raises(services.InvalidValue, match="active member of this deal's team"):
        services.deal_reassign(deal=deal, user=manager, new_owner=outsider)
    teammate.is_active = False
    teammate.save()
    with pytest.raises(services.InvalidValue, match="active member"):
        services.deal_reassign(deal=deal, user=manager, new_owner=teammate)
    with pytest.raises(services.InvalidValue, match="member of this deal's team"):
        services.deal_reassign(deal=deal, user=manager, new_owner="not a number")
    with pytest.raises(services.InvalidValue, match="owns this deal already"):
        services.deal_reassign(deal=deal, user=manager, new_owner=deal.owner)
    deal.refresh_from_db()
    assert deal.version == 1


# The page --------------------------------------------------------------------------------------


def test_the_page_offers_the_team_s_active_members_under_new_owner(
    client, deal, manager, teammate, outsider
):
    client.force_login(manager)
    response = client.get(reassign_url(deal))
    assert response.status_code == 200
    body = page(response)
    assert '<label for="id_reassign_new_owner"' in body
    assert "New owner" in words(response)
    assert "<html" in body
    assert f'value="{teammate.pk}"' in body
    assert f'value="{manager.pk}"' in body
    assert f'value="{outsider.pk}"' not in body
    # The current owner is not offered: the deal is theirs already.
    assert f'value="{deal.owner.pk}"' not in body


def test_posting_reassigns_and_goes_back_to_the_deal_page(client, deal, manager, teammate):
    client.force_login(manager)
    response = client.post(reassign_url(deal), {"new_owner": str(teammate.pk)})
    assert response.status_code == 302
    assert response["Location"] == reverse("deal_detail", args=[deal.pk])
    deal.refresh_from_db()
    assert deal.owner == teammate


def test_with_htmx_the_answer_is_a_client_redirect_to_the_deal_page(
    client, deal, manager, teammate
):
    client.force_login(manager)
    response = client.post(reassign_url(deal), {"new_owner": str(teammate.pk)}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("deal_detail", args=[deal.pk])


@pytest.mark.parametrize("value", ["", "999999", "abc"])
def test_a_bad_choice_is_refused_with_422_and_a_message(client, deal, manager, value):
    client.force_login(manager)
    before = rows()
    response = client.post(reassign_url(deal), {"new_owner": value}, **HTMX)
    assert response.status_code == 422
    assert "<html" not in page(response)
    assert "Choose" in words(response)
    assert rows() == before


def test_a_member_who_leaves_between_the_page_and_the_post_is_refused(
    client, deal, manager, teammate, team
):
    client.force_login(manager)
    Membership.objects.filter(user=teammate, team=team).delete()
    response = client.post(reassign_url(deal), {"new_owner": str(teammate.pk)})
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.owner != teammate


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "other_manager"])
def test_the_page_is_not_found_for_anyone_who_cannot_reassign(client, request, deal, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reassign_url(deal)).status_code == 404
    assert client.post(reassign_url(deal), {"new_owner": "1"}).status_code == 404


def test_other_methods_are_not_allowed(client, deal, manager):
    client.force_login(manager)
    assert client.put(reassign_url(deal)).status_code == 405
    assert client.delete(reassign_url(deal)).status_code == 405


# The admin -------------------------------------------------------------------------------------


def test_the_admin_reassigns_through_the_service_with_an_event(
    client, deal, teammate, django_user_model, give
):
    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    give(deal, "100")
    client.force_login(root)
    url = reverse("admin:deals_deal_change", args=[deal.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"title": deal.title, "customer": deal.customer, "cost": "", "owner": teammate.pk}
    )
    assert response.status_code == 302, response.content[:2000]
    deal.refresh_from_db()
    assert deal.owner == teammate
    assert DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.REASSIGNED).count() == 1


def test_the_admin_offers_no_one_outside_the_team(client, deal, outsider, django_user_model):
    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(root)
    url = reverse("admin:deals_deal_change", args=[deal.pk])
    response = client.post(
        url, {"title": deal.title, "customer": deal.customer, "cost": "", "owner": outsider.pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner"]
    deal.refresh_from_db()
    assert deal.owner != outsider


def test_the_admin_still_saves_a_rename_of_a_deal_whose_owner_left(
    client, deal, owner, team, django_user_model
):
    Membership.objects.filter(user=owner, team=team, role=Role.REP).delete()
    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(root)
    url = reverse("admin:deals_deal_change", args=[deal.pk])
    response = client.post(
        url, {"title": "Renamed", "customer": deal.customer, "cost": "", "owner": owner.pk}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.owner) == ("Renamed", owner)


def test_the_deal_page_offers_reassign_to_its_teams_manager_only(client, deal, owner, manager):
    client.force_login(manager)
    assert (
        f'href="/deals/{deal.pk}/reassign/">Reassign</a>'
        in client.get(f"/deals/{deal.pk}/").content.decode()
    )
    client.force_login(owner)
    assert "Reassign" not in client.get(f"/deals/{deal.pk}/").content.decode()
