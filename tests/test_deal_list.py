"""deal_list: the home page. One row per visible deal, filtered, paginated, newest first."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services

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
    assert "Print run Acme $9,200.00 80% Danger Open" in text
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
    # An unknown status is the default: open deals.
    assert titles(response) == ["Still talking"]
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


# Every load is drawn from what is true now --------------------------------------------------


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
    response = client.get(URL, {"status": "all"})
    older.refresh_from_db()
    # Open deals come first: a closed one goes behind them.
    assert titles(response) == (["Older", "Newer"] if older.is_open else ["Newer", "Older"])
    text = words(response)
    row = text[text.index("Older Acme") :]
    row = row[: row.index("Newer")] if "Newer" in row else row
    assert f"${older.net:,.2f}" in row
    assert row.strip().endswith(older.get_status_display())
    assert "olivia" not in row  # a rep's own rows do not repeat their name


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


# Issue 13, item 9: search, order, owner, open first ----------------------------------------------


def test_search_finds_title_or_customer(client, owner, make_deal):
    make_deal(title="Press upgrade", customer="Acme")
    make_deal(title="Folder run", customer="Inkwell")
    client.force_login(owner)
    assert titles(client.get(URL, {"q": "press"})) == ["Press upgrade"]
    assert titles(client.get(URL, {"q": "inkw"})) == ["Folder run"]
    assert '<label for="id_q">Search</label>' in page(client.get(URL))


def test_it_sorts_by_room_used_and_by_net(client, owner, make_deal, give):
    tense = make_deal(title="Tense")
    give(tense, "800")
    calm = make_deal(title="Calm", opening_price=Decimal("20000"), floor=Decimal("10000"))
    give(calm, "100")
    make_deal(title="Untouched")
    client.force_login(owner)
    assert titles(client.get(URL, {"sort": "room"})) == ["Tense", "Calm", "Untouched"]
    assert titles(client.get(URL, {"sort": "net"})) == ["Calm", "Untouched", "Tense"]


def test_closed_deals_are_behind_the_status_filter_and_show_their_outcome(client, owner, make_deal):
    make_deal(title="Open one")
    services.deal_win(deal=make_deal(title="Won one"), user=owner)
    client.force_login(owner)
    assert titles(client.get(URL)) == ["Open one"]
    assert titles(client.get(URL, {"status": "closed"})) == ["Won one"]
    assert titles(client.get(URL, {"status": "all"})) == ["Open one", "Won one"]
    text = words(client.get(URL, {"status": "closed"}))
    assert "Won one Inkwell Print Ltd $10,000.00 0% Won at $10,000.00 Won" in text


def test_a_manager_filters_by_owner_and_sees_the_owner_column(
    client, owner, teammate, manager, make_deal
):
    make_deal(title="Olivias")
    make_deal(title="Toms", user=teammate)
    client.force_login(manager)
    response = client.get(URL)
    assert sorted(titles(response)) == ["Olivias", "Toms"]
    assert '<label for="id_owner">Owner</label>' in page(response)
    assert titles(client.get(URL, {"owner": teammate.pk})) == ["Toms"]
    client.force_login(owner)
    assert 'id="id_owner"' not in page(client.get(URL))
