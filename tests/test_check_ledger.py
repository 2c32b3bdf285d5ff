"""`manage.py check_ledger` (issue 11): every deal's total equals its ledger, every concession
has its event, and no deal sits below its floor without an approved exception; otherwise the
offending deals are listed and the command exits non-zero."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from deals import services
from deals.models import Deal, DealEvent


def check() -> str:
    out = StringIO()
    call_command("check_ledger", stdout=out)
    return out.getvalue()


def refused() -> str:
    out = StringIO()
    with pytest.raises(CommandError, match=r"break the ledger's rules"):
        call_command("check_ledger", stdout=out)
    return out.getvalue()


def bend(deal, **values):
    """A write as an older version, or a hand in a shell, could have made it."""
    Deal.objects.filter(pk=deal.pk).update(version=F("version") + 1, **values)


def test_a_ledger_written_by_the_services_holds(deal, give, manager):
    give(deal, "300")
    retracted = give(deal, "100").concession
    services.concession_retract(concession=retracted, user=deal.owner, reason="Typo")
    give(deal, "700")
    request = services.exception_request(
        deal=deal, user=deal.owner, kind="price_discount", amount="200", description="More"
    )
    services.exception_approve(exception_request=request, user=manager, comment="Fine")
    assert check() == "The ledger holds: 1 deal(s) checked.\n"


def test_the_demo_data_holds(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    assert "The ledger holds" in check()


def test_a_total_that_disagrees_with_the_ledger_is_listed(deal, give, make_deal):
    give(deal, "280")
    other = make_deal(title="Fine")
    bend(deal, conceded=Decimal("100.00"))
    out = refused()
    assert (
        f"deal {deal.pk} (ERP roll-out): conceded is 100.00, its concessions add up to 280.00"
        in (out)
    )
    assert f"deal {other.pk} " not in out


def test_a_concession_without_its_event_is_listed(deal, give):
    concession = give(deal, "50").concession
    DealEvent.objects.filter(concession=concession).delete()
    out = refused()
    assert f"deal {deal.pk} (ERP roll-out): concession {concession.pk} has no" in out


def test_a_deal_below_its_floor_without_an_approved_exception_is_listed(deal, give):
    give(deal, "1000")
    bend(deal, floor=Decimal("9500.00"))
    out = refused()
    assert "the net 9000.00 is below the floor 9500.00 with no approved exception" in out


def test_quiet_prints_nothing_when_all_holds(deal):
    out = StringIO()
    call_command("check_ledger", "--quiet", stdout=out)
    assert out.getvalue() == ""
