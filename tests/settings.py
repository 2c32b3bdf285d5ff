"""Production settings with the two things a test process cannot have: a real secret and https.

Everything else (DEBUG off, secure cookies, strict security headers) stays as in production, so
the suite exercises the configuration that ships.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SITE_URL", "https://walkaway.example.com")

from walkaway.settings import *  # noqa: F403

# The manifest only exists after collectstatic; tests serve static files straight from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic in tests: WhiteNoise would warn about the missing folder on every request.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# The test client's login() authenticates without a request, which django-axes refuses; the
# lockout has its own tests that switch it back on.
AXES_ENABLED = False

# `manage.py lintmigrations` (CI) flags migrations that would lock or break a live database.
INSTALLED_APPS = [*INSTALLED_APPS, "django_migration_linter"]  # noqa: F405
MIGRATION_LINTER_OPTIONS = {
    "exclude_apps": ["admin", "auth", "contenttypes", "sessions", "axes", "django_tasks_database"],
    # The first migration creates empty tables before any data exists; every later one must
    # be safe to run against a live database.
    "ignore_name": [
        "0001_initial",
        # A unique index built CONCURRENTLY on two columns 0010 added empty: no row can break it.
        "0012_deal_external_ref_unique",
    ],
}
