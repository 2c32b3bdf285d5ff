"""The Django admin: configuration (teams and who is in them) and a read-only window on the ledger.

Deals, concessions, exceptions, floor changes and events are written only by deals.services,
which lock the deal, keep its running total and write its event (DOMAIN.md, rules 5 to 7). The
admin therefore never adds or deletes them, and on a deal edits only what no rule depends on.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q

from . import services
from .forms import AdminLoginForm
from .models import (
    Concession,
    Deal,
    DealEvent,
    EmailFailure,
    ExceptionRequest,
    FloorChange,
    Membership,
    Notification,
    Team,
)
from .money import format_money

# Every login form bounds what it is given (issue 11): the admin's as well as the app's.
admin.site.login_form = AdminLoginForm


class StaffMayViewMixin:
    """Staff see every deal in the app (Deal.objects.visible_to), so they may see it here too;
    adding and changing still need Django's permissions."""

    def has_view_permission(self, request, obj=None):
        user = request.user
        return bool(user.is_active and user.is_staff) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_staff) or super().has_module_permission(request)


class ReadOnlyAdmin(StaffMayViewMixin, admin.ModelAdmin):
    """The ledger and its history are never edited or deleted (rules 5 and 6), not even here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(StaffMayViewMixin, admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(StaffMayViewMixin, admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(StaffMayViewMixin, admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    list_select_related = ["user", "team"]
    autocomplete_fields = ["user", "team"]


@admin.register(Deal)
class DealAdmin(StaffMayViewMixin, admin.ModelAdmin):
    list_display = ["title", "customer", "owner", "team", "status", "level", "net_display"]
    list_filter = ["status", "level", "peak_level", "currency", "came_back", "team"]
    search_fields = ["title", "customer", "owner__username", "team__name"]
    list_select_related = ["owner", "team"]
    # Price, floor, totals and outcome belong to the services, which keep the ledger, the level
    # and the history in step; editing them here would leave a deal its events contradict.
    readonly_fields = [
        "team",
        "currency",
        "opening_price",
        "floor",
        "conceded",
        "net_display",
        "level",
        "peak_level",
        "status",
        "final_price",
        "lost_reason",
        "outcome_note",
        "came_back",
        "walked_away_net",
        "walked_away_at",
        "closed_at",
        "created_at",
        "updated_at",
    ]
    # The owner is a choice of the team's active members: a change goes to deal_reassign.
    fields = ["title", "customer", "cost", "owner", *readonly_fields]

    @admin.display(description="net")
    def net_display(self, obj: Deal) -> str:
        return format_money(obj.net, obj.currency)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "owner" in form.base_fields:
            # Rule 11: a deal goes only to an active member of its team. The current owner
            # stays a choice (they may have left the team), so that saving a rename is not
            # refused for a choice nobody made.
            candidates = services.reassign_candidates(obj).values("pk")
            owner = form.base_fields["owner"]
            owner.queryset = owner.queryset.filter(Q(pk__in=candidates) | Q(pk=obj.owner_id))
            owner.help_text = "Reassigning the deal writes an event; only active team members."
        return form

    def save_model(self, request, obj, form, change):
        # The form's copy of the row was read without a lock: saving it whole would put back a
        # running total that a concession logged meanwhile has moved (rule 9). Only what was
        # changed goes to the services, which lock the deal, re-read it and write the event.
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        new_owner = changed.pop("owner", None)
        try:
            if new_owner is not None:
                services.deal_reassign(deal=obj, user=request.user, new_owner=new_owner)
            services.deal_update(deal=obj, user=request.user, **changed)
        except services.DomainError as e:
            # Raised after validation passed: ModelAdmin has no way back to the form from here.
            raise ValidationError(e.message) from None

    def has_add_permission(self, request):
        # A deal is born through deal_create, with its floor and its "created" event (rule 1).
        return False

    def has_delete_permission(self, request, obj=None):
        # Its events are never deleted, so neither is the deal they describe.
        return False


@admin.register(Concession)
class ConcessionAdmin(ReadOnlyAdmin):
    list_display = [
        "deal",
        "kind",
        "amount",
        "description",
        "got_in_return",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind"]
    search_fields = ["description", "got_in_return", "deal__title", "deal__customer"]
    list_select_related = ["deal", "created_by"]


@admin.register(DealEvent)
class DealEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "deal", "kind", "actor", "summary"]
    list_filter = ["kind"]
    search_fields = ["summary", "deal__title", "deal__customer", "actor__username"]
    list_select_related = ["deal", "actor"]


@admin.register(ExceptionRequest)
class ExceptionRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "deal",
        "requested_by",
        "amount",
        "shortfall",
        "status",
        "decided_by",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["description", "deal__title", "deal__customer", "requested_by__username"]
    list_select_related = ["deal", "requested_by", "decided_by"]


@admin.register(FloorChange)
class FloorChangeAdmin(ReadOnlyAdmin):
    list_display = ["deal", "old_floor", "new_floor", "changed_by", "reason", "created_at"]
    search_fields = ["reason", "deal__title", "deal__customer"]
    list_select_related = ["deal", "changed_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "deal", "message", "read_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["message", "user__username", "deal__title"]
    list_select_related = ["user", "deal"]


@admin.register(EmailFailure)
class EmailFailureAdmin(ReadOnlyAdmin):
    """Alert emails that could not be sent: the notification in the app stands."""

    list_display = ["created_at", "deal", "recipients", "subject", "error"]
    search_fields = ["deal__title", "recipients", "subject", "error"]
    list_select_related = ["deal"]
