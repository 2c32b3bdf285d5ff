"""Walkaway's data: teams, deals, the concession ledger and its event log.

Rules that the database can hold are constraints here, so that no code path (the admin, a
shell, a future bulk import) can store a deal the domain forbids. Everything that writes lives
in services.py; nothing here has side effects in save().
"""

from __future__ import annotations

from decimal import Decimal
from unicodedata import category

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, Func, OuterRef, Q, Subquery, Value, When
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual

from .erosion import Assessment, Level, PlannedStep, PlanProgress, Thresholds, assess

MONEY = {"max_digits": 14, "decimal_places": 2}


def one_line(text: str) -> str:
    """Text shown on one line (a title, a customer, an email subject) as one line: every control
    character, line break and line or paragraph separator becomes a space, and each run of
    spaces one space."""
    folded = "".join(" " if category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(folded.split())


class Role(models.TextChoices):
    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_one_per_team"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.team})"


def is_staff_user(user) -> bool:
    """Staff see and manage every team; a deactivated account keeps the flag but no rights."""
    return bool(user.is_active and (user.is_staff or user.is_superuser))


class DealQuerySet(models.QuerySet):
    def visible_to(self, access) -> DealQuerySet:
        """The only door to deals, for a person's `access` (deals.access.Access): owners see
        their deals in the teams they still belong to, managers every deal of their teams,
        staff everything. A person removed from a team, or deactivated, sees none of it."""
        if not access.signed_in:
            return self.none()
        if access.staff:
            return self.all()
        owned = Q(owner_id=access.user_id, team_id__in=sorted(access.teams))
        if not access.managed:
            return self.filter(owned)
        return self.filter(owned | Q(team_id__in=sorted(access.managed)))

    def managed_by(self, access) -> DealQuerySet:
        """Deals on which `access` has a manager's rights (floors, exceptions, dashboard)."""
        if not access.signed_in:
            return self.none()
        if access.staff:
            return self.all()
        return self.filter(team_id__in=sorted(access.managed))

    def open(self) -> DealQuerySet:
        return self.filter(status=Deal.Status.OPEN)

    def with_current_level(self) -> DealQuerySet:
        """Each deal's level by today's thresholds (`current_level`), for filters and counts.

        The stored `level` is the level the deal's last write left; a change of thresholds
        moves no row. Filtering on this instead means a list filtered on Danger shows exactly
        the deals whose rows say Danger. erosion.level is the same rule in Python; a test holds
        the two to the same answers.
        """
        return self.annotate(current_level=current_level())

    def with_ledger_counts(self) -> DealQuerySet:
        """Each deal's number of concessions (`concession_count`) and events (`event_count`),
        in the same statement as the deal row."""
        return self.annotate(
            concession_count=_count_per_deal(Concession),
            event_count=_count_per_deal(DealEvent),
        )


class Cents(Func):
    """An amount in whole cents. PostgreSQL's numerics are exact as they are; SQLite keeps
    amounts as floating point, so there they are rounded to whole cents first."""

    template = "(%(expressions)s * 100)"
    output_field = models.BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="CAST(ROUND(%(expressions)s * 100) AS INTEGER)"
        )


def current_level() -> Case:
    """erosion.level over the stored figures, as SQL, with the thresholds of this moment.

    Compared in whole numbers (cents, and each threshold scaled to a whole number), so that
    SQLite, which has no decimal type, gets the exact answers PostgreSQL's numerics give.
    """
    thresholds = Thresholds.from_settings()

    def cents(name: str):
        return Cents(F(name))

    conceded = cents("conceded")
    room = cents("opening_price") - cents("floor")

    def at_least(threshold: Decimal):
        # conceded / room >= threshold / 100, as conceded * 100 * scale >= threshold * scale * room
        scale = 10 ** max(0, -threshold.as_tuple().exponent)
        return GreaterThanOrEqual(conceded * (100 * scale), room * int(threshold * scale))

    def when(condition, level: Level) -> When:
        return When(condition, then=Value(level.value))

    return Case(
        when(GreaterThan(conceded, room), Level.BELOW_FLOOR),
        when(Exact(conceded, room), Level.AT_FLOOR),
        when(at_least(thresholds.danger_at), Level.DANGER),
        when(at_least(thresholds.caution_at), Level.CAUTION),
        default=Value(Level.ON_TRACK.value),
        output_field=models.CharField(),
    )


def _count_per_deal(model) -> Subquery:
    # COUNT as a plain function, not an aggregate: no GROUP BY, so one row even for none.
    rows = model.objects.filter(deal=OuterRef("pk")).order_by()
    return Subquery(rows.annotate(n=Func(F("pk"), function="COUNT")).values("n"))


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    WALKED_AWAY = "walked_away", "Walked away"


class LostReason(models.TextChoices):
    PRICE = "price", "Price"
    COMPETITOR = "competitor", "Competitor"
    NO_DECISION = "no_decision", "No decision"
    TIMING = "timing", "Timing"
    OTHER = "other", "Other"


class ConcessionKind(models.TextChoices):
    PRICE_DISCOUNT = "price_discount", "Price discount"
    FREE_PRODUCT = "free_product", "Free product"
    FREE_SERVICE = "free_service", "Free service"
    PAYMENT_TERMS = "payment_terms", "Payment terms"
    CONTRACT_TERMS = "contract_terms", "Contract terms"
    OTHER = "other", "Other"


class Deal(models.Model):
    Status = DealStatus
    LostReason = LostReason

    # No index of their own for team and owner: the indexes in Meta lead with them, and each
    # change to a deal moves updated_at, so every index of the table is written again.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="deals", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_deals",
        db_index=False,
    )
    title = models.CharField(max_length=200)
    customer = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    opening_price = models.DecimalField(**MONEY)
    floor = models.DecimalField("walk-away floor", **MONEY)
    cost = models.DecimalField("cost to deliver", null=True, blank=True, **MONEY)
    # The plan (optional): where we aim to land, what we do if we walk away, what to ask for.
    target_price = models.DecimalField(null=True, blank=True, **MONEY)
    best_alternative = models.TextField(blank=True, db_default="")
    things_to_ask = models.TextField("things to ask for", blank=True, db_default="")
    # Kept under the deal's row lock by services so reads never sum the ledger (rule 7).
    conceded = models.DecimalField(default=Decimal("0.00"), **MONEY)
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.ON_TRACK)
    # The worst level the deal ever reached, for "won after conceding to danger or beyond".
    peak_level = models.CharField(max_length=12, choices=Level.choices, default=Level.ON_TRACK)
    status = models.CharField(max_length=12, choices=DealStatus.choices, default=DealStatus.OPEN)
    final_price = models.DecimalField(null=True, blank=True, **MONEY)
    lost_reason = models.CharField(max_length=12, choices=LostReason.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    came_back = models.BooleanField(default=False)
    walked_away_net = models.DecimalField(null=True, blank=True, **MONEY)
    walked_away_at = models.DateTimeField(null=True, blank=True)
    # The latest comeback: the day the customer came back, what they offered (optional), a note.
    came_back_on = models.DateField(null=True, blank=True)
    comeback_offer = models.DecimalField(null=True, blank=True, **MONEY)
    comeback_note = models.TextField(blank=True, db_default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Last activity: bumped by every service that writes an event for the deal.
    updated_at = models.DateTimeField(auto_now=True)
    # Moved by every write to the deal (services._save): what a page shows of a deal belongs
    # to one version, so a version names a drawing of it (and an API client's view of it).
    version = models.PositiveIntegerField(default=1, db_default=1)
    # Where the deal is kept outside Walkaway (a CRM: "salesforce", "hubspot") and its id there,
    # so that a CRM can push the same deal again (PUT /api/v1/deals/by-ref/...). Both or neither;
    # NULL, not "", for "none": the uniqueness per team applies only where a reference exists.
    external_source = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    external_ref = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001

    objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(opening_price__gt=0), name="deal_opening_positive"),
            models.CheckConstraint(condition=Q(floor__gte=0), name="deal_floor_not_negative"),
            models.CheckConstraint(
                condition=Q(floor__lt=models.F("opening_price")), name="deal_floor_below_opening"
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="deal_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(final_price__isnull=True) | Q(final_price__gt=0),
                name="deal_final_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DealStatus.values), name="deal_status_valid"
            ),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="deal_level_valid"),
            models.CheckConstraint(
                condition=~Q(status="won") | Q(final_price__isnull=False),
                name="deal_won_has_final_price",
            ),
            models.CheckConstraint(
                condition=Q(target_price__isnull=True)
                | (Q(target_price__gt=F("floor")) & Q(target_price__lte=F("opening_price"))),
                name="deal_target_between_floor_and_opening",
            ),
            # Rule 5: a retraction undoes exactly one give, so the total is never negative.
            models.CheckConstraint(condition=Q(conceded__gte=0), name="deal_conceded_not_negative"),
            # Rule 10: no approval takes the net (opening price - conceded) to zero or below.
            models.CheckConstraint(
                condition=Q(conceded__lt=models.F("opening_price")), name="deal_net_positive"
            ),
            models.CheckConstraint(
                condition=Q(external_source__isnull=True, external_ref__isnull=True)
                | Q(external_source__isnull=False, external_ref__isnull=False),
                name="deal_external_ref_whole",
            ),
            models.UniqueConstraint(
                fields=["team", "external_source", "external_ref"],
                condition=Q(external_ref__isnull=False),
                name="deal_external_ref_once_per_team",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "level"], name="deal_owner_level"),
            models.Index(fields=["team", "level"], name="deal_team_level"),
            models.Index(
                fields=["team", "status", "-updated_at"], name="deal_team_status_activity"
            ),
            models.Index(fields=["owner", "-updated_at"], name="deal_owner_activity"),
            # The dashboard's period: the deals of the managed teams created in it.
            models.Index(fields=["team", "created_at"], name="deal_team_created"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.customer})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def net(self) -> Decimal:
        return self.opening_price - self.conceded

    def assessment(self) -> Assessment:
        return assess(opening_price=self.opening_price, floor=self.floor, conceded=self.conceded)


class PlanStepQuerySet(models.QuerySet):
    def with_followed(self) -> PlanStepQuerySet:
        """Each step's `followed`: a give that still stands (neither a retraction nor retracted)
        followed it."""
        standing = Concession.objects.filter(
            plan_step=OuterRef("pk"), retracts__isnull=True, retraction__isnull=True
        )
        return self.annotate(followed=Exists(standing)).order_by("position")

    def as_planned(self) -> list[PlannedStep]:
        """The steps as the plan's pure functions see them (erosion.PlannedStep)."""
        return [step.planned() for step in self]


class PlanStep(models.Model):
    """One planned give of a deal's ladder, with the get to ask for in return."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="plan_steps")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=ConcessionKind.choices)
    amount = models.DecimalField(**MONEY)
    give = models.TextField("what you would give")
    ask = models.TextField("what you ask in return")

    objects = PlanStepQuerySet.as_manager()

    class Meta:
        ordering = ["deal", "position"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "position"], name="plan_step_one_per_position"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_step_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=ConcessionKind.values), name="plan_step_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Step {self.position}: {self.give[:60]}"

    def planned(self) -> PlannedStep:
        """As the plan's pure functions see it (read through with_followed)."""
        return PlannedStep(amount=self.amount, ask=self.ask, followed=self.followed)


class Concession(models.Model):
    Kind = ConcessionKind

    # No index of its own: the (deal, ...) indexes in Meta lead with it.
    deal = models.ForeignKey(
        Deal, on_delete=models.PROTECT, related_name="concessions", db_index=False
    )
    kind = models.CharField(max_length=20, choices=ConcessionKind.choices)
    # Positive for a give; negative for a retraction, which undoes exactly one earlier give.
    amount = models.DecimalField(**MONEY)
    description = models.TextField("what we gave")
    got_in_return = models.TextField("what we got in return", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The one-time key of the form that logged it (rule 8).
    # NULL, not "", for "no key": the uniqueness constraint applies only where a key exists.
    form_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    retracts = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retraction"
    )
    reason = models.TextField(blank=True)
    exception_request = models.OneToOneField(
        "ExceptionRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concession",
    )
    # The planned step this give followed; none for a give off plan (or a deal without one).
    # A followed step stays in the plan (services.plan_save refuses to remove it).
    plan_step = models.ForeignKey(
        PlanStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["deal", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(retracts__isnull=True) & Q(amount__gt=0))
                | (Q(retracts__isnull=False) & Q(amount__lt=0)),
                name="concession_amount_sign",
            ),
            models.UniqueConstraint(
                fields=["deal", "form_key"],
                condition=Q(form_key__isnull=False),
                name="concession_form_key_once_per_deal",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ConcessionKind.values), name="concession_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["deal", "id"], name="concession_deal_order"),
            # The dashboard counts each deal's gives and retractions (index-only), and its gives
            # without a get, from these two.
            models.Index(fields=["deal", "retracts"], name="concession_deal_retracts"),
            models.Index(
                fields=["deal"],
                condition=Q(retracts__isnull=True, got_in_return=""),
                name="concession_deal_no_get",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description[:60]}"

    @property
    def is_retraction(self) -> bool:
        return self.retracts_id is not None

    @property
    def has_get(self) -> bool:
        return bool(self.got_in_return.strip())

    @property
    def is_retracted(self) -> bool:
        """A give that a later entry undid (read with select_related("retraction"))."""
        try:
            return self.retraction is not None
        except Concession.retraction.RelatedObjectDoesNotExist:
            return False


class ExceptionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ExceptionRequestQuerySet(models.QuerySet):
    def managed_by(self, access) -> ExceptionRequestQuerySet:
        """Requests on deals of the teams `access` manages; for staff, every request, without
        a join over every deal in the app."""
        if not access.signed_in:
            return self.none()
        if access.staff:
            return self.all()
        return self.filter(deal__team_id__in=sorted(access.managed))

    def awaiting(self, access) -> ExceptionRequestQuerySet:
        """Pending requests `access` may decide: on the teams they manage, and never their own
        (rule 11: a team's only manager's request waits for staff)."""
        return (
            self.managed_by(access)
            .filter(status=ExceptionStatus.PENDING)
            .exclude(requested_by_id=access.user_id)
        )


class ExceptionRequest(models.Model):
    Status = ExceptionStatus

    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="exception_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ConcessionKind.choices)
    amount = models.DecimalField(**MONEY)
    description = models.TextField()
    got_in_return = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # What the deal looked like when asked, so a decision can tell what changed since.
    conceded_at_request = models.DecimalField(**MONEY)
    floor_at_request = models.DecimalField(**MONEY)
    # The plan against actual when asked (erosion.PlanProgress as strings), for the manager.
    plan_at_request = models.JSONField(null=True, blank=True)
    shortfall = models.DecimalField(**MONEY)
    # NULL, not "", for "no key": the uniqueness constraint applies only where a key exists.
    form_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(
        max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ExceptionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="exception_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="exception_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="pending")
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="exception_decision_has_who_and_when",
            ),
            models.UniqueConstraint(
                fields=["deal", "form_key"],
                condition=Q(form_key__isnull=False),
                name="exception_form_key_once_per_deal",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="exception_pending_age")]

    def __str__(self) -> str:
        return f"Exception for {self.deal} ({self.get_status_display()})"

    @property
    def plan_when_asked(self) -> PlanProgress | None:
        """Plan against actual as it stood when the request was made (None: no plan)."""
        return (
            None if self.plan_at_request is None else PlanProgress.from_data(self.plan_at_request)
        )


class FloorChange(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="floor_changes")
    old_floor = models.DecimalField(**MONEY)
    new_floor = models.DecimalField(**MONEY)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.deal}: {self.old_floor} -> {self.new_floor}"


class EventKind(models.TextChoices):
    CREATED = "created", "Deal created"
    UPDATED = "updated", "Deal updated"
    FLOOR_CHANGED = "floor_changed", "Floor changed"
    PLAN_CHANGED = "plan_changed", "Plan changed"
    CONCESSION_LOGGED = "concession_logged", "Concession logged"
    CONCESSION_RETRACTED = "concession_retracted", "Concession retracted"
    CONCESSION_CORRECTED = "concession_corrected", "Concession corrected"
    LEVEL_CHANGED = "level_changed", "Level changed"
    EXCEPTION_REQUESTED = "exception_requested", "Exception requested"
    EXCEPTION_APPROVED = "exception_approved", "Exception approved"
    EXCEPTION_REJECTED = "exception_rejected", "Exception rejected"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    WALKED_AWAY = "walked_away", "Walked away"
    CAME_BACK = "came_back", "Customer came back"
    REASSIGNED = "reassigned", "Reassigned"


class DealEvent(models.Model):
    Kind = EventKind

    # No index of its own: event_deal_newest leads with it.
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="events", db_index=False)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # A human sentence, written once with the change, so history never re-derives the past.
    summary = models.TextField()
    # Machine-readable details; money as decimal strings, never floats.
    data = models.JSONField(default=dict, blank=True)
    concession = models.ForeignKey(
        Concession, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    exception_request = models.ForeignKey(
        ExceptionRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deal", "-id"], name="event_deal_newest")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.get_kind_display()}"


class EmailFailure(models.Model):
    """An alert email that could not be sent (issue 11): the in-app notification stands, and
    staff see here which deal's mail did not go out, to whom and why."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    subject = models.TextField()
    recipients = models.TextField()
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Deal {self.deal_id}: {self.subject[:60]}"


class Profile(models.Model):
    """What a person chooses for themselves: how money is read and shown to them (locale) and
    the time zone their times are shown in. One per person, made when first needed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # A Babel locale identifier such as en_US or de_DE; empty: the WALKAWAY_LOCALE setting.
    locale = models.CharField(max_length=16, blank=True, db_default="")
    # An IANA time zone such as Europe/Berlin; empty: the TIME_ZONE setting.
    time_zone = models.CharField(max_length=64, blank=True, db_default="")
    # Which alerts the person hears of (issue 14), and whether by email as well as in the app.
    # A person without a profile hears of all of them, by email too (ALERT_DEFAULTS).
    alert_exceptions = models.BooleanField("exception requests", default=True, db_default=True)
    alert_levels = models.BooleanField(
        "deals entering Danger or At your floor", default=True, db_default=True
    )
    alert_outcomes = models.BooleanField("walk-aways and comebacks", default=True, db_default=True)
    alert_decisions = models.BooleanField("decisions on my requests", default=True, db_default=True)
    alert_email = models.BooleanField("also by email", default=True, db_default=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class AlertKind(models.TextChoices):
    """What an alert is about; each is one of Profile's alert_* choices."""

    EXCEPTIONS = "exceptions", "Exception requests"
    LEVELS = "levels", "Deals entering Danger or At your floor"
    OUTCOMES = "outcomes", "Walk-aways and comebacks"
    DECISIONS = "decisions", "Decisions on my requests"


class DealLevelAlerted(models.Model):
    """A deal whose entry into `level` was alerted: each deal alerts once per level (issue 14),
    however often it moves back and forth."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=12, choices=Level.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "level"], name="deal_level_alerted_once")
        ]

    def __str__(self) -> str:
        return f"Deal {self.deal_id}: {self.level}"


class Invitation(models.Model):
    """A manager's invitation to join a team (issue 14): a one-time link, valid for
    settings.WALKAWAY_INVITATION_DAYS. Only a hash of the token is stored."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid")
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.team}"


class TeamChange(models.Model):
    """Who did what to a team's people (issue 14): invitations, role changes, removals."""

    class Kind(models.TextChoices):
        INVITED = "invited", "Invited"
        JOINED = "joined", "Joined"
        ROLE_CHANGED = "role_changed", "Role changed"
        REMOVED = "removed", "Removed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=254)
    summary = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary[:60]


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(DealEvent, null=True, blank=True, on_delete=models.CASCADE)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"To {self.user}: {self.message[:60]}"


# The API's tokens and idempotency keys, and webhooks (deals/integrations.py), are models of this
# app too: imported here so that Django finds them.
from .integrations import (  # noqa: E402, F401
    ApiToken,
    IdempotencyKey,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
