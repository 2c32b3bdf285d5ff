"""Rule 9 over real HTTP (issue 11, finding 1): staff renaming a deal in the admin while its rep
logs concessions never overwrites the deal's total. Before the fix, the admin saved the whole
row from the copy it read, unlocked, when the request began: in one run 28 concessions ($280)
stood in the ledger while `conceded` said $100.

Gunicorn with several workers and threads, on PostgreSQL with the production settings: the
admin's change form is posted again and again while concessions are posted at the same time.
Afterwards `conceded` must equal the sum of the ledger, read straight from PostgreSQL, and
`manage.py check_ledger` must find nothing wrong with the database.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal

import pytest

from .conftest import PASSWORD, REPO, Browser, concession, find, new_key, seed_team

pytestmark = pytest.mark.system

CREATE_STAFF = """
import os
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser(
    username="root", password=os.environ["SYSTEM_PASSWORD"], email="root@example.com"
)
print("RESULT {}")
"""

GIVES = 60
RENAMES = 30


def test_renaming_in_the_admin_while_the_rep_logs_never_overwrites_the_total(
    main_postgres, fresh_database, served_app, serve
):
    name = fresh_database()
    url = main_postgres.url(name)
    deals = seed_team(
        served_app,
        url,
        people={"rep": "rep"},
        deals={"deal": {"owner": "rep", "title": "Raced", "opening_price": "100000", "floor": "0"}},
    )
    served_app.run_script(url, CREATE_STAFF, SYSTEM_PASSWORD=PASSWORD)
    server = serve(served_app.env(url), workers=3, threads=4)
    rep = Browser(server.port).login("rep")
    root = Browser(server.port).login("root")
    deal_id = deals["deal"]
    change = f"/admin/deals/deal/{deal_id}/change/"
    form = root.get(change)
    assert form.status == 200, form.body[:1000]
    token = find(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body, "the admin's token")
    owner = find(r'<option value="(\d+)" selected>', form.body, "the owner's option")

    def give(i: int):
        return rep.post(f"/deals/{deal_id}/concessions/", concession(new_key(), "10.00"), htmx=True)

    def rename(i: int):
        return root.post(
            change,
            {
                "csrfmiddlewaretoken": token,
                "title": f"Raced, take {i}",
                "customer": "System test customer",
                "cost": "",
                "owner": owner,
                "_save": "Save",
            },
        )

    jobs = [("give", i) for i in range(GIVES)] + [("rename", i) for i in range(RENAMES)]
    # Interleaved, so that renames are in flight all the while the gives are.
    jobs.sort(key=lambda job: job[1] * (GIVES / RENAMES if job[0] == "rename" else 1))
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [(kind, pool.submit(give if kind == "give" else rename, i)) for kind, i in jobs]
        _, pending = wait([f for _, f in futures], timeout=180)
    assert not pending, "some requests never finished"
    for kind, future in futures:
        reply = future.result()
        assert reply.status < 500, f"{kind} got {reply.status}:\n{reply.body[:2000]}"
        if kind == "give":
            assert reply.status == 200 and "Logged $" in reply.body, reply.body[:2000]
        else:
            assert reply.status == 302, f"the admin answered {reply.status}:\n{reply.body[:2000]}"

    with main_postgres.connect(name) as conn:
        conceded, title, version = conn.execute(
            "SELECT conceded, title, version FROM deals_deal WHERE id = %s", [deal_id]
        ).fetchone()
        total, count = conn.execute(
            "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM deals_concession WHERE deal_id = %s",
            [deal_id],
        ).fetchone()
        renamed = conn.execute(
            "SELECT COUNT(*) FROM deals_dealevent WHERE deal_id = %s AND kind = 'updated'",
            [deal_id],
        ).fetchone()[0]
    assert count == GIVES
    assert conceded == total == Decimal("10.00") * GIVES
    assert title.startswith("Raced, take ")
    assert renamed == RENAMES
    # Each give and each rename moved the version once (the gives may change the level too,
    # in the same write).
    assert version == 1 + GIVES + RENAMES

    checked = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"],
        cwd=REPO,
        env=served_app.env(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The ledger holds: 1 deal(s) checked." in checked.stdout
