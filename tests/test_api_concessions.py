"""Concessions and exceptions through the API: the deal page's moves, with the same results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.models import Concession, Deal, DealEvent, ExceptionRequest

from .api import api_for, is_error

GIVE = {"kind": "price_discount", "amount": "250.00", "description": "Loyalty", "got_in_return": ""}


def test_logging_a_concession_answers_201_and_moves_the_deal(owner, deal):
    response = api_for(owner).post(f"/deals/{deal.pk}/concessions", GIVE)
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "250.00" and body["created_by"] == owner.username
    assert body["plan_step"] is None and body["retracts"] is None
    assert Deal.objects.get(pk=deal.pk).conceded == Decimal("250.00")


def test_the_api_and_the_deal_page_give_the_same_result(client, owner, make_deal):
    by_page, by_api = make_deal(), make_deal()
    client.force_login(owner)
    form = {**GIVE, "amount": "850.00", "form_key": "k1"}
    assert client.post(f"/deals/{by_page.pk}/concessions/", form).status_code == 302
    assert api_for(owner).post(f"/deals/{by_api.pk}/concessions", {**GIVE, "amount": "850.00"})
    page_deal, api_deal = (Deal.objects.get(pk=d.pk) for d in (by_page, by_api))
    for name in ("conceded", "level", "peak_level", "version"):
        assert getattr(page_deal, name) == getattr(api_deal, name), name

    def kinds(deal):
        return list(
            DealEvent.objects.filter(deal=deal).order_by("id").values_list("kind", "summary")
        )

    assert kinds(page_deal) == kinds(api_deal)


def test_a_concession_below_the_floor_is_409_and_logs_nothing(owner, deal):
    response = api_for(owner).post(f"/deals/{deal.pk}/concessions", {**GIVE, "amount": "1500.00"})
    assert is_error(response, 409, "below_floor")
    assert "below your walk-away floor" in response.json()["detail"]
    assert not Concession.objects.exists()


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager"])
def test_nobody_else_logs_on_a_deal(request, deal, persona):
    api = api_for(request.getfixturevalue(persona))
    assert is_error(api.post(f"/deals/{deal.pk}/concessions", GIVE), 404)
    assert is_error(api.get(f"/deals/{deal.pk}/concessions"), 404)
    assert not Concession.objects.exists()


def test_the_teams_manager_logs_on_a_reps_deal(manager, deal):
    assert api_for(manager).post(f"/deals/{deal.pk}/concessions", GIVE).status_code == 201


def test_bad_input_is_422_with_the_field(owner, deal):
    api = api_for(owner)
    for change, field in (
        ({"amount": "12.345"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"kind": "bribe"}, "kind"),
        ({"description": "  "}, "description"),
    ):
        response = api.post(f"/deals/{deal.pk}/concessions", {**GIVE, **change})
        assert is_error(response, 422) and response.json()["field"] == field, change


def test_a_retraction_is_a_negative_entry_once_per_give(owner, deal, give):
    logged = give(deal, "300").concession
    api = api_for(owner)
    url = f"/deals/{deal.pk}/concessions/{logged.pk}/retract"
    response = api.post(url, {"reason": "Typo"})
    assert response.status_code == 201
    assert response.json()["amount"] == "-300.00" and response.json()["retracts"] == logged.pk
    assert is_error(api.post(url, {"reason": "Again"}), 409, "already_retracted")
    items = api.get(f"/deals/{deal.pk}/concessions").json()["items"]
    assert [c["amount"] for c in items] == ["300.00", "-300.00"]


def test_a_closed_deal_takes_no_concession(owner, deal):
    api = api_for(owner)
    api.post(f"/deals/{deal.pk}/lost", {"reason": "price"})
    assert is_error(api.post(f"/deals/{deal.pk}/concessions", GIVE), 409, "deal_closed")


def test_the_same_key_logs_once(owner, deal):
    api = api_for(owner)
    key = {"Idempotency-Key": "log-1"}
    first = api.post(f"/deals/{deal.pk}/concessions", GIVE, headers=key).json()
    again = api.post(f"/deals/{deal.pk}/concessions", GIVE, headers=key).json()
    assert first == again and Concession.objects.count() == 1


def _ask(api, deal, amount="1500.00"):
    body = {**GIVE, "amount": amount, "note": "Big order"}
    return api.post(f"/deals/{deal.pk}/exception-requests", body)


def test_an_exception_asked_then_approved_logs_below_the_floor(owner, manager, deal):
    asked = _ask(api_for(owner), deal)
    assert asked.status_code == 201 and asked.json()["shortfall"] == "500.00"
    queue = api_for(manager).get("/exception-requests", {"status": "pending"}).json()["items"]
    assert [r["id"] for r in queue] == [asked.json()["id"]]
    response = api_for(manager).post(
        f"/exception-requests/{asked.json()['id']}/approve", {"comment": "Strategic"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["exception_request"]["status"] == "approved"
    assert body["concession"]["exception_request"] == asked.json()["id"]
    assert api_for(owner).get(f"/deals/{deal.pk}").json()["level"] == "below_floor"


def test_a_rep_cannot_decide_and_a_decided_request_stays_decided(owner, manager, deal):
    asked = _ask(api_for(owner), deal).json()
    url = f"/exception-requests/{asked['id']}"
    assert is_error(api_for(owner).post(f"{url}/approve", {"comment": "Me"}), 404)
    assert api_for(owner).get(url).json()["status"] == "pending"
    assert api_for(manager).post(f"{url}/reject", {"comment": "No"}).json()["status"] == (
        "rejected"
    )
    assert is_error(api_for(manager).post(f"{url}/approve", {"comment": "Yes"}), 409)
    assert ExceptionRequest.objects.get().status == "rejected"


def test_an_approval_on_a_deal_that_moved_is_409_deal_changed(owner, manager, deal, give):
    asked = _ask(api_for(owner), deal).json()
    give(deal, "100")
    url = f"/exception-requests/{asked['id']}/approve"
    response = api_for(manager).post(url, {"comment": "OK"})
    assert is_error(response, 409, "deal_changed")
    again = api_for(manager).post(
        url, {"comment": "OK", "seen_conceded": "100.00", "seen_floor": "9000.00"}
    )
    assert again.status_code == 200


def test_an_exception_that_fits_is_refused(owner, deal):
    assert is_error(_ask(api_for(owner), deal, "100.00"), 422)
