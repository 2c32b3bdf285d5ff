"""The dashboard's charts (issue 14): SVG drawn on the server, each named by its <title>, with
the same figures in a table beside it; one period control; a rep's row opens their deals."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import Deal, DealEvent

from .desk import page, words

URL = reverse("dashboard")


def test_every_chart_is_an_svg_image_named_by_its_title_with_a_table(
    client, manager, owner, make_deal, give
):
    deal = make_deal(cost=Decimal("5000.00"), target_price=Decimal("9800.00"))
    give(deal, "850", kind="free_service")
    services.deal_win(deal=deal, user=owner)
    walked = make_deal(title="Walked")
    services.deal_walk_away(deal=walked, user=owner, reason="Too low")
    client.force_login(manager)
    body = page(client.get(URL))
    titles = re.findall(r'<svg class="chart[^"]*" role="img"[^>]*><title>([^<]+)</title>', body)
    assert len(titles) == 6
    assert any("Room used per rep" in t for t in titles)
    assert any("Concession kinds by cost" in t for t in titles)
    assert any("Walk-aways and comebacks, per week" in t for t in titles)
    text = words(client.get(URL))
    assert "Free service 1 85%" in text  # 850 of 1,000 room
    assert "$850.00" in text
    # Margin kept: (9,150 - 5,000) / 9,150; landing: (9,150 - 9,800) / 9,800.
    assert "olivia 45% (1 won) -7% (1 won)" in text
    assert "2 $850.00 43%" in text  # two deals: 85% and 0% of room used
    assert "float" not in body
    assert body.count('tabindex="0" role="region"') >= 9
    assert f'href="{reverse("deal_list")}?owner={owner.pk}"' in body


def test_one_period_control_with_presets(client, manager, owner, make_deal):
    old = make_deal(title="Old one")
    long_ago = timezone.now() - dt.timedelta(days=150)
    Deal.objects.filter(pk=old.pk).update(created_at=long_ago, version=F("version") + 1)
    DealEvent.objects.filter(deal=old).update(created_at=long_ago)
    client.force_login(manager)
    body = page(client.get(URL))
    assert body.count("<legend>") == 2
    assert ">Last 6 months</option>" in body
    short = words(client.get(URL, {"period": "30"}))
    wide = words(client.get(URL, {"period": "182"}))
    assert "olivia 1" not in short
    assert "olivia 1" in wide


def test_a_rep_name_in_a_chart_is_escaped(client, manager, owner, make_deal):
    owner.username = "<b>olivia</b>"
    owner.save()
    make_deal()
    client.force_login(manager)
    body = page(client.get(URL))
    assert "<b>olivia</b>" not in body
    assert "&lt;b&gt;olivia&lt;/b&gt;" in body
