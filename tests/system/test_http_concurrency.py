"""Rules 3, 6, 7 and 8 over real HTTP: sixty htmx posts at once, from two reps and a manager,
into gunicorn's several workers and threads, on PostgreSQL with the production settings.

The service-level concurrency tests (tests/test_concurrency.py) call deals.services from
threads; this one goes through everything in front of it too: the login, the session and CSRF
cookies, the middleware, the view and the database connections of separate processes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from decimal import Decimal

import pytest

from deals.erosion import assess

from .conftest import (
    Browser,
    concession,
    deal_page_figures,
    ledger,
    ledger_problems,
    new_key,
    seed_team,
)

pytestmark = pytest.mark.system

AMOUNTS = ["25.00", "40.00", "55.50", "70.25", "33.33"]


@dataclass(frozen=True)
class Post:
    who: str
    deal: str
    key: str
    amount: str


@dataclass(frozen=True)
class Outcome:
    post: Post
    status: int
    body: str


def plan(shared_gives: int, resubmits: int, stranger_posts: int, own_gives: int) -> list[Post]:
    posts = []
    for i in range(shared_gives):
        who = "rep" if i % 2 == 0 else "boss"
        posts.append(Post(who, "shared", new_key(), AMOUNTS[i % len(AMOUNTS)]))
    # A double click or a retry: the same person sends the very same form again.
    posts += posts[:resubmits]
    # rep2 is in the team but does not own the shared deal, so it must not exist for them.
    posts += [Post("rep2", "shared", new_key(), "10.00") for _ in range(stranger_posts)]
    posts += [Post("rep2", "own", new_key(), AMOUNTS[i % len(AMOUNTS)]) for i in range(own_gives)]
    random.Random(7).shuffle(posts)
    return posts


def test_sixty_concurrent_htmx_posts_never_cross_the_floor_and_log_each_form_once(
    main_postgres, fresh_database, served_app, serve
):
    name = fresh_database()
    url = main_postgres.url(name)
    deals = seed_team(
        served_app,
        url,
        people={"rep": "rep", "rep2": "rep", "boss": "manager"},
        deals={
            # 1,000 of room; the thirty different gives below add up to 1,344.
            "shared": {
                "owner": "rep",
                "title": "Shared",
                "opening_price": "10000",
                "floor": "9000",
            },
            "own": {"owner": "rep2", "title": "Own", "opening_price": "5000", "floor": "4700"},
        },
    )
    server = serve(served_app.env(url))
    people = {who: Browser(server.port).login(who) for who in ("rep", "rep2", "boss")}

    posts = plan(shared_gives=30, resubmits=12, stranger_posts=8, own_gives=10)
    assert len(posts) == 60

    def send(post: Post) -> Outcome:
        reply = people[post.who].post(
            f"/deals/{deals[post.deal]}/concessions/",
            concession(post.key, post.amount),
            htmx=True,
        )
        return Outcome(post, reply.status, reply.body)

    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(send, post) for post in posts]
        _, pending = wait(futures, timeout=120)
    assert not pending, "some requests never finished"
    outcomes = [f.result() for f in futures]

    # Every answer is a readable 2xx or 4xx; which one depends only on who asked and the floor.
    logged_by_key: dict[str, list[Outcome]] = defaultdict(list)
    refused_keys = set()
    for o in outcomes:
        assert o.status < 500, f"{o.post} got {o.status}:\n{o.body[:2000]}"
        if o.post.who == "rep2" and o.post.deal == "shared":
            assert o.status == 404, (o.post, o.status)
            assert "not yours to see" in o.body
            continue
        assert o.status in (200, 409), f"{o.post} got {o.status}:\n{o.body[:2000]}"
        assert "<html" not in o.body, "an htmx answer must be a fragment"
        if o.status == 409:
            assert "below your walk-away floor" in o.body, o.body[:2000]
            refused_keys.add(o.post.key)
        elif "already logged; nothing was added" in o.body:
            pass
        else:
            assert "Logged $" in o.body, o.body[:2000]
            logged_by_key[o.post.key].append(o)
    assert all(len(v) == 1 for v in logged_by_key.values()), "one form was logged twice"
    assert refused_keys, "the floor was never reached, so it was never tested"

    amount_by_key = {p.key: Decimal(p.amount) for p in posts}
    deal_by_key = {p.key: p.deal for p in posts}
    with main_postgres.connect(name) as conn:
        for key in ("shared", "own"):
            assert ledger_problems(conn, deals[key]) == []
            rows = ledger(conn, deals[key])
            # Exactly the forms that were answered "Logged", each once, with what was sent.
            assert {k for _, _, k in rows} == {k for k in logged_by_key if deal_by_key[k] == key}
            assert all(amount == amount_by_key[k] for _, amount, k in rows)
            assert not refused_keys & {k for _, _, k in rows}
        opening, floor, conceded = conn.execute(
            "SELECT opening_price, floor, conceded FROM deals_deal WHERE id = %s",
            [deals["shared"]],
        ).fetchone()
        assert conceded <= opening - floor

    # The deal page, as the manager sees it, shows the same total and gauge as the ledger.
    page = people["boss"].get(f"/deals/{deals['shared']}/")
    assert page.status == 200
    shown, meter = deal_page_figures(page)
    assert shown == conceded
    assert meter == assess(opening_price=opening, floor=floor, conceded=conceded).room_used_whole
    assert people["rep2"].get(f"/deals/{deals['shared']}/").status == 404
