"""concession_log and concession_retract (DOMAIN.md, rules 1, 3, 5, 6, 7 and 8): the ledger, its
running total and its history always agree, and every refusal leaves nothing behind."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from deals import alerts, services
from deals.erosion import LEVEL_RANK, Level, Thresholds, assess
from deals.forms import ConcessionForm
from deals.models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    Membership,
    Notification,
    Role,
    Team,
)


def rows():
    return (
        Concession.objects.count(),
        DealEvent.objects.count(),
        ExceptionRequest.objects.count(),
        Notification.objects.count(),
    )


def state(deal):
    deal.refresh_from_db()
    return (deal.conceded, deal.level, deal.peak_level, deal.status)


def assert_ledger_agrees(deal):
    """Rule 7: the running total is the sum of the ledger, and the level follows from it."""
    deal.refresh_from_db()
    # Summed here, not with Sum(): SQLite aggregates decimals as floats (0.47 + 0.06 - 0.47 is
    # 0.0600000000000001 there), which is exactly what this check must not blur.
    amounts = Concession.objects.filter(deal=deal).values_list("amount", flat=True)
    total = sum(amounts, Decimal("0.00"))
    assert deal.conceded == total
    assert deal.level == deal.assessment().level
    assert LEVEL_RANK[Level(deal.peak_level)] >= LEVEL_RANK[Level(deal.level)]


def log(deal, user, amount, **extra):
    values = {"kind": "price_discount", "description": "Discount", "got_in_return": ""}
    values.update(extra)
    return services.concession_log(deal=deal, user=user, amount=amount, **values)


def events_of(deal, kind):
    return list(DealEvent.objects.filter(deal=deal, kind=kind).order_by("id"))


# Logging ----------------------------------------------------------------------------------------


def test_it_logs_a_concession_with_its_event_and_moves_the_running_total(deal, owner):
    result = log(
        deal,
        owner,
        "150.50",
        kind="free_service",
        description="Two training days",
        got_in_return="Signs this week",
        form_key="k-1",
    )
    assert result.created is True
    concession = result.concession
    concession.refresh_from_db()
    assert concession.deal == deal
    assert concession.kind == Concession.Kind.FREE_SERVICE
    assert concession.amount == Decimal("150.50")
    assert concession.description == "Two training days"
    assert concession.got_in_return == "Signs this week"
    assert concession.created_by == owner
    assert concession.form_key == "k-1"
    assert concession.retracts is None
    [event] = events_of(deal, DealEvent.Kind.CONCESSION_LOGGED)
    assert event.actor == owner
    assert event.concession == concession
    assert event.data == {"amount": "150.50", "kind": "free_service", "has_get": True}
    assert "$150.50" in event.summary
    assert "Signs this week" in event.summary
    assert result.before.conceded == 0
    assert result.after.conceded == Decimal("150.50")
    assert_ledger_agrees(deal)


def test_a_give_without_a_get_says_so_in_the_history(deal, owner):
    log(deal, owner, "100", got_in_return="   ")
    [event] = events_of(deal, DealEvent.Kind.CONCESSION_LOGGED)
    assert event.data["has_get"] is False
    assert "Nothing in return." in event.summary


def test_crossing_a_threshold_writes_a_level_change_and_staying_does_not(deal, owner):
    log(deal, owner, "499.99")
    assert events_of(deal, DealEvent.Kind.LEVEL_CHANGED) == []
    log(deal, owner, "0.01")
    [change] = events_of(deal, DealEvent.Kind.LEVEL_CHANGED)
    assert change.actor == owner
    assert change.data == {"from": "on_track", "to": "caution"}
    log(deal, owner, "100")
    assert len(events_of(deal, DealEvent.Kind.LEVEL_CHANGED)) == 1
    deal.refresh_from_db()
    assert deal.level == Level.CAUTION


def test_the_whole_remaining_room_may_be_given_and_the_deal_sits_at_its_floor(deal, owner):
    log(deal, owner, "600")
    result = log(deal, owner, "400")
    assert result.after.level == Level.AT_FLOOR
    deal.refresh_from_db()
    assert deal.net == deal.floor
    assert deal.level == Level.AT_FLOOR
    assert deal.peak_level == Level.AT_FLOOR
    assert_ledger_agrees(deal)


def test_a_concession_past_the_floor_is_refused_with_the_shortfall(deal, owner):
    log(deal, owner, "600")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.BelowFloor) as refused:
        log(deal, owner, "400.01")
    assert refused.value.shortfall == Decimal("0.01")
    assert refused.value.remaining == Decimal("400.00")
    assert refused.value.currency == "USD"
    assert refused.value.field == "amount"
    assert str(refused.value) == "$0.01 below your walk-away floor"
    assert rows() == before
    assert state(deal) == snapshot


def test_at_the_floor_any_further_concession_is_refused(deal, owner):
    log(deal, owner, "1000")
    with pytest.raises(services.BelowFloor) as refused:
        log(deal, owner, "0.01")
    assert refused.value.shortfall == Decimal("0.01")
    assert refused.value.remaining == 0


def test_a_manager_of_the_team_may_log_on_a_reps_deal(deal, manager):
    result = log(deal, manager, "100")
    assert result.concession.created_by == manager
    assert events_of(deal, DealEvent.Kind.CONCESSION_LOGGED)[0].actor == manager


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_manager"])
def test_nobody_else_may_log_on_the_deal(deal, request, who):
    user = request.getfixturevalue(who)
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.NotAllowed):
        log(deal, user, "100")
    assert rows() == before
    assert state(deal) == snapshot


def test_an_inactive_owner_may_not_log(deal, owner):
    owner.is_active = False
    owner.save()
    with pytest.raises(services.NotAllowed):
        log(deal, owner, "100")
    assert Concession.objects.count() == 0


@pytest.mark.parametrize("how", ["won", "lost", "walked_away"])
def test_nothing_can_be_logged_on_a_closed_deal(deal, owner, how):
    if how == "won":
        services.deal_win(deal=deal, user=owner)
    elif how == "lost":
        services.deal_lose(deal=deal, user=owner, reason="price")
    else:
        services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.DealClosed):
        log(deal, owner, "100")
    assert rows() == before
    assert state(deal) == snapshot


# Rule 8: the one-time form key ------------------------------------------------------------------


def test_the_same_form_key_twice_logs_one_concession(deal, owner):
    first = log(deal, owner, "100", form_key="double-click")
    second = log(deal, owner, "100", form_key="double-click")
    assert first.created is True
    assert second.created is False
    assert second.concession.pk == first.concession.pk
    assert Concession.objects.filter(deal=deal).count() == 1
    assert len(events_of(deal, DealEvent.Kind.CONCESSION_LOGGED)) == 1
    deal.refresh_from_db()
    assert deal.conceded == Decimal("100.00")
    # The replay reports the deal as it is, not a second move.
    assert second.before == second.after
    assert second.after.conceded == Decimal("100.00")


def test_a_key_that_got_past_the_lock_is_still_refused_by_the_database(deal, owner, monkeypatch):
    first = log(deal, owner, "100", form_key="raced")
    # As if a writer had bypassed the deal's lock: the check under the lock finds nothing, and
    # the database's one-key-per-deal constraint is what refuses the second copy.
    found = services._logged_with_key
    missed = []

    def miss_once(deal, form_key):
        if not missed:
            missed.append(form_key)
            return None
        return found(deal, form_key)

    monkeypatch.setattr(services, "_logged_with_key", miss_once)
    again = log(deal, owner, "100", form_key="raced")
    assert missed == ["raced"]
    assert again.created is False
    assert again.concession.pk == first.concession.pk
    assert Concession.objects.filter(deal=deal).count() == 1
    assert len(events_of(deal, DealEvent.Kind.CONCESSION_LOGGED)) == 1
    deal.refresh_from_db()
    assert deal.conceded == Decimal("100.00")


def test_a_replayed_form_is_not_refused_even_when_its_amount_no_longer_fits(deal, owner):
    log(deal, owner, "1000", form_key="retry")
    again = log(deal, owner, "1000", form_key="retry")
    assert again.created is False
    assert_ledger_agrees(deal)


def test_the_form_key_is_unique_per_deal_not_across_deals(make_deal, owner):
    one, two = make_deal(), make_deal()
    assert log(one, owner, "100", form_key="shared").created
    assert log(two, owner, "100", form_key="shared").created
    assert Concession.objects.count() == 2


def test_a_form_key_is_not_a_way_to_read_another_deals_concession(deal, owner, teammate, make_deal):
    log(deal, owner, "100", form_key="mine")
    theirs = make_deal(user=teammate)
    with pytest.raises(services.NotAllowed):
        log(deal, teammate, "100", form_key="mine")
    assert log(theirs, teammate, "100", form_key="mine").created


def test_without_a_form_key_each_submission_is_a_new_concession(deal, owner):
    log(deal, owner, "100", form_key="")
    log(deal, owner, "100", form_key=None)
    assert Concession.objects.filter(deal=deal).count() == 2


# Bad input --------------------------------------------------------------------------------------

BAD_GIVES = [
    ({"amount": "0"}, "amount", "greater than zero"),
    ({"amount": Decimal("0.00")}, "amount", "greater than zero"),
    ({"amount": "-100"}, "amount", "positive"),
    ({"amount": "NaN"}, "amount", "such as 1250.00"),
    ({"amount": "Infinity"}, "amount", "such as 1250.00"),
    ({"amount": "-Infinity"}, "amount", "such as 1250.00"),
    ({"amount": "100.001"}, "amount", "two decimal places"),
    ({"amount": 10**15}, "amount", "too large"),
    ({"amount": "abc"}, "amount", "such as 1250.00"),
    ({"amount": 100.0}, "amount", "such as 1250.00"),
    ({"amount": None}, "amount", "such as 1250.00"),
    ({"description": ""}, "description", "What you gave is required."),
    ({"description": "  \n "}, "description", "What you gave is required."),
    ({"description": None}, "description", "What you gave is required."),
    ({"description": "x" * 2001}, "description", "under 2000 characters"),
    ({"got_in_return": "a\x00b"}, "got_in_return", "cannot be stored"),
    ({"kind": "bribe"}, "kind", "Choose a kind"),
    ({"kind": ""}, "kind", "Choose a kind"),
    ({"form_key": "k" * 65}, None, "reload the page"),
    ({"form_key": "line\nbreak"}, None, "reload the page"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    BAD_GIVES,
    ids=[repr(c)[:40] for c, _, _ in BAD_GIVES],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_stored(
    deal, owner, changes, field, message
):
    values = {"amount": "100", "description": "Discount", "kind": "price_discount"}
    values.update(changes)
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue) as refused:
        services.concession_log(deal=deal, user=owner, **values)
    assert refused.value.field == field
    assert message in refused.value.message
    assert rows() == before
    assert state(deal) == snapshot


def concession_form(**changes):
    data = {
        "kind": "price_discount",
        "amount": "1,250.00",
        "description": "Discount",
        "got_in_return": "",
        "form_key": "abc123",
    }
    data.update(changes)
    return ConcessionForm(data)


def test_the_concession_form_turns_typed_text_into_a_decimal():
    form = concession_form()
    assert form.is_valid(), form.errors
    assert form.cleaned_data["amount"] == Decimal("1250.00")
    assert type(form.cleaned_data["amount"]) is Decimal


def test_an_unbound_concession_form_carries_a_fresh_one_time_key():
    one, two = ConcessionForm(), ConcessionForm()
    assert one.initial["form_key"]
    assert one.initial["form_key"] != two.initial["form_key"]


BAD_FORMS = [
    ({"amount": "0"}, "amount", "Enter an amount greater than zero."),
    ({"amount": "-5"}, "amount", "Enter a positive amount."),
    ({"amount": "NaN"}, "amount", "Enter an amount such as 1250.00."),
    ({"amount": "Infinity"}, "amount", "Enter an amount such as 1250.00."),
    ({"amount": "1.0005"}, "amount", "Use at most two decimal places."),
    ({"amount": str(10**15)}, "amount", "That amount is too large."),
    ({"amount": "9" * 41}, "amount", "That amount is too large."),
    ({"amount": "abc"}, "amount", "Enter an amount such as 1250.00."),
    ({"amount": "12,50"}, "amount", "Enter an amount such as 1,250.00."),
    ({"amount": ""}, "amount", "This field is required."),
    ({"description": ""}, "description", "This field is required."),
    ({"description": "   "}, "description", "This field is required."),
    ({"description": "a\x00b"}, "description", "cannot be stored"),
    ({"kind": "bribe"}, "kind", "Select a valid choice."),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"), BAD_FORMS, ids=[repr(c)[:40] for c, _, _ in BAD_FORMS]
)
def test_the_concession_form_refuses_bad_input_next_to_its_field(changes, field, message):
    form = concession_form(**changes)
    assert not form.is_valid()
    assert message in str(form.errors[field])


def test_the_concession_form_shows_the_floor_refusal_next_to_the_amount(deal, owner):
    form = concession_form(amount="1000.01")
    assert form.is_valid()
    before = rows()
    with pytest.raises(services.BelowFloor) as refused:
        services.concession_log(deal=deal, user=owner, **form.cleaned_data)
    form.add_domain_error(refused.value)
    assert "$0.01 below your walk-away floor" in str(form.errors["amount"])
    assert rows() == before


# Rule 6: one transaction for the change and its event -------------------------------------------


def test_a_concession_is_not_stored_when_its_event_cannot_be(deal, owner, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before, snapshot = rows(), state(deal)
    with pytest.raises(RuntimeError):
        log(deal, owner, "100")
    assert rows() == before
    assert state(deal) == snapshot


def test_a_failure_after_the_event_rolls_back_the_concession_and_its_event(
    deal, owner, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("alerts down")

    monkeypatch.setattr(alerts, "level_changed", broken)
    before, snapshot = rows(), state(deal)
    with pytest.raises(RuntimeError):
        log(deal, owner, "500")
    assert rows() == before
    assert state(deal) == snapshot


# Retractions ------------------------------------------------------------------------------------


def test_a_retraction_is_a_new_negative_entry_linked_to_the_original(deal, owner):
    original = log(deal, owner, "600", description="Free onboarding").concession
    retraction = services.concession_retract(
        concession=original, user=owner, reason="Logged on the wrong deal"
    )
    retraction.refresh_from_db()
    original.refresh_from_db()
    assert retraction.amount == Decimal("-600.00")
    assert retraction.retracts == original
    assert original.retraction == retraction
    assert retraction.reason == "Logged on the wrong deal"
    assert retraction.kind == original.kind
    assert retraction.created_by == owner
    # The original is kept exactly as it was: concessions are never edited.
    assert original.amount == Decimal("600.00")
    [event] = events_of(deal, DealEvent.Kind.CONCESSION_RETRACTED)
    assert event.actor == owner
    assert event.concession == retraction
    assert event.data == {"amount": "-600.00", "retracts": original.pk}
    assert "Logged on the wrong deal" in event.summary
    deal.refresh_from_db()
    assert deal.conceded == 0
    assert deal.level == Level.ON_TRACK
    # The worst the deal ever got is remembered.
    assert deal.peak_level == Level.CAUTION
    changes = events_of(deal, DealEvent.Kind.LEVEL_CHANGED)
    assert [c.data for c in changes] == [
        {"from": "on_track", "to": "caution"},
        {"from": "caution", "to": "on_track"},
    ]
    assert_ledger_agrees(deal)


def test_retracting_frees_the_room_it_used(deal, owner):
    give = log(deal, owner, "1000").concession
    services.concession_retract(concession=give, user=owner, reason="Typo")
    assert log(deal, owner, "1000").created
    assert_ledger_agrees(deal)


def test_a_concession_can_be_retracted_only_once(deal, owner):
    original = log(deal, owner, "300").concession
    services.concession_retract(concession=original, user=owner, reason="Typo")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.AlreadyRetracted):
        services.concession_retract(concession=original, user=owner, reason="Again")
    assert rows() == before
    assert state(deal) == snapshot


def test_a_retraction_cannot_itself_be_retracted(deal, owner):
    original = log(deal, owner, "300").concession
    retraction = services.concession_retract(concession=original, user=owner, reason="Typo")
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.InvalidValue, match="cannot itself be retracted"):
        services.concession_retract(concession=retraction, user=owner, reason="Undo the undo")
    assert rows() == before
    assert state(deal) == snapshot


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_retraction_needs_a_reason(deal, owner, reason):
    original = log(deal, owner, "300").concession
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.concession_retract(concession=original, user=owner, reason=reason)
    assert refused.value.field == "reason"
    assert rows() == before


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_manager"])
def test_nobody_else_may_retract(deal, owner, request, who):
    original = log(deal, owner, "300").concession
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.NotAllowed):
        services.concession_retract(
            concession=original, user=request.getfixturevalue(who), reason="Mine now"
        )
    assert rows() == before
    assert state(deal) == snapshot


def test_a_manager_of_the_team_may_retract_a_reps_concession(deal, owner, manager):
    original = log(deal, owner, "300").concession
    retraction = services.concession_retract(concession=original, user=manager, reason="Typo")
    assert retraction.created_by == manager
    assert_ledger_agrees(deal)


def test_nothing_can_be_retracted_on_a_closed_deal(deal, owner):
    original = log(deal, owner, "300").concession
    services.deal_win(deal=deal, user=owner)
    before, snapshot = rows(), state(deal)
    with pytest.raises(services.DealClosed):
        services.concession_retract(concession=original, user=owner, reason="Typo")
    assert rows() == before
    assert state(deal) == snapshot


def test_a_retraction_is_not_stored_when_its_event_cannot_be(deal, owner, monkeypatch):
    original = log(deal, owner, "300").concession

    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before, snapshot = rows(), state(deal)
    with pytest.raises(RuntimeError):
        services.concession_retract(concession=original, user=owner, reason="Typo")
    assert rows() == before
    assert state(deal) == snapshot


# Rule 7, model-based: any sequence of gives and retractions keeps the ledger consistent --------

amounts = st.integers(min_value=1, max_value=60000).map(lambda c: Decimal(c).scaleb(-2))
moves = st.lists(
    st.one_of(
        st.tuples(st.just("give"), amounts),
        st.tuples(st.just("retract"), st.integers(min_value=0, max_value=30)),
    ),
    max_size=10,
)


class TestAnySequenceOfMoves(TestCase):
    def setUp(self):
        team = Team.objects.create(name="Sequences")
        self.rep = get_user_model().objects.create_user(username="seq-rep", password="x")
        Membership.objects.create(user=self.rep, team=team, role=Role.REP)
        self.team = team

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(moves=moves)
    def test_the_running_total_always_equals_the_ledger(self, moves):
        deal = services.deal_create(
            user=self.rep,
            team=self.team,
            title="Sequence",
            customer="Model",
            currency="USD",
            opening_price="10000",
            floor="9000",
        )
        room = Decimal("1000.00")
        expected = Decimal("0.00")
        ledger: list[Concession] = []
        retracted: set[int] = set()
        for move, value in moves:
            if move == "give":
                if value <= room - expected:
                    ledger.append(log(deal, self.rep, value).concession)
                    expected += value
                else:
                    with pytest.raises(services.BelowFloor) as refused:
                        log(deal, self.rep, value)
                    assert refused.value.shortfall == value - (room - expected)
            elif ledger:
                target = ledger[value % len(ledger)]
                if target.is_retraction:
                    with pytest.raises(services.InvalidValue):
                        services.concession_retract(concession=target, user=self.rep, reason="r")
                elif target.pk in retracted:
                    with pytest.raises(services.AlreadyRetracted):
                        services.concession_retract(concession=target, user=self.rep, reason="r")
                else:
                    ledger.append(
                        services.concession_retract(concession=target, user=self.rep, reason="r")
                    )
                    retracted.add(target.pk)
                    expected -= target.amount
            deal.refresh_from_db()
            assert deal.conceded == expected
            assert_ledger_agrees(deal)
            assert (
                deal.level
                == assess(
                    opening_price=deal.opening_price,
                    floor=deal.floor,
                    conceded=expected,
                    thresholds=Thresholds(),
                ).level
            )
            assert deal.net >= deal.floor
        changes = DealEvent.objects.filter(deal=deal)
        assert changes.filter(kind=DealEvent.Kind.CONCESSION_LOGGED).count() == sum(
            1 for c in ledger if not c.is_retraction
        )
        assert changes.filter(kind=DealEvent.Kind.CONCESSION_RETRACTED).count() == len(retracted)
        assert Deal.objects.get(pk=deal.pk).conceded == expected


def test_it_refuses_cents_in_a_currency_that_has_none(make_deal, give):
    yen = make_deal(currency="JPY", opening_price=Decimal("1000000"), floor=Decimal("900000"))
    with pytest.raises(services.InvalidValue) as e:
        give(yen, "1500.50")
    assert e.value.field == "amount"
    assert "JPY amounts have no minor units" in e.value.message
    assert not Concession.objects.filter(deal=yen).exists()
    give(yen, "1500")
    yen.refresh_from_db()
    assert yen.conceded == Decimal("1500.00")
