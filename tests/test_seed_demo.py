"""`manage.py seed_demo`: demo data built through the services, consistent, and only once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Sum

from deals.access import Access
from deals.erosion import Level
from deals.models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    FloorChange,
    Membership,
    Notification,
    Role,
    Team,
)

TEAM = "Print & Packaging Sales"
LOGINS = ["manager", "rep", "rep2", "admin"]
MODELS = [
    Team,
    Membership,
    Deal,
    Concession,
    DealEvent,
    ExceptionRequest,
    FloorChange,
    Notification,
]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    found = {model.__name__: model.objects.count() for model in MODELS}
    found["User"] = get_user_model().objects.count()
    return found


@pytest.fixture
def seeded(db) -> str:
    return seed("--force")


def test_a_second_run_changes_nothing_and_says_so(seeded):
    first = counts()
    again = seed("--force")
    assert counts() == first
    assert "already has deals" in again
    assert 18 <= first["Deal"] <= 25


def test_every_deal_keeps_its_running_total_equal_to_its_ledger(seeded):
    deals = Deal.objects.annotate(ledger=Sum("concessions__amount"))
    assert deals.exists()
    for deal in deals:
        assert deal.conceded == (deal.ledger or 0), deal.title
        assert deal.level == deal.assessment().level, deal.title


def test_every_concession_has_its_event(seeded):
    for concession in Concession.objects.all():
        kind = (
            DealEvent.Kind.CONCESSION_RETRACTED
            if concession.is_retraction
            else DealEvent.Kind.CONCESSION_LOGGED
        )
        assert concession.events.filter(kind=kind, deal=concession.deal).count() == 1


def test_every_deal_starts_with_a_created_event_and_ends_with_its_outcome(seeded):
    last_event_for = {
        Deal.Status.WON: DealEvent.Kind.WON,
        Deal.Status.LOST: DealEvent.Kind.LOST,
        Deal.Status.WALKED_AWAY: DealEvent.Kind.WALKED_AWAY,
    }
    for deal in Deal.objects.all():
        events = list(deal.events.order_by("id").values_list("kind", flat=True))
        assert events[0] == DealEvent.Kind.CREATED
        assert events.count(DealEvent.Kind.CREATED) == 1
        if deal.status in last_event_for:
            assert events[-1] == last_event_for[deal.status], deal.title


def test_every_level_and_every_status_is_shown(seeded):
    assert set(Deal.objects.values_list("level", flat=True)) == set(Level.values)
    open_levels = set(Deal.objects.open().values_list("level", flat=True))
    assert open_levels == set(Level.values)
    assert set(Deal.objects.values_list("status", flat=True)) == set(Deal.Status.values)


def test_it_tells_the_stories_a_manager_reviews(seeded):
    below = Deal.objects.get(level=Level.BELOW_FLOOR)
    assert below.concessions.filter(
        exception_request__status=ExceptionRequest.Status.APPROVED
    ).exists()
    pending = ExceptionRequest.objects.get(status=ExceptionRequest.Status.PENDING)
    assert pending.deal.is_open
    assert ExceptionRequest.objects.filter(status=ExceptionRequest.Status.REJECTED).exists()
    assert Concession.objects.filter(retracts__isnull=False).count() >= 1
    change = FloorChange.objects.get()
    assert Membership.objects.filter(
        user=change.changed_by, team=change.deal.team, role=Role.MANAGER
    ).exists()
    assert change.reason
    comeback = Deal.objects.get(came_back=True, status=Deal.Status.WON)
    assert comeback.final_price >= comeback.walked_away_net
    lost_reasons = set(Deal.objects.filter(status="lost").values_list("lost_reason", flat=True))
    assert len(lost_reasons) >= 3
    assert {"USD", "EUR", "GBP"} <= set(Deal.objects.values_list("currency", flat=True))


def test_it_tells_the_plans_story(seeded):
    """One deal kept to plan and won above its target, one that went off plan into Danger, one
    walked away at its floor that came back (issue 12)."""
    planned = Deal.objects.filter(plan_steps__isnull=False).distinct()
    kept = planned.get(status=Deal.Status.WON)
    assert kept.final_price > kept.target_price
    assert not kept.concessions.filter(plan_step__isnull=True).exists()
    off = planned.get(level=Level.DANGER)
    assert off.concessions.filter(plan_step__isnull=True).count() >= 2
    back = planned.get(came_back=True)
    assert back.is_open and back.walked_away_net == back.floor


def test_it_has_gives_with_and_without_gets(seeded):
    gives = Concession.objects.filter(retracts__isnull=True)
    assert gives.exclude(got_in_return="").exists()
    assert gives.filter(got_in_return="").exists()
    assert gives.filter(description="10% licence discount").exists()


def test_both_reps_own_deals_and_each_sees_only_their_own(seeded):
    User = get_user_model()
    for username in ("rep", "rep2"):
        rep = User.objects.get(username=username)
        visible = Deal.objects.visible_to(Access.of(rep))
        assert visible.count() > 0
        assert set(visible.values_list("owner", flat=True)) == {rep.pk}
    manager = User.objects.get(username="manager")
    assert Deal.objects.managed_by(Access.of(manager)).count() == Deal.objects.count()


@pytest.mark.parametrize("username", LOGINS)
def test_every_demo_login_works_with_the_password_walkaway(client, seeded, username):
    assert username in seeded
    assert "walkaway" in seeded
    assert client.login(username=username, password="walkaway")


def test_the_admin_login_is_staff_and_the_others_are_team_members(seeded):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    roles = dict(Membership.objects.filter(team__name=TEAM).values_list("user__username", "role"))
    assert roles == {"manager": Role.MANAGER, "rep": Role.REP, "rep2": Role.REP}
    assert not User.objects.filter(username__in=roles, is_staff=True).exists()


def test_it_refuses_without_debug_unless_forced(db):
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert counts() == dict.fromkeys(counts(), 0)


def test_it_runs_without_force_when_debug_is_on(db, settings):
    settings.DEBUG = True
    seed()
    assert Deal.objects.filter(team__name=TEAM).exists()


def test_if_empty_does_nothing_quietly_when_any_deal_exists(deal):
    before = counts()
    assert seed("--if-empty") == ""
    assert counts() == before
    assert not Team.objects.filter(name=TEAM).exists()


def test_if_empty_seeds_an_empty_database(db):
    seed("--if-empty", "--force")
    assert Deal.objects.filter(team__name=TEAM).exists()


def test_it_never_resets_the_password_of_an_existing_account(db, django_user_model):
    django_user_model.objects.create_user(username="admin", password="a-real-secret-pw")
    out = seed("--force")
    admin = django_user_model.objects.get(username="admin")
    assert admin.check_password("a-real-secret-pw")
    assert not admin.check_password("walkaway")
    assert not admin.is_superuser
    assert "password unchanged" in out


@pytest.mark.django_db(transaction=True)
def test_alerts_raised_while_seeding_write_notifications_but_send_no_email():
    # A real commit, so the alerts' after-commit emails actually run.
    seed("--force")
    assert Notification.objects.exists()
    assert mail.outbox == []


def test_the_demo_spans_the_last_six_months_in_order(seeded):
    """Issue 14: every period of the dashboard shows something."""
    import datetime as dt

    from django.utils import timezone

    from deals.models import DealEvent

    now = timezone.now()
    created = sorted(Deal.objects.values_list("created_at", flat=True))
    assert now - created[0] > dt.timedelta(days=170)
    assert now - created[-1] < dt.timedelta(days=14)
    months = {(c.year, c.month) for c in created}
    assert len(months) >= 6
    for deal in Deal.objects.all():
        events = list(DealEvent.objects.filter(deal=deal).order_by("id"))
        times = [e.created_at for e in events]
        assert times == sorted(times)
        assert deal.created_at <= times[0] and deal.updated_at == times[-1] <= now
        if deal.closed_at:
            assert deal.closed_at == times[-1]


def test_the_demo_manager_hears_only_what_matters(seeded):
    """Issue 14: far fewer than the 17 alerts of old, each about one deal and level at most."""
    manager = get_user_model().objects.get(username="manager")
    level_alerts = Notification.objects.filter(user=manager, event__kind="level_changed")
    pairs = list(level_alerts.values_list("deal_id", "event__data__to"))
    assert len(pairs) == len(set(pairs))
