"""Who sees what (DOMAIN.md): Deal.objects.visible_to is the only door to deals, managed_by the
door to a manager's rights. Everyone else gets nothing, so a view can answer 404."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from deals import services
from deals.models import Deal, Membership, Role, Team, teams_managed


@pytest.fixture
def deals(make_deal, owner, teammate, manager, outsider, other_team):
    return {
        "owner's": make_deal(title="Owner's"),
        "teammate's": make_deal(user=teammate, title="Teammate's"),
        "manager's": make_deal(user=manager, title="Manager's own"),
        "outsider's": make_deal(user=outsider, team=other_team, title="Outsider's"),
    }


def titles(queryset):
    found = list(queryset.values_list("title", flat=True))
    # A deal seen twice (as owner and as manager) would inflate every count on the page.
    assert len(found) == len(set(found))
    return set(found)


def persona(request, who):
    if who == "anonymous":
        return AnonymousUser()
    return request.getfixturevalue(who)


ALL = {"Owner's", "Teammate's", "Manager's own", "Outsider's"}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("owner", {"Owner's"}),
        ("teammate", {"Teammate's"}),
        ("manager", {"Owner's", "Teammate's", "Manager's own"}),
        ("outsider", {"Outsider's"}),
        ("other_manager", {"Outsider's"}),
        ("staff", ALL),
        ("anonymous", set()),
    ],
)
def test_each_persona_sees_exactly_their_deals(deals, request, who, sees):
    assert titles(Deal.objects.visible_to(persona(request, who))) == sees


@pytest.mark.parametrize(
    "who", ["owner", "teammate", "manager", "outsider", "other_manager", "staff", "anonymous"]
)
def test_naming_the_teams_a_person_manages_changes_nothing_they_see(deals, request, who):
    user = persona(request, who)
    named = teams_managed(user) if user.is_authenticated else frozenset()
    assert titles(Deal.objects.visible_to(user, teams_managed=named)) == titles(
        Deal.objects.visible_to(user)
    )


@pytest.mark.parametrize(
    ("who", "manages"),
    [
        ("owner", set()),
        ("teammate", set()),
        ("manager", {"Owner's", "Teammate's", "Manager's own"}),
        ("outsider", set()),
        ("other_manager", {"Outsider's"}),
        ("staff", ALL),
        ("anonymous", set()),
    ],
)
def test_each_persona_manages_exactly_their_teams_deals(deals, request, who, manages):
    assert titles(Deal.objects.managed_by(persona(request, who))) == manages


@pytest.mark.parametrize("who", ["owner", "manager", "staff"])
def test_an_inactive_user_sees_and_manages_nothing(deals, request, who):
    user = request.getfixturevalue(who)
    user.is_active = False
    user.save()
    assert titles(Deal.objects.visible_to(user)) == set()
    assert titles(Deal.objects.managed_by(user)) == set()


def test_a_superuser_sees_everything_even_without_the_staff_flag(deals, django_user_model):
    root = django_user_model.objects.create_user(
        username="root", password="x", email="root@example.com", is_superuser=True
    )
    assert titles(Deal.objects.visible_to(root)) == ALL


def test_a_rep_in_one_team_and_manager_of_another_sees_own_and_managed_deals(
    deals, teammate, other_team
):
    Membership.objects.create(user=teammate, team=other_team, role=Role.MANAGER)
    assert titles(Deal.objects.visible_to(teammate)) == {"Teammate's", "Outsider's"}
    assert titles(Deal.objects.managed_by(teammate)) == {"Outsider's"}


def test_a_manager_of_two_teams_sees_both(deals, manager, other_team):
    Membership.objects.create(user=manager, team=other_team, role=Role.MANAGER)
    assert titles(Deal.objects.visible_to(manager)) == ALL


def test_reps_and_managers_who_leave_a_team_lose_its_deals_their_own_included(
    deals, owner, manager, team
):
    # Rule 11 (issue 11): seeing is a right, and rights follow the team.
    Membership.objects.filter(user=manager, team=team).delete()
    Membership.objects.filter(user=owner, team=team).delete()
    assert titles(Deal.objects.visible_to(owner)) == set()
    assert titles(Deal.objects.visible_to(manager)) == set()
    assert titles(Deal.objects.managed_by(manager)) == set()


def test_a_new_team_is_invisible_to_everyone_but_staff(deals, make_deal, staff, manager, owner):
    elsewhere = Team.objects.create(name="Elsewhere")
    Membership.objects.create(user=owner, team=elsewhere, role=Role.REP)
    make_deal(team=elsewhere, title="Elsewhere")
    assert "Elsewhere" not in titles(Deal.objects.visible_to(manager))
    assert "Elsewhere" in titles(Deal.objects.visible_to(owner))
    assert "Elsewhere" in titles(Deal.objects.visible_to(staff))


def test_visibility_chains_with_other_filters(deals, manager, owner):
    services.deal_lose(deal=deals["teammate's"], user=manager, reason="price")
    assert titles(Deal.objects.visible_to(manager).open()) == {"Owner's", "Manager's own"}
    assert titles(Deal.objects.open().visible_to(owner)) == {"Owner's"}


def test_visibility_is_one_query_whatever_the_number_of_deals(
    deals, manager, make_deal, django_assert_num_queries
):
    for i in range(5):
        make_deal(title=f"More {i}")
    with django_assert_num_queries(1):
        assert len(list(Deal.objects.visible_to(manager))) == 8
