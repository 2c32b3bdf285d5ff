"""The waterfall chart, drawn on the server as SVG from Decimal values.

No chart library and no float: coordinates are Decimals rounded to a tenth of a unit for the
SVG, labels are money formatted from the exact amounts. A deal with hundreds of concessions
still draws a readable chart on a phone: only the most recent steps are drawn one by one, the
earlier ones as a single "earlier" step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from .models import Concession, Deal
from .money import format_money

# The chart's own units. About as wide as it is drawn on a laptop's desk column (380 px) and
# on a phone (310 px), so that its text reads at close to the size it is set in (issue 13, 8).
WIDTH = Decimal(360)
HEIGHT = Decimal(250)
TOP = Decimal(28)
# Room below the bars for the step names, drawn slanted so that none overlaps its neighbour.
BOTTOM = Decimal(66)
SIDE = Decimal(8)
# Room right of the bars for the floor's and the target's labels, so that no bar hides them.
GUTTER = Decimal(92)
# A step's name under its bar: short enough to stay clear of the next one at 375 px.
STEP_NAMES = {
    "price_discount": "Discount",
    "free_product": "Product",
    "free_service": "Service",
    "payment_terms": "Terms",
    "contract_terms": "Contract",
    "other": "Other",
}
MAX_STEPS = 8
BAR_SHARE = Decimal("0.7")
TENTH = Decimal("0.1")
# The value labels' font size (walkaway.css, .waterfall text) and a generous average glyph
# width for it: enough to keep a label clear of the bars it spans without measuring text.
VALUE_FONT = Decimal(15)
GLYPH = Decimal("0.62")


def _c(value: Decimal) -> str:
    """An SVG coordinate: a tenth of a unit is finer than any screen shows."""
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Bar:
    x: str
    y: str
    width: str
    height: str
    label_x: str
    kind: str  # "total", "give", "take-back"
    axis_label: str
    value_label: str
    title: str
    # Where the value label is drawn: above every bar it spans, inside the plot.
    value_x: str = ""
    value_y: str = ""
    value_anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    width: str
    height: str
    bars: list[Bar]
    floor_y: str
    floor_label: str
    floor_label_x: str
    floor_label_y: str
    description: str
    axis_y: str = ""
    floor_amount: str = ""
    target_amount: str = ""
    # The plan beside the actual steps: the net after each planned step, as SVG points, and
    # the target as a line (both empty without them).
    plan_points: str = ""
    target_y: str = ""
    target_label: str = ""
    target_label_y: str = ""


def waterfall(
    deal: Deal,
    concessions: Sequence[Concession],
    *,
    total_count: int | None = None,
    plan: Sequence[Decimal] = (),
) -> Chart:
    """`concessions`: the most recent entries of the ledger, oldest first (retractions step back
    up). `total_count` is the size of the whole ledger; whatever came before the given entries
    is drawn as one "Earlier" step, worth the deal's running total minus the entries given.
    `plan`: the planned steps' amounts, in order, drawn as the net each would leave."""
    total_count = len(concessions) if total_count is None else total_count
    steps: list[tuple[str, Decimal, str]] = []  # (axis label, amount, title)
    recent = list(concessions[-MAX_STEPS:])
    earlier_count = total_count - len(recent)
    if earlier_count > 0:
        total = deal.conceded - sum((c.amount for c in recent), Decimal(0))
        entries = "entry" if earlier_count == 1 else "entries"
        title = f"{earlier_count} earlier {entries}: {_money(deal, total)}"
        steps.append(("Earlier", total, title))
    first_number = earlier_count + 1
    for offset, c in enumerate(recent):
        verb = "Retraction" if c.is_retraction else c.get_kind_display()
        steps.append(
            (
                "Undo" if c.is_retraction else STEP_NAMES.get(c.kind, "Other"),
                c.amount,
                f"{first_number + offset}. {verb}: {_money(deal, c.amount)}, {c.description}",
            )
        )

    running = [deal.opening_price]
    for _, amount, _ in steps:
        running.append(running[-1] - amount)
    net = running[-1]
    planned = [deal.opening_price]
    for amount in plan[:MAX_STEPS]:
        planned.append(planned[-1] - amount)
    target = deal.target_price
    high = max(running)
    low = min([*running, *planned, deal.floor, *([target] if target is not None else [])])
    span = high - low
    # Start the axis below the lowest value so the smallest bar is still a visible bar.
    axis_min = max(low - span / 3, Decimal(0))
    plot_height = HEIGHT - TOP - BOTTOM
    scale = plot_height / (high - axis_min)

    def y(value: Decimal) -> Decimal:
        return TOP + (high - value) * scale

    slots = max(len(steps), len(planned) - 1) + 2
    slot = (WIDTH - 2 * SIDE - GUTTER) / slots
    bar_width = slot * BAR_SHARE
    baseline = y(axis_min)

    def bar(index: int, top_value: Decimal, bottom_value: Decimal, **kw) -> Bar:
        x = SIDE + slot * index + (slot - bar_width) / 2
        top, bottom = y(max(top_value, bottom_value)), y(min(top_value, bottom_value))
        height = max(bottom - top, Decimal(1))
        return Bar(
            x=_c(x),
            y=_c(top),
            width=_c(bar_width),
            height=_c(height),
            label_x=_c(x + bar_width / 2),
            **kw,
        )

    bars = [
        bar(
            0,
            deal.opening_price,
            axis_min,
            kind="total",
            axis_label="Opening",
            value_label=_money(deal, deal.opening_price),
            title=f"Opening price: {_money(deal, deal.opening_price)}",
        )
    ]
    for i, (axis_label, amount, title) in enumerate(steps, start=1):
        bars.append(
            bar(
                i,
                running[i - 1],
                running[i],
                kind="give" if amount > 0 else "take-back",
                axis_label=axis_label,
                value_label="",
                title=title,
            )
        )
    bars.append(
        bar(
            slots - 1,
            net,
            axis_min,
            kind="total",
            axis_label="Net",
            value_label=_money(deal, net),
            title=f"Net: {_money(deal, net)}",
        )
    )
    bars = [_place_value(b, bars, plot_right=WIDTH - SIDE - GUTTER) for b in bars]
    floor_y = y(deal.floor)
    plan_points = ""
    if plan:
        # From the opening bar's top, one point per planned step, at the middle of its slot.
        plan_points = " ".join(
            f"{_c(SIDE + slot * i + slot / 2)},{_c(y(value))}" for i, value in enumerate(planned)
        )
    target_y = y(target) if target is not None else None
    description = (
        f"Opening price {_money(deal, deal.opening_price)}; "
        f"{total_count} entr{'ies' if total_count != 1 else 'y'} in the ledger"
        f" totalling {_money(deal, deal.conceded)}; net {_money(deal, net)}; "
        f"walk-away floor {_money(deal, deal.floor)}."
    )
    if plan:
        description += (
            f" Plan: {len(plan)} step{'s' if len(plan) != 1 else ''} totalling "
            f"{_money(deal, sum(plan, Decimal(0)))}, to a planned net of "
            f"{_money(deal, deal.opening_price - sum(plan, Decimal(0)))}."
        )
    if target is not None:
        description += f" Target price {_money(deal, target)}."
    # The steps themselves, for whoever cannot see the bars: kind, amount and what was given.
    drawn = [title for _, _, title in steps]
    if drawn:
        description += " Steps: " + "; ".join(drawn) + "."
    return Chart(
        width=_c(WIDTH),
        height=_c(HEIGHT),
        bars=bars,
        floor_y=_c(floor_y),
        floor_label=f"Floor {_money(deal, deal.floor)}",
        # In the gutter right of the bars, so that no bar hides it; above its line when there
        # is room, below it otherwise; never off the chart.
        floor_label_x=_c(WIDTH - SIDE),
        floor_label_y=_c(floor_y - 20 if floor_y - 20 > TOP else min(floor_y + 14, baseline - 16)),
        floor_amount=_money(deal, deal.floor),
        axis_y=_c(baseline + 14),
        description=description,
        plan_points=plan_points,
        target_y="" if target_y is None else _c(target_y),
        target_label="" if target is None else f"Target {_money(deal, target)}",
        target_label_y="" if target_y is None else _c(max(target_y - 20, TOP - 14)),
        target_amount="" if target is None else _money(deal, target),
    )


def _place_value(bar: Bar, bars: list[Bar], *, plot_right: Decimal) -> Bar:
    """The opening's amount starts at its bar's left edge (nothing is left of it to centre on);
    any other is centred on its bar but kept left of the floor's gutter. Either is lifted above
    the highest bar under it, so no bar hides a figure whatever the number of steps."""
    if not bar.value_label:
        return bar
    width = len(bar.value_label) * VALUE_FONT * GLYPH
    left_edge, bar_width = Decimal(bar.x), Decimal(bar.width)
    if bar is bars[0]:
        anchor, x, span = "start", left_edge, (left_edge, left_edge + width)
    else:
        x = min(left_edge + bar_width / 2, plot_right - width / 2)
        anchor, span = "middle", (x - width / 2, x + width / 2)
    under = [
        Decimal(b.y)
        for b in bars
        if Decimal(b.x) < span[1] and Decimal(b.x) + Decimal(b.width) > span[0]
    ]
    top = min([Decimal(bar.y), *under])
    return replace(bar, value_x=_c(x), value_y=_c(top - 6), value_anchor=anchor)


def _money(deal: Deal, amount: Decimal) -> str:
    return format_money(amount, deal.currency)
