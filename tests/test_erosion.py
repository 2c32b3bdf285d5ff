"""The margin-erosion service (DOMAIN.md, Levels): pure Decimal arithmetic, checked against an
independent oracle (exact fractions) and against the worked examples people reason with."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deals import erosion
from deals.erosion import (
    GIVE_STREAK,
    LEVEL_RANK,
    NOT_SHRINKING,
    Give,
    Level,
    Thresholds,
    assess,
    fits,
    margin,
    nudges,
    preview,
    shortfall,
)

DEFAULT = Thresholds()
PURE = settings(max_examples=200, deadline=None)

# Money as the app stores it: whole cents, up to a billion so every product stays well inside
# Decimal's 28 significant digits.
cents = st.integers(min_value=1, max_value=10**11).map(lambda c: Decimal(c).scaleb(-2))
cents_or_zero = st.integers(min_value=0, max_value=10**11).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def deals(draw):
    """(opening price, floor) with room > 0."""
    floor = draw(cents_or_zero)
    room = draw(cents)
    return floor + room, floor


@st.composite
def thresholds(draw):
    """Any caution < danger strictly between 0 and 100, with up to two decimal places."""
    caution = draw(st.integers(min_value=1, max_value=9998))
    danger = draw(st.integers(min_value=caution + 1, max_value=9999))
    return Thresholds(
        caution_at=Decimal(caution).scaleb(-2),
        danger_at=Decimal(danger).scaleb(-2),
        give_streak=draw(st.integers(min_value=1, max_value=5)),
    )


def oracle_level(conceded: Decimal, room: Decimal, t: Thresholds) -> Level:
    """The level table of DOMAIN.md, on exact rationals."""
    used = Fraction(conceded) * 100 / Fraction(room)
    if used > 100:
        return Level.BELOW_FLOOR
    if used == 100:
        return Level.AT_FLOOR
    if used >= Fraction(t.danger_at):
        return Level.DANGER
    if used >= Fraction(t.caution_at):
        return Level.CAUTION
    return Level.ON_TRACK


def standard(conceded: str) -> erosion.Assessment:
    """The deal of the examples: opening 10,000, floor 9,000, so 1,000 of room."""
    return assess(
        opening_price=Decimal("10000.00"),
        floor=Decimal("9000.00"),
        conceded=Decimal(conceded),
        thresholds=DEFAULT,
    )


# Properties ---------------------------------------------------------------------------------


@PURE
@given(deal=deals(), a=cents_or_zero, b=cents_or_zero)
def test_room_used_grows_with_conceded_and_the_level_never_improves(deal, a, b):
    opening, floor = deal
    low, high = sorted((a, b))
    before = assess(opening_price=opening, floor=floor, conceded=low, thresholds=DEFAULT)
    after = assess(opening_price=opening, floor=floor, conceded=high, thresholds=DEFAULT)
    if high > low:
        assert after.room_used > before.room_used
        assert after.remaining < before.remaining
    else:
        assert after.room_used == before.room_used
    assert LEVEL_RANK[after.level] >= LEVEL_RANK[before.level]


@PURE
@given(deal=deals(), conceded=cents_or_zero, t=thresholds())
def test_the_level_is_the_exact_share_of_room_used(deal, conceded, t):
    opening, floor = deal
    result = assess(opening_price=opening, floor=floor, conceded=conceded, thresholds=t)
    assert result.level == oracle_level(conceded, opening - floor, t)


@PURE
@given(floor=cents_or_zero, dollars=st.integers(min_value=1, max_value=10**9))
def test_each_threshold_is_reached_exactly_and_a_cent_less_is_not(floor, dollars):
    # Whole-dollar room: 50%, 80% and 100% of it are whole cents, so the boundary is reachable.
    room = Decimal(dollars)
    opening = floor + room
    cent = Decimal("0.01")

    def level_at(conceded):
        return assess(
            opening_price=opening, floor=floor, conceded=conceded, thresholds=DEFAULT
        ).level

    half, four_fifths = room * Decimal("0.5"), room * Decimal("0.8")
    assert level_at(half - cent) == Level.ON_TRACK
    assert level_at(half) == Level.CAUTION
    assert level_at(four_fifths - cent) == Level.CAUTION
    assert level_at(four_fifths) == Level.DANGER
    assert level_at(room - cent) == Level.DANGER
    assert level_at(room) == Level.AT_FLOOR
    assert level_at(room + cent) == Level.BELOW_FLOOR


@PURE
@given(deal=deals(), conceded=cents_or_zero, amount=cents, t=thresholds())
def test_the_preview_is_the_assessment_after_conceding_the_amount(deal, conceded, amount, t):
    opening, floor = deal
    what_if = preview(
        opening_price=opening, floor=floor, conceded=conceded, amount=amount, thresholds=t
    )
    actual = assess(opening_price=opening, floor=floor, conceded=conceded + amount, thresholds=t)
    assert what_if == actual


@PURE
@given(deal=deals(), conceded=cents_or_zero, amount=cents)
def test_no_float_ever_appears_in_an_assessment(deal, conceded, amount):
    opening, floor = deal
    for result in (
        assess(opening_price=opening, floor=floor, conceded=conceded, thresholds=DEFAULT),
        preview(
            opening_price=opening,
            floor=floor,
            conceded=conceded,
            amount=amount,
            thresholds=DEFAULT,
        ),
    ):
        for field in dataclasses.fields(result):
            value = getattr(result, field.name)
            if field.name == "level":
                assert isinstance(value, Level)
            else:
                assert type(value) is Decimal, (field.name, type(value))
        assert type(result.shortfall) is Decimal
        assert type(result.room_used_whole) is int


@PURE
@given(deal=deals(), conceded=cents_or_zero, amount=cents)
def test_an_amount_fits_exactly_when_it_leaves_no_shortfall(deal, conceded, amount):
    opening, floor = deal
    args = {"opening_price": opening, "floor": floor, "conceded": conceded, "amount": amount}
    short = shortfall(**args)
    assert type(short) is Decimal
    assert fits(**args) == (short == 0)
    after = preview(**args, thresholds=DEFAULT)
    # What the refusal reports is how far below the floor the deal would have gone.
    assert after.shortfall == short
    assert after.net == opening - conceded - amount


# Worked examples: opening 10,000, floor 9,000 --------------------------------------------------


@pytest.mark.parametrize(
    ("conceded", "level", "room_used", "remaining"),
    [
        ("0", Level.ON_TRACK, "0", "1000"),
        ("499.99", Level.ON_TRACK, "49.999", "500.01"),
        ("500", Level.CAUTION, "50", "500"),
        ("799.99", Level.CAUTION, "79.999", "200.01"),
        ("800", Level.DANGER, "80", "200"),
        ("999.99", Level.DANGER, "99.999", "0.01"),
        ("1000", Level.AT_FLOOR, "100", "0"),
        ("1000.01", Level.BELOW_FLOOR, "100.001", "-0.01"),
    ],
)
def test_the_worked_examples_land_on_their_levels(conceded, level, room_used, remaining):
    result = standard(conceded)
    assert result.level == level
    assert result.room == Decimal(1000)
    assert result.room_used == Decimal(room_used)
    assert result.remaining == Decimal(remaining)
    assert result.net == Decimal(10000) - Decimal(conceded)


def test_rounding_for_display_never_moves_the_level():
    # 49.999% shows as 50% but is still On track: only the exact Decimal decides.
    result = standard("499.99")
    assert result.room_used_whole == 50
    assert erosion.format_percent(result.room_used) == "50%"
    assert result.level == Level.ON_TRACK


def test_below_the_floor_the_shortfall_is_how_far_under_it_the_net_sits():
    assert standard("1000.01").shortfall == Decimal("0.01")
    assert standard("1250").shortfall == Decimal("250")
    assert standard("1000").shortfall == 0


def test_the_last_cent_of_room_fits_and_one_more_does_not():
    args = {
        "opening_price": Decimal("10000.00"),
        "floor": Decimal("9000.00"),
        "conceded": Decimal("600.00"),
    }
    assert fits(**args, amount=Decimal("400.00"))
    assert shortfall(**args, amount=Decimal("400.00")) == 0
    assert not fits(**args, amount=Decimal("400.01"))
    assert shortfall(**args, amount=Decimal("400.01")) == Decimal("0.01")


def test_it_refuses_a_deal_without_room():
    with pytest.raises(ValueError, match="room must be positive"):
        assess(
            opening_price=Decimal("100.00"),
            floor=Decimal("100.00"),
            conceded=Decimal(0),
            thresholds=DEFAULT,
        )


def test_thresholds_come_from_settings_when_not_given(settings):
    settings.WALKAWAY_CAUTION_AT = Decimal(40)
    settings.WALKAWAY_DANGER_AT = Decimal(60)
    deal = {"opening_price": Decimal("10000.00"), "floor": Decimal("9000.00")}
    assert assess(**deal, conceded=Decimal("399.99")).level == Level.ON_TRACK
    assert assess(**deal, conceded=Decimal("400.00")).level == Level.CAUTION
    assert assess(**deal, conceded=Decimal("600.00")).level == Level.DANGER


# Nudges -----------------------------------------------------------------------------------------


def gives(*spec):
    """("100", True) is a give of 100 with a get; ("100", False) one without."""
    return [Give(amount=Decimal(a), has_get=g) for a, g in spec]


def test_three_gives_without_a_get_in_a_row_earn_the_give_streak_nudge():
    # Shrinking amounts, so only the streak speaks.
    found = nudges(gives(("300", False), ("200", False), ("100", False)), DEFAULT)
    assert found == [GIVE_STREAK]
    assert GIVE_STREAK.message == "Trade, don't give: ask for something back."


@pytest.mark.parametrize(
    "history",
    [
        [("300", False), ("200", False)],
        [("300", False), ("200", True), ("100", False)],
        [("300", False), ("200", False), ("100", True)],
        [("400", False), ("300", False), ("200", False), ("100", True)],
    ],
    ids=["only-two", "get-in-the-middle", "last-had-a-get", "streak-broken-at-the-end"],
)
def test_no_give_streak_unless_the_last_three_all_lack_a_get(history):
    assert GIVE_STREAK not in nudges(gives(*history), DEFAULT)


def test_the_give_streak_counts_only_the_most_recent_gives():
    history = gives(("500", True), ("400", False), ("300", False), ("200", False))
    assert GIVE_STREAK in nudges(history, DEFAULT)


def test_the_give_streak_length_is_a_setting():
    history = gives(("300", True), ("200", False), ("100", False))
    assert GIVE_STREAK not in nudges(history, DEFAULT)
    assert GIVE_STREAK in nudges(history, Thresholds(give_streak=2))


@pytest.mark.parametrize(
    "amounts",
    [("100", "200", "300"), ("100", "100", "100"), ("100", "200", "200"), ("50", "100", "100")],
    ids=["growing", "equal", "growing-then-equal", "doubling-then-equal"],
)
def test_concessions_that_do_not_shrink_earn_the_not_shrinking_nudge(amounts):
    found = nudges(gives(*[(a, True) for a in amounts]), DEFAULT)
    assert found == [NOT_SHRINKING]


@pytest.mark.parametrize(
    "amounts",
    [
        ("300", "200", "100"),
        ("100", "200", "150"),
        ("200", "100", "100"),
        ("100", "200"),
        ("100",),
        (),
    ],
    ids=["shrinking", "grew-then-shrank", "shrank-then-equal", "only-two", "only-one", "none"],
)
def test_no_not_shrinking_nudge_for_counter_examples(amounts):
    assert NOT_SHRINKING not in nudges(gives(*[(a, True) for a in amounts]), DEFAULT)


def test_only_the_last_three_concessions_decide_not_shrinking():
    history = gives(("900", True), ("100", True), ("200", True), ("300", True))
    assert NOT_SHRINKING in nudges(history, DEFAULT)
    history = gives(("100", True), ("200", True), ("300", True), ("50", True))
    assert NOT_SHRINKING not in nudges(history, DEFAULT)


def test_both_nudges_can_speak_at_once():
    history = gives(("100", False), ("100", False), ("100", False))
    assert nudges(history, DEFAULT) == [GIVE_STREAK, NOT_SHRINKING]


@PURE
@given(
    history=st.lists(
        st.tuples(st.integers(min_value=1, max_value=10**6), st.booleans()), max_size=8
    )
)
def test_nudges_follow_their_definitions_for_any_history(history):
    found = nudges([Give(amount=Decimal(a), has_get=g) for a, g in history], DEFAULT)
    last_three = history[-3:]
    streak = len(last_three) == 3 and all(not g for _, g in last_three)
    steps = [a for a, _ in last_three]
    growing = len(steps) == 3 and steps[0] <= steps[1] <= steps[2]
    assert (GIVE_STREAK in found) == streak
    assert (NOT_SHRINKING in found) == growing


# Margin -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "cost", "expected"),
    [
        ("10000", "7000", "30"),
        ("9000", "7000", "22.22222222222222222222222222"),
        ("8000", "8000", "0"),
        ("1000", "1500", "-50"),
        ("10000", "0", "100"),
    ],
)
def test_margin_is_net_less_cost_over_net(net, cost, expected):
    result = margin(Decimal(net), Decimal(cost))
    assert type(result) is Decimal
    assert result == Decimal(expected)


def test_margin_is_unknown_without_a_cost_or_a_positive_net():
    assert margin(Decimal("10000"), None) is None
    assert margin(Decimal("0"), Decimal("100")) is None
    assert margin(Decimal("-5"), Decimal("100")) is None


def test_percentages_are_rounded_half_up_for_display_only():
    assert erosion.format_percent(Decimal("49.5")) == "50%"
    assert erosion.format_percent(Decimal("49.49")) == "49%"
    assert erosion.format_percent(Decimal("100.001")) == "100%"
