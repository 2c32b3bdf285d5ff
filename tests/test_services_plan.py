"""services.plan_save and the plan's place in the ledger (DOMAIN.md, "The plan")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals import services
from deals.models import Concession, DealEvent, PlanStep
from deals.services import StepInput

D = Decimal


def ladder(*amounts: str) -> list[StepInput]:
    return [
        StepInput(kind="price_discount", amount=a, give=f"Discount {a}", ask=f"Ask {a}")
        for a in amounts
    ]


def plan(deal, *amounts: str, user=None, **extra):
    return services.plan_save(deal=deal, user=user or deal.owner, steps=ladder(*amounts), **extra)


def test_the_owner_plans_a_deal_with_target_alternative_and_asks(deal):
    result = plan(
        deal,
        "400",
        "250",
        "100",
        target_price="9500",
        best_alternative="Sell the slot to Acme",
        things_to_ask="A 3-year term\n\n A case study ",
    )
    assert result.changed and not result.check.refused
    deal.refresh_from_db()
    assert deal.target_price == D("9500.00")
    assert deal.best_alternative == "Sell the slot to Acme"
    assert deal.things_to_ask == "A 3-year term\nA case study"
    steps = list(PlanStep.objects.filter(deal=deal))
    assert [(s.position, s.amount, s.ask) for s in steps] == [
        (1, D("400.00"), "Ask 400"),
        (2, D("250.00"), "Ask 250"),
        (3, D("100.00"), "Ask 100"),
    ]
    event = DealEvent.objects.get(deal=deal, kind=DealEvent.Kind.PLAN_CHANGED)
    assert "3 steps totalling $750.00, planned net $9,250.00, target $9,500.00" in event.summary
    assert event.data["new"]["steps"][0] == {
        "kind": "price_discount",
        "amount": "400.00",
        "give": "Discount 400",
        "ask": "Ask 400",
    }


def test_a_plan_below_the_floor_is_refused_and_nothing_is_stored(deal):
    with pytest.raises(services.InvalidValue, match=r"\$100\.00 below your walk-away floor"):
        plan(deal, "600", "500")
    assert not PlanStep.objects.exists()
    assert not DealEvent.objects.filter(kind=DealEvent.Kind.PLAN_CHANGED).exists()


def test_a_plan_below_the_target_or_with_growing_steps_is_saved_and_says_so(deal):
    result = plan(deal, "300", "400", target_price="9800")
    assert result.changed
    assert result.check.below_target_by == D("500.00")
    assert result.check.not_shrinking == (2,)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (StepInput(kind="bribe", amount="10", give="x", ask="y"), "Step 1: choose a kind"),
        (StepInput(kind="other", amount="0", give="x", ask="y"), "Step 1:"),
        (StepInput(kind="other", amount="10", give="", ask="y"), "what you would give"),
        (StepInput(kind="other", amount="10", give="x", ask=" "), "what you ask in return"),
    ],
)
def test_each_step_needs_a_kind_an_amount_a_give_and_a_get(deal, step, message):
    with pytest.raises(services.InvalidValue, match=message):
        services.plan_save(deal=deal, user=deal.owner, steps=[step])
    assert not PlanStep.objects.exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [("9000", "target price"), ("10000.01", "target price"), ("-5", "positive amount")],
)
def test_a_target_outside_floor_and_opening_is_refused(deal, target, message):
    with pytest.raises(services.InvalidValue, match=message):
        plan(deal, "100", target_price=target)


def test_the_opening_price_is_a_valid_target(deal):
    plan(deal, "100", target_price="10000")
    deal.refresh_from_db()
    assert deal.target_price == D("10000.00")


def test_until_the_first_concession_the_plan_changes_freely(deal):
    plan(deal, "400")
    plan(deal, "300", "200")
    assert list(PlanStep.objects.values_list("amount", flat=True)) == [D("300.00"), D("200.00")]


def test_after_the_first_concession_a_change_needs_a_reason_kept_with_old_and_new(deal, give):
    plan(deal, "400", "200")
    give(deal, "400")
    with pytest.raises(services.InvalidValue, match="Reason for the change is required"):
        plan(deal, "400", "150")
    plan(deal, "400", "150", reason="Customer asked for less")
    event = DealEvent.objects.filter(kind=DealEvent.Kind.PLAN_CHANGED).latest("id")
    assert "Plan revised" in event.summary and "Customer asked for less" in event.summary
    assert event.data["old"]["steps"][1]["amount"] == "200.00"
    assert event.data["new"]["steps"][1]["amount"] == "150.00"
    assert event.data["reason"] == "Customer asked for less"


def test_saving_the_same_plan_again_changes_nothing(deal):
    plan(deal, "400", target_price="9500")
    again = plan(deal, "400", target_price="9500")
    assert not again.changed
    assert DealEvent.objects.filter(kind=DealEvent.Kind.PLAN_CHANGED).count() == 1


def test_a_step_already_given_cannot_be_removed(deal):
    plan(deal, "400", "200")
    second = PlanStep.objects.get(position=2)
    services.concession_log(
        deal=deal,
        user=deal.owner,
        kind="price_discount",
        amount="200",
        description="Second step first",
        plan_step=second.pk,
    )
    with pytest.raises(services.InvalidValue, match="Step 2 has been given already"):
        plan(deal, "400", reason="Shorter")
    assert PlanStep.objects.count() == 2


def test_a_give_follows_a_planned_step_once(deal):
    plan(deal, "400", "200")
    first = PlanStep.objects.get(position=1)
    result = services.concession_log(
        deal=deal,
        user=deal.owner,
        kind="price_discount",
        amount="400",
        description="Step one",
        plan_step=first.pk,
    )
    assert result.concession.plan_step == first
    with pytest.raises(services.InvalidValue, match="given already"):
        services.concession_log(
            deal=deal,
            user=deal.owner,
            kind="price_discount",
            amount="10",
            description="Again",
            plan_step=first.pk,
        )
    # Retracted, the step is open again.
    services.concession_retract(concession=result.concession, user=deal.owner, reason="Typo")
    again = services.concession_log(
        deal=deal,
        user=deal.owner,
        kind="price_discount",
        amount="400",
        description="Step one",
        plan_step=first.pk,
    )
    assert again.created


def test_a_step_of_another_deal_is_refused(deal, make_deal):
    other = make_deal(title="Other")
    plan(other, "100")
    step = PlanStep.objects.get(deal=other)
    with pytest.raises(services.InvalidValue, match="not in this deal's plan"):
        services.concession_log(
            deal=deal,
            user=deal.owner,
            kind="other",
            amount="10",
            description="x",
            plan_step=step.pk,
        )
    assert not Concession.objects.exists()


def test_strangers_cannot_plan(deal, outsider, teammate):
    for person in (outsider, teammate):
        with pytest.raises(services.NotAllowed):
            plan(deal, "100", user=person)


def test_a_manager_may_plan_the_teams_deal(deal, manager):
    assert plan(deal, "100", user=manager).changed


def test_a_closed_deal_cannot_be_planned(deal):
    services.deal_lose(deal=deal, user=deal.owner, reason="price")
    with pytest.raises(services.DealClosed):
        plan(deal, "100")


def test_an_exception_request_keeps_plan_against_actual_as_it_stood(deal, give):
    plan(deal, "600", "300")
    first = PlanStep.objects.get(position=1)
    services.concession_log(
        deal=deal,
        user=deal.owner,
        kind="price_discount",
        amount="700",
        description="Bigger than planned",
        plan_step=first.pk,
    )
    request = services.exception_request(
        deal=deal, user=deal.owner, kind="other", amount="400", description="More"
    )
    assert request.plan_at_request == {
        "steps": 2,
        "reached": 1,
        "planned_total": "900.00",
        "planned_reached": "600.00",
        "conceded": "700.00",
        "ahead_of_plan": "100.00",
        "next_amount": "300.00",
    }


def test_a_deal_without_a_plan_asks_without_a_snapshot(deal, give):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=deal.owner, kind="other", amount="400", description="More"
    )
    assert request.plan_at_request is None


def test_a_deal_is_created_with_a_target_and_best_alternative(make_deal):
    deal = make_deal(target_price="9600", best_alternative="Walk to the next bidder")
    assert deal.target_price == D("9600.00")
    assert deal.best_alternative == "Walk to the next bidder"
    with pytest.raises(services.InvalidValue, match="target price"):
        make_deal(target_price="8000")
