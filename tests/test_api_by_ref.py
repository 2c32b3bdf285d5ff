"""A CRM pushes its deals by its own reference: created the first time, described after, and
never its ledger."""

from __future__ import annotations

from deals.models import Deal

from .api import api_for, is_error

CRM = {
    "title": "Packaging 2027",
    "customer": "Acme Foods",
    "currency": "EUR",
    "opening_price": "50000.00",
    "floor": "42000.00",
}
URL = "/deals/by-ref/HubSpot/DEAL-123"


def test_the_first_push_creates_the_deal_with_its_reference(owner):
    response = api_for(owner).put(URL, CRM)
    assert response.status_code == 201
    body = response.json()
    assert body["external_source"] == "hubspot" and body["external_ref"] == "DEAL-123"
    assert body["currency"] == "EUR" and body["owner"] == owner.username


def test_the_next_push_updates_what_describes_it(owner):
    api = api_for(owner)
    created = api.put(URL, CRM).json()
    response = api.put(URL, {**CRM, "title": "Packaging 2027 (signed)", "cost": "30000.00"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"] and body["title"] == "Packaging 2027 (signed)"
    assert body["cost"] == "30000.00" and body["version"] > created["version"]
    assert Deal.objects.count() == 1


def test_an_update_may_leave_out_the_prices(owner):
    api = api_for(owner)
    api.put(URL, CRM)
    response = api.put(URL, {"title": "Renamed", "customer": "Acme Foods"})
    assert response.status_code == 200 and response.json()["floor"] == "42000.00"


def test_an_update_never_moves_the_ledger(owner, give):
    api = api_for(owner)
    api.put(URL, CRM)
    for change in ({"floor": "41000.00"}, {"opening_price": "60000.00"}, {"currency": "USD"}):
        assert is_error(api.put(URL, {**CRM, **change}), 409, "ledger_locked")
    assert Deal.objects.get().floor == 42000


def test_creating_needs_the_prices(owner):
    response = api_for(owner).put(URL, {"title": "T", "customer": "C"})
    assert is_error(response, 422)
    assert not Deal.objects.exists()


def test_a_reference_is_unique_per_team_not_across_teams(owner, outsider, teammate):
    api_for(owner).put(URL, CRM)
    # Another team's deal of the same reference is another deal.
    assert api_for(outsider).put(URL, CRM).status_code == 201
    # A teammate may not take over the owner's deal through its reference.
    assert is_error(api_for(teammate).put(URL, CRM), 409, "reference_taken")
    assert Deal.objects.count() == 2


def test_the_teams_manager_updates_a_reps_deal_by_reference(owner, manager):
    api_for(owner).put(URL, CRM)
    response = api_for(manager).put(URL, {**CRM, "title": "From the manager's CRM"})
    assert response.status_code == 200 and response.json()["owner"] == owner.username


def test_a_reference_with_a_control_character_is_refused(owner):
    assert api_for(owner).put("/deals/by-ref/hubspot/a%00b", CRM).status_code == 422
