"""deal_create and the outcomes (DOMAIN.md, rule 1, rule 6 and Outcomes): won, lost, walked away,
came back. Every refusal leaves the database as it was."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from deals import services
from deals.erosion import Level
from deals.forms import DealForm
from deals.models import Concession, Deal, DealEvent, ExceptionRequest, Notification

MANAGER_COMMENT = "Strategic account; worth it."


def rows():
    """Everything a service might write, counted."""
    return (
        Deal.objects.count(),
        Concession.objects.count(),
        DealEvent.objects.count(),
        ExceptionRequest.objects.count(),
        Notification.objects.count(),
    )


def kinds(deal):
    return list(DealEvent.objects.filter(deal=deal).order_by("id").values_list("kind", flat=True))


def last_event(deal):
    return DealEvent.objects.filter(deal=deal).order_by("-id").first()


# deal_create ------------------------------------------------------------------------------------


def test_a_deal_is_born_open_with_its_floor_and_a_created_event(make_deal, owner, team):
    deal = make_deal(cost="6000")
    deal.refresh_from_db()
    assert deal.team == team
    assert deal.owner == owner
    assert deal.opening_price == Decimal("10000.00")
    assert deal.floor == Decimal("9000.00")
    assert deal.cost == Decimal("6000.00")
    assert deal.conceded == 0
    assert deal.level == Level.ON_TRACK
    assert deal.status == Deal.Status.OPEN
    assert not deal.came_back
    event = DealEvent.objects.get(deal=deal)
    assert event.kind == DealEvent.Kind.CREATED
    assert event.actor == owner
    assert event.data == {"opening_price": "10000.00", "floor": "9000.00", "currency": "USD"}
    assert "$10,000.00" in event.summary
    assert "$9,000.00" in event.summary


def test_a_deal_may_have_no_cost_and_a_floor_of_zero(make_deal):
    deal = make_deal(floor="0", cost="")
    deal.refresh_from_db()
    assert deal.floor == 0
    assert deal.cost is None


def test_the_currency_is_normalised_to_its_iso_code(make_deal):
    assert make_deal(currency=" eur ").currency == "EUR"


def test_a_rep_cannot_create_a_deal_in_a_team_they_are_not_in(make_deal, other_team):
    before = rows()
    with pytest.raises(services.NotAllowed):
        make_deal(team=other_team)
    assert rows() == before


def test_an_inactive_or_anonymous_user_cannot_create_a_deal(make_deal, owner):
    owner.is_active = False
    owner.save()
    before = rows()
    with pytest.raises(services.NotAllowed):
        make_deal()
    with pytest.raises(services.NotAllowed):
        make_deal(user=AnonymousUser())
    assert rows() == before


def test_a_manager_creates_deals_in_their_own_team(make_deal, manager):
    deal = make_deal(user=manager)
    assert deal.owner == manager
    assert last_event(deal).actor == manager


BAD_DEALS = [
    ("opening_price", "0", "opening_price", "greater than zero"),
    ("opening_price", "-100", "opening_price", "positive"),
    ("opening_price", "NaN", "opening_price", "such as 1250.00"),
    ("opening_price", "Infinity", "opening_price", "such as 1250.00"),
    ("opening_price", "10000.005", "opening_price", "two decimal places"),
    ("opening_price", 10**15, "opening_price", "too large"),
    ("opening_price", "abc", "opening_price", "such as 1250.00"),
    ("opening_price", 10000.0, "opening_price", "such as 1250.00"),
    ("floor", None, "floor", "such as 1250.00"),
    ("floor", "", "floor", "such as 1250.00"),
    ("floor", "-1", "floor", "positive"),
    ("floor", "NaN", "floor", "such as 1250.00"),
    ("floor", "9000.001", "floor", "two decimal places"),
    ("floor", "abc", "floor", "such as 1250.00"),
    ("floor", "10000", "floor", "below the opening price"),
    ("floor", "10000.01", "floor", "below the opening price"),
    ("cost", "-1", "cost", "positive"),
    ("cost", "Infinity", "cost", "such as 1250.00"),
    ("currency", "XYZ", "currency", "currency such as USD"),
    ("currency", "", "currency", "currency such as USD"),
    ("currency", None, "currency", "currency such as USD"),
    ("title", "", "title", "Title is required."),
    ("title", "   ", "title", "Title is required."),
    ("title", "x" * 201, "title", "under 200 characters"),
    ("customer", "", "customer", "Customer is required."),
    ("customer", "Nul\x00Corp", "customer", "cannot be stored"),
]


@pytest.mark.parametrize(
    ("field", "value", "error_field", "message"),
    BAD_DEALS,
    ids=[f"{f}={v!r}"[:40] for f, v, _, _ in BAD_DEALS],
)
def test_deal_create_refuses_bad_input_and_stores_nothing(
    make_deal, field, value, error_field, message
):
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        make_deal(**{field: value})
    assert refused.value.field == error_field
    assert message in refused.value.message
    assert rows() == before


def test_a_deal_is_not_stored_when_its_event_cannot_be(make_deal, monkeypatch):
    # The deal and its event share one transaction: no deal without its history.
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before = rows()
    with pytest.raises(RuntimeError):
        make_deal()
    assert rows() == before


# DealForm: the same bad input at the form layer -------------------------------------------------


def deal_form(team, **changes):
    data = {
        "title": "ERP roll-out",
        "customer": "Inkwell Print Ltd",
        "currency": "USD",
        "opening_price": "10,000.00",
        "floor": "9000",
        "cost": "",
    }
    data.update(changes)
    return DealForm(data, teams=[team])


def test_the_deal_form_turns_typed_text_into_decimals(team):
    form = deal_form(team)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["opening_price"] == Decimal("10000.00")
    assert type(form.cleaned_data["floor"]) is Decimal
    assert form.cleaned_data["cost"] is None
    assert form.cleaned_data["team"] == team


BAD_FORMS = [
    ("opening_price", "0", "opening_price", "Enter an amount greater than zero."),
    ("opening_price", "-5", "opening_price", "Enter a positive amount."),
    ("opening_price", "NaN", "opening_price", "Enter an amount such as 1250.00."),
    ("opening_price", "Infinity", "opening_price", "Enter an amount such as 1250.00."),
    ("opening_price", "100.0005", "opening_price", "Use at most two decimal places."),
    ("opening_price", str(10**15), "opening_price", "That amount is too large."),
    ("opening_price", "abc", "opening_price", "Enter an amount such as 1250.00."),
    ("opening_price", "", "opening_price", "This field is required."),
    ("floor", "-1", "floor", "Enter a positive amount."),
    ("floor", "10000", "floor", "The walk-away floor must be below the opening price."),
    ("floor", "10001", "floor", "The walk-away floor must be below the opening price."),
    ("currency", "XYZ", "currency", "Select a valid choice."),
    ("title", "", "title", "This field is required."),
    ("title", "   ", "title", "This field is required."),
]


@pytest.mark.parametrize(
    ("field", "value", "error_field", "message"),
    BAD_FORMS,
    ids=[f"{f}={v!r}"[:40] for f, v, _, _ in BAD_FORMS],
)
def test_the_deal_form_refuses_bad_input_next_to_its_field(
    team, field, value, error_field, message
):
    form = deal_form(team, **{field: value})
    assert not form.is_valid()
    assert message in str(form.errors[error_field])


def test_the_deal_form_carries_a_service_refusal_next_to_its_field(team, owner):
    form = deal_form(team)
    assert form.is_valid()
    before = rows()
    try:
        services.deal_create(user=owner, **{**form.cleaned_data, "floor": "10000"})
    except services.DomainError as e:
        form.add_domain_error(e)
    assert "below the opening price" in str(form.errors["floor"])
    assert rows() == before


# Outcomes ---------------------------------------------------------------------------------------


def test_winning_without_a_price_closes_the_deal_at_its_net(deal, owner, give):
    give(deal, "300")
    won = services.deal_win(deal=deal, user=owner)
    won.refresh_from_db()
    assert won.status == Deal.Status.WON
    assert won.final_price == Decimal("9700.00")
    assert won.closed_at is not None
    event = last_event(deal)
    assert (event.kind, event.actor, event.data) == (
        DealEvent.Kind.WON,
        owner,
        {"final_price": "9700.00"},
    )


def test_winning_at_a_stated_price_keeps_that_price(deal, owner):
    won = services.deal_win(deal=deal, user=owner, final_price="9,500.00")
    won.refresh_from_db()
    assert won.final_price == Decimal("9500.00")


def test_winning_exactly_at_the_floor_needs_no_exception(deal, owner):
    won = services.deal_win(deal=deal, user=owner, final_price="9000")
    assert won.final_price == Decimal("9000.00")


def test_a_final_price_below_the_floor_without_an_approved_exception_is_refused(deal, owner):
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.deal_win(deal=deal, user=owner, final_price="8999.99")
    assert refused.value.field == "final_price"
    assert "needs an approved exception" in refused.value.message
    assert rows() == before
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN
    assert deal.final_price is None


def test_a_rejected_exception_does_not_allow_a_final_price_below_the_floor(
    deal, owner, manager, give
):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Big discount"
    )
    services.exception_reject(exception_request=request, user=manager, comment="No.")
    with pytest.raises(services.InvalidValue):
        services.deal_win(deal=deal, user=owner, final_price="8800")


def test_with_an_approved_exception_the_deal_may_be_won_below_the_floor(deal, owner, manager, give):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Big discount"
    )
    services.exception_approve(exception_request=request, user=manager, comment=MANAGER_COMMENT)
    won = services.deal_win(deal=deal, user=owner)
    won.refresh_from_db()
    assert won.final_price == Decimal("8800.00")
    assert won.final_price < won.floor


def test_an_approved_exception_does_not_unlock_a_price_below_the_approved_net(
    deal, owner, manager, give
):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Big discount"
    )
    services.exception_approve(exception_request=request, user=manager, comment=MANAGER_COMMENT)
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.deal_win(deal=deal, user=owner, final_price="8799.99")
    assert "below the approved net ($8,800.00)" in refused.value.message
    assert rows() == before
    # Anywhere from the approved net up is fine.
    won = services.deal_win(deal=deal, user=owner, final_price="8900")
    assert won.final_price == Decimal("8900.00")


def test_a_retracted_exception_no_longer_allows_a_price_below_the_floor(deal, owner, manager, give):
    give(deal, "900")
    request = services.exception_request(
        deal=deal, user=owner, kind="price_discount", amount="300", description="Big discount"
    )
    approved = services.exception_approve(
        exception_request=request, user=manager, comment=MANAGER_COMMENT
    )
    services.concession_retract(concession=approved, user=owner, reason="Customer relented")
    with pytest.raises(services.InvalidValue, match=r"below the walk-away floor \(\$9,000.00\)"):
        services.deal_win(deal=deal, user=owner, final_price="8800")


@pytest.mark.parametrize("price", ["0", "-1", "NaN", "Infinity", "1.001", "abc", 10**15])
def test_a_bad_final_price_is_refused_and_the_deal_stays_open(deal, owner, price):
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.deal_win(deal=deal, user=owner, final_price=price)
    assert refused.value.field == "final_price"
    assert rows() == before
    deal.refresh_from_db()
    assert deal.is_open


def test_losing_keeps_the_reason_and_the_note(deal, owner):
    lost = services.deal_lose(deal=deal, user=owner, reason="competitor", note="Went with Acme.")
    lost.refresh_from_db()
    assert lost.status == Deal.Status.LOST
    assert lost.lost_reason == Deal.LostReason.COMPETITOR
    assert lost.outcome_note == "Went with Acme."
    assert lost.closed_at is not None
    event = last_event(deal)
    assert (event.kind, event.actor, event.data) == (
        DealEvent.Kind.LOST,
        owner,
        {"reason": "competitor"},
    )
    assert "Competitor" in event.summary


@pytest.mark.parametrize("reason", ["", "bored", None])
def test_losing_needs_one_of_the_lost_reasons(deal, owner, reason):
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.deal_lose(deal=deal, user=owner, reason=reason)
    assert refused.value.field == "reason"
    assert rows() == before


def test_walking_away_remembers_the_net_at_that_moment(deal, owner, give):
    give(deal, "250")
    gone = services.deal_walk_away(deal=deal, user=owner, reason="They want it below cost.")
    gone.refresh_from_db()
    assert gone.status == Deal.Status.WALKED_AWAY
    assert gone.walked_away_net == Decimal("9750.00")
    assert gone.walked_away_at is not None
    assert gone.closed_at is not None
    assert gone.outcome_note == "They want it below cost."
    event = last_event(deal)
    assert (event.kind, event.actor, event.data) == (
        DealEvent.Kind.WALKED_AWAY,
        owner,
        {"net": "9750.00"},
    )


def test_walking_away_needs_a_reason(deal, owner):
    before = rows()
    with pytest.raises(services.InvalidValue) as refused:
        services.deal_walk_away(deal=deal, user=owner, reason="  ")
    assert refused.value.field == "reason"
    assert rows() == before


def test_a_customer_who_comes_back_reopens_the_deal(deal, owner, give):
    give(deal, "250")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    back = services.deal_come_back(deal=deal, user=owner)
    back.refresh_from_db()
    assert back.status == Deal.Status.OPEN
    assert back.came_back is True
    assert back.closed_at is None
    assert back.walked_away_net == Decimal("9750.00")
    event = last_event(deal)
    assert (event.kind, event.actor) == (DealEvent.Kind.CAME_BACK, owner)
    assert event.data == {
        "walked_away_net": "9750.00",
        # Without a date, the customer came back today.
        "came_back_on": timezone.localdate().isoformat(),
        "offer": None,
        "note": "",
    }
    # Reopened means open: concessions may be logged again.
    give(deal, "100")
    deal.refresh_from_db()
    assert deal.conceded == Decimal("350.00")


def test_a_comeback_won_at_or_above_the_walk_away_net_is_won_on_our_terms(deal, owner, give):
    give(deal, "250")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    services.deal_come_back(deal=deal, user=owner)
    services.deal_win(deal=deal, user=owner, final_price="9750")
    assert "Won on our terms." in last_event(deal).summary


def test_a_comeback_won_below_the_walk_away_net_is_not_on_our_terms(deal, owner, give):
    give(deal, "250")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    services.deal_come_back(deal=deal, user=owner)
    give(deal, "100")
    services.deal_win(deal=deal, user=owner)
    summary = last_event(deal).summary
    assert "Won on our terms." not in summary
    assert "below the net we walked away at" in summary


@pytest.mark.parametrize("outcome", ["open", "won", "lost"])
def test_only_a_deal_walked_away_from_can_come_back(deal, owner, outcome):
    if outcome == "won":
        services.deal_win(deal=deal, user=owner)
    elif outcome == "lost":
        services.deal_lose(deal=deal, user=owner, reason="price")
    before = rows()
    with pytest.raises(services.DealClosed):
        services.deal_come_back(deal=deal, user=owner)
    assert rows() == before
    deal.refresh_from_db()
    assert not deal.came_back


def close(deal, user, how):
    if how == "won":
        return services.deal_win(deal=deal, user=user)
    if how == "lost":
        return services.deal_lose(deal=deal, user=user, reason="price")
    return services.deal_walk_away(deal=deal, user=user, reason="Too low.")


@pytest.mark.parametrize("first", ["won", "lost", "walked_away"])
@pytest.mark.parametrize("then", ["won", "lost", "walked_away"])
def test_a_closed_deal_cannot_be_closed_again(deal, owner, first, then):
    close(deal, owner, first)
    before = rows()
    with pytest.raises(services.DealClosed):
        close(deal, owner, then)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.status == first


@pytest.mark.parametrize("how", ["won", "lost", "walked_away"])
def test_a_manager_of_the_team_may_close_a_reps_deal(deal, manager, how):
    close(deal, manager, how)
    assert last_event(deal).actor == manager


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_manager"])
@pytest.mark.parametrize("how", ["won", "lost", "walked_away", "came_back"])
def test_nobody_else_may_close_or_reopen_the_deal(deal, owner, request, who, how):
    if how == "came_back":
        services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    user = request.getfixturevalue(who)
    before = rows()
    with pytest.raises(services.NotAllowed):
        if how == "came_back":
            services.deal_come_back(deal=deal, user=user)
        else:
            close(deal, user, how)
    assert rows() == before


def test_an_inactive_owner_cannot_act_on_their_deal(deal, owner):
    owner.is_active = False
    owner.save()
    with pytest.raises(services.NotAllowed):
        services.deal_win(deal=deal, user=owner)


@pytest.mark.parametrize("how", ["won", "lost", "walked_away"])
def test_an_outcome_is_not_stored_when_its_event_cannot_be(deal, owner, monkeypatch, how):
    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before = rows()
    with pytest.raises(RuntimeError):
        close(deal, owner, how)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.is_open
    assert deal.closed_at is None


def test_a_comeback_is_not_stored_when_its_event_cannot_be(deal, owner, monkeypatch):
    services.deal_walk_away(deal=deal, user=owner, reason="Too low.")

    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr(services, "_event", broken)
    before = rows()
    with pytest.raises(RuntimeError):
        services.deal_come_back(deal=deal, user=owner)
    assert rows() == before
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WALKED_AWAY
    assert not deal.came_back


def test_the_history_of_a_deal_that_walked_away_and_came_back(deal, owner, give):
    give(deal, "500")
    services.deal_walk_away(deal=deal, user=owner, reason="Too low.")
    services.deal_come_back(deal=deal, user=owner)
    services.deal_win(deal=deal, user=owner)
    assert kinds(deal) == [
        DealEvent.Kind.CREATED,
        DealEvent.Kind.CONCESSION_LOGGED,
        DealEvent.Kind.LEVEL_CHANGED,
        DealEvent.Kind.WALKED_AWAY,
        DealEvent.Kind.CAME_BACK,
        DealEvent.Kind.WON,
    ]


def test_it_refuses_a_yen_deal_priced_in_cents(make_deal):
    with pytest.raises(services.InvalidValue) as e:
        make_deal(currency="JPY", opening_price=Decimal("1000000.50"), floor=Decimal("900000"))
    assert e.value.field == "opening_price"
    assert not Deal.objects.exists()
