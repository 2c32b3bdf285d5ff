"""Walkaway beside a CRM: API tokens, idempotency keys, and webhooks (issue 15).

Models only; imported by deals/models.py so that Django finds them. Tokens are used by
deals/api/auth.py, keys by deals/api/idempotency.py, webhooks by deals/webhooks.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .models import DealEvent, Team


class ApiToken(models.Model):
    """A person's token for the API. Only its SHA-256 is kept: the token itself is shown once,
    when it is made, and can never be read back. It acts with its person's rights at the time of
    each request, never with rights of its own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The token's first characters, shown beside its name so a person can tell tokens apart.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to a write sent with an `Idempotency-Key`, kept per token for a day, so
    that the same request again gets the same answer and creates nothing."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_once_per_token")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class WebhookEndpoint(models.Model):
    """A URL that a team's manager registered to be told of the team's deal events."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    # Event types (deals/shapes.EVENT_TYPES values) the endpoint is sent.
    events = models.JSONField(default=list)
    # Signs every delivery (Walkaway-Signature); shown once, when the endpoint is registered.
    secret = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # An endpoint is switched off rather than deleted, so its deliveries stay visible.
    disabled_at = models.DateTimeField(null=True, blank=True)
    # One worker at a time delivers to an endpoint, oldest event first: it holds the endpoint
    # until then (a worker that dies lets go when the time passes).
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "id"]
        indexes = [models.Index(fields=["team", "disabled_at"], name="webhook_endpoint_team")]

    def __str__(self) -> str:
        return f"{self.url} ({self.team})"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event to send to one endpoint: written in the transaction of the change (the outbox),
    sent after it commits, retried until it is delivered or a day and more has passed."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(DealEvent, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # The deal as the change left it, kept when its transaction committed, so that every
    # attempt sends the same body however late it is.
    deal = models.JSONField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["endpoint", "id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status"
            ),
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "id"],
                condition=Q(status="pending"),
                name="webhook_delivery_pending",
            )
        ]

    def __str__(self) -> str:
        return f"Event {self.event_id} to endpoint {self.endpoint_id} ({self.status})"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    REFUSED = "refused", "Refused (not 2xx)"
    TIMEOUT = "timeout", "Timed out"
    ERROR = "error", "Could not connect"


class WebhookAttempt(models.Model):
    """One POST to an endpoint, as it went: what the endpoint's owner sees."""

    Outcome = AttemptOutcome

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.outcome}"
