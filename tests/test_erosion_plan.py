"""The plan's numbers (erosion.py, "The plan"): pure Decimal, no database."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from deals import erosion
from deals.erosion import LastGive, PlannedStep, plan_check, plan_nudges, plan_progress

D = Decimal
amounts = st.lists(
    st.integers(min_value=1, max_value=10**8).map(lambda c: D(c).scaleb(-2)), max_size=12
)


def step(amount: str, *, followed: bool = False, ask: str = "A longer contract") -> PlannedStep:
    return PlannedStep(amount=D(amount), ask=ask, followed=followed)


def test_a_plan_within_the_room_is_not_refused():
    check = plan_check(
        opening_price=D("10000"), floor=D("9000"), target=D("9500"), amounts=[D("300"), D("200")]
    )
    assert check.total == D("500")
    assert check.net_after == D("9500")
    assert not check.refused
    assert check.below_target_by == D("0")


def test_a_plan_that_takes_the_net_below_the_floor_is_refused_by_how_much():
    check = plan_check(
        opening_price=D("10000"), floor=D("9000"), target=None, amounts=[D("600"), D("500.01")]
    )
    assert check.refused
    assert check.below_floor_by == D("100.01")
    assert check.below_target_by is None


def test_a_plan_to_exactly_the_floor_is_allowed():
    check = plan_check(opening_price=D("10000"), floor=D("9000"), target=None, amounts=[D("1000")])
    assert not check.refused


def test_a_plan_below_the_target_is_warned_with_the_gap():
    check = plan_check(
        opening_price=D("10000"), floor=D("9000"), target=D("9600"), amounts=[D("500")]
    )
    assert not check.refused
    assert check.below_target_by == D("100")


def test_steps_that_do_not_shrink_are_named_by_position():
    check = plan_check(
        opening_price=D("10000"),
        floor=D("0"),
        target=None,
        amounts=[D("500"), D("300"), D("300"), D("400"), D("100")],
    )
    assert check.not_shrinking == (3, 4)


@given(amounts)
def test_the_planned_net_is_the_opening_price_less_every_step(values):
    check = plan_check(opening_price=D("10000000"), floor=D("0"), target=None, amounts=values)
    assert check.net_after == D("10000000") - sum(values, D(0))
    assert check.refused == (check.net_after < 0)
    assert all(isinstance(v, Decimal) for v in (check.total, check.net_after))


@given(amounts)
def test_a_strictly_shrinking_ladder_is_never_coached(values):
    ladder = sorted(set(values), reverse=True)
    check = plan_check(opening_price=D("10000000"), floor=D("0"), target=None, amounts=ladder)
    assert check.not_shrinking == ()


def test_plan_against_actual_counts_the_steps_reached():
    progress = plan_progress(
        steps=[step("500", followed=True), step("300", followed=True), step("100")],
        conceded=D("900"),
    )
    assert (progress.steps, progress.reached) == (3, 2)
    assert progress.planned_total == D("900")
    assert progress.planned_reached == D("800")
    assert progress.ahead_of_plan == D("100")
    assert progress.next_amount == D("100")
    assert progress.as_data()["ahead_of_plan"] == "100"


@given(st.lists(st.tuples(st.integers(1, 10**6), st.booleans()), max_size=10))
def test_plan_against_actual_adds_up(pairs):
    steps = [PlannedStep(amount=D(a), ask="x", followed=f) for a, f in pairs]
    progress = plan_progress(steps=steps, conceded=D(0))
    assert progress.reached == sum(1 for _, f in pairs if f)
    assert progress.planned_reached == sum((D(a) for a, f in pairs if f), D(0))
    assert progress.planned_total >= progress.planned_reached
    assert progress.ahead_of_plan == -progress.planned_reached


def codes(nudges) -> list[str]:
    return [n.code for n in nudges]


def test_a_give_bigger_than_its_step_is_coached():
    last = LastGive(amount=D("600"), has_get=True, step=step("500"), next_step=None)
    assert codes(plan_nudges(last=last, has_plan=True, net=D("9400"), target=None)) == [
        "bigger_than_planned"
    ]


def test_an_off_plan_give_bigger_than_the_next_step_is_coached_twice():
    last = LastGive(amount=D("400"), has_get=True, step=None, next_step=step("300"))
    assert codes(plan_nudges(last=last, has_plan=True, net=D("9600"), target=None)) == [
        "bigger_than_planned",
        "off_plan",
    ]


def test_a_planned_get_not_asked_for_is_named():
    last = LastGive(
        amount=D("300"), has_get=False, step=step("300", ask="A reference"), next_step=None
    )
    (nudge,) = plan_nudges(last=last, has_plan=True, net=D("9700"), target=None)
    assert nudge.code == "get_not_asked"
    assert "A reference" in nudge.message


def test_the_net_below_the_target_is_coached_even_without_a_plan():
    assert codes(plan_nudges(last=None, has_plan=False, net=D("9499.99"), target=D("9500"))) == [
        "below_target"
    ]
    assert plan_nudges(last=None, has_plan=False, net=D("9500"), target=D("9500")) == []


def test_without_a_plan_no_plan_coaching():
    last = LastGive(amount=D("999"), has_get=False, step=None, next_step=None)
    assert plan_nudges(last=last, has_plan=False, net=D("1"), target=None) == []
    assert erosion.nudges([]) == []
