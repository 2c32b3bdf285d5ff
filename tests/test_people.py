"""The team from the app (issue 14): invitations, roles, removals, settings, password resets."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from deals import people, services
from deals.models import Invitation, Membership, Profile, Role, TeamChange

from .desk import page, words

NEW_PASSWORD = "a-Long-new-pass-42"


def link_in(mail) -> str:
    (link,) = re.findall(r"https://walkaway\.example\.com(/\S+)", mail.body)
    return link


@pytest.fixture
def invited(client, manager, team, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("invite"), {"email": "nina@example.com", "role": "rep", "team": team.pk}
        )
    assert response.status_code == 303
    client.logout()
    (mail,) = mailoutbox
    return link_in(mail)


def test_a_manager_invites_by_email_with_a_one_time_absolute_link(
    invited, mailoutbox, team, manager
):
    (mail,) = mailoutbox
    assert mail.to == ["nina@example.com"]
    assert "https://walkaway.example.com/join/" in mail.body
    assert "7 days" in mail.body
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.created_at > timedelta(days=6, hours=23)
    assert invited.split("/")[-2] not in invitation.token_hash  # only a hash is kept
    assert TeamChange.objects.filter(team=team, kind="invited", actor=manager).exists()


def test_the_invitee_chooses_a_password_joins_and_is_logged_in(client, invited, team):
    body = page(client.get(invited))
    for label in ("Username", "New password", "New password confirmation"):
        assert f">{label}</label>" in body
    assert ">Join team</button>" in body
    response = client.post(
        invited,
        {"username": "nina", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 303
    nina = get_user_model().objects.get(username="nina")
    assert nina.email == "nina@example.com"
    assert nina.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=nina).role == Role.REP
    assert client.get(reverse("deal_list")).wsgi_request.user == nina
    # Once only.
    client.logout()
    again = client.get(invited)
    assert again.status_code == 410
    assert "expired or was already used" in words(again)


def test_an_expired_invitation_does_not_work(client, invited):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(
        invited, {"username": "nina", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 410
    assert not get_user_model().objects.filter(username="nina").exists()


def test_a_weak_or_mismatched_password_or_a_taken_username_is_refused(client, invited, owner):
    for data in (
        {"username": "nina", "new_password1": "123", "new_password2": "123"},
        {"username": "nina", "new_password1": NEW_PASSWORD, "new_password2": "other-Pass-99"},
        {"username": "olivia", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ):
        assert client.post(invited, data).status_code == 422
    assert not Membership.objects.filter(user__username="nina").exists()


@pytest.mark.parametrize("persona", ["owner", "other_manager"])
def test_only_the_teams_managers_run_the_team(client, request, persona, team, teammate):
    client.force_login(request.getfixturevalue(persona))
    membership = Membership.objects.get(user=teammate)
    if persona == "owner":
        assert client.get(reverse("team")).status_code == 403
        assert client.post(reverse("member_remove", args=[membership.pk])).status_code == 403
    else:
        assert client.post(reverse("member_remove", args=[membership.pk])).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()
    with pytest.raises(services.NotAllowed):
        people.membership_remove(membership=membership, user=request.getfixturevalue(persona))


def test_a_manager_changes_a_role_and_the_last_manager_stays(client, manager, teammate):
    client.force_login(manager)
    tom = Membership.objects.get(user=teammate)
    client.post(reverse("member_role", args=[tom.pk]), {"role": "manager"})
    tom.refresh_from_db()
    assert tom.role == Role.MANAGER
    maria = Membership.objects.get(user=manager)
    client.post(reverse("member_role", args=[maria.pk]), {"role": "rep"})
    client.post(reverse("member_role", args=[tom.pk]), {"role": "rep"})
    tom.refresh_from_db()
    assert tom.role == Role.MANAGER  # the team's only manager now
    assert TeamChange.objects.filter(kind="role_changed").count() == 2


def test_removing_a_member_lists_their_open_deals_for_reassignment(
    client, manager, owner, make_deal
):
    deal = make_deal(title="Left behind")
    client.force_login(manager)
    response = client.post(reverse("member_remove", args=[Membership.objects.get(user=owner).pk]))
    assert response.status_code == 303
    assert not Membership.objects.filter(user=owner).exists()
    body = page(client.get(reverse("team")))
    assert "Left behind" in body
    assert reverse("deal_reassign", args=[deal.pk]) in body


@pytest.mark.parametrize("size", [2, 12])
def test_the_team_page_costs_the_same_queries_however_big_the_team(
    client, manager, team, make_deal, size, django_assert_max_num_queries, django_user_model
):
    for n in range(size):
        user = django_user_model.objects.create_user(username=f"rep{n}", password="x")
        Membership.objects.create(user=user, team=team, role=Role.REP)
        make_deal(title=f"Deal {n}", user=user)
        user.memberships.all().delete()
    client.force_login(manager)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("team"))
    assert page(response).count(">Reassign<") == size


def test_everyone_has_settings_and_saves_them(client, owner):
    client.force_login(owner)
    body = page(client.get(reverse("settings")))
    for label in ("Name", "Email", "Locale", "Time zone"):
        assert f">{label}" in body
    response = client.post(
        reverse("settings"),
        {
            "name": "Olivia Reed",
            "email": "olivia@example.org",
            "locale": "de_DE",
            "time_zone": "Europe/Berlin",
            "alert_decisions": "on",
        },
        follow=True,
    )
    assert "Settings saved." in words(response)
    owner.refresh_from_db()
    profile = Profile.objects.get(user=owner)
    assert (owner.get_full_name(), owner.email) == ("Olivia Reed", "olivia@example.org")
    assert (profile.locale, profile.time_zone) == ("de_DE", "Europe/Berlin")
    assert (profile.alert_decisions, profile.alert_levels, profile.alert_email) == (
        True,
        False,
        False,
    )


def test_an_unknown_time_zone_is_refused(client, owner):
    client.force_login(owner)
    response = client.post(reverse("settings"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    assert not Profile.objects.filter(user=owner).exists()


def test_a_forgotten_password_is_reset_by_email(client, owner, mailoutbox):
    login = page(client.get(reverse("login")))
    assert f'href="{reverse("password_reset")}">Forgot your password?</a>' in login
    form = page(client.get(reverse("password_reset")))
    assert ">Email</label>" in form and ">Send reset link</button>" in form
    client.post(reverse("password_reset"), {"email": owner.email})
    (mail,) = mailoutbox
    link = link_in(mail)
    confirm = client.get(link, follow=True)
    body = page(confirm)
    assert ">New password</label>" in body and ">Set password</button>" in body
    done = client.post(
        confirm.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_mail_outage_keeps_the_invitation_and_the_page(
    client, manager, team, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.test_alerts.BrokenBackend"
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("invite"), {"email": "nina@example.com", "role": "rep", "team": team.pk}
        )
    assert response.status_code == 303
    assert Invitation.objects.filter(email="nina@example.com").exists()
