"""walkaway/settings.py reads the environment and refuses what it cannot understand, naming the
variable, so a typo in production stops start-up instead of silently becoming a default.

Each case starts a fresh interpreter with a clean environment: settings are read once per
process, and this test process has its own (tests/settings.py) already loaded.
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOAD_SETTINGS = (
    "import django; from django.conf import settings; "
    "print(repr(settings.DEBUG), repr(settings.WALKAWAY_CAUTION_AT), "
    "settings.WALKAWAY_DEFAULT_CURRENCY)"
)


def run(args, **env):
    """Run in the project with only PATH, HOME and the given variables: nothing leaks in from
    this process (tests/settings.py has put a SECRET_KEY into our own environment)."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "walkaway.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    clean.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(**env):
    return run(["-c", LOAD_SETTINGS], **env)


def refused(result, name):
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.strip().splitlines()[-1], result.stderr


def production_secret() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


def test_a_development_setup_loads_with_its_defaults():
    # The counterpart of every refusal below: the same command succeeds when nothing is wrong.
    result = load(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "Decimal('50')", "USD"]


def test_production_values_load():
    result = load(
        DEBUG="0",
        SECRET_KEY=production_secret(),
        SITE_URL="https://walkaway.example.com",
        WALKAWAY_CAUTION_AT="45.5",
        WALKAWAY_DEFAULT_CURRENCY="eur",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "Decimal('45.5')", "EUR"]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_debug_value_that_is_not_a_boolean_stops_start_up_naming_debug(value):
    refused(load(DEBUG=value, SECRET_KEY=production_secret()), "DEBUG")


def test_without_debug_a_missing_secret_key_stops_start_up_naming_it():
    refused(load(), "SECRET_KEY")


def test_without_debug_an_empty_secret_key_stops_start_up_naming_it():
    refused(load(DEBUG="0", SECRET_KEY=""), "SECRET_KEY")


@pytest.mark.parametrize("value", ["abc", "NaN", "100"])
def test_a_threshold_that_is_not_a_percentage_stops_start_up_naming_it(value):
    refused(load(DEBUG="1", WALKAWAY_CAUTION_AT=value), "WALKAWAY_CAUTION_AT")


def test_danger_must_come_after_caution():
    refused(
        load(DEBUG="1", WALKAWAY_CAUTION_AT="80", WALKAWAY_DANGER_AT="50"), "WALKAWAY_DANGER_AT"
    )


@pytest.mark.parametrize("value", ["XYZ", "dollars"])
def test_a_currency_that_is_not_iso_4217_stops_start_up_naming_it(value):
    refused(load(DEBUG="1", WALKAWAY_DEFAULT_CURRENCY=value), "WALKAWAY_DEFAULT_CURRENCY")


def test_a_give_streak_that_is_not_a_whole_number_stops_start_up_naming_it():
    refused(load(DEBUG="1", WALKAWAY_GIVE_STREAK="three"), "WALKAWAY_GIVE_STREAK")


def test_the_deploy_check_passes_with_production_values():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=production_secret(),
        ALLOWED_HOSTS="example.com",
        SITE_URL="https://example.com",
        DEBUG="0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_site_url_is_required_when_debug_is_off():
    refused(load(DEBUG="0", SECRET_KEY=production_secret()), "SITE_URL")


@pytest.mark.parametrize("value", ["walkaway.example.com", "ftp://x.example.com", "https://"])
def test_a_site_url_that_is_not_an_http_address_stops_start_up_naming_it(value):
    refused(load(DEBUG="0", SECRET_KEY=production_secret(), SITE_URL=value), "SITE_URL")


def test_postgresql_connections_run_without_jit_and_keep_options_from_the_url():
    code = (
        "import django; from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS']['options'])"
    )
    plain = run(["-c", code], DEBUG="1", DATABASE_URL="postgres://u@db.example:5432/walkaway")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "-c jit=off"
    url = "postgres://u@db.example:5432/walkaway?options=-c%20statement_timeout%3D5000"
    kept = run(["-c", code], DEBUG="1", DATABASE_URL=url)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip() == "-c statement_timeout=5000 -c jit=off"


@pytest.mark.django_db
def test_the_database_connection_has_jit_off_on_postgresql():
    from django.db import connection

    from .conftest import require_postgres

    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.parametrize("value", ["lots", "0/minute", "600/fortnight", "600"])
def test_a_bad_api_rate_limit_stops_start_up_naming_the_variable(value):
    refused(load(DEBUG="1", WALKAWAY_API_RATE_LIMIT=value), "WALKAWAY_API_RATE_LIMIT")


def test_a_webhook_allow_list_of_anything_but_url_prefixes_stops_start_up():
    refused(load(DEBUG="1", WALKAWAY_WEBHOOK_ALLOW="127.0.0.1:9000"), "WALKAWAY_WEBHOOK_ALLOW")
