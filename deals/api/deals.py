"""Deals: list, create, read, update, upsert by a CRM's reference, preview, floor, outcomes;
teams and events. Every read through Deal.objects.visible_to, every write through services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from ninja import Path, Query, Router

from .. import erosion, services
from ..models import Deal, DealEvent, Membership, PlanStep, Team
from ..money import MoneyError, parse_money
from ..shapes import EVENT_TYPES, deal_dict, event_dict, money, percent
from . import paging, schemas
from .common import answers, visible_deal, visible_deals
from .errors import ApiError
from .idempotency import KeyHeader, once

router = Router(tags=["deals"])

DealId = Path(..., ge=1, le=schemas.MAX_ID)
Limit = Query(paging.DEFAULT_LIMIT, ge=1, le=paging.MAX_LIMIT)
Cursor = Query(None, max_length=100)


def _fresh(request, deal_id: int) -> dict:
    """The deal as it is after a write, through the same door (it may have left it)."""
    deal = visible_deals(request).filter(pk=deal_id).first()
    if deal is None:
        deal = Deal.objects.select_related("owner").get(pk=deal_id)
    return deal_dict(deal)


def _team(request, team_id: int | None) -> Team:
    teams = request.access.creatable_teams()
    if team_id is not None:
        team = teams.filter(pk=team_id).first()
        if team is None:
            raise ApiError(404, "not_found", "Not found.", field="team")
        return team
    mine = list(teams[:2])
    if len(mine) != 1:
        raise ApiError(422, "invalid", "Name the team: you are in several, or none.", field="team")
    return mine[0]


def _owner(request, team: Team, username: str | None):
    if username is None:
        return None
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None or not Membership.objects.filter(user=owner, team=team).exists():
        raise ApiError(422, "invalid", f"{username} is not in this team.", field="owner")
    return owner


@router.get("/teams", response=answers(200, schemas.TeamPage), tags=["teams"])
def teams_list(request):
    """The person's teams, with their role in each (staff: every team)."""
    access = request.access
    roles = dict(Membership.objects.filter(user_id=access.user_id).values_list("team_id", "role"))
    teams = Team.objects.all() if access.staff else Team.objects.filter(pk__in=roles)
    items = [
        {"id": t.pk, "name": t.name, "role": roles.get(t.pk, "staff")}
        for t in teams.order_by("name", "pk")
    ]
    return {"items": items, "next": None}


@router.get("/deals", response=answers(200, schemas.DealPage))
def deals_list(
    request,
    status: schemas.StatusName | None = None,
    level: schemas.LevelName | None = Query(None, description="By today's thresholds."),
    team: int | None = Query(None, ge=1, le=schemas.MAX_ID),
    owner: str | None = Query(None, max_length=150, pattern=r"^[\w.@+-]+$"),
    external_source: str | None = Query(None, max_length=40, pattern=r"^[A-Za-z0-9._-]+$"),
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """The deals the person may see, newest first."""
    deals = visible_deals(request)
    if status:
        deals = deals.filter(status=status)
    if level:
        deals = deals.with_current_level().filter(current_level=level)
    if team:
        deals = deals.filter(team_id=team)
    if owner:
        deals = deals.filter(owner__username=owner)
    if external_source:
        deals = deals.filter(external_source=external_source.lower())
    return paging.page(
        request, deals, limit=limit, cursor=cursor, newest_first=True, shape=deal_dict
    )


@router.post("/deals", response=answers(201, schemas.DealOut, 404, 409))
def deals_create(request, payload: schemas.DealCreate, idempotency_key: str | None = KeyHeader):
    """A new deal, born with its walk-away floor (for the person, or by a manager for a rep)."""

    def write():
        team = _team(request, payload.team)
        deal = services.deal_create(
            user=request.api_user,
            team=team,
            title=payload.title,
            customer=payload.customer,
            currency=payload.currency,
            opening_price=payload.opening_price,
            floor=payload.floor,
            cost=payload.cost,
            owner=_owner(request, team, payload.owner),
            external_source=payload.external_source,
            external_ref=payload.external_ref,
        )
        return 201, _fresh(request, deal.pk)

    return once(request, idempotency_key, write)


@router.get("/deals/{deal_id}", response=answers(200, schemas.DealOut, 404))
def deals_read(request, deal_id: int = DealId):
    """A deal with its assessment: net, remaining, room used, level."""
    return deal_dict(visible_deal(request, deal_id))


@router.patch("/deals/{deal_id}", response=answers(200, schemas.DealOut, 404, 409))
def deals_update(request, payload: schemas.DealPatch, deal_id: int = DealId):
    """Change what describes a deal: title, customer, cost to deliver (never its figures)."""
    deal = visible_deal(request, deal_id)
    sent = payload.model_fields_set
    services.deal_update(
        deal=deal,
        user=request.api_user,
        title=payload.title if "title" in sent else None,
        customer=payload.customer if "customer" in sent else None,
        cost=payload.cost if "cost" in sent else ...,
    )
    return _fresh(request, deal.pk)


@router.put(
    "/deals/by-ref/{source}/{ref}",
    response={**answers(200, schemas.DealOut, 404, 409), 201: schemas.DealOut},
)
def deals_upsert_by_ref(
    request,
    payload: schemas.DealByRef,
    source: str = Path(..., min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$"),
    ref: str = Path(..., min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/]+$"),
    idempotency_key: str | None = KeyHeader,
):
    """A CRM pushes its deal: 201 when it was created, 200 when updated. Prices and floor only
    when it creates the deal; on an existing deal they must be absent or unchanged (else 409)."""

    def write():
        team = _team(request, payload.team)
        sent = payload.model_fields_set
        deal, created = services.deal_upsert_by_ref(
            user=request.api_user,
            team=team,
            source=source,
            ref=ref,
            title=payload.title,
            customer=payload.customer,
            cost=payload.cost if "cost" in sent else ...,
            currency=payload.currency,
            opening_price=payload.opening_price,
            floor=payload.floor,
        )
        return (201 if created else 200), _fresh(request, deal.pk)

    return once(request, idempotency_key, write)


@router.get("/deals/{deal_id}/preview", response=answers(200, schemas.Preview, 404))
def deals_preview(request, deal_id: int = DealId, amount: str = Query(..., max_length=40)):
    """What the deal would look like after conceding `amount`: nothing is written."""
    deal = visible_deal(request, deal_id)
    try:
        value = parse_money(amount)
    except MoneyError as e:
        raise ApiError(422, "invalid", str(e), field="amount") from None
    after = erosion.preview(
        opening_price=deal.opening_price, floor=deal.floor, conceded=deal.conceded, amount=value
    )
    fits = erosion.fits(
        opening_price=deal.opening_price, floor=deal.floor, conceded=deal.conceded, amount=value
    )
    return {
        "amount": money(value),
        "conceded": money(after.conceded),
        "net": money(after.net),
        "remaining": money(after.remaining),
        "room_used": percent(after.room_used),
        "level": after.level.value,
        "fits": fits,
        "shortfall": money(after.shortfall),
    }


@router.post("/deals/{deal_id}/floor", response=answers(200, schemas.DealOut, 404, 409))
def deals_floor(request, payload: schemas.FloorIn, deal_id: int = DealId):
    """Change the walk-away floor: the owner until the first concession, then only a manager,
    with a reason."""
    deal = visible_deal(request, deal_id)
    services.floor_change(
        deal=deal, user=request.api_user, new_floor=payload.new_floor, reason=payload.reason
    )
    return _fresh(request, deal.pk)


@router.post("/deals/{deal_id}/won", response=answers(200, schemas.DealOut, 404, 409))
def deals_won(request, payload: schemas.WinIn, deal_id: int = DealId):
    """Mark won, at the net unless a final price is given."""
    deal = visible_deal(request, deal_id)
    services.deal_win(deal=deal, user=request.api_user, final_price=payload.final_price)
    return _fresh(request, deal.pk)


@router.post("/deals/{deal_id}/lost", response=answers(200, schemas.DealOut, 404, 409))
def deals_lost(request, payload: schemas.LoseIn, deal_id: int = DealId):
    deal = visible_deal(request, deal_id)
    services.deal_lose(deal=deal, user=request.api_user, reason=payload.reason, note=payload.note)
    return _fresh(request, deal.pk)


@router.post("/deals/{deal_id}/walk-away", response=answers(200, schemas.DealOut, 404, 409))
def deals_walk_away(request, payload: schemas.WalkAwayIn, deal_id: int = DealId):
    deal = visible_deal(request, deal_id)
    services.deal_walk_away(deal=deal, user=request.api_user, reason=payload.reason)
    return _fresh(request, deal.pk)


@router.post("/deals/{deal_id}/came-back", response=answers(200, schemas.DealOut, 404, 409))
def deals_came_back(request, payload: schemas.CameBackIn | None = None, deal_id: int = DealId):
    """The customer came back to a deal you walked away from: it is open again. When they came
    back (today by default), what they offered and a note are kept."""
    deal = visible_deal(request, deal_id)
    payload = payload or schemas.CameBackIn()
    services.deal_come_back(
        deal=deal,
        user=request.api_user,
        came_back_on=payload.came_back_on,
        offer=payload.offer,
        note=payload.note,
    )
    return _fresh(request, deal.pk)


# The plan ---------------------------------------------------------------------------------------


def _plan(deal_id: int) -> dict:
    deal = Deal.objects.get(pk=deal_id)
    steps = list(PlanStep.objects.filter(deal=deal).with_followed())
    amounts = [s.amount for s in steps]
    check = erosion.plan_check(
        opening_price=deal.opening_price,
        floor=deal.floor,
        target=deal.target_price,
        amounts=amounts,
    )
    progress = erosion.plan_progress(steps=[s.planned() for s in steps], conceded=deal.conceded)
    return {
        "target_price": money(deal.target_price),
        "best_alternative": deal.best_alternative,
        "things_to_ask": deal.things_to_ask,
        "steps": [
            {
                "id": s.pk,
                "position": s.position,
                "kind": s.kind,
                "amount": money(s.amount),
                "give": s.give,
                "ask": s.ask,
                "followed": s.followed,
            }
            for s in steps
        ],
        "planned_total": money(check.total),
        "planned_net": money(check.net_after),
        "below_target_by": money(check.below_target_by),
        "not_shrinking": list(check.not_shrinking),
        "reached": progress.reached,
        "planned_reached": money(progress.planned_reached),
        "conceded": money(progress.conceded),
    }


@router.get("/deals/{deal_id}/plan", response=answers(200, schemas.PlanOut, 404), tags=["plan"])
def plan_read(request, deal_id: int = DealId):
    """The plan: target, best alternative, the ladder of steps (each followed or not), things to
    ask for, and plan against actual."""
    deal = visible_deal(request, deal_id)
    return _plan(deal.pk)


@router.put(
    "/deals/{deal_id}/plan", response=answers(200, schemas.PlanOut, 404, 409), tags=["plan"]
)
def plan_replace(request, payload: schemas.PlanIn, deal_id: int = DealId):
    """Replace the plan (DOMAIN.md, "The plan"): refused below the floor; after the first
    concession a reason is required and the change is kept in the history."""
    deal = visible_deal(request, deal_id)
    services.plan_save(
        deal=deal,
        user=request.api_user,
        target_price=payload.target_price,
        best_alternative=payload.best_alternative,
        steps=[
            services.StepInput(kind=s.kind, amount=s.amount, give=s.give, ask=s.ask)
            for s in payload.steps
        ],
        things_to_ask=payload.things_to_ask,
        reason=payload.reason,
    )
    return _plan(deal.pk)


@router.post(
    "/deals/{deal_id}/reassign", response=answers(200, schemas.DealOut, 404), tags=["deals"]
)
def deals_reassign(request, payload: schemas.ReassignIn, deal_id: int = DealId):
    """A manager of the deal's team (or staff) hands the deal to another member (rule 11)."""
    deal = visible_deal(request, deal_id)
    if not request.access.manages(deal.team_id):
        raise ApiError(404, "not_found", "Not found.")
    new_owner = get_user_model().objects.filter(username=payload.new_owner).first()
    if new_owner is None:
        raise ApiError(422, "invalid", "Choose a member of this deal's team.", field="new_owner")
    services.deal_reassign(deal=deal, user=request.api_user, new_owner=new_owner)
    return _fresh(request, deal.pk)


# Events -----------------------------------------------------------------------------------------


def _events(rows):
    return rows.filter(kind__in=list(EVENT_TYPES)).select_related("actor", "concession__created_by")


@router.get("/deals/{deal_id}/events", response=answers(200, schemas.EventPage, 404))
def deals_events(request, deal_id: int = DealId, cursor: str | None = Cursor, limit: int = Limit):
    """The deal's history, oldest first."""
    deal = visible_deal(request, deal_id)
    rows = _events(DealEvent.objects.filter(deal=deal))
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=False, shape=event_dict
    )


@router.get("/events", response=answers(200, schemas.EventPage), tags=["events"])
def events_list(
    request,
    after: int | None = Query(None, ge=0, le=schemas.MAX_ID, description="An event id."),
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """Every deal event the person may see, oldest first, after the event `after`."""
    rows = _events(DealEvent.objects.filter(deal__in=visible_deals(request).values("pk")))
    if after is not None and not cursor:
        rows = rows.filter(pk__gt=after)
    return paging.page(
        request, rows, limit=limit, cursor=cursor, newest_first=False, shape=event_dict
    )
