"""Walkaway's data: teams, deals, the concession ledger and its event log.

Rules that the database can hold are constraints here, so that no code path (the admin, a
shell, a future bulk import) can store a deal the domain forbids. Everything that writes lives
in services.py; nothing here has side effects in save().
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from unicodedata import category

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Func, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL

from .erosion import Assessment, Level, assess

MONEY = {"max_digits": 14, "decimal_places": 2}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


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


# Statements every page runs -------------------------------------------------------------------
#
# The ORM costs ~250-330 us of CPU to build, compile and run even a one-table lookup; the same
# statement through the cursor costs ~60 us. Three statements run on nearly every page (the
# manager subquery of visible_to, the person's memberships, the unread badge): they are written
# here once each, from the models' own table and column names, with every value a parameter.


@cache
def _statement(name: str) -> str:
    quote = connection.ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(model, field: str) -> str:
        return quote(model._meta.get_field(field).column)

    m, n = Membership, Notification
    # Identifiers come from the models and are quoted; every value is a parameter.
    statements = {
        "managed teams": f"SELECT {column(m, 'team')} FROM {table(m)} "  # noqa: S608
        f"WHERE {column(m, 'user')} = %s AND {column(m, 'role')} = %s",
        "member teams": f"SELECT {column(m, 'team')} FROM {table(m)} "  # noqa: S608
        f"WHERE {column(m, 'user')} = %s",
        "memberships": f"SELECT {column(m, 'team')}, {column(m, 'role')} "  # noqa: S608
        f"FROM {table(m)} WHERE {column(m, 'user')} = %s",
        "unread": f"SELECT COUNT(*) FROM {table(n)} "  # noqa: S608
        f"WHERE {column(n, 'user')} = %s AND {column(n, 'read_at')} IS NULL",
    }
    return statements[name]


def _rows(name: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_statement(name), params)
        return cursor.fetchall()


def managed_team_ids(user) -> RawSQL:
    """A subquery of the teams `user` manages (staff are handled by the callers)."""
    return RawSQL(_statement("managed teams"), [user.pk, Role.MANAGER.value])  # noqa: S611


def member_team_ids(user) -> RawSQL:
    """A subquery of the teams `user` belongs to, in any role."""
    return RawSQL(_statement("member teams"), [user.pk])  # noqa: S611


def owned_while_member(user, member_of: Collection[int] | None = None) -> Q:
    """Rule 11: the deals `user` owns in a team they still belong to.

    An owner's rights on a deal (seeing it included) last only as long as their membership of
    the deal's team: removed from the team, they lose the team's deals at once, their own too.
    `member_of`: the teams the caller has already read that `user` belongs to (this request's
    member_teams(user)); without it, the same condition as a subquery.
    """
    if member_of is None:
        return Q(owner=user) & InSubquery("team_id", member_team_ids(user))
    return Q(owner=user, team_id__in=sorted(member_of))


def unread_notifications(user) -> int:
    """How many of `user`'s notifications are unread (the navigation's badge)."""
    return _rows("unread", [user.pk])[0][0]


def manages_any_team(user) -> bool:
    """May open the manager's pages (dashboard, approvals, exports)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_staff_user(user) or bool(teams_managed(user))


def manages_team(user, team_id: int) -> bool:
    """A manager's rights on the team, as pages show them. Services decide with a fresh read
    under their lock (services.is_manager_of); a page asks this, once per request."""
    if not user.is_authenticated or not user.is_active:
        return False
    return is_staff_user(user) or team_id in teams_managed(user)


def member_of_any_team(user) -> bool:
    """Belongs to a team (as a rep or a manager), as pages show it; read once per request."""
    return bool(_memberships(user))


def member_teams(user) -> frozenset[int]:
    """The teams `user` belongs to, in any role, as pages show them (read once per request)."""
    return frozenset(team for team, _ in _memberships(user))


def teams_managed(user) -> frozenset[int]:
    """The teams `user` manages, as pages show them (read once per request, see manages_team)."""
    return frozenset(team for team, role in _memberships(user) if role == Role.MANAGER)


def _memberships(user) -> frozenset[tuple[int, str]]:
    # Read once per user object: the request's user lives as long as the request, and the
    # navigation, the deal pages and the manager's pages all ask.
    memberships = getattr(user, "_walkaway_memberships", None)
    if memberships is None:
        memberships = frozenset(_rows("memberships", [user.pk]))
        user._walkaway_memberships = memberships
    return memberships


class InSubquery(models.Func):
    """`column IN (subquery)`, which PostgreSQL is given as `column = ANY(ARRAY(subquery))`.

    Beside another condition under OR, PostgreSQL can only test `IN (subquery)` row by row, so
    "owner is me OR team is one I manage" read every deal in the table. The ARRAY form is
    computed once before the scan, which lets each side of the OR use its own index. Same
    rows, same single query.
    """

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column: str, subquery):
        if not isinstance(subquery, RawSQL):
            subquery = models.Subquery(subquery)
        super().__init__(models.F(column), subquery)

    def as_sql(self, compiler, connection, template="%s IN %s", **extra_context):
        column, subquery = self.get_source_expressions()
        column_sql, column_params = compiler.compile(column)
        subquery_sql, subquery_params = compiler.compile(subquery)
        return template % (column_sql, subquery_sql), (*column_params, *subquery_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="%s = ANY(ARRAY%s)", **extra_context)


class DealQuerySet(models.QuerySet):
    def visible_to(self, user, *, teams_managed: Collection[int] | None = None) -> DealQuerySet:
        """The only door to deals: owners see theirs (while members of the deal's team, rule
        11), managers their teams', staff everything.

        `teams_managed`: the teams the caller has already read that `user` manages (this
        request's teams_managed(user)). Named in the condition, they let PostgreSQL plan a
        rep's list as one walk down their own index instead of merging two bitmaps.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if is_staff_user(user):
            return self.all()
        if teams_managed is None:
            return self.filter(
                owned_while_member(user) | InSubquery("team_id", managed_team_ids(user))
            )
        # Whoever passes the managed teams has read this request's memberships already.
        owned = owned_while_member(user, member_teams(user))
        if not teams_managed:
            return self.filter(owned)
        return self.filter(owned | Q(team_id__in=sorted(teams_managed)))

    def managed_by(self, user) -> DealQuerySet:
        """Deals on which `user` has a manager's rights (floors, exceptions, dashboard)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if is_staff_user(user):
            return self.all()
        return self.filter(team__in=managed_team_ids(user))

    def open(self) -> DealQuerySet:
        return self.filter(status=Deal.Status.OPEN)

    def with_ledger_counts(self) -> DealQuerySet:
        """Each deal's number of concessions (`concession_count`) and events (`event_count`).

        Read in the same statement as the deal row, so they belong to the same moment as its
        `stamp`: a page drawn from them can later tell, by the stamp alone, that they still hold.
        """
        return self.annotate(
            concession_count=_count_per_deal(Concession),
            event_count=_count_per_deal(DealEvent),
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
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Last activity: bumped by every service that writes an event for the deal.
    updated_at = models.DateTimeField(auto_now=True)
    # Moved by every write to the deal (services._save): what a page shows of a deal belongs
    # to one version, so a version names a drawing of it (and an API client's view of it).
    version = models.PositiveIntegerField(default=1, db_default=1)

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
            # Rule 5: a retraction undoes exactly one give, so the total is never negative.
            models.CheckConstraint(condition=Q(conceded__gte=0), name="deal_conceded_not_negative"),
            # Rule 10: no approval takes the net (opening price - conceded) to zero or below.
            models.CheckConstraint(
                condition=Q(conceded__lt=models.F("opening_price")), name="deal_net_positive"
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

    @property
    def stamp(self) -> str:
        """Changes whenever anything on the deal's page does: every service that writes to the
        deal, its ledger or its history saves `updated_at` under the deal's row lock. Exact to
        the microsecond (no float on the way), for cache keys and "is the page still current"."""
        return change_stamp(self.updated_at)


def change_stamp(moment: datetime) -> str:
    """A deal's `stamp` for its `updated_at`."""
    return str((moment - _EPOCH) // _MICROSECOND)


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


class ExceptionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


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
    CONCESSION_LOGGED = "concession_logged", "Concession logged"
    CONCESSION_RETRACTED = "concession_retracted", "Concession retracted"
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
