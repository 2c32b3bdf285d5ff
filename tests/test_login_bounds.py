"""Issue 11, finding 5: every login form, the admin's included, bounds its input, so that
django-axes' log of attempts (255 characters of username) never sees more than it can store:
no 500 from any of them, on PostgreSQL either."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from axes.utils import reset

from .conftest import PASSWORD

LOGINS = ["/accounts/login/", "/admin/login/"]


@pytest.fixture
def axes_on(settings, db):
    settings.AXES_ENABLED = True
    reset()
    yield settings
    reset()


@pytest.mark.parametrize("url", LOGINS)
@pytest.mark.parametrize("length", [151, 256, 300, 10_000])
def test_a_username_longer_than_any_account_is_a_wrong_login_not_an_error(
    client, owner, axes_on, url, length
):
    response = client.post(url, {"username": "x" * length, "password": "whatever"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert all(len(a.username or "") <= 150 for a in AccessAttempt.objects.all())


@pytest.mark.parametrize("url", LOGINS)
def test_a_password_of_megabytes_is_a_wrong_login_too(client, owner, axes_on, url):
    response = client.post(url, {"username": "olivia", "password": "p" * 100_000})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_staff_still_log_in_to_the_admin(client, axes_on, django_user_model):
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302


def test_a_username_of_exactly_150_characters_is_looked_up_as_usual(
    client, axes_on, django_user_model
):
    name = "u" * 150
    django_user_model.objects.create_user(username=name, password=PASSWORD)
    response = client.post("/accounts/login/", {"username": name, "password": PASSWORD})
    assert response.status_code == 302
