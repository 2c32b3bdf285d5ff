"""Rule 11 (issue 11, finding 3): a rep removed from a team loses every right on its deals at
once, the ones they own included; deactivating an account does the same."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals import services
from deals.access import Access
from deals.models import Concession, Deal, Membership

from .desk import give_key


def remove_from_team(user, team):
    Membership.objects.filter(user=user, team=team).delete()


def test_a_rep_removed_from_the_team_can_no_longer_log_on_a_deal_they_own(deal, owner, team):
    remove_from_team(owner, team)
    with pytest.raises(services.NotAllowed):
        services.concession_log(
            deal=deal,
            user=owner,
            kind="price_discount",
            amount="10",
            description="After leaving",
            form_key=give_key(),
        )
    assert not Concession.objects.filter(deal=deal).exists()


@pytest.mark.parametrize(
    "act",
    [
        lambda d, u: services.deal_lose(deal=d, user=u, reason="price"),
        lambda d, u: services.deal_walk_away(deal=d, user=u, reason="Gone"),
        lambda d, u: services.deal_win(deal=d, user=u),
        lambda d, u: services.floor_change(deal=d, user=u, new_floor="8000"),
        lambda d, u: services.deal_update(deal=d, user=u, title="Renamed"),
        lambda d, u: services.exception_request(
            deal=d, user=u, kind="price_discount", amount="5000", description="Too much"
        ),
    ],
    ids=["lose", "walk away", "win", "floor", "rename", "ask for approval"],
)
def test_a_rep_removed_from_the_team_can_do_nothing_to_a_deal_they_own(deal, owner, team, act):
    remove_from_team(owner, team)
    with pytest.raises(services.NotAllowed):
        act(deal, owner)
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN
    assert deal.version == 1


def test_a_rep_removed_from_the_team_no_longer_sees_the_deals_they_own_there(deal, owner, team):
    assert list(Deal.objects.visible_to(Access.of(owner))) == [deal]
    remove_from_team(owner, team)
    # A new request reads the person's teams anew.
    assert list(Deal.objects.visible_to(Access.of(owner))) == []


def test_the_deal_page_answers_404_to_its_owner_once_they_left_the_team(client, deal, owner, team):
    client.force_login(owner)
    assert client.get(f"/deals/{deal.pk}/").status_code == 200
    remove_from_team(owner, team)
    assert client.get(f"/deals/{deal.pk}/").status_code == 404
    response = client.post(
        f"/deals/{deal.pk}/concessions/",
        {"kind": "price_discount", "amount": "10", "description": "x", "form_key": give_key()},
    )
    assert response.status_code == 404
    assert not Concession.objects.exists()


def test_an_owner_in_another_team_sees_only_the_deals_of_the_team_they_are_in(
    deal, owner, team, other_team, make_deal
):
    Membership.objects.create(user=owner, team=other_team)
    elsewhere = make_deal(team=other_team, title="Elsewhere")
    remove_from_team(owner, team)
    access = Access.of(owner)
    assert access.teams == frozenset({other_team.pk})
    assert list(Deal.objects.visible_to(access)) == [elsewhere]


def test_a_manager_removed_from_the_team_loses_its_deals_too(deal, manager, team):
    remove_from_team(manager, team)
    assert not services.is_manager_of(manager, team.pk)
    assert not services.can_act_on(manager, deal)
    assert list(Deal.objects.visible_to(Access.of(manager))) == []


def test_a_deactivated_owner_loses_their_deals(deal, owner):
    owner.is_active = False
    owner.save()
    assert not services.can_act_on(owner, deal)
    assert list(Deal.objects.visible_to(Access.of(owner))) == []


def test_the_team_manager_keeps_every_right_on_the_deal_the_rep_left_behind(
    deal, owner, manager, team, give
):
    remove_from_team(owner, team)
    result = give(deal, "100", user=manager)
    assert result.created
    deal.refresh_from_db()
    assert deal.conceded == Decimal("100.00")
    assert list(Deal.objects.visible_to(Access.of(manager))) == [deal]
