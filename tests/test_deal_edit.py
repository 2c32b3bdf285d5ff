"""Editing a deal's title, customer and cost to deliver: on the deal page (htmx), or on a page
of its own without JavaScript (issue 13, item 6)."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from deals.models import DealEvent

from .desk import HTMX, page, words


def edit_url(deal):
    return reverse("deal_edit", args=[deal.pk])


def test_the_owner_edits_title_customer_and_cost_with_an_event(client, owner, deal):
    client.force_login(owner)
    edit = reverse("deal_edit", args=[deal.pk])
    assert f'href="{edit}"' in page(client.get(reverse("deal_detail", args=[deal.pk])))
    response = client.post(edit, {"title": "ERP phase 2", "customer": "Inkwell", "cost": "7,000"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.customer, deal.cost) == ("ERP phase 2", "Inkwell", Decimal("7000.00"))
    assert DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.UPDATED).count() == 1


def test_a_teammate_cannot_edit_a_deal(client, teammate, deal):
    client.force_login(teammate)
    assert client.get(reverse("deal_edit", args=[deal.pk])).status_code == 404


def test_a_manager_edits_a_deal_of_their_team(client, manager, deal):
    client.force_login(manager)
    response = client.post(edit_url(deal), {"title": "ERP phase 2", "customer": "Inkwell"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "ERP phase 2"
    assert DealEvent.objects.get(deal=deal, kind=DealEvent.Kind.UPDATED).actor == manager


def test_an_outsider_gets_404(client, outsider, deal):
    client.force_login(outsider)
    assert client.get(edit_url(deal)).status_code == 404
    assert client.post(edit_url(deal), {"title": "X", "customer": "Y"}).status_code == 404
    deal.refresh_from_db()
    assert deal.title != "X"


def test_other_methods_get_405(client, owner, deal):
    client.force_login(owner)
    assert client.put(edit_url(deal)).status_code == 405
    assert client.delete(edit_url(deal)).status_code == 405


def test_the_deal_page_opens_the_form_in_place_with_htmx(client, owner, deal):
    client.force_login(owner)
    detail = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert f'hx-get="{edit_url(deal)}" hx-target="#edit-slot"' in detail
    assert '<div id="edit-slot"></div>' in detail
    fragment = client.get(edit_url(deal), **HTMX)
    body = page(fragment)
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert f'hx-post="{edit_url(deal)}"' in body and 'value="' + deal.title + '"' in body


def test_an_htmx_save_reloads_the_deal_page_and_an_error_stays_in_the_form(client, owner, deal):
    client.force_login(owner)
    saved = client.post(edit_url(deal), {"title": "ERP phase 2", "customer": "Inkwell"}, **HTMX)
    assert saved.headers["HX-Redirect"] == reverse("deal_detail", args=[deal.pk])
    refused = client.post(edit_url(deal), {"title": "", "customer": "Inkwell"}, **HTMX)
    assert refused.status_code == 422
    assert page(refused).lstrip().startswith("<form")
    assert "Title" in words(refused) and "required" in words(refused).lower()
    deal.refresh_from_db()
    assert deal.title == "ERP phase 2"


def test_the_form_costs_a_bounded_number_of_queries(
    client, owner, deal, django_assert_max_num_queries
):
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        client.get(edit_url(deal), **HTMX)
