"""Webhook endpoints, registered by a team's managers (staff for every team), and every attempt
to deliver to them. Delivery itself is deals/webhooks.py."""

from __future__ import annotations

from django.http import Http404
from ninja import Path, Query, Router

from .. import services
from ..integrations import WebhookAttempt, WebhookEndpoint
from ..models import Team
from ..shapes import EVENT_TYPES, instant
from . import paging, schemas
from .common import answers
from .idempotency import KeyHeader, once

router = Router(tags=["webhooks"])

EndpointId = Path(..., ge=1, le=schemas.MAX_ID)
Limit = Query(paging.DEFAULT_LIMIT, ge=1, le=paging.MAX_LIMIT)
Cursor = Query(None, max_length=100)


def managed_endpoints(access):
    """The endpoints of the teams the person manages; staff, every one."""
    if not access.signed_in:
        return WebhookEndpoint.objects.none()
    rows = WebhookEndpoint.objects.select_related("created_by")
    return rows if access.staff else rows.filter(team_id__in=sorted(access.managed))


def endpoint_dict(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "team": endpoint.team_id,
        "events": endpoint.events,
        "active": endpoint.is_active,
        "created_at": instant(endpoint.created_at),
        "created_by": endpoint.created_by.get_username(),
    }


def attempt_dict(attempt: WebhookAttempt) -> dict:
    delivery = attempt.delivery
    pending = delivery.status == delivery.Status.PENDING
    return {
        "id": attempt.pk,
        "delivery": delivery.pk,
        "event": delivery.event_id,
        "type": EVENT_TYPES[delivery.event.kind],
        "at": instant(attempt.at),
        "outcome": attempt.outcome,
        "response_code": attempt.response_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "delivery_status": delivery.status,
        "next_attempt_at": instant(delivery.next_attempt_at) if pending else None,
    }


def _endpoint(request, endpoint_id: int) -> WebhookEndpoint:
    found = managed_endpoints(request.access).filter(pk=endpoint_id).first()
    if found is None:
        raise Http404
    return found


@router.get("/webhooks", response=answers(200, schemas.WebhookPage))
def webhooks_list(request, cursor: str | None = Cursor, limit: int = Limit):
    """The endpoints of the teams the person manages, newest first."""
    return paging.page(
        request,
        managed_endpoints(request.access),
        limit=limit,
        cursor=cursor,
        newest_first=True,
        shape=endpoint_dict,
    )


@router.post("/webhooks", response=answers(201, schemas.WebhookCreated, 404))
def webhooks_create(request, payload: schemas.WebhookIn, idempotency_key: str | None = KeyHeader):
    """Register an endpoint for a team you manage. The answer holds its `secret`, this once.
    The URL must be https to a public address, or start with a WALKAWAY_WEBHOOK_ALLOW prefix."""

    def write():
        team = Team.objects.filter(pk=payload.team).first()
        if team is None:
            raise Http404
        endpoint, secret = services.webhook_register(
            user=request.api_user, team=team, url=payload.url, events=list(payload.events)
        )
        endpoint = managed_endpoints(request.access).get(pk=endpoint.pk)
        return 201, {**endpoint_dict(endpoint), "secret": secret}

    return once(request, idempotency_key, write)


@router.get("/webhooks/{endpoint_id}", response=answers(200, schemas.WebhookOut, 404))
def webhooks_read(request, endpoint_id: int = EndpointId):
    return endpoint_dict(_endpoint(request, endpoint_id))


@router.delete("/webhooks/{endpoint_id}", response=answers(200, schemas.WebhookOut, 404))
def webhooks_disable(request, endpoint_id: int = EndpointId):
    """Stop sending to the endpoint. Its deliveries stay listed."""
    endpoint = _endpoint(request, endpoint_id)
    services.webhook_disable(user=request.api_user, endpoint=endpoint)
    return endpoint_dict(_endpoint(request, endpoint_id))


@router.get("/webhooks/{endpoint_id}/deliveries", response=answers(200, schemas.AttemptPage, 404))
def webhooks_deliveries(
    request, endpoint_id: int = EndpointId, cursor: str | None = Cursor, limit: int = Limit
):
    """Every attempt to deliver to the endpoint, newest first: when, what came back, and what
    happens next."""
    endpoint = _endpoint(request, endpoint_id)
    rows = WebhookAttempt.objects.filter(delivery__endpoint=endpoint).select_related(
        "delivery__event"
    )
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=True, shape=attempt_dict
    )
