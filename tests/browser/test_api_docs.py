"""/api/v1/docs works under the strict CSP and offline: every asset comes from our origin, and
Swagger UI draws the API with no CSP violation."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_the_api_docs_reference_only_our_origin(client, db):
    html = client.get("/api/v1/docs").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "<script>" not in html  # no inline script: only src= and a JSON data block


def test_the_api_docs_draw_under_the_csp_with_nothing_from_outside(page, live_server):
    violations, outside = [], []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    def route(r):
        if not r.request.url.startswith(live_server.url):
            outside.append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("Walkaway API").first.wait_for()
    page.get_by_text("/api/v1/deals/by-ref/{source}/{ref}").first.wait_for()
    assert outside == [] and violations == []
