"""The margin-erosion service: how much room a deal has left, and how worried to be.

Pure functions on Decimal: no database, no floats, no rounding in comparisons. The preview runs
on every keystroke of the amount field, so everything here is cheap and side-effect free.
Percentages are exact Decimals; rounding happens only when a person is shown a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import models

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Level(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    CAUTION = "caution", "Caution"
    DANGER = "danger", "Danger"
    AT_FLOOR = "at_floor", "At your floor"
    BELOW_FLOOR = "below_floor", "Below floor"


# Order of severity, for "entered danger or worse" and peak tracking.
LEVEL_RANK = {
    Level.ON_TRACK: 0,
    Level.CAUTION: 1,
    Level.DANGER: 2,
    Level.AT_FLOOR: 3,
    Level.BELOW_FLOOR: 4,
}
ALERT_LEVELS = frozenset({Level.DANGER, Level.AT_FLOOR})


@dataclass(frozen=True)
class Thresholds:
    caution_at: Decimal = Decimal(50)
    danger_at: Decimal = Decimal(80)
    give_streak: int = 3

    @classmethod
    def from_settings(cls) -> Thresholds:
        from django.conf import settings

        return cls(
            caution_at=settings.WALKAWAY_CAUTION_AT,
            danger_at=settings.WALKAWAY_DANGER_AT,
            give_streak=settings.WALKAWAY_GIVE_STREAK,
        )


@dataclass(frozen=True)
class Assessment:
    """Where a deal stands: everything the gauge and the status region show."""

    opening_price: Decimal
    floor: Decimal
    conceded: Decimal
    room: Decimal
    net: Decimal
    remaining: Decimal
    room_used: Decimal  # exact percent, may exceed 100 below the floor
    level: Level

    @property
    def room_used_whole(self) -> int:
        """Room used rounded for display (the meter's aria-valuenow), never for decisions."""
        return int(self.room_used.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def meter_fill(self) -> Decimal:
        """How much of the gauge to fill: room used held between 0 and 100, for drawing only."""
        return min(max(self.room_used, ZERO), HUNDRED).quantize(Decimal("0.1"))

    @property
    def shortfall(self) -> Decimal:
        """How far below the floor the net sits (0 when at or above it)."""
        return max(-self.remaining, ZERO)


def room(opening_price: Decimal, floor: Decimal) -> Decimal:
    return opening_price - floor


def net(opening_price: Decimal, conceded: Decimal) -> Decimal:
    return opening_price - conceded


def remaining(opening_price: Decimal, floor: Decimal, conceded: Decimal) -> Decimal:
    return net(opening_price, conceded) - floor


def room_used(conceded: Decimal, room_: Decimal) -> Decimal:
    if room_ <= 0:
        raise ValueError("room must be positive: the floor is below the opening price")
    return conceded * HUNDRED / room_


def level(conceded: Decimal, room_: Decimal, thresholds: Thresholds | None = None) -> Level:
    """The level, compared on exact products so that 50% is Caution and 49.999...% is not."""
    t = thresholds or Thresholds.from_settings()
    scaled = conceded * HUNDRED
    if conceded > room_:
        return Level.BELOW_FLOOR
    if conceded == room_:
        return Level.AT_FLOOR
    if scaled >= t.danger_at * room_:
        return Level.DANGER
    if scaled >= t.caution_at * room_:
        return Level.CAUTION
    return Level.ON_TRACK


def assess(
    *,
    opening_price: Decimal,
    floor: Decimal,
    conceded: Decimal,
    thresholds: Thresholds | None = None,
) -> Assessment:
    room_ = room(opening_price, floor)
    return Assessment(
        opening_price=opening_price,
        floor=floor,
        conceded=conceded,
        room=room_,
        net=net(opening_price, conceded),
        remaining=remaining(opening_price, floor, conceded),
        room_used=room_used(conceded, room_),
        level=level(conceded, room_, thresholds),
    )


def preview(
    *,
    opening_price: Decimal,
    floor: Decimal,
    conceded: Decimal,
    amount: Decimal,
    thresholds: Thresholds | None = None,
) -> Assessment:
    """What the deal would look like after conceding `amount` more (the "what if")."""
    return assess(
        opening_price=opening_price,
        floor=floor,
        conceded=conceded + amount,
        thresholds=thresholds,
    )


def fits(*, opening_price: Decimal, floor: Decimal, conceded: Decimal, amount: Decimal) -> bool:
    """Rule 3: a concession may use up to, and including, all the remaining room."""
    return amount <= remaining(opening_price, floor, conceded)


def shortfall(
    *, opening_price: Decimal, floor: Decimal, conceded: Decimal, amount: Decimal
) -> Decimal:
    """How far below the floor `amount` would take the deal (0 when it fits)."""
    return max(amount - remaining(opening_price, floor, conceded), ZERO)


def margin(net_: Decimal, cost: Decimal | None) -> Decimal | None:
    """(net - cost) / net as a percent; None when cost is unknown or net is not positive."""
    if cost is None or net_ <= 0:
        return None
    return (net_ - cost) * HUNDRED / net_


# Coaching nudges --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Give:
    """One concession as the coach sees it: what it cost and whether something came back."""

    amount: Decimal
    has_get: bool


@dataclass(frozen=True)
class Nudge:
    code: str
    message: str


GIVE_STREAK = Nudge("give_streak", "Trade, don't give: ask for something back.")
NOT_SHRINKING = Nudge(
    "not_shrinking",
    "Your concessions aren't getting smaller; that tells the customer there is more room.",
)


def nudges(gives: Sequence[Give], thresholds: Thresholds | None = None) -> list[Nudge]:
    """Coaching for the gives in the order they were made (oldest first).

    Give streak: the last N gives all came with nothing in return.
    Not shrinking: each of the last two gives was at least as large as the one before it, which
    tells the customer there is more where that came from.
    """
    t = thresholds or Thresholds.from_settings()
    found: list[Nudge] = []
    streak = list(gives[-t.give_streak :])
    if len(streak) == t.give_streak and not any(g.has_get for g in streak):
        found.append(GIVE_STREAK)
    if len(gives) >= 3:
        a, b, c = (g.amount for g in gives[-3:])
        if b >= a and c >= b:
            found.append(NOT_SHRINKING)
    return found


def format_percent(value: Decimal) -> str:
    """Room used for people: whole percent, half up. Display only."""
    return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


# The plan ---------------------------------------------------------------------------------------
# A ladder of planned gives, each with the get to ask for, prepared before the negotiation and
# compared with what was given, live. Pure functions: the services refuse and record, the desk
# shows.


@dataclass(frozen=True)
class PlanCheck:
    """What a plan would do to the deal if every step were given."""

    total: Decimal
    net_after: Decimal
    # How far the planned net falls below the floor: more than 0 and the plan is refused.
    below_floor_by: Decimal
    # How far it falls below the target (0 when at or above it, None without a target): warned.
    below_target_by: Decimal | None
    # 1-based positions of steps not smaller than the one before: coached. Equal or growing
    # steps tell the customer there is more room; shrinking ones signal a limit.
    not_shrinking: tuple[int, ...]

    @property
    def refused(self) -> bool:
        return self.below_floor_by > 0


def plan_check(
    *, opening_price: Decimal, floor: Decimal, target: Decimal | None, amounts: Sequence[Decimal]
) -> PlanCheck:
    total = sum(amounts, ZERO)
    net_after = opening_price - total
    return PlanCheck(
        total=total,
        net_after=net_after,
        below_floor_by=max(floor - net_after, ZERO),
        below_target_by=None if target is None else max(target - net_after, ZERO),
        not_shrinking=tuple(i + 1 for i in range(1, len(amounts)) if amounts[i] >= amounts[i - 1]),
    )


@dataclass(frozen=True)
class PlannedStep:
    """A step of the plan as the coach sees it: its amount, the get to ask for, and whether a
    give that still stands has followed it."""

    amount: Decimal
    ask: str
    followed: bool


@dataclass(frozen=True)
class PlanProgress:
    """Plan against actual: conceded so far against the planned total of the steps reached."""

    steps: int
    reached: int
    planned_total: Decimal
    planned_reached: Decimal
    conceded: Decimal
    # conceded - planned_reached: above 0, more has been given than the plan had by now.
    ahead_of_plan: Decimal
    next_amount: Decimal | None

    @classmethod
    def from_data(cls, data: dict) -> PlanProgress:
        def money(name: str) -> Decimal | None:
            return None if data.get(name) is None else Decimal(data[name])

        return cls(
            steps=int(data["steps"]),
            reached=int(data["reached"]),
            planned_total=money("planned_total"),
            planned_reached=money("planned_reached"),
            conceded=money("conceded"),
            ahead_of_plan=money("ahead_of_plan"),
            next_amount=money("next_amount"),
        )

    def as_data(self) -> dict[str, str | int | None]:
        """Strings for money, as an event or a snapshot keeps it (never floats)."""
        return {
            "steps": self.steps,
            "reached": self.reached,
            "planned_total": str(self.planned_total),
            "planned_reached": str(self.planned_reached),
            "conceded": str(self.conceded),
            "ahead_of_plan": str(self.ahead_of_plan),
            "next_amount": None if self.next_amount is None else str(self.next_amount),
        }


def plan_progress(*, steps: Sequence[PlannedStep], conceded: Decimal) -> PlanProgress:
    reached = [s for s in steps if s.followed]
    planned_reached = sum((s.amount for s in reached), ZERO)
    upcoming = next((s for s in steps if not s.followed), None)
    return PlanProgress(
        steps=len(steps),
        reached=len(reached),
        planned_total=sum((s.amount for s in steps), ZERO),
        planned_reached=planned_reached,
        conceded=conceded,
        ahead_of_plan=conceded - planned_reached,
        next_amount=None if upcoming is None else upcoming.amount,
    )


@dataclass(frozen=True)
class LastGive:
    """The latest give that still stands, for the plan's coaching."""

    amount: Decimal
    has_get: bool
    # The step it followed (None: off plan), and the step that came next when it was made.
    step: PlannedStep | None
    next_step: PlannedStep | None


def plan_nudges(
    *, last: LastGive | None, has_plan: bool, net: Decimal, target: Decimal | None
) -> list[Nudge]:
    """Coaching against the plan: a give bigger than its planned step, a give off plan, a
    planned get not asked for, the net below the target."""
    found: list[Nudge] = []
    if has_plan and last is not None:
        planned = last.step or last.next_step
        if planned is not None and last.amount > planned.amount:
            found.append(
                Nudge(
                    "bigger_than_planned",
                    "That give was bigger than the planned step; bigger steps tell the "
                    "customer there is more room.",
                )
            )
        if last.step is None:
            found.append(Nudge("off_plan", "That give was off plan. Go back to your ladder."))
        elif not last.has_get and last.step.ask:
            found.append(
                Nudge("get_not_asked", f"You planned to ask for this in return: {last.step.ask}")
            )
    if target is not None and net < target:
        found.append(Nudge("below_target", "The net is now below your target."))
    return found
