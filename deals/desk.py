"""The rep's desk: everything a deal's page shows, built in one place.

`desk_build` takes the deal, the person's access and whatever forms came back bound from a
request, and decides every rule the page depends on once: who may act, whether the floor is
locked and who may still change it, which outcome forms are shown. The page and each of its
fragments (htmx answers) render from the one `Desk` it returns, so they cannot disagree.

The number of queries is fixed whatever the ledger's size: the running total is kept on the
deal, so only the latest concessions and events are read unless the person asks for all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from . import erosion
from .charts import Chart, waterfall
from .erosion import Assessment, Nudge
from .forms import (
    ComebackForm,
    ConcessionForm,
    ExceptionRequestForm,
    FloorForm,
    LoseForm,
    PlanForm,
    StepFormSet,
    WalkAwayForm,
    WinForm,
)
from .models import Concession, Deal, DealEvent, ExceptionRequest, PlanStep
from .money import format_money
from .services import correctable

# A phone shows the latest entries; "Show all" opens the whole ledger and history.
RECENT = 20


@dataclass(frozen=True)
class Mark:
    """A labelled mark on the gauge, at `x` percent of the room."""

    label: str
    x: Decimal
    code: str


def gauge_marks(deal: Deal) -> list[Mark]:
    """Caution, Danger and Floor, and Target when the deal has one, where the gauge draws them."""
    t = erosion.Thresholds.from_settings()
    marks = [
        Mark("Caution", t.caution_at, "caution"),
        Mark("Danger", t.danger_at, "danger"),
        Mark("Floor", Decimal(100), "floor"),
    ]
    room = deal.opening_price - deal.floor
    if deal.target_price is not None and room > 0:
        x = (deal.opening_price - deal.target_price) * 100 / room
        x = min(max(x, Decimal(0)), Decimal(100)).quantize(Decimal("0.1"))
        marks.append(Mark("Target", x, "target"))
    return sorted(marks, key=lambda m: m.x)


@dataclass
class DeskForms:
    """The desk's forms; one that came back bound with errors replaces its blank twin."""

    concession: ConcessionForm | None = None
    exception: ExceptionRequestForm | None = None
    win: WinForm | None = None
    lose: LoseForm | None = None
    walk_away: WalkAwayForm | None = None
    floor: FloorForm | None = None
    plan: PlanForm | None = None
    steps: StepFormSet | None = None
    comeback: ComebackForm | None = None


@dataclass
class Notes:
    """What the last action has to say on the page (all optional)."""

    flash: str = ""
    # A concession refused below the floor (services.BelowFloor), or True when the
    # exception form itself came back with errors.
    refusal: object = None
    walk_away_reason: str = ""
    outcome_error: str = ""
    preview: Assessment | None = None
    preview_problem: str = ""
    # What "5%" or "40k" became, shown with the preview.
    preview_typed_as: Decimal | None = None
    focus_amount: bool = False
    # The concession just logged, shown in the status region (on a phone the list is far below).
    logged: Concession | None = None
    # What the plan's check said after a save (below the target, steps that do not shrink).
    plan_saved: bool = False


@dataclass
class Desk:
    deal: Deal
    a: Assessment
    may_act: bool
    # Concessions may be logged and retracted: an open deal, by someone who may act on it.
    may_log: bool
    is_manager: bool
    floor_locked: bool
    may_change_floor: bool
    # Which outcome the page offers: "close" (won, lost, walk away), "come_back", or "".
    outcome_choice: str
    show_all: bool
    concessions: list[Concession]
    concession_count: int
    events: list[DealEvent]
    event_count: int
    pending: list[ExceptionRequest]
    nudges: list[Nudge]
    chart: Chart
    margin: Decimal | None
    concession_form: ConcessionForm | None
    exception_form: ExceptionRequestForm | None
    win_form: WinForm | None
    lose_form: LoseForm | None
    walk_away_form: WalkAwayForm | None
    floor_form: FloorForm | None
    # The plan: its steps (each with `followed`), plan against actual, the check of the ladder
    # (below the target, steps that do not shrink), the next step, and its forms.
    plan_steps: list[PlanStep]
    plan_progress: erosion.PlanProgress | None
    plan_check: erosion.PlanCheck | None
    next_step: PlanStep | None
    plan_form: PlanForm | None
    step_forms: StepFormSet | None
    # Gives that followed no step of the deal's plan.
    off_plan: frozenset[int]
    # Gives this person may still correct in one step (author, within the window).
    correctable: frozenset[int] = frozenset()
    comeback_form: ComebackForm | None = None
    notes: Notes = field(default_factory=Notes)

    @property
    def target_gap(self) -> Decimal | None:
        """Net minus target: above 0, above the target; below 0, below it."""
        target = self.deal.target_price
        return None if target is None else self.a.net - target

    @property
    def target_gap_abs(self) -> Decimal | None:
        gap = self.target_gap
        return None if gap is None else abs(gap)

    @property
    def marks(self) -> list[Mark]:
        return gauge_marks(self.deal)

    @property
    def fits_left(self) -> Decimal | None:
        """After a refusal: what may still be given before the floor ("Log what fits"), if any."""
        refusal = self.notes.refusal
        remaining = getattr(refusal, "remaining", None)
        if remaining is None or remaining <= 0 or remaining >= self.a.net:
            return None
        return remaining

    @property
    def outcome_words(self) -> str:
        """What a closed deal's status says: "Won at $41,000.00", "Lost", "Walked away"."""
        deal = self.deal
        if deal.status == Deal.Status.WON:
            return f"Won at {format_money(deal.final_price, deal.currency)}"
        if deal.status == Deal.Status.LOST:
            return "Lost"
        if deal.status == Deal.Status.WALKED_AWAY:
            return "Walked away"
        return ""

    @property
    def concessions_more(self) -> bool:
        return not self.show_all and self.concession_count > len(self.concessions)

    @property
    def history_more(self) -> bool:
        return not self.show_all and self.event_count > len(self.events)


def desk_build(
    *,
    deal: Deal,
    access,
    forms: DeskForms | None = None,
    show_all: bool = False,
    notes: Notes | None = None,
    log_step: int | None = None,
) -> Desk:
    """The whole desk for `deal` (read through visible_to(...).with_ledger_counts(), with its
    owner) as `access` sees it. `log_step`: a planned step's id, whose values fill the
    concession form ("Log this step"; the rep still confirms, and may change them)."""
    forms = forms or DeskForms()
    is_manager = access.manages(deal.team_id)
    steps = list(PlanStep.objects.filter(deal=deal).with_followed())
    may_act = access.may_act_on(deal)
    concessions = _concessions(deal, limit=None if show_all else RECENT)
    events = DealEvent.objects.filter(deal=deal).select_related("actor").order_by("-id")
    floor_locked = deal.concession_count > 0
    may_change_floor = may_act and deal.is_open and (is_manager or not floor_locked)
    closable = may_act and deal.is_open
    if closable:
        outcome_choice = "close"
    elif may_act and deal.status == Deal.Status.WALKED_AWAY:
        outcome_choice = "come_back"
    else:
        outcome_choice = ""
    planned = [s.planned() for s in steps]
    next_step = next((s for s in steps if not s.followed), None)
    off_plan = frozenset(
        c.pk for c in concessions if steps and not c.is_retraction and c.plan_step_id is None
    )
    return Desk(
        deal=deal,
        a=deal.assessment(),
        may_act=may_act,
        may_log=closable,
        is_manager=is_manager,
        floor_locked=floor_locked,
        may_change_floor=may_change_floor,
        outcome_choice=outcome_choice,
        show_all=show_all,
        concessions=concessions,
        concession_count=deal.concession_count,
        events=list(events if show_all else events[:RECENT]),
        event_count=deal.event_count,
        pending=list(
            ExceptionRequest.objects.filter(deal=deal, status=ExceptionRequest.Status.PENDING)
            .select_related("requested_by")
            .order_by("id")
        ),
        nudges=_nudges(deal, concessions, steps, next_step),
        chart=waterfall(
            deal,
            concessions[::-1],
            total_count=deal.concession_count,
            plan=[s.amount for s in steps],
        ),
        margin=erosion.margin(deal.net, deal.cost),
        concession_form=(forms.concession or _concession_form(steps, log_step, concessions))
        if closable
        else None,
        exception_form=forms.exception,
        win_form=(forms.win or WinForm()) if closable else None,
        lose_form=(forms.lose or LoseForm()) if closable else None,
        walk_away_form=(forms.walk_away or WalkAwayForm()) if closable else None,
        # A rep's locked floor shows no form, only a refusal that came back with one.
        floor_form=_floor_form(forms.floor, shown=may_change_floor, locked=floor_locked),
        plan_steps=steps,
        plan_progress=erosion.plan_progress(steps=planned, conceded=deal.conceded)
        if steps
        else None,
        plan_check=erosion.plan_check(
            opening_price=deal.opening_price,
            floor=deal.floor,
            target=deal.target_price,
            amounts=[s.amount for s in steps],
        )
        if steps
        else None,
        next_step=next_step,
        plan_form=(forms.plan or _plan_form(deal, floor_locked)) if closable else None,
        step_forms=(forms.steps or _step_forms(steps)) if closable else None,
        off_plan=off_plan,
        correctable=frozenset(
            c.pk
            for c in concessions
            if closable and not c.is_retracted and correctable(c, access.user_id)
        ),
        comeback_form=(forms.comeback or ComebackForm()) if outcome_choice == "come_back" else None,
        notes=notes or Notes(),
    )


def _concession_form(
    steps: list[PlanStep], log_step: int | None, concessions: list[Concession]
) -> ConcessionForm:
    step = next((s for s in steps if s.pk == log_step and not s.followed), None)
    if step is None:
        # The kind chosen last is kept for the next give.
        last = next((c for c in concessions if not c.is_retraction), None)
        return ConcessionForm(initial={"kind": last.kind} if last else None)
    return ConcessionForm(
        initial={
            "kind": step.kind,
            "amount": step.amount,
            "description": step.give,
            "got_in_return": step.ask,
            "plan_step": step.pk,
        }
    )


def _plan_form(deal: Deal, started: bool) -> PlanForm:
    form = PlanForm(
        initial={
            "target_price": deal.target_price,
            "best_alternative": deal.best_alternative,
            "things_to_ask": deal.things_to_ask,
        }
    )
    if not started:
        # Until the first concession the plan is edited freely: no reason is asked for.
        del form.fields["reason"]
    return form


def _step_forms(steps: list[PlanStep]) -> StepFormSet:
    return StepFormSet(
        prefix="step",
        initial=[{"kind": s.kind, "amount": s.amount, "give": s.give, "ask": s.ask} for s in steps],
    )


def _floor_form(bound: FloorForm | None, *, shown: bool, locked: bool) -> FloorForm | None:
    # A rep's locked floor shows no form, only a refusal that came back with one.
    form = bound or (FloorForm() if shown else None)
    if form is not None:
        # Once the floor is locked a change needs a reason (rule 2); the service decides, the
        # form only says so.
        form.fields["reason"].required = locked
    return form


def _concessions(deal: Deal, *, limit: int | None) -> list[Concession]:
    """The latest concessions, newest first, with whether each has been retracted."""
    rows = (
        Concession.objects.filter(deal=deal)
        .select_related("created_by", "retraction", "exception_request")
        .order_by("-id")
    )
    return list(rows if limit is None else rows[:limit])


def _nudges(
    deal: Deal, concessions: list[Concession], steps: list[PlanStep], next_step: PlanStep | None
) -> list[Nudge]:
    if not deal.is_open:
        return []
    # The coach looks at gives that still stand, oldest first; retractions are not gives.
    standing = [c for c in reversed(concessions) if not c.is_retraction and not c.is_retracted]
    found = erosion.nudges([erosion.Give(amount=c.amount, has_get=c.has_get) for c in standing])
    last = None
    if standing:
        latest = standing[-1]
        by_id = {s.pk: s for s in steps}
        step = by_id.get(latest.plan_step_id)
        last = erosion.LastGive(
            amount=latest.amount,
            has_get=latest.has_get,
            step=None if step is None else step.planned(),
            next_step=None if next_step is None else next_step.planned(),
        )
    return found + erosion.plan_nudges(
        last=last, has_plan=bool(steps), net=deal.net, target=deal.target_price
    )
