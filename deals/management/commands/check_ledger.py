"""`manage.py check_ledger`: does the stored ledger hold what the rules say it must?

For every deal: its `conceded` equals the sum of its concessions (rule 7); every concession has
its event (a give its "concession logged", a retraction its "concession retracted", rule 6);
the total is not negative and the net is above zero (rules 5 and 10); and no deal sits below
its floor without an approved exception (rule 4). Prints each offending deal with what is
wrong and exits non-zero; exits 0, quietly with --quiet, when everything holds.

Read-only, in one REPEATABLE READ snapshot on PostgreSQL, so it may run while the app writes.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from deals.models import MONEY, Concession, Deal, DealEvent, ExceptionRequest
from deals.money import CENT


def ledger_problems() -> list[tuple[int, str, str]]:
    """(deal id, title, what is wrong), one row per problem, in deal order."""
    money = Deal._meta.get_field("conceded").__class__(**MONEY)
    ledger_sum = (
        Concession.objects.filter(deal=OuterRef("pk"))
        .order_by()
        .values("deal")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    deals = Deal.objects.order_by("pk").annotate(
        ledger=Coalesce(Subquery(ledger_sum, output_field=money), Value(Decimal("0.00"))),
        approved=Exists(
            ExceptionRequest.objects.filter(
                deal=OuterRef("pk"), status=ExceptionRequest.Status.APPROVED
            )
        ),
    )
    problems: list[tuple[int, str, str]] = []
    wrong = deals.filter(
        ~Q(conceded=F("ledger"))
        | Q(conceded__lt=0)
        | Q(conceded__gte=F("opening_price"))
        | (Q(floor__gt=F("opening_price") - F("conceded")) & Q(approved=False))
    ).values_list("pk", "title", "conceded", "ledger", "opening_price", "floor", "approved")
    for pk, title, conceded, ledger, opening, floor, approved in wrong:
        ledger = Decimal(ledger).quantize(CENT)
        net = opening - conceded
        if conceded != ledger:
            problems.append(
                (pk, title, f"conceded is {conceded}, its concessions add up to {ledger}")
            )
        if conceded < 0:
            problems.append((pk, title, f"conceded is negative ({conceded})"))
        if net <= 0:
            problems.append((pk, title, f"the net is {net}, not above zero"))
        if net < floor and not approved:
            problems.append(
                (pk, title, f"the net {net} is below the floor {floor} with no approved exception")
            )
    event_of = {False: DealEvent.Kind.CONCESSION_LOGGED, True: DealEvent.Kind.CONCESSION_RETRACTED}
    for retraction, kind in event_of.items():
        missing = (
            Concession.objects.filter(retracts__isnull=not retraction)
            .exclude(Exists(DealEvent.objects.filter(concession=OuterRef("pk"), kind=kind)))
            .order_by("deal_id", "pk")
            .values_list("deal_id", "deal__title", "pk")
        )
        for deal_id, title, concession_id in missing:
            what = "retraction" if retraction else "concession"
            problems.append(
                (deal_id, title, f"{what} {concession_id} has no '{kind.label.lower()}' event")
            )
    problems.sort(key=lambda p: p[0])
    return problems


class Command(BaseCommand):
    help = (
        "Check that every deal's total equals its ledger, that every concession has its event "
        "and that no deal sits below its floor without an approved exception."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print nothing when all holds.")

    def handle(self, *args, quiet=False, **options):
        # One snapshot for every statement; inside a caller's transaction (the tests), theirs.
        snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
        with transaction.atomic():
            if snapshot:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            problems = ledger_problems()
            checked = Deal.objects.count()
        if not problems:
            if not quiet:
                self.stdout.write(f"The ledger holds: {checked} deal(s) checked.")
            return
        for deal_id, title, what in problems:
            self.stdout.write(f"deal {deal_id} ({title}): {what}")
        offending = len({p[0] for p in problems})
        raise CommandError(
            f"{offending} of {checked} deal(s) break the ledger's rules; see the lines above."
        )
