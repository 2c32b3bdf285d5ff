"""Browser fixtures: one Chromium for the whole session, a fresh context per test, and the demo
team behind pytest-django's live server.

The live server runs in another thread, so its data must be committed: every browser test uses
the transactional database. Playwright's sync API keeps an event loop running in the test
thread, which Django would otherwise take for async code and refuse the ORM.
"""

from __future__ import annotations

import importlib.util
import io
import os
import threading
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Held while the live server answers a request (SQLite only, see below).
_ANSWERING = threading.Lock()


def _serve_one_request_at_a_time() -> None:
    """On SQLite the test database is in memory, and the live server hands its one connection
    to every request thread. Two requests at once (a preview still in flight when "Log
    concession" posts) then meet on that connection and one fails with "database table is
    locked". Served one at a time, as a browser's requests are answered by a single worker.
    PostgreSQL gives each thread its own connection and keeps the threaded server."""
    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return

    class SerialWSGIServer(ThreadedWSGIServer):
        def set_app(self, application):
            def serial(environ, start_response):
                with _ANSWERING:
                    result = application(environ, start_response)
                    try:
                        body = b"".join(result)
                    finally:
                        if hasattr(result, "close"):
                            result.close()
                return [body]

            super().set_app(serial)

    LiveServerThread.server_class = SerialWSGIServer


_serve_one_request_at_a_time()


def _close(context) -> None:
    """Close a test's browser, then let the request it may have left in flight finish: the
    database is emptied after the test, and on SQLite that shares the server's connection."""
    context.close()
    with _ANSWERING:
        pass


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "walkaway"
# A busy two-core machine can be slow to answer; waiting longer costs nothing when it is fast.
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    """Skip, except where a skip would hide a missing browser (REQUIRE_BROWSER=1 in CI)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"browser tests need Chromium at {CHROMIUM}, and it is not installed")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("browser tests need Playwright: pip install -e '.[test]'")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db):
    """The demo team: logins rep, rep2 and manager, password "walkaway"."""
    if importlib.util.find_spec("deals.management.commands.seed_demo"):
        from django.core.management import call_command

        call_command("seed_demo", "--force", stdout=io.StringIO())
    else:
        _minimal_team()


def _minimal_team() -> None:
    from django.contrib.auth import get_user_model

    from deals.models import Membership, Role, Team

    team = Team.objects.create(name="Print & Packaging Sales")
    for username, role in [("rep", Role.REP), ("rep2", Role.REP), ("manager", Role.MANAGER)]:
        user = get_user_model().objects.create_user(username=username, password=DEMO_PASSWORD)
        Membership.objects.create(user=user, team=team, role=role)


def _new_page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server, demo):
    context, page = _new_page(browser, live_server)
    yield page
    _close(context)


@pytest.fixture
def nojs_page(browser, live_server, demo):
    """A browser with JavaScript off: every form must still post and come back."""
    context, page = _new_page(browser, live_server, java_script_enabled=False)
    yield page
    _close(context)


@pytest.fixture
def make_page(browser, live_server, demo):
    """More pages, each in its own context (its own cookies), e.g. a rep and a manager at once."""
    contexts = []

    def make(**options):
        context, page = _new_page(browser, live_server, **options)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        _close(context)
