"""Rule 7 and rule 8 under real concurrency, on PostgreSQL: many people logging at the same
instant never jointly cross the floor, and a form posted many times at once logs once."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection

from deals import services
from deals.models import Concession, Deal, DealEvent
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(count, work):
    """Start `count` threads that call work(i) at the same instant; return what each produced.

    Each thread has its own database connection and closes it, so the test database can be
    dropped afterwards.
    """
    barrier = threading.Barrier(count, timeout=30)
    results: list[object] = [None] * count

    def worker(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as e:  # collected and asserted on by the test
            results[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def ledger(deal):
    return list(Concession.objects.filter(deal=deal).values_list("amount", flat=True))


def test_twenty_reps_at_once_never_cross_the_floor(make_deal, owner, manager):
    require_postgres()
    # 9,600 of 10,000 already gone to a floor of 8,600: exactly 1,000 (ten gives of 100) left.
    deal = make_deal(opening_price="10000", floor="8600")
    services.concession_log(
        deal=deal, user=owner, kind="other", amount="400", description="Earlier give"
    )
    users = [owner, manager]

    def give_100(i):
        return services.concession_log(
            deal=deal,
            user=users[i % 2],
            kind="price_discount",
            amount=Decimal("100.00"),
            description=f"Give {i}",
            form_key=f"thread-{i}",
        )

    results = run_at_once(20, give_100)

    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"LogResult": 10, "BelowFloor": 10}, results
    for refused in (r for r in results if isinstance(r, services.BelowFloor)):
        assert refused.shortfall == Decimal("100.00")
        assert refused.remaining == 0
    assert all(r.created for r in results if isinstance(r, services.LogResult))

    deal.refresh_from_db()
    amounts = ledger(deal)
    assert len(amounts) == 11
    assert deal.conceded == sum(amounts) == Decimal("1400.00") == deal.opening_price - deal.floor
    assert deal.net == deal.floor
    assert deal.level == "at_floor"
    logged = DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.CONCESSION_LOGGED).count()
    assert logged == 11


def test_the_same_form_posted_five_times_at_once_logs_one_concession(make_deal, owner):
    require_postgres()
    deal = make_deal()

    def post(i):
        return services.concession_log(
            deal=deal,
            user=owner,
            kind="free_product",
            amount="250.00",
            description="Spare toner",
            form_key="one-form",
        )

    results = run_at_once(5, post)

    assert all(isinstance(r, services.LogResult) for r in results), results
    assert sorted(r.created for r in results) == [False, False, False, False, True]
    assert len({r.concession.pk for r in results}) == 1
    deal.refresh_from_db()
    assert ledger(deal) == [Decimal("250.00")]
    assert deal.conceded == Decimal("250.00")
    assert DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.CONCESSION_LOGGED).count() == 1


def test_a_retraction_racing_a_give_keeps_the_running_total_true(make_deal, owner, manager):
    require_postgres()
    deal = make_deal()
    first = services.concession_log(
        deal=deal, user=owner, kind="other", amount="1000", description="All of it"
    ).concession

    def work(i):
        if i == 0:
            return services.concession_retract(concession=first, user=manager, reason="Typo")
        return services.concession_log(
            deal=deal, user=owner, kind="other", amount="500", description=f"Give {i}"
        )

    results = run_at_once(4, work)

    expected = (Concession, services.LogResult, services.BelowFloor)
    assert all(isinstance(r, expected) for r in results), results
    assert isinstance(results[0], Concession)
    deal = Deal.objects.get(pk=deal.pk)
    assert deal.conceded == sum(ledger(deal))
    assert deal.net >= deal.floor
