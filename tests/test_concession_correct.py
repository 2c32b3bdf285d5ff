"""Issue 13, items 6 and 7: a typo corrected in one step by its author within the window, and a
comeback that records when the customer came back, what they offered and a note."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import Concession, Deal, DealEvent

from .desk import HTMX, page, words


def correct_url(deal, c):
    return reverse("concession_correct", args=[deal.pk, c.pk])


def typed(**values):
    return {"kind": "price_discount", "amount": "150", "description": "Fixed", **values}


def test_the_author_corrects_a_give_in_one_step(client, owner, deal, give):
    original = give(deal, "100", description="Typo").concession
    client.force_login(owner)
    response = client.post(correct_url(deal, original), typed(), **HTMX)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.conceded == Decimal("150.00")
    entries = list(
        Concession.objects.filter(deal=deal).order_by("id").values_list("amount", flat=True)
    )
    assert entries == [Decimal("100.00"), Decimal("-100.00"), Decimal("150.00")]
    corrected = DealEvent.objects.filter(deal=deal, kind=DealEvent.Kind.CONCESSION_CORRECTED)
    assert corrected.count() == 1
    assert not DealEvent.objects.filter(kind=DealEvent.Kind.CONCESSION_RETRACTED).exists()
    assert "Concession corrected" in words(client.get(reverse("deal_detail", args=[deal.pk])))


def test_the_deal_page_offers_correct_to_the_author_only_within_the_window(
    client, owner, manager, deal, give, settings
):
    c = give(deal, "100").concession
    client.force_login(owner)
    detail = reverse("deal_detail", args=[deal.pk])
    assert f'href="{correct_url(deal, c)}"' in page(client.get(detail))
    client.force_login(manager)
    assert f'href="{correct_url(deal, c)}"' not in page(client.get(detail))
    Concession.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    client.force_login(owner)
    assert f'href="{correct_url(deal, c)}"' not in page(client.get(detail))


def test_a_correction_past_the_window_is_refused(owner, deal, give, settings):
    settings.WALKAWAY_CORRECT_MINUTES = 10
    c = give(deal, "100").concession
    Concession.objects.filter(pk=c.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    with pytest.raises(services.NotCorrectable):
        services.concession_correct(
            concession=c, user=owner, kind="other", amount="50", description="Late"
        )
    assert Concession.objects.filter(deal=deal).count() == 1


def test_only_the_author_corrects(manager, deal, give):
    c = give(deal, "100").concession
    with pytest.raises(services.NotCorrectable):
        services.concession_correct(
            concession=c, user=manager, kind="other", amount="50", description="Not mine"
        )


def test_a_correction_below_the_floor_is_refused_and_writes_nothing(owner, deal, give):
    c = give(deal, "900").concession
    with pytest.raises(services.BelowFloor):
        services.concession_correct(
            concession=c, user=owner, kind="other", amount="1200", description="Too much"
        )
    deal.refresh_from_db()
    assert deal.conceded == Decimal("900.00")
    assert Concession.objects.filter(deal=deal).count() == 1


def test_the_kind_chosen_last_is_kept_for_the_next_log(client, owner, deal, give):
    give(deal, "100", kind="free_service")
    client.force_login(owner)
    shown = page(client.get(reverse("deal_detail", args=[deal.pk])))
    assert '<option value="free_service" selected>' in shown


def test_a_comeback_records_the_day_the_offer_and_a_note(client, owner, deal):
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    client.force_login(owner)
    today = timezone.localdate()
    detail = page(client.get(reverse("deal_detail", args=[deal.pk])))
    for label in ("Came back on", "Their offer", "Note"):
        assert f">{label}" in detail
    assert ">Reopen deal</button>" in detail
    response = client.post(
        reverse("deal_come_back", args=[deal.pk]),
        {"came_back_on": today.isoformat(), "offer": "9,500", "note": "New budget"},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN
    assert (deal.came_back_on, deal.comeback_offer, deal.comeback_note) == (
        today,
        Decimal("9500.00"),
        "New budget",
    )
    event = DealEvent.objects.get(kind=DealEvent.Kind.CAME_BACK)
    assert event.data["offer"] == "9500.00"
    assert event.data["note"] == "New budget"
    assert "offering $9,500.00" in words(client.get(reverse("deal_detail", args=[deal.pk])))


def test_a_comeback_cannot_be_in_the_future(client, owner, deal):
    services.deal_walk_away(deal=deal, user=owner, reason="Too low")
    client.force_login(owner)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        reverse("deal_come_back", args=[deal.pk]), {"came_back_on": tomorrow.isoformat()}
    )
    assert response.status_code == 422
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WALKED_AWAY
