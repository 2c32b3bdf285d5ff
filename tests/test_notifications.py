"""notifications, notifications_read and services.notifications_mark_read: each person's
in-app notifications (written by deals/alerts.py), newest first, and "Mark all read"."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from deals import services
from deals.models import Notification

from .desk import HTMX, NASTY, assert_escaped, assert_fragment, page, words
from .review import ask, give

URL = reverse("notifications")
READ_URL = reverse("notifications_read")


@pytest.fixture
def alerted(deal, manager):
    """Two notifications for the manager, through the services: the deal reaches Danger, then
    the rep asks for an exception."""
    give(deal, "850")
    ask(deal, "200")
    return list(Notification.objects.filter(user=manager).order_by("pk"))


def unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def messages_on_page(response) -> list[str]:
    # Issue 14: each item is its message, then a link to its deal and its own "Mark read".
    return re.findall(
        r'<p class="notification-message">(?:<span class="tag unread-tag">New</span> )?([^<]+)</p>',
        page(response),
    )


def test_the_list_shows_the_users_notifications_newest_first_each_linking_to_the_deal(
    client, manager, alerted, deal
):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    level, request = alerted
    assert len(alerted) == 2
    body = page(response)
    assert body.index(request.message[:40]) < body.index(level.message[:40])
    assert body.count(f'<a href="/deals/{deal.pk}/">') == 2
    assert words(response).count("New ") == 2
    assert 'aria-label="2 unread">2</span>' in body


def test_nobody_sees_anyone_elses_notifications(client, outsider, other_manager, owner, alerted):
    for person in (outsider, other_manager, owner):
        client.force_login(person)
        response = client.get(URL)
        assert response.status_code == 200
        assert messages_on_page(response) == []
        assert "No notifications yet." in words(response)


def test_notification_text_is_escaped(client, manager, make_deal):
    deal = make_deal(title=NASTY)
    give(deal, "900")
    client.force_login(manager)
    assert_escaped(client.get(URL))


def test_the_list_answers_an_htmx_request_with_the_list_alone(client, manager, alerted):
    client.force_login(manager)
    response = client.get(URL, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="notification-list"')


def test_the_list_refuses_other_methods(client, manager):
    client.force_login(manager)
    assert client.post(URL).status_code == 405


@pytest.mark.parametrize("size", [3, 30])
def test_the_list_costs_the_same_queries_however_many_notifications(
    client, manager, make_deal, size, django_assert_max_num_queries
):
    for _ in range(size):
        give(make_deal(), "900")  # each reaches Danger and tells the manager
    client.force_login(manager)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(messages_on_page(response)) == size


# Mark all read ----------------------------------------------------------------------------------


def up_to(response) -> str:
    match = re.search(r'<input type="hidden" name="up_to" value="(\d+)"', page(response))
    assert match, "no up_to on the page"
    return match.group(1)


def test_mark_all_read_marks_every_notification_shown(client, manager, alerted):
    client.force_login(manager)
    shown = client.get(URL)
    response = client.post(READ_URL, {"up_to": up_to(shown)})
    assert response.status_code == 303
    assert response.headers["Location"] == URL
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Marked 2 notifications read."]
    assert unread(manager) == 0
    assert "New " not in words(client.get(URL))


def test_mark_all_read_with_htmx_answers_with_the_list(client, manager, alerted):
    client.force_login(manager)
    response = client.post(READ_URL, {"up_to": up_to(client.get(URL))}, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="notification-list"')
    assert "New " not in words(response)
    assert unread(manager) == 0


def test_a_notification_that_arrives_after_the_page_was_shown_stays_unread(
    client, manager, alerted, deal
):
    client.force_login(manager)
    shown = client.get(URL)
    give(deal, "10")  # no level change: no notification
    ask(deal, "200")  # a second request: a new notification the manager has not seen
    client.post(READ_URL, {"up_to": up_to(shown)})
    assert unread(manager) == 1


def test_mark_all_read_touches_nobody_elses_notifications(client, manager, owner, deal, alerted):
    request = Notification.objects.filter(user=manager).order_by("pk").last()
    services.exception_reject(
        exception_request=request.event.exception_request, user=manager, comment="No."
    )
    assert unread(owner) == 1
    client.force_login(manager)
    client.post(READ_URL, {"up_to": up_to(client.get(URL))})
    assert unread(owner) == 1


def test_a_tampered_form_marks_nothing(client, manager, alerted):
    client.force_login(manager)
    response = client.post(READ_URL, {"up_to": "many"}, **HTMX)
    assert response.status_code == 422
    assert "Reload the page and try again." in words(response)
    response = client.post(READ_URL, {"up_to": "-1"})
    assert response.status_code == 303
    assert unread(manager) == 2


def test_mark_all_read_refuses_other_methods(client, manager, alerted):
    client.force_login(manager)
    assert client.get(READ_URL).status_code == 405
    assert unread(manager) == 2


@pytest.mark.parametrize("size", [3, 30])
def test_mark_all_read_costs_the_same_queries_however_many_notifications(
    client, manager, make_deal, size, django_assert_max_num_queries
):
    for _ in range(size):
        give(make_deal(), "900")
    client.force_login(manager)
    # One more since times are shown in the person's zone: the request reads who they are.
    with django_assert_max_num_queries(6):
        client.post(READ_URL, {})
    assert unread(manager) == 0


def test_the_service_marks_only_unread_notifications_and_says_how_many(manager, alerted):
    assert services.notifications_mark_read(user=manager, up_to_id=alerted[0].pk) == 1
    first = Notification.objects.get(pk=alerted[0].pk)
    assert first.read_at is not None
    assert services.notifications_mark_read(user=manager) == 1
    assert services.notifications_mark_read(user=manager) == 0
    first.refresh_from_db()
    assert Notification.objects.get(pk=alerted[0].pk).read_at == first.read_at


def test_each_notification_is_marked_read_on_its_own(client, manager, alerted):
    level, request = alerted
    client.force_login(manager)
    body = page(client.get(URL))
    assert body.count(">Mark read</button>") == 2
    response = client.post(reverse("notification_read", args=[level.pk]), **HTMX)
    assert response.status_code == 200
    assert 'id="nav-unread-count" hx-swap-oob="true"' in page(response)
    level.refresh_from_db()
    request.refresh_from_db()
    assert level.read_at is not None
    assert request.read_at is None


def test_nobody_marks_anyone_elses_notification(client, owner, alerted):
    level, _ = alerted
    client.force_login(owner)
    response = client.post(reverse("notification_read", args=[level.pk]))
    assert response.status_code == 303
    level.refresh_from_db()
    assert level.read_at is None
