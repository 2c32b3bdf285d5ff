"""Times are shown in each person's chosen time zone (Settings); TIME_ZONE for anyone else."""

from __future__ import annotations

import re

from deals.models import DealEvent, Profile


def shown_time(client, deal) -> str:
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    return re.search(r'<li class="event[^"]*">.*?<time [^>]*>([^<]+)</time>', html, re.S).group(1)


def test_a_person_sees_times_in_the_zone_they_chose(client, owner, deal, settings):
    settings.TIME_ZONE = "UTC"
    created = DealEvent.objects.get(deal=deal).created_at
    client.force_login(owner)
    utc = shown_time(client, deal)
    assert f"{created.hour:02d}:{created.minute:02d}" in utc
    Profile.objects.update_or_create(user=owner, defaults={"time_zone": "Asia/Kathmandu"})
    kathmandu = shown_time(client, deal)
    # Kathmandu is UTC+05:45: the minutes move too, whatever the hour.
    minutes = (created.hour * 60 + created.minute + 5 * 60 + 45) % (24 * 60)
    assert f"{minutes // 60:02d}:{minutes % 60:02d}" in kathmandu


def test_a_zone_this_machine_does_not_know_falls_back_to_the_setting(client, owner, deal):
    Profile.objects.update_or_create(user=owner, defaults={"time_zone": "Mars/Olympus"})
    client.force_login(owner)
    assert client.get(f"/deals/{deal.pk}/").status_code == 200
