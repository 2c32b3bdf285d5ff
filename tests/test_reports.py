"""deals/reports.py: the dashboard's figures, checked against the hand-worked expectations of
tests/review.py (see build_review's docstring), on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from deals import reports, services
from deals.access import Access
from deals.models import Concession, Deal

from .conftest import is_postgres, require_postgres
from .review import build_review, give

D = Decimal


@pytest.fixture
def review(make_deal, owner, teammate, manager, outsider, other_team):
    return build_review(
        make_deal=make_deal,
        owner=owner,
        teammate=teammate,
        manager=manager,
        outsider=outsider,
        other_team=other_team,
    )


def managed(user):
    return Deal.objects.managed_by(Access.of(user))


def by_rep(figures):
    return {f.username: f for f in figures}


def by_currency(figures):
    return {f.currency: f for f in figures}


# Per rep ----------------------------------------------------------------------------------------


def test_the_per_rep_counts_match_the_hand_worked_history(review, manager):
    reps = by_rep(reports.rep_figures(managed(manager)))
    assert set(reps) == {"olivia", "tom"}
    olivia, tom = reps["olivia"], reps["tom"]
    assert (olivia.deals, olivia.gives, olivia.gives_without_gets) == (5, 5, 3)
    assert (olivia.closed, olivia.won, olivia.walk_aways) == (4, 3, 2)
    assert (olivia.exceptions_approved, olivia.exceptions_rejected, olivia.exceptions_pending) == (
        0,
        0,
        1,
    )
    assert (tom.deals, tom.gives, tom.gives_without_gets) == (4, 5, 4)
    assert (tom.closed, tom.won, tom.walk_aways) == (3, 2, 1)
    assert (tom.exceptions_approved, tom.exceptions_rejected, tom.exceptions_pending) == (1, 1, 0)
    assert tom.exception_requests == 2


def test_the_per_rep_ratios_are_exact_decimals(review, manager):
    reps = by_rep(reports.rep_figures(managed(manager)))
    olivia, tom = reps["olivia"], reps["tom"]
    assert olivia.concessions_per_deal == D("1.00")
    assert tom.concessions_per_deal == D("1.25")
    assert olivia.share_without_gets == D("60.00")
    assert tom.share_without_gets == D("80.00")
    assert olivia.win_rate == D("75.00")
    assert tom.win_rate == D("66.67")
    for value in (olivia.win_rate, tom.share_without_gets, tom.concessions_per_deal):
        assert isinstance(value, Decimal)


def test_the_median_room_used_at_close_takes_the_middle_of_an_odd_count_and_the_mean_of_an_even_one(
    review, manager
):
    reps = by_rep(reports.rep_figures(managed(manager)))
    # olivia closed at 0, 10, 50 and 80% (even): (10 + 50) / 2. tom at 0, 90 and 110% (odd).
    assert reps["olivia"].median_room_used_at_close == D("30.00")
    assert reps["tom"].median_room_used_at_close == D("90.00")


def test_the_window_median_agrees_on_either_database(review, manager):
    # The SQLite way (window functions) is standard SQL, so it is checked on PostgreSQL too,
    # where the dashboard itself uses percentile_cont.
    closed = managed(manager).filter(status__in=reports.CLOSED_STATUSES)
    medians = reports._median_with_windows(closed)
    assert {k: D(v).quantize(D("0.01")) for k, v in medians.items()} == {
        review.A.owner_id: D("30.00"),
        review.F.owner_id: D("90.00"),
    }


def test_the_median_is_computed_by_postgresql_in_exact_numerics(
    review, manager, django_assert_num_queries
):
    require_postgres()
    deals = managed(manager)  # the manager's memberships are read here, not in the median
    with django_assert_num_queries(1) as captured:
        medians = reports.median_room_used_at_close(deals)
    # percentile_cont would pass through double precision; percentile_disc keeps numerics.
    sql = captured.captured_queries[0]["sql"]
    assert "PERCENTILE_DISC(0.5)" in sql
    assert "PERCENTILE_CONT" not in sql
    assert medians[review.F.owner_id] == D("90")


def test_a_median_over_one_deal_is_that_deal(make_deal, owner, manager):
    deal = make_deal()
    give(deal, "333")
    services.deal_win(deal=deal, user=owner)
    median = reports.median_room_used_at_close(managed(manager))[owner.pk]
    assert D(median).quantize(D("0.01")) == D("33.30")


def test_a_rep_with_nothing_closed_and_no_gives_has_no_ratio_rather_than_zero(
    make_deal, owner, manager
):
    make_deal()
    (figures,) = reports.rep_figures(managed(manager))
    assert figures.deals == 1
    assert figures.median_room_used_at_close is None
    assert figures.win_rate is None
    assert figures.share_without_gets is None
    assert figures.concessions_per_deal == D("0.00")


def test_the_per_rep_figures_are_two_queries_whatever_the_number_of_deals(
    review, manager, make_deal, teammate, django_assert_num_queries
):
    # The deals and their ledger, then the exception requests; SQLite, which has no percentile
    # function, adds one for the medians.
    queries = 2 if is_postgres() else 3
    deals = managed(manager)
    with django_assert_num_queries(queries):
        reports.rep_figures(deals)
    for _ in range(10):
        give(make_deal(user=teammate), "10")
    deals = managed(manager)
    with django_assert_num_queries(queries):
        reports.rep_figures(deals)


def test_retracted_gives_are_left_out_whether_or_not_they_had_a_get(make_deal, owner, manager):
    # Standing gives are counted as entries less twice the retractions, and those without a get
    # as such gives less the retractions of such gives: both retraction kinds must come out.
    deal = make_deal()
    give(deal, "10", got="A reference")
    give(deal, "20", got="")
    give(deal, "30", got="")
    give(deal, "40", got="A case study")
    for amount in ("10", "20"):
        concession = Concession.objects.get(deal=deal, amount=D(amount))
        services.concession_retract(concession=concession, user=owner, reason="Typo")
    (figures,) = reports.rep_figures(managed(manager))
    assert (figures.gives, figures.gives_without_gets) == (2, 1)


def test_a_manager_never_sees_another_teams_reps_and_staff_sees_every_team(
    review, manager, other_manager, staff
):
    assert set(by_rep(reports.rep_figures(managed(other_manager)))) == {"oscar"}
    assert set(by_rep(reports.rep_figures(managed(staff)))) == {"olivia", "tom", "oscar"}


def test_the_period_holds_the_deals_created_in_it(review, manager):
    # Only the timestamp moves: everything else about deal A stays as the services wrote it.
    long_ago = timezone.now() - dt.timedelta(days=200)
    Deal.objects.filter(pk=review.A.pk).update(created_at=long_ago, version=F("version") + 1)
    today = timezone.localdate()
    recent = reports.Period(start=today - dt.timedelta(days=89), end=today)
    olivia = by_rep(reports.rep_figures(recent.deals(managed(manager))))["olivia"]
    assert (olivia.deals, olivia.won, olivia.gives) == (4, 2, 3)
    everything = reports.Period(start=long_ago.date(), end=today)
    assert by_rep(reports.rep_figures(everything.deals(managed(manager))))["olivia"].deals == 5


# Walk-aways and comebacks -----------------------------------------------------------------------


def test_walk_away_figures_are_per_currency(review, manager):
    rows = by_currency(reports.walk_away_figures(managed(manager)))
    assert list(rows) == ["EUR", "USD"]
    usd, eur = rows["USD"], rows["EUR"]
    assert (usd.walked_away, usd.came_back, usd.won_on_our_terms) == (1, 1, 1)
    assert (usd.comeback_rate, usd.on_our_terms_share) == (D("100.00"), D("100.00"))
    assert (usd.comeback_wins, usd.comeback_win_margin) == (1, D("20.00"))
    assert (usd.danger_wins, usd.danger_win_margin) == (2, D("17.50"))
    assert (eur.walked_away, eur.came_back, eur.won_on_our_terms) == (2, 1, 0)
    assert (eur.comeback_rate, eur.on_our_terms_share) == (D("50.00"), D("0.00"))


def test_an_empty_group_has_no_margin_rather_than_zero(review, manager):
    eur = by_currency(reports.walk_away_figures(managed(manager)))["EUR"]
    # H came back and won, but its cost is unknown: there is no margin to average.
    assert (eur.comeback_wins, eur.comeback_win_margin) == (0, None)
    assert (eur.danger_wins, eur.danger_win_margin) == (0, None)


def test_no_walk_away_means_no_comeback_rate(make_deal, manager):
    make_deal()
    (usd,) = reports.walk_away_figures(managed(manager))
    assert (usd.walked_away, usd.comeback_rate, usd.on_our_terms_share) == (0, None, None)


def test_walk_away_figures_are_one_query(review, manager, django_assert_num_queries):
    deals = managed(manager)
    with django_assert_num_queries(1):
        reports.walk_away_figures(deals)


# Level counts and the deal list -----------------------------------------------------------------


def test_open_deals_are_counted_per_level_with_every_level_listed(review, manager):
    counts = {c.level: c.count for c in reports.open_level_counts(managed(manager))}
    assert counts == {"on_track": 0, "caution": 1, "danger": 1, "at_floor": 0, "below_floor": 0}


def test_the_deal_list_puts_the_most_room_used_first(review, manager):
    listed = reports.deals_by_room_used(
        reports.filter_deals(managed(manager), reports.DealFilters(status=""))
    )
    assert [d.title for d in listed] == [
        "Deal G",  # 110%
        "Deal F",  # 90%
        "Deal I",  # 85%
        "Deal B",  # 80%
        "Deal D",  # 60%
        "Deal A",  # 50%
        "Deal C",  # 10%
        # E and H are both at 0%: the most recent activity first.
        "Deal H",
        "Deal E",
    ]


@pytest.mark.parametrize(
    ("filters", "letters"),
    [
        (reports.DealFilters(), "DI"),
        (reports.DealFilters(status=""), "ABCDEFGHI"),
        (reports.DealFilters(status="won"), "ABCGH"),
        (reports.DealFilters(status="", level="danger"), "BFI"),
        (reports.DealFilters(status="walked_away"), "E"),
    ],
)
def test_the_deal_filter_selects_by_status_and_level(review, manager, filters, letters):
    titles = set(reports.filter_deals(managed(manager), filters).values_list("title", flat=True))
    assert titles == {f"Deal {letter}" for letter in letters}


def test_the_deal_filter_selects_by_rep(review, manager, teammate):
    filters = reports.DealFilters(status="", rep_id=teammate.pk)
    titles = set(reports.filter_deals(managed(manager), filters).values_list("title", flat=True))
    assert titles == {"Deal F", "Deal G", "Deal H", "Deal I"}


def test_the_date_range_is_inclusive_and_applies_to_creation_or_last_activity(review, manager):
    today = timezone.localdate()
    week_ago = timezone.now() - dt.timedelta(days=7)
    Deal.objects.filter(pk=review.D.pk).update(
        created_at=week_ago, updated_at=week_ago, version=F("version") + 1
    )
    Deal.objects.filter(pk=review.I.pk).update(created_at=week_ago, version=F("version") + 1)

    def titles(**kwargs):
        filters = reports.DealFilters(**kwargs)
        return set(reports.filter_deals(managed(manager), filters).values_list("title", flat=True))

    assert titles(date_from=today, date_to=today) == set()
    assert titles(date_field="activity", date_from=today, date_to=today) == {"Deal I"}
    assert titles(date_to=week_ago.date()) == {"Deal D", "Deal I"}
    assert titles(date_field="activity", date_to=week_ago.date()) == {"Deal D"}


def test_room_used_on_postgresql_is_exact(make_deal, manager):
    require_postgres()
    deal = make_deal()
    give(deal, "333.33")
    (listed,) = reports.deals_by_room_used(managed(manager))
    assert listed.room_used == D("33.333")


def test_room_used_sorts_fractions_correctly_on_either_database(make_deal, manager):
    # SQLite would divide whole amounts as integers (333 * 100 / 1000 = 33) without Percent's
    # cast; 33.3% must sort above 33%.
    low, high = make_deal(title="Low"), make_deal(title="High")
    give(low, "330")
    give(high, "333")
    listed = list(reports.deals_by_room_used(managed(manager)))
    assert [d.title for d in listed] == ["High", "Low"]
    assert listed[0].room_used > D("33.2")
    if not is_postgres():
        assert listed[0].room_used < D("33.4")


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_first_and_last_days_of_the_calendar_exclude_nothing(review, manager, settings, zone):
    # A date input accepts years 1 to 9999; midnight of 1 January of year 1 east of Greenwich
    # is before the first instant a database can hold, and the day after 9999-12-31 never comes.
    settings.TIME_ZONE = zone
    filters = reports.DealFilters(status="", date_from=dt.date.min, date_to=dt.date.max)
    assert reports.filter_deals(managed(manager), filters).count() == 9
    period = reports.Period(start=dt.date.min, end=dt.date.max)
    assert sum(f.deals for f in reports.rep_figures(period.deals(managed(manager)))) == 9
    assert reports.days_before(dt.date.min, 89) == dt.date.min
