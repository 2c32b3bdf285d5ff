"""The plan and reassignment through the API: the deal page's moves, with the same results."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals.models import Concession, Deal, DealEvent, PlanStep

from .api import api_for, is_error

PLAN = {
    "target_price": "9500.00",
    "best_alternative": "Sell the slot to Riverside",
    "things_to_ask": "A reference",
    "steps": [
        {"kind": "price_discount", "amount": "300.00", "give": "3% off", "ask": "Two years"},
        {"kind": "free_service", "amount": "150.00", "give": "Training", "ask": "A case study"},
    ],
}


def test_the_owner_replaces_and_reads_the_plan(owner, deal):
    api = api_for(owner)
    response = api.put(f"/deals/{deal.pk}/plan", PLAN)
    assert response.status_code == 200, response.json()
    body = api.get(f"/deals/{deal.pk}/plan").json()
    assert body["target_price"] == "9500.00"
    assert [s["amount"] for s in body["steps"]] == ["300.00", "150.00"]
    assert body["planned_total"] == "450.00" and body["planned_net"] == "9550.00"
    assert body["below_target_by"] == "0.00" and body["not_shrinking"] == []
    assert DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.PLAN_CHANGED).count() == 1


def test_a_plan_below_the_floor_is_refused_and_stores_nothing(owner, deal):
    big = {**PLAN, "steps": [{**PLAN["steps"][0], "amount": "1200.00"}]}
    response = api_for(owner).put(f"/deals/{deal.pk}/plan", big)
    assert is_error(response, 422)
    assert "below your walk-away floor" in response.json()["detail"]
    assert not PlanStep.objects.exists()


def test_a_concession_follows_a_step_and_plan_against_actual_moves(owner, deal):
    api = api_for(owner)
    api.put(f"/deals/{deal.pk}/plan", PLAN)
    step = PlanStep.objects.get(deal=deal, position=1)
    give = {
        "kind": "price_discount",
        "amount": "300.00",
        "description": "3% off",
        "got_in_return": "Two years",
        "plan_step": step.pk,
    }
    response = api.post(f"/deals/{deal.pk}/concessions", give)
    assert response.status_code == 201
    assert response.json()["plan_step"] == step.pk
    body = api.get(f"/deals/{deal.pk}/plan").json()
    assert body["reached"] == 1 and body["planned_reached"] == "300.00"
    assert body["steps"][0]["followed"] is True


def test_after_the_first_concession_a_plan_change_needs_a_reason(owner, deal, give):
    api = api_for(owner)
    api.put(f"/deals/{deal.pk}/plan", PLAN)
    give(deal, "10")
    shorter = {**PLAN, "steps": PLAN["steps"][:1]}
    assert is_error(api.put(f"/deals/{deal.pk}/plan", shorter), 422)
    assert api.put(f"/deals/{deal.pk}/plan", {**shorter, "reason": "Scope cut"}).status_code == 200


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager"])
def test_nobody_else_reads_or_plans(request, deal, persona):
    api = api_for(request.getfixturevalue(persona))
    assert is_error(api.get(f"/deals/{deal.pk}/plan"), 404)
    assert is_error(api.put(f"/deals/{deal.pk}/plan", PLAN), 404)
    assert not PlanStep.objects.exists()


def test_a_manager_reassigns_through_the_api_and_the_owner_cannot(owner, teammate, manager, deal):
    assert is_error(api_for(owner).post(f"/deals/{deal.pk}/reassign", {"new_owner": "tom"}), 404)
    response = api_for(manager).post(f"/deals/{deal.pk}/reassign", {"new_owner": "tom"})
    assert response.status_code == 200
    assert response.json()["owner"] == "tom"
    assert Deal.objects.get(pk=deal.pk).owner == teammate
    assert not Concession.objects.exists()


def test_the_author_corrects_a_typo_through_the_api_in_one_step(owner, deal):
    api = api_for(owner)
    logged = api.post(
        f"/deals/{deal.pk}/concessions",
        {"kind": "price_discount", "amount": "900.00", "description": "Typo"},
    ).json()
    response = api.post(
        f"/deals/{deal.pk}/concessions/{logged['id']}/correct",
        {"kind": "price_discount", "amount": "90.00", "description": "Ten percent of that"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "90.00"
    assert Deal.objects.get(pk=deal.pk).conceded == Decimal("90.00")


def test_nobody_but_the_author_corrects(owner, manager, deal):
    logged = (
        api_for(owner)
        .post(
            f"/deals/{deal.pk}/concessions",
            {"kind": "other", "amount": "10.00", "description": "x"},
        )
        .json()
    )
    response = api_for(manager).post(
        f"/deals/{deal.pk}/concessions/{logged['id']}/correct",
        {"kind": "other", "amount": "5.00", "description": "y"},
    )
    assert is_error(response, 409)
    assert Deal.objects.get(pk=deal.pk).conceded == Decimal("10.00")


def test_a_comeback_through_the_api_keeps_its_day_offer_and_note(owner, deal):
    api = api_for(owner)
    api.post(f"/deals/{deal.pk}/walk-away", {"reason": "Too low"})
    response = api.post(
        f"/deals/{deal.pk}/came-back",
        {"offer": "9500.00", "note": "They called back"},
    )
    assert response.status_code == 200, response.json()
    back = Deal.objects.get(pk=deal.pk)
    assert back.is_open and back.comeback_offer == Decimal("9500.00")
    assert back.comeback_note == "They called back"
    assert api.post(f"/deals/{deal.pk}/came-back").status_code == 409
