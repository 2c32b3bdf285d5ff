"""Walkaway settings.

Every value that differs between a laptop and production comes from the environment, and this
is the only module that reads it. A value that cannot be understood stops start-up with the
variable's name, because a typo in production must never silently become a default.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_percent(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"{name} must be a percentage such as 50; got {raw!r}."
        ) from None
    if not value.is_finite() or not (0 < value < 100):
        raise ImproperlyConfigured(f"{name} must be a percentage between 0 and 100; got {raw!r}.")
    return value


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set DEBUG=1 for local development."
        )
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-walkaway-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's own widget templates, for the project's form renderer (deals.forms.Renderer).
    "django.forms",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    # The API (deals/api): its Swagger assets are served from our origin, as the CSP requires.
    "ninja",
    # Webhook deliveries: tasks stored in the database, run by `manage.py db_worker`.
    "django_tasks",
    "django_tasks_db",
    "deals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "deals.access.AccessMiddleware",
    "deals.access.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "walkaway.urls"
WSGI_APPLICATION = "walkaway.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "deals.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; waiting beats "database is locked" errors for a small demo.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Walkaway's queries are short lookups and aggregates over one team. PostgreSQL's JIT
    # compiles any plan whose estimated cost passes jit_above_cost, and spent ~18 ms compiling
    # the dashboard's per-rep query, longer than running it took. Options in the URL are kept.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORM_RENDERER = "deals.forms.Renderer"

# Django's cache framework, per process. Pages are drawn from the database on every request:
# a cold benchmark (a different deal, rep or manager each request) showed no kept page paying
# its way (README, Performance).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "deal_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Tests and `make run` serve straight from the finders; production serves the collected manifest.
WHITENOISE_USE_FINDERS = DEBUG

# Email: the console by default, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "walkaway@localhost")

# Security. Production values are the defaults; DEBUG relaxes only what plain http needs.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# The __Host- prefix pins the cookies to this exact host over https; browsers refuse it on http,
# so it follows the Secure flag.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: scripts only from our own origin, no inline script, no eval. htmx is
# configured in base.html not to need either (no inline indicator styles, allowEval off).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Login lockout (django-axes): a username from one address is locked out after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours, as django-axes counts
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Addresses come from REMOTE_ADDR only: a client-supplied X-Forwarded-For must not reset a lockout.

# The margin-erosion thresholds, in percent of room used, compared exactly (DOMAIN.md, Levels).
WALKAWAY_CAUTION_AT = env_percent("WALKAWAY_CAUTION_AT", "50")
WALKAWAY_DANGER_AT = env_percent("WALKAWAY_DANGER_AT", "80")
if WALKAWAY_DANGER_AT <= WALKAWAY_CAUTION_AT:
    raise ImproperlyConfigured("WALKAWAY_DANGER_AT must be greater than WALKAWAY_CAUTION_AT.")
WALKAWAY_GIVE_STREAK = env_int("WALKAWAY_GIVE_STREAK", 3)
if WALKAWAY_GIVE_STREAK < 1:
    raise ImproperlyConfigured("WALKAWAY_GIVE_STREAK must be at least 1.")


def env_site_url(name: str) -> str:
    """The address people reach the app at, for links that leave it (emails)."""
    from urllib.parse import urlsplit

    raw = os.environ.get(name, "").strip()
    if not raw:
        if DEBUG:
            return "http://127.0.0.1:8000"
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off: the address people open the app at, "
            "such as https://walkaway.example.com (links in emails are built from it)."
        )
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) address such as https://walkaway.example.com; got {raw!r}."
        )
    return raw.rstrip("/")


SITE_URL = env_site_url("SITE_URL")

WALKAWAY_DEFAULT_CURRENCY = env_str("WALKAWAY_DEFAULT_CURRENCY", "USD").upper()
WALKAWAY_LOCALE = env_str("WALKAWAY_LOCALE", "en_US")
WALKAWAY_DEALS_PER_PAGE = env_int("WALKAWAY_DEALS_PER_PAGE", 25)
# Days an invitation's one-time link stays valid (issue 14).
WALKAWAY_INVITATION_DAYS = env_int("WALKAWAY_INVITATION_DAYS", 7)
if WALKAWAY_INVITATION_DAYS < 1:
    raise ImproperlyConfigured("WALKAWAY_INVITATION_DAYS must be at least 1.")


# The API (deals/api) and its webhooks.
def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate such as 600/minute, as (requests, seconds of the window)."""
    raw = os.environ.get(name, default)
    windows = {"second": 1, "minute": 60, "hour": 3600}
    count, _, per = raw.strip().partition("/")
    if not count.isdigit() or int(count) < 1 or per not in windows:
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 600/minute (per second, minute or hour); got {raw!r}."
        )
    return int(count), windows[per]


WALKAWAY_API_RATE_LIMIT = env_rate("WALKAWAY_API_RATE_LIMIT", "600/minute")
# Webhook URLs must be https and reach a public address, unless they start with one of these.
WALKAWAY_WEBHOOK_ALLOW = env_list("WALKAWAY_WEBHOOK_ALLOW", [])
for _prefix in WALKAWAY_WEBHOOK_ALLOW:
    if not _prefix.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"WALKAWAY_WEBHOOK_ALLOW must list URL prefixes such as http://127.0.0.1:9000/; "
            f"got {_prefix!r}."
        )

# Each webhook delivery is a task row written in the transaction of the change it tells of
# (the outbox); `manage.py db_worker` sends it once that transaction has committed.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Minutes during which a concession's author may correct it in one step (issue 13).
WALKAWAY_CORRECT_MINUTES = env_int("WALKAWAY_CORRECT_MINUTES", 10)
if WALKAWAY_CORRECT_MINUTES < 0:
    raise ImproperlyConfigured("WALKAWAY_CORRECT_MINUTES must be 0 or more.")

# Benchmark mode (`make bench` only): adds the baseline view and a per-request query count
# header. Never set in production.
WALKAWAY_BENCH = env_bool("WALKAWAY_BENCH", False)
if WALKAWAY_BENCH:
    MIDDLEWARE.insert(0, "bench.middleware.QueryCountMiddleware")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}


def _check_currency(name: str, code: str) -> str:
    from babel.numbers import list_currencies

    if code not in list_currencies():
        raise ImproperlyConfigured(
            f"{name} must be an ISO 4217 currency code such as USD; got {code!r}."
        )
    return code


WALKAWAY_DEFAULT_CURRENCY = _check_currency("WALKAWAY_DEFAULT_CURRENCY", WALKAWAY_DEFAULT_CURRENCY)
