"""Cursor pagination: `{"items": [...], "next": "<url of the next page>" | null}`.

The cursor is the last id of the page, opaque to clients; ids never move, so a page never
repeats or skips a row when rows are added meanwhile (unlike page numbers or times)."""

from __future__ import annotations

import base64
import binascii

from .errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def decode(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii")
        kind, _, value = text.partition(":")
        number = int(value)
    except (ValueError, UnicodeError, binascii.Error):
        number, kind = 0, ""
    if kind != "id" or not 0 < number < 2**63:
        raise ApiError(422, "invalid", "This cursor is not one we gave.", field="cursor")
    return number


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode("ascii").rstrip("=")


def page(request, rows, *, limit: int, cursor: str | None, newest_first: bool, shape) -> dict:
    """One page of `rows` (a queryset), ordered by id, and the URL of the next."""
    after = decode(cursor)
    if after is not None:
        rows = rows.filter(pk__lt=after) if newest_first else rows.filter(pk__gt=after)
    rows = list(rows.order_by("-pk" if newest_first else "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [shape(row) for row in rows],
        "next": next_url(request, rows[-1].pk) if more else None,
    }


def next_url(request, last_id: int) -> str:
    query = request.GET.copy()
    query["cursor"] = encode(last_id)
    query.pop("after", None)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
