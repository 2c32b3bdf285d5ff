"""The plan on the deal page: /deals/<pk>/plan/ (save, "Add step"), "Next planned step" with
"Log this step", "Off plan", the target in the status region and the coaching."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services
from deals.models import Concession, DealEvent, PlanStep
from deals.services import StepInput

from .desk import (
    HTMX,
    STRANGERS,
    assert_back_on_deal_page,
    assert_desk_update,
    assert_fragment,
    long_deal,
    page,
    rows,
    words,
)


def url(deal) -> str:
    return reverse("plan_save", args=[deal.pk])


def posted(*steps: tuple[str, str, str, str], **fields) -> dict[str, str]:
    data = {
        "step-TOTAL_FORMS": str(len(steps)),
        "step-INITIAL_FORMS": "0",
        "step-MIN_NUM_FORMS": "0",
        "step-MAX_NUM_FORMS": "30",
        "target_price": "",
        "best_alternative": "",
        "things_to_ask": "",
    }
    for i, (kind, amount, give, ask) in enumerate(steps):
        data.update(
            {
                f"step-{i}-kind": kind,
                f"step-{i}-amount": amount,
                f"step-{i}-give": give,
                f"step-{i}-ask": ask,
            }
        )
    data.update(fields)
    return data


LADDER = (
    ("price_discount", "500", "5% off the licence", "A three-year term"),
    ("free_service", "300", "Two training days", "A case study"),
    ("payment_terms", "100", "60-day terms", "Signature this month"),
)


def planned(deal, *amounts):
    services.plan_save(
        deal=deal,
        user=deal.owner,
        target_price="9400",
        steps=[
            StepInput(kind=k, amount=a, give=g, ask=q) for k, a, g, q in LADDER[: len(amounts) or 3]
        ],
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_the_owner_saves_a_plan(client, owner, deal, htmx):
    client.force_login(owner)
    response = client.post(
        url(deal),
        posted(*LADDER, target_price="9,400", best_alternative="Next bidder"),
        **(HTMX if htmx else {}),
    )
    if htmx:
        assert_desk_update(response)
        assert "Plan saved." in words(response)
    else:
        assert_back_on_deal_page(response, deal)
    assert PlanStep.objects.filter(deal=deal).count() == 3
    deal.refresh_from_db()
    assert deal.target_price == Decimal("9400.00")


def test_a_plan_below_the_floor_is_refused_in_the_plan_panel_and_nothing_is_stored(
    client, owner, deal
):
    client.force_login(owner)
    before = rows()
    big = (("price_discount", "700", "Big", "A"), ("price_discount", "400", "Bigger", "B"))
    response = client.post(url(deal), posted(*big), **HTMX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#plan-panel"
    assert_fragment(response)
    assert "$100.00 below your walk-away floor" in words(response)
    assert rows() == before
    assert not PlanStep.objects.exists()


def test_a_step_without_a_get_is_refused_next_to_its_field(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), posted(("other", "100", "A gift", "")), **HTMX)
    assert response.status_code == 422
    assert 'id="id_step-0-ask-error"' in page(response)
    assert not PlanStep.objects.exists()


def test_add_step_draws_one_more_empty_step_and_saves_nothing(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), posted(LADDER[0], add_step="1"), **HTMX)
    assert response.status_code == 200
    body = page(response)
    assert "Step 2" in words(response)
    assert 'name="step-1-amount"' in body
    assert 'value="5% off the licence"' in body
    assert not PlanStep.objects.exists()


def test_without_javascript_add_step_answers_the_whole_page(client, owner, deal):
    client.force_login(owner)
    response = client.post(url(deal), posted(add_step="1"))
    assert response.status_code == 200
    assert "<html" in page(response)
    assert 'name="step-0-kind"' in page(response)


def test_after_the_first_concession_a_change_asks_for_a_reason(client, owner, deal, give):
    planned(deal)
    give(deal, "50")
    client.force_login(owner)
    assert "Reason for the change" in words(client.get(reverse("deal_detail", args=[deal.pk])))
    response = client.post(url(deal), posted(*LADDER[:2]), **HTMX)
    assert response.status_code == 422
    assert "Reason for the change is required" in words(response)
    ok = client.post(url(deal), posted(*LADDER[:2], reason="Customer cut scope"), **HTMX)
    assert ok.status_code == 200
    assert DealEvent.objects.filter(kind=DealEvent.Kind.PLAN_CHANGED).count() == 2


@pytest.mark.parametrize("who", STRANGERS)
def test_strangers_get_404_and_nothing_is_stored(client, request, deal, who):
    client.force_login(request.getfixturevalue(who))
    before = rows()
    assert client.post(url(deal), posted(*LADDER)).status_code == 404
    assert client.get(url(deal)).status_code == 404
    assert rows() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_only_get_and_post_are_allowed(client, owner, deal, method):
    client.force_login(owner)
    assert getattr(client, method)(url(deal)).status_code == 405


def test_an_htmx_get_answers_the_plan_panel(client, owner, deal):
    planned(deal)
    client.force_login(owner)
    response = client.get(url(deal), **HTMX)
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="plan-panel"')


def test_saving_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries
):
    for n in (5, 200):
        deal = long_deal(make_deal, n)
        client.force_login(owner)
        steps = (("other", "1", "A", "B"),)
        with django_assert_max_num_queries(40):
            response = client.post(url(deal), posted(*steps, reason="Re-plan"), **HTMX)
        assert response.status_code == 200, words(response)


# On the desk ----------------------------------------------------------------------------------


def detail(client, deal, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(reverse("deal_detail", args=[deal.pk]) + (f"?{query}" if query else ""))


def test_the_desk_shows_the_next_planned_step_and_the_target(client, owner, deal):
    planned(deal)
    client.force_login(owner)
    text = words(detail(client, deal))
    assert "Next planned step Price discount: $500.00, 5% off the licence." in text
    assert "Ask for: A three-year term." in text
    assert "Log this step" in text
    # Net 10,000 against a target of 9,400.
    assert "$600.00 above your target." in text


def test_log_this_step_fills_the_concession_form(client, owner, deal):
    planned(deal)
    step = PlanStep.objects.get(deal=deal, position=1)
    client.force_login(owner)
    response = detail(client, deal, step=step.pk)
    body = page(response)
    assert 'name="amount"' in body and 'value="500.00"' in body
    assert f'name="plan_step" value="{step.pk}"' in body
    htmx = client.get(f"/deals/{deal.pk}/?step={step.pk}", **HTMX)
    assert_fragment(htmx)
    assert page(htmx).lstrip().startswith('<form id="concession-form"')


def test_a_give_following_a_step_moves_the_next_step_on(client, owner, deal):
    planned(deal)
    step = PlanStep.objects.get(deal=deal, position=1)
    client.force_login(owner)
    response = client.post(
        f"/deals/{deal.pk}/concessions/",
        {
            "kind": "price_discount",
            "amount": "500",
            "description": "5% off the licence",
            "got_in_return": "A three-year term",
            "plan_step": str(step.pk),
            "form_key": "k1",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert Concession.objects.get(deal=deal).plan_step == step
    text = words(response)
    assert "Next planned step Free service: $300.00" in text
    assert "Plan against actual: 1 of 3 planned steps given" in text
    assert "Off plan" not in text


def test_an_off_plan_give_is_marked_and_coached(client, owner, deal, give):
    planned(deal)
    give(deal, "650", got="")
    client.force_login(owner)
    text = words(detail(client, deal))
    assert "Off plan" in text
    assert "That give was off plan." in text
    assert "bigger than the planned step" in text
    assert "$50.00 below your target." in text
    assert "The net is now below your target." in text


def test_a_planned_get_not_asked_for_is_coached(client, owner, deal):
    planned(deal)
    step = PlanStep.objects.get(deal=deal, position=1)
    services.concession_log(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("500"),
        description="5% off",
        got_in_return="",
        plan_step=step.pk,
    )
    client.force_login(owner)
    assert "You planned to ask for this in return: A three-year term" in words(detail(client, deal))


def test_the_waterfall_draws_the_plan_and_the_target(client, owner, deal):
    planned(deal)
    client.force_login(owner)
    body = page(detail(client, deal))
    assert re.search(r'<polyline class="plan-line" points="[\d. ,]+"', body)
    assert "<tspan" in body and ">Target</tspan>" in body and ">$9,400.00</tspan>" in body
    assert "Plan: 3 steps totalling $900.00, to a planned net of $9,100.00." in body


def test_a_deal_without_a_plan_shows_no_plan_prompts_in_the_way(client, owner, deal, give):
    give(deal, "100")
    client.force_login(owner)
    text = words(detail(client, deal))
    assert "Next planned step" not in text
    assert "Off plan" not in text
    assert "above your target" not in text
    assert "Log concession" in text


def test_a_teammate_manager_sees_the_plan_and_plan_against_actual(client, manager, deal, give):
    planned(deal)
    give(deal, "200")
    client.force_login(manager)
    text = words(detail(client, deal))
    assert "Plan against actual: 0 of 3 planned steps given" in text


def test_the_approval_card_shows_plan_against_actual_as_it_stood_when_asked(
    client, owner, manager, deal
):
    planned(deal)
    first = PlanStep.objects.get(deal=deal, position=1)
    services.concession_log(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("650"),
        description="More than planned",
        plan_step=first.pk,
    )
    services.exception_request(
        deal=deal, user=owner, kind="other", amount=Decimal("400"), description="Extra"
    )
    # What happens after the request does not change what the card says was true then.
    services.plan_save(
        deal=deal,
        user=owner,
        steps=[StepInput(kind=k, amount=a, give=g, ask=q) for k, a, g, q in LADDER[:1]],
        reason="Fewer steps",
    )
    client.force_login(manager)
    text = words(client.get(reverse("approvals")))
    assert (
        "Plan against actual when asked: 1 of 3 planned steps given; conceded $650.00 against "
        "$500.00 planned for those steps ($150.00 more than planned). The whole plan concedes "
        "$900.00."
    ) in text


def test_the_dashboard_shows_how_each_rep_plans(client, owner, teammate, manager, make_deal, give):
    planned_deal = make_deal(title="Planned")
    planned(planned_deal)
    first = PlanStep.objects.get(deal=planned_deal, position=1)
    services.concession_log(
        deal=planned_deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("500"),
        description="Step one",
        got_in_return="A three-year term",
        plan_step=first.pk,
    )
    give(planned_deal, "50")  # off plan
    services.deal_win(deal=planned_deal, user=owner, final_price="9870")  # target 9,400: +5%
    make_deal(title="Unplanned")
    client.force_login(manager)
    text = words(client.get(reverse("dashboard")))
    planning = text[text.index("Planning, per rep") :]
    assert "olivia 50% (1 of 2) 50% (1 of 2) +5% (1 won)" in planning
