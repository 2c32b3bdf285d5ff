"""What a deal, a concession and an event look like outside Walkaway: in the API's answers and in
webhook bodies, the same dicts (API.md, "Field names"). Money as strings with two decimals.
"""

from __future__ import annotations

from decimal import Decimal

from .models import Concession, Deal, DealEvent, EventKind, ExceptionRequest

CENT = Decimal("0.01")

# DealEvent.Kind -> the event type of API.md. A kind without a type here is not sent to webhooks
# nor listed by /api/v1/events (a type of its own first needs a line in API.md).
EVENT_TYPES: dict[str, str] = {
    EventKind.CREATED: "deal.created",
    EventKind.UPDATED: "deal.updated",
    EventKind.FLOOR_CHANGED: "deal.floor_changed",
    EventKind.LEVEL_CHANGED: "deal.level_changed",
    EventKind.CONCESSION_LOGGED: "concession.logged",
    EventKind.CONCESSION_RETRACTED: "concession.retracted",
    EventKind.EXCEPTION_REQUESTED: "exception.requested",
    EventKind.EXCEPTION_APPROVED: "exception.approved",
    EventKind.EXCEPTION_REJECTED: "exception.rejected",
    EventKind.WON: "deal.won",
    EventKind.LOST: "deal.lost",
    EventKind.WALKED_AWAY: "deal.walked_away",
    EventKind.CAME_BACK: "deal.came_back",
    # The owner changed (services.deal_reassign): a change to the deal's description.
    EventKind.REASSIGNED: "deal.updated",
    EventKind.PLAN_CHANGED: "plan.changed",
}
# Every type API.md names, for the webhook registration's choices.
ALL_EVENT_TYPES: tuple[str, ...] = (
    "deal.created",
    "deal.updated",
    "deal.floor_changed",
    "deal.level_changed",
    "concession.logged",
    "concession.retracted",
    "exception.requested",
    "exception.approved",
    "exception.rejected",
    "deal.won",
    "deal.lost",
    "deal.walked_away",
    "deal.came_back",
    "plan.changed",
)
CONCESSION_EVENTS = frozenset({EventKind.CONCESSION_LOGGED, EventKind.CONCESSION_RETRACTED})


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def percent(value: Decimal) -> str:
    return str(value.quantize(CENT))


def instant(value) -> str | None:
    """As Django's JSON encoder writes a time (milliseconds, Z for UTC), so that the API's
    answers and webhook bodies write the same time the same way."""
    if value is None:
        return None
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    return text.removesuffix("+00:00") + ("Z" if text.endswith("+00:00") else "")


def deal_dict(deal: Deal) -> dict:
    """A deal with its assessment by today's thresholds (read with select_related("owner"))."""
    a = deal.assessment()
    return {
        "id": deal.pk,
        "title": deal.title,
        "customer": deal.customer,
        "team": deal.team_id,
        "owner": deal.owner.get_username(),
        "currency": deal.currency,
        "opening_price": money(deal.opening_price),
        "floor": money(deal.floor),
        # The plan feature adds it; until then a deal has none.
        "target_price": money(deal.target_price),
        "cost": money(deal.cost),
        "status": deal.status,
        "level": a.level.value,
        "conceded": money(deal.conceded),
        "net": money(a.net),
        "remaining": money(a.remaining),
        "room_used": percent(a.room_used),
        "final_price": money(deal.final_price),
        "lost_reason": deal.lost_reason or None,
        "came_back": deal.came_back,
        "version": deal.version,
        "external_source": deal.external_source,
        "external_ref": deal.external_ref,
        "created_at": instant(deal.created_at),
        "updated_at": instant(deal.updated_at),
    }


def concession_dict(concession: Concession) -> dict:
    """A ledger entry (read with select_related("created_by"))."""
    return {
        "id": concession.pk,
        "deal": concession.deal_id,
        "kind": concession.kind,
        "amount": money(concession.amount),
        "description": concession.description,
        "got_in_return": concession.got_in_return,
        "created_at": instant(concession.created_at),
        "created_by": concession.created_by.get_username(),
        "retracts": concession.retracts_id,
        "reason": concession.reason,
        "exception_request": concession.exception_request_id,
        "plan_step": concession.plan_step_id,
    }


def exception_dict(request: ExceptionRequest) -> dict:
    """A request to go below the floor (read with select_related("requested_by", "decided_by"))."""
    return {
        "id": request.pk,
        "deal": request.deal_id,
        "kind": request.kind,
        "amount": money(request.amount),
        "description": request.description,
        "got_in_return": request.got_in_return,
        "note": request.note,
        "shortfall": money(request.shortfall),
        "conceded_at_request": money(request.conceded_at_request),
        "floor_at_request": money(request.floor_at_request),
        "status": request.status,
        "requested_by": request.requested_by.get_username(),
        "created_at": instant(request.created_at),
        "decided_by": request.decided_by.get_username() if request.decided_by else None,
        "decided_at": instant(request.decided_at),
        "comment": request.comment,
    }


def event_data(event: DealEvent) -> dict:
    """The event's details; a concession event's carry the concession."""
    data = dict(event.data)
    if event.kind in CONCESSION_EVENTS and event.concession is not None:
        data["concession"] = concession_dict(event.concession)
    return data


def event_dict(event: DealEvent) -> dict:
    """An event (read with select_related("actor", "concession__created_by"))."""
    return {
        "id": event.pk,
        "type": EVENT_TYPES[event.kind],
        "deal": event.deal_id,
        "actor": event.actor.get_username(),
        "created": instant(event.created_at),
        "summary": event.summary,
        "data": event_data(event),
    }
