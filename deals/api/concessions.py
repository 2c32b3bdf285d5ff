"""Concessions (list, log, retract) and exception requests (ask; approve or reject for
managers), through the same services and doors as the deal page and the approvals page."""

from __future__ import annotations

from django.http import Http404
from ninja import Path, Query, Router

from .. import services
from ..models import Concession, ExceptionRequest
from ..money import MoneyError, parse_money
from ..shapes import concession_dict, exception_dict
from . import paging, schemas
from .common import answers, visible_deal, visible_deals
from .errors import ApiError
from .idempotency import KeyHeader, once

router = Router(tags=["concessions"])

DealId = Path(..., ge=1, le=schemas.MAX_ID)
ConcessionId = Path(..., ge=1, le=schemas.MAX_ID)
RequestId = Path(..., ge=1, le=schemas.MAX_ID)
Limit = Query(paging.DEFAULT_LIMIT, ge=1, le=paging.MAX_LIMIT)
Cursor = Query(None, max_length=100)


def _concession(pk: int) -> dict:
    return concession_dict(Concession.objects.select_related("created_by").get(pk=pk))


def _visible_concession(request, deal_id: int, concession_id: int) -> Concession:
    """A concession of a deal the person may see; anything else is a 404."""
    deal = visible_deal(request, deal_id)
    concession = Concession.objects.filter(deal=deal, pk=concession_id).first()
    if concession is None:
        raise Http404
    return concession


def _request(pk: int) -> dict:
    rows = ExceptionRequest.objects.select_related("requested_by", "decided_by")
    return exception_dict(rows.get(pk=pk))


@router.get("/deals/{deal_id}/concessions", response=answers(200, schemas.ConcessionPage, 404))
def concessions_list(
    request, deal_id: int = DealId, cursor: str | None = Cursor, limit: int = Limit
):
    """The deal's ledger, oldest first; a retraction is a negative entry linked to its give."""
    deal = visible_deal(request, deal_id)
    rows = Concession.objects.filter(deal=deal).select_related("created_by")
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=False, shape=concession_dict
    )


@router.post("/deals/{deal_id}/concessions", response=answers(201, schemas.ConcessionOut, 404, 409))
def concessions_log(
    request,
    payload: schemas.ConcessionIn,
    deal_id: int = DealId,
    idempotency_key: str | None = KeyHeader,
):
    """Log a concession. One that would cross the walk-away floor is refused (409, code
    below_floor): walk away, or ask for an exception."""

    def write():
        deal = visible_deal(request, deal_id)
        result = services.concession_log(
            deal=deal,
            user=request.api_user,
            kind=payload.kind,
            amount=payload.amount,
            description=payload.description,
            got_in_return=payload.got_in_return,
            plan_step=payload.plan_step,
        )
        return 201, _concession(result.concession.pk)

    return once(request, idempotency_key, write)


@router.get(
    "/deals/{deal_id}/concessions/{concession_id}",
    response=answers(200, schemas.ConcessionOut, 404),
)
def concessions_read(request, deal_id: int = DealId, concession_id: int = ConcessionId):
    return _concession(_visible_concession(request, deal_id, concession_id).pk)


@router.post(
    "/deals/{deal_id}/concessions/{concession_id}/retract",
    response=answers(201, schemas.ConcessionOut, 404, 409),
)
def concessions_retract(
    request,
    payload: schemas.RetractIn,
    deal_id: int = DealId,
    concession_id: int = ConcessionId,
    idempotency_key: str | None = KeyHeader,
):
    """Undo a give with a new, negative entry linked to it, with a reason. Once per give."""

    def write():
        concession = _visible_concession(request, deal_id, concession_id)
        retraction = services.concession_retract(
            concession=concession, user=request.api_user, reason=payload.reason
        )
        return 201, _concession(retraction.pk)

    return once(request, idempotency_key, write)


@router.post(
    "/deals/{deal_id}/concessions/{concession_id}/correct",
    response=answers(201, schemas.ConcessionOut, 404, 409),
)
def concessions_correct(
    request,
    payload: schemas.ConcessionIn,
    deal_id: int = DealId,
    concession_id: int = ConcessionId,
    idempotency_key: str | None = KeyHeader,
):
    """Correct a typo in one step, as its author, within the correction window: the give is
    retracted and the corrected one logged together. Answers the corrected give."""

    def write():
        concession = _visible_concession(request, deal_id, concession_id)
        corrected = services.concession_correct(
            concession=concession,
            user=request.api_user,
            kind=payload.kind,
            amount=payload.amount,
            description=payload.description,
            got_in_return=payload.got_in_return,
        )
        return 201, _concession(corrected.pk)

    return once(request, idempotency_key, write)


# Exception requests -----------------------------------------------------------------------------


@router.get(
    "/deals/{deal_id}/exception-requests",
    response=answers(200, schemas.ExceptionPage, 404),
    tags=["exceptions"],
)
def exceptions_of_deal(
    request, deal_id: int = DealId, cursor: str | None = Cursor, limit: int = Limit
):
    deal = visible_deal(request, deal_id)
    rows = ExceptionRequest.objects.filter(deal=deal).select_related("requested_by", "decided_by")
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=False, shape=exception_dict
    )


@router.post(
    "/deals/{deal_id}/exception-requests",
    response=answers(201, schemas.ExceptionOut, 404, 409),
    tags=["exceptions"],
)
def exceptions_ask(
    request,
    payload: schemas.ExceptionIn,
    deal_id: int = DealId,
    idempotency_key: str | None = KeyHeader,
):
    """Ask the team's managers for a concession that would cross the floor."""

    def write():
        deal = visible_deal(request, deal_id)
        asked = services.exception_request(
            deal=deal,
            user=request.api_user,
            kind=payload.kind,
            amount=payload.amount,
            description=payload.description,
            got_in_return=payload.got_in_return,
            note=payload.note,
        )
        return 201, _request(asked.pk)

    return once(request, idempotency_key, write)


def _visible_requests(request):
    """Requests on deals the person sees (their own asks), and on deals they manage."""
    managed = ExceptionRequest.objects.managed_by(request.access)
    seen = ExceptionRequest.objects.filter(deal__in=visible_deals(request).values("pk"))
    return (managed | seen).select_related("requested_by", "decided_by")


@router.get(
    "/exception-requests", response=answers(200, schemas.ExceptionPage), tags=["exceptions"]
)
def exceptions_list(
    request,
    status: schemas.ExceptionStatusName | None = None,
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """Every request the person may see, oldest first (`status=pending`: the approvals queue)."""
    rows = _visible_requests(request)
    if status:
        rows = rows.filter(status=status)
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=False, shape=exception_dict
    )


@router.get(
    "/exception-requests/{request_id}",
    response=answers(200, schemas.ExceptionOut, 404),
    tags=["exceptions"],
)
def exceptions_read(request, request_id: int = RequestId):
    found = _visible_requests(request).filter(pk=request_id).first()
    if found is None:
        raise Http404
    return exception_dict(found)


def _decidable(request, request_id: int) -> ExceptionRequest:
    """A request on a deal the person manages, as on the approvals page; else 404."""
    found = ExceptionRequest.objects.managed_by(request.access).filter(pk=request_id).first()
    if found is None:
        raise Http404
    return found


@router.post(
    "/exception-requests/{request_id}/approve",
    response=answers(200, schemas.Approved, 404, 409),
    tags=["exceptions"],
)
def exceptions_approve(request, payload: schemas.ApproveIn, request_id: int = RequestId):
    """Approve (a manager of the deal's team): the concession is logged, even below the floor.
    If the deal changed since it was asked, 409 deal_changed: look again, and send what you saw
    as seen_conceded and seen_floor."""
    found = _decidable(request, request_id)
    concession = services.exception_approve(
        exception_request=found,
        user=request.api_user,
        comment=payload.comment,
        seen_conceded=None
        if payload.seen_conceded is None
        else _money(payload.seen_conceded, "seen_conceded"),
        seen_floor=None if payload.seen_floor is None else _money(payload.seen_floor, "seen_floor"),
    )
    return {"exception_request": _request(found.pk), "concession": _concession(concession.pk)}


def _money(value: str, field: str):
    try:
        return parse_money(value, allow_zero=True)
    except MoneyError as e:
        raise ApiError(422, "invalid", str(e), field=field) from None


@router.post(
    "/exception-requests/{request_id}/reject",
    response=answers(200, schemas.ExceptionOut, 404, 409),
    tags=["exceptions"],
)
def exceptions_reject(request, payload: schemas.RejectIn, request_id: int = RequestId):
    found = _decidable(request, request_id)
    services.exception_reject(
        exception_request=found, user=request.api_user, comment=payload.comment
    )
    return _request(found.pk)
