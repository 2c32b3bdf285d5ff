"""The login page: logging in, the lockout after repeated failures (django-axes), and ?next=,
which may only ever lead somewhere on this site.

Every test posts to the real page, the way a browser does: the lockout lives in the
authentication the page runs, which the test client's force_login() skips.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from .conftest import PASSWORD
from .desk import page, words

LOGIN = "/accounts/login/"
LOCKED = "Too many failed log-in attempts"
WRONG = "Please enter a correct username and password"


@pytest.fixture
def axes_on(settings):
    """The lockout as production runs it; tests/settings.py turns it off for force_login()."""
    settings.AXES_ENABLED = True
    reset()
    yield settings
    reset()


def log_in(client, username, password=PASSWORD, **fields):
    return client.post(LOGIN, {"username": username, "password": password, **fields})


def fail(client, username, times):
    """`times` failed attempts; each one before the limit says the password was wrong."""
    response = None
    for attempt in range(1, times + 1):
        response = client.post(LOGIN, {"username": username, "password": "not-the-password"})
        if attempt < django_settings.AXES_FAILURE_LIMIT or not django_settings.AXES_ENABLED:
            assert response.status_code == 200
            assert WRONG in words(response)
    return response


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_page_has_its_fields_and_button(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = page(response)
    assert '<label for="id_username">Username</label>' in body
    assert '<label for="id_password">Password</label>' in body
    assert ">Log in</button>" in body


def test_the_right_password_logs_in_and_opens_the_deals(client, owner):
    response = log_in(client, "olivia")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)


def test_a_wrong_password_says_so_and_logs_nobody_in(client, owner):
    response = log_in(client, "olivia", "not-the-password")
    assert response.status_code == 200
    assert WRONG in words(response)
    assert 'role="alert"' in page(response)
    assert not is_logged_in(client)


# Lockout ---------------------------------------------------------------------------------------


def test_after_the_failure_limit_even_the_right_password_meets_the_lockout_page(
    client, owner, axes_on
):
    last = fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT)
    assert last.status_code == 429
    response = log_in(client, "olivia")
    assert response.status_code == 429
    assert LOCKED in words(response)
    assert "Try again in 15 minutes" in words(response)
    assert not is_logged_in(client)


def test_one_failure_short_of_the_limit_the_right_password_still_logs_in(client, owner, axes_on):
    fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT - 1)
    response = log_in(client, "olivia")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_success_clears_the_count_of_failures(client, owner, axes_on):
    fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "olivia").status_code == 302
    client.logout()
    fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, "olivia").status_code == 302


def test_a_forwarded_for_header_does_not_lift_a_lockout(client, owner, axes_on):
    # The address is REMOTE_ADDR: a header the client writes itself must not make a new address.
    fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT)
    response = client.post(
        LOGIN,
        {"username": "olivia", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_REAL_IP="203.0.113.9",
    )
    assert response.status_code == 429


def test_the_lockout_is_per_username_so_a_colleague_on_the_same_network_can_log_in(
    client, owner, teammate, axes_on
):
    fail(client, "olivia", axes_on.AXES_FAILURE_LIMIT)
    assert log_in(client, "olivia").status_code == 429
    response = log_in(client, "tom")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_an_unknown_username_is_locked_out_the_same_way(client, db, axes_on):
    # Otherwise the lockout would tell an attacker which usernames exist.
    response = fail(client, "nobody", axes_on.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert LOCKED in words(response)


# ?next= ----------------------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "http:///evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "\x01//evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://testserver@evil.example/",
    "https://evil.example\\@testserver/",
]


def assert_on_site(location: str) -> None:
    """A relative URL that a browser cannot read as another host.

    Browsers take a backslash for a slash, skip tabs and newlines anywhere, and skip control
    characters and spaces in front; two or more leading slashes then start a host name. A host
    name that is empty or holds a control character or a space is none: the browser gives up.
    """
    browser = re.sub(r"[\t\n\r]", "", location.replace("\\", "/")).lstrip(CONTROL_AND_SPACE)
    for url in (location, browser):
        assert urlsplit(url).scheme == "", location
    host = re.match(r"/{2,}([^/?#]*)", browser)
    if host:
        name = unquote(host.group(1))
        assert name == "" or any(c in CONTROL_AND_SPACE for c in name), location


CONTROL_AND_SPACE = "".join(map(chr, range(33)))


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_in_never_follows_next_off_site(client, owner, target):
    response = log_in(client, "olivia", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_in_the_query_string_is_not_followed_off_site_either(client, owner, target):
    response = client.post(f"{LOGIN}?next={target}", {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_on_this_site_is_followed(client, owner, deal):
    response = log_in(client, "olivia", next=f"/deals/{deal.pk}/")
    assert response.headers["Location"] == f"/deals/{deal.pk}/"


@pytest.mark.parametrize("target", OFF_SITE[:4])
def test_someone_already_logged_in_is_not_sent_off_site_by_the_login_page(client, owner, target):
    client.force_login(owner)
    response = client.get(LOGIN, {"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE[:4])
def test_logging_out_never_follows_next_off_site(client, owner, target):
    client.force_login(owner)
    response = client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == LOGIN


def test_the_next_field_on_the_login_page_is_escaped(client, db):
    response = client.get(LOGIN, {"next": '/"><script>alert(1)</script>'})
    body = page(response)
    assert "<script>alert(1)" not in body
    assert 'value="/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.one_of(
        st.text(max_size=40),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "/",
                        "\\",
                        "//",
                        ":",
                        "@",
                        "evil.example",
                        "https",
                        "http",
                        "%2F",
                        "\t",
                        "\n",
                        " ",
                        "testserver",
                        "?",
                        "#",
                        ".",
                        "\x00",
                        "\u3002",
                        "javascript",
                    ]
                ),
                max_size=8,
            ),
        ),
    )
)
def test_whatever_next_says_the_redirect_after_login_stays_on_this_site(client, owner, target):
    client.logout()
    response = log_in(client, "olivia", next=target)
    assert response.status_code == 302
    assert_on_site(response.headers["Location"])


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_on_site_check_itself_catches_every_off_site_target(target):
    # The property above is only as strict as this check.
    with pytest.raises(AssertionError):
        assert_on_site(target)


def test_a_username_longer_than_any_account_is_a_wrong_login_not_an_error(client, owner, axes_on):
    # Django's form leaves the length to the browser; django-axes could not log such a name.
    response = log_in(client, "x" * 300)
    assert response.status_code == 200
    assert WRONG in words(response)
    assert all(len(a.username or "") <= 255 for a in AccessAttempt.objects.all())
    assert log_in(client, "olivia").status_code == 302
