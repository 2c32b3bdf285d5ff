"""A demo team with deals in every state, for `make run` and for trying Walkaway by hand.

Everything is built through deals.services, exactly as the app would build it, so every deal's
running total, level, events and notifications agree with its ledger. Nothing here writes a
Deal or Concession row itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone

from deals import services
from deals.models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    FloorChange,
    Membership,
    Notification,
    Role,
    Team,
)

# The demo spans the last six months (issue 14), so every period of the dashboard shows
# something: the first deal starts this many days ago, the last a few days ago.
SPAN_DAYS = 175
STORY_DAYS = 21

TEAM_NAME = "Print & Packaging Sales"
PASSWORD = "walkaway"  # noqa: S105 - the demo's published password, refused without DEBUG

# username: (first name, last name, role in the demo team; None for the staff admin)
PEOPLE = {
    "manager": ("Morgan", "Reyes", Role.MANAGER),
    "rep": ("Riley", "Chen", Role.REP),
    "rep2": ("Sam", "Patel", Role.REP),
    "admin": ("Alex", "Admin", None),
}

K = Concession.Kind


# Steps of a deal's story. Each one is a single service call.
@dataclass(frozen=True)
class Give:
    kind: str
    amount: str
    gave: str
    got: str = ""
    by: str | None = None  # defaults to the deal's owner
    step: int | None = None  # the planned step (1-based) it follows; None: off plan


@dataclass(frozen=True)
class Plan:
    target: str | None
    best_alternative: str
    steps: tuple[tuple[str, str, str, str], ...]  # (kind, amount, give, ask)
    asks: str = ""


@dataclass(frozen=True)
class Retract:
    give: int  # index among this deal's gives, in the order they were logged
    reason: str


@dataclass(frozen=True)
class Ask:
    kind: str
    amount: str
    gave: str
    got: str = ""
    note: str = ""


@dataclass(frozen=True)
class Approve:
    comment: str


@dataclass(frozen=True)
class Reject:
    comment: str


@dataclass(frozen=True)
class MoveFloor:
    new_floor: str
    reason: str


@dataclass(frozen=True)
class Win:
    final_price: str | None = None  # None: the net, as the "Mark won" form defaults to


@dataclass(frozen=True)
class Lose:
    reason: str
    note: str = ""


@dataclass(frozen=True)
class WalkAway:
    reason: str


@dataclass(frozen=True)
class ComeBack:
    pass


@dataclass(frozen=True)
class DemoDeal:
    owner: str
    title: str
    customer: str
    currency: str
    opening_price: str
    floor: str
    cost: str | None = None
    story: tuple = field(default_factory=tuple)


DEALS: tuple[DemoDeal, ...] = (
    # Planned: kept to the ladder and won above the target -------------------------------------
    DemoDeal(
        owner="rep",
        title="MIS roll-out for Northgate Print",
        customer="Northgate Print",
        currency="USD",
        opening_price="48000.00",
        floor="40000.00",
        cost="30000.00",
        story=(
            Plan(
                target="45000.00",
                best_alternative="Offer the installation slot to Riverside Press",
                steps=(
                    (K.PRICE_DISCOUNT, "1500.00", "3% off the licence", "A three-year term"),
                    (K.FREE_SERVICE, "800.00", "Two training days", "A case study"),
                    (K.PAYMENT_TERMS, "400.00", "Net-60 payment terms", "Signature this month"),
                ),
                asks="A reference call\nLogo on our website",
            ),
            Give(
                K.PRICE_DISCOUNT, "1500.00", "3% off the licence", got="A three-year term", step=1
            ),
            Give(K.FREE_SERVICE, "800.00", "Two training days", got="A case study", step=2),
            Win(final_price="45700.00"),
        ),
    ),
    # Planned, then off plan into Danger ----------------------------------------------------------
    DemoDeal(
        owner="rep2",
        title="Web-to-print portal for Copperline",
        customer="Copperline Stationers",
        currency="USD",
        opening_price="30000.00",
        floor="25000.00",
        story=(
            Plan(
                target="28000.00",
                best_alternative="Keep them on the current hosted plan",
                steps=(
                    (K.PRICE_DISCOUNT, "1000.00", "Setup fee waived", "Annual prepayment"),
                    (K.FREE_SERVICE, "600.00", "Template design", "Two-year contract"),
                ),
            ),
            Give(K.PRICE_DISCOUNT, "1000.00", "Setup fee waived", got="Annual prepayment", step=1),
            Give(K.FREE_PRODUCT, "1800.00", "Extra storefront at no charge"),
            Give(K.FREE_SERVICE, "1400.00", "Free data migration"),
        ),
    ),
    # Planned, walked away at the floor, and the customer came back ------------------------------
    DemoDeal(
        owner="rep",
        title="Finishing line upgrade for Alder Books",
        customer="Alder Books",
        currency="EUR",
        opening_price="52000.00",
        floor="45000.00",
        story=(
            Plan(
                target="49000.00",
                best_alternative="Sell the line to the Leipzig bindery next quarter",
                steps=(
                    (K.PRICE_DISCOUNT, "4000.00", "8% discount", "Order for both sites"),
                    (K.FREE_SERVICE, "3000.00", "Free installation", "Signature by Friday"),
                ),
            ),
            Give(K.PRICE_DISCOUNT, "4000.00", "8% discount", got="Order for both sites", step=1),
            Give(K.FREE_SERVICE, "3000.00", "Free installation", got="Signature by Friday", step=2),
            WalkAway(reason="They asked for another 5% at our floor."),
            ComeBack(),
        ),
    ),
    # Open, on track ---------------------------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Label printer fleet for Harbor Foods",
        customer="Harbor Foods",
        currency="USD",
        opening_price="36000.00",
        floor="30000.00",
        cost="24000.00",
        story=(
            Give(
                K.FREE_SERVICE,
                "900.00",
                "Free delivery and installation of 12 printers",
                got="Three-year service contract",
            ),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Carton line upgrade for Greenleaf Organics",
        customer="Greenleaf Organics",
        currency="EUR",
        opening_price="85000.00",
        floor="72000.00",
        cost="61000.00",
        story=(
            Give(
                K.PRICE_DISCOUNT,
                "4250.00",
                "5% volume discount",
                got="Order raised from 40,000 to 60,000 cartons",
            ),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Brochure reprint for Maple & Vine",
        customer="Maple & Vine Wines",
        currency="USD",
        opening_price="9500.00",
        floor="8000.00",
    ),
    # Open, caution ----------------------------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Web-to-print portal for Brightside Stationers",
        customer="Brightside Stationers",
        currency="GBP",
        opening_price="24000.00",
        floor="20000.00",
        cost="14500.00",
        story=(
            Give(
                K.FREE_SERVICE,
                "1200.00",
                "Free set-up of 200 product templates",
                got="Case study and logo on our website",
            ),
            Give(K.PAYMENT_TERMS, "400.00", "Net-60 payment terms"),
            Give(K.FREE_SERVICE, "600.00", "Two free training sessions for their staff"),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Flexo press service plan for Northwind Packaging",
        customer="Northwind Packaging",
        currency="USD",
        opening_price="18000.00",
        floor="15000.00",
        story=(
            Give(
                K.PRICE_DISCOUNT,
                "1500.00",
                "Discount to match last year's rate",
                got="Two-year term instead of one",
            ),
            Give(K.CONTRACT_TERMS, "300.00", "Warranty extended to 24 months"),
        ),
    ),
    # Open, danger -----------------------------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="ERP roll-out for Inkwell Print",
        customer="Inkwell Print Ltd",
        currency="USD",
        opening_price="48000.00",
        floor="40000.00",
        cost="31000.00",
        story=(
            Give(
                K.PRICE_DISCOUNT,
                "4800.00",
                "10% licence discount",
                got="Three-year licence instead of one",
            ),
            Give(K.PAYMENT_TERMS, "600.00", "Net-90 payment terms", got="Signature by the 30th"),
            Give(K.FREE_SERVICE, "1500.00", "5 free onboarding days"),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Folding-carton run for Copperpot Coffee",
        customer="Copperpot Coffee Roasters",
        currency="EUR",
        opening_price="42000.00",
        floor="36000.00",
        cost="29000.00",
        story=(
            Give(
                K.FREE_PRODUCT, "2500.00", "Cutting dies at no charge", got="12-month exclusivity"
            ),
            Give(
                K.PRICE_DISCOUNT,
                "1680.00",
                "4% price discount",
                got="Artwork delivered two weeks early",
            ),
            Give(K.FREE_SERVICE, "800.00", "Free rush delivery for the launch"),
        ),
    ),
    # Open, at the floor, with a rejected request to go further -------------------------------
    DemoDeal(
        owner="rep",
        title="Catalogue print for Atlas Outdoor",
        customer="Atlas Outdoor Gear",
        currency="USD",
        opening_price="60000.00",
        floor="52000.00",
        cost="41000.00",
        story=(
            Give(
                K.PRICE_DISCOUNT,
                "6000.00",
                "10% discount",
                got="Spring and autumn catalogues in one order",
            ),
            Give(K.FREE_PRODUCT, "1200.00", "Paper upgraded to 130gsm at no charge"),
            Give(K.FREE_SERVICE, "800.00", "Free hard-copy proofs"),
            Ask(
                K.FREE_SERVICE,
                "500.00",
                "Free storage of the print run for 3 months",
                note="They say the other printer offers storage.",
            ),
            Reject("Hold at the floor; nobody else can print this run in six weeks."),
        ),
    ),
    # Open, below the floor through an approved exception -------------------------------------
    DemoDeal(
        owner="rep",
        title="Packaging redesign for Bluebird Bakery",
        customer="Bluebird Bakery",
        currency="GBP",
        opening_price="30000.00",
        floor="26000.00",
        cost="19000.00",
        story=(
            Give(
                K.FREE_SERVICE,
                "2500.00",
                "Structural design at no charge",
                got="Three-year supply agreement",
            ),
            Give(K.PAYMENT_TERMS, "1000.00", "Net-60 payment terms"),
            Ask(
                K.PRICE_DISCOUNT,
                "1500.00",
                "A further 5% discount",
                got="Reference visits for two prospects",
                note="Competing quote from a local printer.",
            ),
            Approve("Worth it for the three-year agreement. No more concessions on this one."),
        ),
    ),
    # Open, danger, waiting for a manager's decision -------------------------------------------
    DemoDeal(
        owner="rep2",
        title="Shrink-sleeve labels for Summit Beverages",
        customer="Summit Beverages",
        currency="USD",
        opening_price="55000.00",
        floor="48000.00",
        cost="37000.00",
        story=(
            Give(K.PRICE_DISCOUNT, "3300.00", "6% price discount", got="Commitment to four SKUs"),
            Give(
                K.FREE_SERVICE,
                "900.00",
                "Free colour matching on site",
                got="Signed this week",
                by="manager",
            ),
            Give(K.PAYMENT_TERMS, "1400.00", "Net-60 payment terms"),
            Ask(
                K.FREE_PRODUCT,
                "2000.00",
                "Free plate changes for a year",
                got="Named as preferred supplier",
                note="They will sign today if we include plate changes.",
            ),
        ),
    ),
    # Open, with a retracted concession --------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Annual report print for Crescent Bank",
        customer="Crescent Bank",
        currency="USD",
        opening_price="28000.00",
        floor="24000.00",
        cost="19500.00",
        story=(
            Give(
                K.FREE_PRODUCT,
                "700.00",
                "Spot UV on the cover at no charge",
                got="Signed proof by Friday",
            ),
            Give(K.FREE_SERVICE, "450.00", "Free shipping to three offices"),
            Retract(1, "The customer collects from our dock; there is no shipping to give."),
            Give(K.PRICE_DISCOUNT, "1400.00", "5% discount", got="Two-year print contract"),
        ),
    ),
    # Open, floor lowered by the manager after concessions -------------------------------------
    DemoDeal(
        owner="rep2",
        title="Corrugated boxes for Parcelpoint",
        customer="Parcelpoint Logistics",
        currency="USD",
        opening_price="120000.00",
        floor="100000.00",
        cost="82000.00",
        story=(
            Give(
                K.FREE_SERVICE,
                "6000.00",
                "Free warehousing for three months",
                got="Twelve-month volume commitment",
            ),
            Give(K.PRICE_DISCOUNT, "8400.00", "7% price discount"),
            Give(
                K.FREE_SERVICE,
                "2100.00",
                "Pallet labelling at no charge",
                got="Weekly call-offs instead of daily",
            ),
            MoveFloor(
                "94000.00", "Board prices fell this quarter; our cost to deliver is 6,000 lower."
            ),
        ),
    ),
    # Won --------------------------------------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Point-of-sale displays for Fernhill Garden Centres",
        customer="Fernhill Garden Centres",
        currency="USD",
        opening_price="26000.00",
        floor="21000.00",
        cost="16500.00",
        story=(
            Give(K.PRICE_DISCOUNT, "1300.00", "5% discount", got="Order for 40 stores, not 25"),
            Give(K.FREE_SERVICE, "800.00", "Free installation", got="Case study for our website"),
            Win(),
        ),
    ),
    DemoDeal(
        owner="rep",
        title="Menu printing for Oakbarrel Restaurants",
        customer="Oakbarrel Restaurants",
        currency="GBP",
        opening_price="8400.00",
        floor="7000.00",
        cost="5200.00",
        story=(
            Give(K.FREE_PRODUCT, "300.00", "Lamination at no charge", got="Two-year contract"),
            Win(),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Trade-show graphics for Vertex Events",
        customer="Vertex Events GmbH",
        currency="EUR",
        opening_price="15000.00",
        floor="12000.00",
        cost="10500.00",
        story=(
            Give(K.PRICE_DISCOUNT, "1500.00", "10% discount", got="Three shows instead of two"),
            Give(K.FREE_SERVICE, "1000.00", "Free on-site set-up crew"),
            Win(),
        ),
    ),
    # Lost, for different reasons --------------------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Mailer campaign for Pinecrest Dental",
        customer="Pinecrest Dental",
        currency="USD",
        opening_price="12000.00",
        floor="10500.00",
        story=(
            Give(K.FREE_PRODUCT, "400.00", "Envelope printing at no charge"),
            Lose("price", "They went with a cheaper online printer."),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Packaging line for Riverbend Cosmetics",
        customer="Riverbend Cosmetics",
        currency="EUR",
        opening_price="64000.00",
        floor="55000.00",
        story=(
            Give(K.PRICE_DISCOUNT, "3840.00", "6% discount", got="Pilot run of 5,000 units"),
            Lose("competitor", "The incumbent matched our price and added free storage."),
        ),
    ),
    DemoDeal(
        owner="rep2",
        title="Signage refresh for Lakeside Clinics",
        customer="Lakeside Clinics",
        currency="GBP",
        opening_price="19000.00",
        floor="16000.00",
        story=(Lose("no_decision", "The board never approved the budget."),),
    ),
    DemoDeal(
        owner="rep",
        title="Seasonal gift boxes for Willow & Hart",
        customer="Willow & Hart",
        currency="USD",
        opening_price="22000.00",
        floor="18500.00",
        story=(
            Give(K.FREE_PRODUCT, "900.00", "Foil stamping at no charge"),
            Lose("timing", "The budget moved to next year."),
        ),
    ),
    # Walked away ------------------------------------------------------------------------------
    DemoDeal(
        owner="rep2",
        title="Direct-mail pack for Quickfit Gyms",
        customer="Quickfit Gyms",
        currency="USD",
        opening_price="30000.00",
        floor="26000.00",
        story=(
            Give(K.PRICE_DISCOUNT, "2400.00", "8% discount"),
            Give(K.FREE_SERVICE, "800.00", "Free address-data cleansing"),
            WalkAway("They wanted Net-120 and another 10% off; that is well below our floor."),
        ),
    ),
    DemoDeal(
        owner="rep",
        title="Label reprint for Hilltop Brewery",
        customer="Hilltop Brewery",
        currency="GBP",
        opening_price="11000.00",
        floor="9500.00",
        story=(
            Give(K.FREE_SERVICE, "500.00", "Free design changes", got="Logo on our website"),
            WalkAway("They asked for a year of free storage on top."),
        ),
    ),
    # Walked away, came back, won on our terms -------------------------------------------------
    DemoDeal(
        owner="rep",
        title="Box supply for Cobalt Electronics",
        customer="Cobalt Electronics",
        currency="USD",
        opening_price="75000.00",
        floor="64000.00",
        cost="52000.00",
        story=(
            Give(K.PRICE_DISCOUNT, "3750.00", "5% discount", got="Two-year supply agreement"),
            Give(K.PAYMENT_TERMS, "1250.00", "Net-60 payment terms"),
            WalkAway("They demanded a further 10% to match an overseas quote."),
            ComeBack(),
            Win(),
        ),
    ),
)


class Command(BaseCommand):
    help = (
        f"Create the demo team ({TEAM_NAME}) with a manager, two reps, a staff admin and about "
        "twenty deals in every state. Refuses when DEBUG is off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even when DEBUG is off (the demo logins share a published password).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing, quietly, when any deal exists (used by `make run`).",
        )

    def handle(self, *args, force=False, if_empty=False, **options):
        if if_empty and Deal.objects.exists():
            return
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates logins with the password 'walkaway', so it only runs with "
                "DEBUG on. Use --force to seed anyway."
            )
        if Deal.objects.filter(team__name=TEAM_NAME).exists():
            self.stdout.write(f"The demo team {TEAM_NAME!r} already has deals; nothing to do.")
            return
        # Alerts mail managers after each commit; a demo seed should not print ~20 emails.
        quiet_mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
        with quiet_mail, transaction.atomic():
            users, existing = self._people()
            team = self._team(users)
            now = timezone.now()
            for index, spec in enumerate(DEALS):
                deal = self._deal(spec, team, users)
                days_ago = SPAN_DAYS - index * (SPAN_DAYS - 3) // max(len(DEALS) - 1, 1)
                _backdate(deal, now - timedelta(days=days_ago), now)
        self._report(existing)

    def _people(self):
        User = get_user_model()
        users, existing = {}, []
        for username, (first, last, role) in PEOPLE.items():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                    is_staff=role is None,
                    is_superuser=role is None,
                )
                user.set_password(PASSWORD)
                user.save()
            else:
                # Never reset the password of an account that already exists.
                existing.append(username)
            users[username] = user
        return users, existing

    def _team(self, users) -> Team:
        team, _ = Team.objects.get_or_create(name=TEAM_NAME)
        for username, (_first, _last, role) in PEOPLE.items():
            if role is not None:
                Membership.objects.update_or_create(
                    user=users[username], team=team, defaults={"role": role}
                )
        return team

    def _deal(self, spec: DemoDeal, team: Team, users) -> Deal:
        owner = users[spec.owner]
        manager = users["manager"]
        try:
            deal = services.deal_create(
                user=owner,
                team=team,
                title=spec.title,
                customer=spec.customer,
                currency=spec.currency,
                opening_price=spec.opening_price,
                floor=spec.floor,
                cost=spec.cost,
            )
            gives: list[Concession] = []
            request: ExceptionRequest | None = None
            for step in spec.story:
                match step:
                    case Plan():
                        services.plan_save(
                            deal=deal,
                            user=owner,
                            target_price=step.target,
                            best_alternative=step.best_alternative,
                            steps=[services.StepInput(*planned) for planned in step.steps],
                            things_to_ask=step.asks,
                        )
                    case Give():
                        result = services.concession_log(
                            deal=deal,
                            user=users[step.by] if step.by else owner,
                            kind=step.kind,
                            amount=step.amount,
                            description=step.gave,
                            got_in_return=step.got,
                            plan_step=(
                                None
                                if step.step is None
                                else deal.plan_steps.get(position=step.step).pk
                            ),
                        )
                        gives.append(result.concession)
                    case Retract():
                        services.concession_retract(
                            concession=gives[step.give], user=owner, reason=step.reason
                        )
                    case Ask():
                        request = services.exception_request(
                            deal=deal,
                            user=owner,
                            kind=step.kind,
                            amount=step.amount,
                            description=step.gave,
                            got_in_return=step.got,
                            note=step.note,
                        )
                    case Approve():
                        services.exception_approve(
                            exception_request=request, user=manager, comment=step.comment
                        )
                    case Reject():
                        services.exception_reject(
                            exception_request=request, user=manager, comment=step.comment
                        )
                    case MoveFloor():
                        services.floor_change(
                            deal=deal, user=manager, new_floor=step.new_floor, reason=step.reason
                        )
                    case Win():
                        services.deal_win(deal=deal, user=owner, final_price=step.final_price)
                    case Lose():
                        services.deal_lose(
                            deal=deal, user=owner, reason=step.reason, note=step.note
                        )
                    case WalkAway():
                        services.deal_walk_away(deal=deal, user=owner, reason=step.reason)
                    case ComeBack():
                        services.deal_come_back(deal=deal, user=owner)
                    case _:
                        raise TypeError(f"Unknown demo step {step!r}")
        except services.DomainError as e:
            # The demo data is fixed, so a refusal here means a service rule changed under it.
            raise CommandError(f"Seeding stopped at {spec.title!r}: {e.message}") from e
        return deal

    def _report(self, existing: list[str]) -> None:
        deals = Deal.objects.filter(team__name=TEAM_NAME)
        self.stdout.write(
            self.style.SUCCESS(f"Created {deals.count()} demo deals in {TEAM_NAME!r}.")
        )
        for status in Deal.Status:
            count = deals.filter(status=status).count()
            if count:
                self.stdout.write(f"  {status.label}: {count}")
        self.stdout.write("")
        self.stdout.write("Log in with:")
        for username, (_first, _last, role) in PEOPLE.items():
            what = role.label.lower() if role is not None else "staff, for /admin/"
            if username in existing:
                self.stdout.write(f"  {username:<8} ({what}; existed already, password unchanged)")
            else:
                self.stdout.write(f"  {username:<8} ({what})")
        self.stdout.write(f"Password: {PASSWORD}")


def _backdate(deal: Deal, start, now) -> None:
    """Move a deal's story, made a moment ago through the services, to start at `start` and
    unfold over up to STORY_DAYS days (never past `now`), keeping the order of everything in
    it. Only timestamps move; the deal's row moves its version, as every write to it must."""
    events = list(DealEvent.objects.filter(deal=deal).order_by("created_at", "id"))
    span = min(timedelta(days=STORY_DAYS), (now - start) - timedelta(hours=1))
    step = span / max(len(events), 1)
    moved = {}
    for position, event in enumerate(events):
        moved[event.pk] = start + step * position
        DealEvent.objects.filter(pk=event.pk).update(created_at=moved[event.pk])
        if event.concession_id:
            Concession.objects.filter(pk=event.concession_id).update(created_at=moved[event.pk])
        Notification.objects.filter(event_id=event.pk).update(created_at=moved[event.pk])
    for request in ExceptionRequest.objects.filter(deal=deal):
        times = [moved[e.pk] for e in events if e.exception_request_id == request.pk]
        if times:
            ExceptionRequest.objects.filter(pk=request.pk).update(created_at=times[0])
            if request.decided_at is not None:
                ExceptionRequest.objects.filter(pk=request.pk).update(decided_at=times[-1])
    floors = [moved[e.pk] for e in events if e.kind == DealEvent.Kind.FLOOR_CHANGED]
    for change, when in zip(
        FloorChange.objects.filter(deal=deal).order_by("id"), floors, strict=False
    ):
        FloorChange.objects.filter(pk=change.pk).update(created_at=when)
    last = moved[events[-1].pk] if events else start
    walked = [moved[e.pk] for e in events if e.kind == DealEvent.Kind.WALKED_AWAY]
    deal.refresh_from_db()
    Deal.objects.filter(pk=deal.pk).update(
        created_at=start,
        updated_at=last,
        closed_at=last if deal.closed_at else None,
        walked_away_at=walked[-1] if walked else deal.walked_away_at,
        version=F("version") + 1,
    )
