"""The rep's negotiation desk: the deals list, a new deal, and the deal page with its actions.

The deal page and every answer of its actions are drawn from one object, deals.desk.Desk. With
htmx an action that went through answers with the whole desk (the concession panel swapped,
every other part out of band); without it, a redirect back to the page. Errors re-render the
form that caused them, with 422 for bad input and 409 when the deal itself says no (the floor,
a closed deal).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from .. import erosion, services
from ..desk import DeskForms, Notes, desk_build, gauge_marks
from ..forms import (
    ALL,
    CLOSED,
    ComebackForm,
    ConcessionForm,
    CorrectForm,
    DealEditForm,
    DealFilterForm,
    DealForm,
    ExceptionRequestForm,
    FloorForm,
    LoseForm,
    PlanForm,
    RetractForm,
    StepFormSet,
    WalkAwayForm,
    WinForm,
)
from ..models import Concession, Deal, ExceptionRequest
from ..money import MoneyError, format_money, read_amount

DETAIL = "deals/deal_detail.html"
DEAL_LIST = "deals/deal_list.html"

# Deals list -------------------------------------------------------------------------------------


@require_GET
def deal_list(request):
    access = request.access
    owners = None
    if access.manages_any:
        owners = list(
            get_user_model()
            .objects.filter(
                **({} if access.staff else {"memberships__team_id__in": sorted(access.managed)})
            )
            .distinct()
            .order_by("username")
        )
    filters = DealFilterForm(request.GET or None, owners=owners)
    deals = Deal.objects.visible_to(access).select_related("owner")
    # Issue 14 (manager): which deals wait for a manager's decision, in the same statement.
    deals = deals.annotate(
        awaiting_approval=Exists(
            ExceptionRequest.objects.filter(
                deal=OuterRef("pk"), status=ExceptionRequest.Status.PENDING
            )
        )
    )
    # An unknown value drops only its own filter: cleaned_data keeps every field that was valid.
    filters.is_valid()
    chosen = getattr(filters, "cleaned_data", {})
    status = chosen.get("status") or Deal.Status.OPEN
    if status == CLOSED:
        deals = deals.exclude(status=Deal.Status.OPEN)
    elif status != ALL:
        deals = deals.filter(status=status)
    if chosen.get("q"):
        q = chosen["q"].strip()
        deals = deals.filter(Q(title__icontains=q) | Q(customer__icontains=q))
    if chosen.get("owner"):
        deals = deals.filter(owner_id=chosen["owner"])
    if chosen.get("level"):
        # Today's thresholds, as the rows show them (see DealQuerySet.with_current_level).
        deals = deals.with_current_level().filter(current_level=chosen["level"])
    # Open deals first, then the chosen order.
    open_first = Case(When(status=Deal.Status.OPEN, then=Value(0)), default=Value(1))
    sort = chosen.get("sort") or "recent"
    if sort == "room":
        deals = deals.annotate(
            used=ExpressionWrapper(
                F("conceded") * 10000 / (F("opening_price") - F("floor")),
                output_field=DecimalField(max_digits=30, decimal_places=4),
            )
        ).order_by(open_first, "-used", "-id")
    elif sort == "net":
        deals = deals.annotate(
            net_now=ExpressionWrapper(
                F("opening_price") - F("conceded"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        ).order_by(open_first, "-net_now", "-id")
    else:
        deals = deals.order_by(open_first, "-updated_at", "-id")
    page = Paginator(deals, settings.WALKAWAY_DEALS_PER_PAGE).get_page(request.GET.get("page"))
    names = ("q", "status", "level", "owner", "sort")
    context = {
        "nav": "deals",
        "filters": filters,
        "page": page,
        # Only the filters that were understood travel on in the page links.
        "query": urlencode({name: chosen[name] for name in names if chosen.get(name)}),
        "can_create": access.creatable_teams().exists(),
        # A rep's own rows do not repeat their name: the owner column is for managers.
        "show_owner": access.manages_any,
    }
    template = DEAL_LIST + ("#deal-table" if request.htmx else "")
    return TemplateResponse(request, template, context)


# New deal ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def deal_create(request):
    teams = list(request.access.creatable_teams())
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
                    target_price=data["target_price"],
                    best_alternative=data["best_alternative"],
                )
            except services.DomainError as e:
                form.add_domain_error(e)
            else:
                messages.success(request, "Deal created. Your walk-away floor is set.")
                url = reverse("deal_detail", args=[deal.pk])
                if request.htmx:
                    return HttpResponseClientRedirect(url)
                return redirect(url)
        status = 422
    template = "deals/deal_form.html" + ("#deal-form" if request.htmx else "")
    return TemplateResponse(
        request, template, {"form": form, "nav": "deals", "no_team": not teams}, status=status
    )


# Deal page --------------------------------------------------------------------------------------


def _visible_deal(request, pk: int) -> Deal:
    deals = Deal.objects.visible_to(request.access).select_related("owner")
    return get_object_or_404(deals.with_ledger_counts(), pk=pk)


def _show_all(request) -> bool:
    return (request.POST if request.method == "POST" else request.GET).get("all") == "1"


def _desk(request, deal: Deal, forms: DeskForms | None = None, **notes):
    return desk_build(
        deal=deal,
        access=request.access,
        forms=forms,
        show_all=_show_all(request),
        notes=Notes(**notes),
    )


def _page(request, desk, *, partial: str = "", status: int = 200) -> TemplateResponse:
    template = DETAIL + (f"#{partial}" if partial else "")
    return TemplateResponse(request, template, {"nav": "deals", "desk": desk}, status=status)


@require_GET
def deal_detail(request, pk: int):
    deal = _visible_deal(request, pk)
    # "Log this step": the planned step's values fill the concession form (htmx: the form only).
    step = request.GET.get("step", "")
    log_step = int(step) if step.isdigit() and len(step) < 19 else None
    desk = desk_build(
        deal=deal, access=request.access, show_all=_show_all(request), log_step=log_step
    )
    if request.htmx:
        return _page(request, desk, partial="concession-form" if log_step else "gauge")
    return _page(request, desk)


@require_GET
def concession_preview(request, pk: int):
    """The "what if" while the amount is typed: a pure calculation, nothing is written."""
    if request.htmx:
        # Every keystroke: only the figures the calculation and its sentence need.
        fields = ("opening_price", "floor", "conceded", "currency", "target_price")
        deal = get_object_or_404(Deal.objects.visible_to(request.access).only(*fields), pk=pk)
    else:
        deal = _visible_deal(request, pk)
    raw = request.GET.get("amount", "")
    preview, problem, amount = None, "", None
    if raw.strip():
        try:
            amount = read_amount(raw[:40], percent_of=deal.opening_price)
        except MoneyError as e:
            problem = str(e)
        else:
            preview = erosion.preview(
                opening_price=deal.opening_price,
                floor=deal.floor,
                conceded=deal.conceded,
                amount=amount,
            )
    # "5%" and "40k" are shown as the amount they become, before anything is logged.
    converted = raw.strip()[-1:] in ("%", "k", "K")
    typed_as = amount if amount is not None and converted else None
    if request.htmx:
        context = {
            "preview": preview,
            "problem": problem,
            "currency": deal.currency,
            "typed_as": typed_as,
            # The gauge shows a ghost of the amount being typed, in the level it would reach.
            "fill": deal.assessment().meter_fill,
            "ghost": preview,
            "marks": gauge_marks(deal),
        }
        return TemplateResponse(request, DETAIL + "#preview-update", context)
    form = ConcessionForm(initial={"amount": raw[:40]})
    desk = _desk(
        request,
        deal,
        DeskForms(concession=form),
        preview=preview,
        preview_problem=problem,
        preview_typed_as=typed_as,
    )
    return _page(request, desk)


def _updated(request, pk: int, message: str, **notes):
    """A change went through: htmx gets the whole desk out of band, a browser a redirect."""
    if request.htmx:
        # Read again: the service changed the deal (and it may no longer be visible at all).
        desk = _desk(request, _visible_deal(request, pk), flash=message, **notes)
        response = _page(request, desk, partial="desk-update")
        # Whichever form was sent, the concession panel is the main swap; the rest is out of band.
        return reswap(retarget(response, "#concession-panel"), "outerHTML")
    messages.success(request, message)
    return redirect("deal_detail", pk=pk)


def _refused(request, deal: Deal, forms: DeskForms, partial: str, *, status: int, **notes):
    """Show the form again with what went wrong, where it went wrong."""
    desk = _desk(request, deal, forms, **notes)
    if request.htmx:
        response = _page(request, desk, partial=partial, status=status)
        # One message per action: the refusal replaces whatever the status region said last.
        response.render()
        status_oob = _page(request, desk, partial="status-oob").render()
        response.content += status_oob.content
        return reswap(retarget(response, f"#{partial}"), "outerHTML")
    return _page(request, desk, status=status)


def _status_for(error: services.DomainError) -> int:
    return 422 if isinstance(error, services.InvalidValue) else 409


def _not_found() -> Http404:
    return Http404("No deal here.")


@require_POST
def concession_log(request, pk: int):
    deal = _visible_deal(request, pk)
    form = ConcessionForm(request.POST, opening_price=deal.opening_price)
    if not form.is_valid():
        return _refused(request, deal, DeskForms(concession=form), "concession-panel", status=422)
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
            plan_step=data["plan_step"],
        )
    except services.NotAllowed:
        raise _not_found() from None
    except services.BelowFloor as e:
        deal = _visible_deal(request, pk)
        exception_form = ExceptionRequestForm(initial={**data, "form_key": data["form_key"]})
        return _refused(
            request,
            deal,
            DeskForms(concession=form, exception=exception_form),
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
            request, deal, DeskForms(concession=form), "concession-panel", status=_status_for(e)
        )
    if not result.created:
        message = "That concession was already logged; nothing was added."
    else:
        after = result.after
        message = (
            f"Logged {format_money(data['amount'], deal.currency)}. "
            f"{after.level.label}: {format_money(after.remaining, deal.currency)} "
            "left before your floor."
        )
    logged = result.concession if result.created else None
    return _updated(request, pk, message, focus_amount=True, logged=logged)


@require_POST
def exception_request(request, pk: int):
    deal = _visible_deal(request, pk)
    form = ExceptionRequestForm(request.POST)
    if not form.is_valid():
        return _refused(
            request, deal, DeskForms(exception=form), "concession-panel", status=422, refusal=True
        )
    data = form.cleaned_data
    try:
        result = services.exception_ask(
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
            DeskForms(exception=form),
            "concession-panel",
            status=_status_for(e),
            refusal=True,
        )
    # A resubmitted form is told what became of its first submission (sent, decided, when).
    return _updated(request, deal.pk, services.resubmission_message(result))


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
                deal.pk,
                f"Retracted {format_money(concession.amount, deal.currency)}.",
            )
    status = _status_for(error) if error else 422
    context = {"deal": deal, "concession": concession, "form": form, "nav": "deals"}
    template = "deals/concession_retract.html"
    if request.htmx:
        response = TemplateResponse(request, template + "#retract-form", context, status=status)
        return reswap(retarget(response, f"#retract-slot-{concession.pk}"), "innerHTML")
    return TemplateResponse(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def concession_correct(request, pk: int, concession_pk: int):
    """Its author fixes a give in one step, within the correction window."""
    deal = _visible_deal(request, pk)
    concession = get_object_or_404(
        Concession.objects.select_related("created_by"), pk=concession_pk, deal=deal
    )
    auto_id = f"id_correct{concession.pk}_%s"
    template = "deals/concession_correct.html"
    if request.method == "GET":
        form = CorrectForm(
            auto_id=auto_id,
            initial={
                "kind": concession.kind,
                "amount": concession.amount,
                "description": concession.description,
                "got_in_return": concession.got_in_return,
            },
        )
        context = {"deal": deal, "concession": concession, "form": form, "nav": "deals"}
        return TemplateResponse(
            request, template + ("#correct-form" if request.htmx else ""), context
        )
    form = CorrectForm(request.POST, auto_id=auto_id, opening_price=deal.opening_price)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            corrected = services.concession_correct(
                concession=concession,
                user=request.user,
                kind=data["kind"],
                amount=data["amount"],
                description=data["description"],
                got_in_return=data["got_in_return"],
            )
        except services.NotAllowed:
            raise _not_found() from None
        except services.BelowFloor as e:
            form.add_error(
                "amount",
                f"This would take the deal {format_money(e.shortfall, deal.currency)} below "
                f"your walk-away floor. At most {format_money(e.remaining, deal.currency)} fits.",
            )
            status = 409
        except services.DomainError as e:
            form.add_domain_error(e)
            status = _status_for(e)
        else:
            return _updated(
                request,
                deal.pk,
                f"Corrected {format_money(concession.amount, deal.currency)} to "
                f"{format_money(corrected.amount, deal.currency)}.",
            )
    context = {"deal": deal, "concession": concession, "form": form, "nav": "deals"}
    if request.htmx:
        response = TemplateResponse(request, template + "#correct-form", context, status=status)
        return reswap(retarget(response, f"#retract-slot-{concession.pk}"), "innerHTML")
    return TemplateResponse(request, template, context, status=status)


def _retract_id(concession: Concession) -> str:
    # Several retract forms can be open on one page; each needs its own ids.
    return f"id_retract{concession.pk}_%s"


@require_http_methods(["GET", "POST"])
def floor_change(request, pk: int):
    deal = _visible_deal(request, pk)
    if request.method == "GET":
        return _page(request, _desk(request, deal), partial="floor-panel" if request.htmx else "")
    form = FloorForm(request.POST)
    if form.is_valid():
        try:
            change = services.floor_change(
                deal=deal,
                user=request.user,
                new_floor=form.cleaned_data["new_floor"],
                reason=form.cleaned_data["reason"],
            )
        except services.NotAllowed:
            raise _not_found() from None
        except services.DomainError as e:
            form.add_domain_error(e)
            return _refused(
                request, deal, DeskForms(floor=form), "floor-panel", status=_status_for(e)
            )
        return _updated(
            request,
            deal.pk,
            f"Walk-away floor is now {format_money(change.new_floor, deal.currency)}.",
        )
    return _refused(request, deal, DeskForms(floor=form), "floor-panel", status=422)


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
                deal = _visible_deal(request, pk)
                return _refused(
                    request,
                    deal,
                    DeskForms(),
                    "outcome",
                    status=_status_for(e),
                    outcome_error=e.message,
                )
            form.add_domain_error(e)
            return _refused(
                request, deal, DeskForms(**{field: form}), "outcome", status=_status_for(e)
            )
        return _updated(request, deal.pk, message)
    return _refused(request, deal, DeskForms(**{field: form}), "outcome", status=422)


# Closing asks to confirm (UI.md "Closing a deal"). With JavaScript the outcome forms open a
# dialog and post on "Confirm"; without it they GET this page, which says what will be recorded
# and posts the same values on "Confirm".
CONFIRMABLE = {
    "won": (WinForm, "win", "deal_win", "Mark won"),
    "lost": (LoseForm, "lose", "deal_lose", "Mark lost"),
    "walk-away": (WalkAwayForm, "walk_away", "deal_walk_away", "Walk away"),
}


@require_GET
def deal_confirm(request, pk: int, outcome: str):
    if outcome not in CONFIRMABLE:
        raise Http404("No such outcome.")
    form_class, field, action, heading = CONFIRMABLE[outcome]
    deal = _visible_deal(request, pk)
    form = form_class(request.GET)
    if not form.is_valid():
        return _page(request, _desk(request, deal, DeskForms(**{field: form})), status=422)
    data = form.cleaned_data
    net = format_money(deal.net, deal.currency)
    if outcome == "won":
        price = data["final_price"]
        said = (
            f"The deal will be recorded as won at {format_money(price, deal.currency)}."
            if price is not None
            else f"No final price was typed: the deal will be recorded as won at the current "
            f"net, {net}."
        )
    elif outcome == "lost":
        reason = dict(form.fields["reason"].choices)[data["reason"]]
        said = f"The deal will be recorded as lost. Reason: {reason}."
    else:
        said = f"You will walk away at a net of {net}. Reason: {data['reason']}"
    context = {
        "nav": "deals",
        "deal": deal,
        "heading": heading,
        "said": said,
        "action": reverse(action, args=[deal.pk]),
        "values": [(name, value) for name, value in request.GET.items() if name in form.fields],
    }
    return TemplateResponse(request, "deals/deal_confirm.html", context)


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
    def act(deal, data):
        services.deal_come_back(
            deal=deal,
            user=request.user,
            came_back_on=data["came_back_on"],
            offer=data["offer"],
            note=data["note"],
        )
        return "The customer came back. The deal is open again."

    return _outcome(request, pk, ComebackForm, "comeback", act)


@require_http_methods(["GET", "POST"])
def deal_edit(request, pk: int):
    """Title, customer and cost to deliver, by the owner or a manager; each change an event."""
    deal = _visible_deal(request, pk)
    if not request.access.may_act_on(deal):
        raise _not_found()
    initial = {"title": deal.title, "customer": deal.customer, "cost": deal.cost}
    form = DealEditForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.deal_update(
                    deal=deal,
                    user=request.user,
                    title=data["title"],
                    customer=data["customer"],
                    cost=data["cost"],
                )
            except services.NotAllowed:
                raise _not_found() from None
            except services.DomainError as e:
                form.add_domain_error(e)
                status = _status_for(e)
            else:
                messages.success(request, "Deal details saved.")
                url = reverse("deal_detail", args=[deal.pk])
                if request.htmx:
                    return HttpResponseClientRedirect(url)
                return redirect(url)
    context = {"deal": deal, "form": form, "nav": "deals"}
    # htmx: the form alone, opened on the deal page (and drawn again there with its errors).
    template = "deals/deal_edit.html" + ("#edit-form" if request.htmx else "")
    return TemplateResponse(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def plan_save(request, pk: int):
    """The deal's plan: target, best alternative, the ladder of steps, things to ask for.
    "Add step" (a submit button of the same form) draws one more empty step and saves nothing."""
    deal = _visible_deal(request, pk)
    if request.method == "GET":
        desk = _desk(request, deal)
        return _page(request, desk, partial="plan-panel" if request.htmx else "")
    form = PlanForm(request.POST)
    steps = StepFormSet(request.POST, prefix="step")
    if "add_step" in request.POST:
        # Bound forms keep what was typed; the formset grows by one blank step.
        steps = _with_one_more_step(request.POST, steps)
        form.is_valid()
        return _refused(request, deal, DeskForms(plan=form, steps=steps), "plan-panel", status=200)
    if not (form.is_valid() and steps.is_valid()):
        return _refused(request, deal, DeskForms(plan=form, steps=steps), "plan-panel", status=422)
    data = form.cleaned_data
    typed = [
        services.StepInput(kind=f["kind"], amount=f["amount"], give=f["give"], ask=f["ask"])
        for f in (step.cleaned_data for step in steps.forms)
        if f and not f.get("DELETE")
    ]
    try:
        result = services.plan_save(
            deal=deal,
            user=request.user,
            target_price=data["target_price"],
            best_alternative=data["best_alternative"],
            steps=typed,
            things_to_ask=data["things_to_ask"],
            reason=data.get("reason", ""),
        )
    except services.NotAllowed:
        raise _not_found() from None
    except services.DomainError as e:
        if e.field == "steps":
            steps._non_form_errors = steps.error_class([e.message], error_class="nonform")
        else:
            form.add_domain_error(e)
        return _refused(
            request,
            deal,
            DeskForms(plan=form, steps=steps),
            "plan-panel",
            status=_status_for(e),
        )
    message = "Plan saved." if result.changed else "The plan is as it was; nothing changed."
    return _updated(request, deal.pk, message)


def _with_one_more_step(data, steps: StepFormSet) -> StepFormSet:
    grown = data.copy()
    grown["step-TOTAL_FORMS"] = str(steps.total_form_count() + 1)
    return StepFormSet(grown, prefix="step")
