"""Hostile input (issue 5): every form and query parameter, fuzzed through the test client.

Whatever arrives (any unicode, control characters, very long text, huge and tiny numbers, NaN,
missing and repeated fields, a file where text was expected, markup and htmx attributes), the
answer is never a 500, a refusal stores nothing, and text people typed only ever comes back
escaped: on the page that answers, and on the page a success redirects to.

Each example runs in a savepoint that is rolled back, so every example meets the same deal:
open, with one concession, a pending exception request and room left.
"""

from __future__ import annotations

import html
import json
import operator
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from axes.utils import reset
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from deals import services
from deals.erosion import Level
from deals.models import Concession, ConcessionKind, DealStatus, LostReason

from .desk import HTMX, page, rows

# Markup and htmx attributes that would run in a browser if they came back as they were sent.
MARKERS = (
    '<script>alert("wa")</script>',
    '<img src=x onerror=alert("wa")>',
    '" hx-get="/wa-fuzz" x="',
    "' hx-get='/wa-fuzz' x='",
    "</textarea><svg onload=alert(1)>",
)
UNESCAPED = ("<script>alert(", "<img src=x", 'hx-get="/wa-fuzz', "hx-get='/wa-fuzz", "<svg onload")

# Enough to run on every `make test`; WALKAWAY_FUZZ_EXAMPLES=1000 for a long hunt.
EXAMPLES = hypothesis_settings(
    max_examples=int(os.environ.get("WALKAWAY_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strategies ------------------------------------------------------------------------------------

control = st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=8)
long_text = st.builds(
    operator.mul, st.sampled_from(["x", "é", "😀", "<", "\u202e", " "]), st.integers(190, 6000)
)
text = st.one_of(
    # The default alphabet: all of unicode but surrogates, which no request can carry.
    st.text(max_size=40),
    control,
    st.builds("{}{}{}".format, st.text(max_size=8), st.sampled_from(MARKERS), st.text(max_size=8)),
    long_text,
    st.sampled_from(
        ["", " ", "\x00", "a\x00b", "\ufeff", "\u200b", "\U0001d54f" * 300, "null", "[]"]
    ),
)
# Amounts that have broken money parsers: exponents past what a Decimal context allows, NaNs
# (sNaN raises on comparison), decimal commas, other scripts' digits, trailing NUL.
ODD_AMOUNTS = [
    "",
    "0",
    "-0",
    "-0.00",
    "0.001",
    "0.00000000000000000001",
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "0e999999999",
    "1E+12",
    "999999999999.99",
    "1000000000000",
    "9" * 40,
    "9" * 41,
    "NaN",
    "sNaN",
    "-Infinity",
    "1,000,00",
    "1,000.00",
    "12,50",
    "\u0661\u0662\u0663",
    "1_000",
    "0x10",
    " 5 ",
    "+5",
    "5\x00",
    "$100",
]
money = st.one_of(
    st.decimals(min_value=-10, max_value=2000, places=2).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(repr),
    st.sampled_from(ODD_AMOUNTS),
    text,
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-30", "2024-13-01", "yesterday"]),
    text,
)
integers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str), st.sampled_from(["1", "2"]), text
)
form_key = st.one_of(st.uuids().map(lambda u: u.hex), text)


def choice(values) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(list(values)), text)


a_file = st.builds(lambda: SimpleUploadedFile("x.txt", b"<script>alert(1)</script>"))


def sent(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A field as it may arrive: once, repeated, or as a file upload."""
    return st.one_of(strategy, strategy, st.lists(strategy, min_size=2, max_size=3), a_file)


def fields(valid: dict | None = None, **strategies) -> st.SearchStrategy:
    """Any subset of the form's fields, plus one it does not know; or, as often, a valid form
    with one field replaced, so that hostile text also gets through and is stored and shown."""
    optional = {name: sent(s) for name, s in strategies.items()}
    optional["unexpected"] = text
    hostile = st.fixed_dictionaries({}, optional=optional)
    if not valid:
        return hostile
    near_valid = st.sampled_from(sorted(strategies)).flatmap(
        lambda name: strategies[name].map(lambda value: {**valid, name: value})
    )
    return st.one_of(hostile, near_valid)


def query(**strategies) -> st.SearchStrategy:
    """Query parameters: any subset, each once or repeated (no files in a query string)."""
    optional = {
        name: st.one_of(s, st.lists(s, min_size=2, max_size=3)) for name, s in strategies.items()
    }
    optional["unexpected"] = text
    return st.fixed_dictionaries({}, optional=optional)


GIVE = {
    "kind": choice(ConcessionKind.values),
    "amount": money,
    "description": text,
    "got_in_return": text,
    "form_key": form_key,
}

# A form each view accepts, as the manager, on the world's deal.
VALID = {
    "new deal": {
        "title": "T",
        "customer": "C",
        "currency": "USD",
        "opening_price": "100",
        "floor": "50",
    },
    "concession": {"kind": "other", "amount": "10", "description": "D", "form_key": "k1"},
    "exception request": {
        "kind": "other",
        "amount": "5000",
        "description": "D",
        "form_key": "k2",
    },
    "retract": {"reason": "R"},
    "floor": {"new_floor": "8000", "reason": "R"},
    "win": {"final_price": "9500"},
    "lose": {"reason": "price"},
    "walk away": {"reason": "R"},
    "approve": {"comment": "C"},
    "reject": {"comment": "C"},
}


@dataclass(frozen=True)
class Target:
    method: str
    url: str  # formatted with the world's ids
    data: st.SearchStrategy
    personas: tuple[str, ...] = ("owner", "manager")


TARGETS = {
    "new deal": Target(
        "POST",
        "/deals/new/",
        fields(
            VALID["new deal"],
            title=text,
            customer=text,
            team=choice(["{team}", "{other_team}"]),
            currency=choice(["USD", "EUR", "JPY", "usd", "XXX"]),
            opening_price=money,
            floor=money,
            cost=money,
        ),
        personas=("manager", "staff"),
    ),
    "concession": Target("POST", "/deals/{deal}/concessions/", fields(VALID["concession"], **GIVE)),
    "preview": Target("GET", "/deals/{deal}/preview/", query(amount=money, all=choice(["1", "0"]))),
    "deal page": Target("GET", "/deals/{deal}/", query(all=choice(["1", "0"]))),
    "exception request": Target(
        "POST",
        "/deals/{deal}/exceptions/",
        fields(VALID["exception request"], **GIVE, note=text),
    ),
    "retract": Target(
        "POST",
        "/deals/{deal}/concessions/{concession}/retract/",
        fields(VALID["retract"], reason=text),
    ),
    "floor": Target(
        "POST", "/deals/{deal}/floor/", fields(VALID["floor"], new_floor=money, reason=text)
    ),
    "win": Target("POST", "/deals/{deal}/won/", fields(VALID["win"], final_price=money)),
    "lose": Target(
        "POST",
        "/deals/{deal}/lost/",
        fields(VALID["lose"], reason=choice(LostReason.values), note=text),
    ),
    "walk away": Target(
        "POST", "/deals/{deal}/walk-away/", fields(VALID["walk away"], reason=text)
    ),
    "came back": Target("POST", "/deals/{deal}/came-back/", fields()),
    "deal list": Target(
        "GET",
        "/",
        query(status=choice(DealStatus.values), level=choice(Level.values), page=integers),
    ),
    "approve": Target(
        "POST",
        "/approvals/{exception}/approve/",
        fields(VALID["approve"], comment=text, seen_conceded=money, seen_floor=money),
        personas=("manager",),
    ),
    "reject": Target(
        "POST",
        "/approvals/{exception}/reject/",
        fields(VALID["reject"], comment=text, seen_conceded=money, seen_floor=money),
        personas=("manager",),
    ),
    "approvals": Target("GET", "/approvals/", query(page=integers), personas=("manager",)),
    "dashboard": Target(
        "GET",
        "/dashboard/",
        query(
            rep=choice(["{owner}", "{manager}"]),
            level=choice(Level.values),
            status=choice([*DealStatus.values, "any"]),
            date_field=choice(["created", "activity"]),
            date_from=dates,
            date_to=dates,
            period_from=dates,
            period_to=dates,
            page=integers,
        ),
        personas=("manager",),
    ),
    "deals export": Target(
        "GET",
        "/dashboard/deals.csv",
        query(
            rep=choice(["{owner}"]),
            level=choice(Level.values),
            status=choice([*DealStatus.values, "any"]),
            date_from=dates,
            date_to=dates,
        ),
        personas=("manager",),
    ),
    "concessions export": Target(
        "GET",
        "/dashboard/concessions.csv",
        query(status=choice(["any"]), date_from=dates, date_to=dates),
        personas=("manager",),
    ),
    "notifications": Target("GET", "/notifications/", query(page=integers)),
    "notifications read": Target("POST", "/notifications/read/", fields(up_to=integers)),
}


# The world -------------------------------------------------------------------------------------


@pytest.fixture
def world(owner, manager, staff, team, other_team, deal, give):
    """The owner's deal: 100 conceded of 1,000 room, a pending request for 2,000 below it."""
    concession = give(deal, "100", got="A reference").concession
    deal.refresh_from_db()
    exception = services.exception_request(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("2000.00"),
        description="Half price",
        form_key=uuid.uuid4().hex,
    )
    ids = {
        "deal": deal.pk,
        "concession": concession.pk,
        "exception": exception.pk,
        "team": team.pk,
        "other_team": other_team.pk,
        "owner": owner.pk,
        "manager": manager.pk,
    }
    return {"ids": ids, "owner": owner, "manager": manager, "staff": staff}


@contextmanager
def rolled_back():
    """One example's changes, undone afterwards, so the next example meets the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def filled(value, ids):
    """Put the world's ids into values that name them ("{deal}")."""
    if isinstance(value, str) and value.startswith("{") and value.strip("{}") in ids:
        return str(ids[value.strip("{}")])
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


# The checks ------------------------------------------------------------------------------------


def assert_escaped(response, what: str) -> None:
    if not response["Content-Type"].startswith("text/html"):
        return
    body = page(response)
    for raw in UNESCAPED:
        assert raw not in body, f"{what}: {raw!r} came back unescaped"


def assert_safe(client, response, before: dict, what: str) -> None:
    assert response.status_code < 500, what
    if response.status_code >= 400:
        assert rows() == before, f"{what}: refused with {response.status_code} but stored"
    if response.streaming:
        b"".join(response.streaming_content)  # the CSV must stream to its end, too
        return
    assert_escaped(response, what)
    # What was stored is shown on the page a success leads to; it must be escaped there too.
    location = response.headers.get("HX-Redirect") or response.headers.get("Location")
    if location and response.status_code in (204, 301, 302, 303):
        parts = urlsplit(location)
        assert not parts.netloc, f"{what}: redirected off-site to {location}"
        followed = client.get(location)
        assert followed.status_code < 500, f"{what}: {location}"
        assert_escaped(followed, f"{what}, then {location}")


def send(client, target: Target, data: dict, ids: dict, htmx: bool):
    url = target.url.format(**ids)
    data = {name: filled(value, ids) for name, value in data.items()}
    headers = HTMX if htmx else {}
    if target.method == "GET":
        return client.get(url, data, **headers)
    return client.post(url, data, **headers)


@pytest.mark.parametrize("name", sorted(TARGETS))
@EXAMPLES
@given(data=st.data())
def test_no_input_breaks_a_form_or_stores_anything_it_refuses(client, world, name, data):
    target = TARGETS[name]
    sent_data = data.draw(target.data, label="data")
    persona = data.draw(st.sampled_from(target.personas), label="persona")
    htmx = data.draw(st.booleans(), label="htmx")
    with rolled_back():
        client.force_login(world[persona])
        before = rows()
        response = send(client, target, sent_data, world["ids"], htmx)
        # --hypothesis-show-statistics tells how often the fuzz got through, not only refused.
        event(f"status {response.status_code}")
        assert_safe(client, response, before, f"{name} as {persona}")


@EXAMPLES
@given(
    username=st.one_of(st.sampled_from(["olivia", "maria"]), text),
    password=st.one_of(st.just("walkaway-test-pw"), text),
    next_url=st.one_of(st.sampled_from(["/", "//evil.example", "/deals/"]), text),
    htmx=st.booleans(),
)
def test_no_input_breaks_the_login_form(
    client, world, settings, username, password, next_url, htmx
):
    # The login page as production runs it: with the lockout's bookkeeping.
    settings.AXES_ENABLED = True
    with rolled_back():
        client.logout()
        before = rows()
        response = client.post(
            "/accounts/login/",
            {"username": username, "password": password, "next": next_url},
            **(HTMX if htmx else {}),
        )
        assert_safe(client, response, before, "login")
        assert response.status_code in (200, 302, 429)
    reset()


@EXAMPLES
@given(
    deal=st.integers(min_value=0, max_value=10**30),
    other=st.integers(min_value=0, max_value=10**30),
)
def test_any_number_in_a_url_is_a_404_or_the_page_never_a_500(client, world, deal, other):
    client.force_login(world["manager"])
    for url in (
        f"/deals/{deal}/",
        f"/deals/{deal}/preview/?amount=1",
        f"/deals/{deal}/concessions/{other}/retract/",
        f"/deals/{deal}/floor/",
    ):
        assert client.get(url).status_code in (200, 404), url
    before = rows()
    for url in (
        f"/deals/{deal}/concessions/",
        f"/deals/{deal}/won/",
        f"/approvals/{other}/approve/",
        f"/approvals/{other}/reject/",
    ):
        # Refused data: the point is the number in the URL, not what the form would do.
        assert client.post(url, {"final_price": "x"}).status_code in (404, 422), url
    assert rows() == before


# Explicit cases the fuzz may not reach every time ----------------------------------------------

TEXT_FIELDS = [
    ("new deal", "title"),
    ("new deal", "customer"),
    ("concession", "description"),
    ("concession", "got_in_return"),
    ("exception request", "description"),
    ("exception request", "note"),
    ("retract", "reason"),
    ("floor", "reason"),
    ("walk away", "reason"),
    ("approve", "comment"),
    ("reject", "comment"),
]


@pytest.mark.parametrize(("name", "field"), TEXT_FIELDS)
def test_a_nul_character_in_any_text_is_refused_with_a_message_and_nothing_is_stored(
    client, world, name, field
):
    # PostgreSQL cannot store NUL; it must be a form error, not a database error.
    target = TARGETS[name]
    data = {**VALID[name], field: "before\x00after"}
    client.force_login(world["manager"])
    before = rows()
    response = send(client, target, data, world["ids"], htmx=False)
    assert response.status_code == 422
    assert "This text contains a character that cannot be stored." in html.unescape(page(response))
    assert rows() == before


@pytest.mark.parametrize(("name", "field"), TEXT_FIELDS)
def test_the_same_forms_accept_the_text_without_the_nul(client, world, name, field):
    # The counterpart of the test above: the refusal is about the NUL, not the form.
    target = TARGETS[name]
    data = {**VALID[name], field: "before after"}
    client.force_login(world["manager"])
    response = send(client, target, data, world["ids"], htmx=False)
    assert response.status_code in (302, 303), page(response)


MONEY_FIELDS = [
    ("new deal", "opening_price"),
    ("new deal", "floor"),
    ("new deal", "cost"),
    ("concession", "amount"),
    ("exception request", "amount"),
    ("preview", "amount"),
    ("floor", "new_floor"),
    ("win", "final_price"),
    ("approve", "seen_conceded"),
    ("approve", "seen_floor"),
]


@pytest.mark.parametrize(("name", "field"), MONEY_FIELDS)
def test_every_odd_amount_gets_an_answer_never_a_500(client, world, name, field):
    client.force_login(world["manager"])
    for amount in ODD_AMOUNTS:
        with rolled_back():
            before = rows()
            data = {**VALID.get(name, {}), field: amount}
            response = send(client, TARGETS[name], data, world["ids"], htmx=False)
            assert response.status_code < 500, amount
            if response.status_code >= 400:
                assert rows() == before, amount


POSTS = sorted(name for name, target in TARGETS.items() if target.method == "POST")


@pytest.mark.parametrize("name", POSTS)
@pytest.mark.parametrize(
    "body",
    [
        # Bytes that are not UTF-8, and the encoded halves of a surrogate pair.
        b"description=%ED%A0%80&reason=%FF%FE&comment=%C0%AF&title=%ED%BF%BF",
        b"\xff\xfe\x00=\xed\xa0\x80",
        b"amount=%00&new_floor=%00&final_price=%00&up_to=%00",
        b"&&&===&amount&amount=1&amount=2",
    ],
    ids=["surrogates", "raw bytes", "nul", "malformed"],
)
def test_undecodable_bodies_are_refused_cleanly(client, world, name, body):
    target = TARGETS[name]
    client.force_login(world["manager"])
    before = rows()
    response = client.post(
        target.url.format(**world["ids"]),
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert rows() == before


@pytest.mark.parametrize("name", POSTS)
def test_a_json_body_is_not_mistaken_for_a_form(client, world, name):
    target = TARGETS[name]
    client.force_login(world["manager"])
    before = rows()
    response = client.post(
        target.url.format(**world["ids"]),
        json.dumps({"amount": 1e308, "description": ["<script>"], "reason": None}),
        content_type="application/json",
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert rows() == before
    assert_escaped(response, name)


@pytest.mark.parametrize(
    "url",
    [
        "/?status=%ED%A0%80&level=%FF&page=%00",
        "/dashboard/?date_from=%ED%A0%80&rep=%00&period_to=%FF",
        "/deals/{deal}/preview/?amount=%ED%A0%80",
        "/deals/{deal}/preview/?amount=%00",
        "/notifications/?page=%ED%A0%80",
        "/accounts/login/?next=%ED%A0%80",
    ],
)
def test_undecodable_query_strings_are_answered_cleanly(client, world, url):
    client.force_login(world["manager"])
    response = client.get(url.format(**world["ids"]))
    assert response.status_code < 500


@pytest.mark.parametrize(
    "url", ["/dashboard/", "/dashboard/deals.csv", "/dashboard/concessions.csv"]
)
@pytest.mark.parametrize(
    "dates",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "0001-01-01"},
        {"period_to": "0001-01-01"},
        {"period_from": "9999-12-31"},
        {"period_from": "0001-01-01", "period_to": "9999-12-31"},
    ],
    ids=[
        "last day",
        "first day",
        "period ends on the first day",
        "period from the last day",
        "every day",
    ],
)
def test_the_first_and_last_dates_there_are_do_not_break_the_dashboard(client, world, url, dates):
    # A date input accepts any year from 1 to 9999; a day before or after them does not exist.
    client.force_login(world["manager"])
    response = client.get(url, dates)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response.streaming_content)


def test_a_body_over_the_upload_limit_is_a_400_with_the_error_page(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client.force_login(world["owner"])
    before = rows()
    response = client.post(
        TARGETS["concession"].url.format(**world["ids"]),
        {**VALID["concession"], "description": "x" * 20_000},
    )
    assert response.status_code == 400
    assert "Bad request" in page(response)
    assert rows() == before


def test_too_many_fields_is_a_400_with_the_error_page(client, world):
    client.force_login(world["owner"])
    before = rows()
    data = {f"field{i}": "x" for i in range(1_100)}
    response = client.post(TARGETS["concession"].url.format(**world["ids"]), data)
    assert response.status_code == 400
    assert "Bad request" in page(response)
    assert rows() == before


def test_text_typed_into_every_form_is_escaped_wherever_it_is_shown(client, world, other_team):
    """Each marker goes in through a form and is then looked for on every page that shows it.
    The escaped form must be there (or the test proves nothing), the raw one never."""
    nasty = " ".join(MARKERS)
    ids = world["ids"]
    client.force_login(world["manager"])
    steps = [
        ("/deals/new/", {**VALID["new deal"], "title": nasty, "customer": nasty}),
        (
            "/deals/{deal}/concessions/",
            {**VALID["concession"], "description": nasty, "got_in_return": nasty},
        ),
        (
            "/deals/{deal}/exceptions/",
            {**VALID["exception request"], "description": nasty, "note": nasty},
        ),
        ("/approvals/{exception}/reject/", {"comment": nasty}),
        (
            "/deals/{deal}/exceptions/",
            {**VALID["exception request"], "description": nasty, "form_key": "k3"},
        ),
        ("/deals/{deal}/concessions/{concession}/retract/", {"reason": nasty}),
        ("/deals/{deal}/floor/", {"new_floor": "8500", "reason": nasty}),
        ("/deals/{deal}/walk-away/", {"reason": nasty}),
    ]
    for url, data in steps:
        response = client.post(url.format(**ids), data)
        assert response.status_code in (302, 303), (url, response.status_code)
    ids = {**ids, "nasty_concession": Concession.objects.get(description=nasty).pk}
    # The owner sees their deal and what happened to it; the manager also the new deal.
    shown = {
        "owner": [
            "/deals/{deal}/?all=1",
            "/deals/{deal}/concessions/{nasty_concession}/retract/",
            "/notifications/",
        ],
        "manager": ["/", "/deals/{deal}/?all=1", "/dashboard/?status=any"],
        # The manager asked, so their requests wait for staff (rule 11).
        "staff": ["/approvals/"],
    }
    for who, urls in shown.items():
        client.force_login(world[who])
        for url in urls:
            response = client.get(url.format(**ids))
            assert response.status_code == 200, url
            assert_escaped(response, url)
            assert "&lt;script&gt;alert(" in page(response), f"{url} does not show the text"
