"""The manager's approvals: pending floor-exception requests, decided one card at a time.

The decisions are services.exception_approve / exception_reject; this module turns their
outcomes into a card: decided, refused (the deal changed, or someone decided first), or
invalid. Each card is its own form, so the page works without JavaScript, and with htmx only
that card is swapped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..forms import DomainForm, MoneyField, TextField
from ..models import Concession, Deal, ExceptionRequest
from .dashboard import manager_required

REQUESTS_PER_PAGE = 50


REJECT_NEEDS_A_REASON = "Write the reason for the rep: rejecting needs one."
LATEST_CONCESSIONS = 3


class DecisionForm(DomainForm):
    # Optional to approve; rejecting needs a reason (checked by exception_reject).
    comment = TextField(label="Comment", required=False)
    # What the deal looked like when the manager last saw it, sent back after the deal changed
    # so that approving again decides on what is true now (services.exception_approve).
    seen_conceded = MoneyField(allow_zero=True, required=False, widget=forms.HiddenInput)
    seen_floor = MoneyField(allow_zero=True, required=False, widget=forms.HiddenInput)


@dataclass
class RequestCard:
    """One request as the page shows it."""

    request: ExceptionRequest
    form: DecisionForm
    # Why the last attempt did not go through, for the manager to read before trying again.
    notice: str = ""
    seen_conceded: Decimal | None = None
    seen_floor: Decimal | None = None
    # Set once the request has left the queue: what happened to it.
    outcome: str = ""
    # "approved" or "rejected" once decided here, said in words and colour on the card.
    verdict: str = ""
    hidden_errors: list[str] = field(default_factory=list)
    # The context the manager decides on (see _with_context).
    latest: list = field(default_factory=list)
    record: RepRecord | None = None


@dataclass(frozen=True)
class RepRecord:
    """The asking rep's record on the teams the manager manages."""

    deals: int = 0
    walk_aways: int = 0
    exceptions_asked: int = 0
    exceptions_granted: int = 0


def _with_context(access, cards: list[RequestCard]) -> list[RequestCard]:
    """Each card's latest concessions and its rep's record, in two queries for the whole page,
    whatever the number of cards, concessions or deals (a window keeps the latest few)."""
    if not cards:
        return cards
    deal_ids = sorted({c.request.deal_id for c in cards})
    rep_ids = sorted({c.request.requested_by_id for c in cards})
    latest = (
        Concession.objects.filter(deal_id__in=deal_ids)
        .annotate(newest=Window(RowNumber(), partition_by=[F("deal_id")], order_by=F("id").desc()))
        .filter(newest__lte=LATEST_CONCESSIONS)
        .order_by("deal_id", "-id")
    )
    by_deal: dict[int, list] = {}
    for concession in latest:
        by_deal.setdefault(concession.deal_id, []).append(concession)
    managed = Deal.objects.managed_by(access)
    deal_counts = {
        row["owner_id"]: row
        for row in managed.filter(owner_id__in=rep_ids)
        .order_by()
        .values("owner_id")
        .annotate(
            n=Count("pk"),
            walked=Count("pk", filter=Q(status=Deal.Status.WALKED_AWAY) | Q(came_back=True)),
        )
    }
    asks = {
        row["requested_by_id"]: row
        for row in ExceptionRequest.objects.managed_by(access)
        .filter(requested_by_id__in=rep_ids)
        .order_by()
        .values("requested_by_id")
        .annotate(
            n=Count("pk"), granted=Count("pk", filter=Q(status=ExceptionRequest.Status.APPROVED))
        )
    }
    for card in cards:
        rep = card.request.requested_by_id
        card.latest = by_deal.get(card.request.deal_id, [])
        card.record = RepRecord(
            deals=deal_counts.get(rep, {}).get("n", 0),
            walk_aways=deal_counts.get(rep, {}).get("walked", 0),
            exceptions_asked=asks.get(rep, {}).get("n", 0),
            exceptions_granted=asks.get(rep, {}).get("granted", 0),
        )
    return cards


def _form(request_pk: int, data=None) -> DecisionForm:
    # One form per card on the page: ids must be unique, names stay plain.
    return DecisionForm(data, auto_id=f"id_%s_{request_pk}")


def _pending(access):
    return (
        ExceptionRequest.objects.awaiting(access)
        .select_related("deal", "requested_by")
        .order_by("created_at", "pk")
    )


def _decidable(access, pk: int) -> ExceptionRequest:
    """A request on a deal the manager manages, decided or not; anything else is a 404."""
    requests = ExceptionRequest.objects.managed_by(access)
    return get_object_or_404(requests.select_related("deal", "requested_by"), pk=pk)


def _see_other(request, message: str, level=messages.SUCCESS) -> HttpResponseRedirect:
    messages.add_message(request, level, message)
    response = HttpResponseRedirect(reverse("approvals"))
    response.status_code = 303
    return response


@require_GET
@manager_required
def approval_list(request):
    page = Paginator(_pending(request.access), REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    cards = _with_context(request.access, [RequestCard(request=r, form=_form(r.pk)) for r in page])
    template = "deals/approvals.html#request-list" if request.htmx else "deals/approvals.html"
    return render(request, template, {"nav": "approvals", "cards": cards, "page": page})


def _show_card(request, card: RequestCard, status: int):
    """A card that needs the manager again, with the reason, in place (htmx) or on the page."""
    if request.htmx:
        _with_context(request.access, [card])
        return render(request, "deals/approvals.html#request-card", {"card": card}, status=status)
    # Without JavaScript the whole page comes back, this card first and in its current state:
    # a redirect would lose the figures that a second "Approve" must carry.
    page = Paginator(_pending(request.access), REQUESTS_PER_PAGE).get_page(1)
    others = [RequestCard(request=r, form=_form(r.pk)) for r in page if r.pk != card.request.pk]
    _with_context(request.access, [card, *others])
    context = {"nav": "approvals", "cards": [card, *others], "page": page}
    return render(request, "deals/approvals.html", context, status=status)


def _decided(request, card: RequestCard, outcome: str, status: int = 200, verdict: str = ""):
    if request.htmx:
        card.outcome = outcome
        card.verdict = verdict or fresh_verdict(card.request)
        return render(request, "deals/approvals.html#request-card", {"card": card}, status=status)
    level = messages.SUCCESS if status < 400 else messages.WARNING
    return _see_other(request, outcome, level)


def _card_for_post(request, exception_request: ExceptionRequest) -> RequestCard:
    form = _form(exception_request.pk, request.POST)
    valid = form.is_valid()
    card = RequestCard(
        request=exception_request,
        form=form,
        seen_conceded=form.cleaned_data.get("seen_conceded"),
        seen_floor=form.cleaned_data.get("seen_floor"),
    )
    if not valid:
        card.hidden_errors = [
            error for name in ("seen_conceded", "seen_floor") for error in form.errors.get(name, [])
        ]
    return card


@require_POST
def exception_approve(request, pk: int):
    exception_request = _decidable(request.access, pk)
    card = _card_for_post(request, exception_request)
    if card.form.errors:
        return _show_card(request, card, status=422)
    try:
        services.exception_approve(
            exception_request=exception_request,
            user=request.user,
            comment=card.form.cleaned_data["comment"],
            seen_conceded=card.seen_conceded,
            seen_floor=card.seen_floor,
        )
    except services.NotAllowed:
        raise Http404 from None
    except services.OwnRequest as own:
        card.notice = own.message
        return _show_card(request, card, status=409)
    except services.DealChanged as changed:
        card.notice = changed.message
        card.seen_conceded, card.seen_floor = changed.conceded, changed.floor
        return _show_card(request, card, status=409)
    except services.AlreadyDecided as decided:
        return _decided(request, card, decided.message, status=409)
    except services.InvalidValue as invalid:
        card.form.add_domain_error(invalid)
        return _show_card(request, card, status=422)
    except services.DomainError as refused:
        # DealClosed: nothing can be conceded on it any more; rejecting is still possible.
        card.notice = refused.message
        return _show_card(request, card, status=409)
    deal = exception_request.deal
    return _decided(
        request, card, f"Approved: the concession is logged on {deal.title}.", verdict="approved"
    )


@require_POST
def exception_reject(request, pk: int):
    exception_request = _decidable(request.access, pk)
    card = _card_for_post(request, exception_request)
    if card.form.errors.get("comment"):
        return _show_card(request, card, status=422)
    if not (card.form.cleaned_data.get("comment") or "").strip():
        card.form.add_error("comment", REJECT_NEEDS_A_REASON)
        return _show_card(request, card, status=422)
    try:
        services.exception_reject(
            exception_request=exception_request,
            user=request.user,
            comment=card.form.cleaned_data["comment"],
        )
    except services.NotAllowed:
        raise Http404 from None
    except services.OwnRequest as own:
        card.notice = own.message
        return _show_card(request, card, status=409)
    except services.AlreadyDecided as decided:
        return _decided(request, card, decided.message, status=409)
    except services.InvalidValue as invalid:
        card.form.add_domain_error(invalid)
        return _show_card(request, card, status=422)
    deal = exception_request.deal
    return _decided(
        request, card, f"Rejected: nothing was logged on {deal.title}.", verdict="rejected"
    )


def fresh_verdict(exception_request: ExceptionRequest) -> str:
    """A request someone else decided first: what it became, in words."""
    status = (
        ExceptionRequest.objects.filter(pk=exception_request.pk)
        .values_list("status", flat=True)
        .first()
    )
    return status if status in ("approved", "rejected") else ""
