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
from deals.models import Membership, Role, Team

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
