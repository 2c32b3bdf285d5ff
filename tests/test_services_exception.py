"""exception_request, exception_approve, exception_reject (DOMAIN.md, rules 3, 4 and 6): only a
manager of the deal's team lets a concession cross the floor, and only on the deal they saw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deals import alerts, services
from deals.erosion import Level
from deals.models import Concession, DealEvent, ExceptionRequest, Notification

COMMENT = "Strategic account; worth it."


def rows():
    return (
        Concession.objects.count(),
        DealEvent.objects.count(),
        ExceptionRequest.objects.count(),
        Notification.objects.count(),
    )


def state(deal):
    deal.refresh_from_db()
    return (deal.conceded, deal.floor, deal.level, deal.peak_level, deal.status)


def request_state(request):
    request.refresh_from_db()
    return (request.status, request.decided_by_id, request.decided_at, request.comment)


def ledger_total(deal):
    return sum(Concession.objects.filter(deal=deal).values_list("amount", flat=True), Decimal(0))


def ask(deal, user, amount="300", **extra):
    values = {
        "kind": "price_discount",
        "description": "Extra 3% off",
        "got_in_return": "Three-year term",
        "note": "They have a competing quote.",
    }
    values.update(extra)
    return services.exception_request(deal=deal, user=user, amount=amount, **values)


@pytest.fixture
def pending(deal, owner, give):
    """Conceded 900 of 1,000: a request for 300 would go 200 below the floor."""
    give(deal, "900")
    return ask(deal, owner)


# Asking ----------------------------------------------------------------------------------------


def test_asking_keeps_the_deal_as_it_was_and_changes_nothing_else(deal, owner, give):
    give(deal, "900")
    before = state(deal)
    request = ask(deal, owner, form_key="ask-1")
    request.refresh_from_db()
    assert request.status == ExceptionRequest.Status.PENDING
    assert request.requested_by == owner
    assert request.amount == Decimal("300.00")
    assert request.shortfall == Decimal("200.00")
    assert request.conceded_at_request == Decimal("900.00")
    assert request.floor_at_request == Decimal("9000.00")
    assert request.note == "They have a competing quote."
    assert request.form_key == "ask-1"
    assert state(deal) == before
    assert Concession.objects.filter(deal=deal).count() == 1
    event = DealEvent.objects.filter(deal=deal).latest("id")
    assert event.kind == DealEvent.Kind.EXCEPTION_REQUESTED
    assert event.actor == owner
    assert event.exception_request == request
    assert event.data == {"amount": "300.00", "shortfall": "200.00"}
    assert "$200.00 below the walk-away floor" in event.summary


def test_an_exception_is_not_for_a_concession_that_fits(deal, owner, give):
    give(deal, "900")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue) as refused:
        ask(deal, owner, amount="100")
    assert refused.value.field == "amount"
    assert "log it instead" in refused.value.message
    assert rows() == before
    assert state(deal) == snapshot


def test_the_same_request_form_twice_asks_once(deal, owner, give):
    give(deal, "900")
    first = ask(deal, owner, form_key="ask-twice")
    second = ask(deal, owner, form_key="ask-twice")
    assert first.pk == second.pk
    assert ExceptionRequest.objects.count() == 1
    assert DealEvent.objects.filter(kind=DealEvent.Kind.EXCEPTION_REQUESTED).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-300"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": "300.001"}, "amount"),
        ({"amount": 10**15}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"description": ""}, "description"),
        ({"kind": "bribe"}, "kind"),
        ({"note": "x\x00"}, "note"),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_a_bad_request_is_refused_and_nothing_is_stored(deal, owner, give, changes, field):
    give(deal, "900")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue) as refused:
        ask(deal, owner, **changes)
    assert refused.value.field == field
    assert rows() == before
    assert state(deal) == snapshot


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_manager"])
def test_nobody_else_may_ask_on_the_deal(deal, give, request, who):
    give(deal, "900")
    before = rows()
    with pytest.raises(services.NotAllowed):
        ask(deal, request.getfixturevalue(who))
    assert rows() == before


def test_nothing_can_be_asked_on_a_closed_deal(deal, owner, give):
    give(deal, "900")
    services.deal_lose(deal=deal, user=owner, reason="price")
    before = rows()
    with pytest.raises(services.DealClosed):
        ask(deal, owner)
    assert rows() == before


def test_a_request_is_not_stored_when_its_event_cannot_be(deal, owner, give, monkeypatch):
    give(deal, "900")

    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before = rows()
    with pytest.raises(RuntimeError):
        ask(deal, owner)
    assert rows() == before


# Approving -------------------------------------------------------------------------------------


def test_an_approval_logs_the_concession_linked_to_it_and_the_deal_sits_below_floor(
    deal, owner, manager, pending
):
    first_event = DealEvent.objects.latest("id").pk
    concession = services.exception_approve(
        exception_request=pending, user=manager, comment=COMMENT
    )
    pending.refresh_from_db()
    assert pending.status == ExceptionRequest.Status.APPROVED
    assert pending.decided_by == manager
    assert pending.decided_at is not None
    assert pending.comment == COMMENT
    concession.refresh_from_db()
    assert concession.exception_request == pending
    assert concession.amount == Decimal("300.00")
    assert concession.description == "Extra 3% off"
    assert concession.got_in_return == "Three-year term"
    # The rep gave it; the manager allowed it.
    assert concession.created_by == owner
    deal.refresh_from_db()
    assert deal.conceded == Decimal("1200.00") == ledger_total(deal)
    assert deal.net == Decimal("8800.00")
    assert deal.level == Level.BELOW_FLOOR
    assert deal.peak_level == Level.BELOW_FLOOR
    assert deal.assessment().shortfall == Decimal("200.00")
    new = DealEvent.objects.filter(deal=deal, pk__gt=first_event).order_by("id")
    assert [(e.kind, e.actor) for e in new] == [
        (DealEvent.Kind.EXCEPTION_APPROVED, manager),
        (DealEvent.Kind.CONCESSION_LOGGED, manager),
        (DealEvent.Kind.LEVEL_CHANGED, manager),
    ]
    approved, logged, _ = new
    assert approved.exception_request == pending
    assert COMMENT in approved.summary
    assert logged.concession == concession
    assert logged.exception_request == pending
    assert "(approved exception)" in logged.summary


def test_below_the_floor_a_further_concession_is_refused_with_the_whole_shortfall(
    deal, owner, manager, pending, give
):
    services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    with pytest.raises(services.BelowFloor) as refused:
        give(deal, "50")
    assert refused.value.shortfall == Decimal("250.00")
    assert refused.value.remaining == Decimal("-200.00")


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "other_manager"])
def test_only_a_manager_of_the_deals_team_may_approve(deal, pending, request, who):
    before, snapshot, asked = rows(), state(deal), request_state(pending)
    with pytest.raises(services.NotAllowed):
        services.exception_approve(
            exception_request=pending, user=request.getfixturevalue(who), comment=COMMENT
        )
    assert rows() == before
    assert state(deal) == snapshot
    assert request_state(pending) == asked


def test_an_inactive_manager_may_not_approve(pending, manager):
    manager.is_active = False
    manager.save()
    with pytest.raises(services.NotAllowed):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_a_rejection_needs_a_reason(deal, pending, manager, comment):
    before, asked = rows(), request_state(pending)
    with pytest.raises(services.InvalidValue) as refused:
        services.exception_reject(exception_request=pending, user=manager, comment=comment)
    assert refused.value.field == "comment"
    assert rows() == before
    assert request_state(pending) == asked


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_an_approval_needs_no_comment(deal, pending, manager, comment):
    """Issue 14: the comment is optional to approve."""
    services.exception_approve(exception_request=pending, user=manager, comment=comment)
    pending.refresh_from_db()
    assert (pending.status, pending.comment) == ("approved", "")


def test_a_request_cannot_be_approved_twice(deal, pending, manager):
    services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    before, snapshot, decided = rows(), state(deal), request_state(pending)
    with pytest.raises(services.AlreadyDecided, match="already approved by maria"):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert rows() == before
    assert state(deal) == snapshot
    assert request_state(pending) == decided
    assert ledger_total(deal) == Decimal("1200.00")


def test_an_approved_request_cannot_then_be_rejected(deal, pending, manager):
    services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    before, decided = rows(), request_state(pending)
    with pytest.raises(services.AlreadyDecided):
        services.exception_reject(exception_request=pending, user=manager, comment="Changed mind")
    assert rows() == before
    assert request_state(pending) == decided


def test_a_rejected_request_cannot_then_be_approved(deal, pending, manager):
    services.exception_reject(exception_request=pending, user=manager, comment="No.")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.AlreadyDecided, match="already rejected"):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert rows() == before
    assert state(deal) == snapshot


def test_an_approval_after_the_deal_moved_on_is_refused_with_the_current_figures(
    deal, owner, manager, pending, give
):
    give(deal, "50")
    before, snapshot, asked = rows(), state(deal), request_state(pending)
    with pytest.raises(services.DealChanged) as changed:
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert changed.value.conceded == Decimal("950.00")
    assert changed.value.floor == Decimal("9000.00")
    assert "conceded went from $900.00 to $950.00" in changed.value.message
    assert "$250.00 below the walk-away floor" in changed.value.message
    assert rows() == before
    assert state(deal) == snapshot
    assert request_state(pending) == asked


def test_approving_what_the_deal_is_now_goes_through(deal, manager, pending, give):
    give(deal, "50")
    services.exception_approve(
        exception_request=pending,
        user=manager,
        comment=COMMENT,
        seen_conceded=Decimal("950.00"),
    )
    deal.refresh_from_db()
    assert deal.conceded == Decimal("1250.00") == ledger_total(deal)
    assert deal.level == Level.BELOW_FLOOR


def test_a_floor_change_since_the_request_also_needs_a_second_look(deal, manager, pending):
    services.floor_change(deal=deal, user=manager, new_floor="8900", reason="Budget moved")
    with pytest.raises(services.DealChanged) as changed:
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert "the floor went from $9,000.00 to $8,900.00" in changed.value.message
    assert "$100.00 below the walk-away floor" in changed.value.message
    services.exception_approve(
        exception_request=pending,
        user=manager,
        comment=COMMENT,
        seen_floor=Decimal("8900.00"),
    )
    deal.refresh_from_db()
    assert deal.conceded == Decimal("1200.00")


def test_the_manager_is_told_when_the_request_now_fits_above_the_floor(
    deal, owner, manager, pending
):
    first = Concession.objects.get(deal=deal)
    services.concession_retract(concession=first, user=owner, reason="Customer withdrew the ask")
    with pytest.raises(services.DealChanged, match="it now fits above the walk-away floor"):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)


def test_an_exception_on_a_closed_deal_cannot_be_approved(deal, owner, manager, pending):
    services.deal_walk_away(deal=deal, user=owner, reason="Not at that price.")
    before, asked = rows(), request_state(pending)
    with pytest.raises(services.DealClosed):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert rows() == before
    assert request_state(pending) == asked


def test_an_approval_is_not_stored_when_a_later_step_fails(deal, manager, pending, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("alerts down")

    monkeypatch.setattr(alerts, "exception_decided", broken)
    before, snapshot, asked = rows(), state(deal), request_state(pending)
    with pytest.raises(RuntimeError):
        services.exception_approve(exception_request=pending, user=manager, comment=COMMENT)
    assert rows() == before
    assert state(deal) == snapshot
    assert request_state(pending) == asked


# Rejecting -------------------------------------------------------------------------------------


def test_a_rejection_is_kept_and_logs_nothing(deal, owner, manager, pending):
    snapshot = state(deal)
    concessions = Concession.objects.count()
    services.exception_reject(exception_request=pending, user=manager, comment="Too deep.")
    pending.refresh_from_db()
    assert pending.status == ExceptionRequest.Status.REJECTED
    assert pending.decided_by == manager
    assert pending.decided_at is not None
    assert pending.comment == "Too deep."
    assert Concession.objects.count() == concessions
    assert state(deal) == snapshot
    event = DealEvent.objects.filter(deal=deal).latest("id")
    assert (event.kind, event.actor, event.exception_request) == (
        DealEvent.Kind.EXCEPTION_REJECTED,
        manager,
        pending,
    )
    assert "Too deep." in event.summary


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "other_manager"])
def test_only_a_manager_of_the_deals_team_may_reject(pending, request, who):
    before, asked = rows(), request_state(pending)
    with pytest.raises(services.NotAllowed):
        services.exception_reject(
            exception_request=pending, user=request.getfixturevalue(who), comment="No."
        )
    assert rows() == before
    assert request_state(pending) == asked


def test_a_request_cannot_be_rejected_twice(pending, manager):
    services.exception_reject(exception_request=pending, user=manager, comment="No.")
    before = rows()
    with pytest.raises(services.AlreadyDecided):
        services.exception_reject(exception_request=pending, user=manager, comment="Still no.")
    assert rows() == before


def test_a_rejection_is_not_stored_when_its_event_cannot_be(pending, manager, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before, asked = rows(), request_state(pending)
    with pytest.raises(RuntimeError):
        services.exception_reject(exception_request=pending, user=manager, comment="No.")
    assert rows() == before
    assert request_state(pending) == asked
