"""The API's deals: the same door (visible_to) and the same services as the screens."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals import services
from deals.models import Deal, DealEvent, Membership, Role

from .api import Api, api_for, is_error, token_for

NEW = {
    "title": "Carton supply",
    "customer": "Acme Foods",
    "currency": "USD",
    "opening_price": "10000.00",
    "floor": "9000.00",
}


def test_a_rep_lists_their_own_deals_and_not_a_teammates(owner, teammate, make_deal):
    mine = make_deal()
    make_deal(user=teammate, title="Tom's")
    items = api_for(owner).get("/deals").json()["items"]
    assert [d["id"] for d in items] == [mine.pk]


def test_a_manager_lists_every_deal_of_the_team(owner, teammate, manager, make_deal):
    ids = {make_deal().pk, make_deal(user=teammate).pk}
    assert {d["id"] for d in api_for(manager).get("/deals").json()["items"]} == ids


@pytest.mark.parametrize("persona", ["teammate", "outsider", "other_manager"])
def test_a_deal_one_may_not_see_is_404_like_one_that_does_not_exist(request, deal, persona):
    api = api_for(request.getfixturevalue(persona))
    assert is_error(api.get(f"/deals/{deal.pk}"), 404, "not_found")
    assert is_error(api.get(f"/deals/{deal.pk + 1000}"), 404, "not_found")


def test_a_deal_reads_with_its_assessment_and_money_as_strings(owner, deal, give):
    give(deal, "600")
    body = api_for(owner).get(f"/deals/{deal.pk}").json()
    assert body["opening_price"] == "10000.00" and body["floor"] == "9000.00"
    assert body["conceded"] == "600.00" and body["net"] == "9400.00"
    assert body["remaining"] == "400.00" and body["room_used"] == "60.00"
    assert body["level"] == "caution" and body["owner"] == owner.username
    assert body["target_price"] is None and body["external_ref"] is None
    assert body["version"] == Deal.objects.get(pk=deal.pk).version


def test_creating_a_deal_answers_201_with_it(owner, team):
    response = api_for(owner).post("/deals", NEW)
    assert response.status_code == 201
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert deal.owner == owner and deal.team == team and deal.floor == Decimal("9000.00")
    assert DealEvent.objects.filter(deal=deal, kind="created").count() == 1


def test_money_as_a_json_number_is_refused(owner):
    response = api_for(owner).post("/deals", {**NEW, "opening_price": 10000})
    assert is_error(response, 422, "invalid")
    assert response.json()["field"] == "opening_price"
    assert not Deal.objects.exists()


def test_a_floor_at_the_opening_price_is_refused_by_the_service(owner):
    response = api_for(owner).post("/deals", {**NEW, "floor": "10000.00"})
    assert is_error(response, 422, "invalid")
    assert response.json()["field"] == "floor"


def test_a_person_in_two_teams_names_the_team(owner, other_team):
    Membership.objects.create(user=owner, team=other_team, role=Role.REP)
    assert is_error(api_for(owner).post("/deals", NEW), 422)
    assert api_for(owner).post("/deals", {**NEW, "team": other_team.pk}).status_code == 201


def test_nobody_creates_a_deal_in_a_team_they_are_not_in(outsider, team):
    assert is_error(api_for(outsider).post("/deals", {**NEW, "team": team.pk}), 404)


def test_a_manager_creates_a_deal_for_a_rep_and_a_rep_cannot(owner, teammate, manager, team):
    response = api_for(manager).post("/deals", {**NEW, "owner": owner.username})
    assert response.status_code == 201 and response.json()["owner"] == owner.username
    assert is_error(api_for(teammate).post("/deals", {**NEW, "owner": owner.username}), 404)


def test_updating_a_deal_changes_only_what_describes_it(owner, deal):
    api = api_for(owner)
    before = api.get(f"/deals/{deal.pk}").json()
    body = api.patch(f"/deals/{deal.pk}", {"title": "Renamed", "cost": "5000.00"}).json()
    assert body["title"] == "Renamed" and body["cost"] == "5000.00"
    assert body["customer"] == before["customer"] and body["version"] > before["version"]
    assert api.patch(f"/deals/{deal.pk}", {"cost": None}).json()["cost"] is None
    # Money fields are not among what may be patched: unknown fields change nothing.
    assert api.patch(f"/deals/{deal.pk}", {"floor": "1.00"}).json()["floor"] == "9000.00"


def test_a_teammate_cannot_update_a_deal(teammate, deal):
    assert is_error(api_for(teammate).patch(f"/deals/{deal.pk}", {"title": "Mine"}), 404)


def test_lists_page_with_a_cursor_without_repeating_or_skipping(owner, make_deal):
    ids = [make_deal(title=f"Deal {i}").pk for i in range(5)]
    api = api_for(owner)
    seen, url = [], "/deals?limit=2"
    while url:
        body = api.get(url).json()
        seen += [d["id"] for d in body["items"]]
        url = body["next"] and body["next"].split("/api/v1", 1)[1]
        # A deal created meanwhile does not shift the pages.
        if len(seen) == 2:
            make_deal(title="Newer")
    assert seen == sorted(ids, reverse=True)


def test_a_cursor_that_is_not_ours_is_422(owner):
    assert is_error(api_for(owner).get("/deals", {"cursor": "nonsense"}), 422)


def test_filters_narrow_the_list(owner, make_deal, give):
    calm = make_deal(title="Calm")
    hot = make_deal(title="Hot")
    give(hot, "900")
    api = api_for(owner)
    assert [d["id"] for d in api.get("/deals", {"level": "danger"}).json()["items"]] == [hot.pk]
    assert [d["id"] for d in api.get("/deals", {"level": "on_track"}).json()["items"]] == [calm.pk]
    assert is_error(api.get("/deals", {"level": "nope"}), 422)


def test_the_preview_writes_nothing(owner, deal):
    body = api_for(owner).get(f"/deals/{deal.pk}/preview", {"amount": "850"}).json()
    assert body == {
        "amount": "850.00",
        "conceded": "850.00",
        "net": "9150.00",
        "remaining": "150.00",
        "room_used": "85.00",
        "level": "danger",
        "fits": True,
        "shortfall": "0.00",
    }
    over = api_for(owner).get(f"/deals/{deal.pk}/preview", {"amount": "1200"}).json()
    assert over["fits"] is False and over["shortfall"] == "200.00"
    assert is_error(api_for(owner).get(f"/deals/{deal.pk}/preview", {"amount": "1e3"}), 422)
    assert Deal.objects.get(pk=deal.pk).conceded == 0


def test_the_floor_follows_rule_2(owner, manager, deal, give):
    api = api_for(owner)
    assert api.post(f"/deals/{deal.pk}/floor", {"new_floor": "8500.00"}).json()["floor"] == (
        "8500.00"
    )
    give(deal, "100")
    response = api.post(f"/deals/{deal.pk}/floor", {"new_floor": "8000.00"})
    assert is_error(response, 409, "floor_locked")
    body = api_for(manager).post(
        f"/deals/{deal.pk}/floor", {"new_floor": "8000.00", "reason": "Bigger order"}
    )
    assert body.json()["floor"] == "8000.00"


def test_outcomes_close_and_reopen_a_deal(owner, make_deal):
    api = api_for(owner)
    won = make_deal()
    body = api.post(f"/deals/{won.pk}/won", {}).json()
    assert body["status"] == "won" and body["final_price"] == "10000.00"
    assert is_error(api.post(f"/deals/{won.pk}/lost", {"reason": "price"}), 409, "deal_closed")
    lost = make_deal()
    assert api.post(f"/deals/{lost.pk}/lost", {"reason": "timing"}).json()["status"] == "lost"
    away = make_deal()
    body = api.post(f"/deals/{away.pk}/walk-away", {"reason": "Too low"}).json()
    assert body["status"] == "walked_away"
    body = api.post(f"/deals/{away.pk}/came-back").json()
    assert body["status"] == "open" and body["came_back"] is True
    assert is_error(api.post(f"/deals/{away.pk}/came-back"), 409, "deal_closed")


def test_a_final_price_below_the_floor_is_refused(owner, deal):
    response = api_for(owner).post(f"/deals/{deal.pk}/won", {"final_price": "100.00"})
    assert is_error(response, 422)
    assert response.json()["field"] == "final_price"


def test_events_are_every_visible_event_oldest_first(owner, teammate, deal, make_deal, give):
    give(deal, "100", got="A reference")
    make_deal(user=teammate)
    body = api_for(owner).get("/events").json()
    types = [e["type"] for e in body["items"]]
    assert types == ["deal.created", "concession.logged"]
    logged = body["items"][1]
    assert logged["data"]["concession"]["amount"] == "100.00"
    assert logged["actor"] == owner.username and logged["deal"] == deal.pk
    after = api_for(owner).get("/events", {"after": body["items"][0]["id"]}).json()
    assert [e["id"] for e in after["items"]] == [logged["id"]]


def test_a_deals_history_through_the_api(owner, deal, give):
    give(deal, "950")
    types = [e["type"] for e in api_for(owner).get(f"/deals/{deal.pk}/events").json()["items"]]
    assert types == ["deal.created", "concession.logged", "deal.level_changed"]


def test_the_same_idempotency_key_and_body_creates_once(owner):
    api = api_for(owner)
    key = {"Idempotency-Key": "crm-42"}
    first = api.post("/deals", NEW, headers=key)
    again = api.post("/deals", NEW, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Deal.objects.count() == 1


def test_the_same_key_with_another_body_is_422(owner):
    api = api_for(owner)
    api.post("/deals", NEW, headers={"Idempotency-Key": "k1"})
    response = api.post("/deals", {**NEW, "title": "Other"}, headers={"Idempotency-Key": "k1"})
    assert is_error(response, 422, "idempotency_key_reused")
    assert Deal.objects.count() == 1


def test_a_key_is_the_tokens_own(owner):
    key = {"Idempotency-Key": "shared"}
    Api(token_for(owner)).post("/deals", NEW, headers=key)
    Api(token_for(owner)).post("/deals", NEW, headers=key)
    assert Deal.objects.count() == 2


def test_a_refused_write_keeps_no_key(owner):
    api = api_for(owner)
    key = {"Idempotency-Key": "retry-me"}
    assert api.post("/deals", {**NEW, "floor": "20000.00"}, headers=key).status_code == 422
    assert api.post("/deals", NEW, headers=key).status_code == 201


def test_a_key_is_kept_for_a_day(owner):
    from datetime import timedelta

    from deals.integrations import IdempotencyKey

    api = api_for(owner)
    api.post("/deals", NEW, headers={"Idempotency-Key": "old"})
    IdempotencyKey.objects.update(created_at=services.timezone.now() - timedelta(hours=25))
    assert api.post("/deals", NEW, headers={"Idempotency-Key": "old"}).status_code == 201
    assert Deal.objects.count() == 2
