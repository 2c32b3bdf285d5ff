"""Personal tokens: made once and shown once, kept hashed, revocable, with a last-used time; a
token is its person's rights at the moment of each request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from deals import services
from deals.integrations import ApiToken
from deals.models import Membership

from .api import Api, api_for, is_error, token_for


def test_a_token_is_kept_only_as_its_hash(owner):
    token, raw = services.api_token_create(user=owner, name="HubSpot")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("wa_") and len(raw) > 40
    assert raw not in (stored.digest, stored.prefix, stored.name)
    assert stored.digest == services.token_digest(raw)
    assert raw.startswith(stored.prefix)


def test_a_request_without_a_token_or_with_a_wrong_one_is_401(owner):
    for api in (Api(None), Api("wa_not-a-token")):
        response = api.get("/deals")
        assert is_error(response, 401, "unauthorized")
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_session_does_not_open_the_api(client, owner):
    client.force_login(owner)
    assert client.get("/api/v1/deals").status_code == 401


def test_a_revoked_token_is_refused_at_once(owner, deal):
    token, raw = services.api_token_create(user=owner, name="CRM")
    api = Api(raw)
    assert api.get(f"/deals/{deal.pk}").status_code == 200
    services.api_token_revoke(user=owner, token=token)
    assert is_error(api.get(f"/deals/{deal.pk}"), 401)


def test_only_its_person_may_revoke_a_token(owner, teammate):
    token, _ = services.api_token_create(user=owner, name="CRM")
    with pytest.raises(services.NotAllowed):
        services.api_token_revoke(user=teammate, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_token_keeps_the_time_it_was_last_used(owner):
    token, raw = services.api_token_create(user=owner, name="CRM")
    assert token.last_used_at is None
    Api(raw).get("/teams")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    # Written at most once a minute, not on every request.
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    Api(raw).get("/teams")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first - timedelta(seconds=1)


def test_a_deactivated_persons_token_is_401(owner, deal):
    api = api_for(owner)
    owner.is_active = False
    owner.save()
    assert is_error(api.get(f"/deals/{deal.pk}"), 401)


def test_a_person_removed_from_the_team_loses_it_through_their_token(owner, deal):
    api = api_for(owner)
    assert api.get(f"/deals/{deal.pk}").status_code == 200
    Membership.objects.filter(user=owner).delete()
    assert is_error(api.get(f"/deals/{deal.pk}"), 404, "not_found")
    assert api.get("/deals").json()["items"] == []
    response = api.post(
        f"/deals/{deal.pk}/concessions",
        {"kind": "other", "amount": "10.00", "description": "Anything"},
    )
    assert is_error(response, 404)


def test_a_manager_made_a_rep_loses_the_managers_rights_through_the_token(owner, manager, deal):
    api = api_for(manager)
    assert api.get(f"/deals/{deal.pk}").status_code == 200
    Membership.objects.filter(user=manager).update(role="rep")
    assert is_error(api.get(f"/deals/{deal.pk}"), 404)


def test_the_command_prints_the_token_alone_on_its_last_line(owner, capsys):
    call_command("api_token", "create", owner.username, "--name", "Pipedrive")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert Api(raw).get("/teams").status_code == 200
    call_command("api_token", "list", owner.username)
    listing = capsys.readouterr().out
    assert "Pipedrive" in listing and raw not in listing
    token = ApiToken.objects.get(user=owner)
    call_command("api_token", "revoke", owner.username, str(token.pk))
    assert Api(raw).get("/teams").status_code == 401


def test_teams_lists_the_persons_teams_with_their_role(owner, manager, team, other_team):
    assert api_for(owner).get("/teams").json() == {
        "items": [{"id": team.pk, "name": team.name, "role": "rep"}],
        "next": None,
    }
    assert api_for(manager).get("/teams").json()["items"][0]["role"] == "manager"


def test_a_token_past_its_rate_limit_gets_429_with_retry_after(owner, settings):
    settings.WALKAWAY_API_RATE_LIMIT = (3, 60)
    api = api_for(owner)
    for _ in range(3):
        assert api.get("/teams").status_code == 200
    response = api.get("/teams")
    assert is_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    # Per token: another token of the same person has its own count.
    assert api_for(owner).get("/teams").status_code == 200


def test_the_token_shown_once_is_never_in_the_settings_page_again(client, owner):
    token = token_for(owner, "Shown once")
    client.force_login(owner)
    page = client.get("/settings/").content.decode()
    assert "Shown once" in page and token not in page
