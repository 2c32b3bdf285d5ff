"""The rep's negotiation desk: the deals list, a new deal, and the deal page with its actions.

Every deal page action answers the same way: with htmx, one response that updates every part
of the desk (gauge, status, form, list, chart, history, outcome) out of band; without it, a
redirect back to the page. One exception: a concession logged from a page that is still current
(its form sends back the deal's stamp) gets only what the log changed (see _logged). Errors
re-render the form that caused them, with 422 for bad input and 409 when the deal itself says
no (the floor, a closed deal).

Pages are drawn in part from what was kept: see _ledger and deal_list.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from .. import erosion, services
from ..charts import Chart, waterfall
from ..forms import (
    ConcessionForm,
    DealFilterForm,
    DealForm,
    ExceptionRequestForm,
    FloorForm,
    LoseForm,
    RetractForm,
    WalkAwayForm,
    WinForm,
)
from ..links import deal_links, url_maker
from ..models import (
    Concession,
    Deal,
    DealEvent,
    ExceptionRequest,
    Team,
    change_stamp,
    is_staff_user,
    manages_team,
    member_of_any_team,
    teams_managed,
)
from ..money import MoneyError, format_money, parse_money

DETAIL = "deals/deal_detail.html"

# Deals list -------------------------------------------------------------------------------------


@require_GET
def deal_list(request):
    filters = DealFilterForm(request.GET or None)
    user = request.user
    deals = Deal.objects.visible_to(user, teams_managed=teams_managed(user)).select_related("owner")
    # An unknown value drops only its own filter: cleaned_data keeps every field that was valid.
    filters.is_valid()
    chosen = getattr(filters, "cleaned_data", {})
    if chosen.get("status"):
        deals = deals.filter(status=chosen["status"])
    if chosen.get("level"):
        deals = deals.filter(level=chosen["level"])
    deals = deals.order_by("-updated_at", "-id")
    page = Paginator(deals, _per_page()).get_page(request.GET.get("page"))
    # The table shows these deals as they are at these times: any change to one moves its time,
    # and a deal that comes onto the page or leaves it changes the list. (A time across the whole
    # list, such as its latest, would miss a change whose transaction committed late.)
    shown = list(page.object_list.values_list("pk", "updated_at"))
    version = hashlib.blake2b(
        ",".join(f"{pk}:{change_stamp(moment)}" for pk, moment in shown).encode(), digest_size=16
    ).hexdigest()
    # Only the filters that were understood travel on in the page links.
    query = urlencode({name: chosen[name] for name in ("status", "level") if chosen.get(name)})
    can_create = _may_create(request.user)
    key = (
        f"deal-list:{request.user.pk}:{int(can_create)}:{int(filters.is_bound)}:{query}:"
        f"{page.number}:{page.paginator.count}:{version}"
    )
    context = {
        "nav": "deals",
        "filters": filters,
        "page": page,
        "query": query,
        "can_create": can_create,
        "table": cache.get(key),
    }
    if context["table"] is None:
        found = Deal.objects.select_related("owner").in_bulk([pk for pk, _ in shown])
        context["rows"] = _rows(found[pk] for pk, _ in shown if pk in found)
        context["table"] = render_to_string(f"{DEAL_LIST}#deal-table", context)
        cache.set(key, context["table"], timeout=DEAL_LIST_CACHE_SECONDS)
    if request.htmx:
        return HttpResponse(context["table"])
    return TemplateResponse(request, DEAL_LIST, context)


DEAL_LIST = "deals/deal_list.html"
# Only bounds how long a list can miss a renamed owner; changes to deals make a new key.
DEAL_LIST_CACHE_SECONDS = 10 * 60


def _per_page() -> int:
    return settings.WALKAWAY_DEALS_PER_PAGE


def _rows(deals) -> list[dict[str, object]]:
    """One dict per row with its cells ready to print.

    The list draws 25 rows of seven cells. Django's template engine tries a dictionary lookup
    first for each dotted name, so flat dicts cost it one step per cell where model attributes
    cost it a failed lookup and then a getattr per dot.
    """
    detail_url = url_maker("deal_detail")
    rows = []
    for deal in deals:
        a = deal.assessment()
        rows.append(
            {
                "url": detail_url(deal.pk),
                "title": deal.title,
                "customer": deal.customer,
                "owner": deal.owner.get_username(),
                "net": format_money(a.net, deal.currency),
                "room_used": erosion.format_percent(a.room_used),
                "level": a.level.value,
                "level_label": a.level.label,
                "status": deal.status,
                "status_label": deal.get_status_display(),
                "came_back": deal.came_back,
            }
        )
    return rows


def _may_create(user) -> bool:
    if is_staff_user(user):
        return Team.objects.exists()
    return member_of_any_team(user)


def _teams_for(user):
    if is_staff_user(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user).distinct()


# New deal ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def deal_create(request):
    teams = list(_teams_for(request.user))
    # Bound on every POST, even an empty one, so that it says what is missing.
    form = DealForm(request.POST if request.method == "POST" else None, teams=teams)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                deal = services.deal_create(
                    user=request.user,
                    team=data["team"],
                    title=data["title"],
                    customer=data["customer"],
                    currency=data["currency"],
                    opening_price=data["opening_price"],
                    floor=data["floor"],
                    cost=data["cost"],
                )
            except services.DomainError as e:
                form.add_domain_error(e)
            else:
                messages.success(request, "Deal created. Your walk-away floor is set.")
                url = reverse("deal_detail", args=[deal.pk])
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
        status = 422
    template = "deals/deal_form.html" + ("#deal-form" if request.htmx else "")
    return TemplateResponse(
        request, template, {"form": form, "nav": "deals", "no_team": not teams}, status=status
    )


# Deal page --------------------------------------------------------------------------------------


def _visible_deal(request, pk: int, *, counts: bool = False, page: bool = False) -> Deal:
    """`page`: the whole desk is drawn, which reads the person's teams anyway."""
    user = request.user
    managed = teams_managed(user) if page else None
    deals = Deal.objects.visible_to(user, teams_managed=managed).select_related("owner")
    return get_object_or_404(deals.with_ledger_counts() if counts else deals, pk=pk)


@dataclass
class Forms:
    """The desk's forms; a bound one replaces its blank twin when it comes back with errors."""

    concession: ConcessionForm | None = None
    exception: ExceptionRequestForm | None = None
    win: WinForm | None = None
    lose: LoseForm | None = None
    walk_away: WalkAwayForm | None = None
    floor: FloorForm | None = None


# A phone shows the latest entries; "Show all" opens the whole ledger and history.
RECENT = 20
# The parts of the page drawn from the ledger, kept rendered between requests (see _ledger).
SECTIONS = ("chart", "concession-list", "history")


@dataclass
class Ledger:
    """What the deal page shows of the ledger, the history and the pending requests."""

    concession_count: int
    event_count: int
    pending: list[ExceptionRequest]
    nudges: list[erosion.Nudge]
    # Drawn from the entries below, or kept from an earlier request (then the entries are None).
    sections: dict[str, str] | None = None
    concessions: list[Concession] | None = None
    events: list[DealEvent] | None = None
    chart: Chart | None = None


def _desk(request, deal: Deal, forms: Forms | None = None, *, page: bool = False, **extra) -> dict:
    """Everything the deal page shows, in a fixed number of queries whatever the deal's size.

    Only the most recent concessions and events are loaded unless the person asks for all of
    them: the running total is kept on the deal, so nothing here needs the whole ledger.
    `page`: the whole page is drawn, so its ledger sections may come from the cache.
    """
    forms = forms or Forms()
    user = request.user
    is_manager = manages_team(user, deal.team_id)
    can_act = deal.owner_id == user.pk or is_manager
    show_all = request.GET.get("all") == "1"
    ledger = _ledger(deal, can_act=can_act, show_all=show_all, page=page)
    floor_locked = ledger.concession_count > 0
    can_change_floor = can_act and deal.is_open and (is_manager or not floor_locked)
    return {
        "nav": "deals",
        "deal": deal,
        # The version of the deal the page shows, which the concession form sends back.
        "seen": deal.stamp,
        "links": deal_links(deal.pk),
        "a": deal.assessment(),
        "concessions": ledger.concessions,
        "concession_count": ledger.concession_count,
        "events": ledger.events,
        "event_count": ledger.event_count,
        "show_all": show_all,
        "sections": ledger.sections,
        "pending": ledger.pending,
        "nudges": ledger.nudges,
        "chart": ledger.chart,
        "can_act": can_act,
        "is_manager": is_manager,
        "can_change_floor": can_change_floor,
        "floor_locked": floor_locked,
        "concession_form": forms.concession or ConcessionForm(),
        "exception_form": forms.exception,
        "win_form": forms.win or _blank(WinForm),
        "lose_form": forms.lose or _blank(LoseForm),
        "walk_away_form": forms.walk_away or _blank(WalkAwayForm),
        # A rep's locked floor shows no form at all.
        "floor_form": forms.floor or (FloorForm() if can_change_floor else None),
        "has_margin": deal.cost is not None,
        "margin": erosion.margin(deal.net, deal.cost),
        **extra,
    }


@functools.cache
def _blank(form_class):
    """One blank form per class and process, for display only: a form whose fields are fixed
    and that carries no one-time key is the same for everyone until it is bound, and the desk
    would otherwise build three of them (a deep copy of their fields each) on every request.
    Anything bound to a request is a new form."""
    assert form_class.fields_are_fixed and "form_key" not in form_class.base_fields
    return form_class()


def _ledger(deal: Deal, *, can_act: bool, show_all: bool, page: bool) -> Ledger:
    """The deal's ledger as the page shows it.

    Drawing the concession list, the history and the chart is most of a deal page's cost, and
    they change only when the deal does: kept rendered, keyed on the deal's stamp (which every
    write moves) and on what differs between viewers (whether they may retract). The cache
    never needs clearing; a stale entry is simply never asked for again.
    """
    key = f"deal-ledger:{deal.pk}:{deal.stamp}:{int(can_act)}" if page and not show_all else None
    if key is not None and (kept := cache.get(key)) is not None:
        return kept
    counts = Deal.objects.with_ledger_counts().filter(pk=deal.pk)
    concession_count, event_count = counts.values_list("concession_count", "event_count").get()
    concessions = _recent_concessions(deal, limit=None if show_all else RECENT)
    events_qs = DealEvent.objects.filter(deal=deal).select_related("actor").order_by("-id")
    events = list(events_qs if show_all else events_qs[:RECENT])
    pending = list(
        ExceptionRequest.objects.filter(deal=deal, status=ExceptionRequest.Status.PENDING)
        .select_related("requested_by")
        .order_by("id")
    )
    ledger = Ledger(
        concession_count=concession_count,
        event_count=event_count,
        pending=pending,
        nudges=_nudges(deal, concessions),
        concessions=concessions,
        events=events,
        chart=waterfall(deal, list(reversed(concessions)), total_count=concession_count),
    )
    if key is not None:
        context = {
            "deal": deal,
            "links": deal_links(deal.pk),
            "can_act": can_act,
            "show_all": show_all,
            "concessions": concessions,
            "concession_count": concession_count,
            "events": events,
            "event_count": event_count,
            "chart": ledger.chart,
        }
        ledger.sections = {
            name.replace("-", "_"): render_to_string(f"{DETAIL}#{name}", context)
            for name in SECTIONS
        }
        # The drawings are kept, not the entries they were drawn from.
        kept = replace(ledger, concessions=None, events=None, chart=None)
        cache.set(key, kept, timeout=LEDGER_CACHE_SECONDS)
    return ledger


# Long enough to serve a rep's many looks at a deal during a negotiation. A change to the deal
# makes a new key, so this bounds only how long an old entry takes room, and how long a person
# who was renamed keeps their old name in a kept list.
LEDGER_CACHE_SECONDS = 60 * 60


def _recent_concessions(
    deal: Deal, *, limit: int | None, figures_only: bool = False
) -> list[Concession]:
    """The latest concessions, newest first, each with its retract link and whether it stands.
    `figures_only`: for the chart and the nudges, which read no people."""
    related = ("retraction",) if figures_only else ("created_by", "retraction", "exception_request")
    rows = Concession.objects.filter(deal=deal).select_related(*related).order_by("-id")
    concessions = list(rows if limit is None else rows[:limit])
    retract_url = url_maker("concession_retract", deal.pk)
    for c in concessions:
        c.retract_url = retract_url(c.pk)
        c.retracted = _is_retracted(c)
    return concessions


def _nudges(deal: Deal, concessions: list[Concession]) -> list[erosion.Nudge]:
    if not deal.is_open:
        return []
    # The coach looks at gives that still stand, oldest first; retractions are not gives.
    return erosion.nudges(
        [
            erosion.Give(amount=c.amount, has_get=c.has_get)
            for c in reversed(concessions)
            if not c.is_retraction and not c.retracted
        ]
    )


def _is_retracted(concession: Concession) -> bool:
    try:
        return concession.retraction is not None
    except Concession.retraction.RelatedObjectDoesNotExist:
        return False


@require_GET
def deal_detail(request, pk: int):
    deal = _visible_deal(request, pk, page=True)
    template = DETAIL + ("#gauge" if request.htmx else "")
    return TemplateResponse(request, template, _desk(request, deal, page=True))


PREVIEW_FIELDS = ("opening_price", "floor", "conceded", "currency")


@require_GET
def concession_preview(request, pk: int):
    """The "what if" while the amount is typed: a pure calculation, nothing is written."""
    if request.htmx:
        # Every keystroke: only the figures the calculation and its sentence need.
        deal = get_object_or_404(Deal.objects.visible_to(request.user).only(*PREVIEW_FIELDS), pk=pk)
    else:
        deal = _visible_deal(request, pk)
    raw = request.GET.get("amount", "")
    preview, problem = None, ""
    if raw.strip():
        try:
            amount = parse_money(raw[:40])
        except MoneyError as e:
            problem = str(e)
        else:
            preview = erosion.preview(
                opening_price=deal.opening_price,
                floor=deal.floor,
                conceded=deal.conceded,
                amount=amount,
            )
    extra = {"preview": preview, "preview_problem": problem}
    if request.htmx:
        return TemplateResponse(request, DETAIL + "#preview", {"deal": deal, **extra})
    form = ConcessionForm(initial={"amount": raw[:40]})
    context = _desk(request, deal, Forms(concession=form), page=True, **extra)
    return TemplateResponse(request, DETAIL, context)


def _updated(request, deal: Deal, message: str, **extra) -> HttpResponse:
    """A change went through: htmx gets the whole desk out of band, a browser a redirect."""
    if request.htmx:
        # A plain refresh forgets the owner loaded with the deal; the desk shows who it is.
        deal.refresh_from_db(from_queryset=Deal.objects.select_related("owner"))
        context = _desk(request, deal, flash=message, **extra)
        response = TemplateResponse(request, DETAIL + "#desk-update", context)
        # Whichever form was sent, the concession panel is the main swap; the rest is out of band.
        return reswap(retarget(response, "#concession-panel"), "outerHTML")
    messages.success(request, message)
    return redirect("deal_detail", pk=deal.pk)


def _refused(request, deal: Deal, forms: Forms, partial: str, *, status: int, **extra):
    """Show the form again with what went wrong, where it went wrong."""
    if request.htmx:
        # Only this panel is swapped: the rest of the page is still the version it was drawn
        # at, so the concession form keeps sending that version (and the page's view) back.
        extra.setdefault("seen", request.POST.get("seen", ""))
        extra.setdefault("show_all", request.POST.get("all") == "1")
    context = _desk(request, deal, forms, page=not request.htmx, **extra)
    if request.htmx:
        response = TemplateResponse(request, f"{DETAIL}#{partial}", context, status=status)
        return reswap(retarget(response, f"#{partial}"), "outerHTML")
    return TemplateResponse(request, DETAIL, context, status=status)


def _status_for(error: services.DomainError) -> int:
    return 422 if isinstance(error, services.InvalidValue) else 409


@require_POST
def concession_log(request, pk: int):
    deal = _visible_deal(request, pk, counts=True)
    form = ConcessionForm(request.POST)
    if not form.is_valid():
        return _refused(request, deal, Forms(concession=form), "concession-panel", status=422)
    data = form.cleaned_data
    try:
        result = services.concession_log(
            deal=deal,
            user=request.user,
            kind=data["kind"],
            amount=data["amount"],
            description=data["description"],
            got_in_return=data["got_in_return"],
            form_key=data["form_key"] or None,
        )
    except services.NotAllowed:
        raise _not_found() from None
    except services.BelowFloor as e:
        deal.refresh_from_db()
        exception_form = ExceptionRequestForm(initial={**data, "form_key": data["form_key"]})
        return _refused(
            request,
            deal,
            Forms(concession=form, exception=exception_form),
            "concession-panel",
            status=409,
            refusal=e,
            # Shortened so the written reason stays within the walk-away form's own limit.
            walk_away_reason=(
                f"The customer wanted {Truncator(data['description']).chars(200)} "
                f"({format_money(data['amount'], deal.currency)}), "
                f"{format_money(e.shortfall, deal.currency)} below our walk-away floor."
            ),
        )
    except services.DomainError as e:
        form.add_domain_error(e)
        return _refused(
            request, deal, Forms(concession=form), "concession-panel", status=_status_for(e)
        )
    after = result.after
    message = (
        f"Logged {format_money(data['amount'], deal.currency)}. "
        f"{after.level.label}: {format_money(after.remaining, deal.currency)} "
        "left before your floor."
    )
    if not result.created:
        message = "That concession was already logged; nothing was added."
    elif request.htmx and _page_was_current(request, deal, result):
        return _logged(request, deal, result, message)
    return _updated(request, deal, message, focus_amount=True)


def _page_was_current(request, deal: Deal, result: services.LogResult) -> bool:
    """Nothing but this log changed the deal since the page that sent it was drawn: the page
    showed the deal at the stamp it sent, the deal was read here at that stamp (with its
    counts), and it was still at it when the service locked it."""
    seen = request.POST.get("seen", "")
    previous = result.previously_updated_at
    return previous is not None and seen == deal.stamp == change_stamp(previous)


def _logged(request, deal: Deal, result: services.LogResult, message: str) -> HttpResponse:
    """The page was current, so it needs only what this log changed: the figures, gauge,
    status and chart redrawn, the new concession and events put on top of their lists. Far
    cheaper than drawing the whole desk again, which is what a rep waits for mid-call."""
    written = result.deal
    concession = result.concession
    concession.retract_url = url_maker("concession_retract", written.pk)(concession.pk)
    concession.retracted = False
    concession_count = deal.concession_count + 1
    first = concession_count == 1
    shows_all = request.POST.get("all") == "1"
    recent = (
        [concession] if first else _recent_concessions(written, limit=RECENT, figures_only=True)
    )
    context = {
        "deal": written,
        "seen": written.stamp,
        "links": deal_links(written.pk),
        "a": result.after,
        "flash": message,
        "focus_amount": True,
        "concession_form": ConcessionForm(),
        # The service let this person log, so they may act on the deal.
        "can_act": True,
        "concessions": recent,
        "concession_count": concession_count,
        "new_concessions": [concession],
        # A page showing the whole ledger has no "Show all" links to update.
        "show_all": shows_all,
        "concessions_more": not shows_all and deal.concession_count > RECENT,
        "new_events": list(reversed(result.events)),
        "event_count": deal.event_count + len(result.events),
        "history_more": not shows_all and deal.event_count > RECENT,
        "nudges": _nudges(written, recent),
        "chart": waterfall(written, list(reversed(recent)), total_count=concession_count),
        "first_concession": first,
        "has_margin": written.cost is not None,
        "margin": erosion.margin(written.net, written.cost),
    }
    if first:
        # The first concession locks the floor: its panel changes with it.
        is_manager = manages_team(request.user, written.team_id)
        context.update(
            is_manager=is_manager,
            floor_locked=True,
            can_change_floor=is_manager,
            floor_form=FloorForm(),
        )
    response = TemplateResponse(request, DETAIL + "#concession-logged", context)
    return reswap(retarget(response, "#concession-form"), "outerHTML")


def _not_found() -> Http404:
    return Http404("No deal here.")


@require_POST
def exception_request(request, pk: int):
    deal = _visible_deal(request, pk)
    form = ExceptionRequestForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, deal, Forms(exception=form), "concession-panel", status=422, refusal=True
        )
    data = form.cleaned_data
    try:
        services.exception_request(
            deal=deal,
            user=request.user,
            kind=data["kind"],
            amount=data["amount"],
            description=data["description"],
            got_in_return=data["got_in_return"],
            note=data["note"],
            form_key=data["form_key"] or None,
        )
    except services.NotAllowed:
        raise _not_found() from None
    except services.DomainError as e:
        form.add_domain_error(e)
        return _refused(
            request,
            deal,
            Forms(exception=form),
            "concession-panel",
            status=_status_for(e),
            refusal=True,
        )
    return _updated(request, deal, "Sent to your manager for approval.")


@require_http_methods(["GET", "POST"])
def concession_retract(request, pk: int, concession_pk: int):
    deal = _visible_deal(request, pk)
    concession = get_object_or_404(
        Concession.objects.select_related("created_by"), pk=concession_pk, deal=deal
    )
    if request.method == "GET":
        form = RetractForm(auto_id=_retract_id(concession))
        context = {"deal": deal, "concession": concession, "form": form, "nav": "deals"}
        template = "deals/concession_retract.html" + ("#retract-form" if request.htmx else "")
        return TemplateResponse(request, template, context)
    form = RetractForm(request.POST, auto_id=_retract_id(concession))
    error = None
    if form.is_valid():
        try:
            services.concession_retract(
                concession=concession, user=request.user, reason=form.cleaned_data["reason"]
            )
        except services.NotAllowed:
            raise _not_found() from None
        except services.DomainError as e:
            form.add_domain_error(e)
            error = e
        else:
            return _updated(
                request,
                deal,
                f"Retracted {format_money(concession.amount, deal.currency)}.",
            )
    status = _status_for(error) if error else 422
    context = {"deal": deal, "concession": concession, "form": form, "nav": "deals"}
    template = "deals/concession_retract.html"
    if request.htmx:
        response = TemplateResponse(request, template + "#retract-form", context, status=status)
        return reswap(retarget(response, f"#retract-slot-{concession.pk}"), "innerHTML")
    return TemplateResponse(request, template, context, status=status)


def _retract_id(concession: Concession) -> str:
    # Several retract forms can be open on one page; each needs its own ids.
    return f"id_retract{concession.pk}_%s"


@require_http_methods(["GET", "POST"])
def floor_change(request, pk: int):
    deal = _visible_deal(request, pk)
    if request.method == "GET":
        return TemplateResponse(
            request,
            DETAIL + ("#floor-panel" if request.htmx else ""),
            _desk(request, deal, page=not request.htmx),
        )
    form = FloorForm(request.POST)
    if form.is_valid():
        try:
            services.floor_change(
                deal=deal,
                user=request.user,
                new_floor=form.cleaned_data["new_floor"],
                reason=form.cleaned_data["reason"],
            )
        except services.NotAllowed:
            raise _not_found() from None
        except services.DomainError as e:
            form.add_domain_error(e)
            return _refused(request, deal, Forms(floor=form), "floor-panel", status=_status_for(e))
        deal.refresh_from_db()
        return _updated(
            request, deal, f"Walk-away floor is now {format_money(deal.floor, deal.currency)}."
        )
    return _refused(request, deal, Forms(floor=form), "floor-panel", status=422)


def _outcome(request, pk: int, form_class, field: str, act):
    """The outcome forms differ only in their form and the service they call."""
    deal = _visible_deal(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            message = act(deal, form.cleaned_data)
        except services.NotAllowed:
            raise _not_found() from None
        except services.DomainError as e:
            if e.field is None:
                # The deal is closed: its outcome panel shows no form to put the message in.
                deal.refresh_from_db()
                return _refused(
                    request,
                    deal,
                    Forms(),
                    "outcome",
                    status=_status_for(e),
                    outcome_error=e.message,
                )
            form.add_domain_error(e)
            return _refused(request, deal, Forms(**{field: form}), "outcome", status=_status_for(e))
        return _updated(request, deal, message)
    return _refused(request, deal, Forms(**{field: form}), "outcome", status=422)


@require_POST
def deal_win(request, pk: int):
    def act(deal, data):
        won = services.deal_win(deal=deal, user=request.user, final_price=data["final_price"])
        return f"Marked won at {format_money(won.final_price, won.currency)}."

    return _outcome(request, pk, WinForm, "win", act)


@require_POST
def deal_lose(request, pk: int):
    def act(deal, data):
        services.deal_lose(deal=deal, user=request.user, reason=data["reason"], note=data["note"])
        return "Marked lost."

    return _outcome(request, pk, LoseForm, "lose", act)


@require_POST
def deal_walk_away(request, pk: int):
    def act(deal, data):
        services.deal_walk_away(deal=deal, user=request.user, reason=data["reason"])
        return "You walked away. If the customer comes back, it will be on your terms."

    return _outcome(request, pk, WalkAwayForm, "walk_away", act)


@require_POST
def deal_come_back(request, pk: int):
    deal = _visible_deal(request, pk)
    try:
        services.deal_come_back(deal=deal, user=request.user)
    except services.NotAllowed:
        raise _not_found() from None
    except services.DomainError as e:
        return _refused(request, deal, Forms(), "outcome", status=409, outcome_error=e.message)
    return _updated(request, deal, "The customer came back. The deal is open again.")
