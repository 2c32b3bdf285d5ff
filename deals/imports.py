"""A manager's CSV import of deals: a preview of what would be created, with the errors of each
row, and nothing written until it is confirmed; then every row in one transaction, or none.

The preview is the import itself, run through services.deal_create and rolled back, so it
checks each row by exactly the rules the import will meet (the same team, owners, currencies,
references already taken, a reference twice in the file).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction

from . import services
from .models import Deal, Membership

COLUMNS = (
    "title",
    "customer",
    "currency",
    "opening_price",
    "floor",
    "cost",
    "owner",
    "external_source",
    "external_ref",
)
REQUIRED = ("title", "customer", "currency", "opening_price", "floor")
MAX_ROWS = 1000
MAX_BYTES = 1_000_000


@dataclass
class Row:
    number: int  # the line in the file, the header being line 1
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    deal_id: int | None = None


@dataclass
class Outcome:
    rows: list[Row]
    problem: str = ""  # about the whole file
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)


class _Rollback(Exception):
    pass


def read(text: str) -> Outcome:
    """The file's rows, or what is wrong with the whole file."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        return Outcome([], f"The file is larger than {MAX_BYTES // 1000} kB.")
    if "\x00" in text:
        return Outcome([], "This is not a CSV file.")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if not header:
        return Outcome([], "The file is empty.")
    if missing or unknown:
        said = []
        if missing:
            said.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            said.append(f"unknown columns: {', '.join(unknown)}")
        return Outcome([], f"The header row has {'; '.join(said)}. Columns: {', '.join(COLUMNS)}.")
    reader.fieldnames = header
    rows = []
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                return Outcome([], f"A file may hold at most {MAX_ROWS} deals.")
            values = {name: (record.get(name) or "").strip() for name in COLUMNS}
            if None in record:
                row = Row(reader.line_num, values, ["This row has more cells than the header."])
            else:
                row = Row(reader.line_num, values)
            if any(values.values()) or row.errors:
                rows.append(row)
    except csv.Error as e:
        return Outcome([], f"The file could not be read as CSV: {e}.")
    if not rows:
        return Outcome([], "The file has no deals in it.")
    return Outcome(rows)


def run(text: str, *, user, team, confirm: bool) -> Outcome:
    """Check every row (confirm=False: then roll back), or import them all in one transaction
    (confirm=True: only if no row has an error; otherwise nothing is written)."""
    outcome = read(text)
    if outcome.problem:
        return outcome
    if not services.is_manager_of(user, team.pk):
        raise services.NotAllowed("Only a manager of the team can import its deals.")
    members = {
        m.user.get_username(): m.user
        for m in Membership.objects.filter(team=team).select_related("user")
        if m.user.is_active
    }
    try:
        with transaction.atomic():
            for row in outcome.rows:
                if not row.errors:
                    _create(row, user=user, team=team, members=members)
            if not confirm or not outcome.ok:
                raise _Rollback
            outcome.written = True
    except _Rollback:
        for row in outcome.rows:
            row.deal_id = None
    return outcome


def _create(row: Row, *, user, team, members) -> None:
    v = row.values
    owner = None
    if v["owner"]:
        owner = members.get(v["owner"])
        if owner is None:
            row.errors.append(f"owner: {v['owner']} is not in {team.name}.")
            return
    source, ref = v["external_source"] or None, v["external_ref"] or None
    if (source is None) != (ref is None):
        row.errors.append("external_source and external_ref go together: both or neither.")
        return
    try:
        with transaction.atomic():
            deal: Deal = services.deal_create(
                user=user,
                team=team,
                title=v["title"],
                customer=v["customer"],
                currency=v["currency"],
                opening_price=v["opening_price"],
                floor=v["floor"],
                cost=v["cost"] or None,
                owner=owner,
                external_source=source,
                external_ref=ref,
            )
    except services.DomainError as e:
        row.errors.append(f"{e.field}: {e.message}" if e.field else e.message)
    else:
        row.deal_id = deal.pk
