"""deal_detail: the deal page, with its gauge, status region, nudges, ledger and history."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from deals import services

from .desk import (
    HTMX,
    NASTY,
    SIZES,
    STRANGERS,
    assert_escaped,
    assert_fragment,
    long_deal,
    page,
    rows,
    words,
)


def url(deal):
    return reverse("deal_detail", args=[deal.pk])


def meter(response) -> dict[str, str]:
    match = re.search(r'<div role="meter"([^>]*)>', page(response))
    assert match, "no meter on the page"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


def status_region(response) -> str:
    match = re.search(r'<div id="status"[^>]*role="status">(.*?)</div>', page(response), re.S)
    assert match, "no status region on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_owner_sees_the_deal_with_its_figures(client, owner, deal, give):
    give(deal, "250")
    client.force_login(owner)
    response = client.get(url(deal))
    assert response.status_code == 200
    text = words(response)
    assert '<h1 id="deal-title">ERP roll-out</h1>' in page(response)
    assert "Opening price $10,000.00" in text
    assert "Conceded $250.00" in text
    assert "Net $9,750.00" in text
    assert "Walk-away floor $9,000.00" in text
    assert "Log concession" in text
    for label in ("Kind", "Amount", "What you gave", "What you got in return"):
        assert f">{label}" in page(response)


def test_a_get_changes_nothing(client, owner, deal, give):
    give(deal, "100")
    client.force_login(owner)
    before = rows()
    client.get(url(deal))
    client.get(url(deal), **HTMX)
    assert rows() == before


@pytest.mark.parametrize("persona", STRANGERS)
def test_a_rep_who_does_not_own_the_deal_gets_404(client, request, deal, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(deal)).status_code == 404
    assert client.get(url(deal), **HTMX).status_code == 404


def test_a_deal_that_does_not_exist_gets_404(client, owner, deal):
    client.force_login(owner)
    assert client.get(reverse("deal_detail", args=[deal.pk + 1000])).status_code == 404


def test_the_teams_manager_sees_the_deal_and_may_act_on_it(client, manager, deal):
    client.force_login(manager)
    response = client.get(url(deal))
    assert response.status_code == 200
    assert "Log concession" in words(response)
    assert "Mark won" in words(response)


def test_an_anonymous_visitor_is_sent_to_log_in(client, deal):
    response = client.get(url(deal))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/accounts/login/?next=/deals/{deal.pk}/"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_is_allowed(client, owner, deal, method):
    client.force_login(owner)
    before = rows()
    assert getattr(client, method)(url(deal)).status_code == 405
    assert rows() == before


def test_an_htmx_request_gets_the_gauge_fragment_only(client, owner, deal, give):
    give(deal, "500")
    client.force_login(owner)
    response = client.get(url(deal), **HTMX)
    assert response.status_code == 200
    assert_fragment(response)
    assert page(response).lstrip().startswith('<section id="gauge"')
    assert meter(response)["aria-valuenow"] == "50"
    assert "Log concession" not in page(response)


@pytest.mark.parametrize(
    ("conceded", "now", "level"),
    [
        (None, "0", "On track"),
        ("499.99", "50", "On track"),
        ("500.00", "50", "Caution"),
        ("799.99", "80", "Caution"),
        ("800.00", "80", "Danger"),
        ("1000.00", "100", "At your floor"),
    ],
)
def test_the_meter_and_status_name_the_room_used_and_the_level(
    client, owner, deal, give, conceded, now, level
):
    if conceded:
        give(deal, conceded)
    client.force_login(owner)
    response = client.get(url(deal))
    attrs = meter(response)
    assert attrs["aria-label"] == "Room used"
    assert attrs["aria-valuemin"] == "0"
    assert attrs["aria-valuemax"] == "100"
    assert attrs["aria-valuenow"] == now
    deal.refresh_from_db()
    remaining = f"${deal.net - deal.floor:,.2f}"
    assert status_region(response) == f"{level} : {remaining} left before your floor."


def test_the_status_gives_the_room_left_in_money(client, owner, make_deal, give):
    deal = make_deal(opening_price=Decimal("10000.00"), floor=Decimal("5000.00"))
    give(deal, "800")
    client.force_login(owner)
    response = client.get(url(deal))
    assert "$4,200.00 left before your floor" in status_region(response)
    assert meter(response)["aria-valuenow"] == "16"


def test_a_euro_deal_shows_euros(client, owner, make_deal, give):
    deal = make_deal(currency="EUR", opening_price=Decimal("12500.00"), floor=Decimal("10000"))
    give(deal, "1000")
    client.force_login(owner)
    response = client.get(url(deal))
    assert "€1,500.00 left before your floor" in status_region(response)
    assert "Opening price €12,500.00" in words(response)
    assert "$" not in status_region(response)


def test_below_the_floor_through_an_approved_exception_the_meter_passes_100(
    client, owner, manager, deal, give
):
    give(deal, "900")
    deal.refresh_from_db()
    request = services.exception_request(
        deal=deal, user=owner, kind="free_service", amount="300", description="Training days"
    )
    services.exception_approve(exception_request=request, user=manager, comment="Strategic")
    client.force_login(owner)
    response = client.get(url(deal))
    assert meter(response)["aria-valuenow"] == "120"
    assert status_region(response) == (
        "Below floor : $200.00 below your walk-away floor (approved exception)."
    )
    assert "approved exception" in words(response)


def test_room_used_is_rounded_half_up_for_the_meter_only(client, owner, deal, give):
    give(deal, "855.00")  # 85.5% of room used
    client.force_login(owner)
    response = client.get(url(deal))
    assert meter(response)["aria-valuenow"] == "86"
    assert "Danger" in status_region(response)


def test_three_gives_without_a_get_bring_the_trade_dont_give_nudge(client, owner, deal, give):
    give(deal, "100", got="A two-year contract")
    give(deal, "90")
    give(deal, "80")
    client.force_login(owner)
    assert "Trade" not in status_region(client.get(url(deal)))
    give(deal, "70")
    region = status_region(client.get(url(deal)))
    assert "Trade, don&#x27;t give: ask for something back." in region
    assert "aren&#x27;t getting smaller" not in region


def test_gives_that_do_not_shrink_bring_the_not_shrinking_nudge(client, owner, deal, give):
    give(deal, "100", got="A reference")
    give(deal, "100", got="A bigger order")
    client.force_login(owner)
    assert "getting smaller" not in status_region(client.get(url(deal)))
    give(deal, "150", got="Faster signature")
    region = status_region(client.get(url(deal)))
    assert "Your concessions aren&#x27;t getting smaller" in region
    assert "Trade" not in region


def test_shrinking_gives_that_came_with_gets_bring_no_nudge(client, owner, deal, give):
    for amount, got in [("300", "A reference"), ("200", "A bigger order"), ("100", "Faster")]:
        give(deal, amount, got=got)
    client.force_login(owner)
    assert 'class="nudge' not in page(client.get(url(deal)))


def test_a_retracted_give_does_not_count_for_the_nudges(client, owner, deal, give):
    give(deal, "100")
    give(deal, "90")
    mistake = give(deal, "80").concession
    services.concession_retract(concession=mistake, user=owner, reason="Never agreed")
    client.force_login(owner)
    assert "Trade" not in status_region(client.get(url(deal)))


def test_a_closed_deal_shows_no_nudges_and_no_concession_form(client, owner, deal, give):
    for amount in ("100", "90", "80"):
        give(deal, amount)
    services.deal_lose(deal=deal, user=owner, reason="price")
    client.force_login(owner)
    response = client.get(url(deal))
    assert "Trade" not in status_region(response)
    assert "Log concession" not in words(response)
    assert "Lost Reason: Price. No more concessions can be logged." in words(response)
    assert "Retract" not in words(response)


def test_each_concession_shows_what_was_given_and_got_and_a_retract_link(client, owner, deal, give):
    traded = give(deal, "100", got="A two-year contract", description="Ten percent off").concession
    given = give(deal, "50", description="Free delivery").concession
    client.force_login(owner)
    response = client.get(url(deal))
    text = words(response)
    assert "Ten percent off In return: A two-year contract" in text
    assert "Free delivery Nothing in return" in text
    for c in (traded, given):
        link = reverse("concession_retract", args=[deal.pk, c.pk])
        assert f'href="{link}" hx-get="{link}"' in page(response)


def test_the_history_lists_every_event_newest_first_with_who(client, owner, manager, deal, give):
    give(deal, "600")
    # 600 of 1,100 is still Caution: the floor change writes no level change of its own.
    services.floor_change(deal=deal, user=manager, new_floor="8900", reason="Bigger order")
    client.force_login(owner)
    text = words(client.get(url(deal)))
    history = text[text.index("History") :]
    floor = history.index("Floor changed")
    level = history.index("Level changed")
    logged = history.index("Concession logged")
    created = history.index("Deal created")
    assert floor < level < logged < created
    assert "maria" in history[floor:level]
    assert "olivia" in history[logged:created]


def test_user_text_is_shown_escaped(client, owner, make_deal, give):
    deal = make_deal(title=NASTY, customer=NASTY)
    c = give(deal, "100", description=NASTY, got=NASTY).concession
    services.concession_retract(concession=c, user=owner, reason=NASTY)
    client.force_login(owner)
    response = client.get(url(deal))
    assert response.status_code == 200
    assert_escaped(response)


@pytest.mark.parametrize("n", SIZES)
def test_the_page_costs_the_same_queries_however_long_the_ledger(
    client, owner, make_deal, django_assert_max_num_queries, n
):
    deal = long_deal(make_deal, n)
    client.force_login(owner)
    with django_assert_max_num_queries(11):
        response = client.get(url(deal))
    assert response.status_code == 200
    assert f'<span class="count" id="concession-count">({n + 1})</span>' in page(response)
    with django_assert_max_num_queries(11):
        response = client.get(url(deal) + "?all=1")
    assert page(response).count('<li class="concession') == n + 1
    with django_assert_max_num_queries(9):
        assert client.get(url(deal), **HTMX).status_code == 200


def test_a_long_ledger_shows_the_latest_entries_with_a_link_to_all(client, owner, make_deal):
    deal = long_deal(make_deal, 30)
    client.force_login(owner)
    response = client.get(url(deal))
    assert page(response).count('<li class="concession') == 20
    assert "Give 29" in page(response)
    assert "Give 9<" not in page(response)
    assert f'href="{url(deal)}?all=1#concessions">Show all 31 concessions</a>' in page(response)
    everything = client.get(url(deal) + "?all=1")
    assert page(everything).count('<li class="concession') == 31
    assert "Give 9<" in page(everything)
    assert "Show all" not in words(everything)


# Every load is drawn from what is true now ------------------------------------------------------


def test_a_change_shows_on_the_next_load(client, owner, deal, give):
    give(deal, "100", description="Free installation")
    client.force_login(owner)
    assert "Free installation" in words(client.get(url(deal)))
    give(deal, "40", description="Longer payment terms")
    text = words(client.get(url(deal)))
    assert "Longer payment terms" in text
    assert "Concessions (2)" in text
    assert "2. Price discount: $40.00, Longer payment terms" in text


def test_a_renamed_person_shows_under_the_new_name_everywhere_on_the_next_load(
    client, owner, manager, deal, give
):
    give(deal, "100", description="Free installation")
    client.force_login(manager)
    assert "olivia" in words(client.get(url(deal)))
    owner.username = "olivia.new"
    owner.save()
    html = page(client.get(url(deal)))
    assert "olivia.new" in html
    # The header, the concession and the history all name her anew; the old name is gone.
    assert html.count("olivia.new") >= 3
    assert re.search(r"olivia(?!\.new)", html) is None


def test_the_whole_ledger_is_drawn_on_asking(client, owner, make_deal):
    deal = long_deal(make_deal, 25)
    client.force_login(owner)
    everything = client.get(url(deal) + "?all=1")
    assert page(everything).count('<li class="concession') == 26
    assert page(client.get(url(deal))).count('<li class="concession') == 20


def test_pending_requests_are_listed_with_who_asked(client, owner, deal, give):
    give(deal, "900")
    services.exception_request(
        deal=deal,
        user=owner,
        kind="price_discount",
        amount=Decimal("200"),
        description="Extra discount",
        note="",
    )
    client.force_login(owner)
    text = words(client.get(url(deal)))
    assert "Waiting for approval" in text
    assert "Extra discount" in text
