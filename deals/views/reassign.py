"""Reassigning a deal (rule 11): a manager of its team, or staff, hands it to another member.

A small page of its own, so that it works without JavaScript; with htmx the answer is a
client redirect to the deal page, which then shows the new owner everywhere at once.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from .. import services
from ..forms import ReassignForm
from ..models import Deal

TEMPLATE = "deals/deal_reassign.html"


def _form(deal: Deal, data=None) -> ReassignForm:
    return ReassignForm(
        data, candidates=services.reassign_candidates(deal), current_owner_id=deal.owner_id
    )


def _page(request, deal: Deal, form: ReassignForm, status: int = 200) -> TemplateResponse:
    template = TEMPLATE + ("#reassign-form" if request.htmx else "")
    context = {"deal": deal, "form": form, "nav": "deals"}
    return TemplateResponse(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def deal_reassign(request, pk: int):
    deal = get_object_or_404(Deal.objects.visible_to(request.access).select_related("owner"), pk=pk)
    # Those who may see the deal but not reassign it (its owner) must not learn more than 404.
    if not request.access.manages(deal.team_id):
        raise Http404("No deal here.")
    if request.method == "GET":
        return _page(request, deal, _form(deal))
    form = _form(deal, request.POST)
    if not form.is_valid():
        return _page(request, deal, form, status=422)
    try:
        services.deal_reassign(
            deal=deal, user=request.user, new_owner=form.cleaned_data["new_owner"]
        )
    except services.NotAllowed:
        raise Http404("No deal here.") from None
    except services.DomainError as e:
        form.add_domain_error(e)
        return _page(request, deal, form, status=422)
    deal.refresh_from_db(fields=["owner"])
    messages.success(request, f"Reassigned to {deal.owner.get_username()}.")
    url = reverse("deal_detail", args=[deal.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
