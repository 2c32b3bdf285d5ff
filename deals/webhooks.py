"""Signed webhooks: every deal event told to the team's registered endpoints, after it commits.

The outbox: `event_written` runs inside the service's transaction (services._event), so the
deliveries and the task that sends them (a django-tasks-db row) are written with the change or
not at all; a change that rolls back sends nothing, and nothing is sent before its commit, since
the worker (`manage.py db_worker`) cannot see the rows until then.

The courier (`deliver`, a task per endpoint) sends an endpoint's pending deliveries oldest first,
one worker at a time (a lease on the endpoint row). A failure or timeout stops the line there
and schedules another try after RETRY_DELAYS, so a receiver always gets an endpoint's events in
the order they happened; after the last delay (more than a day) the delivery is given up and the
line moves on. Every try is kept (WebhookAttempt) for the endpoint's owner to read.

Each POST carries `Walkaway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
keyed with the endpoint's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from .integrations import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .models import Deal, DealEvent
from .shapes import EVENT_TYPES, deal_dict, event_data, instant

logger = logging.getLogger(__name__)

# After the n-th failed try, the next waits RETRY_DELAYS[n - 1]: the first within a minute, the
# last about 40 hours after the first. After the last, the delivery is given up.
RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200)
)
TIMEOUT_SECONDS = 10
# How long a worker holds an endpoint; each try extends it. A worker that dies lets go then.
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3)
USER_AGENT = "Walkaway-Webhooks/1"


class UnsafeURL(ValueError):
    """A URL Walkaway will not post to; the message is meant for people."""


# The outbox ---------------------------------------------------------------------------------------


def event_written(event: DealEvent) -> None:
    """Queue the event for every active endpoint of its team that wants its type (in the
    caller's transaction)."""
    kind = EVENT_TYPES.get(event.kind)
    if kind is None:
        return
    wanted = [pk for pk, events in _endpoints(event.deal) if kind in events]
    if not wanted:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=pk, event=event, next_attempt_at=now) for pk in wanted
    )
    for pk in wanted:
        deliver.enqueue(pk)
    # The deal as the whole transaction leaves it, kept as soon as it commits.
    transaction.on_commit(partial(freeze, event.pk), robust=True)


def _endpoints(deal: Deal) -> list[tuple[int, list[str]]]:
    """The team's active endpoints, read once per service call: every service writes all its
    events through the one deal instance it locked, so the events of one change are looked up
    once, however many they are."""
    found = getattr(deal, "_webhook_endpoints", None)
    if found is None:
        rows = WebhookEndpoint.objects.filter(team_id=deal.team_id, disabled_at__isnull=True)
        found = list(rows.values_list("pk", "events"))
        deal._webhook_endpoints = found
    return found


def freeze(event_id: int) -> None:
    """Keep the deal, as it is now, in the event's deliveries that do not have it yet."""
    pending = WebhookDelivery.objects.filter(event_id=event_id, deal__isnull=True)
    deal_id = DealEvent.objects.filter(pk=event_id).values_list("deal_id", flat=True).first()
    if deal_id is None or not pending.exists():
        return
    deal = Deal.objects.select_related("owner").get(pk=deal_id)
    pending.update(deal=deal_dict(deal))


# Signing ------------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Walkaway-Signature header for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now=None) -> bool:
    """What a receiver does (README): the signature matches and is at most five minutes old."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body of a delivery: the same bytes on every try."""
    event = delivery.event
    payload = {
        "id": event.pk,
        "type": EVENT_TYPES[event.kind],
        "created": instant(event.created_at),
        "deal": delivery.deal,
        "data": event_data(event),
    }
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


# Where we post ---------------------------------------------------------------------------------


def allowed_by_setting(url: str) -> bool:
    return any(url.startswith(prefix) for prefix in settings.WALKAWAY_WEBHOOK_ALLOW)


def check_url(url: str) -> str:
    """A URL an endpoint may have: https to a public address, or one WALKAWAY_WEBHOOK_ALLOW
    lists. Raises UnsafeURL."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeURL("Enter the endpoint's URL.")
    url = url.strip()
    if len(url) > 500 or not url.isprintable() or any(c.isspace() for c in url):
        raise UnsafeURL("Enter a URL of at most 500 characters, without spaces.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("Enter a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Enter a URL such as https://crm.example.com/walkaway.")
    if parts.username or parts.password or parts.fragment:
        raise UnsafeURL("A webhook URL carries no user name, password or #fragment.")
    if allowed_by_setting(url):
        return url
    if parts.scheme != "https":
        raise UnsafeURL("A webhook URL must be https.")
    address(parts.hostname, port or 443, url)
    return url


def address(host: str, port: int, url: str) -> str:
    """The address to connect to: every address the name resolves to must be public, unless
    the URL is allowed by the setting (then the first one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"{host} could not be resolved.") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeURL(f"{host} could not be resolved.")
    if not allowed_by_setting(url):
        for found in addresses:
            ip = ipaddress.ip_address(found.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise UnsafeURL(
                    f"{host} resolves to a private or local address ({found}); "
                    "webhooks go to public addresses only."
                )
    return addresses[0]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to `url`, connecting to the address checked (no second lookup for a rebinding name
    to change), never following a redirect; the response's status."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    ip = address(parts.hostname, port, url)
    if https:
        connection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=TIMEOUT_SECONDS)

    def connect(where, timeout=None, source_address=None):
        return socket.create_connection((ip, where[1]), timeout, source_address)

    connection._create_connection = connect
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)
        return response.status
    finally:
        connection.close()


# The courier --------------------------------------------------------------------------------------


@task()
def deliver(endpoint_id: int) -> str:
    """Send the endpoint's pending deliveries that are due, oldest first."""
    return Courier(endpoint_id).run()


class Courier:
    def __init__(self, endpoint_id: int):
        self.endpoint_id = endpoint_id
        self.lease_until = None

    def run(self) -> str:
        if not self._take_lease():
            held = (
                WebhookEndpoint.objects.filter(pk=self.endpoint_id, disabled_at__isnull=True)
                .values_list("lease_until", flat=True)
                .first()
            )
            if held is not None:
                # Another worker is on it; look again when its hold ends.
                deliver.using(run_after=held + timedelta(seconds=1)).enqueue(self.endpoint_id)
            return "busy" if held is not None else "disabled"
        try:
            return self._deliver_due()
        finally:
            WebhookEndpoint.objects.filter(
                pk=self.endpoint_id, lease_until=self.lease_until
            ).update(lease_until=None)

    def _take_lease(self) -> bool:
        now = timezone.now()
        until = now + LEASE
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        taken = WebhookEndpoint.objects.filter(
            free, pk=self.endpoint_id, disabled_at__isnull=True
        ).update(lease_until=until)
        if taken:
            self.lease_until = until
        return bool(taken)

    def _extend_lease(self) -> None:
        until = timezone.now() + LEASE
        WebhookEndpoint.objects.filter(pk=self.endpoint_id, lease_until=self.lease_until).update(
            lease_until=until
        )
        self.lease_until = until

    def _deliver_due(self) -> str:
        safety_net = False
        while True:
            delivery = (
                WebhookDelivery.objects.filter(
                    endpoint_id=self.endpoint_id, status=WebhookDelivery.Status.PENDING
                )
                .select_related("endpoint", "event__concession__created_by")
                .order_by("id")
                .first()
            )
            if delivery is None:
                return "done"
            if delivery.next_attempt_at > timezone.now():
                # The oldest is waiting for its retry, which is already scheduled: the line waits.
                return "waiting"
            if not delivery.endpoint.is_active:
                return "disabled"
            self._extend_lease()
            if not safety_net:
                # Should this worker die mid-way, another takes over once the hold has passed.
                deliver.using(run_after=self.lease_until + LEASE).enqueue(self.endpoint_id)
                safety_net = True
            if not attempt(delivery):
                return "retrying"


def attempt(delivery: WebhookDelivery) -> bool:
    """One try at a delivery, recorded; True when it was delivered (or given up for good)."""
    if delivery.deal is None:
        # Its transaction's commit hook did not run (the process stopped): keep the deal now.
        freeze(delivery.event_id)
        delivery.refresh_from_db(fields=["deal"])
    body = body_of(delivery)
    endpoint = delivery.endpoint
    sent_at = timezone.now()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Walkaway-Signature": sign(endpoint.secret, timestamp, body),
        "Walkaway-Event-Id": str(delivery.event_id),
        "Walkaway-Event-Type": EVENT_TYPES[delivery.event.kind],
        "Walkaway-Delivery": str(delivery.pk),
    }
    started = time.monotonic()
    code, error = None, ""
    try:
        code = post(endpoint.url, body, headers)
    except TimeoutError:
        outcome, error = WebhookAttempt.Outcome.TIMEOUT, f"No answer in {TIMEOUT_SECONDS} s."
    except UnsafeURL as e:
        outcome, error = WebhookAttempt.Outcome.ERROR, str(e)
    except (OSError, http.client.HTTPException) as e:
        outcome, error = WebhookAttempt.Outcome.ERROR, (str(e) or type(e).__name__)[:500]
    else:
        ok = 200 <= code < 300
        outcome = WebhookAttempt.Outcome.DELIVERED if ok else WebhookAttempt.Outcome.REFUSED
        error = "" if ok else f"Answered HTTP {code}."
    duration = int((time.monotonic() - started) * 1000)
    delivered = outcome == WebhookAttempt.Outcome.DELIVERED
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=sent_at,
            outcome=outcome,
            response_code=code,
            error=error,
            duration_ms=duration,
        )
        delivery.attempts += 1
        fields = ["attempts"]
        if delivered:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
            fields += ["status", "delivered_at"]
        elif delivery.attempts > len(RETRY_DELAYS):
            logger.warning(
                "Webhook delivery %s given up after %s tries", delivery.pk, len(RETRY_DELAYS) + 1
            )
            delivery.status = WebhookDelivery.Status.FAILED
            fields.append("status")
        else:
            delivery.next_attempt_at = timezone.now() + RETRY_DELAYS[delivery.attempts - 1]
            fields.append("next_attempt_at")
            deliver.using(run_after=delivery.next_attempt_at).enqueue(endpoint.pk)
        delivery.save(update_fields=fields)
    return delivery.status != WebhookDelivery.Status.PENDING
