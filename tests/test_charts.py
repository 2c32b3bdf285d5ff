"""The waterfall chart: drawn from Decimals on the server, no float anywhere, labelled with money
as people read it."""

from __future__ import annotations

import decimal
import itertools
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services
from deals.charts import GLYPH, HEIGHT, MAX_STEPS, VALUE_FONT, WIDTH, waterfall
from deals.models import Concession

from .desk import page

# One digit after the point, never an exponent, never a float's tail of digits.
COORDINATE = re.compile(r"^[0-9]+\.[0-9]$")
BAR_COORDINATES = ("x", "y", "width", "height", "label_x")
CHART_COORDINATES = ("width", "height", "floor_y", "floor_label_x", "floor_label_y")


def ledger(deal) -> list[Concession]:
    return list(Concession.objects.filter(deal=deal).order_by("id"))


def chart_of(deal, entries=None, **kwargs):
    deal.refresh_from_db()
    # A float mixed into the Decimal arithmetic raises here instead of rounding silently.
    with decimal.localcontext() as ctx:
        ctx.traps[decimal.FloatOperation] = True
        return waterfall(deal, ledger(deal) if entries is None else entries, **kwargs)


def top(bar) -> Decimal:
    return Decimal(bar.y)


def bottom(bar) -> Decimal:
    return Decimal(bar.y) + Decimal(bar.height)


def assert_coordinates_are_decimal_strings(chart):
    for name in CHART_COORDINATES:
        value = getattr(chart, name)
        assert isinstance(value, str)
        assert COORDINATE.match(value), (name, value)
    for bar in chart.bars:
        # Only the opening and net bars carry a figure, and so a place for it.
        for name in BAR_COORDINATES + (("value_x", "value_y") if bar.value_label else ()):
            value = getattr(bar, name)
            assert isinstance(value, str)
            assert COORDINATE.match(value), (bar.axis_label, name, value)


@pytest.mark.parametrize(
    ("opening", "floor", "gives"),
    [
        ("10000", "9000", []),
        ("10000", "9000", ["333.33", "123.45", "0.01"]),
        ("999999999999.99", "0", ["0.01", "123456789012.34"]),
        ("1000000", "0", ["1"] * 12),
        ("0.03", "0.01", ["0.01", "0.01"]),
    ],
)
def test_no_coordinate_is_a_float(make_deal, give, opening, floor, gives):
    deal = make_deal(opening_price=Decimal(opening), floor=Decimal(floor))
    for amount in gives:
        give(deal, amount)
    assert_coordinates_are_decimal_strings(chart_of(deal))


def test_the_page_draws_the_chart_with_decimal_coordinates_only(client, owner, deal, give):
    for amount in ("333.33", "123.45", "77.77"):
        give(deal, amount)
    client.force_login(owner)
    body = page(client.get(reverse("deal_detail", args=[deal.pk])))
    svg = body[body.index('<svg class="waterfall"') : body.index("</svg>", body.index("waterfall"))]
    numbers = re.findall(r'\b(?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert len(numbers) > 20
    for number in numbers:
        assert re.fullmatch(r"[0-9]+(\.[0-9])?", number), number
    assert f'viewBox="0 0 {WIDTH}.0 {HEIGHT}.0"' in svg


def test_the_opening_and_net_bars_stand_on_the_same_baseline(make_deal, give):
    deal = make_deal()
    give(deal, "250")
    give(deal, "150")
    chart = chart_of(deal)
    opening, net = chart.bars[0], chart.bars[-1]
    assert (opening.axis_label, net.axis_label) == ("Opening", "Net")
    assert bottom(opening) == bottom(net)
    assert top(opening) < top(net)


def test_each_step_starts_where_the_one_before_ended(make_deal, give):
    deal = make_deal()
    for amount in ("100", "200", "50"):
        give(deal, amount)
    opening, *steps, net = chart_of(deal).bars
    assert [s.kind for s in steps] == ["give", "give", "give"]
    assert top(steps[0]) == top(opening)
    for before, after in itertools.pairwise(steps):
        assert abs(bottom(before) - top(after)) <= Decimal("0.1")
    assert abs(bottom(steps[-1]) - top(net)) <= Decimal("0.1")
    # Heights follow the amounts: the 200 step is twice the 100 step, give or take rounding.
    assert abs(Decimal(steps[1].height) - 2 * Decimal(steps[0].height)) <= Decimal("0.2")


def test_above_the_floor_the_floor_line_runs_between_the_net_top_and_the_baseline(make_deal, give):
    deal = make_deal()
    give(deal, "400")
    chart = chart_of(deal)
    opening, net = chart.bars[0], chart.bars[-1]
    floor_y = Decimal(chart.floor_y)
    assert top(opening) < top(net) < floor_y < bottom(net)


def test_at_the_floor_the_floor_line_meets_the_top_of_the_net_bar(make_deal, give):
    deal = make_deal()
    give(deal, "1000")
    chart = chart_of(deal)
    assert Decimal(chart.floor_y) == top(chart.bars[-1])


def test_below_the_floor_the_net_bar_ends_under_the_floor_line(make_deal, give, manager):
    deal = make_deal()
    give(deal, "900")
    deal.refresh_from_db()
    request = services.exception_request(
        deal=deal, user=deal.owner, kind="other", amount="300", description="Seats"
    )
    services.exception_approve(exception_request=request, user=manager, comment="OK")
    chart = chart_of(deal)
    opening, net = chart.bars[0], chart.bars[-1]
    assert top(opening) < Decimal(chart.floor_y) < top(net) < bottom(net)


def test_the_floor_label_stays_on_the_chart(make_deal, give):
    deal = make_deal(opening_price=Decimal("10000"), floor=Decimal("9999.99"))
    chart = chart_of(deal)
    assert Decimal("0") < Decimal(chart.floor_label_y) < Decimal(chart.height)


def test_a_retraction_steps_back_up(make_deal, give):
    deal = make_deal()
    mistake = give(deal, "300").concession
    services.concession_retract(concession=mistake, user=deal.owner, reason="Wrong deal")
    opening, given, taken_back, net = chart_of(deal).bars
    assert (given.kind, taken_back.kind) == ("give", "take-back")
    assert top(taken_back) == top(given)
    assert top(net) == top(opening)
    assert taken_back.title.startswith("2. Retraction: -$300.00")


def test_up_to_eight_concessions_are_drawn_one_by_one(make_deal, give):
    deal = make_deal()
    for _ in range(MAX_STEPS):
        give(deal, "10")
    labels = [b.axis_label for b in chart_of(deal).bars]
    # Each step is named by its kind under its bar (its number and what was given in its title).
    assert labels == ["Opening", *["Discount"] * MAX_STEPS, "Net"]


def test_more_than_eight_concessions_group_the_earlier_ones(make_deal, give):
    deal = make_deal()
    for amount in range(1, 13):  # 1 + 2 + 3 + 4 = 10 come before the last eight
        give(deal, amount)
    chart = chart_of(deal)
    labels = [b.axis_label for b in chart.bars]
    assert labels == ["Opening", "Earlier", *["Discount"] * 8, "Net"]
    earlier = chart.bars[1]
    assert earlier.title == "4 earlier entries: $10.00"
    assert chart.bars[2].title == "5. Price discount: $5.00, Discount"
    assert chart.bars[-1].value_label == "$9,922.00"


def test_one_earlier_concession_is_named_in_the_singular(make_deal, give):
    deal = make_deal()
    for _ in range(MAX_STEPS + 1):
        give(deal, "10")
    assert chart_of(deal).bars[1].title == "1 earlier entry: $10.00"


def test_the_earlier_step_is_worth_the_whole_ledger_before_the_entries_drawn(make_deal, give):
    """The page hands the chart only the latest entries; the rest is the running total's."""
    deal = make_deal()
    for _ in range(30):
        give(deal, "10")
    recent = ledger(deal)[-20:]
    chart = chart_of(deal, recent, total_count=30)
    assert [b.axis_label for b in chart.bars][:3] == ["Opening", "Earlier", "Discount"]
    assert chart.bars[2].title.startswith("23. Price discount: $10.00")
    assert chart.bars[1].title == "22 earlier entries: $220.00"
    assert chart.bars[-1].value_label == "$9,700.00"
    assert chart.description.startswith(
        "Opening price $10,000.00; 30 entries in the ledger totalling $300.00; "
        "net $9,700.00; walk-away floor $9,000.00. Steps: 22 earlier entries: $220.00; "
        "23. Price discount: $10.00, Discount;"
    )


def test_labels_are_money_formatted_by_babel(make_deal, give):
    deal = make_deal(floor=Decimal("5000"))
    give(deal, "1234.5")
    chart = chart_of(deal)
    assert chart.bars[0].value_label == "$10,000.00"
    assert chart.bars[0].title == "Opening price: $10,000.00"
    assert chart.bars[1].title == "1. Price discount: $1,234.50, Discount"
    assert chart.bars[-1].value_label == "$8,765.50"
    assert chart.floor_label == "Floor $5,000.00"


def test_a_euro_deal_is_labelled_in_euros(make_deal, give):
    deal = make_deal(currency="EUR", opening_price=Decimal("12500"), floor=Decimal("10000"))
    give(deal, "500")
    chart = chart_of(deal)
    assert chart.bars[0].value_label == "€12,500.00"
    assert chart.bars[-1].value_label == "€12,000.00"
    assert chart.floor_label == "Floor €10,000.00"
    assert "$" not in chart.description


def test_a_yen_deal_is_labelled_without_cents(make_deal):
    deal = make_deal(currency="JPY", opening_price=Decimal("1500000"), floor=Decimal("1200000"))
    assert chart_of(deal).bars[0].value_label == "¥1,500,000"


def test_the_description_tells_the_whole_story_in_words(make_deal, give):
    deal = make_deal()
    give(deal, "100")
    assert chart_of(deal).description == (
        "Opening price $10,000.00; 1 entry in the ledger totalling $100.00; "
        "net $9,900.00; walk-away floor $9,000.00. "
        "Steps: 1. Price discount: $100.00, Discount."
    )


def test_the_floor_and_target_labels_sit_right_of_every_bar(make_deal, give):
    """Item 8 of issue 13: no bar can hide the floor's label, whatever the number of steps."""
    deal = make_deal(target_price=Decimal("9500"))
    for _ in range(MAX_STEPS):
        give(deal, "10")
    chart = chart_of(deal)
    rightmost = max(Decimal(b.x) + Decimal(b.width) for b in chart.bars)
    # The labels end at the right edge, in a gutter wider than the longest amount here.
    assert Decimal(chart.floor_label_x) - rightmost >= 80
    assert chart.floor_amount == "$9,000.00" and chart.target_amount == "$9,500.00"
    assert Decimal(0) < Decimal(chart.target_label_y) < Decimal(chart.height)


def test_descriptions_in_the_chart_are_escaped_on_the_page(client, owner, deal, give):
    give(deal, "100", description='<script>alert(1)</script> hx-get="/x"')
    client.force_login(owner)
    body = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert "<script>alert(1)" not in body
    assert "1. Price discount: $100.00, &lt;script&gt;alert(1)&lt;/script&gt;" in body


@pytest.mark.parametrize("steps", [1, 3, MAX_STEPS])
def test_the_opening_and_net_amounts_sit_above_every_bar_they_span(make_deal, give, steps):
    """Item 8 of issue 13: a figure is never drawn over a bar, whatever the number of steps."""
    deal = make_deal(opening_price=Decimal("40000"), floor=Decimal("38000"))
    for _ in range(steps):
        give(deal, "150")
    chart = chart_of(deal)
    labelled = [b for b in chart.bars if b.value_label]
    assert [b.axis_label for b in labelled] == ["Opening", "Net"]
    for b in labelled:
        width = len(b.value_label) * VALUE_FONT * GLYPH
        x = Decimal(b.value_x)
        left = x if b.value_anchor == "start" else x - width / 2
        assert left >= 0 and left + width <= Decimal(chart.floor_label_x) - 80
        for other in chart.bars:
            other_left, other_right = Decimal(other.x), Decimal(other.x) + Decimal(other.width)
            if other_left < left + width and other_right > left:
                assert Decimal(b.value_y) <= Decimal(other.y) - 6, (b.value_label, other.title)
