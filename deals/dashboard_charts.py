"""The dashboard's charts (issue 14), drawn on the server as SVG from Decimals, never floats.

Each chart is an `<svg role="img">` whose `<title>` says what it shows; the page puts the same
figures in a table beside it (UI.md). The figures come from a handful of grouped queries over
the period's deals, however many deals, concessions or events there are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Round, TruncMonth, TruncWeek
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .erosion import Level, format_percent
from .models import Concession, ConcessionKind, Deal, DealEvent, DealStatus
from .money import format_money
from .reports import Percent, Period, _between, _percent, final_margin, room_used

WIDTH = Decimal(480)
LABEL_W = Decimal(110)
VALUE_W = Decimal(64)
ROW_H = Decimal(26)
BAR_H = Decimal(16)
COL_TOP = Decimal(16)
COL_BOTTOM = Decimal(34)
COL_HEIGHT = Decimal(200)
LEFT = Decimal(30)
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
# A period longer than this is drawn by month rather than by week.
WEEKLY_UP_TO_DAYS = 200


def _c(value: Decimal) -> str:
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _pct(value: Decimal | None) -> str:
    if value is None:
        return "not enough data"
    return format_percent(value)


@dataclass(frozen=True)
class BarRow:
    label: str
    value: Decimal | None  # a percent; None: not enough data
    text: str  # what the bar's end says, and the table's figure


def hbar_svg(title: str, rows: list[BarRow], *, css: str = "") -> SafeString:
    """Horizontal bars of percents; negative values grow left of a zero line."""
    values = [r.value for r in rows if r.value is not None]
    low = min([ZERO, *values])
    high = max([ZERO, *values, Decimal(1)])
    span = high - low
    plot = WIDTH - LABEL_W - VALUE_W
    zero_x = LABEL_W + plot * (-low) / span
    height = ROW_H * max(len(rows), 1) + Decimal(8)
    parts = [
        format_html(
            '<svg class="chart hbar {}" role="img" viewBox="0 0 {} {}" '
            'preserveAspectRatio="xMinYMin meet">',
            css,
            _c(WIDTH),
            _c(height),
        ),
        format_html("<title>{}</title>", title),
    ]
    for i, row in enumerate(rows):
        y = ROW_H * i + Decimal(4)
        parts.append(
            format_html(
                '<text class="axis-label" x="{}" y="{}" text-anchor="end">{}</text>',
                _c(LABEL_W - 6),
                _c(y + BAR_H - 3),
                row.label[:18],
            )
        )
        if row.value is None:
            parts.append(
                format_html(
                    '<text class="value-label muted" x="{}" y="{}">{}</text>',
                    _c(zero_x + 4),
                    _c(y + BAR_H - 3),
                    row.text,
                )
            )
            continue
        length = plot * abs(row.value) / span
        x = zero_x if row.value >= 0 else zero_x - length
        kind = "positive" if row.value >= 0 else "negative"
        parts.append(
            format_html(
                '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                kind,
                _c(x),
                _c(y),
                _c(max(length, Decimal("0.5"))),
                _c(BAR_H),
            )
        )
        parts.append(
            format_html(
                '<text class="value-label" x="{}" y="{}">{}</text>',
                _c(max(x + length, zero_x) + 4),
                _c(y + BAR_H - 3),
                row.text,
            )
        )
    parts.append(
        format_html(
            '<line class="zero-line" x1="{}" y1="0" x2="{}" y2="{}"></line>',
            _c(zero_x),
            _c(zero_x),
            _c(height),
        )
    )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part escaped above


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass
class Bucket:
    start: dt.date
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.counts.values())


def columns_svg(title: str, buckets: list[Bucket], series: list[Series]) -> SafeString:
    """Stacked columns of counts, one per week (or month), with a legend."""
    n = max(len(buckets), 1)
    top = max([b.total() for b in buckets] + [1])
    plot_w = WIDTH - LEFT - Decimal(4)
    step = plot_w / n
    col_w = step * Decimal("0.7")
    legend_h = Decimal(18)
    height = COL_TOP + COL_HEIGHT + COL_BOTTOM + legend_h
    base = COL_TOP + COL_HEIGHT
    parts = [
        format_html(
            '<svg class="chart columns" role="img" viewBox="0 0 {} {}" '
            'preserveAspectRatio="xMinYMin meet">',
            _c(WIDTH),
            _c(height),
        ),
        format_html("<title>{}</title>", title),
        format_html(
            '<text class="axis-label" x="{}" y="{}" text-anchor="end">{}</text>',
            _c(LEFT - 4),
            _c(COL_TOP + 4),
            top,
        ),
        format_html(
            '<text class="axis-label" x="{}" y="{}" text-anchor="end">0</text>',
            _c(LEFT - 4),
            _c(base),
        ),
        format_html(
            '<line class="zero-line" x1="{}" y1="{}" x2="{}" y2="{}"></line>',
            _c(LEFT),
            _c(base),
            _c(WIDTH),
            _c(base),
        ),
    ]
    every = max(1, (n + 5) // 6)
    for i, bucket in enumerate(buckets):
        x = LEFT + step * i + (step - col_w) / 2
        y = base
        for s in series:
            count = bucket.counts.get(s.key, 0)
            if not count:
                continue
            h = COL_HEIGHT * count / top
            y -= h
            parts.append(
                format_html(
                    '<rect class="bar series-{}" x="{}" y="{}" width="{}" height="{}"></rect>',
                    s.key,
                    _c(x),
                    _c(y),
                    _c(col_w),
                    _c(h),
                )
            )
        if i % every == 0:
            parts.append(
                format_html(
                    '<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _c(x + col_w / 2),
                    _c(base + 14),
                    bucket.label,
                )
            )
    lx = LEFT
    for s in series:
        parts.append(
            format_html(
                '<rect class="bar series-{}" x="{}" y="{}" width="10" height="10"></rect>'
                '<text class="axis-label" x="{}" y="{}">{}</text>',
                s.key,
                _c(lx),
                _c(height - 14),
                _c(lx + 14),
                _c(height - 5),
                s.label,
            )
        )
        lx += Decimal(14) + Decimal(len(s.label)) * Decimal("6.2") + Decimal(12)
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part escaped above


# The figures -----------------------------------------------------------------------------------


@dataclass
class RepChartRow:
    rep_id: int
    username: str
    deals: int
    room_used: Decimal | None
    margin_kept: Decimal | None
    won_with_cost: int
    landing: Decimal | None
    won_with_target: int
    conceded: list[str] = field(default_factory=list)  # money per currency, formatted

    @property
    def conceded_text(self) -> str:
        return "; ".join(self.conceded) or "nothing"


def _cents(name: str):
    return Cast(Round(F(name) * 100), BigIntegerField())


def rep_rows(deals: QuerySet[Deal]) -> list[RepChartRow]:
    """Per rep: money conceded (per currency, exact), average room used, margin kept on won
    deals whose cost is known, and landing against target on won deals with one. Two queries."""
    won = Q(status=DealStatus.WON)
    rows = (
        deals.order_by()
        .values("owner_id", "owner__username")
        .annotate(
            n=Count("pk"),
            room=Avg(room_used()),
            margin=Avg(final_margin(), filter=won & Q(cost__isnull=False)),
            n_cost=Count("pk", filter=won & Q(cost__isnull=False)),
            landing=Avg(
                Percent(F("final_price") - F("target_price"), F("target_price")),
                filter=won & Q(target_price__isnull=False),
            ),
            n_target=Count("pk", filter=won & Q(target_price__isnull=False)),
        )
        .order_by("owner__username")
    )
    money: dict[int, list[str]] = {}
    for row in (
        deals.order_by()
        .values("owner_id", "currency")
        .annotate(cents=Sum(_cents("conceded")))
        .order_by("owner_id", "currency")
    ):
        amount = Decimal(row["cents"] or 0) / 100
        money.setdefault(row["owner_id"], []).append(format_money(amount, row["currency"]))
    return [
        RepChartRow(
            rep_id=row["owner_id"],
            username=row["owner__username"],
            deals=row["n"],
            room_used=_percent(row["room"]),
            margin_kept=_percent(row["margin"]) if row["n_cost"] else None,
            won_with_cost=row["n_cost"],
            landing=_percent(row["landing"]) if row["n_target"] else None,
            won_with_target=row["n_target"],
            conceded=money.get(row["owner_id"], []),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    gives: int
    room: Decimal | None  # room used by this kind, added up over the deals, in percent


def kind_rows(deals: QuerySet[Deal]) -> list[KindRow]:
    """Which kinds of concession cost most: the standing gives of the period's deals, each as a
    share of its deal's room, added up per kind. One query."""
    rows = (
        Concession.objects.filter(
            deal__in=deals.order_by().values("pk"),
            retracts__isnull=True,
            retraction__isnull=True,
        )
        .order_by()
        .values("kind")
        .annotate(
            n=Count("pk"),
            room=Sum(Percent(F("amount"), F("deal__opening_price") - F("deal__floor"))),
        )
    )
    labels = dict(ConcessionKind.choices)
    result = [
        KindRow(
            kind=row["kind"],
            label=labels.get(row["kind"], row["kind"]),
            gives=row["n"],
            room=_percent(row["room"]),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (-(r.room or ZERO), r.label))


LEVEL_SERIES = [
    Series(Level.CAUTION.value, Level.CAUTION.label),
    Series(Level.DANGER.value, Level.DANGER.label),
    Series(Level.AT_FLOOR.value, Level.AT_FLOOR.label),
    Series(Level.BELOW_FLOOR.value, Level.BELOW_FLOOR.label),
]
OUTCOME_SERIES = [
    Series(DealEvent.Kind.WALKED_AWAY.value, "Walked away"),
    Series(DealEvent.Kind.CAME_BACK.value, "Came back"),
]


# Over time, a chart draws at most this many days back from the period's end (three years, by
# month): a period from year 1 to 9999 must not draw, or compute, a column per month.
DRAWN_DAYS = 1096


def _drawn(period: Period) -> Period:
    """The part of the period the over-time charts draw, within the dates there are."""
    start = period.start
    if (period.end - start).days > DRAWN_DAYS:
        start = period.end - dt.timedelta(days=DRAWN_DAYS)
    # Whole weeks and months: begin on a Monday (or the 1st) no earlier than the first date.
    return Period(start=max(start, dt.date.min + dt.timedelta(days=7)), end=period.end)


def _bucket_starts(period: Period, monthly: bool) -> list[dt.date]:
    starts = []
    if monthly:
        day = period.start.replace(day=1)
        while day <= period.end:
            starts.append(day)
            if day.year == dt.MAXYEAR and day.month == 12:
                break
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return starts
    day = period.start - dt.timedelta(days=period.start.weekday())
    while day <= period.end:
        starts.append(day)
        if (dt.date.max - day).days < 7:
            break
        day += dt.timedelta(days=7)
    return starts


def over_time(managed: QuerySet[Deal], period: Period) -> tuple[list[Bucket], list[Bucket], bool]:
    """Per week (per month for a long period): deals entering each level, and walk-aways and
    comebacks, from the events of the managed deals in the period. One grouped query."""
    period = _drawn(period)
    monthly = (period.end - period.start).days > WEEKLY_UP_TO_DAYS
    trunc = TruncMonth if monthly else TruncWeek
    rows = (
        DealEvent.objects.filter(deal__in=managed.order_by().values("pk"))
        .filter(_between("created_at", period.start, period.end))
        .filter(
            kind__in=[
                DealEvent.Kind.LEVEL_CHANGED,
                DealEvent.Kind.WALKED_AWAY,
                DealEvent.Kind.CAME_BACK,
            ]
        )
        .annotate(bucket=trunc("created_at"), to=KeyTextTransform("to", "data"))
        .values("bucket", "kind", "to")
        .annotate(n=Count("pk"))
        .order_by()
    )
    starts = _bucket_starts(period, monthly)
    fmt = "%b %Y" if monthly else "%d %b"
    levels = {s: Bucket(start=s, label=s.strftime(fmt)) for s in starts}
    outcomes = {s: Bucket(start=s, label=s.strftime(fmt)) for s in starts}
    for row in rows:
        start = row["bucket"]
        if isinstance(start, dt.datetime):
            start = start.date()
        if start not in levels:
            continue
        if row["kind"] == DealEvent.Kind.LEVEL_CHANGED:
            counts = levels[start].counts
            key = row["to"] or ""
        else:
            counts = outcomes[start].counts
            key = row["kind"]
        counts[key] = counts.get(key, 0) + row["n"]
    return list(levels.values()), list(outcomes.values()), monthly


@dataclass
class Charts:
    reps: list[RepChartRow]
    kinds: list[KindRow]
    levels: list[Bucket]
    outcomes: list[Bucket]
    monthly: bool
    level_series: list[Series] = field(default_factory=lambda: LEVEL_SERIES)
    outcome_series: list[Series] = field(default_factory=lambda: OUTCOME_SERIES)

    @property
    def bucket_word(self) -> str:
        return "month" if self.monthly else "week"

    @property
    def room_svg(self) -> SafeString:
        return hbar_svg(
            "Room used per rep, on average over their deals in the period, with the money "
            "they conceded",
            [BarRow(r.username, r.room_used, _pct(r.room_used)) for r in self.reps],
        )

    @property
    def margin_svg(self) -> SafeString:
        return hbar_svg(
            "Margin kept per rep on won deals whose cost is known",
            [BarRow(r.username, r.margin_kept, _pct(r.margin_kept)) for r in self.reps],
        )

    @property
    def landing_svg(self) -> SafeString:
        return hbar_svg(
            "Landing against target per rep on won deals with a target",
            [BarRow(r.username, r.landing, _signed(r.landing)) for r in self.reps],
        )

    @property
    def kinds_svg(self) -> SafeString:
        return hbar_svg(
            "Concession kinds by cost: room used by each kind, added up over the deals",
            [BarRow(k.label, k.room, _pct(k.room)) for k in self.kinds],
        )

    @property
    def levels_svg(self) -> SafeString:
        return columns_svg(
            f"Deals entering each level, per {self.bucket_word}", self.levels, self.level_series
        )

    @property
    def outcomes_svg(self) -> SafeString:
        return columns_svg(
            f"Walk-aways and comebacks, per {self.bucket_word}", self.outcomes, self.outcome_series
        )


def _signed(value: Decimal | None) -> str:
    if value is None:
        return "not enough data"
    return ("+" if value > 0 else "") + _pct(value)


def build(managed: QuerySet[Deal], period: Period) -> Charts:
    period_deals = period.deals(managed)
    levels, outcomes, monthly = over_time(managed, period)
    return Charts(
        reps=rep_rows(period_deals),
        kinds=kind_rows(period_deals),
        levels=levels,
        outcomes=outcomes,
        monthly=monthly,
    )
