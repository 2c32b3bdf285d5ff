"""Seed a benchmark database: teams, reps and managers, deals in every level and status, their
concessions (retractions and approved exceptions included), exception requests, events and
notifications.

Rows go in through PostgreSQL's COPY, a chunk of deals per transaction: one save() per row would
take hours for a million concessions. The generator keeps the domain's rules, because a benchmark
on data the app could never produce measures nothing:
- conceded is the sum of the deal's ledger and level is erosion.level of it; peak_level is the
  level of the highest running total;
- no give crosses the floor except the last one of a deal below its floor, which is linked to
  an approved exception request;
- a retraction undoes exactly one earlier give, once;
- every change has its event, in order; level changes to Danger or At your floor notify the
  team's managers as deals/alerts.py would;
- a deal's version, when the table has that column, is one more for every event after its
  creation (every write to a deal moves it once).

Beside the teams: a director who manages every team, and a staff user in none. The first team
gets `cold_deals` deals with 20 to 500 concessions, for its manager to open in turn.

Every user's password is PASSWORD, hashed once. Run on a fresh database (bench/run.py creates
one): usernames and team names are fixed, so a second run on the same database collides.

    DATABASE_URL=postgres://... python -m bench.seed --deals 100000 --concessions 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

# Public on purpose: only benchmark databases have these users.
PASSWORD = "walkaway-bench"  # noqa: S105
DAY = 86_400.0

ON_TRACK, CAUTION, DANGER, AT_FLOOR, BELOW_FLOOR = (
    "on_track",
    "caution",
    "danger",
    "at_floor",
    "below_floor",
)
RANK = {ON_TRACK: 0, CAUTION: 1, DANGER: 2, AT_FLOOR: 3, BELOW_FLOOR: 4}
LABEL = {
    ON_TRACK: "On track",
    CAUTION: "Caution",
    DANGER: "Danger",
    AT_FLOOR: "At your floor",
    BELOW_FLOOR: "Below floor",
}
SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£"}

KINDS = (
    (
        "price_discount",
        "Price discount",
        ("5% off the list price", "Rounded the total down", "Volume discount", "Launch price"),
    ),
    ("free_product", "Free product", ("Two extra licences", "A spare unit", "The add-on module")),
    (
        "free_service",
        "Free service",
        ("Two free training days", "Free onboarding", "Ten consulting hours"),
    ),
    ("payment_terms", "Payment terms", ("Net 60 instead of net 30", "Quarterly billing")),
    ("contract_terms", "Contract terms", ("Extended warranty", "Stronger SLA", "Easier exit")),
    ("other", "Other", ("Shipping on us", "Custom branding")),
)
GETS = (
    "A two-year contract",
    "Signature by Friday",
    "A bigger first order",
    "A reference call",
    "A case study",
    "Annual prepayment",
)
PRODUCTS = ("Print run", "Packaging line", "Label printers", "Annual support", "Fleet renewal")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")
SUFFIXES = ("Ltd", "GmbH", "Inc", "SA", "BV", "AB")
LOST = (
    ("price", "Price"),
    ("competitor", "Competitor"),
    ("no_decision", "No decision"),
    ("timing", "Timing"),
    ("other", "Other"),
)
WALK_REASONS = ("They wanted us below our floor.", "Their last ask would have cost us money.")


@dataclass(frozen=True)
class Scale:
    deals: int = 100_000
    concessions: int = 1_000_000
    teams: int = 20
    reps: int = 200
    # Open, on-track deals of the first rep with exactly these many concessions: the benchmark
    # logs concessions on them and opens their pages.
    probe_sizes: tuple[int, ...] = (0, 1, 10, 100, 500)
    probes_each: int = 4
    # Deals of the first team with between cold_sizes[0] and cold_sizes[1] concessions (its
    # manager opens them in turn): the natural spread leaves a team only about 600 of them.
    cold_deals: int = 1000
    cold_sizes: tuple[int, int] = (20, 500)
    max_per_deal: int = 500
    seed: int = 6
    chunk: int = 2_000


# Formatting -------------------------------------------------------------------------------------


def _dec(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{SYMBOL[currency]}{cents // 100:,}.{cents % 100:02d}"


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _cell(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _row(*values) -> str:
    # COPY's text format: our own strings never hold a tab, a newline or a backslash.
    return "\t".join(map(_cell, values)) + "\n"


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` cents in `parts` positive amounts; mostly shrinking, as good negotiators give."""
    if parts == 0:
        return []
    shrinking = rng.random() < 0.7
    decay = 0.85 if parts <= 12 else 1 - 2 / parts
    weights = [rng.uniform(0.6, 1.4) * (decay**j if shrinking else 1) for j in range(parts)]
    whole = sum(weights)
    amounts = [max(1, int(total * w / whole)) for w in weights]
    biggest = amounts.index(max(amounts))
    amounts[biggest] += total - sum(amounts)
    return amounts


class _Levels:
    """erosion.level on whole cents, with the configured thresholds, exactly."""

    def __init__(self, caution_at, danger_at):
        self.caution = Fraction(str(caution_at))
        self.danger = Fraction(str(danger_at))

    def __call__(self, conceded: int, room: int) -> str:
        if conceded > room:
            return BELOW_FLOOR
        if conceded == room:
            return AT_FLOOR
        scaled = conceded * 100
        if scaled >= self.danger * room:
            return DANGER
        if scaled >= self.caution * room:
            return CAUTION
        return ON_TRACK


# The seeder ------------------------------------------------------------------------------------


class Seeder:
    def __init__(self, scale: Scale, *, progress: bool = True):
        from django.conf import settings

        self.scale = scale
        self.rng = random.Random(scale.seed)  # noqa: S311 - reproducible data, not secrets
        self.level = _Levels(settings.WALKAWAY_CAUTION_AT, settings.WALKAWAY_DANGER_AT)
        self.progress = progress
        self.now = time.time()
        self.buffers: dict[str, list[str]] = {}
        self.counts = {"deals": 0, "concessions": 0, "events": 0, "exception_requests": 0}

    # IDs and buffers --------------------------------------------------------------------------

    def _start_ids(self, cursor) -> None:
        self.next_id = {}
        for name, model in self._models().items():
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608
            self.next_id[name] = cursor.fetchone()[0] + 1

    def _models(self):
        from django.contrib.auth import get_user_model

        from deals.models import (
            Concession,
            Deal,
            DealEvent,
            ExceptionRequest,
            Membership,
            Notification,
            Team,
        )

        return {
            "user": get_user_model(),
            "team": Team,
            "membership": Membership,
            "deal": Deal,
            "exception": ExceptionRequest,
            "concession": Concession,
            "event": DealEvent,
            "notification": Notification,
        }

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _add(self, table: str, line: str) -> None:
        self.buffers.setdefault(table, []).append(line)

    FIELDS = {
        "user": (
            "id password last_login is_superuser username first_name last_name email is_staff "
            "is_active date_joined"
        ),
        "team": "id name created_at",
        "membership": "id role user team",
        "deal": (
            "id team owner title customer currency opening_price floor cost conceded level "
            "peak_level status final_price lost_reason outcome_note came_back walked_away_net "
            "walked_away_at closed_at created_at updated_at"
        ),
        "exception": (
            "id deal requested_by kind amount description got_in_return note conceded_at_request "
            "floor_at_request shortfall form_key status decided_by decided_at comment created_at"
        ),
        "concession": (
            "id deal kind amount description got_in_return created_by created_at form_key "
            "retracts reason exception_request"
        ),
        "event": "id deal kind actor created_at summary data concession exception_request",
        "notification": "id user deal event message created_at read_at",
    }
    # Foreign keys point backwards in this order; the constraints are checked at each commit.
    ORDER = (
        "user",
        "team",
        "membership",
        "deal",
        "exception",
        "concession",
        "event",
        "notification",
    )

    def _has_version(self, cursor) -> bool:
        """Whether deals have a `version` column (the app is gaining one): the COPY of deals
        names it, and fills it, if and only if the table has it."""
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name = 'version'",
            [self._models()["deal"]._meta.db_table],
        )
        return cursor.fetchone() is not None

    def _columns(self, table: str) -> list[str]:
        from django.core.exceptions import FieldDoesNotExist

        model = self._models()[table]
        names = self.FIELDS[table].split()
        if table == "deal" and self.has_version:
            names.append("version")
        columns = []
        for name in names:
            try:
                columns.append(model._meta.get_field(name).column)
            except FieldDoesNotExist:
                columns.append(name)  # a column the model does not know yet (version)
        return columns

    def _flush(self, cursor) -> None:
        from django.db import connection

        models = self._models()
        for table in self.ORDER:
            lines = self.buffers.pop(table, None)
            if not lines:
                continue
            model = models[table]
            columns = ", ".join(map(connection.ops.quote_name, self._columns(table)))
            with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
                copy.write("".join(lines))

    # People --------------------------------------------------------------------------------------

    def _people(self) -> None:
        from django.contrib.auth.hashers import make_password

        s = self.scale
        password = make_password(PASSWORD)  # once: hashing is deliberately slow
        joined = _ts(self.now - 400 * DAY)
        self.team_ids = []
        for t in range(s.teams):
            team_id = self._id("team")
            self.team_ids.append(team_id)
            self._add("team", _row(team_id, f"Bench team {t + 1:02d}", joined))

        def user(username: str, *, staff: bool = False) -> int:
            user_id = self._id("user")
            self._add(
                "user",
                _row(
                    user_id,
                    password,
                    None,
                    False,
                    username,
                    username.capitalize(),
                    "Bench",
                    f"{username}@bench.example",
                    staff,
                    True,
                    joined,
                ),
            )
            return user_id

        def member(user_id: int, team_id: int, role: str) -> None:
            self._add("membership", _row(self._id("membership"), role, user_id, team_id))

        per_team = s.reps // s.teams
        self.rep_ids, self.rep_team = [], []
        for k in range(s.reps):
            team_index = min(k // per_team, s.teams - 1)
            rep_id = user(f"rep{k + 1:03d}")
            member(rep_id, self.team_ids[team_index], "rep")
            self.rep_ids.append(rep_id)
            self.rep_team.append(team_index)
        self.managers = []
        for t, team_id in enumerate(self.team_ids):
            manager_id = user(f"manager{t + 1:02d}")
            member(manager_id, team_id, "manager")
            self.managers.append([manager_id])
        # The director manages every team: the manager's pages over all 100,000 deals.
        director = user("director")
        for t, team_id in enumerate(self.team_ids):
            member(director, team_id, "manager")
            self.managers[t].append(director)
        # Staff, in no team: every page over every deal, as the admins who run the app see it.
        user("staff", staff=True)

    # Concession counts -------------------------------------------------------------------------

    def _team_of(self, index: int) -> int:
        """The team of deal `index`'s owner (deals go to the reps in turn)."""
        s = self.scale
        return min((index % s.reps) // (s.reps // s.teams), s.teams - 1)

    def _counts(self) -> tuple[list[int], dict[int, int], set[int]]:
        """How many ledger entries each deal gets, summing exactly to scale.concessions; the
        probe deals; and the first team's `cold_deals` deals with `cold_sizes` entries."""
        s, rng = self.scale, self.rng
        probes = [size for size in s.probe_sizes for _ in range(s.probes_each)]
        # Probes are the first deals of the first rep (deal index 0, reps, 2 * reps...).
        probe_slots = {i * s.reps: size for i, size in enumerate(probes)}
        if len(probes) > s.deals // s.reps:
            raise ValueError("The first rep has fewer deals than there are probes.")
        budget = s.concessions - sum(probes)
        regular = [i for i in range(s.deals) if i not in probe_slots]
        if budget < 0 or budget > len(regular) * s.max_per_deal:
            raise ValueError("The concessions do not fit the deals.")
        weights = [0.0 if rng.random() < 0.1 else rng.lognormvariate(0, 0.9) for _ in regular]
        whole = sum(weights) or 1.0
        counts = [0] * s.deals
        for i, w in zip(regular, weights, strict=True):
            counts[i] = min(s.max_per_deal, int(budget * w / whole))
        for i, size in probe_slots.items():
            counts[i] = size
        cold = self._cold(counts, regular)
        left = s.concessions - sum(counts)
        open_slots = [
            i for i, w in zip(regular, weights, strict=True) if w > 0 and i not in cold
        ] or regular
        while left > 0:
            i = rng.choice(open_slots)
            if counts[i] < s.max_per_deal:
                counts[i] += 1
                left -= 1
        # The cold deals took more than their share: the other deals give it back.
        takers = [i for i in open_slots if i not in cold and counts[i] > 0]
        while left < 0:
            i = rng.choice(takers)
            if counts[i] > 0:
                counts[i] -= 1
                left += 1
        return counts, probe_slots, cold

    def _cold(self, counts: list[int], regular: list[int]) -> set[int]:
        """Make `cold_deals` of the first team's deals have `cold_sizes` concessions: those that
        have already, and others given a count drawn from how many the other teams' such deals
        have (the same spread, only more of them)."""
        s, rng = self.scale, self.rng
        low, high = s.cold_sizes

        def fits(i: int) -> bool:
            return low <= counts[i] <= high

        first = [i for i in regular if self._team_of(i) == 0]
        cold = [i for i in first if fits(i)][: s.cold_deals]
        short = s.cold_deals - len(cold)
        others = [i for i in first if not fits(i)]
        if short > len(others):
            raise ValueError("The first team has fewer deals than cold_deals.")
        spread = [counts[i] for i in regular if self._team_of(i) != 0 and fits(i)]
        for i in rng.sample(others, short):
            counts[i] = rng.choice(spread) if spread else rng.randint(low, high)
            cold.append(i)
        return set(cold)

    # One deal ----------------------------------------------------------------------------------

    def _event(self, deal_id, kind, actor, at, summary, data, concession=None, request=None) -> int:
        event_id = self._id("event")
        self._add(
            "event",
            _row(
                event_id,
                deal_id,
                kind,
                actor,
                _ts(at),
                summary,
                json.dumps(data),
                concession,
                request,
            ),
        )
        self.counts["events"] += 1
        return event_id

    def _notify(self, users, deal_id, event_id, at, message) -> None:
        read_at = None if at > self.now - 3 * DAY else _ts(at + 3600)
        for user_id in users:
            self._add(
                "notification",
                _row(
                    self._id("notification"), user_id, deal_id, event_id, message, _ts(at), read_at
                ),
            )

    def _deal(self, index: int, n: int, probe: bool, cold: bool = False) -> None:
        rng, s = self.rng, self.scale
        events_before = self.counts["events"]
        rep = index % s.reps
        owner, team_index = self.rep_ids[rep], self.rep_team[rep]
        team_id, managers = self.team_ids[team_index], self.managers[team_index]
        manager = managers[0]
        deal_id = self._id("deal")

        opening = rng.randint(1000 if n > 50 else 50, 5000) * 10_000  # cents: $5,000..$500,000
        floor = opening * rng.randint(70, 92) // 100 // 10_000 * 10_000
        room = opening - floor
        x = rng.random()
        currency = "USD" if x < 0.82 else "EUR" if x < 0.94 else "GBP"
        cost = opening * rng.randint(35, 65) // 100 // 100 * 100 if rng.random() < 0.75 else None
        customer = f"{rng.choice(COMPANIES)} {rng.randrange(1, 10_000)} {rng.choice(SUFFIXES)}"
        title = (
            f"Bench probe {n} #{index // s.reps}"
            if probe
            else f"{rng.choice(PRODUCTS)} for {customer}"
        )

        if probe:
            status = "open"
        else:
            x = rng.random()
            status = (
                "open"
                if x < 0.45
                else "won"
                if x < 0.70
                else "lost"
                if x < 0.83
                else "walked_away"
                if x < 0.93
                else "came_back"
                if x < 0.97
                else "came_back_won"
            )

        # How far into the room the ledger goes.
        below = False
        if n == 0:
            target = 0
        elif probe:
            target = room * rng.randint(10, 30) // 100
        else:
            y = rng.random()
            if y < 0.45:
                target = room * rng.randint(2, 49) // 100
            elif y < 0.70:
                target = room * rng.randint(50, 79) // 100
            elif y < 0.87:
                target = room * rng.randint(80, 99) // 100
            elif y < 0.95:
                target = room
            else:
                target = room * rng.randint(101, 115) // 100
                below = True

        pairs = 0
        if n >= 4 and not probe and rng.random() < 0.15:
            pairs = max(1, n // 25)
        standing = n - 2 * pairs
        if below:
            before = room * rng.randint(85, 100) // 100 if standing > 1 else 0
            gives = [*_split(rng, before, standing - 1), target - before]
        else:
            gives = _split(rng, target, standing)

        # Retracted gives (each followed by its retraction) go into the first half of the ledger.
        inserted: dict[int, list[int]] = {}
        for _ in range(pairs):
            at = rng.randrange(0, max(1, standing // 2))
            # Pairs net to zero, so the running total before them is that of the gives before.
            prefix = sum(gives[:at])
            amount = min(room // 20, room - prefix)
            if amount < 1:
                at, amount = 0, room // 20
            inserted.setdefault(at, []).append(amount)

        entries: list[tuple[int, bool]] = []  # (amount, is a retracted give)
        for j, amount in enumerate(gives):
            for retracted in inserted.get(j, ()):
                entries.append((retracted, True))
            entries.append((amount, False))

        created = self.now - rng.uniform(0, 365 * DAY)
        span = min(self.now - created, rng.uniform(0.5, 60) * DAY)
        stamps = sorted(created + rng.random() * span for _ in range(2 * len(entries) + 1))
        clock = iter(stamps)

        def m(cents: int) -> str:
            return _money(cents, currency)

        self._event(
            deal_id,
            "created",
            owner,
            created,
            f"Deal created: opening price {m(opening)}, walk-away floor {m(floor)}.",
            {"opening_price": _dec(opening), "floor": _dec(floor), "currency": currency},
        )
        conceded, level, peak_level = 0, ON_TRACK, ON_TRACK
        last = created
        gives_without_get = 0

        def move(delta: int, at: float, actor: int) -> None:
            nonlocal conceded, level, peak_level
            conceded += delta
            new = self.level(conceded, room)
            if new != level:
                event = self._event(
                    deal_id,
                    "level_changed",
                    actor,
                    at,
                    f"Level changed from {LABEL[level]} to {LABEL[new]}.",
                    {"from": level, "to": new},
                )
                if new in (DANGER, AT_FLOOR):
                    self._notify(
                        [u for u in managers if u != actor],
                        deal_id,
                        event,
                        at,
                        f"{title} ({customer}) is now at {LABEL[new]}.",
                    )
                level = new
                if RANK[new] > RANK[peak_level]:
                    peak_level = new

        for position, (amount, retracted) in enumerate(entries):
            previous = last
            at = last = next(clock)
            kind, kind_label, descriptions = rng.choice(KINDS)
            description = rng.choice(descriptions)
            got = rng.choice(GETS) if rng.random() < 0.6 else ""
            exception = below and position == len(entries) - 1
            request_id, actor, approved = None, owner, ""
            if exception:
                request_id = self._id("exception")
                shortfall = amount - (room - conceded)
                self._add(
                    "exception",
                    _row(
                        request_id,
                        deal_id,
                        owner,
                        kind,
                        _dec(amount),
                        description,
                        got,
                        "",
                        _dec(conceded),
                        _dec(floor),
                        _dec(shortfall),
                        None,
                        "approved",
                        manager,
                        _ts(at),
                        "Strategic account.",
                        _ts((previous + at) / 2),
                    ),
                )
                self.counts["exception_requests"] += 1
                self._event(
                    deal_id,
                    "exception_requested",
                    owner,
                    (previous + at) / 2,
                    f"Asked for approval of {m(amount)} ({description}), "
                    f"{m(shortfall)} below the walk-away floor.",
                    {"amount": _dec(amount), "shortfall": _dec(shortfall)},
                    request=request_id,
                )
                self._event(
                    deal_id,
                    "exception_approved",
                    manager,
                    at,
                    f"Approved the exception for {m(amount)} ({description}). "
                    "Comment: Strategic account.",
                    {"amount": _dec(amount)},
                    request=request_id,
                )
                actor, approved = manager, " (approved exception)"
            concession_id = self._id("concession")
            self._add(
                "concession",
                _row(
                    concession_id,
                    deal_id,
                    kind,
                    _dec(amount),
                    description,
                    got,
                    owner,
                    _ts(at),
                    None,
                    None,
                    "",
                    request_id,
                ),
            )
            self.counts["concessions"] += 1
            in_return = f" In return: {got}" if got else " Nothing in return."
            self._event(
                deal_id,
                "concession_logged",
                actor,
                at,
                f"{kind_label} of {m(amount)}{approved}: {description}.{in_return}",
                {"amount": _dec(amount), "kind": kind, "has_get": bool(got)},
                concession=concession_id,
                request=request_id,
            )
            move(amount, at, actor)
            if retracted:
                at = last = next(clock)
                retraction_id = self._id("concession")
                reason = "Logged on the wrong deal."
                self._add(
                    "concession",
                    _row(
                        retraction_id,
                        deal_id,
                        kind,
                        _dec(-amount),
                        description,
                        "",
                        owner,
                        _ts(at),
                        None,
                        concession_id,
                        reason,
                        None,
                    ),
                )
                self.counts["concessions"] += 1
                self._event(
                    deal_id,
                    "concession_retracted",
                    owner,
                    at,
                    f"Retracted {kind_label.lower()} of {m(amount)} ({description}). "
                    f"Reason: {reason}",
                    {"amount": _dec(-amount), "retracts": concession_id},
                    concession=retraction_id,
                )
                move(-amount, at, owner)
            elif not got:
                gives_without_get += 1

        # A pending or rejected request for more than the room left (the approvals page).
        is_open = status in ("open", "came_back")
        if n and not probe and level in (CAUTION, DANGER, AT_FLOOR) and rng.random() < 0.2:
            pending = is_open and rng.random() < 0.75
            last = at = max(last, min(last + rng.uniform(600, 3 * DAY), self.now - 60))
            kind, _, descriptions = rng.choice(KINDS)
            description = rng.choice(descriptions)
            shortfall = rng.randint(1, 50) * 10_000
            amount = room - conceded + shortfall
            request_id = self._id("exception")
            self.counts["exception_requests"] += 1
            decided_at = (
                None if pending else max(at, min(at + rng.uniform(600, DAY), self.now - 30))
            )
            self._add(
                "exception",
                _row(
                    request_id,
                    deal_id,
                    owner,
                    kind,
                    _dec(amount),
                    description,
                    "",
                    "They will not sign otherwise.",
                    _dec(conceded),
                    _dec(floor),
                    _dec(shortfall),
                    None,
                    "pending" if pending else "rejected",
                    None if pending else manager,
                    None if decided_at is None else _ts(decided_at),
                    "" if pending else "Walk away instead.",
                    _ts(at),
                ),
            )
            event = self._event(
                deal_id,
                "exception_requested",
                owner,
                at,
                f"Asked for approval of {m(amount)} ({description}), "
                f"{m(shortfall)} below the walk-away floor. Note: They will not sign otherwise.",
                {"amount": _dec(amount), "shortfall": _dec(shortfall)},
                request=request_id,
            )
            self._notify(
                managers,
                deal_id,
                event,
                at,
                f"rep asks for approval on {title} ({customer}).",
            )
            if decided_at is not None:
                last = decided_at
                event = self._event(
                    deal_id,
                    "exception_rejected",
                    manager,
                    decided_at,
                    f"Rejected the exception for {m(amount)} ({description}). "
                    "Comment: Walk away instead.",
                    {"amount": _dec(amount)},
                    request=request_id,
                )
                self._notify(
                    [owner], deal_id, event, decided_at, f"Your request on {title} was rejected."
                )

        net = opening - conceded
        final_price = lost_reason = walked_away_net = walked_away_at = closed_at = None
        outcome_note, came_back = "", False

        def close_time() -> float:
            nonlocal last
            last = max(last, min(last + rng.uniform(3600, 10 * DAY), self.now - 10))
            return last

        if status in ("walked_away", "came_back", "came_back_won"):
            walked = close_time()
            walked_away_net, walked_away_at = net, _ts(walked)
            outcome_note = rng.choice(WALK_REASONS)
            closed_at = walked_away_at
            self._event(
                deal_id,
                "walked_away",
                owner,
                walked,
                f"Walked away at a net of {m(net)}. Reason: {outcome_note}",
                {"net": _dec(net)},
            )
            if status != "walked_away":
                came_back, closed_at = True, None
                self._event(
                    deal_id,
                    "came_back",
                    owner,
                    close_time(),
                    f"Customer came back; we had walked away at {m(net)}.",
                    {"walked_away_net": _dec(net)},
                )
        if status in ("won", "came_back_won"):
            if status == "won" and net > floor and rng.random() < 0.3:
                final = net - (net - floor) * rng.randint(1, 50) // 100
            else:
                final = net
            final_price = final
            at = close_time()
            closed_at = _ts(at)
            on_terms = ""
            if came_back:
                on_terms = (
                    " Won on our terms."
                    if final >= walked_away_net
                    else " Won below the net we walked away at."
                )
            self._event(
                deal_id,
                "won",
                owner,
                at,
                f"Marked won at {m(final)}.{on_terms}",
                {"final_price": _dec(final)},
            )
        elif status == "lost":
            lost_reason, label = rng.choice(LOST)
            at = close_time()
            closed_at = _ts(at)
            self._event(
                deal_id,
                "lost",
                owner,
                at,
                f"Marked lost. Reason: {label}.",
                {"reason": lost_reason},
            )
        final_status = {"came_back": "open", "came_back_won": "won"}.get(status, status)

        self._add(
            "deal",
            _row(
                deal_id,
                team_id,
                owner,
                title,
                customer,
                currency,
                _dec(opening),
                _dec(floor),
                None if cost is None else _dec(cost),
                _dec(conceded),
                level,
                peak_level,
                final_status,
                None if final_price is None else _dec(final_price),
                lost_reason or "",
                outcome_note,
                came_back,
                None if walked_away_net is None else _dec(walked_away_net),
                walked_away_at,
                closed_at,
                _ts(created),
                _ts(last),
                # Every write to a deal moves its version and writes an event: version 1 at
                # creation, one more for each event after it.
                *([self.counts["events"] - events_before] if self.has_version else []),
            ),
        )
        self.counts["deals"] += 1
        if probe:
            self.probes.setdefault(str(n), []).append(deal_id)
        if cold:
            self.cold.append(deal_id)

    # The whole run -----------------------------------------------------------------------------

    def run(self, *, vacuum: bool) -> dict:
        from django.db import connection, transaction

        s = self.scale
        started = time.monotonic()
        self.probes: dict[str, list[int]] = {}
        self.cold: list[int] = []
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # psycopg's own cursor, for COPY
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_ping "
                "(id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())"
            )
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)"
            )
            self._start_ids(cursor)
            self.has_version = self._has_version(cursor)
            with transaction.atomic():
                self._people()
                self._flush(cursor)
            counts, probe_slots, cold = self._counts()
            for first in range(0, s.deals, s.chunk):
                with transaction.atomic():
                    for index in range(first, min(first + s.chunk, s.deals)):
                        self._deal(index, counts[index], index in probe_slots, index in cold)
                    self._flush(cursor)
                self._report(started)
            models = self._models()
            for model in models.values():
                table = model._meta.db_table
                top = f"SELECT MAX(id) FROM {table}"  # noqa: S608 - our own table names
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({top}))", [table])
            meta = {
                "deals": self.counts["deals"],
                "concessions": self.counts["concessions"],
                "events": self.counts["events"],
                "exception_requests": self.counts["exception_requests"],
                "teams": s.teams,
                "reps": s.reps,
                "rep": "rep001",
                "manager": "manager01",
                "director": "director",
                "staff": "staff",
                "managers": [f"manager{t + 1:02d}" for t in range(s.teams)],
                "password": PASSWORD,
                "probes": self.probes,
                # The first team's deals with cold_sizes concessions, for its manager to open.
                "cold_deals": self.cold,
                "cold_sizes": list(s.cold_sizes),
                "version_column": self.has_version,
                "seconds": round(time.monotonic() - started, 1),
            }
            cursor.execute(
                "INSERT INTO bench_meta (key, value) VALUES ('seed', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [json.dumps(meta)],
            )
            if vacuum:
                # Fresh statistics and visibility maps, as a database that has lived would have.
                for model in models.values():
                    cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        if self.progress:
            sys.stderr.write("\n")
        meta["seconds"] = round(time.monotonic() - started, 1)
        return meta

    def _report(self, started: float) -> None:
        if not self.progress:
            return
        done, total = self.counts["deals"], self.scale.deals
        width = 30
        filled = width * done // total
        line = (
            f"\rSeeding [{'#' * filled}{'.' * (width - filled)}] {done:>7,}/{total:,} deals, "
            f"{self.counts['concessions']:>9,} concessions, {self.counts['events']:>9,} events, "
            f"{time.monotonic() - started:4.0f}s"
        )
        if sys.stderr.isatty():
            sys.stderr.write(line)
        elif done == total or done % (self.scale.chunk * 10) == 0:
            sys.stderr.write(line.lstrip("\r") + "\n")
        sys.stderr.flush()


def seed(scale: Scale | None = None, *, progress: bool = True, vacuum: bool = True) -> dict:
    """Seed the default database (Django must be set up). Returns what bench/run.py needs."""
    return Seeder(scale or Scale(), progress=progress).run(vacuum=vacuum)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Scale()
    parser.add_argument("--deals", type=int, default=defaults.deals)
    parser.add_argument("--concessions", type=int, default=defaults.concessions)
    parser.add_argument("--teams", type=int, default=defaults.teams)
    parser.add_argument("--reps", type=int, default=defaults.reps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--probe-sizes",
        default=",".join(map(str, defaults.probe_sizes)),
        help="concession counts of the first rep's probe deals, comma-separated",
    )
    parser.add_argument("--probes-each", type=int, default=defaults.probes_each)
    parser.add_argument(
        "--cold-deals",
        type=int,
        default=defaults.cold_deals,
        help="deals of the first team with --cold-sizes concessions (its manager opens them)",
    )
    parser.add_argument(
        "--cold-sizes",
        default=",".join(map(str, defaults.cold_sizes)),
        help="fewest,most concessions of those deals",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walkaway.settings")
    import django

    django.setup()
    meta = seed(
        Scale(
            deals=args.deals,
            concessions=args.concessions,
            teams=args.teams,
            reps=args.reps,
            seed=args.seed,
            probe_sizes=tuple(int(size) for size in args.probe_sizes.split(",") if size),
            probes_each=args.probes_each,
            cold_deals=args.cold_deals,
            cold_sizes=tuple(int(size) for size in args.cold_sizes.split(",")),
        )
    )
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
