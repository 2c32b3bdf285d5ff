"""A manager's CSV import: a preview with each row's errors, nothing written until confirmed,
then every deal in one transaction."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from deals.models import Deal

HEADER = "title,customer,currency,opening_price,floor,cost,owner,external_source,external_ref\n"
GOOD = HEADER + (
    "Crates,Acme,USD,10000.00,9000.00,,olivia,hubspot,D-1\n"
    'Pallets,Bolt,EUR,"12,500.00",11000,8000,,hubspot,D-2\n'
)


def upload(client, team, text, **extra):
    file = SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")
    return client.post("/deals/import/", {"team": team.pk, "file": file, **extra})


def test_the_preview_shows_what_will_be_created_and_writes_nothing(client, manager, owner, team):
    client.force_login(manager)
    response = upload(client, team, GOOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 deals will be created" in page and "Import 2 deals" in page
    assert not Deal.objects.exists()


def test_confirming_creates_every_deal(client, manager, owner, team):
    client.force_login(manager)
    response = client.post("/deals/import/", {"team": team.pk, "csv": GOOD, "confirm": "True"})
    assert response.status_code == 303
    deals = {d.title: d for d in Deal.objects.all()}
    assert set(deals) == {"Crates", "Pallets"}
    assert deals["Crates"].owner == owner and deals["Pallets"].owner == manager
    assert deals["Pallets"].external_ref == "D-2"


def test_errors_are_shown_per_row_and_nothing_is_written_even_when_confirmed(
    client, manager, team, make_deal
):
    make_deal(external_source="hubspot", external_ref="TAKEN")
    bad = HEADER + (
        "Fine,Acme,USD,100.00,50.00,,,,\n"
        "Floor too high,Acme,USD,100.00,200.00,,,,\n"
        "Nobody's,Acme,USD,100.00,50.00,,ghost,,\n"
        "Taken,Acme,USD,100.00,50.00,,,hubspot,TAKEN\n"
        "Twice,Acme,USD,100.00,50.00,,,hubspot,DUP\n"
        "Twice again,Acme,USD,100.00,50.00,,,hubspot,DUP\n"
    )
    client.force_login(manager)
    before = Deal.objects.count()
    response = upload(client, team, bad)
    page = response.content.decode()
    assert response.status_code == 422
    assert "5 of 6 rows have errors" not in page  # the first Twice is fine on its own
    assert "4 of 6 rows have errors" in page
    assert "below the opening price" in page and "ghost is not in" in page
    assert "already has this reference" in page
    confirmed = client.post("/deals/import/", {"team": team.pk, "csv": bad, "confirm": "True"})
    assert confirmed.status_code == 422
    assert Deal.objects.count() == before


def test_a_file_with_the_wrong_columns_is_refused_whole(client, manager, team):
    client.force_login(manager)
    response = upload(client, team, "name,price\nA,1\n")
    assert response.status_code == 422
    assert "missing columns" in response.content.decode()


def test_reps_do_not_import(client, owner, team):
    client.force_login(owner)
    assert upload(client, team, GOOD).status_code == 403
    assert not Deal.objects.exists()
