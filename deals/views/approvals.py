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
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..forms import DomainForm, MoneyField, TextField
from ..models import ExceptionRequest
from .dashboard import manager_required

REQUESTS_PER_PAGE = 50


class DecisionForm(DomainForm):
    comment = TextField(
        label="Comment", error_messages={"required": "Write a comment for the rep."}
    )
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
    hidden_errors: list[str] = field(default_factory=list)


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
    cards = [RequestCard(request=r, form=_form(r.pk)) for r in page]
    template = "deals/approvals.html#request-list" if request.htmx else "deals/approvals.html"
    return render(request, template, {"nav": "approvals", "cards": cards, "page": page})


def _show_card(request, card: RequestCard, status: int):
    """A card that needs the manager again, with the reason, in place (htmx) or on the page."""
    if request.htmx:
        return render(request, "deals/approvals.html#request-card", {"card": card}, status=status)
    # Without JavaScript the whole page comes back, this card first and in its current state:
    # a redirect would lose the figures that a second "Approve" must carry.
    page = Paginator(_pending(request.access), REQUESTS_PER_PAGE).get_page(1)
    others = [RequestCard(request=r, form=_form(r.pk)) for r in page if r.pk != card.request.pk]
    context = {"nav": "approvals", "cards": [card, *others], "page": page}
    return render(request, "deals/approvals.html", context, status=status)


def _decided(request, card: RequestCard, outcome: str, status: int = 200):
    if request.htmx:
        card.outcome = outcome
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
    return _decided(request, card, f"Approved: the concession is logged on {deal.title}.")


@require_POST
def exception_reject(request, pk: int):
    exception_request = _decidable(request.access, pk)
    card = _card_for_post(request, exception_request)
    if card.form.errors.get("comment"):
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
    return _decided(request, card, f"Rejected: nothing was logged on {deal.title}.")
