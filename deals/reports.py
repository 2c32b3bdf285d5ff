"""What the manager's dashboard and exports read: figures over a set of deals.

Pure reads. Every function takes a queryset of deals the caller may see (always built from
Deal.objects.managed_by(access)) and returns plain dataclasses with Decimal values. Every figure
is an aggregate computed by the database: a handful of grouped queries whatever the number of
deals, never a loop over deals in Python. The only arithmetic done here is the ratio of two
counts the database returned (win rate, comeback rate...), with Decimal, so no float appears.

Money figures are never added across currencies (DOMAIN.md, Money). Percentages are exact
Decimals on PostgreSQL; on SQLite, which has no decimal type, the database divides in floating
point (see Percent) and the figures are rounded to hundredths of a percent before anyone sees
them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lead, RowNumber
from django.utils import timezone

from .erosion import HUNDRED, Level
from .models import Concession, Deal, DealStatus, ExceptionRequest, ExceptionStatus, PlanStep

HUNDREDTH = Decimal("0.01")
PERCENT_FIELD = DecimalField(max_digits=24, decimal_places=10)
CLOSED_STATUSES = (DealStatus.WON, DealStatus.LOST, DealStatus.WALKED_AWAY)
# "Won after conceding to danger or beyond" (DOMAIN.md, Outcomes).
DANGER_OR_BEYOND = (Level.DANGER, Level.AT_FLOOR, Level.BELOW_FLOOR)
# A give that still stands: neither a retraction nor a give that was retracted. A retraction
# undoes a mistake (rule 5), so neither entry is a concession the rep really made.
STANDING_GIVE = Q(retracts__isnull=True, retraction__isnull=True)


# Expressions ------------------------------------------------------------------------------------


class Percent(Func):
    """numerator * 100 / denominator, computed by the database.

    PostgreSQL divides numerics exactly (to many more places than anyone is shown). SQLite has
    no decimal type: it would divide two whole amounts as integers (333 * 100 / 1000 = 33), so
    there the numerator is made REAL and the division is floating point. That is the honest
    limit of SQLite; PostgreSQL is production.
    """

    output_field = PERCENT_FIELD

    def __init__(self, numerator, denominator, **extra):
        super().__init__(numerator, denominator, **extra)

    def as_sql(self, compiler, connection, real_numerator=False, **extra_context):
        numerator, denominator = self.get_source_expressions()
        num_sql, num_params = compiler.compile(numerator)
        den_sql, den_params = compiler.compile(denominator)
        if real_numerator:
            num_sql = f"CAST({num_sql} AS REAL)"
        return f"(({num_sql}) * 100 / ({den_sql}))", (*num_params, *den_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, real_numerator=True, **extra_context)


def room_used() -> Percent:
    """Room used (conceded / room), as the database sees it: for sorting and aggregates."""
    return Percent(F("conceded"), F("opening_price") - F("floor"))


def final_margin() -> Percent:
    """(final price - cost) / final price; NULL where cost is unknown. final_price > 0 is a
    database constraint, so the division is safe."""
    return Percent(F("final_price") - F("cost"), F("final_price"))


class Median(Aggregate):
    """The middle value, or the mean of the two middle ones, in exact numerics (PostgreSQL).

    percentile_cont would interpolate in double precision; percentile_disc keeps the column's
    numeric type. Ascending it picks the lower middle value, descending the upper one: their
    mean is the median, with no float on the way.
    """

    function = "PERCENTILE_DISC"
    name = "Median"
    output_field = PERCENT_FIELD
    allow_distinct = False

    def as_sql(self, compiler, connection, **extra_context):
        expression = self.get_source_expressions()[0]  # then filter and ordering
        sql, params = compiler.compile(expression)
        keep, keep_params = "", ()
        if self.filter is not None:  # like any aggregate's FILTER: over the rows it keeps
            keep, keep_params = compiler.compile(self.filter)
            keep = f" FILTER (WHERE {keep})"
        lower, upper = (
            f"PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY {sql} {direction}){keep}"
            for direction in ("ASC", "DESC")
        )
        params = (*params, *keep_params)
        return (
            f"(({lower}) + ({upper})) / 2",
            (*params, *params),
        )


# Filters ----------------------------------------------------------------------------------------


class DateField:
    CREATED = "created"
    ACTIVITY = "activity"


@dataclass(frozen=True)
class DealFilters:
    """The dashboard's deal list filter, also what the CSV exports select.

    status "" means any status; dates are inclusive local days.
    """

    rep_id: int | None = None
    level: str = ""
    status: str = DealStatus.OPEN
    date_field: str = DateField.CREATED
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def day_start(day: dt.date) -> dt.datetime | None:
    """Midnight at the start of `day` in the current time zone, or None when that instant
    cannot be stored: before year 1 or after year 9999 once converted to UTC."""
    try:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        start.astimezone(dt.UTC)
    except OverflowError:
        return None
    return start


def days_before(day: dt.date, days: int) -> dt.date:
    try:
        return day - dt.timedelta(days=days)
    except OverflowError:
        return dt.date.min


def _between(prefix: str, start: dt.date | None, end: dt.date | None) -> Q:
    """Inclusive local days as a half-open range on the raw timestamp, so the
    (team, status, -updated_at) index applies. A bound at the edge of the calendar (a date
    input accepts years 1 to 9999) excludes nothing, so it is left out."""
    q = Q()
    if start is not None and (lower := day_start(start)) is not None:
        q &= Q(**{f"{prefix}__gte": lower})
    if end is not None and end < dt.date.max and (upper := day_start(end + dt.timedelta(days=1))):
        q &= Q(**{f"{prefix}__lt": upper})
    return q


def filter_deals(deals: QuerySet[Deal], filters: DealFilters) -> QuerySet[Deal]:
    if filters.rep_id is not None:
        deals = deals.filter(owner_id=filters.rep_id)
    if filters.level:
        # Today's thresholds, as the deal's own page shows them (with_current_level).
        deals = deals.with_current_level().filter(current_level=filters.level)
    if filters.status:
        deals = deals.filter(status=filters.status)
    column = "updated_at" if filters.date_field == DateField.ACTIVITY else "created_at"
    return deals.filter(_between(column, filters.date_from, filters.date_to))


def deals_by_room_used(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """The deals, most room used first; ties by last activity, newest first."""
    return (
        deals.annotate(room_used=room_used())
        .select_related("owner")
        .order_by(F("room_used").desc(), "-updated_at", "-pk")
    )


# Level counts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCount:
    level: str
    label: str
    count: int


def open_level_counts(deals: QuerySet[Deal]) -> list[LevelCount]:
    """How many open deals sit at each level, every level listed (zeros included): one query."""
    # Grouped, so that each deal's level is worked out once, not once per level.
    rows = (
        deals.open().with_current_level().order_by().values("current_level").annotate(n=Count("pk"))
    )
    counts = {row["current_level"]: row["n"] for row in rows}
    return [
        LevelCount(level=lvl.value, label=lvl.label, count=counts.get(lvl.value, 0))
        for lvl in Level
    ]


# Per rep ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Inclusive local days. The per-rep and walk-away figures cover the deals created in it
    and what became of them, so every figure of a row is about the same deals."""

    start: dt.date
    end: dt.date

    def deals(self, deals: QuerySet[Deal]) -> QuerySet[Deal]:
        return deals.filter(_between("created_at", self.start, self.end))


def _ratio(part: int, whole: int, *, percent: bool) -> Decimal | None:
    """part / whole from two database counts; None when there is nothing to divide by."""
    if not whole:
        return None
    value = Decimal(part) * (HUNDRED if percent else 1) / Decimal(whole)
    return value.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RepFigures:
    rep_id: int
    username: str
    deals: int = 0
    gives: int = 0
    gives_without_gets: int = 0
    closed: int = 0
    won: int = 0
    walk_aways: int = 0
    exceptions_approved: int = 0
    exceptions_rejected: int = 0
    exceptions_pending: int = 0
    # Room used at close, median over the closed deals; None when none closed.
    median_room_used_at_close: Decimal | None = None

    @property
    def concessions_per_deal(self) -> Decimal | None:
        return _ratio(self.gives, self.deals, percent=False)

    @property
    def share_without_gets(self) -> Decimal | None:
        return _ratio(self.gives_without_gets, self.gives, percent=True)

    @property
    def win_rate(self) -> Decimal | None:
        return _ratio(self.won, self.closed, percent=True)

    @property
    def exception_requests(self) -> int:
        return self.exceptions_approved + self.exceptions_rejected + self.exceptions_pending


def _per_deal(entries: QuerySet, count: Func) -> Subquery:
    """`count` over `entries` (filtered on deal=OuterRef("pk")) as a correlated subquery: one
    probe of an index per deal, summed per rep by the outer query. `count` is a plain function
    rather than an aggregate, so the subquery has no GROUP BY and says 0 for no rows."""
    return Subquery(entries.order_by().annotate(n=count).values("n"), output_field=IntegerField())


# Every ledger entry is a give or a retraction, and a retraction undoes exactly one give of its
# own deal, once (DOMAIN.md, rule 5): the gives that stand are the entries less twice the
# retractions. COUNT(*) and COUNT(retracts_id) read the (deal, retracts) index alone.
STANDING_GIVES = Func(
    F("retracts"), template="COUNT(*) - 2 * COUNT(%(expressions)s)", output_field=IntegerField()
)
COUNT_ROWS = Func(template="COUNT(*)", output_field=IntegerField())


def rep_figures(deals: QuerySet[Deal]) -> list[RepFigures]:
    """One row per rep owning any of `deals`, by username. Two grouped queries (three on
    SQLite, which computes the medians apart), whatever the number of deals; the Python below
    only joins their rows, one per rep.

    Each deal's standing gives, and those without a get, are counted in correlated subqueries
    from the concession indexes of deals/migrations/0002 (the second looks each give without a
    get up among the retractions, a probe of the unique retracts index), and summed per rep.
    """
    deals = deals.order_by()
    entries = Concession.objects.filter(deal=OuterRef("pk"))
    closed = Q(status__in=CLOSED_STATUSES)
    figures = {
        "deal_count": Count("pk"),
        "closed": Count("pk", filter=closed),
        "won": Count("pk", filter=Q(status=DealStatus.WON)),
        "walk_aways": Count("pk", filter=Q(walked_away_at__isnull=False)),
        "gives": Coalesce(Sum(_per_deal(entries, STANDING_GIVES)), Value(0)),
        # Likewise: the gives without a get, less the retractions of such gives.
        "without": Coalesce(
            Sum(
                _per_deal(entries.filter(retracts__isnull=True, got_in_return=""), COUNT_ROWS)
                - _per_deal(
                    entries.filter(retracts__isnull=False, retracts__got_in_return=""), COUNT_ROWS
                )
            ),
            Value(0),
        ),
    }
    postgres = connections[deals.db].vendor == "postgresql"
    if postgres:
        figures["median"] = Median(room_used(), filter=closed)
    rows = deals.values("owner_id", "owner__username").annotate(**figures)
    decisions = {
        row["deal__owner_id"]: row
        for row in ExceptionRequest.objects.filter(deal__in=deals)
        .order_by()
        .values("deal__owner_id")
        .annotate(
            **{status: Count("pk", filter=Q(status=status)) for status in ExceptionStatus.values}
        )
    }
    medians = {} if postgres else _median_with_windows(deals.filter(closed))
    figures = []
    for row in rows:
        decided = decisions.get(row["owner_id"], {})
        figures.append(
            RepFigures(
                rep_id=row["owner_id"],
                username=row["owner__username"],
                deals=row["deal_count"],
                gives=row["gives"],
                gives_without_gets=row["without"],
                closed=row["closed"],
                won=row["won"],
                walk_aways=row["walk_aways"],
                exceptions_approved=decided.get(ExceptionStatus.APPROVED, 0),
                exceptions_rejected=decided.get(ExceptionStatus.REJECTED, 0),
                exceptions_pending=decided.get(ExceptionStatus.PENDING, 0),
                median_room_used_at_close=_percent(
                    row["median"] if postgres else medians.get(row["owner_id"])
                ),
            )
        )
    figures.sort(key=lambda f: (f.username.lower(), f.rep_id))
    return figures


@dataclass(frozen=True)
class RepPlanFigures:
    """How a rep plans: share of deals planned, share of gives on plan, landing on target."""

    rep_id: int
    username: str
    deals: int
    planned: int
    gives_in_planned: int
    gives_on_plan: int
    won_with_target: int
    # Average of (final price - target) / target on won deals with a target, as a percent.
    landing_vs_target: Decimal | None

    @property
    def share_planned(self) -> Decimal | None:
        return _ratio(self.planned, self.deals, percent=True)

    @property
    def share_on_plan(self) -> Decimal | None:
        return _ratio(self.gives_on_plan, self.gives_in_planned, percent=True)


def plan_figures(deals: QuerySet[Deal]) -> list[RepPlanFigures]:
    """One row per rep owning any of `deals`, by username, in three queries whatever the
    number of deals: the planned deals first (few, through the plan steps' deal index), then
    the deals per rep, then the standing gives of the planned deals alone."""
    deals = deals.order_by()
    planned = sorted(
        set(PlanStep.objects.filter(deal__in=deals.values("pk")).values_list("deal_id", flat=True))
    )
    won_with_target = Q(status=DealStatus.WON, target_price__isnull=False)
    rows = (
        deals.values("owner_id", "owner__username")
        .annotate(
            n_deals=Count("pk"),
            n_planned=Count("pk", filter=Q(pk__in=planned)),
            n_won_target=Count("pk", filter=won_with_target),
            landing=Avg(
                Percent(F("final_price") - F("target_price"), F("target_price")),
                filter=won_with_target,
            ),
        )
        .order_by("owner__username")
    )
    gives = (
        Concession.objects.filter(deal_id__in=planned)
        .filter(STANDING_GIVE)
        .values("deal__owner_id")
        .annotate(n=Count("pk"), on_plan=Count("pk", filter=Q(plan_step__isnull=False)))
        .order_by()
    )
    by_owner = {row["deal__owner_id"]: row for row in gives} if planned else {}
    return [
        RepPlanFigures(
            rep_id=row["owner_id"],
            username=row["owner__username"],
            deals=row["n_deals"],
            planned=row["n_planned"],
            gives_in_planned=by_owner.get(row["owner_id"], {}).get("n", 0),
            gives_on_plan=by_owner.get(row["owner_id"], {}).get("on_plan", 0),
            won_with_target=row["n_won_target"],
            landing_vs_target=_percent(row["landing"]),
        )
        for row in rows
    ]


def median_room_used_at_close(deals: QuerySet[Deal]) -> dict[int, Decimal]:
    """Median room used of each rep's closed deals, by owner id: one query on either database."""
    closed = deals.filter(status__in=CLOSED_STATUSES).order_by()
    if connections[closed.db].vendor == "postgresql":
        rows = closed.values("owner_id").annotate(median=Median(room_used()))
        return {row["owner_id"]: row["median"] for row in rows}
    return _median_with_windows(closed)


def _median_with_windows(closed: QuerySet[Deal]) -> dict[int, Decimal]:
    """SQLite has no percentile function, so window functions find the middle in the database.

    Each rep's closed deals are numbered in room-used order; the one row kept per rep is the
    lower middle, (n + 1) / 2 in integer division, and LEAD reads the value after it. So the
    database returns one row per rep carrying the one or two middle values and n; Python only
    picks the middle (n odd) or averages the two (n even) on that row: one step per rep, never
    one per deal.
    """
    by_rep = {"partition_by": [F("owner_id")], "order_by": [room_used().asc(), F("pk").asc()]}
    rows = (
        closed.annotate(
            value=room_used(),
            position=Window(RowNumber(), **by_rep),
            next_value=Window(Lead(room_used()), **by_rep),
            size=Window(Count("pk"), partition_by=[F("owner_id")]),
        )
        .filter(position=(F("size") + 1) / 2)
        .values_list("owner_id", "value", "next_value", "size")
    )
    # The odd/even choice is made on the one row per rep the query returned.
    return {
        owner_id: value if size % 2 else (Decimal(value) + Decimal(next_value)) / 2
        for owner_id, value, next_value, size in rows
    }


# Walk-aways and comebacks -----------------------------------------------------------------------


@dataclass(frozen=True)
class WalkAwayFigures:
    """Per currency: margins of deals in different currencies are not averaged together."""

    currency: str
    walked_away: int = 0
    came_back: int = 0
    won_on_our_terms: int = 0
    # Wins with a known cost in each group, and their average final margin (None when empty).
    comeback_wins: int = 0
    comeback_win_margin: Decimal | None = None
    danger_wins: int = 0
    danger_win_margin: Decimal | None = None

    @property
    def comeback_rate(self) -> Decimal | None:
        return _ratio(self.came_back, self.walked_away, percent=True)

    @property
    def on_our_terms_share(self) -> Decimal | None:
        return _ratio(self.won_on_our_terms, self.came_back, percent=True)


def walk_away_figures(deals: QuerySet[Deal]) -> list[WalkAwayFigures]:
    """One row per currency among `deals`, in one grouped query."""
    won = Q(status=DealStatus.WON)
    comeback_win = won & Q(came_back=True, cost__isnull=False)
    danger_win = won & Q(peak_level__in=DANGER_OR_BEYOND, cost__isnull=False)
    rows = (
        deals.order_by()
        .values("currency")
        .annotate(
            n_walked_away=Count("pk", filter=Q(walked_away_at__isnull=False)),
            n_came_back=Count("pk", filter=Q(came_back=True)),
            n_won_on_our_terms=Count(
                "pk",
                filter=won
                & Q(came_back=True, walked_away_net__isnull=False)
                & Q(final_price__gte=F("walked_away_net")),
            ),
            n_comeback_wins=Count("pk", filter=comeback_win),
            comeback_margin=Avg(final_margin(), filter=comeback_win),
            n_danger_wins=Count("pk", filter=danger_win),
            danger_margin=Avg(final_margin(), filter=danger_win),
        )
        .order_by("currency")
    )
    return [
        WalkAwayFigures(
            currency=row["currency"],
            walked_away=row["n_walked_away"],
            came_back=row["n_came_back"],
            won_on_our_terms=row["n_won_on_our_terms"],
            comeback_wins=row["n_comeback_wins"],
            comeback_win_margin=_percent(row["comeback_margin"]),
            danger_wins=row["n_danger_wins"],
            danger_win_margin=_percent(row["danger_margin"]),
        )
        for row in rows
    ]


# Exports ----------------------------------------------------------------------------------------


DEAL_EXPORT_FIELDS = (
    "pk",
    "title",
    "customer",
    "team__name",
    "owner__username",
    "currency",
    "opening_price",
    "floor",
    "cost",
    "conceded",
    "level",
    "peak_level",
    "status",
    "final_price",
    "came_back",
    "walked_away_net",
    "gives_without_gets",
    "created_at",
    "updated_at",
    "closed_at",
)

CONCESSION_EXPORT_FIELDS = (
    "pk",
    "deal_id",
    "deal__title",
    "deal__currency",
    "kind",
    "amount",
    "description",
    "got_in_return",
    "created_by__username",
    "created_at",
    "retracts_id",
    "reason",
    "exception_request_id",
)

EXPORT_CHUNK = 2000


def deal_export_rows(deals: QuerySet[Deal]) -> Iterator[tuple]:
    """One tuple per deal (DEAL_EXPORT_FIELDS), streamed from the database in chunks."""
    standing_without_get = (
        Concession.objects.filter(STANDING_GIVE, deal=OuterRef("pk"), got_in_return="")
        .order_by()
        .values("deal")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        deals.annotate(
            gives_without_gets=Coalesce(
                Subquery(standing_without_get, output_field=IntegerField()), Value(0)
            )
        )
        .order_by("pk")
        .values_list(*DEAL_EXPORT_FIELDS)
        .iterator(chunk_size=EXPORT_CHUNK)
    )


def concession_export_rows(deals: QuerySet[Deal]) -> Iterator[tuple]:
    """Every ledger entry (gives and retractions) of `deals`, deal by deal, oldest first."""
    return (
        Concession.objects.filter(deal__in=deals.order_by().values("pk"))
        .order_by("deal_id", "pk")
        .values_list(*CONCESSION_EXPORT_FIELDS)
        .iterator(chunk_size=EXPORT_CHUNK)
    )
