"""The level the lists and dashboards filter and count on (DealQuerySet.with_current_level, SQL)
is the level each row shows (erosion.level, Python), whatever the thresholds are now."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deals import erosion
from deals.models import Deal
from deals.services import _save


def _figures(deal: Deal, *, opening: str, floor: str, conceded: str) -> None:
    # Straight to the row: the figures a deal can hold, to compare the two calculations on.
    deal.opening_price, deal.floor, deal.conceded = (
        Decimal(opening),
        Decimal(floor),
        Decimal(conceded),
    )
    _save(deal, "opening_price", "floor", "conceded")


cents = st.integers(min_value=0, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(room=cents.filter(lambda r: r > 0), floor=cents, used=st.integers(0, 12000))
def test_sql_and_python_agree_on_every_level(deal, room, floor, used):
    # Room used from 0% to 120% in steps of 0.01%, boundaries included; the net stays above
    # zero, as the database holds (rule 10).
    conceded = (room * used / 10000).quantize(Decimal("0.01"))
    assume(conceded < floor + room)
    _figures(deal, opening=str(floor + room), floor=str(floor), conceded=str(conceded))
    row = Deal.objects.with_current_level().get(pk=deal.pk)
    assert row.current_level == erosion.level(conceded, room).value


@pytest.mark.parametrize(
    ("conceded", "level"),
    [
        ("499.99", "on_track"),
        ("500.00", "caution"),
        ("799.99", "caution"),
        ("800.00", "danger"),
        ("1000.00", "at_floor"),
        ("1000.01", "below_floor"),
    ],
)
def test_the_boundaries_are_exact(deal, conceded, level):
    _figures(deal, opening="10000.00", floor="9000.00", conceded=conceded)
    assert Deal.objects.with_current_level().get(pk=deal.pk).current_level == level


def test_a_change_of_thresholds_moves_the_filter_with_the_rows(client, owner, deal, give, settings):
    give(deal, "700")  # 70% of room used: Caution by default, stored as such
    client.force_login(owner)
    assert "ERP roll-out" in client.get("/?level=caution").content.decode()
    settings.WALKAWAY_DANGER_AT = Decimal(60)
    danger = client.get("/?level=danger").content.decode()
    assert "ERP roll-out" in danger
    assert "Danger" in danger
    assert "ERP roll-out" not in client.get("/?level=caution").content.decode()


def test_the_dashboard_counts_levels_by_todays_thresholds(client, manager, deal, give, settings):
    give(deal, "700")
    settings.WALKAWAY_DANGER_AT = Decimal(60)
    client.force_login(manager)
    body = client.get("/dashboard/").content.decode()
    counts = body[body.index('class="level-counts"') :]
    danger = counts[counts.index("level-danger") :]
    assert '<strong class="count-figure">1</strong>' in danger[: danger.index("</li>")]
