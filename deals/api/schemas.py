"""The API's shapes, from which the OpenAPI schema is generated. Money is a string with two
decimals, both ways; the services parse and check every value again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from ..erosion import Level
from ..models import ConcessionKind, DealStatus, ExceptionStatus, LostReason, Role
from ..shapes import ALL_EVENT_TYPES

MAX_ID = 2**63 - 1

Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["1250.00"])]
# What a client sends: digits, at most two decimals (the currency may allow fewer).
MoneyIn = Annotated[
    str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$", max_length=15, examples=["1250.00"])
]
Text = Annotated[str, Field(max_length=2000)]
ShortText = Annotated[str, Field(max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", examples=["USD"])]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Username = Annotated[str, Field(max_length=150, pattern=r"^[\w.@+-]+$")]
Source = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]
Ref = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/]+$")]
EventType = Literal[ALL_EVENT_TYPES]  # type: ignore[valid-type]

StatusName = Literal[tuple(DealStatus.values)]  # type: ignore[valid-type]
LevelName = Literal[tuple(Level.values)]  # type: ignore[valid-type]
KindName = Literal[tuple(ConcessionKind.values)]  # type: ignore[valid-type]
LostReasonName = Literal[tuple(LostReason.values)]  # type: ignore[valid-type]
ExceptionStatusName = Literal[tuple(ExceptionStatus.values)]  # type: ignore[valid-type]


class Error(Schema):
    detail: str
    code: str
    field: str | None = None


# Deals ------------------------------------------------------------------------------------------


class DealOut(Schema):
    id: int
    title: str
    customer: str
    team: int
    owner: str
    currency: str
    opening_price: Money
    floor: Money
    target_price: Money | None
    cost: Money | None
    status: StatusName
    level: LevelName = Field(description="By today's thresholds, from the figures.")
    conceded: Money
    net: Money
    remaining: Money = Field(description="Net minus floor; negative below the floor.")
    room_used: str = Field(
        pattern=r"^-?[0-9]+\.[0-9]{2}$", description="Conceded as a percent of the room."
    )
    final_price: Money | None
    lost_reason: LostReasonName | None
    came_back: bool
    version: int = Field(description="Moves with every change to the deal.")
    external_source: str | None
    external_ref: str | None
    created_at: datetime
    updated_at: datetime


class DealPage(Schema):
    items: list[DealOut]
    next: str | None


class DealCreate(Schema):
    team: Id | None = Field(None, description="Needed when the person is in several teams.")
    title: ShortText
    customer: ShortText
    currency: Currency
    opening_price: MoneyIn
    floor: MoneyIn
    cost: MoneyIn | None = None
    owner: Username | None = Field(None, description="A team member, for a manager only.")
    external_source: Source | None = None
    external_ref: Ref | None = None


class DealPatch(Schema):
    title: ShortText | None = None
    customer: ShortText | None = None
    cost: MoneyIn | None = Field(None, description="null clears it; absent leaves it.")


class DealByRef(Schema):
    team: Id | None = Field(None, description="Needed when the person is in several teams.")
    title: ShortText
    customer: ShortText
    cost: MoneyIn | None = None
    currency: Currency | None = Field(None, description="Needed to create; never changes.")
    opening_price: MoneyIn | None = Field(None, description="Needed to create; never changes.")
    floor: MoneyIn | None = Field(None, description="Needed to create; changes on the deal.")


class Preview(Schema):
    amount: Money
    conceded: Money
    net: Money
    remaining: Money
    room_used: str
    level: LevelName
    fits: bool = Field(description="False: the amount would cross the walk-away floor.")
    shortfall: Money


class CameBackIn(Schema):
    came_back_on: date | None = Field(None, description="Defaults to today; never in the future.")
    offer: MoneyIn | None = Field(None, description="What they offered, if anything.")
    note: Text = ""


class ReassignIn(Schema):
    new_owner: Username


class FloorIn(Schema):
    new_floor: MoneyIn
    reason: Text = ""


class WinIn(Schema):
    final_price: MoneyIn | None = Field(None, description="Defaults to the net.")


class LoseIn(Schema):
    reason: LostReasonName
    note: Text = ""


class WalkAwayIn(Schema):
    reason: Text


class TeamOut(Schema):
    id: int
    name: str
    role: Literal[(*Role.values, "staff")]  # type: ignore[valid-type]


class TeamPage(Schema):
    items: list[TeamOut]
    next: str | None


# Concessions and exceptions -------------------------------------------------------------------


class ConcessionOut(Schema):
    id: int
    deal: int
    kind: KindName
    amount: Money = Field(description="Negative for a retraction.")
    description: str
    got_in_return: str
    created_at: datetime
    created_by: str
    retracts: int | None
    reason: str
    exception_request: int | None
    plan_step: int | None


class ConcessionPage(Schema):
    items: list[ConcessionOut]
    next: str | None


class ConcessionIn(Schema):
    kind: KindName
    amount: MoneyIn
    description: Text
    got_in_return: Text = ""
    plan_step: Id | None = Field(None, description="The planned step this give follows.")


# The plan ---------------------------------------------------------------------------------------


class PlanStepIn(Schema):
    kind: KindName
    amount: MoneyIn
    give: Text = Field(description="What you would give.")
    ask: Text = Field(description="What you ask in return (a planned give always has a get).")


class PlanStepOut(Schema):
    id: int
    position: int
    kind: KindName
    amount: Money
    give: str
    ask: str
    followed: bool


class PlanIn(Schema):
    target_price: MoneyIn | None = None
    best_alternative: Text = ""
    things_to_ask: Text = ""
    steps: list[PlanStepIn] = Field(default_factory=list, max_length=30)
    reason: Text = Field("", description="Required once the deal has a concession.")


class PlanOut(Schema):
    target_price: Money | None
    best_alternative: str
    things_to_ask: str
    steps: list[PlanStepOut]
    planned_total: Money
    planned_net: Money
    below_target_by: Money | None
    not_shrinking: list[int] = Field(description="Steps not smaller than the one before.")
    reached: int
    planned_reached: Money
    conceded: Money


class RetractIn(Schema):
    reason: Text


class ExceptionOut(Schema):
    id: int
    deal: int
    kind: KindName
    amount: Money
    description: str
    got_in_return: str
    note: str
    shortfall: Money
    conceded_at_request: Money
    floor_at_request: Money
    status: ExceptionStatusName
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str


class ExceptionPage(Schema):
    items: list[ExceptionOut]
    next: str | None


class ExceptionIn(Schema):
    kind: KindName
    amount: MoneyIn
    description: Text
    got_in_return: Text = ""
    note: Text = ""


class ApproveIn(Schema):
    comment: Text
    seen_conceded: MoneyIn | None = Field(
        None, description="The deal's conceded as you saw it (default: when it was asked)."
    )
    seen_floor: MoneyIn | None = None


class RejectIn(Schema):
    comment: Text


class Approved(Schema):
    exception_request: ExceptionOut
    concession: ConcessionOut


# Events -----------------------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    type: EventType
    deal: int
    actor: str
    created: datetime
    summary: str
    data: dict


class EventPage(Schema):
    items: list[EventOut]
    next: str | None


# Webhooks ---------------------------------------------------------------------------------------


class WebhookIn(Schema):
    url: Annotated[str, Field(max_length=500, examples=["https://crm.example.com/walkaway"])]
    team: Id
    events: list[EventType] = Field(min_length=1)


class WebhookOut(Schema):
    id: int
    url: str
    team: int
    events: list[EventType]
    active: bool
    created_at: datetime
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery. Shown this once.")


class WebhookPage(Schema):
    items: list[WebhookOut]
    next: str | None


class AttemptOut(Schema):
    id: int
    delivery: int
    event: int
    type: EventType
    at: datetime
    outcome: Literal["delivered", "refused", "timeout", "error"]
    response_code: int | None
    error: str
    duration_ms: int
    delivery_status: Literal["pending", "delivered", "failed"]
    next_attempt_at: datetime | None


class AttemptPage(Schema):
    items: list[AttemptOut]
    next: str | None
