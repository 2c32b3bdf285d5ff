"""CSV exports, streamed: rows leave as the database hands them over in chunks, so an export of
100,000 deals never sits in memory at once.

Spreadsheets run a cell that starts with =, +, -, @, a tab or a carriage return as a formula, so
text people typed (titles, customers, notes, usernames) is neutralised with a leading single
quote. Numbers we write ourselves are not touched: a retraction of -100.00 stays a number.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

from . import erosion, reports

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A user's text as a spreadsheet will show it, never run it."""
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def text_cell(value) -> str:
    return "" if value is None else neutralise(str(value))


def money_cell(value: Decimal | None) -> str:
    """A plain decimal string ("-100.00"): no currency sign, no grouping, never a float."""
    return "" if value is None else f"{value:f}"


def plain_cell(value) -> str:
    """Values we choose ourselves (ids, codes, counts): nothing to neutralise."""
    return "" if value is None else str(value)


def bool_cell(value: bool) -> str:
    return "yes" if value else "no"


def time_cell(value: dt.datetime | None) -> str:
    return "" if value is None else timezone.localtime(value).isoformat(timespec="seconds")


# Rows leave in blocks of about this many characters: one write per row would cost the server a
# system call per row (100,000 of them for a large export), one block for everything the memory.
BLOCK_CHARS = 64 * 1024


class _Lines:
    """A file for csv.writer that keeps what is written until the caller takes it."""

    def __init__(self):
        self.parts: list[str] = []
        self.size = 0

    def write(self, value: str) -> None:
        self.parts.append(value)
        self.size += len(value)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


def csv_lines(
    header: Iterable[str], rows: Iterable[Iterable[str]], *, block_chars: int = BLOCK_CHARS
) -> Iterator[str]:
    """The CSV text, header first, in blocks of roughly `block_chars` characters."""
    buffer = _Lines()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.size >= block_chars:
            yield buffer.take()
    yield buffer.take()


def csv_response(filename: str, lines: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[tuple], str]


def _field(name: str, fields: tuple[str, ...], cell: Callable) -> Callable[[tuple], str]:
    index = fields.index(name)
    return lambda row: cell(row[index])


# Deals ------------------------------------------------------------------------------------------


def _deal_column(header: str, name: str, cell: Callable) -> Column:
    return Column(header, _field(name, reports.DEAL_EXPORT_FIELDS, cell))


_OPENING, _FLOOR, _CONCEDED = (
    reports.DEAL_EXPORT_FIELDS.index(name) for name in ("opening_price", "floor", "conceded")
)


def _net(row: tuple) -> str:
    return money_cell(erosion.net(row[_OPENING], row[_CONCEDED]))


def _room_used(row: tuple) -> str:
    # Exact Decimal from the row's own amounts with the erosion service's formula, rather than
    # SQLite's floating point; two places, like the money columns.
    used = erosion.room_used(row[_CONCEDED], erosion.room(row[_OPENING], row[_FLOOR]))
    return f"{used.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"


DEAL_COLUMNS = (
    _deal_column("id", "pk", plain_cell),
    _deal_column("title", "title", text_cell),
    _deal_column("customer", "customer", text_cell),
    _deal_column("team", "team__name", text_cell),
    _deal_column("owner", "owner__username", text_cell),
    _deal_column("currency", "currency", plain_cell),
    _deal_column("opening_price", "opening_price", money_cell),
    _deal_column("walk_away_floor", "floor", money_cell),
    _deal_column("cost_to_deliver", "cost", money_cell),
    _deal_column("conceded", "conceded", money_cell),
    Column("net", _net),
    Column("room_used_percent", _room_used),
    _deal_column("level", "level", plain_cell),
    _deal_column("peak_level", "peak_level", plain_cell),
    _deal_column("status", "status", plain_cell),
    _deal_column("final_price", "final_price", money_cell),
    _deal_column("came_back", "came_back", bool_cell),
    _deal_column("walked_away_net", "walked_away_net", money_cell),
    _deal_column("gives_without_gets", "gives_without_gets", plain_cell),
    _deal_column("created_at", "created_at", time_cell),
    _deal_column("last_activity", "updated_at", time_cell),
    _deal_column("closed_at", "closed_at", time_cell),
)


# Concessions ------------------------------------------------------------------------------------


def _concession_column(header: str, name: str, cell: Callable) -> Column:
    return Column(header, _field(name, reports.CONCESSION_EXPORT_FIELDS, cell))


CONCESSION_COLUMNS = (
    _concession_column("id", "pk", plain_cell),
    _concession_column("deal_id", "deal_id", plain_cell),
    _concession_column("deal", "deal__title", text_cell),
    _concession_column("currency", "deal__currency", plain_cell),
    _concession_column("kind", "kind", plain_cell),
    _concession_column("amount", "amount", money_cell),
    _concession_column("what_we_gave", "description", text_cell),
    _concession_column("what_we_got_in_return", "got_in_return", text_cell),
    _concession_column("logged_by", "created_by__username", text_cell),
    _concession_column("logged_at", "created_at", time_cell),
    _concession_column("retracts_id", "retracts_id", plain_cell),
    _concession_column("retraction_reason", "reason", text_cell),
    _concession_column("exception_request_id", "exception_request_id", plain_cell),
)


def rows_as_cells(columns: tuple[Column, ...], rows: Iterable[tuple]) -> Iterator[list[str]]:
    for row in rows:
        yield [column.cell(row) for column in columns]


def deals_csv(deals, filename: str) -> StreamingHttpResponse:
    rows = rows_as_cells(DEAL_COLUMNS, reports.deal_export_rows(deals))
    return csv_response(filename, csv_lines((c.header for c in DEAL_COLUMNS), rows))


def concessions_csv(deals, filename: str) -> StreamingHttpResponse:
    rows = rows_as_cells(CONCESSION_COLUMNS, reports.concession_export_rows(deals))
    return csv_response(filename, csv_lines((c.header for c in CONCESSION_COLUMNS), rows))
