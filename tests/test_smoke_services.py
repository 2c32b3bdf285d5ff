from decimal import Decimal

import pytest

from deals import services


def test_it_logs_then_refuses_below_the_floor(deal, give):
    give(deal, "600")
    deal.refresh_from_db()
    assert deal.level == "caution"
    with pytest.raises(services.BelowFloor) as e:
        give(deal, "500")
    assert e.value.shortfall == Decimal("100.00")
    assert str(e.value) == "$100.00 below your walk-away floor"
