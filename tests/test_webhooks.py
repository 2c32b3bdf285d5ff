"""Signed webhooks: queued with the change (an outbox), sent after it commits by the worker, in
order, retried after failures, and nothing at all for a change that rolled back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from deals import services, webhooks
from deals.integrations import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from .api import api_for, is_error
from .conftest import is_postgres, require_postgres
from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver(settings):
    with Receiver() as r:
        settings.WALKAWAY_WEBHOOK_ALLOW = [r.url.rsplit("/", 1)[0] + "/"]
        yield r


def run_worker() -> None:
    """What `manage.py db_worker --batch` does, in this process: run every task that is due."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    ).run()
    failed = DBTaskResult.objects.failed()
    assert not failed.exists(), [t.traceback for t in failed]


def time_passes() -> None:
    """Every retry that is scheduled becomes due now."""
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=past)
    DBTaskResult.objects.filter(status="READY").update(run_after=past)


def register(manager, team, url, events=None) -> dict:
    response = api_for(manager).post(
        "/webhooks",
        {
            "url": url,
            "team": team.pk,
            "events": events
            or [
                "deal.created",
                "concession.logged",
                "concession.retracted",
                "deal.level_changed",
                "deal.won",
            ],
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()


def new_deal(owner, team, **kwargs):
    values = {
        "user": owner,
        "team": team,
        "title": "ERP roll-out",
        "customer": "Inkwell",
        "currency": "USD",
        "opening_price": Decimal("10000.00"),
        "floor": Decimal("9000.00"),
    }
    return services.deal_create(**{**values, **kwargs})


def give(deal, amount, user=None):
    return services.concession_log(
        deal=deal, user=user or deal.owner, kind="other", amount=Decimal(amount), description="x"
    )


def test_events_arrive_signed_in_order_with_the_deal_as_the_change_left_it(
    owner, manager, team, receiver
):
    hook = register(manager, team, receiver.url)
    assert hook["secret"].startswith("whsec_")
    deal = new_deal(owner, team)
    give(deal, "850")
    assert receiver.received == []  # nothing is sent by the write itself
    run_worker()
    bodies = receiver.delivered()
    assert [b["type"] for b in bodies] == [
        "deal.created",
        "concession.logged",
        "deal.level_changed",
    ]
    assert [b["id"] for b in bodies] == sorted(b["id"] for b in bodies)
    logged = bodies[1]
    assert logged["data"]["concession"]["amount"] == "850.00"
    # The deal as the transaction left it: the concession is in its figures.
    assert logged["deal"]["conceded"] == "850.00" and logged["deal"]["level"] == "danger"
    for request in receiver.received:
        header = request["headers"]["Walkaway-Signature"]
        assert webhooks.verify(hook["secret"], header, request["raw"])
        assert not webhooks.verify("whsec_wrong", header, request["raw"])
        assert request["headers"]["Walkaway-Event-Id"] == str(
            __import__("json").loads(request["raw"])["id"]
        )


def test_the_signature_is_hmac_sha256_of_the_time_and_the_raw_body(owner, manager, team, receiver):
    import hashlib
    import hmac

    hook = register(manager, team, receiver.url, ["deal.created"])
    new_deal(owner, team)
    run_worker()
    [request] = receiver.received
    t, v1 = (part.split("=", 1)[1] for part in request["headers"]["Walkaway-Signature"].split(","))
    expected = hmac.new(
        hook["secret"].encode(), f"{t}.".encode() + request["raw"], hashlib.sha256
    ).hexdigest()
    assert v1 == expected
    assert abs(int(t) - timezone.now().timestamp()) < 60
    # Five minutes later a receiver refuses it.
    assert not webhooks.verify(
        hook["secret"], request["headers"]["Walkaway-Signature"], request["raw"], now=int(t) + 301
    )


def test_a_failed_delivery_is_retried_later_and_holds_back_later_events(
    owner, manager, team, receiver
):
    hook = register(manager, team, receiver.url)
    receiver.script = [500]
    deal = new_deal(owner, team)
    give(deal, "100")
    run_worker()
    # The first failed; the second waits behind it, so order is kept.
    assert [r["status"] for r in receiver.received] == [500]
    first = WebhookDelivery.objects.order_by("id").first()
    assert first.status == "pending" and first.attempts == 1
    wait = first.next_attempt_at - timezone.now()
    assert timedelta(seconds=0) < wait <= timedelta(minutes=1)
    assert DBTaskResult.objects.ready().count() == 0  # not due yet
    run_worker()
    assert len(receiver.received) == 1
    time_passes()
    run_worker()
    assert [b["type"] for b in receiver.delivered()] == ["deal.created", "concession.logged"]
    # The same event, the same body, whichever try it was.
    assert receiver.received[0]["raw"] == receiver.received[1]["raw"]
    attempts = api_for(manager).get(f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert [(a["type"], a["outcome"], a["response_code"]) for a in attempts] == [
        ("concession.logged", "delivered", 200),
        ("deal.created", "delivered", 200),
        ("deal.created", "refused", 500),
    ]


def test_retries_grow_for_more_than_a_day_then_the_delivery_is_given_up(
    owner, manager, team, receiver
):
    register(manager, team, receiver.url, ["deal.created"])
    receiver.script = [503] * 50
    new_deal(owner, team)
    delays = []
    for _ in range(len(webhooks.RETRY_DELAYS) + 1):
        run_worker()
        delivery = WebhookDelivery.objects.get()
        if delivery.status == "pending":
            # From the attempt that failed, in whole seconds: measured against the clock now,
            # two equal delays would read as shrinking on a slow machine.
            tried = delivery.tries.latest("at").at
            delays.append(
                timedelta(seconds=round((delivery.next_attempt_at - tried).total_seconds()))
            )
        time_passes()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == len(webhooks.RETRY_DELAYS) + 1
    assert delays == sorted(delays) and delays[0] <= timedelta(minutes=1)
    assert sum(webhooks.RETRY_DELAYS, timedelta()) > timedelta(days=1)
    assert WebhookAttempt.objects.count() == delivery.attempts


def test_a_receiver_that_cannot_be_reached_is_recorded_and_retried(owner, manager, team, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/gone"
    settings.WALKAWAY_WEBHOOK_ALLOW = [url]
    register(manager, team, url, ["deal.created"])
    new_deal(owner, team)
    run_worker()
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == "error" and attempt.error
    assert WebhookDelivery.objects.get().status == "pending"


def test_a_change_that_rolled_back_delivers_nothing(owner, manager, team, receiver):
    register(manager, team, receiver.url)
    deal = new_deal(owner, team)
    run_worker()
    sent = len(receiver.received)
    tasks = DBTaskResult.objects.count()

    class Oops(Exception):
        pass

    with pytest.raises(Oops), transaction.atomic():
        give(deal, "100")
        # Inside the transaction the outbox holds the delivery and its task...
        assert WebhookDelivery.objects.filter(event__kind="concession_logged").exists()
        raise Oops
    # ...and the rollback took both away.
    assert not WebhookDelivery.objects.filter(event__kind="concession_logged").exists()
    assert DBTaskResult.objects.count() == tasks
    run_worker()
    assert len(receiver.received) == sent


def test_a_refused_write_delivers_nothing(owner, manager, team, receiver):
    register(manager, team, receiver.url)
    deal = new_deal(owner, team)
    with pytest.raises(services.BelowFloor):
        give(deal, "5000")
    run_worker()
    assert [b["type"] for b in receiver.delivered()] == ["deal.created"]


def test_an_endpoint_gets_only_the_events_it_chose(owner, manager, team, receiver):
    register(manager, team, receiver.url, ["deal.won"])
    deal = new_deal(owner, team)
    give(deal, "100")
    services.deal_win(deal=deal, user=owner)
    run_worker()
    assert [b["type"] for b in receiver.delivered()] == ["deal.won"]


def test_another_teams_events_are_not_sent(owner, manager, team, outsider, other_team, receiver):
    register(manager, team, receiver.url, ["deal.created"])
    new_deal(outsider, other_team)
    run_worker()
    assert receiver.received == []


def test_a_switched_off_endpoint_is_sent_nothing_more(owner, manager, team, receiver):
    hook = register(manager, team, receiver.url, ["deal.created"])
    assert api_for(manager).delete(f"/webhooks/{hook['id']}").json()["active"] is False
    new_deal(owner, team)
    run_worker()
    assert receiver.received == []


def test_only_a_teams_manager_registers_and_reads_its_webhooks(
    owner, manager, other_manager, team, receiver
):
    body = {"url": receiver.url, "team": team.pk, "events": ["deal.created"]}
    assert is_error(api_for(owner).post("/webhooks", body), 404)
    assert is_error(api_for(other_manager).post("/webhooks", body), 404)
    hook = register(manager, team, receiver.url)
    for persona in (owner, other_manager):
        assert is_error(api_for(persona).get(f"/webhooks/{hook['id']}/deliveries"), 404)
    assert "secret" not in api_for(manager).get(f"/webhooks/{hook['id']}").json()
    assert api_for(other_manager).get("/webhooks").json()["items"] == []


def test_loopback_and_private_addresses_are_refused_unless_allowed(manager, team, monkeypatch):
    api = api_for(manager)

    def body(url):
        return {"url": url, "team": team.pk, "events": ["deal.created"]}

    assert is_error(api.post("/webhooks", body("http://crm.example.com/hook")), 422)
    assert is_error(api.post("/webhooks", body("https://127.0.0.1/hook")), 422)
    assert is_error(api.post("/webhooks", body("https://[::1]/hook")), 422)
    assert is_error(api.post("/webhooks", body("https://user:pw@crm.example.com/")), 422)

    def resolves_to(ip):
        return lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 443))]

    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("10.1.2.3"))
    response = api.post("/webhooks", body("https://crm.internal.example.com/hook"))
    assert is_error(response, 422) and "private" in response.json()["detail"]
    monkeypatch.setattr(socket, "getaddrinfo", resolves_to("93.184.216.34"))
    assert api.post("/webhooks", body("https://crm.example.com/hook")).status_code == 201


def test_the_owner_of_an_endpoint_sees_every_attempt_on_its_page(
    client, owner, manager, team, receiver
):
    hook = register(manager, team, receiver.url, ["deal.created"])
    receiver.script = [500]
    new_deal(owner, team)
    run_worker()
    client.force_login(manager)
    page = client.get(f"/settings/webhooks/{hook['id']}/").content.decode()
    assert "HTTP 500" in page and "deal.created" in page and "next try" in page


def test_a_webhook_registered_on_the_page_shows_its_secret_once(client, manager, team, receiver):
    client.force_login(manager)
    response = client.post(
        "/settings/webhooks/", {"url": receiver.url, "team": team.pk, "events": ["deal.won"]}
    )
    assert response.status_code == 201
    secret = WebhookEndpoint.objects.get().secret
    assert secret in response.content.decode()
    assert secret not in client.get("/settings/webhooks/").content.decode()


def test_the_worker_started_as_its_own_process_delivers(owner, manager, team, receiver):
    """`manage.py db_worker`, as production runs it, against this test database."""
    require_postgres()
    register(manager, team, receiver.url, ["deal.created"])
    new_deal(owner, team)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "WALKAWAY_WEBHOOK_ALLOW": ",".join(django_settings.WALKAWAY_WEBHOOK_ALLOW),
    }
    subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=django_settings.BASE_DIR,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert [b["type"] for b in receiver.delivered()] == ["deal.created"]
    assert is_postgres()
