"""Deal.version: every write to a deal moves it, through one helper (services._save).

tests/conftest.py checks every save of a deal in every test; these prove that each writer
moves the version by going through it, and that the guard itself would catch one that did not.
"""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from deals import services
from deals.models import Deal, ExceptionRequest


def version(deal) -> int:
    return Deal.objects.values_list("version", flat=True).get(pk=deal.pk)


def test_a_new_deal_starts_at_version_one(deal):
    assert version(deal) == 1


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda d, give, m: give(d, "10"), id="concession_log"),
        pytest.param(
            lambda d, give, m: services.concession_retract(
                concession=give(d, "10").concession, user=d.owner, reason="Typo"
            ),
            id="concession_retract",
        ),
        pytest.param(
            lambda d, give, m: services.floor_change(deal=d, user=d.owner, new_floor="8000"),
            id="floor_change",
        ),
        pytest.param(
            lambda d, give, m: services.deal_update(deal=d, user=d.owner, title="ERP phase 2"),
            id="deal_update",
        ),
        pytest.param(
            lambda d, give, m: services.deal_reassign(deal=d, user=m, new_owner=m),
            id="deal_reassign",
        ),
        pytest.param(lambda d, give, m: services.deal_win(deal=d, user=d.owner), id="deal_win"),
        pytest.param(
            lambda d, give, m: services.deal_lose(deal=d, user=d.owner, reason="price"),
            id="deal_lose",
        ),
        pytest.param(
            lambda d, give, m: services.deal_walk_away(deal=d, user=d.owner, reason="Too low"),
            id="deal_walk_away",
        ),
        pytest.param(lambda d, give, m: _ask(d), id="exception_request"),
        pytest.param(
            lambda d, give, m: services.concession_correct(
                concession=give(d, "10").concession,
                user=d.owner,
                kind="other",
                amount="20",
                description="Fixed",
            ),
            id="concession_correct",
        ),
        pytest.param(
            lambda d, give, m: services.plan_save(
                deal=d,
                user=d.owner,
                steps=[services.StepInput(kind="other", amount="100", give="A", ask="B")],
            ),
            id="plan_save",
        ),
        pytest.param(
            lambda d, give, m: services.exception_approve(
                exception_request=_ask(d), user=m, comment="Strategic"
            ),
            id="exception_approve",
        ),
        pytest.param(
            lambda d, give, m: services.exception_reject(
                exception_request=_ask(d), user=m, comment="No"
            ),
            id="exception_reject",
        ),
    ],
)
def test_every_write_moves_the_version(deal, give, manager, write):
    before = version(deal)
    write(deal, give, manager)
    assert version(deal) > before


def test_an_update_by_reference_moves_the_version(owner, team):
    def push(title, **prices):
        return services.deal_upsert_by_ref(
            user=owner, team=team, source="hubspot", ref="D-1", title=title, customer="C", **prices
        )[0]

    deal = push("T", currency="USD", opening_price="100", floor="50")
    before = version(deal)
    push("Renamed")
    assert version(deal) == before + 1


def test_a_comeback_moves_the_version(deal):
    services.deal_walk_away(deal=deal, user=deal.owner, reason="Too low")
    before = version(deal)
    services.deal_come_back(deal=deal, user=deal.owner)
    assert version(deal) == before + 1


def test_a_change_that_changes_nothing_keeps_the_version(deal):
    services.deal_update(deal=deal, user=deal.owner, title=deal.title)
    assert version(deal) == 1


def test_every_service_that_locks_a_deal_is_checked_here():
    """A new writer must be added to the list above; this fails until it is."""
    checked = {
        "concession_log",
        "concession_retract",
        "floor_change",
        "deal_update",
        "deal_reassign",
        "deal_win",
        "deal_lose",
        "deal_walk_away",
        "deal_come_back",
        "concession_correct",
        "exception_request",
        # exception_request's body: the same write, returning whether it was new.
        "exception_ask",
        "exception_approve",
        "exception_reject",
        "plan_save",
        "deal_upsert_by_ref",
    }
    writers = {
        name
        for name, fn in inspect.getmembers(services, inspect.isfunction)
        if not name.startswith("_")
        and fn.__module__ == services.__name__
        and ("_lock(" in inspect.getsource(fn) or "_lock_pending(" in inspect.getsource(fn))
    }
    assert writers <= checked, f"unchecked writers: {sorted(writers - checked)}"


def test_the_guard_fails_a_write_that_forgets_the_version(deal):
    deal.title = "Renamed behind the services' back"
    with pytest.raises(AssertionError, match="without moving its version"):
        deal.save(update_fields=["title"])
    with pytest.raises(AssertionError, match="without moving"):
        Deal.objects.filter(pk=deal.pk).update(title="Bulk rename")


def test_the_guard_fails_a_write_that_names_the_version_without_moving_it(deal):
    deal.title = "Renamed"
    with pytest.raises(AssertionError, match="not past"):
        deal.save(update_fields=["title", "version"])


def _ask(deal) -> ExceptionRequest:
    return services.exception_request(
        deal=deal,
        user=deal.owner,
        kind="price_discount",
        amount=Decimal("1500"),
        description="Big discount",
    )
