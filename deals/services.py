"""Every write Walkaway makes.

Each service is one transaction that locks the deal row it checks, makes the change and writes
the change's event (rule 6), so the ledger, the deal's running total and its history can never
disagree. Illegal moves raise a DomainError before anything is written; the transaction rolls
back anything written before a later check fails.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import get_currency_precision
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from . import alerts, erosion, webhooks
from .erosion import LEVEL_RANK, Assessment, Level
from .integrations import ApiToken, WebhookEndpoint
from .models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    FloorChange,
    Membership,
    Notification,
    PlanStep,
    Role,
    Team,
    is_staff_user,
    one_line,
)
from .money import MoneyError, format_money, is_currency, parse_money

TEXT_LIMIT = 2000
TITLE_LIMIT = 200
# Rule 10: whatever is approved, something is still paid for the deal.
NET_NOT_POSITIVE = "This would take the net price to zero or below; a deal must keep a price."

# Errors ----------------------------------------------------------------------------------------


class DomainError(Exception):
    """An illegal move. `field` names the form field it belongs next to, when there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidValue(DomainError):
    pass


class NotAllowed(DomainError):
    """The user may not do this to this deal. Views answer 404 so the deal does not leak."""


class DealClosed(DomainError):
    pass


class BelowFloor(DomainError):
    """Rule 3: the amount is greater than the remaining room."""

    def __init__(self, *, shortfall: Decimal, remaining: Decimal, currency: str):
        self.shortfall = shortfall
        self.remaining = remaining
        self.currency = currency
        super().__init__(
            f"{format_money(shortfall, currency)} below your walk-away floor", field="amount"
        )


class AlreadyRetracted(DomainError):
    pass


class ReferenceTaken(DomainError):
    """Another deal of the team, not this person's to change, has this CRM reference."""


class LedgerLocked(DomainError):
    """An update from a CRM would change a deal's prices or floor, which only the deal's own
    moves (concessions, a floor change) may do."""


class NotCorrectable(DomainError):
    """Past the correction window, or not its author: a retraction is the way."""


class FloorLocked(DomainError):
    pass


class AlreadyDecided(DomainError):
    pass


class OwnRequest(DomainError):
    """Rule 11: nobody decides their own request."""


class DealChanged(DomainError):
    """The deal moved on since an exception was asked for; the manager must look again."""

    def __init__(self, message: str, *, conceded: Decimal, floor: Decimal):
        super().__init__(message)
        self.conceded = conceded
        self.floor = floor


# Results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogResult:
    concession: Concession
    created: bool
    before: Assessment
    after: Assessment
    # The deal as written, the events written with it (oldest first) and the deal's last change
    # before this one: enough for a page to update itself without reading the deal again, and
    # to know whether anything else changed since the page was drawn.
    deal: Deal
    events: tuple[DealEvent, ...] = ()
    previously_updated_at: datetime | None = None


@dataclass(frozen=True)
class AskResult:
    """What became of an exception request: a new one (`created`), or the one that a form with
    the same one-time key already sent, in whatever state it is now (resubmission_message)."""

    request: ExceptionRequest
    created: bool


# Helpers ---------------------------------------------------------------------------------------


def _money(value, field: str, *, currency: str | None = None, **kwargs) -> Decimal:
    try:
        amount = parse_money(value, **kwargs)
    except MoneyError as e:
        raise InvalidValue(str(e), field=field) from None
    if currency is not None:
        # Yen have no cents: an amount the currency cannot pay is a typo, not a rounding job.
        digits = get_currency_precision(currency)
        if amount != amount.quantize(Decimal(1).scaleb(-digits)):
            raise InvalidValue(
                f"{currency} amounts have no minor units; use a whole number."
                if digits == 0
                else f"{currency} amounts have at most {digits} decimal places.",
                field=field,
            )
    return amount


def _text(value, field: str, *, required: bool, limit: int = TEXT_LIMIT, label: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue("Enter text.", field=field)
    # NUL cannot be stored by PostgreSQL; other control characters are kept as typed.
    if "\x00" in value:
        raise InvalidValue("This text contains a character that cannot be stored.", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidValue(f"{label or 'This field'} is required.", field=field)
    if len(value) > limit:
        raise InvalidValue(f"Keep this under {limit} characters.", field=field)
    return value


def _line(value, field: str, *, label: str, limit: int = TITLE_LIMIT) -> str:
    """A text shown on one line: control characters and line breaks are folded to spaces
    before it is stored, so no title can break an email's subject (issue 11)."""
    if isinstance(value, str) and "\x00" not in value:  # NUL: refused by _text, as elsewhere
        value = one_line(value)
    return _text(value, field, required=True, limit=limit, label=label)


def _form_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64 or not value.isprintable():
        raise InvalidValue("This form has expired; reload the page and try again.")
    return value


def _role_in(user, team_id: int, deal: Deal | None = None) -> str | None:
    """`user`'s role in the team now (None: not a member), read fresh, never from a page:
    from the deal's own locked read when _lock read it for this user."""
    if deal is not None and getattr(deal, "actor_role_of", None) == user.pk:
        return deal.actor_role
    return (
        Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    )


def is_manager_of(user, team_id: int, deal: Deal | None = None) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if is_staff_user(user):
        return True
    return _role_in(user, team_id, deal) == Role.MANAGER


def can_act_on(user, deal: Deal) -> bool:
    """Owners act on their deals while they belong to the deal's team (rule 11: removed from
    it, they lose its deals at once, their own too); managers of the team on every deal of it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_staff_user(user):
        return True
    role = _role_in(user, deal.team_id, deal)
    if role is None:
        return False
    return deal.owner_id == user.pk or role == Role.MANAGER


def _lock(deal: Deal | int, user=None) -> Deal:
    """Lock and re-read the deal. With `user`, the same statement reads their role in the
    deal's team, which every check of their rights on it needs (rule 11), at no extra query."""
    pk = deal.pk if isinstance(deal, Deal) else deal
    deals = Deal.objects.select_for_update()
    if user is not None and user.is_authenticated:
        role = Membership.objects.filter(user=user.pk, team_id=OuterRef("team_id"))
        deals = deals.annotate(actor_role=Subquery(role.values("role")[:1]))
    locked = deals.get(pk=pk)
    if user is not None and user.is_authenticated:
        locked.actor_role_of = user.pk
    return locked


def _require_actor(user, deal: Deal) -> None:
    if not can_act_on(user, deal):
        raise NotAllowed("You cannot change this deal.")


def _require_manager(user, deal: Deal) -> None:
    if not is_manager_of(user, deal.team_id, deal):
        raise NotAllowed("Only a manager of this deal's team can do this.")


def _require_open(deal: Deal) -> None:
    if not deal.is_open:
        raise DealClosed(f"This deal is {deal.get_status_display().lower()}; it is no longer open.")


def _save(deal: Deal, *fields: str) -> None:
    """Write `fields` of a deal locked by this transaction, moving its version with them.

    Every write to a deal's row ends here, so a page, a cache key or an API client that holds
    a version knows the deal has not changed while the version has not.
    """
    deal.version += 1
    deal.save(update_fields=[*fields, "version", "updated_at"])


def _event(
    deal: Deal,
    kind: str,
    actor,
    summary: str,
    *,
    data: dict | None = None,
    concession: Concession | None = None,
    exception_request: ExceptionRequest | None = None,
) -> DealEvent:
    event = DealEvent.objects.create(
        deal=deal,
        kind=kind,
        actor=actor,
        summary=summary,
        data=data or {},
        concession=concession,
        exception_request=exception_request,
    )
    # In this transaction: the deliveries to the team's webhooks are written with the event.
    webhooks.event_written(event)
    return event


def _fits(deal: Deal, amount: Decimal) -> bool:
    return erosion.fits(
        opening_price=deal.opening_price, floor=deal.floor, conceded=deal.conceded, amount=amount
    )


def _shortfall(deal: Deal, amount: Decimal) -> Decimal:
    return erosion.shortfall(
        opening_price=deal.opening_price, floor=deal.floor, conceded=deal.conceded, amount=amount
    )


def _m(deal: Deal, amount: Decimal | None) -> str:
    # Sentences written into the history are read by everyone: the house locale, not the actor's.
    return format_money(amount, deal.currency, settings.WALKAWAY_LOCALE)


def _set_conceded(
    deal: Deal, conceded: Decimal, actor
) -> tuple[Assessment, Assessment, DealEvent | None]:
    """Move the running total, re-level the deal, and record a level change when there is one."""
    return _refigure(deal, actor, "conceded", conceded=conceded)


def _refigure(
    deal: Deal, actor, field: str, *, conceded: Decimal | None = None, floor: Decimal | None = None
) -> tuple[Assessment, Assessment, DealEvent | None]:
    """Change a figure the level depends on (the running total or the floor), then the level
    and the peak level with it, in one save: the only place a deal's level is written."""
    before = deal.assessment()
    if conceded is not None:
        # Rules 5 and 10, which the database holds too (deal_conceded_not_negative,
        # deal_net_positive): checked here so that a ledger that does not add up is a refusal
        # with a reason, not a server error.
        if conceded < 0:
            raise InvalidValue(
                "The deal's ledger does not add up; ask an administrator to run check_ledger."
            )
        if deal.opening_price - conceded <= 0:
            raise InvalidValue(NET_NOT_POSITIVE, field="amount")
        deal.conceded = conceded
    if floor is not None:
        deal.floor = floor
    after = deal.assessment()
    deal.level = after.level
    if LEVEL_RANK[after.level] > LEVEL_RANK[Level(deal.peak_level)]:
        deal.peak_level = after.level
    _save(deal, field, "level", "peak_level")
    return before, after, _record_level_change(deal, before, after, actor)


def _record_level_change(
    deal: Deal, before: Assessment, after: Assessment, actor
) -> DealEvent | None:
    if before.level == after.level:
        return None
    event = _event(
        deal,
        DealEvent.Kind.LEVEL_CHANGED,
        actor,
        f"Level changed from {before.level.label} to {after.level.label}.",
        data={"from": before.level.value, "to": after.level.value},
    )
    alerts.level_changed(deal=deal, before=before.level, after=after.level, event=event)
    return event


# Deals -----------------------------------------------------------------------------------------


def deal_create(
    *,
    user,
    team: Team,
    title: str,
    customer: str,
    currency: str,
    opening_price,
    floor,
    cost=None,
    target_price=None,
    best_alternative: str = "",
    owner=None,
    external_source: str | None = None,
    external_ref: str | None = None,
) -> Deal:
    """Rule 1: a deal is born with its walk-away floor (and, optionally, a target and the best
    alternative: where we aim to land, and what we do if we walk away).

    `owner` (a member of the team) is for a manager of the team creating a deal for a rep, as an
    import does; by default the deal is the creator's. `external_source` and `external_ref` are
    the deal's id in a CRM, both or neither, unique in the team.
    """
    # As for every other write, a deactivated account keeps its memberships but not its rights.
    if not user.is_authenticated or not user.is_active:
        raise NotAllowed("You are not a member of this team.")
    if not Membership.objects.filter(user=user, team=team).exists() and not is_staff_user(user):
        raise NotAllowed("You are not a member of this team.")
    owner = owner or user
    if owner.pk != user.pk:
        if not is_manager_of(user, team.pk):
            raise NotAllowed("Only a manager of the team can create a deal for someone else.")
        if not owner.is_active or not Membership.objects.filter(user=owner, team=team).exists():
            raise InvalidValue(f"{owner.get_username()} is not in this team.", field="owner")
    if external_source is not None or external_ref is not None:
        external_source, external_ref = external_reference(external_source, external_ref)
        taken = Deal.objects.filter(
            team=team, external_source=external_source, external_ref=external_ref
        )
        if taken.exists():
            raise ReferenceTaken("A deal of this team already has this reference.")
    title = _line(title, "title", label="Title")
    customer = _line(customer, "customer", label="Customer")
    currency = (currency or "").strip().upper() if isinstance(currency, str) else ""
    if not is_currency(currency):
        raise InvalidValue("Choose a currency such as USD or EUR.", field="currency")
    opening_price = _money(opening_price, "opening_price", currency=currency)
    floor = _money(floor, "floor", allow_zero=True, currency=currency)
    if floor >= opening_price:
        raise InvalidValue("The walk-away floor must be below the opening price.", field="floor")
    if cost is not None and cost != "":
        cost = _money(cost, "cost", allow_zero=True, currency=currency)
    else:
        cost = None
    target_price = _target(target_price, currency=currency, floor=floor, opening=opening_price)
    best_alternative = _text(best_alternative, "best_alternative", required=False)
    with transaction.atomic():
        deal = Deal.objects.create(
            team=team,
            owner=owner,
            title=title,
            customer=customer,
            currency=currency,
            opening_price=opening_price,
            floor=floor,
            cost=cost,
            target_price=target_price,
            best_alternative=best_alternative,
            external_source=external_source,
            external_ref=external_ref,
        )
        _event(
            deal,
            DealEvent.Kind.CREATED,
            user,
            # The history already says "Deal created"; the sentence gives the figures.
            f"Opening price {_m(deal, opening_price)}, walk-away floor {_m(deal, floor)}.",
            data={"opening_price": str(opening_price), "floor": str(floor), "currency": currency},
        )
    return deal


DESCRIPTIVE_FIELDS = ("title", "customer", "cost")


def deal_update(*, deal: Deal, user, title=None, customer=None, cost=...) -> Deal:
    """Change what describes a deal (title, customer, cost to deliver), never its figures.

    For the admin and imports as well as the deal page: the deal is locked and re-read, so a
    concession logged meanwhile is never overwritten by a stale copy of the row (rule 9).
    `cost=...` leaves the cost as it is; `None` clears it.
    """
    with transaction.atomic():
        locked = _lock(deal, user)
        if not (is_staff_user(user) or can_act_on(user, locked)):
            raise NotAllowed("You cannot change this deal.")
        changes: dict[str, tuple[object, object]] = {}
        if title is not None:
            title = _line(title, "title", label="Title")
            changes["title"] = (locked.title, title)
        if customer is not None:
            customer = _line(customer, "customer", label="Customer")
            changes["customer"] = (locked.customer, customer)
        if cost is not ...:
            if cost is not None and cost != "":
                cost = _money(cost, "cost", allow_zero=True, currency=locked.currency)
            else:
                cost = None
            changes["cost"] = (locked.cost, cost)
        changes = {name: pair for name, pair in changes.items() if pair[0] != pair[1]}
        if not changes:
            return locked
        for name, (_, new) in changes.items():
            setattr(locked, name, new)
        _save(locked, *changes)
        labels = {"title": "title", "customer": "customer", "cost": "cost to deliver"}
        said = "; ".join(
            f"{labels[name]} from {_shown(locked, old)} to {_shown(locked, new)}"
            for name, (old, new) in changes.items()
        )
        _event(
            locked,
            DealEvent.Kind.UPDATED,
            user,
            f"Changed {said}.",
            data={
                name: {"old": _plain(old), "new": _plain(new)}
                for name, (old, new) in changes.items()
            },
        )
    return locked


def deal_reassign(*, deal: Deal, user, new_owner) -> Deal:
    """Rule 11: a manager of the deal's team (or staff) hands the deal to another member.

    `new_owner` is a user or a user's id; they must be an active member of the deal's team.
    """
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_manager(user, locked)
        new_owner = _member_of_team(new_owner, locked.team_id)
        if new_owner.pk == locked.owner_id:
            raise InvalidValue(
                f"{new_owner.get_username()} owns this deal already.", field="new_owner"
            )
        old_owner = locked.owner
        locked.owner = new_owner
        _save(locked, "owner")
        _event(
            locked,
            DealEvent.Kind.REASSIGNED,
            user,
            f"Reassigned from {old_owner.get_username()} to {new_owner.get_username()}.",
            data={
                "old_owner": old_owner.pk,
                "old_owner_username": old_owner.get_username(),
                "new_owner": new_owner.pk,
                "new_owner_username": new_owner.get_username(),
            },
        )
    return locked


def reassign_candidates(deal: Deal):
    """Who may own the deal: the active members of its team, by username."""
    return (
        get_user_model()
        .objects.filter(memberships__team_id=deal.team_id, is_active=True)
        .order_by("username")
        .distinct()
    )


def _member_of_team(candidate, team_id: int):
    pk = getattr(candidate, "pk", candidate)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise InvalidValue("Choose a member of this deal's team.", field="new_owner") from None
    found = get_user_model().objects.filter(pk=pk, is_active=True, memberships__team_id=team_id)
    new_owner = found.first()
    if new_owner is None:
        raise InvalidValue("Choose an active member of this deal's team.", field="new_owner")
    return new_owner


SOURCE_LIMIT = 40
REF_LIMIT = 200


def external_reference(source, ref) -> tuple[str, str]:
    """A CRM's name and its id for a deal, as kept: the source in lower case."""
    if not isinstance(source, str) or not source.strip():
        raise InvalidValue("Name the system the reference comes from.", field="external_source")
    source = source.strip().lower()
    if len(source) > SOURCE_LIMIT or not all(c.isalnum() or c in "-_." for c in source):
        raise InvalidValue(
            f"A source is up to {SOURCE_LIMIT} letters, digits, '-', '_' or '.'.",
            field="external_source",
        )
    ref = _text(ref, "external_ref", required=True, limit=REF_LIMIT, label="The reference")
    if not ref.isprintable():
        raise InvalidValue("A reference is printable text.", field="external_ref")
    return source, ref


def deal_upsert_by_ref(
    *,
    user,
    team: Team,
    source: str,
    ref: str,
    title: str,
    customer: str,
    cost=...,
    currency=None,
    opening_price=None,
    floor=None,
) -> tuple[Deal, bool]:
    """A CRM pushes its deal: created with its prices and floor the first time, its descriptive
    fields (title, customer, cost) updated after. On an existing deal the prices and floor must
    be absent or unchanged: a CRM never moves the ledger (rule 9). Returns (deal, created)."""
    source, ref = external_reference(source, ref)
    existing = Deal.objects.filter(team=team, external_source=source, external_ref=ref).first()
    if existing is None:
        try:
            with transaction.atomic():
                deal = deal_create(
                    user=user,
                    team=team,
                    title=title,
                    customer=customer,
                    currency=currency,
                    opening_price=opening_price,
                    floor=floor,
                    cost=None if cost is ... else cost,
                    external_source=source,
                    external_ref=ref,
                )
            return deal, True
        except (IntegrityError, ReferenceTaken):
            # Another push of the same reference created it first: this one is an update.
            existing = Deal.objects.filter(
                team=team, external_source=source, external_ref=ref
            ).first()
            if existing is None:
                raise
    with transaction.atomic():
        locked = _lock(existing)
        member = Membership.objects.filter(user=user, team_id=locked.team_id).exists()
        if not (can_act_on(user, locked) and (member or is_staff_user(user))):
            raise ReferenceTaken(
                "Another deal of this team has this reference, and it is not yours to change."
            )
        _require_same_ledger(locked, currency=currency, opening_price=opening_price, floor=floor)
        deal = deal_update(deal=locked, user=user, title=title, customer=customer, cost=cost)
    return deal, False


def _require_same_ledger(deal: Deal, *, currency, opening_price, floor) -> None:
    if currency is not None and str(currency).strip().upper() != deal.currency:
        raise LedgerLocked("A deal's currency cannot change.", field="currency")
    for name, value, allow_zero in (
        ("opening_price", opening_price, False),
        ("floor", floor, True),
    ):
        if value is None:
            continue
        if _money(value, name, allow_zero=allow_zero, currency=deal.currency) != getattr(
            deal, name
        ):
            raise LedgerLocked(
                f"The {'opening price' if name == 'opening_price' else 'walk-away floor'} of an "
                "existing deal changes only on the deal itself (a floor change, a concession).",
                field=name,
            )


def _shown(deal: Deal, value) -> str:
    if value is None:
        return "none"
    if isinstance(value, Decimal):
        return _m(deal, value)
    return f"\u201c{value}\u201d"


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


# Concessions -----------------------------------------------------------------------------------


def _validated_give(
    deal: Deal, kind, amount, description, got_in_return
) -> tuple[str, Decimal, str, str]:
    if kind not in Concession.Kind.values:
        raise InvalidValue("Choose a kind of concession.", field="kind")
    amount = _money(amount, "amount", currency=deal.currency)
    description = _text(description, "description", required=True, label="What you gave")
    got_in_return = _text(got_in_return, "got_in_return", required=False)
    return kind, amount, description, got_in_return


def concession_log(
    *,
    deal: Deal,
    user,
    kind: str,
    amount,
    description: str,
    got_in_return: str = "",
    form_key: str | None = None,
    plan_step: int | None = None,
) -> LogResult:
    """Log one give (rules 3, 7 and 8). Refuses, with the shortfall, anything below the floor.
    `plan_step`: the id of the planned step this give follows (None: off plan)."""
    kind, amount, description, got_in_return = _validated_give(
        deal, kind, amount, description, got_in_return
    )
    form_key = _form_key(form_key)
    try:
        with transaction.atomic():
            locked = _lock(deal, user)
            _require_actor(user, locked)
            if (existing := _logged_with_key(locked, form_key)) is not None:
                return _already_logged(existing, locked)
            _require_open(locked)
            step = _followable_step(locked, plan_step)
            if _fits(locked, amount) and amount >= locked.net:
                # Only a floor of zero leaves room down to a net of nothing.
                raise InvalidValue(NET_NOT_POSITIVE, field="amount")
            if not _fits(locked, amount):
                raise BelowFloor(
                    shortfall=_shortfall(locked, amount),
                    remaining=locked.assessment().remaining,
                    currency=locked.currency,
                )
            return _write_concession(
                locked,
                user,
                kind=kind,
                amount=amount,
                description=description,
                got_in_return=got_in_return,
                form_key=form_key,
                plan_step=step,
            )
    except IntegrityError:
        # Only reachable if a writer bypassed the deal's lock: the database still refuses the
        # duplicate key, and the whole attempt was rolled back. Any other integrity error is a
        # bug and must not be mistaken for a resubmission.
        existing = _logged_with_key(deal, form_key)
        if existing is None:
            raise
        return _already_logged(existing, Deal.objects.get(pk=existing.deal_id))


def _logged_with_key(deal: Deal, form_key: str | None) -> Concession | None:
    """The concession a form with this one-time key already logged on the deal, if any."""
    if form_key is None:
        return None
    return Concession.objects.filter(deal=deal, form_key=form_key).first()


def _already_logged(concession: Concession, deal: Deal) -> LogResult:
    now = deal.assessment()
    return LogResult(concession=concession, created=False, before=now, after=now, deal=deal)


def _write_concession(
    deal: Deal,
    user,
    *,
    kind: str,
    amount: Decimal,
    description: str,
    got_in_return: str,
    form_key: str | None,
    created_by=None,
    exception_request: ExceptionRequest | None = None,
    plan_step: PlanStep | None = None,
) -> LogResult:
    concession = Concession.objects.create(
        deal=deal,
        kind=kind,
        amount=amount,
        description=description,
        got_in_return=got_in_return,
        created_by=created_by or user,
        form_key=form_key,
        exception_request=exception_request,
        plan_step=plan_step,
    )
    previously_updated_at = deal.updated_at
    got = f" In return: {got_in_return}" if got_in_return else " Nothing in return."
    approved = " (approved exception)" if exception_request else ""
    logged = _event(
        deal,
        DealEvent.Kind.CONCESSION_LOGGED,
        user,
        f"{concession.get_kind_display()} of {_m(deal, amount)}{approved}: {description}.{got}",
        data={"amount": str(amount), "kind": kind, "has_get": bool(got_in_return)},
        concession=concession,
        exception_request=exception_request,
    )
    before, after, level_changed = _set_conceded(deal, deal.conceded + amount, user)
    return LogResult(
        concession=concession,
        created=True,
        before=before,
        after=after,
        deal=deal,
        events=(logged,) if level_changed is None else (logged, level_changed),
        previously_updated_at=previously_updated_at,
    )


def concession_retract(*, concession: Concession, user, reason: str) -> Concession:
    """Rule 5: undo a give with a new, negative entry linked to it. Once per give."""
    reason = _text(reason, "reason", required=True, label="Reason")
    with transaction.atomic():
        deal = _lock(concession.deal_id, user)
        _require_actor(user, deal)
        original = Concession.objects.get(pk=concession.pk)
        if original.is_retraction:
            raise InvalidValue("A retraction cannot itself be retracted.")
        _require_open(deal)
        if Concession.objects.filter(retracts=original).exists():
            raise AlreadyRetracted("This concession has already been retracted.")
        retraction = Concession.objects.create(
            deal=deal,
            kind=original.kind,
            amount=-original.amount,
            description=original.description,
            created_by=user,
            retracts=original,
            reason=reason,
        )
        _event(
            deal,
            DealEvent.Kind.CONCESSION_RETRACTED,
            user,
            f"Retracted {original.get_kind_display().lower()} of {_m(deal, original.amount)} "
            f"({original.description}). Reason: {reason}",
            data={"amount": str(-original.amount), "retracts": original.pk},
            concession=retraction,
        )
        _set_conceded(deal, deal.conceded - original.amount, user)
    return retraction


def correctable(
    concession: Concession, user_id: int | None, *, now: datetime | None = None
) -> bool:
    """May `user_id` still correct this give in one step? Its author, within
    WALKAWAY_CORRECT_MINUTES, while it stands (not a retraction, not retracted, not an approved
    exception). The deal being open and the author's right to act are checked by the caller."""
    if user_id is None or concession.created_by_id != user_id:
        return False
    if concession.is_retraction or concession.exception_request_id is not None:
        return False
    window = timedelta(minutes=settings.WALKAWAY_CORRECT_MINUTES)
    return (now or timezone.now()) - concession.created_at <= window


def concession_correct(
    *, concession: Concession, user, kind: str, amount, description: str, got_in_return: str = ""
) -> Concession:
    """A typo fixed in one step: the give is retracted and the corrected give logged in one
    transaction, with one "corrected" event. Only its author, within WALKAWAY_CORRECT_MINUTES,
    on an open deal; the corrected give must fit above the floor like any other."""
    with transaction.atomic():
        deal = _lock(concession.deal_id, user)
        _require_actor(user, deal)
        kind, amount, description, got_in_return = _validated_give(
            deal, kind, amount, description, got_in_return
        )
        original = Concession.objects.get(pk=concession.pk)
        _require_open(deal)
        if Concession.objects.filter(retracts=original).exists():
            raise AlreadyRetracted("This concession has already been retracted.")
        if not correctable(original, user.pk):
            raise NotCorrectable(
                f"Only its author can correct a concession, within "
                f"{settings.WALKAWAY_CORRECT_MINUTES} minutes; retract it instead."
            )
        conceded = deal.conceded - original.amount + amount
        room_after = deal.opening_price - conceded - deal.floor
        if room_after < 0:
            raise BelowFloor(
                shortfall=-room_after,
                remaining=deal.assessment().remaining + original.amount,
                currency=deal.currency,
            )
        if deal.opening_price - conceded <= 0:
            raise InvalidValue(NET_NOT_POSITIVE, field="amount")
        Concession.objects.create(
            deal=deal,
            kind=original.kind,
            amount=-original.amount,
            description=original.description,
            created_by=user,
            retracts=original,
            reason="Corrected",
        )
        corrected = Concession.objects.create(
            deal=deal,
            kind=kind,
            amount=amount,
            description=description,
            got_in_return=got_in_return,
            created_by=user,
            plan_step=original.plan_step,
        )
        was = f"{original.get_kind_display().lower()} of {_m(deal, original.amount)}"
        now = f"{corrected.get_kind_display().lower()} of {_m(deal, amount)}"
        _event(
            deal,
            DealEvent.Kind.CONCESSION_CORRECTED,
            user,
            f"Corrected {was} ({original.description}) to {now}: {description}.",
            data={
                "old": {"amount": str(original.amount), "kind": original.kind},
                "new": {"amount": str(amount), "kind": kind, "has_get": bool(got_in_return)},
                "corrects": original.pk,
            },
            concession=corrected,
        )
        _set_conceded(deal, conceded, user)
    return corrected


# Exceptions ------------------------------------------------------------------------------------


def exception_request(**kwargs) -> ExceptionRequest:
    """exception_ask, for callers that only need the request."""
    return exception_ask(**kwargs).request


def exception_ask(
    *,
    deal: Deal,
    user,
    kind: str,
    amount,
    description: str,
    got_in_return: str = "",
    note: str = "",
    form_key: str | None = None,
) -> AskResult:
    """Ask the team's managers for a concession that would cross the floor (a team's only
    manager asks staff). A resubmitted form sends nothing and says what became of the first."""
    kind, amount, description, got_in_return = _validated_give(
        deal, kind, amount, description, got_in_return
    )
    note = _text(note, "note", required=False)
    form_key = _form_key(form_key)
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        if form_key is not None:
            existing = (
                ExceptionRequest.objects.select_related("decided_by")
                .filter(deal=locked, form_key=form_key)
                .first()
            )
            if existing is not None:
                return AskResult(request=existing, created=False)
        _require_open(locked)
        if _fits(locked, amount):
            raise InvalidValue(
                "This concession fits above your floor; log it instead of asking for approval.",
                field="amount",
            )
        if amount >= locked.net:
            raise InvalidValue(
                "This exception would take the net price to zero or below "
                f"(the net is {_m(locked, locked.net)}); no approval can allow that.",
                field="amount",
            )
        request = ExceptionRequest.objects.create(
            deal=locked,
            requested_by=user,
            kind=kind,
            amount=amount,
            description=description,
            got_in_return=got_in_return,
            note=note,
            conceded_at_request=locked.conceded,
            floor_at_request=locked.floor,
            shortfall=_shortfall(locked, amount),
            form_key=form_key,
            plan_at_request=_plan_snapshot(locked),
        )
        event = _event(
            locked,
            DealEvent.Kind.EXCEPTION_REQUESTED,
            user,
            f"Asked for approval of {_m(locked, amount)} ({description}), "
            f"{_m(locked, request.shortfall)} below the walk-away floor."
            + (f" Note: {note}" if note else ""),
            data={"amount": str(amount), "shortfall": str(request.shortfall)},
            exception_request=request,
        )
        _save(locked)
        alerts.exception_requested(request=request, event=event)
    return AskResult(request=request, created=True)


def resubmission_message(result: AskResult) -> str:
    """What the person who sent an exception request is told: that it was sent, or, for a
    resubmitted form, what happened to the first submission and when."""
    request = result.request
    if result.created:
        return "Sent to your manager for approval."
    who = request.decided_by.get_username() if request.decided_by else "someone"
    if request.status == ExceptionRequest.Status.APPROVED:
        return f"Already approved by {who} on {_when(request.decided_at)}."
    if request.status == ExceptionRequest.Status.REJECTED:
        comment = f": {request.comment}" if request.comment else "."
        return f"Already rejected by {who} on {_when(request.decided_at)}{comment}"
    return f"Already sent on {_when(request.created_at)}; still waiting for a decision."


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "an unknown date"
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def _lock_pending(request: ExceptionRequest, user) -> tuple[Deal, ExceptionRequest]:
    # Deal first, then the request: the same order as every other writer, so no deadlock.
    deal = _lock(request.deal_id, user)
    _require_manager(user, deal)
    locked = ExceptionRequest.objects.select_for_update().get(pk=request.pk)
    if locked.requested_by_id == user.pk:
        raise OwnRequest(
            "You cannot decide your own request: another manager of the team, or staff, will."
        )
    if locked.status != ExceptionRequest.Status.PENDING:
        who = locked.decided_by.get_username() if locked.decided_by else "someone"
        raise AlreadyDecided(
            f"This request was already {locked.get_status_display().lower()} by {who}."
        )
    return deal, locked


def exception_approve(
    *,
    exception_request: ExceptionRequest,
    user,
    comment: str = "",
    seen_conceded: Decimal | None = None,
    seen_floor: Decimal | None = None,
) -> Concession:
    """Rule 4: a manager's approval logs the concession, linked to it, even below the floor.

    The manager decides on the deal as it was shown to them (by default, as it was when the rep
    asked). If it moved since, nothing is approved and DealChanged says what changed, with the
    current figures, so the manager can decide again on what is true now.
    """
    # A comment is optional to approve (issue 14); rejecting needs one, the rep's reason.
    comment = _text(comment, "comment", required=False, label="Comment")
    with transaction.atomic():
        deal, request = _lock_pending(exception_request, user)
        _require_open(deal)
        expected_conceded = request.conceded_at_request if seen_conceded is None else seen_conceded
        expected_floor = request.floor_at_request if seen_floor is None else seen_floor
        if deal.conceded != expected_conceded or deal.floor != expected_floor:
            raise DealChanged(
                _what_changed(deal, request, expected_conceded, expected_floor),
                conceded=deal.conceded,
                floor=deal.floor,
            )
        if request.amount >= deal.net:
            raise InvalidValue(
                "Approving this would take the net price to zero or below "
                f"(the net is {_m(deal, deal.net)}); it can only be rejected."
            )
        event = _record_decision(deal, request, user, ExceptionRequest.Status.APPROVED, comment)
        result = _write_concession(
            deal,
            user,
            kind=request.kind,
            amount=request.amount,
            description=request.description,
            got_in_return=request.got_in_return,
            form_key=None,
            created_by=request.requested_by,
            exception_request=request,
        )
        alerts.exception_decided(request=request, event=event)
    return result.concession


def _record_decision(
    deal: Deal, request: ExceptionRequest, user, status: str, comment: str
) -> DealEvent:
    """Keep who decided what, when and why, on the request and in the deal's history."""
    request.status = status
    request.decided_by = user
    request.decided_at = timezone.now()
    request.comment = comment
    request.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    approved = status == ExceptionRequest.Status.APPROVED
    return _event(
        deal,
        DealEvent.Kind.EXCEPTION_APPROVED if approved else DealEvent.Kind.EXCEPTION_REJECTED,
        user,
        f"{'Approved' if approved else 'Rejected'} the exception for "
        f"{_m(deal, request.amount)} ({request.description})."
        + (f" Comment: {comment}" if comment else ""),
        data={"amount": str(request.amount)},
        exception_request=request,
    )


def _what_changed(deal: Deal, request: ExceptionRequest, conceded: Decimal, floor: Decimal) -> str:
    parts = []
    if deal.conceded != conceded:
        parts.append(f"conceded went from {_m(deal, conceded)} to {_m(deal, deal.conceded)}")
    if deal.floor != floor:
        parts.append(f"the floor went from {_m(deal, floor)} to {_m(deal, deal.floor)}")
    short = _shortfall(deal, request.amount)
    if short > 0:
        outcome = f"approving it now takes the deal {_m(deal, short)} below the walk-away floor"
    else:
        outcome = "it now fits above the walk-away floor"
    return f"The deal changed since this was asked: {' and '.join(parts)}; {outcome}."


def exception_reject(
    *, exception_request: ExceptionRequest, user, comment: str
) -> ExceptionRequest:
    comment = _text(comment, "comment", required=True, label="Comment")
    with transaction.atomic():
        deal, request = _lock_pending(exception_request, user)
        event = _record_decision(deal, request, user, ExceptionRequest.Status.REJECTED, comment)
        _save(deal)
        alerts.exception_decided(request=request, event=event)
    return request


# Floor -----------------------------------------------------------------------------------------


def floor_change(*, deal: Deal, user, new_floor, reason: str = "") -> FloorChange:
    """Rule 2: the owner may move the floor until the first concession; then only a manager,
    with a reason. Every change is kept."""
    new_floor = _money(new_floor, "new_floor", allow_zero=True, currency=deal.currency)
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        _require_open(locked)
        locked_by_concessions = Concession.objects.filter(deal=locked).exists()
        if locked_by_concessions:
            if not is_manager_of(user, locked.team_id, locked):
                raise FloorLocked(
                    "The floor is locked once a concession is logged; ask a manager to change it."
                )
            reason = _text(reason, "reason", required=True, label="Reason")
        else:
            reason = _text(reason, "reason", required=False)
        if new_floor >= locked.opening_price:
            raise InvalidValue(
                "The walk-away floor must be below the opening price "
                f"({_m(locked, locked.opening_price)}).",
                field="new_floor",
            )
        if new_floor == locked.floor:
            raise InvalidValue("That is the floor already.", field="new_floor")
        if new_floor > locked.net:
            raise InvalidValue(
                f"The new floor would be above the current net price ({_m(locked, locked.net)}).",
                field="new_floor",
            )
        old_floor = locked.floor
        change = FloorChange.objects.create(
            deal=locked, old_floor=old_floor, new_floor=new_floor, changed_by=user, reason=reason
        )
        _event(
            locked,
            DealEvent.Kind.FLOOR_CHANGED,
            user,
            f"Walk-away floor changed from {_m(locked, old_floor)} to {_m(locked, new_floor)}."
            + (f" Reason: {reason}" if reason else ""),
            data={"old": str(old_floor), "new": str(new_floor)},
        )
        _refigure(locked, user, "floor", floor=new_floor)
    return change


# Outcomes --------------------------------------------------------------------------------------


def _close(deal: Deal, status: str) -> None:
    deal.status = status
    deal.closed_at = timezone.now()


def deal_win(*, deal: Deal, user, final_price=None) -> Deal:
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        _require_open(locked)
        if final_price is None or final_price == "":
            final = locked.net
            if final <= 0:
                # Only data from before rule 10 can get here; check_ledger lists such deals.
                raise InvalidValue(
                    f"The net price is {_m(locked, final)}; enter a final price above zero.",
                    field="final_price",
                )
        else:
            final = _money(final_price, "final_price", currency=locked.currency)
        # The net only sits below the floor through approved exceptions, and by exactly what was
        # approved: one approval must not unlock any price at all (nor outlive its retraction).
        if final < min(locked.floor, locked.net):
            if locked.net < locked.floor:
                message = (
                    f"A final price below the approved net ({_m(locked, locked.net)}) "
                    "needs another approved exception."
                )
            else:
                message = (
                    f"A final price below the walk-away floor ({_m(locked, locked.floor)}) "
                    "needs an approved exception."
                )
            raise InvalidValue(message, field="final_price")
        locked.final_price = final
        _close(locked, Deal.Status.WON)
        _save(locked, "final_price", "status", "closed_at")
        on_terms = ""
        if locked.came_back and locked.walked_away_net is not None:
            on_terms = (
                " Won on our terms."
                if final >= locked.walked_away_net
                else " Won below the net we walked away at."
            )
        _event(
            locked,
            DealEvent.Kind.WON,
            user,
            f"Marked won at {_m(locked, final)}.{on_terms}",
            data={"final_price": str(final)},
        )
    return locked


def deal_lose(*, deal: Deal, user, reason: str, note: str = "") -> Deal:
    if reason not in Deal.LostReason.values:
        raise InvalidValue("Choose a reason.", field="reason")
    note = _text(note, "note", required=False)
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        _require_open(locked)
        locked.lost_reason = reason
        locked.outcome_note = note
        _close(locked, Deal.Status.LOST)
        _save(locked, "lost_reason", "outcome_note", "status", "closed_at")
        label = Deal.LostReason(reason).label
        _event(
            locked,
            DealEvent.Kind.LOST,
            user,
            f"Marked lost. Reason: {label}." + (f" {note}" if note else ""),
            data={"reason": reason},
        )
    return locked


def deal_walk_away(*, deal: Deal, user, reason: str) -> Deal:
    """Walking away is a first-class outcome; the net at that moment is what a comeback is
    measured against."""
    reason = _text(reason, "reason", required=True, label="Reason")
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        _require_open(locked)
        locked.walked_away_net = locked.net
        locked.walked_away_at = timezone.now()
        locked.outcome_note = reason
        _close(locked, Deal.Status.WALKED_AWAY)
        _save(locked, "walked_away_net", "walked_away_at", "outcome_note", "status", "closed_at")
        event = _event(
            locked,
            DealEvent.Kind.WALKED_AWAY,
            user,
            f"Walked away at a net of {_m(locked, locked.net)}. Reason: {reason}",
            data={"net": str(locked.net)},
        )
        alerts.walked_away(deal=locked, event=event)
    return locked


def deal_come_back(
    *, deal: Deal, user, came_back_on: date | None = None, offer=None, note: str = ""
) -> Deal:
    """The customer came back: the deal is open again. `came_back_on` (today when not given,
    never in the future), what they offered (optional money) and a note are kept on the deal
    and in the event."""
    note = _text(note, "note", required=False)
    today = timezone.localdate()
    came_back_on = came_back_on or today
    if came_back_on > today:
        raise InvalidValue("The customer cannot have come back after today.", field="came_back_on")
    with transaction.atomic():
        locked = _lock(deal, user)
        _require_actor(user, locked)
        if locked.status != Deal.Status.WALKED_AWAY:
            raise DealClosed("Only a deal you walked away from can come back.")
        if offer is not None and offer != "":
            offer = _money(offer, "offer", currency=locked.currency)
        else:
            offer = None
        if locked.walked_away_at and came_back_on < timezone.localdate(locked.walked_away_at):
            raise InvalidValue(
                "The customer came back after you walked away; check the date.",
                field="came_back_on",
            )
        locked.status = Deal.Status.OPEN
        locked.came_back = True
        locked.closed_at = None
        locked.came_back_on = came_back_on
        locked.comeback_offer = offer
        locked.comeback_note = note
        _save(
            locked,
            "status",
            "came_back",
            "closed_at",
            "came_back_on",
            "comeback_offer",
            "comeback_note",
        )
        offered = f" They offered {_m(locked, offer)}." if offer is not None else ""
        noted = f" Note: {note}" if note else ""
        event = _event(
            locked,
            DealEvent.Kind.CAME_BACK,
            user,
            f"Customer came back on {came_back_on.isoformat()}; we had walked away at "
            f"{_m(locked, locked.walked_away_net)}.{offered}{noted}",
            data={
                "walked_away_net": str(locked.walked_away_net),
                "came_back_on": came_back_on.isoformat(),
                "offer": None if offer is None else str(offer),
                "note": note,
            },
        )
        alerts.came_back(deal=locked, event=event)
    return locked


# The plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    """One planned step as typed: kind, amount, what we would give, what we ask in return."""

    kind: str
    amount: object
    give: str
    ask: str


@dataclass(frozen=True)
class PlanResult:
    check: erosion.PlanCheck
    changed: bool


def plan_save(
    *,
    deal: Deal,
    user,
    target_price=None,
    best_alternative: str = "",
    steps: list[StepInput],
    things_to_ask: str = "",
    reason: str = "",
) -> PlanResult:
    """Replace the deal's plan: target, best alternative, the ladder of steps, things to ask.

    Refused: a plan whose planned total takes the net below the floor, and removing a step a
    give already followed (it stays, as the history says it was given). Until the first
    concession the plan is edited freely; after it each change needs a reason, kept as an
    event with the old and new plan, as for the floor (DOMAIN.md, "The plan"). A plan below
    the target or with steps that do not shrink is saved; the check says so, for the coach.
    """
    with transaction.atomic():
        locked = _lock(deal)
        _require_actor(user, locked)
        _require_open(locked)
        target = _target(
            target_price, currency=locked.currency, floor=locked.floor, opening=locked.opening_price
        )
        best = _text(best_alternative, "best_alternative", required=False)
        asks = "\n".join(
            line.strip()
            for line in _text(things_to_ask, "things_to_ask", required=False).splitlines()
            if line.strip()
        )
        typed = [_validated_step(locked, i, step) for i, step in enumerate(steps, start=1)]
        check = erosion.plan_check(
            opening_price=locked.opening_price,
            floor=locked.floor,
            target=target,
            amounts=[step.amount for step in typed],
        )
        if check.refused:
            raise InvalidValue(
                f"This plan would take the net to {_m(locked, check.net_after)}, "
                f"{_m(locked, check.below_floor_by)} below your walk-away floor. "
                "Plan smaller steps, or fewer.",
                field="steps",
            )
        current = list(PlanStep.objects.filter(deal=locked).with_followed())
        old = _plan_data(locked, current)
        new = {
            "target_price": None if target is None else str(target),
            "best_alternative": best,
            "things_to_ask": asks,
            "steps": [
                {"kind": s.kind, "amount": str(s.amount), "give": s.give, "ask": s.ask}
                for s in typed
            ],
        }
        if new == old:
            return PlanResult(check=check, changed=False)
        started = Concession.objects.filter(deal=locked).exists()
        reason = _text(reason, "reason", required=started, label="Reason for the change")
        for step in current[len(typed) :]:
            if step.followed or Concession.objects.filter(plan_step=step).exists():
                raise InvalidValue(
                    f"Step {step.position} has been given already; it stays in the plan.",
                    field="steps",
                )
        PlanStep.objects.filter(deal=locked, position__gt=len(typed)).delete()
        by_position = {step.position: step for step in current}
        for step in typed:
            existing = by_position.get(step.position)
            if existing is None:
                step.save()
            elif (existing.kind, existing.amount, existing.give, existing.ask) != (
                step.kind,
                step.amount,
                step.give,
                step.ask,
            ):
                step.pk = existing.pk
                step.save()
        locked.target_price, locked.best_alternative, locked.things_to_ask = target, best, asks
        _save(locked, "target_price", "best_alternative", "things_to_ask")
        summary = (
            f"Plan {'revised' if started else 'set'}: {len(typed)} step"
            f"{'' if len(typed) == 1 else 's'} totalling {_m(locked, check.total)}, "
            f"planned net {_m(locked, check.net_after)}"
            + (f", target {_m(locked, target)}" if target is not None else "")
            + "."
            + (f" Reason: {reason}" if reason else "")
        )
        _event(
            locked,
            DealEvent.Kind.PLAN_CHANGED,
            user,
            summary,
            data={"old": old, "new": new, "reason": reason},
        )
    return PlanResult(check=check, changed=True)


def _target(value, *, currency: str, floor: Decimal, opening: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    target = _money(value, "target_price", currency=currency)
    if not floor < target <= opening:
        raise InvalidValue(
            "The target price must be above the walk-away floor and at most the opening price.",
            field="target_price",
        )
    return target


def _validated_step(deal: Deal, position: int, step: StepInput) -> PlanStep:
    label = f"Step {position}"
    if step.kind not in Concession.Kind.values:
        raise InvalidValue(f"{label}: choose a kind of concession.", field="steps")
    try:
        amount = _money(step.amount, "steps", currency=deal.currency)
    except InvalidValue as e:
        raise InvalidValue(f"{label}: {e.message}", field="steps") from None
    give = _text(step.give, "steps", required=True, label=f"{label}: what you would give")
    # A planned give always has a get (DOMAIN.md): trade, don't give.
    ask = _text(step.ask, "steps", required=True, label=f"{label}: what you ask in return")
    return PlanStep(deal=deal, position=position, kind=step.kind, amount=amount, give=give, ask=ask)


def _plan_data(deal: Deal, steps: list[PlanStep]) -> dict:
    return {
        "target_price": None if deal.target_price is None else str(deal.target_price),
        "best_alternative": deal.best_alternative,
        "things_to_ask": deal.things_to_ask,
        "steps": [
            {"kind": s.kind, "amount": str(s.amount), "give": s.give, "ask": s.ask} for s in steps
        ],
    }


def _followable_step(deal: Deal, step_id) -> PlanStep | None:
    """The planned step a give follows; a step a standing give already followed is refused."""
    if step_id in (None, ""):
        return None
    try:
        step = PlanStep.objects.with_followed().get(deal=deal, pk=int(step_id))
    except (PlanStep.DoesNotExist, TypeError, ValueError):
        raise InvalidValue("That planned step is not in this deal's plan.") from None
    if step.followed:
        raise InvalidValue(
            f"Step {step.position} of the plan has been given already; log this give off plan."
        )
    return step


def _plan_snapshot(deal: Deal) -> dict | None:
    """Plan against actual as it stands now, for an exception request's card."""
    steps = PlanStep.objects.filter(deal=deal).with_followed().as_planned()
    if not steps:
        return None
    return erosion.plan_progress(steps=steps, conceded=deal.conceded).as_data()


# Notifications (the manager's review, issue 4) ---------------------------------------------------
# A notification belongs to its reader, not to a deal: reading one changes no deal, so there is
# no deal row to lock and no DealEvent to write.


def notification_mark_read(*, user, notification_id: int) -> bool:
    """Mark one of `user`'s notifications read (issue 14); False when it is not theirs or was
    already read. Someone else's notification is never touched."""
    with transaction.atomic():
        return bool(
            Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
                read_at=timezone.now()
            )
        )


def notifications_mark_read(*, user, up_to_id: int | None = None) -> int:
    """Mark `user`'s unread notifications read; returns how many.

    `up_to_id` is the newest notification the page showed: one that arrived while the page was
    open stays unread, because nobody has seen it yet.
    """
    with transaction.atomic():
        unread = Notification.objects.filter(user=user, read_at__isnull=True)
        if up_to_id is not None:
            unread = unread.filter(pk__lte=up_to_id)
        return unread.update(read_at=timezone.now())


# API tokens (issue 15) ---------------------------------------------------------------------------
# A token belongs to its person, not to a deal: no deal row to lock, no DealEvent to write.

TOKEN_PREFIX = "wa_"  # noqa: S105 - the public start of every token, not a secret


def token_digest(raw: str) -> str:
    """What is kept of a token: its SHA-256. Tokens are 256 random bits, so no salt or slow hash
    is needed to make the digest useless to whoever reads the table."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new personal token: returns it with the token itself, which is never seen again."""
    if not user.is_authenticated or not user.is_active:
        raise NotAllowed("Sign in to create a token.")
    name = _text(name, "name", required=True, limit=100, label="Token name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], digest=token_digest(raw))
    return token, raw


def api_token_revoke(*, user, token: ApiToken) -> ApiToken:
    """Revoked at once: the next request with it is refused. Only its person may revoke it."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().filter(pk=token.pk, user_id=user.pk).first()
        if locked is None:
            raise NotAllowed("No such token.")
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
    return locked


# Webhooks (issue 15) -----------------------------------------------------------------------------


def webhook_register(*, user, team: Team, url: str, events) -> tuple[WebhookEndpoint, str]:
    """A manager of the team (or staff) registers an endpoint for the team's deal events; returns
    it with its signing secret, shown this once."""
    from .shapes import ALL_EVENT_TYPES

    if not is_manager_of(user, team.pk):
        raise NotAllowed("Only a manager of this team can register its webhooks.")
    try:
        url = webhooks.check_url(url)
    except webhooks.UnsafeURL as e:
        raise InvalidValue(str(e), field="url") from None
    if not isinstance(events, list | tuple) or not events:
        raise InvalidValue("Choose at least one event.", field="events")
    unknown = sorted({str(e) for e in events} - set(ALL_EVENT_TYPES))
    if unknown:
        raise InvalidValue(f"Unknown event types: {', '.join(unknown)}.", field="events")
    secret = "whsec_" + secrets.token_urlsafe(32)
    chosen = [e for e in ALL_EVENT_TYPES if e in set(events)]
    endpoint = WebhookEndpoint.objects.create(
        team=team, url=url, events=chosen, secret=secret, created_by=user
    )
    return endpoint, secret


def webhook_disable(*, user, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to an endpoint; what it was sent stays visible. Pending deliveries stop."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not is_manager_of(user, locked.team_id):
            raise NotAllowed("Only a manager of this team can change its webhooks.")
        if locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["disabled_at"])
    return locked
