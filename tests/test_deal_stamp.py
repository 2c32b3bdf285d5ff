"""Deal.stamp: every write to a deal, its ledger or its history moves it, so that a page kept
or shown under one stamp is never taken for the deal as it is after a change."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from deals import services
from deals.models import Concession, Deal, ExceptionRequest, change_stamp


def test_it_is_the_change_time_in_whole_microseconds():
    moment = datetime(2026, 11, 27, 4, 5, 6, 789012, tzinfo=UTC)
    assert change_stamp(moment) == "1795752306789012"


def test_it_tells_apart_changes_one_microsecond_apart():
    early = datetime(2026, 11, 27, 4, 5, 6, 789012, tzinfo=UTC)
    later = early.replace(microsecond=789013)
    assert int(change_stamp(later)) - int(change_stamp(early)) == 1


def _request(deal, owner):
    return services.exception_request(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("300"),
        description="Extra discount",
        note="Customer insists",
    )


WRITES = {
    "log": lambda deal, owner, manager, give: give(deal, "100"),
    "give most of the room": lambda deal, owner, manager, give: give(deal, "800"),
    "retract": lambda deal, owner, manager, give: services.concession_retract(
        concession=Concession.objects.filter(deal=deal).first(), user=owner, reason="Mistake"
    ),
    "ask for an exception": lambda deal, owner, manager, give: _request(deal, owner),
    "approve": lambda deal, owner, manager, give: services.exception_approve(
        exception_request=ExceptionRequest.objects.get(deal=deal), user=manager, comment="Fine"
    ),
    "reject": lambda deal, owner, manager, give: services.exception_reject(
        exception_request=ExceptionRequest.objects.get(deal=deal), user=manager, comment="No"
    ),
    "change the floor": lambda deal, owner, manager, give: services.floor_change(
        deal=deal, user=manager, new_floor=Decimal("8500"), reason="Board said so"
    ),
    "win": lambda deal, owner, manager, give: services.deal_win(deal=deal, user=owner),
    "lose": lambda deal, owner, manager, give: services.deal_lose(
        deal=deal, user=owner, reason="price"
    ),
    "walk away": lambda deal, owner, manager, give: services.deal_walk_away(
        deal=deal, user=owner, reason="Too low"
    ),
}

# What each write needs to have happened before it.
BEFORE = {
    "retract": ["log"],
    "ask for an exception": ["give most of the room"],
    "approve": ["give most of the room", "ask for an exception"],
    "reject": ["give most of the room", "ask for an exception"],
    "change the floor": ["log"],
}


@pytest.mark.parametrize("write", WRITES)
def test_every_write_moves_the_stamp(deal, owner, manager, give, write):
    for earlier in BEFORE.get(write, []):
        WRITES[earlier](deal, owner, manager, give)
    before = Deal.objects.get(pk=deal.pk).stamp
    WRITES[write](Deal.objects.get(pk=deal.pk), owner, manager, give)
    assert Deal.objects.get(pk=deal.pk).stamp != before


def test_a_comeback_moves_the_stamp(deal, owner):
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    before = Deal.objects.get(pk=deal.pk).stamp
    services.deal_come_back(deal=Deal.objects.get(pk=deal.pk), user=owner)
    assert Deal.objects.get(pk=deal.pk).stamp != before
