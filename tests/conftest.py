"""Shared fixtures: the personas every test has at hand, and deal factories that go through the
services, so tests build data the way the app does."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection

from deals import services
from deals.models import Deal, DealQuerySet, Membership, Role, Team

PASSWORD = "walkaway-test-pw"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def require_postgres() -> None:
    """Skip on SQLite, except in CI's PostgreSQL run where a skip would hide a missing database."""
    if is_postgres():
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL")
    pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://...")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with nothing kept: cached deal pages from an earlier test would carry
    its data under keys (deal id, stamp) that a later test could meet again."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _every_deal_write_moves_its_version(monkeypatch):
    """Any write to an existing deal's row, in any test, that does not move its version fails
    the test there and then: a page or an API client holding the old version would never
    learn of the change. (Creating a deal starts it at version 1.)"""
    save, update = Deal.save, DealQuerySet.update

    def checked_save(self, *args, **kwargs):
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            assert fields is not None and "version" in fields, (
                f"Deal {self.pk} saved without moving its version (fields: {fields}); "
                "write deals through services._save"
            )
            stored = _stored_version(self.pk)
            assert stored is None or self.version > stored, (
                f"Deal {self.pk} saved at version {self.version}, not past {stored}"
            )
        return save(self, *args, **kwargs)

    def checked_update(self, **kwargs):
        if self.model is Deal:
            assert "version" in kwargs, "Deals updated in bulk without moving their versions"
        return update(self, **kwargs)

    monkeypatch.setattr(Deal, "save", checked_save)
    monkeypatch.setattr(DealQuerySet, "update", checked_update)


def _stored_version(pk: int) -> int | None:
    # Past Django's cursor wrapper, so that the check adds nothing to a test's query count.
    connection.ensure_connection()
    placeholder = "%s" if is_postgres() else "?"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"SELECT version FROM {Deal._meta.db_table} WHERE id = {placeholder}",  # noqa: S608
            [pk],
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    return row[0] if row else None


def _user(django_user_model, username, **extra):
    return django_user_model.objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", **extra
    )


@pytest.fixture
def team(db):
    return Team.objects.create(name="Print & Packaging")


@pytest.fixture
def other_team(db):
    return Team.objects.create(name="Public Sector")


@pytest.fixture
def owner(django_user_model, team):
    """The rep who owns the deals under test."""
    user = _user(django_user_model, "olivia")
    Membership.objects.create(user=user, team=team, role=Role.REP)
    return user


@pytest.fixture
def teammate(django_user_model, team):
    """Another rep of the same team: sees only their own deals."""
    user = _user(django_user_model, "tom")
    Membership.objects.create(user=user, team=team, role=Role.REP)
    return user


@pytest.fixture
def manager(django_user_model, team):
    user = _user(django_user_model, "maria")
    Membership.objects.create(user=user, team=team, role=Role.MANAGER)
    return user


@pytest.fixture
def outsider(django_user_model, other_team):
    """A rep of another team: must never learn that our deals exist."""
    user = _user(django_user_model, "oscar")
    Membership.objects.create(user=user, team=other_team, role=Role.REP)
    return user


@pytest.fixture
def other_manager(django_user_model, other_team):
    user = _user(django_user_model, "otto")
    Membership.objects.create(user=user, team=other_team, role=Role.MANAGER)
    return user


@pytest.fixture
def staff(django_user_model):
    return _user(django_user_model, "sam", is_staff=True)


@pytest.fixture
def make_deal(team, owner):
    def make(**kwargs):
        values = {
            "user": owner,
            "team": team,
            "title": "ERP roll-out",
            "customer": "Inkwell Print Ltd",
            "currency": "USD",
            "opening_price": Decimal("10000.00"),
            "floor": Decimal("9000.00"),
        }
        values.update(kwargs)
        return services.deal_create(**values)

    return make


@pytest.fixture
def deal(make_deal):
    """Opening 10,000, floor 9,000: 1,000 of room."""
    return make_deal()


@pytest.fixture
def give():
    """Log a concession through the service, with sensible defaults."""

    def give(deal, amount, *, user=None, got="", kind="price_discount", description="Discount"):
        return services.concession_log(
            deal=deal,
            user=user or deal.owner,
            kind=kind,
            amount=Decimal(str(amount)),
            description=description,
            got_in_return=got,
            form_key=uuid.uuid4().hex,
        )

    return give
