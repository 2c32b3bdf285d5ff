"""Hardening (issue 5): the headers and cookies production sends, the Content-Security-Policy and
the pages that live within it, the one switch for a TLS-terminating proxy, and the password
rules. The login lockout is in tests/test_login.py; `check --deploy` in tests/test_settings.py.

The suite runs the production settings (tests/settings.py): DEBUG off, secure cookies. Only the
redirect to https is off, so plain requests can be tested; `secure=True` makes a request https.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.urls import reverse

from deals import services

from .conftest import PASSWORD
from .desk import HTMX, page

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"


# Content-Security-Policy -----------------------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, "no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def pages(client, owner, manager, deal, give, settings):
    """Every kind of page the app draws, fetched as the persona who sees the most of it, with
    a deal that has a concession, a retraction, a pending exception and a level change."""
    give(deal, "600", got="A reference")
    retracted = give(deal, "50").concession
    services.concession_retract(concession=retracted, user=deal.owner, reason="Typed twice")
    deal.refresh_from_db()
    services.exception_request(
        deal=deal,
        user=deal.owner,
        kind="free_product",
        amount=Decimal("900.00"),
        description="A free year",
        form_key=uuid.uuid4().hex,
    )
    fetched = {"login": client.get(LOGIN)}
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = client.post(LOGIN, {"username": "olivia", "password": "wrong"})
    assert locked.status_code == 429
    fetched["locked out"] = locked
    settings.AXES_ENABLED = False
    client.force_login(owner)
    fetched["not found"] = client.get("/deals/999999/")
    fetched["forbidden"] = client.get(reverse("dashboard"))
    key = uuid.uuid4().hex
    refused = {"kind": "other", "amount": "5000", "description": "All of it", "form_key": key}
    fetched["refused concession"] = client.post(reverse("concession_log", args=[deal.pk]), refused)
    fetched["refused concession, htmx"] = client.post(
        reverse("concession_log", args=[deal.pk]), refused, **HTMX
    )
    client.force_login(manager)
    for name, args in [
        ("deal_list", []),
        ("deal_create", []),
        ("deal_detail", [deal.pk]),
        ("floor_change", [deal.pk]),
        ("concession_retract", [deal.pk, deal.concessions.first().pk]),
        ("approvals", []),
        ("dashboard", []),
        ("notifications", []),
    ]:
        fetched[name] = client.get(reverse(name, args=args))
        fetched[f"{name}, htmx"] = client.get(reverse(name, args=args), **HTMX)
    fetched["preview"] = client.get(reverse("concession_preview", args=[deal.pk]), {"amount": "1"})
    for name, response in fetched.items():
        assert response.status_code < 500, name
        assert response["Content-Type"].startswith("text/html"), name
    return fetched


def test_every_page_has_a_policy_that_allows_no_inline_script_and_no_eval(pages):
    for name, response in pages.items():
        policy = csp(response)
        assert policy["default-src"] == ["'self'"], name
        assert policy["script-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["form-action"] == ["'self'"], name
        everything = " ".join(value for values in policy.values() for value in values)
        assert "'unsafe-inline'" not in everything, name
        assert "'unsafe-eval'" not in everything, name
        assert "'unsafe-hashes'" not in everything, name
        assert "*" not in everything, name
        assert "Content-Security-Policy-Report-Only" not in response.headers, name


def test_no_page_carries_what_the_policy_would_block(pages):
    """Inline script, event-handler attributes, style attributes and javascript: URLs would be
    silently blocked by the policy above, and the page would break only in a browser."""
    for name, response in pages.items():
        body = page(response)
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert re.search(r'\ssrc="/static/[^"]+"', tag), f"{name}: inline script {tag}"
        assert not re.search(r"<script\b[^>]*>[^<]+</script>", body), name
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", body), f"{name}: an on* handler"
        assert not re.search(r"<[^>]*\sstyle\s*=", body), f"{name}: a style attribute"
        assert "<style" not in body, f"{name}: a <style> element"
        assert "javascript:" not in body.lower(), name
        # htmx would need eval for these.
        assert not re.search(r"\shx-on[:-]", body), f"{name}: hx-on"
        assert not re.search(r"\shx-vars=", body), f"{name}: hx-vars"
        assert "js:" not in " ".join(re.findall(r'hx-vals=(?:"[^"]*"|\'[^\']*\')', body)), name


def test_htmx_is_configured_to_need_neither_eval_nor_inline_styles_and_to_stay_on_this_site(
    pages,
):
    body = page(pages["deal_detail"])
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body)
    assert match, "no htmx-config meta tag"
    config = json.loads(match.group(1))
    assert config["selfRequestsOnly"] is True
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    scripts = re.findall(r'<script src="([^"]+)"', body)
    assert any("htmx" in src for src in scripts), scripts
    assert all(src.startswith("/static/") for src in scripts), scripts


# Production headers ----------------------------------------------------------------------------


def test_https_responses_carry_hsts_for_a_year_with_subdomains_and_preload(client, db):
    response = client.get(LOGIN, secure=True)
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


def test_plain_http_responses_carry_no_hsts(client, db):
    # Browsers ignore HSTS over http; sending it there would only hide a missing redirect.
    assert "Strict-Transport-Security" not in client.get(LOGIN).headers


@pytest.mark.parametrize("who", ["anonymous", "owner"])
def test_pages_refuse_frames_leak_no_referrer_and_forbid_sniffing(client, request, who):
    request.getfixturevalue("db")
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for url in (LOGIN, "/", "/deals/999999/"):
        response = client.get(url, secure=True)
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin", url


def set_cookies(response) -> dict[str, str]:
    return {name: morsel.OutputString() for name, morsel in response.cookies.items()}


def test_a_real_login_sets_a_host_only_secure_httponly_session_cookie(client, owner):
    response = client.post(LOGIN, {"username": "olivia", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert "sessionid" not in cookies
    session = cookies["__Host-sessionid"]
    attributes = {part.strip().split("=")[0].lower() for part in session.split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes
    assert "; Path=/;" in session + ";"
    assert "SameSite=Lax" in session


def test_the_csrf_cookie_is_host_only_and_secure_too(client, db):
    response = client.get(LOGIN, secure=True)
    cookie = set_cookies(response)["__Host-csrftoken"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "path"} <= attributes
    assert "domain" not in attributes
    assert "; Path=/;" in cookie + ";"


# Behind a TLS-terminating proxy ----------------------------------------------------------------


def load_settings(**env) -> subprocess.CompletedProcess:
    """Import walkaway.settings in a fresh interpreter with only `env`: settings are read once
    per process, and this one has tests/settings.py loaded already."""
    clean = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "walkaway.settings",
        "SECRET_KEY": "a-production-like-secret-" + uuid.uuid4().hex * 2,
        "SITE_URL": "https://walkaway.example.com",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    code = (
        "from django.conf import settings; "
        "print(repr(settings.SECURE_PROXY_SSL_HEADER)); print(settings.SECURE_SSL_REDIRECT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_x_forwarded_proto_is_ignored_unless_the_variable_says_to_trust_it():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["None", "True"]


@pytest.mark.parametrize("value", ["1", "true"])
def test_trust_x_forwarded_proto_makes_the_proxys_https_header_count(value):
    result = load_settings(TRUST_X_FORWARDED_PROTO=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["('HTTP_X_FORWARDED_PROTO', 'https')", "True"]


@pytest.mark.parametrize("value", ["0", "off"])
def test_trust_x_forwarded_proto_can_be_switched_off_explicitly(value):
    result = load_settings(TRUST_X_FORWARDED_PROTO=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "None"


def test_a_trust_x_forwarded_proto_that_is_not_a_boolean_stops_start_up():
    result = load_settings(TRUST_X_FORWARDED_PROTO="https")
    assert result.returncode != 0
    assert "TRUST_X_FORWARDED_PROTO" in result.stderr.strip().splitlines()[-1]


def test_without_trust_a_forwarded_https_header_is_not_believed(client, db, settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
    # Anyone can send the header: without the proxy's word, plain http is still plain http.
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/accounts/login/"


def test_with_trust_the_proxys_https_header_makes_the_request_secure(client, db, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    # The proxy saying "http" still gets the redirect to https.
    assert client.get(LOGIN, HTTP_X_FORWARDED_PROTO="http").status_code == 301


def test_the_readme_documents_the_proxy_variable():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "TRUST_X_FORWARDED_PROTO" in readme


# Passwords -------------------------------------------------------------------------------------


def test_all_of_djangos_password_validators_are_on():
    names = {type(v).__name__ for v in get_default_password_validators()}
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Tq8-vx", "This password is too short"),
        ("password", "This password is too common"),
        ("73819264501", "This password is entirely numeric"),
        ("margaretha-smith", "The password is too similar to the username"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(django_user_model, password, message):
    user = django_user_model(username="margaretha-smith", email="ms@example.com")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=user)
    assert any(message in m for m in refused.value.messages), refused.value.messages


def test_a_strong_password_is_accepted(django_user_model):
    user = django_user_model(username="margaretha-smith", email="ms@example.com")
    assert validate_password("Tq8-vine-Orbit-31", user=user) is None
