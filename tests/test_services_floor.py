"""floor_change (DOMAIN.md, rule 2): the owner may move the floor until the first concession;
after it only a manager of the deal's team may, with a reason, and every change is kept."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals import services
from deals.erosion import Level
from deals.models import Concession, DealEvent, ExceptionRequest, FloorChange, Notification


def rows():
    return (
        FloorChange.objects.count(),
        DealEvent.objects.count(),
        Concession.objects.count(),
        ExceptionRequest.objects.count(),
        Notification.objects.count(),
    )


def state(deal):
    deal.refresh_from_db()
    return (deal.floor, deal.level, deal.peak_level, deal.conceded)


def kinds_after(deal, pk):
    return list(
        DealEvent.objects.filter(deal=deal, pk__gt=pk).order_by("id").values_list("kind", flat=True)
    )


def test_before_the_first_concession_the_owner_may_move_the_floor(deal, owner):
    change = services.floor_change(deal=deal, user=owner, new_floor="9,200.00")
    change.refresh_from_db()
    assert (change.old_floor, change.new_floor) == (Decimal("9000.00"), Decimal("9200.00"))
    assert change.changed_by == owner
    assert change.reason == ""
    deal.refresh_from_db()
    assert deal.floor == Decimal("9200.00")
    event = DealEvent.objects.filter(deal=deal).latest("id")
    assert (event.kind, event.actor) == (DealEvent.Kind.FLOOR_CHANGED, owner)
    assert event.data == {"old": "9000.00", "new": "9200.00"}
    assert "from $9,000.00 to $9,200.00" in event.summary


def test_the_floor_may_be_lowered_to_zero(deal, owner):
    services.floor_change(deal=deal, user=owner, new_floor="0")
    deal.refresh_from_db()
    assert deal.floor == 0


def test_after_the_first_concession_the_rep_may_not_move_the_floor(deal, owner, give):
    give(deal, "100")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.FloorLocked, match="ask a manager"):
        services.floor_change(deal=deal, user=owner, new_floor="8500", reason="Customer pushed")
    assert rows() == before
    assert state(deal) == snapshot


def test_a_retracted_concession_still_locks_the_floor(deal, owner, give):
    # The floor was set before anyone talked price; a give, even undone, means talks began.
    concession = give(deal, "100").concession
    services.concession_retract(concession=concession, user=owner, reason="Typo")
    with pytest.raises(services.FloorLocked):
        services.floor_change(deal=deal, user=owner, new_floor="8500")


def test_after_the_first_concession_a_manager_may_move_the_floor_with_a_reason(deal, manager, give):
    give(deal, "100")
    change = services.floor_change(
        deal=deal, user=manager, new_floor="8500", reason="Volume doubled"
    )
    assert change.changed_by == manager
    assert change.reason == "Volume doubled"
    deal.refresh_from_db()
    assert deal.floor == Decimal("8500.00")
    event = DealEvent.objects.filter(deal=deal).latest("id")
    assert (event.kind, event.actor) == (DealEvent.Kind.FLOOR_CHANGED, manager)
    assert "Reason: Volume doubled" in event.summary


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_manager_moving_a_locked_floor_must_say_why(deal, manager, give, reason):
    give(deal, "100")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue) as refused:
        services.floor_change(deal=deal, user=manager, new_floor="8500", reason=reason)
    assert refused.value.field == "reason"
    assert rows() == before
    assert state(deal) == snapshot


def test_every_change_is_kept_in_order(deal, owner, manager, give):
    services.floor_change(deal=deal, user=owner, new_floor="9100")
    give(deal, "100")
    services.floor_change(deal=deal, user=manager, new_floor="8800", reason="Bigger order")
    services.floor_change(deal=deal, user=manager, new_floor="8900", reason="Order shrank")
    history = list(
        FloorChange.objects.filter(deal=deal)
        .order_by("id")
        .values_list("old_floor", "new_floor", "changed_by__username", "reason")
    )
    assert history == [
        (Decimal("9000.00"), Decimal("9100.00"), "olivia", ""),
        (Decimal("9100.00"), Decimal("8800.00"), "maria", "Bigger order"),
        (Decimal("8800.00"), Decimal("8900.00"), "maria", "Order shrank"),
    ]
    assert DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.FLOOR_CHANGED).count() == 3


def test_raising_the_floor_re_levels_the_deal_and_records_the_change(deal, manager, give):
    give(deal, "600")  # 60% of 1,000: Caution
    mark = DealEvent.objects.latest("id").pk
    services.floor_change(deal=deal, user=manager, new_floor="9300", reason="Costs went up")
    deal.refresh_from_db()
    # 600 of 700 of room is 85.7%: Danger, with no concession logged.
    assert deal.level == Level.DANGER
    assert deal.peak_level == Level.DANGER
    assert kinds_after(deal, mark) == [DealEvent.Kind.FLOOR_CHANGED, DealEvent.Kind.LEVEL_CHANGED]
    change = DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.LEVEL_CHANGED).latest("id")
    assert change.data == {"from": "caution", "to": "danger"}
    assert change.actor == manager


def test_raising_the_floor_to_the_net_puts_the_deal_at_its_floor(deal, manager, give):
    give(deal, "600")
    services.floor_change(deal=deal, user=manager, new_floor="9400", reason="Costs went up")
    deal.refresh_from_db()
    assert deal.level == Level.AT_FLOOR


def test_lowering_the_floor_eases_the_level_but_the_peak_is_remembered(deal, manager, give):
    give(deal, "900")  # Danger
    services.floor_change(deal=deal, user=manager, new_floor="8000", reason="Strategic account")
    deal.refresh_from_db()
    assert deal.level == Level.ON_TRACK  # 900 of 2,000
    assert deal.peak_level == Level.DANGER


def test_a_change_within_the_same_level_writes_no_level_event(deal, owner):
    mark = DealEvent.objects.latest("id").pk
    services.floor_change(deal=deal, user=owner, new_floor="8000")
    assert kinds_after(deal, mark) == [DealEvent.Kind.FLOOR_CHANGED]


BAD_FLOORS = [
    ("10000", "below the opening price"),
    ("10000.01", "below the opening price"),
    ("9000", "That is the floor already."),
    ("9000.00", "That is the floor already."),
    ("-1", "positive"),
    ("NaN", "such as 1250.00"),
    ("Infinity", "such as 1250.00"),
    ("8500.001", "two decimal places"),
    ("abc", "such as 1250.00"),
    (10**15, "too large"),
    (8500.0, "such as 1250.00"),
    ("", "such as 1250.00"),
]


@pytest.mark.parametrize(("new_floor", "message"), BAD_FLOORS, ids=[repr(f) for f, _ in BAD_FLOORS])
def test_a_bad_floor_is_refused_and_nothing_is_stored(deal, owner, new_floor, message):
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue) as refused:
        services.floor_change(deal=deal, user=owner, new_floor=new_floor)
    assert refused.value.field == "new_floor"
    assert message in refused.value.message
    assert rows() == before
    assert state(deal) == snapshot


def test_the_floor_cannot_be_raised_above_the_current_net(deal, manager, give):
    give(deal, "600")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue, match=r"above the current net price \(\$9,400"):
        services.floor_change(deal=deal, user=manager, new_floor="9400.01", reason="Costs")
    assert rows() == before
    assert state(deal) == snapshot


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_manager"])
def test_nobody_else_may_move_the_floor(deal, request, who):
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.NotAllowed):
        services.floor_change(
            deal=deal, user=request.getfixturevalue(who), new_floor="8500", reason="Mine"
        )
    assert rows() == before
    assert state(deal) == snapshot


def test_the_floor_of_a_closed_deal_cannot_move(deal, owner, manager):
    services.deal_lose(deal=deal, user=owner, reason="timing")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.DealClosed):
        services.floor_change(deal=deal, user=manager, new_floor="8500", reason="Late")
    assert rows() == before
    assert state(deal) == snapshot


def test_a_floor_change_is_not_stored_when_its_event_cannot_be(deal, owner, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before, snapshot = rows(), state(deal)
    with pytest.raises(RuntimeError):
        services.floor_change(deal=deal, user=owner, new_floor="8500")
    assert rows() == before
    assert state(deal) == snapshot
