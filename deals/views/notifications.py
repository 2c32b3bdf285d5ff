"""Everyone's in-app notifications (written by deals/alerts.py), newest first."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..models import Notification

NOTIFICATIONS_PER_PAGE = 50


class MarkReadForm(forms.Form):
    # The newest notification the page showed; see services.notifications_mark_read.
    up_to = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


def _list_context(request) -> dict:
    notifications = (
        Notification.objects.filter(user=request.user)
        .select_related("deal")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    newest = notifications.aggregate(newest=Max("pk"))["newest"]
    form = MarkReadForm(initial={"up_to": newest})
    return {"nav": "notifications", "page": page, "mark_read_form": form}


@require_GET
def notification_list(request):
    template = (
        "deals/notifications.html#notification-list" if request.htmx else "deals/notifications.html"
    )
    return render(request, template, _list_context(request))


@require_POST
def notifications_read(request):
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        # Only a tampered hidden field gets here; the list is shown again, nothing is marked.
        if request.htmx:
            context = _list_context(request) | {"mark_read_error": "Reload the page and try again."}
            return render(
                request, "deals/notifications.html#notification-list", context, status=422
            )
        messages.error(request, "Reload the page and try again.")
        return _see_other()
    count = services.notifications_mark_read(user=request.user, up_to_id=form.cleaned_data["up_to"])
    if request.htmx:
        return render(request, "deals/notifications.html#notification-list", _list_context(request))
    messages.success(request, f"Marked {count} notification{'' if count == 1 else 's'} read.")
    return _see_other()


@require_POST
def notification_read(request, pk: int):
    """Mark one notification read (issue 14); with htmx only that item comes back."""
    services.notification_mark_read(user=request.user, notification_id=pk)
    if request.htmx:
        note = Notification.objects.filter(user=request.user, pk=pk).first()
        if note is None:
            return HttpResponse(status=204)
        return render(
            request,
            "deals/notifications.html#notification-item",
            {"note": note, "oob_badges": True},
        )
    return _see_other()


def _see_other() -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse("notifications"))
    response.status_code = 303
    return response
