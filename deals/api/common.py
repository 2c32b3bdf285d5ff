"""What every operation shares: the statuses it documents, and the doors to deals."""

from __future__ import annotations

from django.http import Http404

from ..models import Deal
from .schemas import Error

# Every operation may answer these (API.md): bad JSON, no or bad token, bad input, too many.
COMMON = {400: Error, 401: Error, 422: Error, 429: Error}


def answers(ok: int, schema, *more: int) -> dict:
    """The responses of an operation: its success, the common errors, and `more` (404, 409)."""
    return {ok: schema, **COMMON, **dict.fromkeys(more, Error)}


def visible_deals(request):
    """The only door to deals, as the screens use it: the token's person, as they are now."""
    return Deal.objects.visible_to(request.access).select_related("owner")


def visible_deal(request, deal_id: int) -> Deal:
    deal = visible_deals(request).filter(pk=deal_id).first()
    if deal is None:
        raise Http404
    return deal
