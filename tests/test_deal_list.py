"""deal_list: the home page. One row per visible deal, filtered, paginated, newest first."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db.models import F
from django.urls import reverse

from deals import services
from deals.models import Deal

from .desk import HTMX, NASTY, assert_escaped, assert_fragment, long_deal, page, rows, words

URL = reverse("deal_list")


def titles(response) -> list[str]:
    return re.findall(
        r'<th scope="row" data-label="Deal"><a href="[^"]+">([^<]*)</a>', page(response)
    )


def test_the_owner_sees_a_row_per_deal_with_its_figures(client, owner, make_deal, give):
    deal = make_deal(title="Print run", customer="Acme")
    give(deal, "800")
    client.force_login(owner)
    response = client.get(URL)
    assert response.status_code == 200
    text = words(response)
    assert "Deals" in text
    assert "New deal" in text
    assert "Print run Acme olivia $9,200.00 80% Danger Open" in text
    assert f'href="{reverse("deal_detail", args=[deal.pk])}"' in page(response)


def test_a_get_changes_nothing(client, owner, deal):
    client.force_login(owner)
    before = rows()
    client.get(URL)
    client.get(URL, {"status": "open", "page": "2"}, **HTMX)
    assert rows() == before


def test_each_person_sees_only_the_deals_visible_to_them(
    client, owner, teammate, manager, outsider, other_manager, make_deal
):
    make_deal(title="Olivia's deal")
    make_deal(title="Tom's deal", user=teammate)
    client.force_login(owner)
    assert titles(client.get(URL)) == ["Olivia&#x27;s deal"]
    client.force_login(teammate)
    assert titles(client.get(URL)) == ["Tom&#x27;s deal"]
    client.force_login(manager)
    assert sorted(titles(client.get(URL))) == ["Olivia&#x27;s deal", "Tom&#x27;s deal"]
    client.force_login(other_manager)
    assert titles(client.get(URL)) == []
    client.force_login(outsider)
    response = client.get(URL)
    assert titles(response) == []
    assert "No deals yet." in words(response)


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/login/?next=/"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_is_allowed(client, owner, method):
    client.force_login(owner)
    assert getattr(client, method)(URL).status_code == 405


def test_an_htmx_request_gets_the_table_fragment_only(client, owner, make_deal):
    make_deal(title="Print run")
    client.force_login(owner)
    response = client.get(URL, {"status": "open"}, **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<div id="deal-table"')
    assert titles(response) == ["Print run"]


def test_it_filters_by_status(client, owner, make_deal):
    make_deal(title="Still talking")
    won = make_deal(title="Signed")
    services.deal_win(deal=won, user=owner)
    client.force_login(owner)
    assert titles(client.get(URL, {"status": "won"})) == ["Signed"]
    assert titles(client.get(URL, {"status": "open"})) == ["Still talking"]
    assert titles(client.get(URL, {"status": "lost"})) == []
    assert "No deals match these filters." in words(client.get(URL, {"status": "lost"}))


def test_it_filters_by_level(client, owner, make_deal, give):
    give(make_deal(title="Calm"), "100")
    give(make_deal(title="Tense"), "850")
    give(make_deal(title="Edge"), "1000")
    client.force_login(owner)
    assert titles(client.get(URL, {"level": "danger"})) == ["Tense"]
    assert titles(client.get(URL, {"level": "at_floor"})) == ["Edge"]
    assert titles(client.get(URL, {"level": "on_track"})) == ["Calm"]
    assert titles(client.get(URL, {"level": "caution"})) == []


def test_status_and_level_filters_combine(client, owner, make_deal, give):
    give(make_deal(title="Open and tense"), "850")
    tense_won = make_deal(title="Won and tense")
    give(tense_won, "850")
    services.deal_win(deal=tense_won, user=owner)
    client.force_login(owner)
    assert titles(client.get(URL, {"status": "won", "level": "danger"})) == ["Won and tense"]


def test_an_unknown_filter_value_is_ignored_and_the_other_filter_still_applies(
    client, owner, make_deal
):
    make_deal(title="Still talking")
    services.deal_win(deal=make_deal(title="Signed"), user=owner)
    client.force_login(owner)
    response = client.get(URL, {"status": "bogus"})
    assert response.status_code == 200
    assert sorted(titles(response)) == ["Signed", "Still talking"]
    assert titles(client.get(URL, {"status": "won", "level": "bogus"})) == ["Signed"]


def test_it_orders_by_newest_activity(client, owner, make_deal, give):
    older = make_deal(title="Older")
    make_deal(title="Newer")
    client.force_login(owner)
    assert titles(client.get(URL)) == ["Newer", "Older"]
    give(older, "10")
    assert titles(client.get(URL)) == ["Older", "Newer"]


def test_it_paginates_and_the_page_links_keep_the_filters(client, owner, make_deal, settings):
    settings.WALKAWAY_DEALS_PER_PAGE = 2
    for i in range(5):
        make_deal(title=f"Deal {i}")
    client.force_login(owner)
    first = client.get(URL, {"status": "open"})
    assert titles(first) == ["Deal 4", "Deal 3"]
    assert "Page 1 of 3" in words(first)
    assert 'href="?status=open&amp;page=2" rel="next"' in page(first)
    assert 'rel="prev"' not in page(first)
    second = client.get(URL, {"status": "open", "page": "2"})
    assert titles(second) == ["Deal 2", "Deal 1"]
    assert 'href="?status=open&amp;page=1" rel="prev"' in page(second)
    last = client.get(URL, {"page": "3"})
    assert titles(last) == ["Deal 0"]
    assert 'rel="next"' not in page(last)


@pytest.mark.parametrize("page_number", ["99", "abc", "-1", "0"])
def test_a_page_number_out_of_range_gets_a_page_not_an_error(
    client, owner, make_deal, settings, page_number
):
    settings.WALKAWAY_DEALS_PER_PAGE = 2
    for i in range(3):
        make_deal(title=f"Deal {i}")
    client.force_login(owner)
    response = client.get(URL, {"page": page_number})
    assert response.status_code == 200
    assert len(titles(response)) in (1, 2)


def test_a_user_in_no_team_is_not_offered_a_new_deal(client, django_user_model):
    loner = django_user_model.objects.create_user(username="lone", password="x-1234567890")
    client.force_login(loner)
    response = client.get(URL)
    assert response.status_code == 200
    assert "New deal" not in words(response)


def test_user_text_is_shown_escaped(client, owner, make_deal):
    make_deal(title=NASTY, customer=NASTY)
    client.force_login(owner)
    assert_escaped(client.get(URL))


@pytest.mark.parametrize("n", [5, 40])
def test_the_list_costs_the_same_queries_however_many_deals(
    client, owner, make_deal, give, settings, django_assert_max_num_queries, n
):
    settings.WALKAWAY_DEALS_PER_PAGE = 25
    for _ in range(n):
        give(make_deal(opening_price=Decimal("5000"), floor=Decimal("1000")), "1")
    client.force_login(owner)
    # Drawn for the first time: the page's deals are read twice, their versions, then the rows.
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(titles(response)) == min(n, 25)
    with django_assert_max_num_queries(6):
        assert client.get(URL, {"level": "on_track"}, **HTMX).status_code == 200


@pytest.mark.parametrize("n", [5, 200])
def test_a_long_ledger_costs_the_list_nothing_more(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert f"${Decimal(1000000) - n + 1:,.2f}" in words(response)


# A list seen again is served from what was kept, until any of its deals changes -------------


def test_a_list_seen_again_costs_fewer_queries_and_reads_the_same(
    client, owner, make_deal, django_assert_max_num_queries
):
    for n in range(3):
        make_deal(title=f"Deal {n}")
    client.force_login(owner)
    first = client.get(URL)
    # Session, user, the count, the page's versions, the person's teams, unread: no rows.
    with django_assert_max_num_queries(6) as captured:
        again = client.get(URL)
    assert not any('"deals_deal"."title"' in q["sql"] for q in captured.captured_queries)
    assert titles(again) == titles(first) == ["Deal 2", "Deal 1", "Deal 0"]


@pytest.mark.parametrize(
    "change",
    [
        lambda deal, owner: services.concession_log(
            deal=deal,
            user=owner,
            kind="price_discount",
            amount=Decimal("800"),
            description="Discount",
        ),
        lambda deal, owner: services.deal_lose(deal=deal, user=owner, reason="price"),
    ],
    ids=["a concession", "an outcome"],
)
def test_a_change_to_any_deal_shows_on_the_next_visit(client, owner, make_deal, change):
    older = make_deal(title="Older", customer="Acme")
    make_deal(title="Newer")
    client.force_login(owner)
    assert titles(client.get(URL)) == ["Newer", "Older"]
    change(older, owner)
    response = client.get(URL)
    assert titles(response) == ["Older", "Newer"]
    older.refresh_from_db()
    text = words(response)
    row = text[text.index("Older Acme") : text.index("Newer")]
    assert f"olivia ${older.net:,.2f}" in row
    assert row.strip().endswith(older.get_status_display())


def test_a_new_deal_shows_on_the_next_visit(client, owner, make_deal):
    make_deal(title="First")
    client.force_login(owner)
    client.get(URL)
    make_deal(title="Second")
    assert titles(client.get(URL)) == ["Second", "First"]


def test_each_person_and_each_filter_gets_their_own_list(client, owner, manager, make_deal):
    make_deal(title="Theirs")
    client.force_login(owner)
    assert "New deal" in words(client.get(URL))
    assert titles(client.get(URL, {"status": "won"})) == []
    client.force_login(manager)
    assert titles(client.get(URL)) == ["Theirs"]
    assert titles(client.get(URL, {"status": "open"})) == ["Theirs"]


def test_page_links_keep_only_the_filters_that_were_understood(client, owner, make_deal, settings):
    settings.WALKAWAY_DEALS_PER_PAGE = 1
    make_deal(title="One")
    make_deal(title="Two")
    client.force_login(owner)
    response = client.get(URL, {"status": "open", "level": "nonsense", "junk": "<x>"})
    assert 'href="?status=open&amp;page=2" rel="next"' in page(response)


def test_a_change_that_commits_late_with_an_earlier_time_still_shows(client, owner, make_deal):
    # Two writers: the one that took its time first commits last, so the list's latest time
    # does not move when its change appears. The kept list must still not be served.
    older = make_deal(title="Older", customer="Acme")
    newer = make_deal(title="Newer")
    client.force_login(owner)
    assert "$10,000.00" in words(client.get(URL))
    between = older.updated_at + (newer.updated_at - older.updated_at) / 2
    Deal.objects.filter(pk=older.pk).update(
        conceded=Decimal("250.00"), updated_at=between, version=F("version") + 1
    )
    response = client.get(URL)
    assert titles(response) == ["Newer", "Older"]
    assert "Older Acme olivia $9,750.00" in words(response)
