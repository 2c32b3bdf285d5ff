"""The benchmark's seeder (bench/seed.py), at a tiny scale: the data `make bench` measures must be
data the app itself could have written, or the benchmark measures nothing."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from bench.seed import PASSWORD, Scale, seed
from deals import erosion
from deals.access import Access
from deals.erosion import LEVEL_RANK, Level
from deals.models import Concession, Deal, DealEvent, DealStatus, ExceptionRequest
from tests.conftest import require_postgres

TINY = Scale(
    deals=120,
    concessions=1200,
    teams=2,
    reps=6,
    probe_sizes=(0, 5, 50),
    probes_each=1,
    cold_deals=20,
    cold_sizes=(15, 40),
)


@pytest.fixture
def seeded(db):
    require_postgres()
    return seed(TINY, progress=False, vacuum=False)


def test_it_seeds_exactly_the_deals_and_concessions_asked_for(seeded):
    assert Deal.objects.count() == seeded["deals"] == TINY.deals
    assert Concession.objects.count() == seeded["concessions"] == TINY.concessions
    assert DealEvent.objects.count() == seeded["events"]


def test_every_deals_conceded_total_is_the_sum_of_its_ledger(seeded):
    wrong = Deal.objects.annotate(
        total=Coalesce(Sum("concessions__amount"), 0, output_field=Deal._meta.get_field("conceded"))
    ).exclude(conceded=F("total"))
    assert list(wrong.values_list("pk", "conceded", "total")) == []


def test_every_deals_level_is_what_the_erosion_service_says(seeded):
    for deal in Deal.objects.all():
        expected = erosion.level(deal.conceded, deal.opening_price - deal.floor)
        assert deal.level == expected, deal.pk
        assert LEVEL_RANK[Level(deal.peak_level)] >= LEVEL_RANK[expected], deal.pk


def test_it_covers_every_level_and_every_status(seeded):
    assert set(Deal.objects.values_list("level", flat=True)) == set(Level.values)
    assert set(Deal.objects.values_list("status", flat=True)) == set(DealStatus.values)
    assert Deal.objects.filter(came_back=True).exists()


def test_every_change_has_its_event(seeded):
    events = Counter(DealEvent.objects.values_list("kind", flat=True))
    assert events[DealEvent.Kind.CREATED] == TINY.deals
    # One event per ledger entry, pointing at it.
    per_concession = Concession.objects.annotate(n=Count("events")).values_list("n", flat=True)
    assert set(per_concession) == {1}
    closed = Deal.objects.exclude(status=DealStatus.OPEN)
    assert not closed.exclude(
        events__kind__in=[DealEvent.Kind.WON, DealEvent.Kind.LOST, DealEvent.Kind.WALKED_AWAY]
    ).exists()
    # The level on the deal is the one its last level change moved it to.
    for deal in Deal.objects.exclude(level=Level.ON_TRACK):
        last = deal.events.filter(kind=DealEvent.Kind.LEVEL_CHANGED).order_by("-id").first()
        assert last is not None and last.data["to"] == deal.level, deal.pk


def test_a_deal_below_its_floor_got_there_through_an_approved_exception(seeded):
    below = Deal.objects.filter(level=Level.BELOW_FLOOR)
    assert below.exists()
    for deal in below:
        last = deal.concessions.order_by("-id").first()
        assert last.exception_request is not None
        assert last.exception_request.status == ExceptionRequest.Status.APPROVED
        assert last.amount > deal.opening_price - deal.floor - (deal.conceded - last.amount)


def test_retractions_undo_exactly_one_earlier_give_of_the_same_deal(seeded):
    retractions = Concession.objects.filter(retracts__isnull=False).select_related("retracts")
    assert retractions.exists()
    for r in retractions:
        assert r.deal_id == r.retracts.deal_id
        assert r.amount == -r.retracts.amount
        assert r.pk > r.retracts.pk


def test_the_probe_deals_have_exactly_their_sizes_and_are_open(seeded):
    for size, pks in seeded["probes"].items():
        for deal in Deal.objects.filter(pk__in=pks).annotate(n=Count("concessions")):
            assert deal.n == int(size)
            assert deal.status == DealStatus.OPEN
            assert deal.owner.username == seeded["rep"]


def test_pending_requests_exist_for_the_approvals_page(seeded):
    assert ExceptionRequest.objects.filter(
        status=ExceptionRequest.Status.PENDING, deal__status=DealStatus.OPEN
    ).exists()
    assert not ExceptionRequest.objects.filter(
        ~Q(status=ExceptionRequest.Status.PENDING), decided_by__isnull=True
    ).exists()


def test_the_benchmark_users_log_in_with_the_known_password(seeded):
    users = get_user_model().objects.filter(
        username__in=[seeded["rep"], seeded["manager"], seeded["director"]]
    )
    assert users.count() == 3
    assert all(user.check_password(PASSWORD) for user in users)
    director = users.get(username=seeded["director"])
    assert Deal.objects.managed_by(Access.of(director)).count() == TINY.deals


def test_a_staff_user_in_no_team_sees_every_deal(seeded):
    staff = get_user_model().objects.get(username=seeded["staff"])
    assert staff.is_staff and not staff.is_superuser
    assert staff.check_password(PASSWORD)
    assert not staff.memberships.exists()
    assert Deal.objects.visible_to(Access.of(staff)).count() == TINY.deals


def test_the_first_managers_cold_deals_have_their_sizes(seeded):
    """The deals the first team's manager opens in turn: as many as asked, all the team's."""
    low, high = TINY.cold_sizes
    cold = seeded["cold_deals"]
    assert len(set(cold)) == TINY.cold_deals
    manager = get_user_model().objects.get(username=seeded["managers"][0])
    deals = (
        Deal.objects.managed_by(Access.of(manager))
        .filter(pk__in=cold)
        .annotate(n=Count("concessions"))
    )
    assert deals.count() == TINY.cold_deals
    assert all(low <= deal.n <= high for deal in deals)
    assert not set(cold) & {pk for pks in seeded["probes"].values() for pk in pks}


def _deal_columns() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [Deal._meta.db_table],
        )
        return {name for (name,) in cursor.fetchall()}


def _versions_and_events() -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.id, d.version, "
            "(SELECT count(*) FROM deals_dealevent e WHERE e.deal_id = d.id) FROM deals_deal d"
        )
        return cursor.fetchall()


def test_a_version_column_is_filled_when_the_table_has_one(db):
    """Before deals have a version the seeder copies none; once they have, each deal's is one
    more for every event after its creation. Tried on a table given the column here, in this
    test's transaction, when the app's own migrations have not given it one yet."""
    require_postgres()
    if "version" not in _deal_columns():
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE deals_deal ADD COLUMN version integer NOT NULL DEFAULT 1 "
                "CHECK (version >= 0)"
            )
    meta = seed(TINY, progress=False, vacuum=False)
    assert meta["version_column"] is True
    rows = _versions_and_events()
    assert len(rows) == TINY.deals
    assert all(version == events >= 1 for _, version, events in rows)


def test_without_a_version_column_the_seeder_copies_none(seeded):
    assert seeded["version_column"] == ("version" in _deal_columns())
